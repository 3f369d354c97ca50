"""The one plot widget for curves: live appends, smoothing, log scale, crosshair, overfitting.

Data arrives as fast as it likes (append / set_data); drawing happens at most ~30 times a
second on a single-shot timer. Long series stay smooth to pan and zoom: pyqtgraph draws only
what is in view (clip to view) and at most a few points per pixel (peak downsampling).
While a run streams, only series with new points are redrawn, and the auto-range steps ahead
of the data in round numbers, so the axes rebuild their labels now and then, not every frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen

from lab.core.runs import ema_smooth
from lab.ui.theme import OKABE_ITO, SYMBOLS

REDRAW_MS = 33
DASHES = (
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.DashLine,
    Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine,
    Qt.PenStyle.DashDotDotLine,
)
# Antialiasing is turned on per curve, only for curves short enough to draw it quickly.
pg.setConfigOptions(antialias=False, background="w", foreground="#222222")
ANTIALIAS_BELOW = 3000
# Peak downsampling to about one min/max pair per pixel column draws the same picture as
# pyqtgraph's default of five, in a third of the time.
DOWNSAMPLE_FACTOR = 1.0
# While a run streams, the auto-range grows in coarse steps: the axes rebuild their tick
# text only when the range changes, which plain auto-range makes every frame.
NICE_STEPS = (1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0)


def nice_ceil(value: float) -> float:
    """The smallest round number (1, 1.5, 2, 3, 5 or 7.5 × 10^k) at or above value."""
    if not (value > 0 and np.isfinite(value)):
        return value
    scale = 10.0 ** np.floor(np.log10(value))
    return next(s * scale for s in NICE_STEPS if s * scale >= value * (1 - 1e-12))


def sticky_x(lo: float, hi: float, box: tuple[float, float] | None) -> tuple[float, float]:
    """An x range ahead of the data: kept while the data fits and fills 40% of it."""
    if box is not None and box[0] <= lo and hi <= box[1] and hi - lo >= 0.4 * (box[1] - box[0]):
        return box
    if hi <= lo:
        return padded(lo, hi)
    # A margin before the first point too, wider than a curve's pen: else the pen's padding
    # (pixels, so data units that change with the range) moves the range a second time.
    width = nice_ceil(1.1 * (hi - lo))
    return (lo - 0.02 * width, lo + width)


def sticky_y(lo: float, hi: float, box: tuple[float, float] | None) -> tuple[float, float]:
    """A y range with 10% headroom each side: kept while the data fits and fills 60% of it."""
    if box is not None and box[0] <= lo and hi <= box[1] and hi - lo >= 0.6 * (box[1] - box[0]):
        return box
    return padded(lo, hi, 0.1)


def padded(lo: float, hi: float, margin: float = 0.03) -> tuple[float, float]:
    """lo..hi with a margin each side (a single value gets a range around it)."""
    pad = margin * (hi - lo) if hi > lo else 0.1 * abs(lo) or 0.5
    return (lo - pad, hi + pad)


class _OpaqueGridAxis(pg.AxisItem):
    """An axis whose faint grid lines are drawn in solid colours that look the same.

    Qt blends see-through lines pixel by pixel, some 30 times slower than solid ones: the
    grid of a full-screen plot took a third of every frame.
    """

    def generateDrawSpecs(self, p):  # noqa: N802 (pyqtgraph name)
        specs = super().generateDrawSpecs(p)
        view = self.getViewWidget()
        if specs is None or view is None:
            return specs
        paper = view.backgroundBrush().color()
        if view.backgroundBrush().style() == Qt.BrushStyle.NoBrush or paper.alpha() < 255:
            return specs
        axis_spec, tick_specs, text_specs = specs
        solid = []
        for pen, p1, p2 in tick_specs:
            ink = pen.color()
            a = ink.alphaF()
            if a < 1.0:
                pen = QPen(pen)
                pen.setColor(
                    QColor.fromRgbF(
                        a * ink.redF() + (1 - a) * paper.redF(),
                        a * ink.greenF() + (1 - a) * paper.greenF(),
                        a * ink.blueF() + (1 - a) * paper.blueF(),
                    )
                )
            solid.append((pen, p1, p2))
        return axis_spec, solid, text_specs


class _RangeBox(pg.GraphicsObject):
    """Draws nothing; its bounds (the sticky range) are what auto-range fits, with the data."""

    def __init__(self) -> None:
        super().__init__()
        self.box: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 in view units

    def set_box(self, box: tuple[float, float, float, float] | None) -> None:
        if box != self.box:
            self.box = box
            self.informViewBoundsChanged()

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange=None):  # noqa: N802
        return None if self.box is None else self.box[2 * axis : 2 * axis + 2]

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF()

    def paint(self, *args) -> None:
        pass


@dataclass
class _Series:
    item: pg.PlotDataItem
    raw_item: pg.PlotDataItem | None  # the faint unsmoothed curve behind a smoothed one
    label: str
    xs: np.ndarray = field(default_factory=lambda: np.zeros(64))
    ys: np.ndarray = field(default_factory=lambda: np.zeros(64))
    n: int = 0
    smooth: bool = False
    borrowed: bool = False
    dirty: bool = True  # new data since the last redraw
    grew: bool = False  # ... and only more of it (a run streaming): set back on each redraw
    bounds: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 as drawn
    shown: np.ndarray | None = None  # the y values drawn (smoothed), for the outlier range

    def append(self, x: float, y: float) -> None:
        if self.n == len(self.xs) or self.borrowed:
            size = max(64, 2 * self.n)
            for name in ("xs", "ys"):
                grown = np.empty(size)
                grown[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, grown)
            self.borrowed = False
        self.xs[self.n] = x
        self.ys[self.n] = y
        self.n += 1
        self.dirty = True

    def set(self, xs, ys) -> None:
        # No copy: callers hand over arrays they no longer change (or read-only views).
        n_before = self.n
        self.xs = np.asarray(xs, dtype=np.float64)
        self.ys = np.asarray(ys, dtype=np.float64)
        self.n = len(self.xs)
        self.borrowed = True  # copy before appending to arrays that are not ours
        self.grew = self.grew and 0 < n_before < self.n
        self.dirty = True


def _bounds(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float, float] | None:
    """x0, x1, y0, y1 of the points with a finite y; None when there are none."""
    ok = np.isfinite(ys)
    if not ok.any():
        return None
    if not ok.all():
        xs, ys = xs[ok], ys[ok]
    return float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())


class LivePlot(pg.PlotWidget):
    """Named series; `smoothing`, `log_y` and `ignore_outliers` apply to all of them."""

    hovered = Signal(str)  # the crosshair's readout

    def __init__(self, title: str, x_label: str, y_label: str, parent=None) -> None:
        super().__init__(
            parent=parent, axisItems={a: _OpaqueGridAxis(a) for a in ("bottom", "left")}
        )
        self.setTitle(title, size="13pt")
        self.setLabel("bottom", x_label)
        self.setLabel("left", y_label)
        for axis in ("bottom", "left"):
            self.getAxis(axis).enableAutoSIPrefix(False)  # "x0.001" confuses students
            self.getAxis(axis).setZValue(-200)  # its solid grid lines go behind the curves
        self.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.addLegend(offset=(-10, 10), labelTextSize="11pt")
        item = self.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.series: dict[str, _Series] = {}
        self.smoothing = 0.0
        self.log_y = False
        self.ignore_outliers = False
        self.fixed_y: tuple[float, float] | None = None
        self.frozen = False
        self.redraws = 0
        self._paint_s = 0.0  # recent time one paint takes, to pace redraws
        self._marks: list = []
        self._range_box = _RangeBox()
        self.addItem(self._range_box)
        # The range box carries the margins: pyqtgraph's own depend on the plot's width, which
        # moves with the width of the tick labels, so every new range came twice.
        item.getViewBox().setDefaultPadding(0.0)
        self._outlier_y: tuple[float, float] | None = None
        self._y_mode = ""
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(lambda: self.redraw(changed_only=True))
        self._vline = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#777777", width=1))
        self._hline = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("#777777", width=1))
        for line in (self._vline, self._hline):
            line.setZValue(50)
            line.hide()
            self.addItem(line, ignoreBounds=True)
        self.readout = pg.TextItem(
            anchor=(0, 1), color="#111111", fill=pg.mkBrush(255, 255, 255, 220)
        )
        self.readout.setZValue(60)
        self.readout.hide()
        self.addItem(self.readout, ignoreBounds=True)
        self._mouse = pg.SignalProxy(
            self.scene().sigMouseMoved, rateLimit=60, slot=self._mouse_moved
        )
        self.setMinimumHeight(180)

    # -- series -------------------------------------------------------------------------------
    def add_series(
        self,
        name: str,
        index: int,
        *,
        width: float = 2.0,
        symbol: bool = False,
        faint: bool = False,
        dashed: bool = False,
        smooth: bool = False,
        color: str | None = None,
        style: int | None = None,
    ) -> None:
        """index picks colour, marker and (with style) dash pattern from the shared palette."""
        if name in self.series:
            self.remove_series(name)
        qcolor = QColor(color or OKABE_ITO[index % len(OKABE_ITO)])
        dash = (
            DASHES[style % len(DASHES)]
            if style is not None
            else (Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        )
        if faint:
            qcolor.setAlpha(90)
        raw_item = None
        if smooth:
            faded = QColor(qcolor)
            faded.setAlpha(60)
            raw_item = pg.PlotDataItem([], [], pen=pg.mkPen(faded, width=1), skipFiniteCheck=True)
            self.addItem(raw_item)
        marker = SYMBOLS[index % len(SYMBOLS)] if symbol else None
        item = self.plot(
            [],
            [],
            pen=pg.mkPen(qcolor, width=width, style=dash),
            name=name,
            symbol=marker,
            symbolSize=9,
            symbolBrush=qcolor,
            symbolPen=pg.mkPen(qcolor),
            skipFiniteCheck=True,
        )
        for curve in (item, raw_item):
            if curve is not None:
                curve.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
        self.series[name] = _Series(item, raw_item, name, smooth=smooth)

    def remove_series(self, name: str) -> None:
        s = self.series.pop(name, None)
        if s is None:
            return
        self.removeItem(s.item)
        if s.raw_item is not None:
            self.removeItem(s.raw_item)
        self.legend.removeItem(s.item)
        self._schedule()  # the auto-range fits the curves left

    def clear_series(self) -> None:
        for name in list(self.series):
            self.remove_series(name)
        self.clear_marks()

    def append(self, name: str, x: float, y: float) -> None:
        self.series[name].append(float(x), float(y))
        self._schedule()

    def set_data(self, name: str, xs, ys) -> None:
        self.series[name].set(xs, ys)
        self._schedule()

    def data(self, name: str) -> tuple[list[float], list[float]]:
        s = self.series[name]
        return s.xs[: s.n].tolist(), s.ys[: s.n].tolist()

    def drawn(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """What the curve shows now (smoothed if smoothing is on), every point of it."""
        item = self.series[name].item  # (getData() would give the downsampled points on screen)
        x, y = item.xData, item.yData
        return (np.array([]), np.array([])) if x is None else (np.asarray(x), np.asarray(y))

    def clear_data(self) -> None:
        for s in self.series.values():
            s.n = 0
        self.clear_marks()
        self.redraw()

    # -- options -----------------------------------------------------------------------------
    def set_smoothing(self, weight: float) -> None:
        self.smoothing = min(max(float(weight), 0.0), 0.99)
        self.redraw()

    def set_log_y(self, on: bool) -> None:
        self.log_y = bool(on)
        self.setLogMode(y=self.log_y)
        self.redraw()

    def set_ignore_outliers(self, on: bool) -> None:
        self.ignore_outliers = bool(on)
        self.redraw()

    def autoscale(self) -> None:
        self.getPlotItem().enableAutoRange()
        self.redraw()

    def set_frozen(self, frozen: bool) -> None:
        """While frozen, data keeps arriving but nothing is redrawn; unfreezing catches up."""
        self.frozen = bool(frozen)
        if not frozen:
            self.redraw()

    # -- marks: best epoch and overfitting spans -------------------------------------------
    def clear_marks(self) -> None:
        for item in self._marks:
            self.removeItem(item)
        self._marks = []

    def mark_point(self, x: float, y: float, text: str, color: str = "#000000") -> None:
        y_shown = np.log10(y) if self.log_y and y > 0 else y
        dot = pg.ScatterPlotItem(
            [x], [y_shown], symbol="star", size=18, brush=pg.mkBrush(color), pen=pg.mkPen("#000000")
        )
        # Near either end of the data, the label grows inwards so it is not cut at the edge.
        xs = [s.xs[: s.n] for s in self.series.values() if s.n]
        lo, hi = (min(a.min() for a in xs), max(a.max() for a in xs)) if xs else (x, x)
        where = (x - lo) / (hi - lo) if hi > lo else 0.5
        ax = 1.0 if where > 0.7 else 0.0 if where < 0.3 else 0.5
        label = pg.TextItem(text, anchor=(ax, 1.4), color=color)
        label.setPos(x, y_shown)
        for item in (dot, label):
            item.setZValue(40)
            self.addItem(item, ignoreBounds=True)
            self._marks.append(item)

    def shade(self, x0: float, x1: float, tooltip: str) -> None:
        region = pg.LinearRegionItem(
            (x0, x1), movable=False, brush=pg.mkBrush(213, 94, 0, 40), pen=pg.mkPen(None)
        )
        region.setZValue(-10)
        region.setToolTip(tooltip)
        self.addItem(region, ignoreBounds=True)
        self._marks.append(region)

    # -- drawing -----------------------------------------------------------------------------
    def _schedule(self) -> None:
        if not self.frozen and not self._redraw.isActive():
            # Never spend more than about a quarter of the GUI thread on painting.
            self._redraw.start(int(min(250, max(REDRAW_MS, 4000 * self._paint_s))))

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        t0 = time.perf_counter()
        super().paintEvent(event)
        self._paint_s = 0.7 * self._paint_s + 0.3 * (time.perf_counter() - t0)

    def redraw(self, changed_only: bool = False) -> None:
        """Redraw every series, or (each frame while data arrives) only those with new data."""
        self._redraw.stop()
        if self.frozen:
            return
        self.redraws += 1
        changed = [s for s in self.series.values() if s.dirty]
        streaming = changed_only and bool(changed) and all(s.grew for s in changed)
        for s in self.series.values():
            if changed_only and not s.dirty:
                continue
            s.dirty, s.grew = False, True
            xs, ys = s.xs[: s.n], s.ys[: s.n].copy()
            ys[~np.isfinite(ys)] = np.nan  # a diverged run leaves a gap, not a crash
            if self.log_y:
                ys[ys <= 0] = np.nan
            s.bounds = _bounds(xs, np.log10(ys) if self.log_y else ys)
            if s.smooth and self.smoothing > 0:
                s.raw_item.setData(xs, ys, connect="finite", antialias=s.n < ANTIALIAS_BELOW)
                s.raw_item.show()
                ys = ema_smooth(ys, self.smoothing)
            elif s.raw_item is not None:
                s.raw_item.hide()
            smooth_aa = s.n < ANTIALIAS_BELOW
            s.item.setData(xs, ys, connect="finite", antialias=smooth_aa)
            s.shown = ys
        self._fit_range_box(streaming)
        self._apply_y_range(streaming)

    def _fit_range_box(self, streaming: bool) -> None:
        """Auto-range fits the data (with margins), or while a run streams, a range a step ahead."""
        boxes = [s.bounds for s in self.series.values() if s.bounds and s.item.isVisible()]
        if not boxes:
            self._range_box.set_box(None)
            return
        x0, x1 = min(b[0] for b in boxes), max(b[1] for b in boxes)
        y0, y1 = min(b[2] for b in boxes), max(b[3] for b in boxes)
        old = self._range_box.box
        if streaming and old is not None:
            (x0, x1), (y0, y1) = sticky_x(x0, x1, old[:2]), sticky_y(y0, y1, old[2:])
        else:
            (x0, x1), (y0, y1) = padded(x0, x1), padded(y0, y1)
        self._range_box.set_box((x0, x1, y0, y1))

    def _apply_y_range(self, streaming: bool = False) -> None:
        vb = self.getPlotItem().getViewBox()
        if self.fixed_y is not None and not self.log_y:
            self._y_mode = "fixed"
            vb.setYRange(*self.fixed_y, padding=0)
            return
        if not self.ignore_outliers:
            # While a run streams, a y range the user zoomed to is left alone.
            if not streaming or self._y_mode != "auto":
                vb.enableAutoRange(axis="y")
            self._y_mode = "auto"
            return
        self._y_mode = "outliers"
        shown = [s.shown for s in self.series.values() if s.shown is not None]
        values = np.concatenate([v[np.isfinite(v)] for v in shown]) if shown else np.array([])
        if self.log_y:
            values = np.log10(values[values > 0])
        if len(values) < 2:
            return
        # TensorBoard-style: scale to the bulk, ignoring the extreme 2% at each end.
        lo, hi = np.percentile(values, [2, 98], method="nearest")
        pad = (hi - lo) * 0.08 or 0.1
        box = (lo - pad, hi + pad)
        if streaming and self._outlier_y is not None:
            box = sticky_y(lo, hi, self._outlier_y)
        self._outlier_y = box
        vb.setYRange(*box, padding=0)

    # -- crosshair -------------------------------------------------------------------------
    def _mouse_moved(self, args) -> None:
        pos = args[0]
        vb = self.getPlotItem().getViewBox()
        if not self.sceneBoundingRect().contains(pos) or not self.series:
            return
        point = vb.mapSceneToView(pos)
        text = self.readout_at(point.x(), point.y())
        self._vline.setPos(point.x())
        self._hline.setPos(point.y())
        for line in (self._vline, self._hline):
            line.show()
        if text:
            self.readout.setText(text)
            self.readout.setPos(point)
            self.readout.show()
            self.hovered.emit(text)

    def readout_at(self, x: float, y: float) -> str:
        """The point nearest the mouse among the shown curves: 'run · x · value'."""
        best = None
        for s in self.series.values():
            if not s.item.isVisible():
                continue
            xs, ys = self.drawn(s.label)
            if len(xs) == 0:
                continue
            i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
            for j in (i - 1, i):
                if 0 <= j < len(xs) and np.isfinite(ys[j]):
                    shown_y = np.log10(ys[j]) if self.log_y and ys[j] > 0 else ys[j]
                    d = abs(xs[j] - x) + abs(shown_y - y) * 1e-3
                    if best is None or d < best[0]:
                        best = (d, s.label, xs[j], ys[j])
        if best is None:
            return ""
        _, label, bx, by = best
        x_name = self.getAxis("bottom").labelText or "x"
        return f"{label} · {x_name} {bx:g} · value {by:.4g}"
