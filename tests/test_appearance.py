"""Presentation mode and themes: every font and plot pen scales, every colour pair contrasts."""

from __future__ import annotations

from collections.abc import Iterator

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget

from lab.core.features import FeatureCache
from lab.core.workspace import Workspace
from lab.ui.appearance import (
    DARK,
    HIGH_CONTRAST,
    LIGHT,
    appearance,
    contrast_ratio,
    reach_contrast,
    theme_pairs,
)
from lab.ui.main_window import MainWindow
from lab.ui.theme import BASE_POINT_SIZE, OKABE_ITO
from lab.ui.widgets.advanced import AdvancedSection
from lab.ui.worker import TaskRunner


@pytest.fixture(autouse=True)
def plain_look(qapp) -> Iterator[None]:
    """The look is process-wide: every test starts and ends at light, 100 %."""
    appearance().apply(qapp, theme="light")
    yield
    appearance().apply(qapp, theme="light")


# -- contrast ----------------------------------------------------------------------------------
def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#ffffff", "#777777") == contrast_ratio("#777777", "#ffffff")
    # Okabe–Ito yellow on white is far from readable: why plots need their own background.
    assert contrast_ratio(OKABE_ITO[6], "#ffffff") < 1.5


def test_every_high_contrast_pair_reaches_7_to_1():
    pairs = theme_pairs(HIGH_CONTRAST)
    assert len(pairs) >= 20  # text, buttons, highlight, links, disabled, plots, 8 series
    low = [(what, round(contrast_ratio(fg, bg), 2)) for what, fg, bg, _ in pairs]
    assert all(r >= 7.0 for _, r in low), [p for p in low if p[1] < 7.0]
    assert len(set(HIGH_CONTRAST.series)) == len(OKABE_ITO)  # still eight different colours


def test_light_and_dark_text_reaches_4_5_and_outlines_3():
    for theme in (LIGHT, DARK):
        for what, fg, bg, kind in theme_pairs(theme):
            ratio = contrast_ratio(fg, bg)
            if kind == "text":
                assert ratio >= 4.5, (theme.name, what, ratio)
            elif kind == "outline":
                assert ratio >= 3.0, (theme.name, what, ratio)


def test_reach_contrast_keeps_a_colour_that_already_contrasts_and_lifts_one_that_does_not():
    assert reach_contrast("#000000", "#ffffff", 7) == "#000000"
    lifted = reach_contrast("#0072B2", "#000000", 7)
    assert contrast_ratio(lifted, "#000000") >= 7
    assert contrast_ratio("#0072B2", "#000000") < 7


