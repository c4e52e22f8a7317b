"""``newsarchive index | wacz | replay``: thin wrappers over :mod:`archive.index`,
:mod:`archive.wacz` and :mod:`archive.replay` (pywb and py-wacz run in ``.venv-replay``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler import exitcodes


def cmd_index(args: argparse.Namespace) -> int:
    from archive.index import build_indexes
    from archive.layout import ArchiveLayout

    root = Path(args.archive)
    if not (root / "warc").is_dir():
        print(f"newsarchive: {root} has no warc/ folder: not an archive directory", file=sys.stderr)
        return exitcodes.CONFIG
    report = build_indexes(ArchiveLayout(root), force=args.force)
    print(
        f"indexed {len(report.indexed)} new file(s), kept {report.kept}, "
        f"removed {len(report.removed)}; {report.lines} index lines"
    )
    for name, error in report.failed.items():
        print(f"newsarchive: could not index {name}: {error}", file=sys.stderr)
    return exitcodes.OK if report.ok else 1


def cmd_wacz(args: argparse.Namespace) -> int:
    from archive.replay import ReplayEnvMissing
    from archive.wacz import WaczError, create_wacz

    try:
        report = create_wacz(Path(args.archive), Path(args.output), title=args.title, description=args.desc)
    except ReplayEnvMissing as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return exitcodes.SOFTWARE
    except WaczError as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {report.path}: {report.warcs} capture WARC(s), {report.size} bytes, validated")
    return exitcodes.OK


def cmd_replay(args: argparse.Namespace) -> int:
    from archive.replay import ReplayEnvMissing, serve

    try:
        return serve(Path(args.archive), host=args.host, port=args.port)
    except ReplayEnvMissing as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return exitcodes.SOFTWARE


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("index", help="write CDXJ indexes for the capture WARCs (only new files)")
    p.add_argument("archive")
    p.add_argument("--force", action="store_true", help="re-index every file")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("wacz", help="package the captures, their index and pages.jsonl as a WACZ")
    p.add_argument("archive")
    p.add_argument("-o", "--output", required=True, help="the .wacz file to write")
    p.add_argument("--title", help="collection title")
    p.add_argument("--desc", help="collection description")
    p.set_defaults(func=cmd_wacz)

    p = sub.add_parser("replay", help="index new files and browse the archive in pywb on 127.0.0.1")
    p.add_argument("archive")
    p.add_argument("--port", type=int, default=8080, help="default 8080")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.set_defaults(func=cmd_replay)
