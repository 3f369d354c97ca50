"""Restyle every pyqtgraph plot for the current look: fonts, line widths, marker sizes, colours.

One generic mechanism instead of edits in every plot: each item's own (base) pen width, marker
size and font size is remembered the first time it is seen, so applying a look again (or going
back to 100 %) is exact. Items that plots add later are styled as they are added (a hook on
ViewBox / LegendItem / GraphicsView). A value that a plot changes itself later becomes the
new base: plots keep building their pens at 100 % and never scale them twice.
"""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QApplication
from shiboken6 import isValid

from lab.ui.theme import BASE_POINT_SIZE, OKABE_ITO

_PT = re.compile(r"([0-9.]+)\s*pt")
_OKABE = {QColor(c).name(): i for i, c in enumerate(OKABE_ITO)}


def _look():
    from lab.ui.appearance import appearance

    a = appearance()
    return a.look, a.theme


def _is_plain(look) -> bool:
    return look.scale == 1.0 and look.theme == "light"


# -- remembered base values -------------------------------------------------------------------
def _base(item, key: str, current, same=None):
    """The item's own value for key: remembered, unless the plot changed it since we set it."""
    store = item.__dict__.setdefault("_lab_style", {})
    same = same or (lambda a, b: a == b)
    if key not in store or not same(current, store[key][1]):
        store[key] = [current, current]
    return store[key][0]


def _applied(item, key: str, value) -> None:
    item.__dict__["_lab_style"][key][1] = value


# -- colours --------------------------------------------------------------------------------------
def map_color(color: QColor, theme, paper: bool = True) -> QColor:
    """A plot colour in the theme: Okabe–Ito hues become the theme's variant; on a dark plot,
    black ink turns to the foreground and white paper to the background."""
    from lab.ui.appearance import relative_luminance

    c = QColor(color)
    i = _OKABE.get(c.name())
    if i is not None and i < len(theme.series):
        out = QColor(theme.series[i])
    elif relative_luminance(theme.plot_background) < 0.2 and c.alpha() > 0:
        lum = relative_luminance(c)
        if c.saturation() < 30 and lum < 0.03:
            out = QColor(theme.plot_foreground)
        elif paper and c.saturation() < 30 and lum > 0.9:
            out = QColor(theme.plot_background)
        else:
            return c
    else:
        return c
    out.setAlpha(c.alpha())
    return out


def _scaled_pen(base: QPen, scale: float, theme) -> QPen:
    pen = QPen(base)
    if base.style() != pg.QtCore.Qt.PenStyle.NoPen:
        width = base.widthF() or 1.0  # width 0 draws 1 pixel
        pen.setWidthF(width * scale)
        pen.setColor(map_color(base.color(), theme))
    return pen


def _mapped_brush(base: QBrush, theme) -> QBrush:
    brush = QBrush(base)
    if base.style() != pg.QtCore.Qt.BrushStyle.NoBrush:
        # A white fill stays white ("the white dot"); only white outlines turn to background.
        brush.setColor(map_color(base.color(), theme, paper=False))
    return brush


def _pen_of(value) -> QPen:
    return value if isinstance(value, QPen) else pg.mkPen(value)


def _brush_of(value) -> QBrush | None:
    if isinstance(value, QBrush):
        return value
    if (
        isinstance(value, (list, tuple, np.ndarray))
        and len(value)
        and not isinstance(value[0], (int, float, np.integer, np.floating))
    ):
        return None  # one brush per point: left as the plot made them
    return pg.mkBrush(value)


def _font_pt(size: str | None, default: float = BASE_POINT_SIZE) -> float:
    m = _PT.search(size or "")
    return float(m.group(1)) if m else float(default)


