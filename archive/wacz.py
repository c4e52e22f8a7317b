"""``newsarchive wacz DIR -o FILE.wacz``: one portable file for ReplayWeb.page.

A WACZ is a zip of the capture WARCs, a CDXJ index, ``pages.jsonl`` and a datapackage with
hashes. py-wacz (``wacz``) builds it; like pywb it lives in ``.venv-replay`` and runs as a
subprocess. Only capture WARCs are packaged: the text WARCs' conversion records would be
indexed under the article URLs and could be replayed instead of the pages; their text goes
into ``pages.jsonl`` instead (see :mod:`archive.pages`), which is what ReplayWeb.page searches.

The WACZ is written next to its final name and renamed only after ``wacz validate`` passed,
so a failed or interrupted run never leaves a half-written file under the requested name.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from archive.childenv import child_environment
from archive.errors import WaczError
from archive.index import build_indexes
from archive.layout import ArchiveLayout
from archive.pages import PagesReport, write_pages_jsonl
from archive.replay import find_replay_venv


@dataclass(slots=True)
class WaczReport:
    path: Path
    warcs: int
    pages: PagesReport
    index_failed: dict[str, str]
    size: int


def create_wacz(
    root: Path,
    output: Path,
    *,
    title: str | None = None,
    description: str | None = None,
    venv: Path | None = None,
) -> WaczReport:
    """Index, write ``pages.jsonl``, run ``wacz create`` and ``wacz validate``; return a summary.

    Raises :class:`archive.replay.ReplayEnvMissing` when ``.venv-replay`` is absent,
    :class:`WaczError` when there is nothing to package or a tool fails.
    """
    layout = ArchiveLayout(Path(root))
    venv = venv or find_replay_venv()
    tool = venv / "bin" / "wacz"
    index_report = build_indexes(layout)
    warcs = [w for w in layout.capture_files() if w.name not in index_report.failed]
    if not warcs:
        raise WaczError(f"no closed capture WARCs in {layout.capture_dir}")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    title = title or f"newsarchive: {layout.root.resolve().name}"
    with tempfile.TemporaryDirectory(prefix=".wacz-", dir=output.parent) as tmp:
        pages_path = Path(tmp) / "pages.jsonl"
        pages = write_pages_jsonl(layout, pages_path)
        partial = Path(tmp) / output.name
        # -c: copy pages.jsonl as written. Without it py-wacz re-serialises the list and drops
        # the header's "hasText", and ReplayWeb.page then never builds its full-text index.
        command = [str(tool), "create", "-o", str(partial), "-p", str(pages_path), "-c", "--title", title]
        if description:
            command += ["--desc", description]
        command += [str(w.resolve()) for w in warcs]
        _run(command, "wacz create")
        validate_wacz(partial, venv=venv)
        partial.chmod(0o644)
        partial.replace(output)
    return WaczReport(output, len(warcs), pages, index_report.failed, output.stat().st_size)


def validate_wacz(path: Path, *, venv: Path | None = None) -> str:
    """Run ``wacz validate -f PATH``; returns its output, raises :class:`WaczError` if invalid."""
    tool = (venv or find_replay_venv()) / "bin" / "wacz"
    return _run([str(tool), "validate", "-f", str(path)], "wacz validate")


def _run(command: list[str], what: str) -> str:
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env=child_environment(runs_product=False),  # py-wacz imports none of our code, nor PYTHONPATH's
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise WaczError(f"{what} failed (exit {result.returncode}):\n{output[-4000:]}")
    return output
