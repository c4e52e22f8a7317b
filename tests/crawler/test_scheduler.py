"""Waiting requests go to disk; when the disk fills up, none of them is lost."""

from __future__ import annotations

import errno
from pathlib import Path

from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from crawler.downloader.scheduler import SpillingScheduler


class _Spider(Spider):
    name = "queue-test"


def _scheduler(folder: Path) -> tuple[SpillingScheduler, object]:
    crawler = get_crawler(_Spider, {"NEWSARCHIVE_QUEUE_DIR": str(folder), "LOG_LEVEL": "ERROR"})
    crawler._apply_settings()
    spider = _Spider.from_crawler(crawler)
    crawler.spider = spider
    crawler.engine = crawler._create_engine()  # the default priority queue asks the downloader
    scheduler = SpillingScheduler.from_crawler(crawler)
    scheduler.open(spider)
    return scheduler, crawler


def _drain(scheduler: SpillingScheduler) -> list[str]:
    urls = []
    while (request := scheduler.next_request()) is not None:
        urls.append(request.url)
    return urls


def test_requests_wait_on_disk_and_come_back(tmp_path: Path) -> None:
    scheduler, crawler = _scheduler(tmp_path / "queue")
    urls = [f"http://127.0.0.1:9/news/{i}" for i in range(50)]
    for url in urls:
        assert scheduler.enqueue_request(Request(url))
    assert crawler.stats.get_value("scheduler/enqueued/disk") == 50
    assert len(scheduler.mqs) == 0 and any((tmp_path / "queue").rglob("*"))
    assert sorted(_drain(scheduler)) == sorted(urls)
    scheduler.close("finished")


def test_a_full_disk_keeps_new_requests_in_memory_and_loses_none(tmp_path: Path) -> None:
    scheduler, crawler = _scheduler(tmp_path / "queue")
    before = [f"http://127.0.0.1:9/a/{i}" for i in range(10)]
    after = [f"http://127.0.0.1:9/b/{i}" for i in range(10)]
    for url in before:
        scheduler.enqueue_request(Request(url))

    def no_space(request: Request) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    scheduler.dqs.push = no_space  # the disk fills up here
    for url in after:
        assert scheduler.enqueue_request(Request(url))
    assert scheduler.disk_full
    assert crawler.stats.get_value("newsarchive/queue/disk_failed") == 1
    assert crawler.stats.get_value("scheduler/enqueued/memory") == 10
    assert sorted(_drain(scheduler)) == sorted(before + after)
    scheduler.close("archive_io_error")
