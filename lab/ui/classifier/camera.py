"""Live camera frames through Qt Multimedia, when this PySide6 has it and a camera exists.

PySide6-Essentials has no Qt Multimedia (it is in PySide6-Addons), so the camera is an
extra: camera_unavailable_reason() says in plain words why it cannot be used.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage


def camera_unavailable_reason() -> str:
    """'' when a camera can be used, else why not (for the button's tooltip)."""
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return (
            "The camera needs Qt Multimedia, which this installation of PySide6 does not "
            "include (install PySide6-Addons to use a camera)."
        )
    if not QMediaDevices.videoInputs():
        return "No camera was found on this computer."
    return ""


class CameraFeed(QObject):
    """Keeps only the newest frame; whoever classifies takes it when ready (never a queue)."""

    frame_ready = Signal()
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtMultimedia import QCamera, QMediaCaptureSession, QMediaDevices, QVideoSink

        self._camera = QCamera(QMediaDevices.defaultVideoInput(), self)
        self._session = QMediaCaptureSession(self)
        self._sink = QVideoSink(self)
        self._session.setCamera(self._camera)
        self._session.setVideoSink(self._sink)
        self._sink.videoFrameChanged.connect(self._on_frame)
        self._camera.errorOccurred.connect(lambda _err, text: self.failed.emit(text))
        self._latest = QImage()

    def start(self) -> None:
        self._camera.start()

    def stop(self) -> None:
        self._camera.stop()

    @property
    def active(self) -> bool:
        return self._camera.isActive()

    def take_frame(self) -> QImage:
        """The newest frame (null if none arrived since the last take)."""
        frame, self._latest = self._latest, QImage()
        return frame

    def _on_frame(self, frame) -> None:
        image = frame.toImage()
        if not image.isNull():
            self._latest = image
            self.frame_ready.emit()
