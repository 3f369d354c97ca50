"""The one worker: events arrive in order on the GUI thread, stop and cancel work, Qt is sane."""

from __future__ import annotations

import sys
import threading
import time

from PySide6.QtCore import QObject, Signal

from lab.ui.worker import TaskRunner


def test_signal_emit_does_not_leak_references_to_true(qapp):
    """PySide6 6.12.0 drops a reference to True per emit() and aborts the app after ~10k."""

    class Source(QObject):
        ping = Signal(str)

    src = Source()
    src.ping.connect(lambda _: None)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(2000):
        src.ping.emit("x")
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert abs(after[0] - before[0]) < 50 and abs(after[1] - before[1]) < 50


def test_events_arrive_in_order_on_the_gui_thread_then_the_result(qtbot):
    runner = TaskRunner()
    seen, threads = [], set()

    def task(stop):
        for i in range(5000):  # a burst: delivered in batches, nothing lost
            yield {"i": i}
        return "done"

    runner.progress.connect(lambda ev: (seen.append(ev["i"]), threads.add(threading.get_ident())))
    with qtbot.waitSignal(runner.finished, timeout=10000):
        with qtbot.waitSignal(runner.result, timeout=10000) as result:
            runner.start(task)
    assert seen == list(range(5000))
    assert threads == {threading.get_ident()}
    assert result.args == ["done"]
    assert not runner.running


def test_errors_become_a_plain_message(qtbot):
    runner = TaskRunner()

    def task(stop):
        yield {"kind": "x"}
        raise OSError(28, "No space left on device", "/data/model.mlmodel")

    with qtbot.waitSignal(runner.finished, timeout=5000):
        with qtbot.waitSignal(runner.error, timeout=5000) as err:
            runner.start(task)
    assert "No space left on device" in err.args[0] and "/data/model.mlmodel" in err.args[0]


def test_stop_ends_a_task_that_ignores_the_flag_within_a_second(qtbot):
    runner = TaskRunner()

    def stubborn(stop):
        while True:
            time.sleep(0.01)
            yield None

    runner.start(stubborn)
    qtbot.wait(100)
    t0 = time.monotonic()
    with qtbot.waitSignal(runner.finished, timeout=3000):
        runner.stop()
    assert time.monotonic() - t0 < 1.5


def test_a_new_task_cancels_the_old_one_and_its_late_events_are_dropped(qtbot):
    runner = TaskRunner()
    seen = []
    runner.progress.connect(lambda ev: seen.append(ev))

    def slow(stop):
        for i in range(1000):
            if stop.requested:
                return "old"
            time.sleep(0.01)
            yield ("old", i)

    def quick(stop):
        yield ("new", 0)
        return "new"

    runner.start(slow)
    qtbot.waitUntil(lambda: len(seen) > 2, timeout=5000)
    results = []
    runner.result.connect(results.append)
    with qtbot.waitSignal(runner.result, timeout=5000):
        runner.start(quick)
    qtbot.waitUntil(lambda: not runner.running, timeout=5000)
    assert results == ["new"]
    after = seen[seen.index(("new", 0)) :]
    assert all(tag == "new" for tag, _ in after)
    assert runner.shutdown()


def test_a_full_disk_reaches_the_user_as_one_plain_sentence(tmp_path):
    import errno

    from lab.core.files import SaveError
    from lab.ui.worker import user_message

    error = SaveError(tmp_path / "model.mlmodel", OSError(errno.ENOSPC, "No space left on device"))
    message = user_message(error)
    assert message == str(error)
    assert "disk is full" in message and "model.mlmodel" in message
