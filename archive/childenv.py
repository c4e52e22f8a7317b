"""The environment of every process the product starts, and the check that a process runs the product's code.

newsarchive starts processes of its own (the text workers' forkserver and multiprocessing's
resource tracker, both ``python -c``) and tools from ``.venv-replay`` (pywb's ``wayback``,
py-wacz's ``wacz``). Started with the environment as inherited, they could import the product's
packages, ``archive`` and ``crawler``, from somewhere else than the product:

* the working directory: ``python -c`` puts it first on ``sys.path`` (CPython 3.11's
  forkserver does not apply the ``sys_path`` it is handed). From the folder that holds an archive
  named ``archive``, its folder ``archive/text/`` is then imported as ``archive.text``: a namespace
  package, found by the path entries before an editable install's finder, which Python consults
  after them;
* an inherited ``PYTHONPATH`` entry that holds a folder or module named ``archive`` or ``crawler``;
* an inherited ``SCRAPY_SETTINGS_MODULE`` naming another settings module.

:func:`child_environment` is the one environment for all of them: ``PYTHONSAFEPATH=1`` (no
working directory or script folder on ``sys.path``), no ``SCRAPY_SETTINGS_MODULE``, and a
``PYTHONPATH`` that holds nothing but what the product itself needs: for a tool, nothing; for a
process running product code, the inherited entries that hold neither package (a benchmark's or a
test's ``sitecustomize`` still reaches every process) and the folder this product was imported
from when that folder is not a site directory (a checkout run with ``PYTHONPATH=REPO``).
:func:`inherited_environment` applies it around a start that only inherits ``os.environ``
(multiprocessing's ``forkserver.ensure_running``).

:func:`foreign_modules` lists the loaded modules of the two packages that do not come from this
product; :func:`verify_product` raises on any (the text workers run it first, so a worker that
imported another ``archive`` never runs a job: the forkserver's own preload ignores an
``ImportError``, so it cannot be the only check), and the command restarts itself with
:func:`restart_cleanly` when its own imports were shadowed.

Nothing here imports the crawler side: ``crawler`` is only a name looked up in ``sys.modules``.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import os
import site
import sys
import sysconfig
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from archive.errors import ForeignCodeError as ForeignCodeError  # raised here; the tree is in archive.errors

#: The product's top-level packages: nothing else may provide them in a process of the product.
PACKAGES = ("archive", "crawler")
#: Set in the environment of a command restarted by :func:`restart_cleanly` (it restarts once).
RESTARTED_ENV = "NEWSARCHIVE_CLEAN_RESTART"
_DROPPED = ("PYTHONPATH", "SCRAPY_SETTINGS_MODULE", RESTARTED_ENV)


def product_root() -> Path:
    """The folder that holds this product's ``archive/`` and ``crawler/`` (a checkout or site-packages)."""
    return Path(__file__).resolve().parent.parent


def child_environment(
    base: Mapping[str, str] | None = None,
    *,
    runs_product: bool,
    cwd: str | None = None,
    sys_path: Sequence[str] | None = None,
) -> dict[str, str]:
    """The environment for a process the product starts (``base``: ``os.environ``).

    ``runs_product``: the process imports the product (a text worker), so it gets the product's
    folder on ``PYTHONPATH`` when the product was found there, and keeps the inherited entries
    that hold neither ``archive`` nor ``crawler``; otherwise (pywb, py-wacz) ``PYTHONPATH`` is
    removed. Relative and empty entries are read against ``cwd`` (the working directory), the
    product's folder against ``sys_path`` (``sys.path``). The result's ``PYTHONPATH`` holds
    absolute paths only, so the child's own working directory does not matter.
    """
    env = dict(os.environ if base is None else base)
    inherited = env.get("PYTHONPATH", "")
    for name in _DROPPED:
        env.pop(name, None)
    env["PYTHONSAFEPATH"] = "1"
    if runs_product:
        entries = product_path(inherited, cwd=cwd, sys_path=sys_path)
        if entries:
            env["PYTHONPATH"] = os.pathsep.join(entries)
    return env


