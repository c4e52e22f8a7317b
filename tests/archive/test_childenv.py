"""The environment of the processes the product starts (archive/childenv.py), and its check.

Real interpreters and real tools (fake ``wayback``/``wacz`` scripts that report the environment
they were given), started from folders that hold what a user's working directory may hold: an
archive named ``archive`` (its ``text/`` folder is a namespace package ``archive.text`` to a
Python that searches the folder), a folder ``crawler/`` and a stray ``settings.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive import childenv
from archive.layout import ArchiveLayout
from archive.replay import start_wayback
from archive.wacz import validate_wacz

ROOT = childenv.product_root()
PROBE = (
    "import json, sys; import archive.text, crawler; "
    "print(json.dumps([archive.text.__file__, crawler.__file__, sys.flags.safe_path]))"
)


def _user_folder(path: Path) -> Path:
    """A working directory like ``~/news``: an archive ``archive/``, a ``crawler/``, a ``settings.py``."""
    (path / "archive" / "text").mkdir(parents=True)
    (path / "archive" / "warc").mkdir()
    (path / "crawler").mkdir()
    (path / "crawler" / "__init__.py").write_text("")
    (path / "crawler" / "settings.py").write_text("raise RuntimeError('stray crawler/settings.py')\n")
    (path / "settings.py").write_text("raise RuntimeError('stray settings.py')\n")
    return path


def _fake_tool(venv: Path, name: str) -> None:
    """``VENV/bin/NAME`` printing its environment as JSON (to ``$DUMP`` if set, else to stdout)."""
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    tool = venv / "bin" / name
    tool.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "text = json.dumps(dict(os.environ))\n"
        "if os.environ.get('DUMP'):\n"
        "    open(os.environ['DUMP'], 'w').write(text)\n"
        "else:\n"
        "    print(text)\n"
    )
    tool.chmod(0o755)


def test_a_tool_gets_no_pythonpath_no_settings_module_and_a_safe_path() -> None:
    base = {
        "PYTHONPATH": "/somewhere:/else",
        "SCRAPY_SETTINGS_MODULE": "settings",
        "HOME": "/srv/user-home",
        "LANG": "C",
    }
    env = childenv.child_environment(base, runs_product=False)
    assert env == {"HOME": "/srv/user-home", "LANG": "C", "PYTHONSAFEPATH": "1"}
    assert base["PYTHONPATH"] == "/somewhere:/else", "the base is not modified"


def test_a_product_process_keeps_harmless_entries_and_drops_shadowing_ones(tmp_path: Path) -> None:
    user = _user_folder(tmp_path / "news")
    hooks = tmp_path / "hooks"  # e.g. the benchmark's sitecustomize: no archive, no crawler
    hooks.mkdir()
    module = tmp_path / "modules"  # a crawler.py module shadows as much as a folder
    module.mkdir()
    (module / "crawler.py").write_text("")
    inherited = os.pathsep.join(["", "hooks", str(user), str(module), str(tmp_path / "missing"), str(hooks)])
    env = childenv.child_environment(
        {"PYTHONPATH": inherited}, runs_product=True, cwd=str(tmp_path), sys_path=["/usr/lib/python3.11"]
    )
    # "" is the working directory (tmp_path: it holds neither package, so it stays, made absolute);
    # relative entries are read against it; duplicates and folders that do not exist go.
    assert env["PYTHONPATH"].split(os.pathsep) == [str(tmp_path.resolve()), str(hooks.resolve())]
    assert env["PYTHONSAFEPATH"] == "1"


def test_the_product_folder_stays_and_is_added_when_the_product_was_found_there() -> None:
    env = childenv.child_environment({"PYTHONPATH": str(ROOT)}, runs_product=True, sys_path=[])
    assert env["PYTHONPATH"] == str(ROOT), "a checkout run with PYTHONPATH=REPO (the benchmark)"
    env = childenv.child_environment({}, runs_product=True, sys_path=["", str(ROOT)], cwd="/")
    assert env["PYTHONPATH"] == str(ROOT), "python -m from the checkout: found through sys.path"
    env = childenv.child_environment({"PYTHONPATH": ""}, runs_product=True, sys_path=["/usr/lib"])
    assert "PYTHONPATH" not in env, "installed: found without PYTHONPATH"


def test_a_python_started_in_the_users_folder_imports_the_product(tmp_path: Path) -> None:
    user = _user_folder(tmp_path)
    inherited = {**os.environ, "PYTHONPATH": str(user), "SCRAPY_SETTINGS_MODULE": "settings"}
    env = childenv.child_environment(inherited, runs_product=True, cwd=str(user))
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=user, env=env, capture_output=True, text=True, check=True
    ).stdout
    text_file, crawler_file, safe_path = json.loads(out)
    assert Path(text_file).resolve() == ROOT / "archive" / "text.py"
    assert Path(crawler_file).resolve() == ROOT / "crawler" / "__init__.py"
    assert safe_path == 1
    # The same interpreter with the environment as inherited imports the user's folders.
    shadowed = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=user, env=inherited, capture_output=True, text=True, check=False
    )
    assert shadowed.returncode != 0 or str(user) in shadowed.stdout


def test_foreign_modules_names_what_did_not_come_from_the_product(tmp_path: Path) -> None:
    class Module:
        def __init__(self, file: str | None, path: list[str] | None = None) -> None:
            self.__file__ = file
            if path is not None:
                self.__path__ = path

    modules = {
        "archive": Module(str(ROOT / "archive" / "__init__.py"), [str(ROOT / "archive")]),
        "archive.text": Module(None, [str(tmp_path / "archive" / "text")]),  # the archive's text/ folder
        "crawler": Module(str(tmp_path / "crawler" / "__init__.py")),
        "crawler.cli": Module(str(ROOT / "crawler" / "cli.py")),
        "crawlers": Module("/elsewhere/crawlers.py"),  # another package: not ours to judge
        "json": Module("/usr/lib/python3.11/json/__init__.py"),
        "archive.blocked": None,
    }
    assert childenv.foreign_modules(ROOT, modules) == [
        f"archive.text from {tmp_path / 'archive' / 'text'}",
        f"crawler from {tmp_path / 'crawler' / '__init__.py'}",
    ]
    assert childenv.foreign_modules() == [], "this test process runs the product's code only"


def _without_pythonpath() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}


def _installed() -> bool:
    """The product is importable without PYTHONPATH (the README's ``pip install -e .``)."""
    probe = [sys.executable, "-P", "-c", "import archive.childenv"]
    return (
        subprocess.run(probe, cwd="/", env=_without_pythonpath(), capture_output=True, check=False).returncode
        == 0
    )


def test_verify_product_refuses_a_process_that_imported_the_users_archive_folder(tmp_path: Path) -> None:
    if not _installed():
        pytest.skip("needs the product installed (pip install -e .): found on a path, no folder shadows it")
    user = _user_folder(tmp_path)
    # python -c in the user's folder with the environment as inherited: what the forkserver did.
    code = "import archive.text; from archive.childenv import verify_product; verify_product(sys.argv[1])"
    env = _without_pythonpath()
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; {code}", str(ROOT)],
        cwd=user,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert (
        "ForeignCodeError" in done.stderr and "archive.text from" in done.stderr and str(user) in done.stderr
    )


def test_inherited_environment_sets_and_restores_only_what_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NA_TEST_KEEP", "1")
    monkeypatch.setenv("NA_TEST_DROP", "x")
    monkeypatch.delenv("NA_TEST_ADD", raising=False)
    before = dict(os.environ)
    wanted = {k: v for k, v in before.items() if k != "NA_TEST_DROP"} | {"NA_TEST_ADD": "y"}
    with childenv.inherited_environment(wanted):
        assert dict(os.environ) == wanted
    assert dict(os.environ) == before


def test_wayback_is_started_without_the_inherited_pythonpath(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "venv-replay"
    _fake_tool(venv, "wayback")
    dump = tmp_path / "wayback-env.json"
    monkeypatch.setenv("PYTHONPATH", str(_user_folder(tmp_path / "news")))
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "settings")
    monkeypatch.setenv("DUMP", str(dump))
    server = start_wayback(ArchiveLayout(tmp_path / "archive"), port=0, venv=venv)
    assert server.process.wait(timeout=60) == 0
    env = json.loads(dump.read_text())
    assert "PYTHONPATH" not in env and "SCRAPY_SETTINGS_MODULE" not in env
    assert env["PYTHONSAFEPATH"] == "1" and env["DUMP"] == str(dump)


def test_wacz_is_run_without_the_inherited_pythonpath(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "venv-replay"
    _fake_tool(venv, "wacz")
    monkeypatch.setenv("PYTHONPATH", str(_user_folder(tmp_path / "news")))
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "settings")
    monkeypatch.delenv("DUMP", raising=False)
    env = json.loads(validate_wacz(tmp_path / "some.wacz", venv=venv))
    assert "PYTHONPATH" not in env and "SCRAPY_SETTINGS_MODULE" not in env
    assert env["PYTHONSAFEPATH"] == "1"
