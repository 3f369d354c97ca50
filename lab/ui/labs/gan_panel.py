"""A GAN on 2D points: a generator learns to fool a discriminator, live."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from lab.core.labs.gan import train_gan
from lab.core.labs.toy_data import SHAPE_TITLES, SHAPES, sample_drawn, sample_shape
from lab.ui.labs.common import LabPanel, heat_image, plot_area
from lab.ui.theme import OKABE_ITO
from lab.ui.widgets.help import explain
from lab.ui.widgets.live_plot import LivePlot

EXTENT = 2.0


class GanPanel(LabPanel):
    key = "gan"
    title = "GAN: a forger and a detective"
    idea = (
        "The generator (the forger) turns random numbers into points. The discriminator (the "
        "detective) learns to tell real points (grey) from fakes (orange); its colours show where "
        "it thinks points are real (bright) or fake (dark). Each step the forger learns to fool it "
        "a little better, and the fakes drift onto the shape. Choose “Your drawing” and drag on "
        "the map to draw your own shape."
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.shape_box = QComboBox()
        for key in (*SHAPES, "drawn"):
            self.shape_box.addItem(SHAPE_TITLES[key], key)
        self.shape_box.setToolTip("The shape the real points come from")
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("primary")
        self.train_button.setToolTip("Train the two networks against each other")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.map = plot_area("Real (grey) and fake (orange) points")
        self.map.setRange(xRange=(-EXTENT, EXTENT), yRange=(-EXTENT, EXTENT), padding=0)
        self.map.setMouseEnabled(False, False)
        self.heat: pg.ImageItem | None = None
        self.real_item = pg.ScatterPlotItem(size=4, brush=pg.mkBrush(90, 90, 90, 120), pen=None)
        self.fake_item = pg.ScatterPlotItem(
            size=6, symbol="t", brush=pg.mkBrush(OKABE_ITO[1]), pen=pg.mkPen("#000000", width=0.4)
        )
        self.map.addItem(self.real_item)
        self.map.addItem(self.fake_item)
        self.loss_plot = LivePlot("Losses", "step", "loss")
        self.loss_plot.add_series("discriminator", 0, width=2.5)
        self.loss_plot.add_series("generator", 3, width=2.5, style=1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Shape"))
        row.addWidget(self.shape_box)
        row.addWidget(self.train_button)
        row.addWidget(self.stop_button)
        row.addStretch(1)
        grid = QGridLayout()
        grid.addWidget(self.map, 0, 0)
        grid.addWidget(self.loss_plot, 0, 1)
        explain(self.shape_box, "Real shape")
        explain(self.train_button, "Train")
        explain(self.stop_button, "Stop", "Stop training the two networks.")
        explain(
            self.map,
            "Real and fake points",
            "Grey: real points from the shape. Orange: the forger's fakes. The shading is where "
            "the detective thinks points are real.",
        )
        explain(
            self.loss_plot,
            "Losses",
            "How well the forger and the detective are doing at each step; in a good run "
            "neither wins for long.",
        )
        layout = QVBoxLayout(self)
        for w in self.heading():
            layout.addWidget(w)
        layout.addLayout(row)
        layout.addLayout(grid, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.notice)
        self.drawn: list[tuple[float, float]] = []
        self._drawing = False
        self.map.scene().sigMouseMoved.connect(self._mouse_moved)
        self.map.viewport().installEventFilter(self)
        self.shape_box.currentIndexChanged.connect(lambda _: self._show_target())
        self.train_button.clicked.connect(self.train)
        self.stop_button.clicked.connect(self.runner.stop)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(
            lambda: (self.train_button.setEnabled(True), self.stop_button.setEnabled(False))
        )
        self._show_target()

    def target(self) -> np.ndarray:
        key = self.shape_box.currentData()
        if key == "drawn":
            return sample_drawn(np.array(self.drawn), 2000)
        return sample_shape(key, 2000, seed=1)

    def _show_target(self) -> None:
        try:
            pts = self.target()
        except ValueError:
            self.real_item.setData([], [])
            self.status.setText("Drag on the map to draw a shape, then press Train.")
            return
        self.real_item.setData(pts[:, 0], pts[:, 1])
        self.fake_item.setData([], [])
        self.status.setText("")

    def train(self, steps: int = 2000) -> None:
        try:
            target = self.target()
        except ValueError as exc:
            self.notice.show_message(str(exc), "warning")
            return
        self.loss_plot.clear_data()
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.first_distance = None
        self.runner.start(lambda stop: train_gan(target, steps=steps, stop=stop))

    def set_frozen(self, frozen: bool) -> None:
        """Freeze plots (View menu): keep training, stop redrawing the map; catch up after."""
        self.frozen = bool(frozen)
        if not frozen and getattr(self, "_held", None) is not None:
            held, self._held = self._held, None
            self._draw_map(held)

    def _on_progress(self, ev: dict) -> None:
        self.last = ev
        self.loss_plot.append("discriminator", ev["step"], ev["d_loss"])
        self.loss_plot.append("generator", ev["step"], ev["g_loss"])
        if getattr(self, "frozen", False):
            self._held = ev
        else:
            self._draw_map(ev)

    def _draw_map(self, ev: dict) -> None:
        fake = ev["fake"]
        self.fake_item.setData(fake[:, 0], fake[:, 1])
        if self.heat is not None:
            self.map.removeItem(self.heat)
        self.heat = heat_image(ev["grid"], (-EXTENT, EXTENT, -EXTENT, EXTENT), "cividis")
        self.heat.setLevels((0, 1))
        self.map.addItem(self.heat)
        if self.first_distance is None:
            self.first_distance = ev["distance"]
        self.status.setText(
            f"Step {ev['step']}: fake points are on average {ev['distance']:.2f} from the nearest "
            f"real point (it started at {self.first_distance:.2f})."
        )
        if ev.get("diverged"):
            self.notice.show_message(ev["diverged"], "warning")

    # Drawing a shape with the mouse.
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        from PySide6.QtCore import QEvent

        if self.shape_box.currentData() == "drawn" and not self.runner.running:
            if event.type() == QEvent.Type.MouseButtonPress:
                self.drawn = []
                self._drawing = True
                return True
            if event.type() == QEvent.Type.MouseButtonRelease:
                self._drawing = False
                self._show_target()
                return True
        return super().eventFilter(obj, event)

    def _mouse_moved(self, pos) -> None:
        if self._drawing:
            p = self.map.getPlotItem().getViewBox().mapSceneToView(pos)
            self.drawn.append((p.x(), p.y()))
            if len(self.drawn) > 1:
                pts = np.array(self.drawn)
                self.real_item.setData(pts[:, 0], pts[:, 1])

    def draw_shape(self, points: list[tuple[float, float]]) -> None:
        """Set a drawn shape directly (what dragging the mouse does)."""
        self.shape_box.setCurrentIndex(self.shape_box.findData("drawn"))
        self.drawn = list(points)
        self._show_target()
