"""Each process's resident memory and open file descriptors over time, and whether they keep growing.

A process is sampled with its descendants (the SIP edge is a Python wrapper whose kamailio forks
workers), summed: a leak in any of them shows in the sum.

The bound, and why it is this one: the first half of a run is warm-up (pools fill, caches and
allocator arenas reach their working size), so only the second half is judged. A least-squares line
through its samples gives the growth across that half; a line, rather than last minus first, so that
one busy moment (a burst of calls in progress, each holding sockets and a recording file) neither hides
nor fakes a trend. A process fails when that growth is more than `RSS_BOUND_MB` (or 5% of its RSS at the
half, when that is more) or `FD_BOUND` descriptors. At 20 calls/s for 15 minutes of judged time, 8 MB
is about 450 bytes per call: a leak of one small dict per call shows, while Python's and glibc's
allocator settling by a few MB does not.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

RSS_BOUND_MB = 8.0
RSS_BOUND_SHARE = 0.05
FD_BOUND = 10


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, read from /proc/PID/task/*/children."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    queue += [int(child) for child in handle.read().split()]
            except OSError:
                continue
    return found


def rss_kb(pid: int) -> int:
    """VmRSS of one process in kB (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def measure(pid: int) -> tuple[float, int]:
    """(RSS in MB, open descriptors) of `pid` and its descendants."""
    tree = descendants(pid)
    return sum(rss_kb(p) for p in tree) / 1024, sum(open_fds(p) for p in tree)


@dataclass
class Series:
    times: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)


class Sampler:
    """Samples every named process every `interval` seconds in a thread, until `stop()`."""

    def __init__(self, pids: dict[str, int], *, interval: float = 5.0):
        self.pids = pids
        self.interval = interval
        self.series = {name: Series() for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0

    def start(self) -> Sampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def sample(self) -> None:
        now = time.monotonic() - self._started
        for name, pid in self.pids.items():
            rss, fds = measure(pid)
            series = self.series[name]
            series.times.append(now)
            series.rss_mb.append(rss)
            series.fds.append(fds)

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        """Stop sampling; called once the load has ended, so no sample of the idle stack skews the line."""
        self._stop.set()
        self._thread.join()


def fitted_growth(times: list[float], values: list[float]) -> float:
    """Growth across the span of `times` of the least-squares line through the points."""
    n = len(times)
    if n < 2 or times[-1] == times[0]:
        return 0.0
    mean_t, mean_v = sum(times) / n, sum(values) / n
    spread = sum((t - mean_t) ** 2 for t in times)
    slope = sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values, strict=True)) / spread
    return slope * (times[-1] - times[0])


@dataclass
class Verdict:
    name: str
    rss_at_half: float
    rss_growth: float
    rss_bound: float
    fd_at_half: int
    fd_growth: float

    @property
    def failures(self) -> list[str]:
        found = []
        if self.rss_growth > self.rss_bound:
            found.append(f"{self.name}: RSS grew {self.rss_growth:.1f} MB (bound {self.rss_bound:.1f} MB)")
        if self.fd_growth > FD_BOUND:
            found.append(f"{self.name}: open files grew {self.fd_growth:.1f} (bound {FD_BOUND})")
        return found


def judge(series: dict[str, Series]) -> list[Verdict]:
    """A verdict per process on the second half of its samples."""
    verdicts = []
    for name, s in series.items():
        half = len(s.times) // 2
        times = s.times[half:]
        rss_at_half = s.rss_mb[half] if s.rss_mb else 0.0
        verdicts.append(
            Verdict(
                name=name,
                rss_at_half=rss_at_half,
                rss_growth=fitted_growth(times, s.rss_mb[half:]),
                rss_bound=max(RSS_BOUND_MB, RSS_BOUND_SHARE * rss_at_half),
                fd_at_half=s.fds[half] if s.fds else 0,
                fd_growth=fitted_growth(times, s.fds[half:]),
            )
        )
    return verdicts


def table(series: dict[str, Series], *, rows: int = 12) -> str:
    """RSS MB / open fds per process, at up to `rows` moments spread over the run."""
    names = list(series)
    count = min(len(s.times) for s in series.values())
    picks = sorted({round(i * (count - 1) / max(1, rows - 1)) for i in range(rows)}) if count else []
    width = max(14, *(len(n) + 2 for n in names))
    lines = ["time s".rjust(7) + "".join(n.rjust(width) for n in names)]
    for i in picks:
        t = series[names[0]].times[i]
        cells = "".join(f"{series[n].rss_mb[i]:.1f}MB/{series[n].fds[i]}fd".rjust(width) for n in names)
        lines.append(f"{t:7.0f}{cells}")
    return "\n".join(lines)


def verdict_table(verdicts: list[Verdict]) -> str:
    lines = [
        f"{'process':<12}{'RSS at half':>12}{'RSS growth':>12}{'bound':>8}{'fds at half':>12}{'fd growth':>10}"
    ]
    for v in verdicts:
        lines.append(
            f"{v.name:<12}{v.rss_at_half:>10.1f}MB{v.rss_growth:>10.1f}MB{v.rss_bound:>6.1f}MB"
            f"{v.fd_at_half:>12}{v.fd_growth:>10.1f}"
        )
    lines.append(f"(growth: least-squares line over the second half; fd bound {FD_BOUND})")
    return "\n".join(lines)
