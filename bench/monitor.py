"""Run one crawl as a child process and sample the CPU and memory of its whole process tree.

What a crawl costs is the CPU of the crawler *and* of its worker processes (the text pool is
started through a forkserver, so the workers are grandchildren). Sampled every ``interval``
seconds with psutil: each process's own user+system CPU time, RSS and peak RSS (``VmHWM``);
the static server's CPU; and ``/proc/stat`` so the machine's *other* load (busy time not ours)
can be stated next to every figure. Processes that end between samples lose at most one
interval of CPU in the time series; the exact total comes from ``getrusage(RUSAGE_CHILDREN)``
of this process, which counts every descendant once it has been waited for. To be sure that
happens, this process makes itself the "child subreaper" (Linux ``prctl``): descendants orphaned
when the crawler exits (the forkserver, a straggling worker) are reparented to it and reaped here.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import threading
import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_stat() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (all cores)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq + steal
    return busy / CLK_TCK, (busy + idle + iowait) / CLK_TCK


def _hwm_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass(slots=True)
class Sample:
    t: float
    procs: dict[int, tuple[str, float, int, int]]  # pid -> (role, cpu s, rss, peak rss)
    server_cpu: float
    self_cpu: float
    busy: float
    total: float
    progress: float = 0.0  # e.g. bytes of text WARC written so far (full pipeline)


@dataclass(slots=True)
class RunRecord:
    command: list[str]
    started: float
    ended: float
    exit_code: int
    samples: list[Sample]
    cpu_total: float  # exact: getrusage delta of the waited-for tree (user + system)
    cpu_user: float
    cpu_system: float
    roles: dict[int, str] = field(default_factory=dict)

    # --- derived figures ----------------------------------------------------------------------
    def tree_cpu_series(self) -> tuple[list[float], list[float]]:
        """Cumulative CPU of the tree over time (a process that ended keeps its last value)."""
        last: dict[int, float] = {}
        times, values = [], []
        for s in self.samples:
            for pid, (_, cpu, _, _) in s.procs.items():
                last[pid] = max(last.get(pid, 0.0), cpu)
            times.append(s.t)
            values.append(sum(last.values()))
        return times, values

    def role_cpu_between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds per role (crawler, worker, forkserver…) spent between two moments."""
        out: dict[str, float] = {}
        for pid in {p for s in self.samples for p in s.procs}:
            series = [(s.t, s.procs[pid][1]) for s in self.samples if pid in s.procs]
            role = self.roles.get(pid, "?")
            delta = _interp(series, end) - _interp(series, start)
            out[role] = out.get(role, 0.0) + max(0.0, delta)
        return out

    def tree_cpu_between(self, start: float, end: float) -> float:
        times, values = self.tree_cpu_series()
        return _interp(list(zip(times, values, strict=True)), end) - _interp(
            list(zip(times, values, strict=True)), start
        )

    def server_cpu_between(self, start: float, end: float) -> float:
        series = [(s.t, s.server_cpu) for s in self.samples]
        return _interp(series, end) - _interp(series, start)

    def machine_between(self, start: float, end: float) -> dict[str, float]:
        """Machine busy time and the part of it that was not ours (crawl tree, server, this harness)."""
        busy = [(s.t, s.busy) for s in self.samples]
        mine = [(s.t, s.self_cpu) for s in self.samples]
        seconds = max(1e-9, end - start)
        busy_s = _interp(busy, end) - _interp(busy, start)
        ours = (
            self.tree_cpu_between(start, end)
            + self.server_cpu_between(start, end)
            + (_interp(mine, end) - _interp(mine, start))
        )
        return {
            "machine_busy_cores": round(busy_s / seconds, 3),
            "ours_cores": round(ours / seconds, 3),
            "other_load_cores": round(max(0.0, busy_s - ours) / seconds, 3),
        }

    def peak_rss(self) -> dict[str, Any]:
        """Peak RSS per process (MB), crawler first; workers listed one by one."""
        peaks: dict[int, int] = {}
        for s in self.samples:
            for pid, (_, _, rss, hwm) in s.procs.items():
                peaks[pid] = max(peaks.get(pid, 0), rss, hwm)
        out: dict[str, Any] = {"crawler_mb": 0.0, "workers_mb": [], "others_mb": {}}
        for pid, peak in sorted(peaks.items()):
            role = self.roles.get(pid, "?")
            mb = round(peak / 2**20, 1)
            if role == "crawler":
                out["crawler_mb"] = mb
            elif role == "worker":
                out["workers_mb"].append(mb)
            else:
                out["others_mb"][f"{role}-{pid}"] = mb
        return out

    def rss_series(self) -> dict[str, list[tuple[float, float]]]:
        """RSS over time (MB) of the crawler and of each worker, for the memory plot."""
        series: dict[str, list[tuple[float, float]]] = {}
        worker_names: dict[int, str] = {}
        for s in self.samples:
            for pid, (role, _, rss, _) in s.procs.items():
                if role == "crawler":
                    name = "crawler"
                elif role == "worker":
                    name = worker_names.setdefault(pid, f"worker {len(worker_names) + 1}")
                else:
                    continue
                series.setdefault(name, []).append((s.t, rss / 2**20))
        return series

    def progress_times(self, fractions: tuple[float, ...]) -> list[float | None]:
        """When the progress counter first reached each fraction of its final value."""
        final = max((s.progress for s in self.samples), default=0.0)
        out: list[float | None] = []
        for frac in fractions:
            hit = next((s.t for s in self.samples if final > 0 and s.progress >= frac * final), None)
            out.append(hit)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "started": self.started,
            "ended": self.ended,
            "exit_code": self.exit_code,
            "cpu_total_s": round(self.cpu_total, 3),
            "cpu_user_s": round(self.cpu_user, 3),
            "cpu_system_s": round(self.cpu_system, 3),
            "samples": len(self.samples),
        }


