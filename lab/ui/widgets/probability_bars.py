"""One bar per class, longest first, each labelled with its class name and percentage."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from lab.ui.theme import OKABE_ITO


class ProbabilityBars(QWidget):
    """Paints the bars itself: text stays large and readable on a projector."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._classes: list[str] = []
        self._probs = np.zeros(0)
        self._order: list[int] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.setAccessibleName("Probability of each class")

    def set_probabilities(self, classes: list[str], probs) -> None:
        self._classes = list(classes)
        self._probs = np.asarray(probs, dtype=np.float64)
        self._order = [int(i) for i in np.argsort(-self._probs, kind="stable")]
        self.setToolTip(
            "How sure the model is of each class; the bars add up to 100%.\n"
            + "\n".join(f"{c}: {p:.1%}" for c, p in self.values())
        )
        self.updateGeometry()
        self.update()

    def clear(self) -> None:
        self.set_probabilities([], [])

    def values(self) -> list[tuple[str, float]]:
        """(class, probability), most likely first: what the bars show."""
        return [(self._classes[i], float(self._probs[i])) for i in self._order]

    def _row_height(self) -> int:
        return int(self.fontMetrics().height() * 1.9)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(320, max(1, len(self._order)) * self._row_height() + 4)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, self.sizeHint().height())

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bold = QFont(self.font())
        bold.setBold(True)
        fm = QFontMetrics(bold)  # the widest the names get
        row = self._row_height()
        name_w = min(
            max([fm.horizontalAdvance(c) for c in self._classes] + [60]) + 16, self.width() // 3
        )
        pct_w = fm.horizontalAdvance("100.0%") + 12
        bar_w = max(10, self.width() - name_w - pct_w - 4)
        text = self.palette().color(QPalette.ColorRole.WindowText)  # the theme's text colour
        for rank, i in enumerate(self._order):
            y = rank * row + 2
            p = float(self._probs[i])
            painter.setFont(bold if rank == 0 else self.font())
            painter.setPen(text)
            name_rect = QRectF(0, y, name_w - 8, row)
            painter.drawText(
                name_rect,
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                fm.elidedText(self._classes[i], Qt.TextElideMode.ElideRight, name_w - 8),
            )
            track = QRectF(name_w, y + row * 0.15, bar_w, row * 0.7)
            painter.setPen(QPen(QColor("#9a9a9a"), 1))
            painter.setBrush(self.palette().color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(track, 3, 3)
            if p > 0:
                fill = QRectF(track.x(), track.y(), max(2.0, bar_w * min(p, 1.0)), track.height())
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(OKABE_ITO[i % len(OKABE_ITO)]))
                painter.drawRoundedRect(fill, 3, 3)
            painter.setPen(text)
            painter.drawText(
                QRectF(name_w + bar_w + 6, y, pct_w, row),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                f"{p:.1%}",
            )
        painter.end()
