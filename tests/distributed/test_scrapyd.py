"""The Scrapyd runner's translation of Scrapyd's job arguments (no daemon needed)."""

from __future__ import annotations

import pytest

from crawler.distributed.scrapyd import crawl_argv, main


def test_scrapyd_arguments_become_a_newsarchive_crawl() -> None:
    argv = crawl_argv(
        [
            "news",
            "-a",
            "_job=6487ec79",
            "-a",
            "sources=/etc/news/sources.toml",
            "-a",
            "archive=/srv/archive/w1",
            "-s",
            "LOG_FILE=/var/log/scrapyd/news/6487ec79.log",
            "-s",
            "FEEDS={}",
            "-s",
            "NEWSARCHIVE_DIST_LEASE=60",
        ],
        {},
    )
    assert argv == [
        "crawl",
        "/etc/news/sources.toml",
        "--archive",
        "/srv/archive/w1",
        "--no-progress",
        "--log-file",
        "/var/log/scrapyd/news/6487ec79.log",
        "--set",
        "NEWSARCHIVE_DIST_LEASE=60",
    ]
    old_style = crawl_argv(
        ["news", "-a", "sources=s.toml", "-a", "archive=d"], {"SCRAPY_LOG_FILE": "/l/j.log"}
    )
    assert isinstance(old_style, list) and old_style[-2:] == ["--log-file", "/l/j.log"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["other"], "unknown spider"),
        (["news", "-a", "sources=s.toml"], "missing job argument(s): archive=..."),
        (
            ["news", "-a", "sources=s", "-a", "archive=d", "-s", "NEWSARCHIVE_REDIS_URL=redis://:pw@h/0"],
            "environment",
        ),
        (["news", "-x"], "unexpected argument"),
    ],
)
def test_bad_job_arguments(args: list[str], message: str) -> None:
    result = crawl_argv(args, {})
    assert isinstance(result, str) and message in result and "pw" not in result


def test_list_prints_the_spider(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    assert capsys.readouterr().out == "news\n"
    assert main(["crawl", "news"]) == 2