def _interp(series: list[tuple[float, float]], t: float) -> float:
    if not series:
        return 0.0
    times = [p[0] for p in series]
    i = bisect_left(times, t)
    if i <= 0:
        return series[0][1] if t >= times[0] else 0.0
    if i >= len(series):
        return series[-1][1]
    (t0, v0), (t1, v1) = series[i - 1], series[i]
    return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else v1


def become_subreaper() -> bool:
    """Adopt orphaned descendants (PR_SET_CHILD_SUBREAPER), so their CPU is counted on reaping."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap_orphans(me: psutil.Process, keep: set[int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        orphans = [c for c in me.children() if c.pid not in keep]
        if not orphans:
            return
        for child in orphans:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except (psutil.Error, ChildProcessError):
                continue


def _role(proc: psutil.Process, root: int, forkservers: set[int]) -> str:
    if proc.pid == root:
        return "crawler"
    try:
        cmd = " ".join(proc.cmdline())
        ppid = proc.ppid()
    except psutil.Error:
        return "?"
    if ppid in forkservers:
        return "worker"
    if "multiprocessing.forkserver" in cmd:
        forkservers.add(proc.pid)
        return "forkserver"
    if "resource_tracker" in cmd:
        return "resource_tracker"
    return "child"


def run_monitored(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.25,
    server_pids: Callable[[], list[int]] = list,
    stdout: Path | None = None,
    timeout: float | None = None,
    progress: Callable[[], float] | None = None,
) -> RunRecord:
    """Run ``command`` to completion while sampling its process tree every ``interval`` s."""
    become_subreaper()
    me = psutil.Process()
    keep = {c.pid for c in me.children()}  # the static server and anything else already running
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    started = time.time()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    root = proc.pid
    samples: list[Sample] = []
    roles: dict[int, str] = {}
    forkservers: set[int] = set()
    cache: dict[int, psutil.Process] = {}
    server_cache: dict[int, psutil.Process] = {}
    stop = threading.Event()

    def sample() -> None:
        t = time.time()
        procs: dict[int, tuple[str, float, int, int]] = {}
        try:
            tree = [psutil.Process(root)]
            tree += tree[0].children(recursive=True)
        except psutil.Error:
            tree = []
        for p in tree:
            p = cache.setdefault(p.pid, p)
            try:
                with p.oneshot():
                    times = p.cpu_times()
                    rss = p.memory_info().rss
                if p.pid not in roles:
                    roles[p.pid] = _role(p, root, forkservers)
                procs[p.pid] = (roles[p.pid], times.user + times.system, rss, _hwm_bytes(p.pid))
            except psutil.Error:
                continue
        server_cpu = 0.0
        for pid in server_pids():
            sp = server_cache.setdefault(pid, psutil.Process(pid)) if psutil.pid_exists(pid) else None
            if sp is None:
                continue
            try:
                st = sp.cpu_times()
                server_cpu += st.user + st.system
            except psutil.Error:
                continue
        mine = me.cpu_times()
        busy, total = proc_stat()
        done = progress() if progress else 0.0
        samples.append(Sample(t, procs, server_cpu, mine.user + mine.system, busy, total, done))

    def loop() -> None:
        while not stop.wait(interval):
            sample()

    sample()
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    ended = time.time()
    stop.set()
    thread.join()
    sample()
    _reap_orphans(me, keep)
    if stdout:
        out.close()  # type: ignore[union-attr]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = after.ru_utime - before.ru_utime
    system = after.ru_stime - before.ru_stime
    return RunRecord(command, started, ended, code, samples, user + system, user, system, roles)
