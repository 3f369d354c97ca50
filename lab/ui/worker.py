"""The one way ML Lab runs long work: a core generator on a background thread.

TaskRunner.start(factory) calls factory(stop_flag) on a worker thread and iterates the
generator it returns. Each yielded event (None is a silent checkpoint) arrives on the GUI
thread as `progress`; the generator's return value arrives as `result`; an exception as
`error` (a message for the user); `finished` always comes last. Stop sets the flag the
generator checks; a generator that keeps going after 1 s is closed at its next yield.
Starting a new task cancels the old one, whose late signals are dropped; a cancelled task,
or one still running when the window closes, is closed at its next yield after 0.2 s.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Generator

from PySide6.QtCore import QObject, QThread, Signal, Slot

from lab.core.tasks import StopFlag

log = logging.getLogger(__name__)
STOP_GRACE_S = 1.0
# A cancelled task (a new one replaced it, or the window is closing) says nothing more anyone
# listens to: it gets only a moment to tidy up before it is closed at its next yield.
ABANDON_GRACE_S = 0.2
BATCH_S = 0.02  # at most ~50 deliveries a second
# From closing the window, how long tasks get to wind down before the app leaves without them
# (well-behaved tasks stop within STOP_GRACE_S; the app must be gone within 2 s).
EXIT_BUDGET_S = 1.3

TaskFactory = Callable[[StopFlag], Generator]


def user_message(exc: BaseException) -> str:
    """A plain sentence for the user; our own errors already are one."""
    from lab.core.classifier import ModelFileError
    from lab.core.dataset import DatasetError
    from lab.core.files import SaveError
    from lab.core.images import ImageError
    from lab.core.settings import SettingsError
    from lab.core.workspace import WorkspaceError

    ours = (SettingsError, DatasetError, ImageError, ModelFileError, WorkspaceError, SaveError)
    if isinstance(exc, ours):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "The computer ran out of memory. Try fewer or smaller images."
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return f"A file could not be read or written{where}: {exc.strerror or exc}."
    return f"Something went wrong: {type(exc).__name__}: {exc}"


# Every task thread still running, so that none is destroyed while it runs (Qt aborts the
# process then), even after the tab that started it is gone. See wait_for_all_tasks().
_LIVE: set[_TaskThread] = set()
_LIVE_LOCK = threading.Lock()


def stop_all_tasks(budget_s: float = EXIT_BUDGET_S) -> None:
    """Ask every running task to stop at once (the window is closing), so they wind down
    together; the shutdown() calls that follow wait for them only until budget_s from now."""
    deadline = time.monotonic() + budget_s
    with _LIVE_LOCK:
        threads = list(_LIVE)
    for t in threads:
        t.request_stop(ABANDON_GRACE_S)
        t.deadline = min(t.deadline, deadline)


def wait_for_all_tasks(timeout_s: float) -> bool:
    """Ask every running task to stop and wait for them (at most timeout_s, and no longer than
    a closing window allowed); True when none is left running."""
    with _LIVE_LOCK:
        threads = list(_LIVE)
    for t in threads:
        t.request_stop(ABANDON_GRACE_S)
    deadline = min([time.monotonic() + timeout_s, *(t.deadline for t in threads)])
    for t in threads:
        if not t.unstoppable:  # an import cannot stop early: no point waiting for it
            t.wait(max(0, int((deadline - time.monotonic()) * 1000)))
    return not any(t.isRunning() for t in threads)


class _TaskThread(QThread):
    # Each signal carries the thread itself, so the runner can drop what an old task says.
    events = Signal(object, object)  # (thread, list of events): object keeps it a plain PyObject
    done = Signal(object, object)
    failed = Signal(object, str)
    ended = Signal(object)

    def __init__(self, factory: TaskFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.factory = factory
        self.stop_flag = StopFlag()
        self._resume = threading.Event()
        self._resume.set()
        self._stop_time: float | None = None
        self.unstoppable = False  # one long step (an import) that no stop flag can cut short
        self._grace = STOP_GRACE_S
        self.deadline = float("inf")  # set when the window closes: wait no longer than this

    def request_stop(self, grace_s: float = STOP_GRACE_S) -> None:
        if self._stop_time is None:
            self._stop_time = time.monotonic()
        self._grace = min(self._grace, grace_s)
        self.stop_flag.request()
        self._resume.set()

    def set_paused(self, paused: bool) -> None:
        if paused:
            self._resume.clear()
        else:
            self._resume.set()

    def run(self) -> None:
        gen = None
        batch: list = []
        last_emit = time.monotonic()

        def flush() -> None:
            nonlocal batch, last_emit
            if batch:
                self.events.emit(self, batch)
                batch = []
            last_emit = time.monotonic()

        try:
            gen = self.factory(self.stop_flag)
            while True:
                if not self._resume.is_set():
                    flush()  # show everything up to the pause
                    while not self._resume.wait(0.05):
                        pass
                if self._stop_time is not None and time.monotonic() - self._stop_time > self._grace:
                    flush()
                    gen.close()
                    return
                try:
                    ev = next(gen)
                except StopIteration as finished:
                    flush()
                    self.done.emit(self, finished.value)
                    return
                if ev is not None:
                    batch.append(ev)
                # Events travel in small batches: a burst of thousands of steps costs the GUI
                # thread a few signals, not thousands.
                if batch and time.monotonic() - last_emit >= BATCH_S:
                    flush()
        except Exception as exc:  # reported to the user, never raised into Qt
            log.error("Task failed:\n%s", traceback.format_exc())
            flush()
            self.failed.emit(self, user_message(exc))
        finally:
            if gen is not None:
                gen.close()
            self.ended.emit(self)


class TaskRunner(QObject):
    """Runs one task at a time for one owner (a tab or a panel)."""

    started = Signal()
    progress = Signal(object)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()
    paused_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: _TaskThread | None = None
        self._old: list[_TaskThread] = []  # cancelled threads kept alive until they end
        # True for tasks that cannot stop early (imports): leaving the app does not wait.
        self.unstoppable = False
        self._paused = False

    @property
    def running(self) -> bool:
        """True from start() until the task's end has been handled on the GUI thread."""
        return self._thread is not None

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self, factory: TaskFactory) -> None:
        self.cancel()
        thread = _TaskThread(factory)
        # Bound methods of this QObject: Qt queues them onto the GUI thread.
        thread.events.connect(self._on_events)
        thread.done.connect(self._on_done)
        thread.failed.connect(self._on_failed)
        thread.ended.connect(self._on_thread_ended)
        thread.unstoppable = self.unstoppable
        self._thread = thread
        self._set_paused(False)
        with _LIVE_LOCK:
            _LIVE.add(thread)
        thread.start()
        self.started.emit()

    @Slot(object, object)
    def _on_events(self, thread: _TaskThread, events: list) -> None:
        for ev in events:
            if thread is not self._thread:  # drop what a cancelled task still says
                return
            self.progress.emit(ev)

    @Slot(object, object)
    def _on_done(self, thread: _TaskThread, value: object) -> None:
        if thread is self._thread:
            self.result.emit(value)

    @Slot(object, str)
    def _on_failed(self, thread: _TaskThread, message: str) -> None:
        if thread is self._thread:
            self.error.emit(message)

    @Slot(object)
    def _on_thread_ended(self, thread: _TaskThread) -> None:
        thread.wait()  # run() has returned; this only lets the thread object wind down
        with _LIVE_LOCK:
            _LIVE.discard(thread)
        if thread is not self._thread and thread not in self._old:
            return  # already wound up by shutdown()
        if thread in self._old:
            self._old.remove(thread)
        thread.deleteLater()
        if thread is self._thread:
            self._thread = None
            self._set_paused(False)
            self.finished.emit()

    def stop(self) -> None:
        """Ask the task to wrap up; it still reports its result (trained so far)."""
        if self._thread is not None:
            self._thread.request_stop()
            self._set_paused(False)

    def cancel(self) -> None:
        """Stop the task and ignore anything it says from now on."""
        thread = self._thread
        if thread is None:
            return
        thread.request_stop(ABANDON_GRACE_S)
        self._thread = None
        self._set_paused(False)
        if thread.isRunning():
            self._old.append(thread)
        self.finished.emit()

    def pause(self) -> None:
        if self._thread is not None:
            self._thread.set_paused(True)
            self._set_paused(True)

    def resume(self) -> None:
        if self._thread is not None:
            self._thread.set_paused(False)
            self._set_paused(False)

    def _set_paused(self, paused: bool) -> None:
        if paused != self._paused:
            self._paused = paused
            self.paused_changed.emit(paused)

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Stop everything and wait for the threads to end (window closing). True if they did."""
        threads = [t for t in [self._thread, *self._old] if t is not None]
        for t in threads:
            t.request_stop(ABANDON_GRACE_S)
        deadline = min([time.monotonic() + timeout_s, *(t.deadline for t in threads)])
        ok = True
        for t in threads:
            remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
            ok = t.wait(remaining_ms) and ok
        self._old = [t for t in self._old if not t.isFinished()]
        if self._thread is not None and self._thread.isFinished():
            self._thread = None
            self._set_paused(False)
            self.finished.emit()
        return ok
