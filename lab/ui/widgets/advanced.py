"""An "Advanced ▸" expander: settings most people leave alone, folded away in presentation mode.

A checkable button (Space / Enter toggles it, Tab reaches it) shows or hides a body widget.
Outside presentation mode it starts open, so nothing is hidden from people at their own
laptop; in presentation mode it folds, so the class sees only the settings that matter.
The user's own click wins until the mode changes again.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget


class AdvancedSection(QWidget):
    toggled = Signal(bool)

    def __init__(self, title: str = "Advanced", parent=None) -> None:
        super().__init__(parent)
        self.title = title
        self.button = QPushButton()
        self.button.setObjectName("advancedToggle")
        self.button.setCheckable(True)
        self.button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.button.setToolTip(f"Show or hide the {title.lower()} settings")
        self.button.setAccessibleName(f"{title} settings")
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(12, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.body)
        self.button.toggled.connect(self._show)
        self.button.setChecked(True)
        self._show(True)
        from lab.ui.appearance import appearance

        appearance().changed.connect(self._look_changed)
        self._presentation = appearance().look.presentation
        if self._presentation:
            self.button.setChecked(False)

    def add_widget(self, widget: QWidget) -> None:
        self.body_layout.addWidget(widget)

    def add_layout(self, layout: QLayout) -> None:
        self.body_layout.addLayout(layout)

    def is_open(self) -> bool:
        return self.button.isChecked()

    def set_open(self, on: bool) -> None:
        self.button.setChecked(bool(on))

    def _show(self, on: bool) -> None:
        self.button.setText(f"{self.title} {'▾' if on else '▸'}")
        self.button.setAccessibleDescription(
            f"The {self.title.lower()} settings are {'shown' if on else 'hidden'}"
        )
        self.body.setVisible(on)
        self.toggled.emit(on)

    def _look_changed(self, look) -> None:
        if look.presentation != self._presentation:
            self._presentation = look.presentation
            self.set_open(not look.presentation)
