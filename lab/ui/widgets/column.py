"""A column of controls that scrolls up and down instead of being squeezed.

A layout given less height than its minimum draws its widgets on top of each other; at 150 %
or 200 % on a 1366 × 768 projector that is what a tall column of settings gets. In a
ScrollColumn the column keeps its natural height and scrolls; its width is counted in
characters of the current font, so it grows with presentation mode and never clips a label.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class ScrollColumn(QScrollArea):
    """Holds `content` at its full height; scrolls vertically, never horizontally.

    `chars` is the least width, in average characters of the font; `max_chars` (optional)
    the most. The column is never narrower than what its content needs.
    """

    def __init__(
        self,
        content: QWidget,
        chars: int = 24,
        max_chars: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.chars = chars
        self.max_chars = max_chars
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the controls inside
        self.setWidget(content)
        self._fit()

    def _char_width(self) -> int:
        return max(
            self.fontMetrics().averageCharWidth(), self.widget().fontMetrics().averageCharWidth()
        )

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        content = self.widget()
        need = content.minimumSizeHint().width() if content is not None else 0
        width = max(self.chars * self._char_width(), need)
        width += self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        return QSize(width, 4 * self.fontMetrics().height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        return QSize(self.minimumSizeHint().width(), hint.height())

    def _fit(self) -> None:
        if self.max_chars is not None:
            most = self.max_chars * self._char_width() + self.verticalScrollBar().sizeHint().width()
            self.setMaximumWidth(max(most, self.minimumSizeHint().width()))
        self.updateGeometry()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()
        super().changeEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        # The content's minimum changed (a font grew, a section folded): so does the column's.
        if watched is self.widget() and event.type() in (
            QEvent.Type.LayoutRequest,
            QEvent.Type.FontChange,
        ):
            self._fit()
        return super().eventFilter(watched, event)
