"""Pure archival library: WARC records and files, text and language records, indexes, replay.

Nothing here imports Scrapy, Twisted or the ``crawler`` package: the dependency runs
``crawler -> archive`` only, so archives can be read, indexed and replayed without a crawler.

The public names (``__all__``) can be imported from here, ``from archive import WarcFileWriter``,
or from their modules, as before. They are loaded on first use (PEP 562), so ``import archive``
loads no module of the package: trafilatura, langdetect and NumPy (about 0.2 s and 40 MB of
start-up) come only with the text and language modules, and a reader of WARC files never pays
for them. ``warm_up`` is :func:`archive.textjob.warm_up` (extractor and detector);
:func:`archive.language.warm_up` stays in its module. Constants stay in their modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, seen by type checkers without loading anything
    from archive.capture import CapturePlan, Exchange, plan_capture
    from archive.encoding import codings, decode_body
    from archive.errors import (
        ArchiveError,
        DecodedTooLarge,
        DecodeError,
        ForeignCodeError,
        ReplayEnvMissing,
        StateError,
        StateUnavailable,
        WaczError,
    )
    from archive.fastdetect import FastDetector
    from archive.http import (
        ResponseHead,
        header_pairs,
        normalise_url_header,
        request_header_block,
        response_header_block,
        status_line,
    )
    from archive.index import build_indexes, iter_index, merged_index_path, per_file_index_path
    from archive.language import LanguageScore, detect_languages, detector_info, languages_header, to_iso639_3
    from archive.layout import ArchiveLayout
    from archive.pages import timestamp_to_iso, write_pages_jsonl
    from archive.reader import find_text, iter_text_entries, list_captures
    from archive.records import (
        RecordFactory,
        WarcRecord,
        crawl_warcinfo,
        new_record_id,
        serialize,
        warc_date,
        warc_fields,
    )
    from archive.recovery import PendingText, RecoveryReport, conversion_ids, reconcile_state, repair_files
    from archive.repair import iter_members, iter_records, parse_record, repair_open_file
    from archive.replay import (
        ReplayServer,
        config_path,
        find_replay_venv,
        prepare_replay,
        serve,
        start_wayback,
    )
    from archive.state import SqliteStateStore, StateStore, UrlState
    from archive.text import (
        ArticleText,
        decode_html,
        extract_article,
        extract_from_page,
        extractor_info,
        parse_html,
    )
    from archive.textjob import TextResult, quiet_extractor_logs, run_text_job, text_result, warm_up
    from archive.textrecords import article_records, iso_date, text_metadata
    from archive.urls import canonical_url
    from archive.wacz import WaczReport, create_wacz, validate_wacz
    from archive.writer import RecordLocation, WarcFileWriter, host_tag

#: Module of each public name, the one that defines it (checked by tests/archive/test_surface.py).
_MODULES: dict[str, tuple[str, ...]] = {
    "archive.capture": ("CapturePlan", "Exchange", "plan_capture"),
    "archive.encoding": ("codings", "decode_body"),
    "archive.errors": (
        "ArchiveError",
        "DecodedTooLarge",
        "DecodeError",
        "ForeignCodeError",
        "ReplayEnvMissing",
        "StateError",
        "StateUnavailable",
        "WaczError",
    ),
    "archive.fastdetect": ("FastDetector",),
    "archive.http": (
        "ResponseHead",
        "header_pairs",
        "normalise_url_header",
        "request_header_block",
        "response_header_block",
        "status_line",
    ),
    "archive.index": ("build_indexes", "iter_index", "merged_index_path", "per_file_index_path"),
    "archive.language": (
        "LanguageScore",
        "detect_languages",
        "detector_info",
        "languages_header",
        "to_iso639_3",
    ),
    "archive.layout": ("ArchiveLayout",),
    "archive.pages": ("timestamp_to_iso", "write_pages_jsonl"),
    "archive.reader": ("find_text", "iter_text_entries", "list_captures"),
    "archive.records": (
        "RecordFactory",
        "WarcRecord",
        "crawl_warcinfo",
        "new_record_id",
        "serialize",
        "warc_date",
        "warc_fields",
    ),
    "archive.recovery": (
        "PendingText",
        "RecoveryReport",
        "conversion_ids",
        "reconcile_state",
        "repair_files",
    ),
    "archive.repair": ("iter_members", "iter_records", "parse_record", "repair_open_file"),
    "archive.replay": (
        "ReplayServer",
        "config_path",
        "find_replay_venv",
        "prepare_replay",
        "serve",
        "start_wayback",
    ),
    "archive.state": ("SqliteStateStore", "StateStore", "UrlState"),
    "archive.text": (
        "ArticleText",
        "decode_html",
        "extract_article",
        "extract_from_page",
        "extractor_info",
        "parse_html",
    ),
    "archive.textjob": ("TextResult", "quiet_extractor_logs", "run_text_job", "text_result", "warm_up"),
    "archive.textrecords": ("article_records", "iso_date", "text_metadata"),
    "archive.urls": ("canonical_url",),
    "archive.wacz": ("WaczReport", "create_wacz", "validate_wacz"),
    "archive.writer": ("RecordLocation", "WarcFileWriter", "host_tag"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "ArchiveError",
    "ArchiveLayout",
    "ArticleText",
    "CapturePlan",
    "DecodeError",
    "DecodedTooLarge",
    "Exchange",
    "FastDetector",
    "ForeignCodeError",
    "LanguageScore",
    "PendingText",
    "RecordFactory",
    "RecordLocation",
    "RecoveryReport",
    "ReplayEnvMissing",
    "ReplayServer",
    "ResponseHead",
    "SqliteStateStore",
    "StateError",
    "StateStore",
    "StateUnavailable",
    "TextResult",
    "UrlState",
    "WaczError",
    "WaczReport",
    "WarcFileWriter",
    "WarcRecord",
    "article_records",
    "build_indexes",
    "canonical_url",
    "codings",
    "config_path",
    "conversion_ids",
    "crawl_warcinfo",
    "create_wacz",
    "decode_body",
    "decode_html",
    "detect_languages",
    "detector_info",
    "extract_article",
    "extract_from_page",
    "extractor_info",
    "find_replay_venv",
    "find_text",
    "header_pairs",
    "host_tag",
    "iso_date",
    "iter_index",
    "iter_members",
    "iter_records",
    "iter_text_entries",
    "languages_header",
    "list_captures",
    "merged_index_path",
    "new_record_id",
    "normalise_url_header",
    "parse_html",
    "parse_record",
    "per_file_index_path",
    "plan_capture",
    "prepare_replay",
    "quiet_extractor_logs",
    "reconcile_state",
    "repair_files",
    "repair_open_file",
    "request_header_block",
    "response_header_block",
    "run_text_job",
    "serialize",
    "serve",
    "start_wayback",
    "status_line",
    "text_metadata",
    "text_result",
    "timestamp_to_iso",
    "to_iso639_3",
    "validate_wacz",
    "warc_date",
    "warc_fields",
    "warm_up",
    "write_pages_jsonl",
]


def __getattr__(name: str) -> Any:
    """Import the name's module on first use; later lookups find the name in the package."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
