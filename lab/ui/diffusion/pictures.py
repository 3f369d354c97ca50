"""Showing small arrays as crisp, enlarged pictures: one image, or a clickable grid of them."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

SELECTED = QColor("#E69F00")


def to_qimage(arr: np.ndarray) -> QImage:
    """uint8 (H, W), (H, W, 1) or (H, W, 3) → a QImage that owns a copy of the pixels."""
    a = np.ascontiguousarray(arr)
    if a.ndim == 3 and a.shape[2] == 1:
        a = np.ascontiguousarray(a[:, :, 0])
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_RGB888).copy()


class _SquareLabel(QLabel):
    """A label that asks its layout for as much height as it has width."""

    def __init__(self) -> None:
        super().__init__()
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def hasHeightForWidth(self) -> bool:
        return self.sizePolicy().hasHeightForWidth()  # a caller may ask for plain Expanding

    def heightForWidth(self, width: int) -> int:
        return width


class ImageView(QWidget):
    """A caption above a square picture that scales to the space it has, without smoothing."""

    def __init__(self, caption: str = "", size: int = 180, parent=None) -> None:
        super().__init__(parent)
        self.caption = QLabel(caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture = _SquareLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(QSize(size, size))
        self.picture.setStyleSheet("background:#f2f2f2; border:1px solid #cccccc;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.picture, 1)
        self._image: QImage | None = None
        self.array: np.ndarray | None = None

    def set_array(self, arr: np.ndarray | None) -> None:
        self.array = None if arr is None else np.asarray(arr)
        self._image = None if arr is None else to_qimage(arr)
        self._rescale()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image is None:
            self.picture.clear()
            return
        side = max(16, min(self.picture.width(), self.picture.height()) - 4)
        scaled = self._image.scaled(
            side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
        )
        self.picture.setPixmap(QPixmap.fromImage(scaled))


class SampleGrid(QWidget):
    """n pictures in a near-square grid; click one to select it (drawn with a thick frame)."""

    sample_clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._images: list[QImage] = []
        self.labels: list[str] = []
        self.selected = 0
        self.setToolTip("Click a sample to look at it closely")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # arrow keys pick a sample

    @property
    def count(self) -> int:
        return len(self._images)

    def set_images(self, arrays: np.ndarray, labels: list[str] | None = None) -> None:
        """arrays: uint8 (n, H, W, C)."""
        self._images = [to_qimage(a) for a in arrays]
        self.labels = list(labels or [])
        self.selected = min(self.selected, max(0, len(self._images) - 1))
        self.update()

    def clear(self) -> None:
        self._images = []
        self.labels = []
        self.update()

    def set_selected(self, index: int) -> None:
        self.selected = index
        self.update()

    def _layout(self) -> tuple[int, int, int, int, int]:
        n = max(1, len(self._images))
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        gap = 4
        cell = max(8, min((self.width() - gap) // cols, (self.height() - gap) // rows) - gap)
        x0 = (self.width() - cols * (cell + gap)) // 2
        y0 = (self.height() - rows * (cell + gap)) // 2
        return cols, cell, gap, x0, y0

    def cell_rect(self, i: int) -> QRect:
        cols, cell, gap, x0, y0 = self._layout()
        r, c = divmod(i, cols)
        return QRect(x0 + c * (cell + gap) + gap // 2, y0 + r * (cell + gap) + gap // 2, cell, cell)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))  # follows the theme
        if not self._images:
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Press Generate to make samples")
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for i, img in enumerate(self._images):
            p.drawImage(self.cell_rect(i), img)
        if 0 <= self.selected < len(self._images):
            p.setPen(QPen(SELECTED, 4))
            p.drawRect(self.cell_rect(self.selected).adjusted(-2, -2, 2, 2))

    def mousePressEvent(self, event) -> None:
        pos = event.position().toPoint()
        for i in range(len(self._images)):
            if self.cell_rect(i).contains(pos):
                self.set_selected(i)
                self.sample_clicked.emit(i)
                return

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        """Arrow keys move the selection, as a click would, so the grid works without a mouse."""
        cols = self._layout()[0]
        step = {
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_Up: -cols,
            Qt.Key.Key_Down: cols,
        }.get(event.key())
        if step is None or not self._images:
            super().keyPressEvent(event)
            return
        index = min(max(self.selected + step, 0), len(self._images) - 1)
        self.set_selected(index)
        self.sample_clicked.emit(index)
