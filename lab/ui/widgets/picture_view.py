"""A picture, scaled to fit, with an optional heatmap laid over the square a model saw."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


def array_to_qimage(rgb: np.ndarray) -> QImage:
    """H×W×3 uint8 → a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def qimage_to_array(image: QImage, max_side: int | None = None) -> np.ndarray:
    """A QImage (any format) → H×W×3 uint8, shrunk to max_side first when given."""
    if max_side and max(image.width(), image.height()) > max_side:
        image = image.scaled(
            max_side,
            max_side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * h)
    return buf.reshape(h, stride)[:, : 3 * w].reshape(h, w, 3).copy()


def _viridis() -> np.ndarray:
    import pyqtgraph as pg

    return pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)


def blend_heat(
    picture: np.ndarray, heat: np.ndarray, box: tuple[int, int, int, int], opacity: float
) -> np.ndarray:
    """The picture with the heatmap (viridis: dark = little, yellow = much) over `box`;
    what lies outside the box, which the model never saw, is dimmed."""
    lut = _LUT.get("viridis")
    if lut is None:
        lut = _LUT.setdefault("viridis", _viridis())
    out = picture.astype(np.float32)
    colours = lut[np.clip((heat * 255).astype(np.int32), 0, 255)].astype(np.float32)
    left, top, right, bottom = box
    inside = np.zeros(heat.shape, dtype=bool)
    inside[top:bottom, left:right] = True
    a = float(np.clip(opacity, 0.0, 1.0))
    out[inside] = (1 - a) * out[inside] + a * colours[inside]
    out[~inside] *= 0.45
    return np.clip(out, 0, 255).astype(np.uint8)


_LUT: dict[str, np.ndarray] = {}


class PictureView(QWidget):
    """Paints an RGB array to fit, keeping its aspect; marks the model's square if given."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._box: tuple[int, int, int, int] | None = None
        self._caption = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 160)

    def set_picture(
        self, rgb: np.ndarray | None, box: tuple[int, int, int, int] | None = None
    ) -> None:
        self._image = QImage() if rgb is None else array_to_qimage(rgb)
        self._box = box
        self.update()

    def set_caption(self, text: str) -> None:
        self._caption = text
        self.update()

    @property
    def image(self) -> QImage:
        return self._image

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(420, 320)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.AlternateBase))
        if self._image.isNull():
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._caption)
            painter.end()
            return
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h)
        target = QRectF(
            (self.width() - w * scale) / 2, (self.height() - h * scale) / 2, w * scale, h * scale
        )
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self._image)
        if self._box is not None and self._box != (0, 0, w, h):
            left, top, right, bottom = self._box
            rect = QRectF(
                target.x() + left * scale,
                target.y() + top * scale,
                (right - left) * scale,
                (bottom - top) * scale,
            )
            pen = QPen(QColor("#E69F00"), 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
        painter.end()
