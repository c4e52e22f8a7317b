"""Imported once by the forkserver, before it forks any text worker (multiprocessing preload).

Every worker then starts as a copy of a process that has already imported lxml, trafilatura
and langdetect and loaded the 55 language profiles (~0.7 s of CPU): a worker is ready in
milliseconds, at the start of a crawl and when the pool is replaced after a crash or a hang.

First it checks that ``archive`` and ``crawler`` are the product's own packages (see
:mod:`archive.childenv`): if a folder shadowed one, the check raises an ``ImportError``, which
ends the preload before anything else is imported (multiprocessing ignores a preload's
``ImportError``), and every worker's own check then refuses to run a job.
"""

from __future__ import annotations

from archive.childenv import verify_product

verify_product()

from archive.textjob import warm_up  # noqa: E402
from crawler.parse import pagejob  # noqa: E402, F401  (the job the workers run: imported here, once)

warm_up()