# -- presentation mode on every tab -------------------------------------------------------------
@pytest.fixture
def window(qtbot, tmp_path) -> Iterator[MainWindow]:
    w = MainWindow(workspace=Workspace(tmp_path / "ws"), cache=FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    runners = w.findChildren(TaskRunner)
    qtbot.waitUntil(lambda: not any(r.running for r in runners), timeout=15000)


def _tabs(window: MainWindow) -> list[tuple[str, QWidget]]:
    return [(window.tabs.tabText(i), window.tabs.widget(i)) for i in range(window.tabs.count())]


def _fonts(tab: QWidget) -> dict[int, tuple[str, float]]:
    out = {}
    for w in [tab, *tab.findChildren(QWidget)]:
        w.ensurePolished()
        size = w.font().pointSizeF()
        if size > 0:
            out[id(w)] = (f"{type(w).__name__} {w.objectName()!r}", size)
    return out


def _plot_numbers(tab: QWidget) -> dict[tuple, float]:
    """Pen widths, marker sizes and axis font sizes of every pyqtgraph item in the tab."""
    out: dict[tuple, float] = {}
    for view in tab.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            key = (id(item), type(item).__name__)
            if isinstance(item, pg.PlotDataItem):
                pen = item.opts["pen"]
                if isinstance(pen, type(pg.mkPen())) and pen.style() != Qt.PenStyle.NoPen:
                    out[(*key, "pen")] = pen.widthF() or 1.0
                if item.opts.get("symbol") is not None:
                    out[(*key, "symbol")] = float(item.opts["symbolSize"])
            elif isinstance(item, pg.ScatterPlotItem) and not isinstance(
                item.parentItem(), pg.PlotDataItem
            ):
                out[(*key, "size")] = float(item.opts["size"])
            elif isinstance(item, pg.InfiniteLine):
                out[(*key, "pen")] = item.pen.widthF() or 1.0
            elif isinstance(item, pg.AxisItem):
                font = item.style["tickFont"]
                out[(*key, "tick")] = font.pointSizeF() if font else float(BASE_POINT_SIZE)
    return out


def test_presentation_on_every_tab_scales_fonts_and_plots_folds_advanced_and_restores(qapp, window):
    base_fonts = {name: _fonts(tab) for name, tab in _tabs(window)}
    base_plots = {name: _plot_numbers(tab) for name, tab in _tabs(window)}
    assert sum(len(p) for p in base_plots.values()) > 30  # the plots were found
    for name in ("Classifier", "Curves", "Diffusion", "Labs", "Embeddings"):
        assert base_plots[name], name
    for name in ("Classifier", "Curves", "Diffusion", "Labs"):
        assert any(k[-1] == "tick" for k in base_plots[name]), name
    for factor in (1.5, 2.0):
        appearance().apply(qapp, theme="light", presentation=True, scale=factor)
        assert appearance().look.theme == "high-contrast"
        for name, tab in _tabs(window):
            fonts = _fonts(tab)
            wrong = [
                (what, size, fonts[key][1])
                for key, (what, size) in base_fonts[name].items()
                if key in fonts and abs(fonts[key][1] - size * factor) > 0.5
            ]
            assert not wrong, (name, factor, wrong[:5])
            plots = _plot_numbers(tab)
            wrong = [
                (key[1:], value, plots[key])
                for key, value in base_plots[name].items()
                if key in plots and plots[key] != pytest.approx(value * factor, rel=0.02)
            ]
            assert not wrong, (name, factor, wrong[:5])
    appearance().apply(qapp, theme="light")
    for name, tab in _tabs(window):
        assert {k: v[1] for k, v in _fonts(tab).items()} == {
            k: v[1] for k, v in base_fonts[name].items()
        }
        assert _plot_numbers(tab) == base_plots[name]
    _check_high_contrast_plots(qapp, window)
    _check_advanced_sections(qapp, window)


def _check_high_contrast_plots(qapp, window: MainWindow) -> None:
    """Plots turn black with the lifted Okabe–Ito colours, and back to white."""
    plots = window.findChildren(pg.PlotWidget)
    blue_before = [
        item
        for view in plots
        for item in view.getPlotItem().listDataItems()
        if item.opts["pen"].color().name().lower() == OKABE_ITO[0].lower()
    ]
    assert plots and blue_before
    appearance().apply(qapp, presentation=True, scale=1.25)
    for view in plots:
        assert view.backgroundBrush().color().name() == HIGH_CONTRAST.plot_background
    for item in blue_before:
        assert item.opts["pen"].color().name() == HIGH_CONTRAST.series[0]
    appearance().apply(qapp, theme="light")
    for view in plots:
        assert view.backgroundBrush().color().name() == "#ffffff"
    for item in blue_before:
        assert item.opts["pen"].color().name().lower() == OKABE_ITO[0].lower()


def test_items_added_after_presentation_starts_are_scaled(qapp, qtbot):
    from lab.ui.widgets.live_plot import LivePlot

    appearance().apply(qapp, presentation=True, scale=2.0)
    plot = LivePlot("Loss", "step", "loss")
    qtbot.addWidget(plot)
    plot.add_series("training", 0, width=2.0, symbol=True)
    item = plot.series["training"].item
    assert item.opts["pen"].widthF() == pytest.approx(4.0)
    assert item.opts["symbolSize"] == pytest.approx(18)
    qtbot.waitUntil(
        lambda: (
            plot.getAxis("left").style["tickFont"] is not None
            and plot.getAxis("left").style["tickFont"].pointSizeF() == pytest.approx(22)
        ),
        timeout=2000,
    )
    appearance().apply(qapp, theme="light")
    assert item.opts["pen"].widthF() == pytest.approx(2.0)
    assert item.opts["symbolSize"] == pytest.approx(9)


def test_widgets_with_their_own_font_sizes_follow_the_scale(qapp, qtbot):
    label = QLabel("Big answer")
    qtbot.addWidget(label)
    appearance().style(label, "QLabel { font-size: 20pt; color: $text; }")
    label.ensurePolished()
    assert label.font().pointSizeF() == pytest.approx(20)
    appearance().apply(qapp, presentation=True, scale=1.5)
    label.ensurePolished()
    assert label.font().pointSizeF() == pytest.approx(30)
    assert HIGH_CONTRAST.text in label.styleSheet()
    appearance().apply(qapp, theme="light")
    assert QApplication.font().pointSizeF() == pytest.approx(BASE_POINT_SIZE)


# -- themes ---------------------------------------------------------------------------------------
def test_system_theme_follows_a_colour_scheme_change(qapp):
    a = appearance()
    a.apply(qapp, theme="system")
    seen = []
    a.changed.connect(seen.append)
    try:
        a.system_scheme_changed(Qt.ColorScheme.Dark)
        assert a.look.theme == "dark"
        assert qapp.palette().window().color().name() == DARK.window
        a.system_scheme_changed(Qt.ColorScheme.Light)
        assert a.look.theme == "light"
        assert [look.theme for look in seen] == ["dark", "light"]
        a.apply(qapp, theme="dark")  # a chosen theme ignores the system
        a.system_scheme_changed(Qt.ColorScheme.Light)
        assert a.look.theme == "dark"
    finally:
        a.changed.disconnect(seen.append)


def test_bad_theme_or_scale_is_refused_in_plain_words(qapp):
    with pytest.raises(ValueError, match="theme"):
        appearance().apply(qapp, theme="purple")
    with pytest.raises(ValueError, match="scale"):
        appearance().apply(qapp, presentation=True, scale=9)
    assert appearance().look.theme == "light"


def test_primary_buttons_grow_in_presentation_mode(qapp, qtbot):
    button = QPushButton("Train")
    button.setObjectName("primary")
    qtbot.addWidget(button)
    plain = button.sizeHint()
    appearance().apply(qapp, presentation=True, scale=1.5)
    big = button.sizeHint()
    assert big.height() > plain.height() * 1.5 and big.width() > plain.width() * 1.5


# -- the Advanced expander ----------------------------------------------------------------------
def test_advanced_expander_hides_and_shows_by_keyboard(qapp, qtbot):
    holder = QWidget()
    section = AdvancedSection("Advanced settings", holder)
    inner = QPushButton("Seed", section)
    section.add_widget(inner)
    qtbot.addWidget(holder)
    holder.show()
    assert section.is_open() and inner.isVisible()  # outside presentation: all in view
    section.button.setFocus()
    assert section.button.focusPolicy() & Qt.FocusPolicy.TabFocus
    qtbot.keyClick(section.button, Qt.Key.Key_Space)
    assert not section.is_open() and not inner.isVisible()
    assert "▸" in section.button.text()
    qtbot.keyClick(section.button, Qt.Key.Key_Space)
    assert section.is_open() and inner.isVisible()
    appearance().apply(qapp, presentation=True, scale=1.25)
    assert not inner.isVisible()  # presentation: folded away
    appearance().apply(qapp, theme="light")
    assert inner.isVisible()


def _check_advanced_sections(qapp, window: MainWindow) -> None:
    sections = window.findChildren(AdvancedSection)
    tabs = {window.tabs.tabText(window.tabs.indexOf(_top_tab(window, s))) for s in sections}
    assert {"Classifier", "Diffusion", "Embeddings"} <= tabs
    form = window.classifier.form if hasattr(window.classifier, "form") else None
    appearance().apply(qapp, presentation=True, scale=1.5)
    assert all(not s.is_open() for s in sections)
    if form is not None:
        assert form.learning_rate.isHidden() or not form.learning_rate.isVisibleTo(form)
        assert form.epochs.isVisibleTo(form)
    appearance().apply(qapp, theme="light")
    assert all(s.is_open() for s in sections)


def _top_tab(window: MainWindow, widget: QWidget) -> QWidget:
    while window.tabs.indexOf(widget) < 0:
        widget = widget.parentWidget()
    return widget
