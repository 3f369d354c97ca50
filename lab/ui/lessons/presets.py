"""Carrying out a Try it: find its tab, set its controls, say which control to use next.

A Try it is data (lab.lessons.TryIt). Values are set by widget type, so a lesson can name
any spin box, line edit, check box, radio button, combo box or slider of any tab. Extra
steps that need a little logic are the functions in ACTIONS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QSpinBox,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from lab.lessons import TryIt

_MISSING = object()


class TryItError(Exception):
    """A Try it could not be carried out; the message says why, for the student."""


@dataclass
class Outcome:
    tab: QWidget
    control: QWidget
    hint: str


def resolve(root: object, path: str) -> object:
    """Follow a dotted path of attributes (or dict keys) from root; _MISSING if it breaks."""
    obj = root
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part, _MISSING)
        else:
            obj = getattr(obj, part, _MISSING)
        if obj is _MISSING:
            return _MISSING
    return obj


def find_tab(tabs: QTabWidget | None, title: str) -> QWidget | None:
    if tabs is None:
        return None
    for i in range(tabs.count()):
        widget = tabs.widget(i)
        name = getattr(widget, "title", None) or tabs.tabText(i)
        if str(name).lower() == title.lower():
            return widget
    return None


def is_available(try_it: TryIt, tabs: QTabWidget | None) -> bool:
    """True when the tab and every control the Try it names exist in this window."""
    tab = find_tab(tabs, try_it.tab)
    if tab is None or (try_it.action and try_it.action not in ACTIONS):
        return False
    if getattr(tab, "pending", False):
        return True  # still loading PyTorch: the full tab has its controls
    for path in try_it.paths():
        target = resolve(tab, path)
        if target is _MISSING or (path == try_it.highlight and not isinstance(target, QWidget)):
            return False
    return True


def set_value(widget: object, value: object) -> None:
    """Set a control the way a user would, so the tab reacts as to a user's change."""
    if isinstance(widget, QTabWidget):
        wanted = str(value).lower()
        titles = [widget.tabText(i) for i in range(widget.count())]
        index = next((i for i, t in enumerate(titles) if wanted in t.lower()), -1)
        if index < 0:
            raise TryItError(f"There is no page called '{value}'.")
        widget.setCurrentIndex(index)
    elif isinstance(widget, QListWidget):
        wanted = str(value).lower()
        rows = [widget.item(i) for i in range(widget.count())]
        index = next(
            (
                i
                for i, item in enumerate(rows)
                if str(item.data(Qt.ItemDataRole.UserRole)).lower() == wanted
                or wanted in item.text().lower()
            ),
            -1,
        )
        if index < 0:
            raise TryItError(f"There is nothing called '{value}' in the list.")
        widget.setCurrentRow(index)
    elif isinstance(widget, QComboBox):
        index = widget.findData(value)
        if index < 0:
            index = widget.findText(str(value))
        if index < 0:
            raise TryItError(f"'{value}' is not one of the choices.")
        widget.setCurrentIndex(index)
    elif isinstance(widget, QAbstractButton):
        widget.setChecked(bool(value))
    elif isinstance(widget, QLineEdit):
        widget.setText(str(value))
    elif isinstance(widget, (QTextEdit, QPlainTextEdit)):
        widget.setPlainText(str(value))
    elif isinstance(widget, QDoubleSpinBox):
        widget.setValue(float(value))  # type: ignore[arg-type]
    elif isinstance(widget, (QSpinBox, QAbstractSlider)):
        widget.setValue(int(value))  # type: ignore[call-overload]
    elif isinstance(widget, QAbstractSpinBox):
        raise TryItError("This kind of number box cannot be set by a lesson.")
    else:
        raise TryItError(f"A lesson cannot set a {type(widget).__name__}.")


def apply_try_it(try_it: TryIt, tabs: QTabWidget) -> Outcome:
    """Open the tab, set its values in order, run the extra step; what to highlight and say."""
    tab = find_tab(tabs, try_it.tab)
    if tab is None:
        raise TryItError(f"This version of ML Lab has no {try_it.tab} tab.")
    if getattr(tab, "pending", False):
        tab = tab.build_now()  # the student asked for it: build it now, not in a moment
    tabs.setCurrentWidget(tab)
    for path, value in try_it.values:
        target = resolve(tab, path)
        if target is _MISSING:
            raise TryItError(f"The {try_it.tab} tab has nothing called {path}.")
        set_value(target, value)
    control = resolve(tab, try_it.highlight)
    if not isinstance(control, QWidget):
        raise TryItError(f"The {try_it.tab} tab has no control called {try_it.highlight}.")
    outcome = Outcome(tab, control, try_it.hint)
    if try_it.action:
        outcome = ACTIONS[try_it.action](outcome)
    reveal(outcome.control)
    return outcome


def reveal(control: QWidget) -> None:
    """Bring forward every page (of tab widgets inside the tab) that holds the control."""
    parent = control.parentWidget()
    while parent is not None:
        if isinstance(parent, QTabWidget):
            for i in range(parent.count()):
                page = parent.widget(i)
                if page is control or page.isAncestorOf(control):
                    parent.setCurrentIndex(i)
                    break
        parent = parent.parentWidget()


# -- extra steps -----------------------------------------------------------------------------
def _needs_images(outcome: Outcome) -> Outcome:
    """Training needs two classes with two images each; otherwise point at Starter images…."""
    data = getattr(outcome.tab, "data", None)
    counts = data.counts() if data is not None else {}
    if len(counts) >= 2 and all(n >= 2 for n in counts.values()):
        return outcome
    button = getattr(data, "starter_button", None)
    if not isinstance(button, QWidget):
        return outcome
    return Outcome(
        outcome.tab,
        button,
        "First you need pictures to learn from. Press Starter images…: import a folder with "
        "a cat and a raccoon sub-folder (your teacher may have one for you), or download "
        "cats and raccoons once. Then: " + outcome.hint[:1].lower() + outcome.hint[1:],
    )


ACTIONS: dict[str, Callable[[Outcome], Outcome]] = {"needs_images": _needs_images}
