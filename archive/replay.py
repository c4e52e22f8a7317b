"""Browse an archive directory in pywb: ``newsarchive replay DIR [--port N] [--host 127.0.0.1]``.

pywb lives in its own virtualenv (``.venv-replay``, made by ``scripts/setup-replay.sh``)
because its pins (redis 2.x, older pyOpenSSL/cryptography, werkzeug) conflict with the
crawler's; this module never imports it and runs ``wayback`` as a subprocess.

How the collection is built, and why not ``wb-manager add``:
``wb-manager add`` *copies* every WARC into ``collections/NAME/archive/`` (the archive would
be stored twice) and keeps its own index, which would drift from ours. Instead
``DIR/replay/config.yaml`` declares one collection whose index is our merged
``DIR/indexes/index.cdxj`` (see :mod:`archive.index`) and whose archive path is ``DIR/warc/``.
Paths in it are relative and ``wayback`` runs with ``DIR/replay`` as its working directory,
so the archive directory can be moved or copied as a whole. pywb re-opens the index file on
every lookup: after a cron run, ``newsarchive index DIR`` (or the next ``replay`` start) is
enough for a running server to show the new captures; nothing is copied, nothing restarts.
Only capture WARCs are indexed; the text WARCs would shadow the pages (conversion records
under the article URL).

``wayback`` binds 0.0.0.0 unless told otherwise: the bind address is always passed.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from archive.childenv import child_environment
from archive.errors import ReplayEnvMissing
from archive.index import MERGED_NAME, IndexReport, build_indexes
from archive.layout import ArchiveLayout

REPLAY_VENV_ENV = "NEWSARCHIVE_REPLAY_VENV"
SETUP_COMMAND = "scripts/setup-replay.sh"
COLLECTION = "news"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
READY_TIMEOUT = 60.0


def repo_root() -> Path:
    """The source checkout this package runs from (``archive/`` sits directly below it)."""
    return Path(__file__).resolve().parent.parent


def find_replay_venv(env: Mapping[str, str] | None = None) -> Path:
    """``$NEWSARCHIVE_REPLAY_VENV`` or ``REPO/.venv-replay``; raises with the set-up command if absent."""
    env = os.environ if env is None else env
    configured = env.get(REPLAY_VENV_ENV)
    venv = Path(configured) if configured else repo_root() / ".venv-replay"
    missing = [tool for tool in ("wayback", "wacz") if not (venv / "bin" / tool).is_file()]
    if missing:
        raise ReplayEnvMissing(
            f"replay tools not found ({', '.join(missing)} missing in {venv}). "
            f"Install them with: bash {repo_root() / SETUP_COMMAND}"
            f" (or set {REPLAY_VENV_ENV} to a virtualenv that has pywb and wacz)"
        )
    return venv


def replay_tool(name: str, venv: Path | None = None) -> Path:
    return (venv or find_replay_venv()) / "bin" / name


def config_path(layout: ArchiveLayout) -> Path:
    return layout.replay_dir / "config.yaml"


def write_pywb_config(layout: ArchiveLayout, collection: str = COLLECTION) -> Path:
    """Write ``DIR/replay/config.yaml`` pointing pywb at our index and capture WARCs."""
    if not collection.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"collection name must be alphanumeric (- and _ allowed): {collection!r}")
    layout.replay_dir.mkdir(parents=True, exist_ok=True)
    index = os.path.relpath(layout.index_dir / MERGED_NAME, layout.replay_dir)
    archive = os.path.relpath(layout.capture_dir, layout.replay_dir)
    text = (
        "# Written by `newsarchive replay` on every start: edits are overwritten.\n"
        "# One collection reading the archive's own CDXJ index and capture WARCs in place.\n"
        "collections:\n"
        f"  {collection}:\n"
        f"    index_paths: {_yaml_str(index)}\n"
        f"    archive_paths: {_yaml_str(archive + '/')}\n"
        "framed_replay: true\n"
        "enable_memento: true\n"
        "collections_root: collections\n"
    )
    path = config_path(layout)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def prepare_replay(layout: ArchiveLayout, collection: str = COLLECTION) -> IndexReport:
    """Index new capture WARCs and (re)write the pywb configuration."""
    report = build_indexes(layout)
    write_pywb_config(layout, collection)
    return report


@dataclass(slots=True)
class ReplayServer:
    """A running ``wayback`` process serving one archive directory."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    collection: str

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def collection_url(self) -> str:
        return f"{self.base_url}/{self.collection}/"

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Return once pywb answers HTTP; raise if it exits or stays silent for ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise RuntimeError(f"wayback exited with status {code} before it was ready")
            connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
            try:
                connection.request("GET", "/")
                connection.getresponse().read()
                return  # any HTTP answer: the server is up
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(
                        f"wayback did not answer on {self.base_url} within {timeout} s"
                    ) from None
                time.sleep(0.1)  # connection refused: pywb is still importing / binding
            finally:
                connection.close()

    def stop(self, timeout: float = 10.0) -> int | None:
        """Terminate wayback (its own process group, so gevent workers go too)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port the OS reports free right now on ``host`` (pywb cannot report an ephemeral port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_wayback(
    layout: ArchiveLayout,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    collection: str = COLLECTION,
    venv: Path | None = None,
    log: IO[bytes] | int | None = None,
) -> ReplayServer:
    """Start ``wayback`` on ``host:port`` (``port`` 0 = pick a free one); does not index.

    Call :func:`prepare_replay` first. ``log`` receives wayback's stdout/stderr (default:
    ``DIR/replay/wayback.log``).
    """
    tool = replay_tool("wayback", venv)
    if not config_path(layout).exists():
        write_pywb_config(layout, collection)
    if port == 0:
        port = free_port(host)
    close_log = None
    if log is None:
        close_log = (layout.replay_dir / "wayback.log").open("ab")
        log = close_log
    env = child_environment(runs_product=False)  # pywb imports none of our code, nor anything from PYTHONPATH
    env.pop("PYWB_CONFIG_FILE", None)
    try:
        process = subprocess.Popen(
            [str(tool), "--bind", host, "--port", str(port)],
            cwd=layout.replay_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    finally:
        if close_log is not None:
            close_log.close()
    return ReplayServer(process, host, port, collection)


def serve(
    root: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    collection: str = COLLECTION,
    out: IO[str] | None = None,
) -> int:
    """The ``newsarchive replay`` command: index, start pywb, print the URL, run until Ctrl-C/SIGTERM.

    Returns a process exit status. Raises :class:`ReplayEnvMissing` (message = what to run)
    when ``.venv-replay`` is absent.
    """
    out = out or sys.stdout
    layout = ArchiveLayout(Path(root))
    if not layout.capture_dir.is_dir():
        print(f"no capture WARCs: {layout.capture_dir} does not exist", file=sys.stderr)
        return 2
    venv = find_replay_venv()
    if not _is_loopback(host):
        print(f"warning: binding {host}: the archive is visible beyond this machine", file=sys.stderr)
    report = prepare_replay(layout, collection)
    for name, error in report.failed.items():
        print(f"warning: {name} not indexed: {error}", file=sys.stderr)
    server = start_wayback(layout, host=host, port=port, collection=collection, venv=venv)
    stop_requested = False

    def on_sigterm(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        try:
            server.wait_ready()
        except (RuntimeError, TimeoutError) as exc:  # e.g. the port is taken
            log = layout.replay_dir / "wayback.log"
            print(f"replay server failed to start: {exc}; see {log}", file=sys.stderr)
            return 1
        print(
            f"Replaying {len(layout.capture_files())} capture WARCs ({report.lines} index lines).\n"
            f"Open {server.collection_url}  (captures: {server.collection_url}*/https://...)\n"
            "Press Ctrl-C to stop.",
            file=out,
            flush=True,
        )
        code = server.process.wait()
        print(f"wayback exited with status {code}; see {layout.replay_dir / 'wayback.log'}", file=sys.stderr)
        return code or 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _yaml_str(value: str) -> str:
    """A double-quoted YAML scalar (paths may contain spaces or colons)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
