"""Drive ReplayWeb.page in headless Chromium (run with .venv-replay's Python, which has Playwright).

    python rwp_check.py SITE_URL JOBS.json

``SITE_URL`` serves ``index.html`` (creates a <replay-web-page> from its query string),
``ui.js`` and ``replay/{ui.js,sw.js}``. Each job is
``{"mode": "render", "source": "x.wacz", "url": ..., "ts": ..., "expected": [...], "screenshot": ...}``
or ``{"mode": "search", "source": ..., "query": ..., "expected": [...], "screenshot": ...}``
(optional ``"timeout"`` in seconds). All jobs share one browser. Prints a JSON list
``[{"found": [...], "missing": [...], ...}]``; exit status 0 when every expected string was seen. Uses Debian's Chromium (``NEWSARCHIVE_CHROMIUM``, default
/usr/bin/chromium): Playwright never downloads a browser here.

ReplayWeb.page renders the archived page in an iframe inside shadow roots of its web
components; Playwright lists every frame of the page, and the text is read from each with
a script that also walks open shadow roots.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.parse

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("NEWSARCHIVE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DEFAULT_TIMEOUT = 90.0  # seconds to wait for the expected text of one job
TIMEOUT = DEFAULT_TIMEOUT

DEEP_TEXT = """
() => {
  const out = [];
  const walk = (node) => {
    if (!node) return;
    if (node.nodeType === Node.TEXT_NODE) { out.push(node.textContent); return; }
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
    if (node.tagName === 'INPUT') out.push(node.value || '');
  };
  walk(document.documentElement);
  return out.join(' ');
}
"""


def all_text(page) -> str:
    texts = []
    for frame in page.frames:
        try:
            texts.append(frame.evaluate(DEEP_TEXT))
        except Exception:  # frame navigated or detached meanwhile
            continue
    return "\n".join(texts)


SEARCH_PLACEHOLDER = "Search by Page URL, Title, or Text"
SW_RACE_MARK = "Directory listing for /replay/"
RELOADS: list[str] = []


def find_in_frames(page, placeholder: str):
    """The first element with ``placeholder`` in any frame (RWP's UI lives in an iframe)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        for frame in page.frames:
            loc = frame.get_by_placeholder(placeholder)
            if loc.count():
                return loc.first
        if time.monotonic() > deadline:
            raise TimeoutError(f"no element with placeholder {placeholder!r}")
        if SW_RACE_MARK in all_text(page) and len(RELOADS) < 3:
            RELOADS.append(page.url)  # see wait_for
            page.reload()
            continue
        page.wait_for_timeout(250)  # the UI frame is created asynchronously; re-check


def wait_for(page, expected: list[str]) -> tuple[list[str], str]:
    """Poll the rendered text until every expected string shows up or the deadline passes.

    In a fresh browser profile the replay iframe sometimes loads before ReplayWeb.page's
    service worker controls it, and the static server's directory listing of ``replay/``
    shows instead (seen about once in a dozen runs). The worker is installed by then, so
    one reload fixes it; reloads are counted in the result.
    """
    deadline = time.monotonic() + TIMEOUT
    while True:
        text = all_text(page)
        missing = [e for e in expected if e not in text]
        if not missing or time.monotonic() > deadline:
            return missing, text
        if SW_RACE_MARK in text and len(RELOADS) < 3:
            RELOADS.append(page.url)
            page.reload()
            continue
        page.wait_for_timeout(250)  # rendering is asynchronous (service worker + iframe); re-check


def run_job(browser, site: str, job: dict) -> dict:
    """One job in a fresh page (same browser: ReplayWeb.page's service worker stays installed)."""
    RELOADS.clear()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    global TIMEOUT
    TIMEOUT = float(job.get("timeout") or DEFAULT_TIMEOUT)
    expected = job["expected"]
    try:
        if job["mode"] == "render":
            params = {"source": job["source"], "url": job["url"], "ts": job["ts"], "embed": "replayonly"}
            page.goto(f"{site}/index.html?{urllib.parse.urlencode(params)}")
            missing, text = wait_for(page, expected)
        elif job["mode"] == "search":
            page.goto(f"{site}/index.html?" + urllib.parse.urlencode({"source": job["source"]}))
            # The collection view lists the pages; its search box (inside RWP's own iframe)
            # filters them by URL, title and full text (pages.jsonl "text").
            box = find_in_frames(page, SEARCH_PLACEHOLDER)
            box.fill(job["query"])
            box.press("Enter")
            missing, text = wait_for(page, expected)
        else:
            raise ValueError(f"unknown mode {job['mode']}")
        page.screenshot(path=job["screenshot"], full_page=False)
        return {
            "found": [e for e in expected if e not in missing],
            "missing": missing,
            "frames": len(page.frames),
            "reloads": len(RELOADS),
            "page_errors": errors[:5],
            "text": text[:20000],
        }
    finally:
        page.close()


def main(argv: list[str]) -> int:
    """argv: SITE_URL JOBS_JSON_FILE; prints a JSON list of results, one per job."""
    site = argv[0]
    with open(argv[1], encoding="utf-8") as fh:
        jobs = json.load(fh)
    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for job in jobs:
                results.append(run_job(browser, site, job))
        finally:
            browser.close()
    print(json.dumps(results, ensure_ascii=False))
    return 0 if all(not r["missing"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
