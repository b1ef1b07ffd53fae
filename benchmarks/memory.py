"""Peak resident memory and CPU seconds of a process tree (Python, the Spark JVM, workers)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter

import psutil


class TreePeakMemory:
    """Samples the summed RSS of a process and all its descendants (Python, JVM, workers), and
    their CPU seconds: on a shared machine CPU time is the figure that load does not inflate."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self.peak_parts: dict[str, float] = {}  # GiB by kind of process, at the tree's peak
        self._cpu: dict[int, float] = {}  # pid -> last seen user + system seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.pid)
            while not self._stop.is_set():
                total, parts = 0, Counter()
                for process in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):  # a child may exit between list/read
                        rss = process.memory_info().rss
                        total += rss
                        parts[process_kind(process, root)] += rss
                        times = process.cpu_times()
                        self._cpu[process.pid] = times.user + times.system
                if total > self.peak:
                    self.peak = total
                    self.peak_parts = {k: round(v / 2**30, 2) for k, v in parts.items()}
                time.sleep(self.interval)

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds of every process seen in the tree (up to its last sample)."""
        return sum(self._cpu.values())

    def __enter__(self) -> TreePeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def process_kind(process: psutil.Process, root: psutil.Process) -> str:
    """``driver`` (the run's Python), ``jvm`` (Spark), or ``python workers``."""
    if process.pid == root.pid:
        return "driver"
    return "jvm" if "java" in process.name().lower() else "python workers"


class PeakMemory(TreePeakMemory):
    """The tree of this process: the benchmark itself and the Spark JVM it started."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(psutil.Process().pid, interval)
