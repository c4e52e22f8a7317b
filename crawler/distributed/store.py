"""The Redis side of a crawl cycle: who seeds it, what is queued, who holds what, when it is over.

Every state change is one Lua script, so it is atomic across workers. The invariant that
makes delivery at-least-once: a piece of work is always in exactly one of two places, the
cycle's queue or one worker's *in-flight* hash (its leases). A worker pops by moving an entry
from the queue into its in-flight hash; it acknowledges only after the request is completely
handled (archived, callback run, every link it found already pushed); a worker whose
liveness key expires (killed, frozen, cut off) has its in-flight entries moved back to the
queue by whichever worker notices first. The cycle is over when the queue is empty and no
in-flight hash holds anything.

Keys (``P`` is ``PREFIX:crawl:CRAWL``; ``C`` is ``P:CYCLE_ID``)::

    P:cycle            hash   id, status (seeding | running | done), started, seeded, finished, seeder
    P:seq              int    last cycle id
    P:seedlock         str    worker seeding the cycle (expires unless renewed: a dead seeder is replaced)
    C:queue            zset   serialized requests, score = -priority
    C:dupefilter       set    request fingerprints of this cycle (fresh for every cycle)
    C:workers          set    worker ids that may hold leases
    C:alive:WID        str    liveness of a worker (PX lease, renewed by its heartbeat)
    C:inflight:WID     hash   lease id -> "score|leased_at_ms|payload"
    C:dirs             hash   host + archive directory -> worker id (a restart reclaims at once)
    C:archived         set    URLs archived in this cycle (idempotent archiving)
    C:claim:URL        str    worker archiving URL right now (expires with the lease)
    C:budget           hash   site -> pages scheduled in this cycle (max_pages across workers)
    C:stats            hash   requeued, ...

Only standalone Redis (or a primary behind Sentinel) is supported: the scripts build key names
at run time, which Redis Cluster does not allow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

# Shared by the scripts that give a dead worker's leases back.
_REQUEUE = """
local function requeue_entry(C, value)
  local s1 = string.find(value, '|', 1, true)
  local s2 = string.find(value, '|', s1 + 1, true)
  redis.call('ZADD', C .. ':queue', string.sub(value, 1, s1 - 1), string.sub(value, s2 + 1))
end
local function requeue_worker(C, w)
  local inflight = C .. ':inflight:' .. w
  local entries = redis.call('HGETALL', inflight)
  local n = 0
  for i = 2, #entries, 2 do
    requeue_entry(C, entries[i])
    n = n + 1
  end
  redis.call('DEL', inflight, C .. ':alive:' .. w)
  redis.call('SREM', C .. ':workers', w)
  if n > 0 then redis.call('HINCRBY', C .. ':stats', 'requeued', n) end
  return n
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

# ARGV: P, wid, dirkey, lease_ms, min_interval_ms -> {cycle id, role, requeued}
_JOIN = (
    _REQUEUE
    + """
local P, wid, dirkey = ARGV[1], ARGV[2], ARGV[3]
local lease, min_interval = tonumber(ARGV[4]), tonumber(ARGV[5])
local cyc = P .. ':cycle'
local now = now_ms()
local id = redis.call('HGET', cyc, 'id')
local status = redis.call('HGET', cyc, 'status')
local role = 'join'
if (not id) or status == 'done' then
  if id and min_interval > 0 then
    local started = tonumber(redis.call('HGET', cyc, 'started') or '0')
    if now - started < min_interval then return {id, 'done', 0} end
  end
  id = tostring(redis.call('INCR', P .. ':seq'))
  redis.call('DEL', cyc)
  redis.call('HSET', cyc, 'id', id, 'status', 'seeding', 'started', now, 'seeder', wid)
  redis.call('SET', P .. ':seedlock', wid, 'PX', lease)
  role = 'seed'
elseif status == 'seeding' then
  if redis.call('SET', P .. ':seedlock', wid, 'NX', 'PX', lease) then role = 'seed' end
end
local C = P .. ':' .. id
local requeued = 0
local previous = redis.call('HGET', C .. ':dirs', dirkey)
if previous and previous ~= wid then requeued = requeue_worker(C, previous) end
redis.call('HSET', C .. ':dirs', dirkey, wid)
redis.call('SADD', C .. ':workers', wid)
redis.call('SET', C .. ':alive:' .. wid, '1', 'PX', lease)
return {id, role, requeued}
"""
)

