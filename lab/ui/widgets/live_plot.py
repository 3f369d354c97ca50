"""A plot that takes data as fast as it comes and redraws at most ~30 times a second."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor

from lab.ui.theme import OKABE_ITO, SYMBOLS

REDRAW_MS = 33
pg.setConfigOptions(antialias=True, background="w", foreground="#222222")


@dataclass
class _Series:
    item: pg.PlotDataItem
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)


class LivePlot(pg.PlotWidget):
    """Named series with append(); drawing happens on a short single-shot timer."""

    def __init__(self, title: str, x_label: str, y_label: str, parent=None) -> None:
        super().__init__(parent=parent)
        self.setTitle(title, size="13pt")
        self.setLabel("bottom", x_label)
        self.setLabel("left", y_label)
        for axis in ("bottom", "left"):
            self.getAxis(axis).enableAutoSIPrefix(False)  # "x0.001" confuses students
        self.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.addLegend(offset=(-10, 10), labelTextSize="11pt")
        plot_item = self.getPlotItem()
        plot_item.setClipToView(True)
        plot_item.setDownsampling(auto=True, mode="peak")
        self.series: dict[str, _Series] = {}
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self.redraw)
        self.setMinimumHeight(180)

    def add_series(
        self,
        name: str,
        index: int,
        *,
        width: float = 2.0,
        symbol: bool = False,
        faint: bool = False,
        dashed: bool = False,
    ) -> None:
        color = QColor(OKABE_ITO[index % len(OKABE_ITO)])
        if faint:
            color.setAlpha(90)
        pen = pg.mkPen(
            color, width=width, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
        )
        item = self.plot(
            [],
            [],
            pen=pen,
            name=name,
            symbol=SYMBOLS[index % len(SYMBOLS)] if symbol else None,
            symbolSize=9,
            symbolBrush=color,
            symbolPen=pg.mkPen(color),
            skipFiniteCheck=True,
        )
        self.series[name] = _Series(item)

    def append(self, name: str, x: float, y: float) -> None:
        s = self.series[name]
        s.xs.append(float(x))
        s.ys.append(float(y))
        if not self._redraw.isActive():
            self._redraw.start()

    def data(self, name: str) -> tuple[list[float], list[float]]:
        s = self.series[name]
        return list(s.xs), list(s.ys)

    def clear_data(self) -> None:
        for s in self.series.values():
            s.xs.clear()
            s.ys.clear()
        self.redraw()

    def redraw(self) -> None:
        self._redraw.stop()
        for s in self.series.values():
            ys = np.asarray(s.ys, dtype=float)
            ys[~np.isfinite(ys)] = np.nan  # a diverged run leaves a gap, not a crash
            s.item.setData(np.asarray(s.xs, dtype=float), ys, connect="finite")
