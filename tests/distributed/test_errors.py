"""A bad Redis URL or an unreachable Redis: a clear message, its own exit code, no password."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crawler import exitcodes
from crawler.cli import main
from tests.distributed.conftest import NEWSARCHIVE, REDIS_PASSWORD, REPO, RedisServer, _free_port

pytestmark = pytest.mark.redis

SOURCES = """
[[sites]]
name = "s"
start_urls = ["http://127.0.0.1:9/"]
article_urls = ['/news/']
"""


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(SOURCES, encoding="utf-8")
    return path


def _crawl(sources: Path, archive: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["crawl", str(sources), "--archive", str(archive), "--no-progress", *args])
    out, err = capsys.readouterr()
    assert REDIS_PASSWORD not in out + err
    for path in archive.rglob("*"):
        if path.is_file():
            assert REDIS_PASSWORD.encode() not in path.read_bytes()
    return code, err


def test_unreachable_redis_exits_69(
    sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.setenv("NEWSARCHIVE_REDIS_URL", f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0")
    code, err = _crawl(sources, tmp_path / "a", capsys)
    assert code == exitcodes.UNAVAILABLE == 69
    assert f"cannot reach Redis at redis://***@127.0.0.1:{port}/0" in err


def test_wrong_password_exits_69(
    sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], redis_server: RedisServer
) -> None:
    url_file = tmp_path / "redis-url"
    url_file.write_text(
        f"redis://:{REDIS_PASSWORD}-wrong@127.0.0.1:{redis_server.port}/0\n", encoding="utf-8"
    )
    code, err = _crawl(sources, tmp_path / "a", capsys, "--redis-url-file", str(url_file))
    assert code == 69
    assert "refused the credentials" in err


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{REDIS_PASSWORD}@127.0.0.1:notaport/0",
        f"http://:{REDIS_PASSWORD}@127.0.0.1:6379/0",
        f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/zero",
    ],
)
def test_malformed_url_exits_78(
    url: str, sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _crawl(sources, tmp_path / "a", capsys, "--redis", url)
    assert code == exitcodes.CONFIG == 78
    assert "invalid Redis URL redis://***@" in err or "invalid Redis URL http://***@" in err


def test_bad_distributed_setting_exits_78(
    sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], redis_server: RedisServer
) -> None:
    code, err = _crawl(
        sources, tmp_path / "a", capsys, "--redis", redis_server.url, "--set", "NEWSARCHIVE_DIST_LEASE=soon"
    )
    assert code == 78 and "NEWSARCHIVE_DIST_LEASE must be a number" in err


def test_console_script_reports_unreachable_redis(sources: Path, tmp_path: Path) -> None:
    port = _free_port()
    env_url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0"
    result = subprocess.run(
        [*NEWSARCHIVE, "crawl", str(sources), "--archive", str(tmp_path / "a"), "--no-progress"],
        env={"PATH": "/usr/bin:/bin", "NEWSARCHIVE_REDIS_URL": env_url},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 69, result.stderr
    assert REDIS_PASSWORD not in result.stdout + result.stderr
    assert "newsarchive: cannot reach Redis at redis://***@127.0.0.1" in result.stderr
