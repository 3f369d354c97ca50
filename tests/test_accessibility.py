"""Keyboard and screen-reader checks on the real main window, every tab and every inner page.

For each page a student can open: every visible, enabled input (buttons, spin boxes, sliders,
combo boxes, line edits, lists and tables, plots, picture views) explains itself (tooltip,
"What is this?") and has an accessible name; Tab reaches every one of them; and Tab visits
them in reading order. Every menu and toolbar action has a shortcut and a tooltip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHeaderView,
    QLayout,
    QLineEdit,
    QScrollArea,
    QScrollBar,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QTabWidget,
    QWidget,
)

from lab.core.features import FeatureCache
from lab.core.workspace import Workspace
from lab.ui.diffusion.pictures import ImageView as DiffusionPicture
from lab.ui.diffusion.pictures import SampleGrid
from lab.ui.embeddings.text_model import TextModelHolder
from lab.ui.main_window import MainWindow
from lab.ui.widgets.drop_zone import DropZone
from lab.ui.widgets.help import explain
from lab.ui.widgets.picture_view import PictureView
from lab.ui.worker import TaskRunner

INPUTS = (
    QAbstractButton,
    QAbstractSpinBox,
    QAbstractSlider,
    QComboBox,
    QLineEdit,
    QAbstractItemView,
    pg.GraphicsView,
    PictureView,
    DiffusionPicture,
    DropZone,
    SampleGrid,
)
# Pictures that only show something, and the drop zone (its buttons "Open…" and "Paste" do
# the same from the keyboard), need a name and help but no stop of their own on Tab.
SHOW_ONLY = (PictureView, DiffusionPicture, DropZone)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch) -> Iterator[MainWindow]:
    # Opening Words or Search would load the sentence model (many seconds, not stoppable
    # mid-import); these checks are about the widgets, not the model.
    monkeypatch.setattr(TextModelHolder, "request", lambda self: None)
    w = MainWindow(workspace=Workspace(tmp_path / "ws"), cache=FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(w)
    w.resize(1360, 860)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()  # stops every tab's background work (opening a page may load something)
    runners = w.findChildren(TaskRunner)
    qtbot.waitUntil(lambda: not any(r.running for r in runners), timeout=15000)


def _is_part_of_another_input(widget: QWidget) -> bool:
    """Scroll bars, table headers, a line edit's clear button, a combo's popup list…"""
    if isinstance(widget, (QScrollBar, QHeaderView)):
        return True
    parent = widget.parentWidget()
    if isinstance(widget, QAbstractButton) and isinstance(parent, QAbstractItemView):
        return True  # a table's corner button
    while parent is not None:
        if isinstance(parent, (QComboBox, QAbstractSpinBox, QLineEdit, QTabBar)):
            return True
        if type(parent).__name__ == "QComboBoxPrivateContainer":
            return True
        if isinstance(parent, pg.ImageView) and widget is not parent.ui.graphicsView:
            return True  # pyqtgraph's own histogram and ROI tools, hidden in our panels
        parent = parent.parentWidget()
    return False


def _inputs(page: QWidget) -> list[QWidget]:
    """Visible, enabled inputs on a page, in creation order."""
    return [
        w
        for w in page.findChildren(QWidget)
        if isinstance(w, INPUTS)
        and w.isVisible()
        and w.isEnabled()
        and not _is_part_of_another_input(w)
    ]


def _pages(window: MainWindow) -> Iterator[tuple[str, QWidget]]:
    """Open every tab and each of its inner pages in turn; yield (where, page widget)."""
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        tab = window.tabs.widget(i)
        title = window.tabs.tabText(i)
        inner = [t for t in tab.findChildren(QTabWidget) if t.isVisible()]
        if inner:
            pages = inner[0]
            for j in range(pages.count()):
                pages.setCurrentIndex(j)
                yield f"{title} ▸ {pages.tabText(j)}", tab
        elif hasattr(tab, "panels") and hasattr(tab, "show_lab"):  # Labs: a list of labs
            for key in tab.panels:
                tab.show_lab(key)
                yield f"{title} ▸ {tab.panels[key].title}", tab
        else:
            yield title, tab


def _describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QAbstractButton) else ""
    owner = widget.parentWidget()
    while owner is not None and type(owner).__module__.startswith("PySide6"):
        owner = owner.parentWidget()
    attr = ""
    if owner is not None:
        attr = next((k for k, v in vars(owner).items() if v is widget), "")
    where = f"{type(owner).__name__}.{attr}" if owner is not None and attr else "?"
    return f"{type(widget).__name__} {where} {text!r}".strip()


def _focus_chain(page: QWidget) -> list[QWidget]:
    """The page's widgets in the order Tab visits them."""
    start = page
    chain: list[QWidget] = []
    seen: set[int] = set()
    w = start.nextInFocusChain()
    while w is not start and id(w) not in seen:
        seen.add(id(w))
        if page.isAncestorOf(w):
            chain.append(w)
        w = w.nextInFocusChain()
    return chain