# ARGV: C, wid, lease_ms -> {lease id, payload} or false
_POP = (
    _REQUEUE
    + """
local C, wid = ARGV[1], ARGV[2]
local items = redis.call('ZRANGE', C .. ':queue', 0, 0, 'WITHSCORES')
if #items == 0 then return false end
redis.call('ZREM', C .. ':queue', items[1])
local id = redis.sha1hex(items[1])
redis.call('HSET', C .. ':inflight:' .. wid, id, items[2] .. '|' .. now_ms() .. '|' .. items[1])
-- a worker that pops is alive, even if it was given up for dead while it was frozen
redis.call('SADD', C .. ':workers', wid)
redis.call('SET', C .. ':alive:' .. wid, '1', 'PX', ARGV[3])
return {id, items[1]}
"""
)

# ARGV: C, fingerprint ('' = do not filter), score, payload -> 1 pushed, 0 duplicate
_PUSH = """
local C = ARGV[1]
if ARGV[2] ~= '' and redis.call('SADD', C .. ':dupefilter', ARGV[2]) == 0 then return 0 end
redis.call('ZADD', C .. ':queue', ARGV[3], ARGV[4])
return 1
"""

# ARGV: P, id, wid, lease_ms -> 1 alive (and seed lock renewed if held)
_HEARTBEAT = """
local P, id, wid = ARGV[1], ARGV[2], ARGV[3]
local C = P .. ':' .. id
redis.call('SADD', C .. ':workers', wid)
redis.call('SET', C .. ':alive:' .. wid, '1', 'PX', ARGV[4])
if redis.call('GET', P .. ':seedlock') == wid then redis.call('PEXPIRE', P .. ':seedlock', ARGV[4]) end
return 1
"""

# ARGV: C, max_age_ms -> entries given back to the queue
_RECLAIM = (
    _REQUEUE
    + """
local C, max_age = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
local n = 0
for _, w in ipairs(redis.call('SMEMBERS', C .. ':workers')) do
  if redis.call('EXISTS', C .. ':alive:' .. w) == 0 then
    n = n + requeue_worker(C, w)
  elseif max_age > 0 then
    local inflight = C .. ':inflight:' .. w
    local entries = redis.call('HGETALL', inflight)
    for i = 1, #entries, 2 do
      local value = entries[i + 1]
      local s1 = string.find(value, '|', 1, true)
      local s2 = string.find(value, '|', s1 + 1, true)
      if now - tonumber(string.sub(value, s1 + 1, s2 - 1)) > max_age then
        requeue_entry(C, value)
        redis.call('HDEL', inflight, entries[i])
        redis.call('HINCRBY', C .. ':stats', 'requeued_stale', 1)
        n = n + 1
      end
    end
  end
end
return n
"""
)

# ARGV: P, id, keep_s -> 'done' | 'gone' | 'seeding' | 'queued' | 'leased'
_FINISH = (
    _REQUEUE
    + """
local P, id = ARGV[1], ARGV[2]
local cyc = P .. ':cycle'
if redis.call('HGET', cyc, 'id') ~= id then return 'gone' end
local status = redis.call('HGET', cyc, 'status')
if status == 'done' then return 'done' end
if status ~= 'running' then return 'seeding' end
local C = P .. ':' .. id
if redis.call('ZCARD', C .. ':queue') > 0 then return 'queued' end
for _, w in ipairs(redis.call('SMEMBERS', C .. ':workers')) do
  if redis.call('HLEN', C .. ':inflight:' .. w) > 0 then return 'leased' end
end
redis.call('HSET', cyc, 'status', 'done', 'finished', now_ms())
for _, name in ipairs({'queue', 'dupefilter', 'workers', 'dirs', 'archived', 'budget', 'stats'}) do
  redis.call('EXPIRE', C .. ':' .. name, ARGV[3])
end
return 'done'
"""
)

