"""A place to drop pictures: files, folders, or image data (from a browser or the clipboard)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from lab.core import paths as lab_paths
from lab.core.files import atomic_write_bytes


def paths_from_mime(mime: QMimeData) -> list[Path]:
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


def image_from_mime(mime: QMimeData) -> QImage | None:
    if not mime.hasImage():
        return None
    data = mime.imageData()
    image = data if isinstance(data, QImage) else QImage(data)
    return None if image.isNull() else image


def save_pasted_image(image: QImage, folder: Path | None = None) -> Path:
    """Keep pasted image data as a PNG file, so it is classified like any other file."""
    folder = folder or (lab_paths.cache_dir() / "pasted")
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"pasted-{stamp}.png"
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    buf.close()
    atomic_write_bytes(path, bytes(data.data()))
    return path


def has_droppable(mime: QMimeData) -> bool:
    return bool(paths_from_mime(mime)) or mime.hasImage()


class DropZone(QFrame):
    """Emits `paths_dropped` with files/folders, or with a saved copy of dropped image data."""

    paths_dropped = Signal(list)

    def __init__(self, text: str, parent=None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setObjectName("dropZone")
        self.label = QLabel(text)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        self.setAccessibleName("Drop pictures here")
        self._set_highlight(False)

    def _set_highlight(self, on: bool) -> None:
        colour, bg = ("#0072B2", "#e8f1fb") if on else ("#8a8a8a", "#fafafa")
        self.setStyleSheet(
            f"QFrame#dropZone {{ border: 2px dashed {colour}; border-radius: 8px; "
            f"background: {bg}; }}"
        )

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if has_droppable(event.mimeData()):
            self._set_highlight(True)
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if has_droppable(event.mimeData()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._set_highlight(False)

    def dropEvent(self, event) -> None:  # noqa: N802
        self._set_highlight(False)
        paths = self.paths_from(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.paths_dropped.emit(paths)

    @staticmethod
    def paths_from(mime: QMimeData) -> list[Path]:
        """Files and folders in the drop, or a saved copy of dropped image data."""
        paths = paths_from_mime(mime)
        if paths:
            return paths
        image = image_from_mime(mime)
        return [save_pasted_image(image)] if image is not None else []
