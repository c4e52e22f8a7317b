"""Requests in Redis as JSON, not pickle (``SCHEDULER_SERIALIZER``).

scrapy-redis pickles requests by default. Whoever can write to the Redis server could then run
code on every worker; with JSON the worst a forged entry can do is name a URL. Bytes (headers,
body) are tagged base64. Meta values that are not plain data (objects a middleware attached to
a request, such as the capture result of a response that was then redirected) are dropped:
they belong to one process and mean nothing to the worker that pops the request.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from crawler import meta

logger = logging.getLogger(__name__)

_BYTES = "__b64__"
# Meta keys whose values are per-process objects or per-attempt facts: never queued.
TRANSIENT_META = meta.TRANSIENT


def _encode(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple):
        return [_encode(v, path) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, bytes):
                k = k.decode("latin-1")
            if not isinstance(k, str):
                raise _NotData(path)
            out[k] = _encode(v, f"{path}.{k}")
        if _BYTES in out and len(out) == 1:
            raise _NotData(path)  # would be read back as bytes
        return out
    raise _NotData(path)


class _NotData(TypeError):
    pass


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and _BYTES in value:
            return base64.b64decode(value[_BYTES])
        return {k: _decode(v) for k, v in value.items()}
    return value


def dumps(obj: dict[str, Any]) -> bytes:
    """A request dict (``Request.to_dict()``) as compact JSON."""
    data = dict(obj)
    meta = {}
    for key, value in (data.get("meta") or {}).items():
        if key in TRANSIENT_META:
            continue
        try:
            _encode(value, key)
        except _NotData:
            logger.debug("request meta %r of %s is not plain data: not queued", key, data.get("url"))
            continue
        meta[key] = value
    data["meta"] = meta
    data["headers"] = {
        (k.decode("latin-1") if isinstance(k, bytes) else str(k)): [
            v if isinstance(v, bytes) else str(v).encode("latin-1")
            for v in (vs if isinstance(vs, list | tuple) else [vs])
        ]
        for k, vs in (data.get("headers") or {}).items()
    }
    return json.dumps(_encode(data, "request"), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> dict[str, Any]:
    obj = json.loads(data)
    if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
        raise ValueError("not a serialized request")
    decoded: dict[str, Any] = _decode(obj)  # a dict, as obj is
    decoded["headers"] = {k.encode("latin-1"): v for k, v in decoded.get("headers", {}).items()}
    return decoded