def _layout_children(layout: QLayout) -> Iterator[QWidget | QLayout]:
    items = [layout.itemAt(i) for i in range(layout.count())]
    if isinstance(layout, QGridLayout):
        pos = {id(it): layout.getItemPosition(i)[:2] for i, it in enumerate(items)}
        items.sort(key=lambda it: pos[id(it)])
    elif isinstance(layout, QFormLayout):
        order = []
        for i, it in enumerate(items):
            row, role = layout.getItemPosition(i)
            order.append(((row, role.value if hasattr(role, "value") else int(role)), it))
        items = [it for _, it in sorted(order, key=lambda p: p[0])]
    for it in items:
        if it.widget() is not None:
            yield it.widget()
        elif it.layout() is not None:
            yield it.layout()


def _reading_order(node: QWidget | QLayout, inputs: set[int]) -> Iterator[QWidget]:
    """Inputs under `node` in the order a person reads them: layouts top-down, left-right."""
    if isinstance(node, QLayout):
        for child in _layout_children(node):
            yield from _reading_order(child, inputs)
        return
    if not node.isVisible():
        return
    if id(node) in inputs:
        yield node
        if not isinstance(node, pg.GraphicsView):
            return
    if isinstance(node, (QTabWidget, QStackedWidget)):
        if node.currentWidget() is not None:
            yield from _reading_order(node.currentWidget(), inputs)
        return
    if isinstance(node, QScrollArea) and node.widget() is not None:
        yield from _reading_order(node.widget(), inputs)
        return
    if isinstance(node, QSplitter):
        for i in range(node.count()):
            yield from _reading_order(node.widget(i), inputs)
        return
    if isinstance(node, QAbstractScrollArea) and not isinstance(node, pg.GraphicsView):
        return
    if node.layout() is not None:
        yield from _reading_order(node.layout(), inputs)
    else:
        for child in node.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            yield from _reading_order(child, inputs)


def test_every_input_explains_itself_and_has_a_name(window):
    problems, counted = [], 0
    for where, page in _pages(window):
        for w in _inputs(page):
            counted += 1
            missing = [
                what
                for what, value in (
                    ("tooltip", w.toolTip()),
                    ("accessible name", w.accessibleName()),
                )
                if not value.strip()
            ]
            if missing:
                problems.append(f"{where}: {_describe(w)} lacks {', '.join(missing)}")
            elif w.toolTip().strip() == w.accessibleName().strip():
                problems.append(f"{where}: {_describe(w)}: the tooltip only repeats its name")
    assert counted > 150  # every page was really opened and walked
    assert not problems, "\n".join(problems)