# -- items ------------------------------------------------------------------------------------------
def style_item(item, look, theme) -> None:
    s = look.scale
    if isinstance(item, pg.AxisItem):
        _style_axis(item, s, theme)
    elif isinstance(item, pg.LegendItem):
        _style_legend(item, s, theme)
    elif isinstance(item, pg.LabelItem):
        if not isinstance(item.parentItem(), pg.LegendItem) and not _in_legend(item):
            _style_label(item, s, theme)
    elif isinstance(item, pg.PlotDataItem):
        _style_data_item(item, s, theme)
    elif isinstance(item, (pg.PlotCurveItem, pg.ScatterPlotItem)):
        if not isinstance(item.parentItem(), pg.PlotDataItem):
            if isinstance(item, pg.ScatterPlotItem):
                _style_scatter(item, s, theme)
            else:
                base = _base(item, "pen", QPen(_pen_of(item.opts["pen"])))
                pen = _scaled_pen(base, s, theme)
                item.setPen(pen)
                _applied(item, "pen", pen)
    elif isinstance(item, pg.InfiniteLine):
        base = _base(item, "pen", QPen(item.pen))
        pen = _scaled_pen(base, s, theme)
        item.setPen(pen)
        _applied(item, "pen", QPen(item.pen))
    elif isinstance(item, pg.TextItem):
        _style_text(item, s, theme)


def _in_legend(item) -> bool:
    p = item.parentItem()
    while p is not None:
        if isinstance(p, pg.LegendItem):
            return True
        p = p.parentItem()
    return False


def _style_axis(axis: pg.AxisItem, s: float, theme) -> None:
    tick_font = axis.style.get("tickFont")
    current_pt = tick_font.pointSizeF() if tick_font is not None else float(BASE_POINT_SIZE)
    base_pt = _base(axis, "tick_pt", current_pt)
    font = QFont(tick_font) if tick_font is not None else QFont()
    font.setPointSizeF(base_pt * s)
    axis.setTickFont(font)
    _applied(axis, "tick_pt", font.pointSizeF())
    base_len = _base(axis, "tick_len", axis.style["tickLength"])
    axis.setStyle(tickLength=int(round(base_len * s)))
    _applied(axis, "tick_len", axis.style["tickLength"])
    fg = theme.plot_foreground
    axis.setPen(pg.mkPen(fg))
    axis.setTextPen(pg.mkPen(fg))
    size = axis.labelStyle.get("font-size")
    base_label = _base(axis, "label", size)
    pt = _font_pt(base_label) * s
    axis.labelStyle = {**axis.labelStyle, "font-size": f"{pt:.2f}pt", "color": fg}
    _applied(axis, "label", axis.labelStyle["font-size"])
    axis._updateLabel()  # noqa: SLF001 (pyqtgraph redraws the label text with its style)


def _style_label(label: pg.LabelItem, s: float, theme, base_size: str | None = None) -> None:
    size = label.opts.get("size")
    base = base_size if base_size is not None else _base(label, "size", size)
    applied = f"{_font_pt(base) * s:.2f}pt"
    base_color = _base(label, "color", label.opts.get("color"))
    color = map_color(pg.mkColor(base_color), theme) if base_color is not None else None
    label.setText(
        label.text, size=applied, color=color if color is not None else theme.plot_foreground
    )
    if base_size is None:
        _applied(label, "size", applied)
    _applied(label, "color", label.opts.get("color"))


def _style_legend(legend: pg.LegendItem, s: float, theme) -> None:
    base = _base(legend, "size", legend.opts["labelTextSize"])
    legend.opts["labelTextSize"] = f"{_font_pt(base) * s:.2f}pt"
    _applied(legend, "size", legend.opts["labelTextSize"])
    legend.opts["labelTextColor"] = pg.mkColor(theme.plot_foreground)
    for _sample, label in legend.items:
        label.setText(label.text, size=legend.opts["labelTextSize"], color=theme.plot_foreground)
    legend.updateSize()


def _style_data_item(item: pg.PlotDataItem, s: float, theme) -> None:
    opts = item.opts
    base_pen = _base(item, "pen", QPen(_pen_of(opts["pen"])))
    pen = _scaled_pen(base_pen, s, theme)
    item.setPen(pen)
    _applied(item, "pen", QPen(opts["pen"]))
    if opts.get("symbol") is None:
        return
    base_size = _base(item, "symbol_size", opts["symbolSize"])
    item.setSymbolSize(base_size * s)
    _applied(item, "symbol_size", opts["symbolSize"])
    base_spen = _base(item, "symbol_pen", QPen(_pen_of(opts["symbolPen"])))
    spen = _scaled_pen(base_spen, s, theme)
    item.setSymbolPen(spen)
    _applied(item, "symbol_pen", QPen(opts["symbolPen"]))
    brush = _brush_of(opts["symbolBrush"])
    if brush is not None:
        base_brush = _base(item, "symbol_brush", QBrush(brush))
        mapped = _mapped_brush(base_brush, theme)
        item.setSymbolBrush(mapped)
        _applied(item, "symbol_brush", QBrush(_brush_of(opts["symbolBrush"])))


