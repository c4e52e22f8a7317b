"""The read commands: ``newsarchive ls | text | index | wacz | replay``.

Each is a thin wrapper over ``archive/`` (:mod:`archive.reader`, :mod:`archive.index`,
:mod:`archive.wacz`, :mod:`archive.replay`; pywb and py-wacz run in ``.venv-replay``). None
imports Scrapy. A command returns its exit code or raises an error of either tree, which
:func:`crawler.cli.main` maps through :func:`crawler.exitcodes.for_error` (a read command that
failed or found nothing: 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from crawler import exitcodes
from crawler.errors import ConfigError, ReadFailed


def cmd_ls(args: argparse.Namespace) -> int:
    from archive.reader import list_captures

    root = Path(args.archive)
    if not root.is_dir():
        raise ConfigError(f"no archive directory {root}")
    rows = list_captures(root)
    if args.json:
        for row in rows:
            print(json.dumps(row.as_dict(), ensure_ascii=False))
        return exitcodes.OK
    print(f"{'DATE':<27} {'TYPE':<8} {'ST':>3} {'LANG':<8} {'CHARS':>6}  URL  TITLE")
    for row in rows:
        print(
            f"{row.date:<27} {row.record_type:<8} {row.status or '':>3} {row.languages or '-':<8} "
            f"{row.text_length:>6}  {row.url}  {row.title}"
        )
    return exitcodes.OK


def cmd_text(args: argparse.Namespace) -> int:
    from archive.reader import find_text
    from archive.urls import canonical_url

    root = Path(args.archive)
    entry = find_text(root, args.url, args.date)
    if entry is None:
        try:
            entry = find_text(root, canonical_url(args.url), args.date)
        except ValueError:  # not a URL canonical_url can read: the first lookup was all there is
            entry = None
    if entry is None:
        raise ReadFailed(f"no archived text for {args.url}" + (f" at {args.date}" if args.date else ""))
    print(entry.text)
    return exitcodes.OK


def cmd_index(args: argparse.Namespace) -> int:
    from archive.index import build_indexes
    from archive.layout import ArchiveLayout

    root = Path(args.archive)
    if not (root / "warc").is_dir():
        raise ConfigError(f"{root} has no warc/ folder: not an archive directory")
    report = build_indexes(ArchiveLayout(root), force=args.force)
    print(
        f"indexed {len(report.indexed)} new file(s), kept {report.kept}, "
        f"removed {len(report.removed)}; {report.lines} index lines"
    )
    for name, error in report.failed.items():
        print(f"newsarchive: could not index {name}: {error}", file=sys.stderr)
    if not report.ok:
        raise ReadFailed(f"{len(report.failed)} file(s) could not be indexed")
    return exitcodes.OK


def cmd_wacz(args: argparse.Namespace) -> int:
    from archive.wacz import create_wacz

    # ReplayEnvMissing (70) and WaczError (1) are mapped by crawler.exitcodes.for_error.
    report = create_wacz(Path(args.archive), Path(args.output), title=args.title, description=args.desc)
    print(f"wrote {report.path}: {report.warcs} capture WARC(s), {report.size} bytes, validated")
    return exitcodes.OK


def cmd_replay(args: argparse.Namespace) -> int:
    from archive.replay import serve

    return serve(Path(args.archive), host=args.host, port=args.port)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ls", help="list the captures of an archive")
    p.add_argument("archive")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("text", help="print the archived text of a capture")
    p.add_argument("archive")
    p.add_argument("url")
    p.add_argument("--date", help="capture date prefix, e.g. 2026-11-23 or 20261123T1015 (default: latest)")
    p.set_defaults(func=cmd_text)

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