@contextlib.contextmanager
def inherited_environment(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` is ``env`` inside the block, as before after it.

    For a child started by a library that gives it no environment of its own: multiprocessing
    starts its forkserver and resource tracker with whatever ``os.environ`` holds. Only the
    variables that differ are touched.
    """
    changed = {k: os.environ.get(k) for k in {*os.environ, *env} if os.environ.get(k) != env.get(k)}
    try:
        for name in changed:
            _set(name, env.get(name))
        yield
    finally:
        for name, value in changed.items():
            _set(name, value)


def product_path(
    pythonpath: str, *, cwd: str | None = None, sys_path: Sequence[str] | None = None
) -> list[str]:
    """The ``PYTHONPATH`` entries a process running product code gets (see :func:`child_environment`)."""
    root = product_root()
    cwd = str(Path.cwd()) if cwd is None else cwd
    kept: list[str] = []
    for entry in pythonpath.split(os.pathsep) if pythonpath else []:
        folder = _resolve(entry, cwd)
        if (folder == root or (folder.is_dir() and not _holds_a_package(folder))) and str(folder) not in kept:
            kept.append(str(folder))
    searched = {_resolve(entry, cwd) for entry in (sys.path if sys_path is None else sys_path)}
    if str(root) not in kept and root in searched and root not in _site_dirs():
        kept.insert(0, str(root))
    return kept


def foreign_modules(root: Path | None = None, modules: Mapping[str, object] | None = None) -> list[str]:
    """Loaded modules of ``archive`` and ``crawler`` that are not files of the product at ``root``.

    Each as ``"NAME from WHERE"``; ``[]`` when every one comes from the product. ``modules``:
    ``sys.modules``.
    """
    root = product_root() if root is None else root.resolve()
    found: list[str] = []
    for name, module in list((sys.modules if modules is None else modules).items()):
        top = name.partition(".")[0]
        if top not in PACKAGES or module is None:
            continue
        home = root / top
        file = getattr(module, "__file__", None)
        places = [file] if file else [str(p) for p in getattr(module, "__path__", [])]
        if not places or not all(Path(p).resolve().is_relative_to(home) for p in places):
            found.append(f"{name} from {', '.join(places) or 'nowhere'}")
    return sorted(found)


def verify_product(root: str | None = None) -> None:
    """Raise :class:`ForeignCodeError` if a loaded ``archive``/``crawler`` module is not the product's.

    ``root``: the product folder the parent runs (default: this module's). The text workers'
    pool initializer: a worker that fails it exits before it runs a job.
    """
    expected = Path(root) if root else product_root()
    foreign = foreign_modules(expected)
    if foreign:
        raise ForeignCodeError(
            f"process {os.getpid()} imported code that is not newsarchive's (the product is in {expected}): "
            + "; ".join(foreign[:5])
            + ". A folder named archive or crawler in the working directory or on PYTHONPATH shadows it."
        )


def restart_cleanly(module: str, args: Sequence[str]) -> NoReturn:
    """Replace this process by ``python -P -m MODULE ARGS`` in :func:`child_environment`.

    For a command whose own imports were shadowed (a ``PYTHONPATH`` entry holding an ``archive``
    folder): the same process id, standard streams and working directory, the product's code only.
    The restarted process has ``NEWSARCHIVE_CLEAN_RESTART`` set and does not restart again.
    """
    env = child_environment(runs_product=True)
    env[RESTARTED_ENV] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-P", "-m", module, *args], env)  # noqa: S606 (our interpreter, no shell)


def _set(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _resolve(entry: str, cwd: str) -> Path:
    return (Path(cwd) / entry).resolve()  # "" is the working directory, as for Python


def _holds_a_package(folder: Path) -> bool:
    suffixes = importlib.machinery.all_suffixes()
    return any(
        (folder / name).is_dir() or any((folder / f"{name}{suffix}").is_file() for suffix in suffixes)
        for name in PACKAGES
    )


def _site_dirs() -> set[Path]:
    """Folders every interpreter of this environment searches anyway (putting them on
    ``PYTHONPATH`` would move them before the standard library)."""
    dirs = [*site.getsitepackages(), site.getusersitepackages()]
    dirs += [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    return {Path(d).resolve() for d in dirs}
