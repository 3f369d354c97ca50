"""Help for controls and plots ("What is this?", screen-reader names), set in one call."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


def explain(
    widget: QWidget,
    name: str,
    text: str | None = None,
    *,
    description: str | None = None,
    label: QLabel | None = None,
    focus: bool = False,
) -> QWidget:
    """Give `widget` a tooltip, "What is this?" text and an accessible name and description.

    `name` is the short name a screen reader says ("Learning rate"). `text` is one or two plain
    sentences on what the control does or the plot shows; without it the widget's existing
    tooltip is kept (it must have one). `description` is a longer "What is this?" text when the
    tooltip alone is too short. `label` is the QLabel that names the widget: it becomes the
    label's buddy so its Alt+letter mnemonic moves the focus here. `focus` makes a custom
    widget (a plot that reacts to clicks, a picture grid) reachable with Tab.
    """
    tip = (text or widget.toolTip()).strip()
    if not tip:
        raise ValueError(f"no help text for {name!r}")
    if text:
        widget.setToolTip(text)
    long_text = description or tip
    widget.setWhatsThis(long_text)
    widget.setAccessibleName(name)
    widget.setAccessibleDescription(long_text)
    if label is not None:
        label.setBuddy(widget)
    if focus and not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return widget


def chain_tab_order(*widgets: QWidget) -> None:
    """Make Tab visit `widgets` in the given order (reading order), where layout order differs."""
    for first, second in zip(widgets, widgets[1:]):
        QWidget.setTabOrder(first, second)
