"""Shared fixtures: offscreen Qt, a private data directory, made-up images, leak checks."""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STARTER = Path(__file__).resolve().parents[2] / "shared" / "data" / "cats-vs-raccoons"


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own empty ML Lab data directory."""
    data = tmp_path_factory.mktemp("labdata")
    monkeypatch.setenv("LAB_DATA_DIR", str(data))
    return data


@pytest.fixture
def starter_photos() -> Path:
    if not (STARTER / "cat").is_dir() or not (STARTER / "raccoon").is_dir():
        pytest.skip("the shared starter photos (../shared/data/cats-vs-raccoons) are absent")
    return STARTER


def make_image(
    path: Path, kind: int, size: int = 48, seed: int = 0, fmt: str | None = None
) -> Path:
    """A picture a tiny model can learn: class 0 is a bright disc, class 1 a dark stripe pattern."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    base = rng.integers(40, 90, size=(size, size, 3)).astype(np.float64)
    if kind == 0:
        cx, cy = rng.integers(size // 3, 2 * size // 3, size=2)
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 < (size // 4) ** 2
        base[disc] = [230, 200, 60]
    else:
        stripes = ((xx + rng.integers(0, 8)) // 4) % 2 == 0
        base[stripes] = [40, 90, 200]
    base += rng.normal(0, 8, size=base.shape)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt)
    return path


def make_dataset(root: Path, per_class: int = 12, size: int = 48, names=("cat", "raccoon")) -> Path:
    for label, name in enumerate(names):
        for i in range(per_class):
            make_image(root / name / f"{name}_{i:03d}.png", label, size, seed=1000 * label + i)
    return root


@pytest.fixture
def tiny_dataset(tmp_path) -> Path:
    return make_dataset(tmp_path / "tiny")


# -- leak checks: no thread or timer may outlive a test ------------------------------------
_live_qthreads: weakref.WeakSet = weakref.WeakSet()
_live_qtimers: weakref.WeakSet = weakref.WeakSet()


def _track_qt_objects() -> None:
    try:
        from PySide6.QtCore import QThread, QTimer
    except ImportError:
        return
    if getattr(QThread, "_lab_tracked", False):
        return
    original_thread_start = QThread.start
    original_timer_start = QTimer.start

    def thread_start(self, *args, **kwargs):
        _live_qthreads.add(self)
        return original_thread_start(self, *args, **kwargs)

    def timer_start(self, *args, **kwargs):
        _live_qtimers.add(self)
        return original_timer_start(self, *args, **kwargs)

    QThread.start = thread_start
    QTimer.start = timer_start
    QThread._lab_tracked = True


_track_qt_objects()


def _running_qthreads() -> list:
    out = []
    for t in list(_live_qthreads):
        try:
            if t.isRunning():
                out.append(t)
        except RuntimeError:  # the C++ object is already gone
            pass
    return out


def _active_qtimers() -> list:
    out = []
    for t in list(_live_qtimers):
        try:
            if t.isActive():
                out.append(t)
        except RuntimeError:
            pass
    return out


@pytest.fixture(autouse=True)
def no_dangling_threads_or_timers(request):
    """Fail a test that leaves a thread or a timer running (they crash later tests)."""
    before = {t.ident for t in threading.enumerate()}
    yield
    if "qtbot" in request.fixturenames or "qapp" in request.fixturenames:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is not None:
            # Let finished threads deliver their last signals and timers fire.
            deadline = 50
            while (_running_qthreads() or _active_qtimers()) and deadline:
                app.processEvents()  # tests only: drain the queue before checking
                threading.Event().wait(0.02)
                deadline -= 1
    running = _running_qthreads()
    timers = _active_qtimers()
    extra = [
        t
        for t in threading.enumerate()
        if t.ident not in before
        and t.is_alive()
        and not t.daemon
        and t is not threading.current_thread()
    ]
    problems = []
    if running:
        problems.append(f"{len(running)} QThread(s) still running")
    if timers:
        problems.append(f"{len(timers)} QTimer(s) still active")
    if extra:
        problems.append(f"threads still alive: {[t.name for t in extra]}")
    if problems:
        pytest.fail("Left running after the test: " + "; ".join(problems))
