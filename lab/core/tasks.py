"""What every long task shares: a stop flag it checks between steps, and a rate meter."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections import deque


class StopFlag:
    """Set by whoever runs a task; the task checks it between steps and wraps up early."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def request(self) -> None:
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()


class RateMeter:
    """Items per second over the last few seconds, and the time left for the rest."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._marks: deque[tuple[float, int]] = deque()
        self._count = 0

    def add(self, n: int) -> None:
        now = time.perf_counter()
        if not self._marks:
            self._marks.append((now, 0))
        self._count += n
        self._marks.append((now, self._count))
        while len(self._marks) > 2 and now - self._marks[1][0] > self.window_s:
            self._marks.popleft()

    @property
    def per_second(self) -> float:
        if len(self._marks) < 2:
            return 0.0
        (t0, c0), (t1, c1) = self._marks[0], self._marks[-1]
        return (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0

    def seconds_left(self, remaining: int) -> float | None:
        rate = self.per_second
        return remaining / rate if rate > 0 else None


@contextlib.contextmanager
def one_thread():
    """Run tiny networks on one CPU thread: for them, handing each small operation to a
    second thread costs far more than it saves (7x slower on a busy 2-core machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def on_one_thread(generator_function):
    """Decorate a task generator so that it runs under one_thread() while it is alive."""

    @functools.wraps(generator_function)
    def task(*args, **kwargs):
        with one_thread():
            return (yield from generator_function(*args, **kwargs))

    return task