# ARGV: P, id, wid -> 1 when the cycle is (now) running
_SEEDED = """
local P, id, wid = ARGV[1], ARGV[2], ARGV[3]
local cyc = P .. ':cycle'
if redis.call('HGET', cyc, 'id') ~= id then return 0 end
if redis.call('HGET', cyc, 'status') == 'seeding' then
  local t = redis.call('TIME')
  redis.call('HSET', cyc, 'status', 'running', 'seeded', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
if redis.call('GET', P .. ':seedlock') == wid then redis.call('DEL', P .. ':seedlock') end
return 1
"""

# ARGV: P, id, wid, lease_ms -> 1 when this worker must (re)seed the cycle
_TAKE_SEEDING = """
local P, id, wid = ARGV[1], ARGV[2], ARGV[3]
local cyc = P .. ':cycle'
if redis.call('HGET', cyc, 'id') ~= id or redis.call('HGET', cyc, 'status') ~= 'seeding' then return 0 end
if redis.call('SET', P .. ':seedlock', wid, 'NX', 'PX', ARGV[4]) then return 1 end
return 0
"""

# ARGV: C, wid, requeue (1/0) -> entries given back
_LEAVE = (
    _REQUEUE
    + """
local C, wid = ARGV[1], ARGV[2]
if ARGV[3] == '1' then return requeue_worker(C, wid) end
redis.call('DEL', C .. ':inflight:' .. wid, C .. ':alive:' .. wid)
redis.call('SREM', C .. ':workers', wid)
return 0
"""
)


# ARGV: C, url, wid, ttl_ms -> 'archived' (done this cycle), 'busy' (a live worker is writing it), 'mine'
_CLAIM = """
local C, url, wid = ARGV[1], ARGV[2], ARGV[3]
if redis.call('SISMEMBER', C .. ':archived', url) == 1 then return 'archived' end
local claim = C .. ':claim:' .. url
local owner = redis.call('GET', claim)
if owner and owner ~= wid and redis.call('EXISTS', C .. ':alive:' .. owner) == 1 then return 'busy' end
redis.call('SET', claim, wid, 'PX', ARGV[4])
return 'mine'
"""


@dataclass(frozen=True, slots=True)
class Joined:
    cycle_id: str
    role: str  # "seed" (this worker seeds), "join", or "done" (a cycle ended too recently)
    requeued: int  # leases of this directory's previous (dead) process given back at once