def _style_scatter(item: pg.ScatterPlotItem, s: float, theme) -> None:
    opts = item.opts
    base_size = _base(item, "size", opts["size"])
    item.setSize(base_size * s, update=False)
    _applied(item, "size", opts["size"])
    sizes = item.data["size"]
    if len(sizes) and np.any(sizes >= 0):  # sizes given point by point
        base = _base(item, "sizes", sizes.copy(), lambda a, b: np.array_equal(a, b))
        scaled = np.where(base >= 0, base * s, base)
        item.setSize(scaled, update=False)
        _applied(item, "sizes", scaled.copy())
    base_pen = _base(item, "pen", QPen(_pen_of(opts["pen"])))
    item.setPen(_scaled_pen(base_pen, s, theme), update=False)
    _applied(item, "pen", QPen(_pen_of(opts["pen"])))
    brush = _brush_of(opts["brush"])
    if brush is not None:
        base_brush = _base(item, "brush", QBrush(brush))
        item.setBrush(_mapped_brush(base_brush, theme), update=False)
        _applied(item, "brush", QBrush(_brush_of(opts["brush"])))
    item.updateSpots()
    item.prepareGeometryChange()
    item.bounds = [None, None]
    item.update()


def _style_text(item: pg.TextItem, s: float, theme) -> None:
    font = item.textItem.font()
    base_pt = _base(item, "pt", font.pointSizeF() if font.pointSizeF() > 0 else BASE_POINT_SIZE)
    font.setPointSizeF(base_pt * s)
    item.setFont(font)
    _applied(item, "pt", font.pointSizeF())
    if item.fill.style() == pg.QtCore.Qt.BrushStyle.NoBrush:  # on the plot itself
        base = _base(item, "color", QColor(item.color))
        color = map_color(base, theme)
        item.setColor(color)
        _applied(item, "color", QColor(item.color))


# -- views ------------------------------------------------------------------------------------------
def style_view(view: pg.GraphicsView) -> None:
    if not isValid(view):
        return
    look, theme = _look()
    view.setBackground(theme.plot_background)
    if view.scene() is None:
        return
    for item in view.scene().items():
        style_item(item, look, theme)


def style_all_plots() -> None:
    app = QApplication.instance()
    if app is None:
        return
    _, theme = _look()
    pg.setConfigOptions(background=theme.plot_background, foreground=theme.plot_foreground)
    for widget in app.allWidgets():
        if isinstance(widget, pg.GraphicsView):
            style_view(widget)


def _style_tree(item) -> None:
    look, theme = _look()
    if _is_plain(look) and "_lab_style" not in item.__dict__:
        return  # items are made at 100 % in the light theme: nothing to do
    style_item(item, look, theme)
    for child in item.childItems():
        _style_tree(child)


# -- hooks: items and plots added after a look was applied ---------------------------------------
def install_hooks() -> None:
    if getattr(pg.ViewBox, "_lab_hooked", False):
        return
    view_box_add = pg.ViewBox.addItem
    legend_add = pg.LegendItem.addItem
    set_central = pg.GraphicsView.setCentralItem

    def add_item(self, item, *args, **kwargs):
        view_box_add(self, item, *args, **kwargs)
        _style_tree(item)

    def add_legend_item(self, item, name):
        legend_add(self, item, name)
        look, theme = _look()
        if not _is_plain(look) or "_lab_style" in self.__dict__:
            _style_legend(self, look.scale, theme)

    def central(self, item):
        set_central(self, item)
        look, _ = _look()
        if not _is_plain(look):
            # After the plot's constructor has set its titles and labels.
            QTimer.singleShot(0, lambda view=self: style_view(view))

    pg.ViewBox.addItem = add_item
    pg.LegendItem.addItem = add_legend_item
    pg.GraphicsView.setCentralItem = central
    pg.ViewBox._lab_hooked = True
