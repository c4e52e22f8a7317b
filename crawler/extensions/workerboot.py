"""Imported once by the forkserver, before it forks any text worker (multiprocessing preload).

Every worker then starts as a copy of a process that has already imported lxml, trafilatura
and langdetect and loaded the 55 language profiles (~0.7 s of CPU): a worker is ready in
milliseconds, at the start of a crawl and when the pool is replaced after a crash or a hang.
"""

from __future__ import annotations

from archive.textjob import warm_up
from crawler.parse import pagejob  # noqa: F401  (the job the workers run: imported here, once)

warm_up()
