"""An inline message bar: says what happened without a blocking dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

STYLES = {
    "info": "background:#e8f1fb; border:1px solid #0072B2; color:#0b2540;",
    "warning": "background:#fff4e0; border:1px solid #E69F00; color:#3d2800;",
    "error": "background:#fde8e4; border:1px solid #D55E00; color:#4a1400;",
}


class Notice(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Hide this message")
        close.setAccessibleName("Hide message")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.level = "info"
        self.hide()

    def show_message(self, text: str, level: str = "info") -> None:
        self.level = level
        self.setStyleSheet(f"Notice {{{STYLES[level]} border-radius:4px;}}")
        self.label.setText(text)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() or self.label.text() else ""