class CycleStore:
    """Cycle operations for one crawl (one sources file) under one key prefix."""

    def __init__(self, client: redis.Redis, prefix: str, crawl: str) -> None:
        self.client = client
        self.prefix = prefix
        self.crawl = crawl
        self.base = f"{prefix}:crawl:{crawl}"
        self._scripts = {
            name: client.register_script(source)
            for name, source in {
                "join": _JOIN,
                "pop": _POP,
                "push": _PUSH,
                "heartbeat": _HEARTBEAT,
                "reclaim": _RECLAIM,
                "finish": _FINISH,
                "seeded": _SEEDED,
                "take_seeding": _TAKE_SEEDING,
                "leave": _LEAVE,
                "claim": _CLAIM,
            }.items()
        }

    def load_scripts(self) -> None:
        """Load every script once (fails early where scripting is disabled)."""
        for script in self._scripts.values():
            script.sha = self.client.script_load(script.script)

    def _run(self, name: str, *args: Any) -> Any:
        return self._scripts[name](keys=[], args=list(args))

    def key(self, cycle_id: str, name: str) -> str:
        return f"{self.base}:{cycle_id}:{name}"

    # --- membership -----------------------------------------------------------------------
    def join(self, wid: str, dirkey: str, *, lease_ms: int, min_interval_ms: int = 0) -> Joined:
        cycle_id, role, requeued = self._run("join", self.base, wid, dirkey, lease_ms, min_interval_ms)
        return Joined(_text(cycle_id), _text(role), int(requeued))

    def heartbeat(self, cycle_id: str, wid: str, *, lease_ms: int) -> None:
        self._run("heartbeat", self.base, cycle_id, wid, lease_ms)

    def leave(self, cycle_id: str, wid: str, *, requeue: bool) -> int:
        return int(self._run("leave", self._c(cycle_id), wid, "1" if requeue else "0") or 0)

    # --- seeding --------------------------------------------------------------------------
    def seeded(self, cycle_id: str, wid: str) -> None:
        self._run("seeded", self.base, cycle_id, wid)

    def take_over_seeding(self, cycle_id: str, wid: str, *, lease_ms: int) -> bool:
        return bool(self._run("take_seeding", self.base, cycle_id, wid, lease_ms))

    # --- work -----------------------------------------------------------------------------
    def push(self, cycle_id: str, payload: bytes, score: float, fingerprint: str | None) -> bool:
        return bool(self._run("push", self._c(cycle_id), fingerprint or "", _score(score), payload))

    def pop(self, cycle_id: str, wid: str, *, lease_ms: int) -> tuple[str, bytes] | None:
        result = self._run("pop", self._c(cycle_id), wid, lease_ms)
        if not result:
            return None
        return _text(result[0]), bytes(result[1])

    def ack(self, cycle_id: str, wid: str, lease_ids: Iterable[str]) -> None:
        ids = list(lease_ids)
        if ids:
            self.client.hdel(self.key(cycle_id, f"inflight:{wid}"), *ids)

    def reclaim(self, cycle_id: str, *, max_age_ms: int) -> int:
        return int(self._run("reclaim", self._c(cycle_id), max_age_ms) or 0)

    def finish(self, cycle_id: str, *, keep_s: int) -> str:
        return _text(self._run("finish", self.base, cycle_id, keep_s))

    def queue_length(self, cycle_id: str) -> int:
        return int(self.client.zcard(self.key(cycle_id, "queue")))

    # --- idempotent archiving ---------------------------------------------------------------
    def claim_archive(self, cycle_id: str, url: str, wid: str, *, ttl_ms: int) -> str:
        """'mine' when this worker is to archive ``url`` now; 'archived' or 'busy' otherwise."""
        return _text(self._run("claim", self._c(cycle_id), url, wid, ttl_ms))

    def mark_archived(self, cycle_id: str, url: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.sadd(self.key(cycle_id, "archived"), url)
        pipe.delete(self.key(cycle_id, f"claim:{url}"))
        pipe.execute()

    def release_claim(self, cycle_id: str, url: str) -> None:
        self.client.delete(self.key(cycle_id, f"claim:{url}"))

    # --- shared page budget -----------------------------------------------------------------
    def add_budget(self, cycle_id: str, deltas: Mapping[str, int]) -> dict[str, int]:
        """Add this worker's new counts; return the cycle's totals for every site."""
        key = self.key(cycle_id, "budget")
        pipe = self.client.pipeline(transaction=True)
        for site, delta in deltas.items():
            if delta:
                pipe.hincrby(key, site, delta)
        pipe.hgetall(key)
        totals = pipe.execute()[-1]
        return {_text(k): int(v) for k, v in totals.items()}

    # --- inspection -----------------------------------------------------------------------
    def info(self) -> dict[str, str]:
        return {_text(k): _text(v) for k, v in self.client.hgetall(f"{self.base}:cycle").items()}

    def workers(self, cycle_id: str) -> set[str]:
        return {_text(w) for w in self.client.smembers(self.key(cycle_id, "workers"))}

    def leases(self, cycle_id: str, wid: str) -> int:
        return int(self.client.hlen(self.key(cycle_id, f"inflight:{wid}")))

    def stats(self, cycle_id: str) -> dict[str, int]:
        return {_text(k): int(v) for k, v in self.client.hgetall(self.key(cycle_id, "stats")).items()}

    def _c(self, cycle_id: str) -> str:
        return f"{self.base}:{cycle_id}"


def _score(value: float) -> str:
    return repr(float(value))


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
