"""The ``newsarchive replay`` entry point (:func:`archive.replay.serve`) as a user runs it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from http_get import get
from replay_fixtures import HOST, URDU_1, build_archive

from archive.replay import REPLAY_VENV_ENV, ReplayEnvMissing, find_replay_venv, serve

SERVE = (
    "import sys; from pathlib import Path; from archive.replay import serve; "
    "sys.exit(serve(Path(sys.argv[1]), port=0))"
)


def test_missing_replay_venv_names_the_setup_command(tmp_path: Path) -> None:
    with pytest.raises(ReplayEnvMissing) as caught:
        find_replay_venv({REPLAY_VENV_ENV: str(tmp_path / "nowhere")})
    assert "scripts/setup-replay.sh" in str(caught.value)
    assert REPLAY_VENV_ENV in str(caught.value)


def test_serve_reports_a_directory_without_captures(tmp_path: Path, capsys) -> None:
    assert serve(tmp_path / "empty", port=0) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.replay
def test_serve_prints_the_url_replays_and_stops_on_sigterm(replay_venv: Path, tmp_path: Path) -> None:
    archive = build_archive(tmp_path / "a", experiments=False)
    env = dict(os.environ, **{REPLAY_VENV_ENV: str(replay_venv)})
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(archive.layout.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:  # "Open ..." is printed once pywb answers
            lines.append(line)
            if line.startswith("Open "):
                break
        match = re.search(r"Open (http://127\.0\.0\.1:\d+/news/)", "".join(lines))
        assert match, "".join(lines) + (process.stderr.read() if process.poll() is not None else "")
        base = match.group(1)
        url = f"{HOST}/ur/article-1.html"
        (capture,) = archive.find(url, "response")
        reply = get(f"{base}{capture.timestamp}mp_/{url}")
        assert reply.status == 200
        assert URDU_1[0] in reply.body.decode("utf-8")
        # the index was built by serve() itself
        assert (archive.layout.index_dir / "index.cdxj").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    assert code == 0
    with pytest.raises(OSError):
        get(base)  # wayback went down with it


@pytest.mark.replay
def test_serve_fails_cleanly_when_the_port_is_taken(replay_venv: Path, tmp_path: Path, capsys) -> None:
    archive = build_archive(tmp_path / "a", experiments=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        code = serve(archive.layout.root, port=busy.getsockname()[1])
    assert code == 1
    assert "wayback.log" in capsys.readouterr().err
