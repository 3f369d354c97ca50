"""The Camera button and live frames, without a camera.

Frames go in where a real camera's would: a QVideoSink of our own gets QVideoFrames made from
generated pictures of the two classes, and the Classify page classifies them live.
"""

from __future__ import annotations

import builtins
import importlib.metadata
import sys
import threading

import numpy as np
import pytest
import torch
from conftest import make_image
from PIL import Image
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from test_inference import tiny_classifier

import lab.ui.classifier.classify_panel as classify_panel
from lab.core.features import FeatureCache
from lab.core.inference import classify_picture
from lab.core.training import run_to_end
from lab.core.workspace import Workspace
from lab.ui.classifier import ClassifierTab
from lab.ui.classifier.camera import INSTALL_CAMERA, camera_unavailable_reason, small_format
from lab.ui.widgets.picture_view import array_to_qimage, qimage_to_array

FRAME = 96  # pixels across a made-up camera frame


def _test_extra_brings_multimedia() -> bool:
    try:
        requires = importlib.metadata.requires("ml-lab") or []
    except importlib.metadata.PackageNotFoundError:
        return False
    return any(
        'extra == "test"' in r and ("ml-lab[camera]" in r or r.lower().startswith("pyside6-addons"))
        for r in requires
    )


@pytest.fixture
def multimedia():
    """Qt Multimedia, or a skip when this installation was not meant to have it."""
    try:
        import PySide6.QtMultimedia as qtm
    except ImportError as exc:
        if _test_extra_brings_multimedia():
            pytest.fail(f"The test extra installs PySide6-Addons, yet Qt Multimedia fails: {exc}")
        pytest.skip(f"Qt Multimedia is not installed ({exc})")
    return qtm


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny CNN trained for a moment on made-up discs ('cat') and stripes ('raccoon')."""
    folder = tmp_path_factory.mktemp("frames")
    clf = tiny_classifier(size=32)
    pictures = [
        Image.open(make_image(folder / f"{kind}_{seed}.png", kind, size=FRAME, seed=seed))
        for kind in (0, 1)
        for seed in range(8)
    ]
    x = torch.stack([clf.preprocess(p.convert("RGB")) for p in pictures])
    y = torch.tensor([0] * 8 + [1] * 8)
    from lab.core.models import normalize

    # Plain gradient steps (torch.optim's first import costs seconds), in eval mode so that
    # batch norm behaves as it will when classifying.
    # One thread: on a busy 2-core machine that is several times quicker for this tiny net.
    clf.net.eval()
    params = list(clf.net.parameters())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(15):
            loss = torch.nn.functional.cross_entropy(clf.net(normalize(x)), y)
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= 0.2 * p.grad
                    p.grad = None
    finally:
        torch.set_num_threads(threads)
    return clf


@pytest.fixture
def tab(qtbot, tmp_path):
    t = ClassifierTab(Workspace(tmp_path / "ws"), FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(t)
    t.resize(1200, 800)
    t.show()
    t.pages.setCurrentWidget(t.classify)
    yield t
    t.shutdown()


def _frame_image(tmp_path, kind: int, seed: int) -> QImage:
    path = make_image(tmp_path / f"frame_{kind}_{seed}.png", kind, size=FRAME, seed=seed)
    return array_to_qimage(np.asarray(Image.open(path).convert("RGB")))


class FakeCamera:
    """What a camera does from the sink on: setVideoFrame() on a QVideoSink."""

    def __init__(self, qtm) -> None:
        from lab.ui.classifier.camera import CameraFeed

        self.qtm = qtm
        self.sink = qtm.QVideoSink()
        self.feed = CameraFeed(self.sink)

    def send(self, image: QImage) -> None:
        self.sink.setVideoFrame(self.qtm.QVideoFrame(image))


def _settle(qtbot, panel, classified: int) -> None:
    qtbot.waitUntil(lambda: panel.camera_frames_classified >= classified, timeout=10000)
    if panel.camera_runner.running:
        with qtbot.waitSignal(panel.camera_runner.finished, timeout=10000):
            pass


def _expected(clf, image: QImage) -> np.ndarray:
    """The answer for this frame worked out separately, straight from the core."""
    picture = qimage_to_array(image, max(classify_panel.CAMERA_MAX_SIDE, 2 * clf.image_size))
    return run_to_end(classify_picture(clf, Image.fromarray(picture))).probabilities


def test_live_frames_are_shown_with_their_answer(tab, qtbot, tmp_path, multimedia, trained):
    panel = tab.classify
    tab.use_model(trained, "made for the test")
    panel.threshold.setValue(60)
    camera = FakeCamera(multimedia)
    assert panel.start_camera(camera.feed)
    assert panel.camera_on and panel.camera_button.isChecked()
    assert panel.camera_button.text() == "Stop camera"
    assert panel.picture._caption == "Waiting for the camera…"

    cat = _frame_image(tmp_path, 0, seed=101)
    camera.send(cat)
    _settle(qtbot, panel, 1)
    assert panel.answer.text() == "cat"
    shown = dict(panel.bars.values())
    assert shown == pytest.approx(dict(zip(trained.classes, _expected(trained, cat))), abs=1e-5)
    assert shown["cat"] > 0.6
    assert (panel.picture.image.width(), panel.picture.image.height()) == (FRAME, FRAME)
    assert "ms per frame" in panel.timing.text()

    raccoon = _frame_image(tmp_path, 1, seed=102)
    camera.send(raccoon)
    _settle(qtbot, panel, 2)
    assert panel.answer.text() == "raccoon"
    shown = dict(panel.bars.values())
    assert shown == pytest.approx(dict(zip(trained.classes, _expected(trained, raccoon))), abs=1e-5)
    assert np.array_equal(qimage_to_array(panel.picture.image), qimage_to_array(raccoon))

    panel.camera_button.click()  # Stop camera
    assert not panel.camera_on and panel.camera_button.text() == "Camera"
    assert "stopped" in panel.timing.text()
    camera.send(cat)  # a frame after stopping goes nowhere
    qtbot.wait(100)
    assert panel.camera_frames_classified == 2 and panel.answer.text() == "raccoon"


def test_frames_arriving_while_busy_are_dropped_not_queued(
    tab, qtbot, tmp_path, multimedia, trained, monkeypatch
):
    panel = tab.classify
    tab.use_model(trained, "made for the test")
    panel.threshold.setValue(60)
    gate = threading.Event()
    calls: list[int] = []
    real = classify_panel.classify_picture

    def slow_classify(clf, img, *args, **kwargs):
        calls.append(img.width)
        gate.wait(10)  # the model is "busy" until the test opens the gate
        return (yield from real(clf, img, *args, **kwargs))

    monkeypatch.setattr(classify_panel, "classify_picture", slow_classify)
    camera = FakeCamera(multimedia)
    panel.start_camera(camera.feed)
    camera.send(_frame_image(tmp_path, 0, seed=201))
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=5000)
    assert panel.camera_runner.running

    for seed in range(5):  # the camera goes on sending while the first frame is classified
        camera.send(_frame_image(tmp_path, 1, seed=300 + seed))
        qtbot.wait(20)
    qtbot.waitUntil(lambda: panel.camera_frames_dropped >= 1, timeout=5000)
    assert camera.feed.frames_seen == 6
    assert camera.feed.take_frame() is None, "no frame is left waiting: they were dropped"

    gate.set()
    _settle(qtbot, panel, 1)
    qtbot.wait(200)  # nothing queued may start now
    assert len(calls) == 1 and not panel.camera_runner.running
    assert panel.camera_frames_classified == 1
    assert panel.answer.text() == "cat", "the answer is for the frame that was classified"

    camera.send(_frame_image(tmp_path, 1, seed=400))  # once idle, the next frame is taken
    _settle(qtbot, panel, 2)
    assert len(calls) == 2 and panel.answer.text() == "raccoon"


def test_camera_stops_when_the_page_is_hidden_or_the_tab_shuts_down(
    tab, qtbot, tmp_path, multimedia, trained
):
    panel = tab.classify
    tab.use_model(trained, "made for the test")
    camera = FakeCamera(multimedia)
    panel.start_camera(camera.feed)
    tab.pages.setCurrentWidget(tab.batch)
    assert not panel.camera_on and not panel.camera_button.isChecked()

    tab.pages.setCurrentWidget(panel)
    camera = FakeCamera(multimedia)
    panel.start_camera(camera.feed)
    camera.send(_frame_image(tmp_path, 0, seed=5))
    qtbot.waitUntil(lambda: panel.camera_runner.running or panel.camera_frames_classified)
    panel.shutdown()
    assert not panel.camera_on and not panel.camera_runner.running


def test_choosing_a_dropped_picture_stops_the_camera(tab, qtbot, tmp_path, multimedia, trained):
    panel = tab.classify
    tab.use_model(trained, "made for the test")
    panel.add_paths([make_image(tmp_path / "still.png", 1, size=FRAME, seed=9)])
    camera = FakeCamera(multimedia)
    panel.start_camera(camera.feed)
    assert panel.current.id == classify_panel.CAMERA_ID
    panel.recent.setCurrentRow(0)
    assert not panel.camera_on and panel.current.path.name == "still.png"
    if panel.drop_runner.running:
        with qtbot.waitSignal(panel.drop_runner.finished, timeout=10000):
            pass
    qtbot.waitUntil(lambda: not panel._live_timer.isActive(), timeout=5000)
    if panel.live_runner.running:
        with qtbot.waitSignal(panel.live_runner.finished, timeout=10000):
            pass


def test_without_a_camera_the_button_says_why(tab, multimedia, trained):
    if multimedia.QMediaDevices.videoInputs():
        pytest.skip("this computer has a camera")
    panel = tab.classify
    tab.use_model(trained, "made for the test")
    assert not panel.camera_button.isEnabled()
    assert panel.camera_button.toolTip().startswith("No camera found")
    assert not panel.start_camera()
    assert not panel.camera_on and not panel.camera_button.isChecked()
    assert "No camera found" in panel.notice.label.text()


def test_without_a_model_the_camera_waits_for_one(tab, multimedia, monkeypatch):
    monkeypatch.setattr(classify_panel, "camera_unavailable_reason", lambda: "")
    panel = tab.classify
    panel.refresh_camera_button()
    assert not panel.camera_button.isEnabled()
    assert "Train a model" in panel.camera_button.toolTip()


def test_without_qt_multimedia_the_button_says_how_to_get_it(tab, monkeypatch):
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # as if not installed
    tab.use_model(tiny_classifier(), "made for the test")
    panel = tab.classify
    panel.refresh_camera_button()
    assert not panel.camera_button.isEnabled()
    assert INSTALL_CAMERA in panel.camera_button.toolTip()
    assert INSTALL_CAMERA == 'pip install "ml-lab[camera]"'


def test_a_broken_qt_multimedia_is_explained(monkeypatch):
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "PySide6.QtMultimedia" or (name == "PySide6" and "QtMultimedia" in str(args)):
            raise ImportError("libpulse.so.0: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "PySide6.QtMultimedia", raising=False)
    monkeypatch.setattr(builtins, "__import__", failing_import)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object())
    why = camera_unavailable_reason()
    assert "could not start" in why and "libpulse.so.0" in why and "libpulse0" in why


class _Format:
    """Stands in for QCameraFormat, which Python cannot build with given values."""

    def __init__(self, w: int, h: int, fps: float) -> None:
        self.size, self.fps = QSize(w, h), fps

    def resolution(self) -> QSize:
        return self.size

    def maxFrameRate(self) -> float:  # noqa: N802 (Qt's name)
        return self.fps


def test_the_camera_is_asked_for_small_frames():
    formats = [_Format(1920, 1080, 30), _Format(640, 480, 5), _Format(640, 480, 30)]
    formats += [_Format(320, 240, 30), _Format(1280, 720, 30)]
    chosen = small_format(formats)
    assert (chosen.size, chosen.fps) == (QSize(640, 480), 30)
    only_small = small_format([_Format(320, 240, 30), _Format(160, 120, 30)])
    assert only_small.size == QSize(320, 240), "the biggest there is when all are small"
    assert small_format([]) is None