def test_tab_reaches_every_enabled_input(window):
    problems = []
    for where, page in _pages(window):
        chain = {id(w) for w in _focus_chain(page)}
        for w in _inputs(page):
            if isinstance(w, SHOW_ONLY):
                continue
            if not w.focusPolicy() & Qt.FocusPolicy.TabFocus:
                problems.append(f"{where}: Tab skips {_describe(w)} (focus policy)")
            elif id(w) not in chain:
                problems.append(f"{where}: {_describe(w)} is not in the focus chain")
    assert not problems, "\n".join(problems)


def test_tab_order_follows_reading_order(window):
    problems = []
    for where, page in _pages(window):
        focusable = [w for w in _inputs(page) if w.focusPolicy() & Qt.FocusPolicy.TabFocus]
        ids = {id(w) for w in focusable}
        reading = list(dict.fromkeys(_reading_order(page, ids)))
        assert {id(w) for w in reading} == ids, f"{where}: reading order misses inputs"
        position = {id(w): i for i, w in enumerate(_focus_chain(page))}
        for before, after in zip(reading, reading[1:]):
            if position[id(before)] > position[id(after)]:
                problems.append(
                    f"{where}: Tab reaches {_describe(after)} before {_describe(before)}"
                )
    assert not problems, "\n".join(problems)


def test_tab_key_walks_the_inputs_in_chain_order(window, qtbot):
    """Real Tab presses on the Curves tab land on each input in turn, in the chain's order."""
    window.tabs.setCurrentWidget(window.curves)
    window.activateWindow()
    page = window.curves
    inputs = {id(w) for w in _inputs(page) if w.focusPolicy() & Qt.FocusPolicy.TabFocus}
    expected = [
        w
        for w in _focus_chain(page)
        if id(w) in inputs or (w.isVisible() and w.focusPolicy() & Qt.FocusPolicy.TabFocus)
    ]
    expected[0].setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(expected[0].hasFocus, timeout=2000)
    visited = [window.focusWidget()]
    for _ in range(min(6, len(expected) - 1)):
        qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
        visited.append(window.focusWidget())
    assert visited == expected[: len(visited)]


def test_buddies_point_at_inputs(window):
    """Labels with an &-mnemonic move the focus to their input (Alt+letter)."""
    from PySide6.QtWidgets import QLabel

    problems = []
    for where, page in _pages(window):
        for label in page.findChildren(QLabel):
            if label.isVisible() and "&" in label.text().replace("&&", "") and not label.buddy():
                problems.append(f"{where}: label {label.text()!r} has a mnemonic but no buddy")
    assert not problems, "\n".join(problems)


def test_every_action_has_a_shortcut_and_a_tooltip(window):
    from PySide6.QtWidgets import QToolBar

    actions = {}
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is not None:
            for a in menu.actions():
                if not a.isSeparator() and a.menu() is None:
                    actions[id(a)] = a
    for toolbar in window.findChildren(QToolBar):
        for a in toolbar.actions():
            if not a.isSeparator() and not a.text().strip() == "":
                actions[id(a)] = a
    assert actions
    problems = []
    for a in actions.values():
        name = a.text().replace("&", "")
        if a.shortcut().isEmpty():
            problems.append(f"action {name!r} has no shortcut")
        # Qt makes a tooltip from the text when none is set; that one repeats the label.
        if not a.toolTip().strip() or a.toolTip().replace("&", "") == name.rstrip("…"):
            problems.append(f"action {name!r} has no tooltip of its own")
    assert not problems, "\n".join(problems)


def test_explain_sets_every_help_field(qtbot):
    from PySide6.QtWidgets import QLabel, QSpinBox

    box, label = QSpinBox(), QLabel("&Epochs")
    qtbot.addWidget(box)
    qtbot.addWidget(label)
    explain(box, "Epochs", "How many times training looks at every picture.", label=label)
    assert box.toolTip() == "How many times training looks at every picture."
    assert box.whatsThis() == box.toolTip() == box.accessibleDescription()
    assert box.accessibleName() == "Epochs"
    assert label.buddy() is box
    with pytest.raises(ValueError):
        explain(QSpinBox(), "Nothing")  # no text and no tooltip to keep
