"""The one plot widget for curves: live appends, smoothing, log scale, crosshair, overfitting.

Data arrives as fast as it likes (append / set_data); drawing happens at most ~30 times a
second on a single-shot timer. Long series stay smooth to pan and zoom: pyqtgraph draws only
what is in view (clip to view) and at most a few points per pixel (peak downsampling).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor

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

    def set(self, xs, ys) -> None:
        # No copy: callers hand over arrays they no longer change (or read-only views).
        self.xs = np.asarray(xs, dtype=np.float64)
        self.ys = np.asarray(ys, dtype=np.float64)
        self.n = len(self.xs)
        self.borrowed = True  # copy before appending to arrays that are not ours


class LivePlot(pg.PlotWidget):
    """Named series; `smoothing`, `log_y` and `ignore_outliers` apply to all of them."""

    hovered = Signal(str)  # the crosshair's readout

    def __init__(self, title: str, x_label: str, y_label: str, parent=None) -> None:
        super().__init__(parent=parent)
        self.setTitle(title, size="13pt")
        self.setLabel("bottom", x_label)
        self.setLabel("left", y_label)
        for axis in ("bottom", "left"):
            self.getAxis(axis).enableAutoSIPrefix(False)  # "x0.001" confuses students
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
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self.redraw)
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
        self.series[name] = _Series(item, raw_item, name, smooth=smooth)

    def remove_series(self, name: str) -> None:
        s = self.series.pop(name, None)
        if s is None:
            return
        self.removeItem(s.item)
        if s.raw_item is not None:
            self.removeItem(s.raw_item)
        self.legend.removeItem(s.item)

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
        """What the curve shows now (smoothed if smoothing is on)."""
        x, y = self.series[name].item.getData()
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
        label = pg.TextItem(text, anchor=(0.5, 1.4), color=color)
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

    def redraw(self) -> None:
        self._redraw.stop()
        if self.frozen:
            return
        self.redraws += 1
        shown = []
        for s in self.series.values():
            xs, ys = s.xs[: s.n], s.ys[: s.n].copy()
            ys[~np.isfinite(ys)] = np.nan  # a diverged run leaves a gap, not a crash
            if self.log_y:
                ys[ys <= 0] = np.nan
            if s.smooth and self.smoothing > 0:
                s.raw_item.setData(xs, ys, connect="finite", antialias=s.n < ANTIALIAS_BELOW)
                s.raw_item.show()
                ys = ema_smooth(ys, self.smoothing)
            elif s.raw_item is not None:
                s.raw_item.hide()
            smooth_aa = s.n < ANTIALIAS_BELOW
            s.item.setData(xs, ys, connect="finite", antialias=smooth_aa)
            shown.append(ys)
        self._apply_y_range(shown)

    def _apply_y_range(self, shown: list[np.ndarray]) -> None:
        vb = self.getPlotItem().getViewBox()
        if self.fixed_y is not None and not self.log_y:
            vb.setYRange(*self.fixed_y, padding=0)
            return
        if not self.ignore_outliers:
            vb.enableAutoRange(axis="y")
            return
        values = np.concatenate([v[np.isfinite(v)] for v in shown]) if shown else np.array([])
        if self.log_y:
            values = np.log10(values[values > 0])
        if len(values) < 2:
            return
        # TensorBoard-style: scale to the bulk, ignoring the extreme 2% at each end.
        lo, hi = np.percentile(values, [2, 98], method="nearest")
        pad = (hi - lo) * 0.08 or 0.1
        vb.setYRange(lo - pad, hi + pad, padding=0)

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
