"""Point at a control for a moment: a pulsing frame around it and a note beside it."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject, QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QLabel, QScrollArea, QWidget

from lab.ui.appearance import appearance

FRAME_COLOR = QColor("#D55E00")  # Okabe–Ito vermillion: visible on light and dark widgets
PULSE_MS = 60


class _Frame(QWidget):
    """A see-through widget on top of the window that draws a thick rounded frame."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.strength = 1.0

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = QColor(FRAME_COLOR)
        color.setAlphaF(0.35 + 0.65 * self.strength)
        painter.setPen(QPen(color, 5))
        painter.drawRoundedRect(self.rect().adjusted(3, 3, -3, -3), 8, 8)


class ControlHighlight(QObject):
    """Shows one highlight at a time; it ends by itself after `duration_ms`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.target: QWidget | None = None
        self._frame: _Frame | None = None
        self._note: QLabel | None = None
        self._started = 0.0
        self._duration = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(PULSE_MS)
        self._timer.timeout.connect(self._tick)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def show(self, target: QWidget, note: str = "", duration_ms: int = 3500) -> None:
        self.stop()
        window = target.window()
        _scroll_into_view(target)
        self.target = target
        self._frame = _Frame(window)
        if note:
            self._note = QLabel(note, window)
            self._note.setObjectName("tryItNote")
            self._note.setWordWrap(True)
            appearance().style(
                self._note,
                "QLabel#tryItNote { background:#fff4e0; color:#1a1a1a; border:2px solid #D55E00;"
                " border-radius:6px; padding:8px 12px; font-size:13pt; }",
            )
            self._note.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self._started = time.monotonic()
        self._duration = max(0.05, duration_ms / 1000)
        self._place()
        self._frame.show()
        self._frame.raise_()
        if self._note is not None:
            self._note.show()
            self._note.raise_()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        for w in (self._frame, self._note):
            if w is not None:
                w.hide()
                w.deleteLater()
        self._frame = self._note = None
        self.target = None

    def _tick(self) -> None:
        elapsed = time.monotonic() - self._started
        if elapsed >= self._duration or self._frame is None:
            self.stop()
            return
        self._frame.strength = 0.5 + 0.5 * math.cos(elapsed * 2 * math.pi / 0.9)
        self._place()
        self._frame.update()

    def _place(self) -> None:
        target, frame = self.target, self._frame
        if target is None or frame is None:
            return
        try:
            window = frame.parentWidget()
            top_left = target.mapTo(window, QPoint(0, 0))
        except RuntimeError:  # the control was deleted meanwhile
            self.stop()
            return
        rect = QRect(top_left, target.size()).adjusted(-8, -8, 8, 8)
        frame.setGeometry(rect)
        if self._note is not None:
            width = min(440, max(260, window.width() // 3))
            self._note.setFixedWidth(width)
            self._note.adjustSize()
            x = min(max(4, rect.left()), window.width() - width - 4)
            below = rect.bottom() + 6
            y = below if below + self._note.height() < window.height() else rect.top() - 6
            if y != below:
                y -= self._note.height()
            self._note.move(x, max(4, y))


def _scroll_into_view(target: QWidget) -> None:
    """If the control sits in a scroll area, scroll it into view."""
    parent = target.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea):
            parent.ensureWidgetVisible(target)
        parent = parent.parentWidget()
