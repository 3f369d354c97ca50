"""Live camera frames through Qt Multimedia, when this PySide6 has it and a camera exists.

Qt Multimedia is in PySide6-Addons, not in PySide6-Essentials, so the camera is an optional
extra; camera_unavailable_reason() says in plain words why the camera cannot be used.

CameraFeed keeps only the newest frame and sends at most one "a frame is ready" notice at a
time, so a busy GUI never builds up a queue of frames: whoever classifies takes the newest
frame when it asks, and frames that arrive in between are dropped.
"""

from __future__ import annotations

import importlib.util
import threading

from PySide6.QtCore import QLoggingCategory, QObject, Qt, Signal
from PySide6.QtGui import QImage

INSTALL_CAMERA = 'pip install "ml-lab[camera]"'
# Qt Multimedia lists every optional library it did not find (PipeWire, VA-API) on the
# terminal; they are only speed-ups, so keep a student's terminal quiet about them.
_QUIET_RULES = "qt.multimedia.symbolsresolver.warning=false\nqt.multimedia.ffmpeg.info=false"


def multimedia_problem() -> str:
    """'' when Qt Multimedia imports, else why not, in plain words."""
    QLoggingCategory.setFilterRules(_QUIET_RULES)
    try:
        import PySide6.QtMultimedia  # noqa: F401
    except ImportError as exc:
        try:
            installed = importlib.util.find_spec("PySide6.QtMultimedia") is not None
        except (ImportError, ValueError):
            installed = False
        if not installed or isinstance(exc, ModuleNotFoundError):
            return (
                "The camera needs Qt Multimedia, which is not installed. Install ML Lab "
                f"with the camera extra: {INSTALL_CAMERA}"
            )
        return (
            f"Qt Multimedia is installed but could not start ({exc}). On Debian or Ubuntu, "
            "installing the libpulse0 package usually fixes this."
        )
    return ""


def camera_unavailable_reason() -> str:
    """'' when a camera can be used, else why not (for the Camera button's tooltip)."""
    problem = multimedia_problem()
    if problem:
        return problem
    from PySide6.QtMultimedia import QMediaDevices

    if not QMediaDevices.videoInputs():
        return (
            "No camera found on this computer. Plug one in (or allow ML Lab to use it), "
            "then come back to this page."
        )
    return ""


def frame_to_image(frame) -> QImage | None:
    """A QVideoFrame as a QImage (None for an empty frame). Call it on the GUI thread.

    Qt converts video frames with a graphics context kept per thread; on a task thread it
    would make a new one for every frame. The QImage can then go to any thread.
    """
    image = frame.toImage()
    return None if image.isNull() else image


def small_format(formats: list, long_side: int = 640):
    """The camera format to ask for: the smallest at least `long_side` across (pictures are
    shrunk to 480 px anyway, and a 1080p frame takes ~20 ms to convert), at 15+ frames/s."""

    def across(f) -> int:
        return max(f.resolution().width(), f.resolution().height())

    usable = [f for f in formats if f.maxFrameRate() >= 15] or list(formats)
    big_enough = [f for f in usable if across(f) >= long_side]
    if big_enough:
        return min(big_enough, key=lambda f: (across(f), -f.maxFrameRate()))
    return max(usable, key=across, default=None)


class CameraFeed(QObject):
    """Frames from a QVideoSink: keeps the newest, says when one is ready, never queues.

    `open_default()` wires the computer's default camera to a new sink; a feed built on any
    other QVideoSink (a test, a video file) works the same way from the sink onwards.
    """

    frame_ready = Signal()
    failed = Signal(str)

    def __init__(self, sink, camera=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sink = sink
        self._camera = camera
        self._session = None
        self._lock = threading.Lock()
        self._latest = None
        self._notified = False
        self.frames_seen = 0
        # Direct: a real camera delivers frames on its own thread; storing one is cheap and
        # only the ready notice crosses to the GUI thread.
        sink.videoFrameChanged.connect(self._on_frame, Qt.ConnectionType.DirectConnection)
        if camera is not None:
            camera.errorOccurred.connect(lambda _error, text: self.failed.emit(text))

    @classmethod
    def open_default(cls, parent: QObject | None = None) -> CameraFeed:
        from PySide6.QtMultimedia import QCamera, QMediaCaptureSession, QMediaDevices, QVideoSink

        sink = QVideoSink()
        device = QMediaDevices.defaultVideoInput()
        camera = QCamera(device)
        small = small_format(device.videoFormats())
        if small is not None:
            camera.setCameraFormat(small)
        feed = cls(sink, camera, parent)
        sink.setParent(feed)
        camera.setParent(feed)
        feed._session = QMediaCaptureSession(feed)
        feed._session.setCamera(camera)
        feed._session.setVideoSink(sink)
        return feed

    def start(self) -> None:
        if self._camera is not None:
            self._camera.start()

    def stop(self) -> None:
        if self._camera is not None:
            self._camera.stop()
        with self._lock:
            self._latest = None

    def close(self) -> None:
        """Stop, and take no more frames from the sink."""
        self.stop()
        try:
            self.sink.videoFrameChanged.disconnect(self._on_frame)
        except (RuntimeError, TypeError):  # the sink is already gone
            pass

    def take_frame(self):
        """The newest QVideoFrame (None if none arrived since the last take)."""
        with self._lock:
            frame, self._latest = self._latest, None
            self._notified = False
        return frame

    def _on_frame(self, frame) -> None:
        if not frame.isValid():
            return
        from PySide6.QtMultimedia import QVideoFrame

        with self._lock:
            self._latest = QVideoFrame(frame)  # a shared copy: `frame` is only lent to us
            self.frames_seen += 1
            notify = not self._notified
            self._notified = True
        if notify:
            self.frame_ready.emit()
