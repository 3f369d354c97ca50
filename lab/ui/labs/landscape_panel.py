"""Loss landscape: watch gradient descent walk down a surface, or overshoot it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from lab.core.labs import landscape
from lab.ui.labs.common import LabPanel, heat_image, plot_area
from lab.ui.theme import OKABE_ITO
from lab.ui.widgets.help import explain
from lab.ui.widgets.live_plot import LivePlot

LR_MIN, LR_MAX = 1e-3, 2.0  # the slider is logarithmic between these


class LandscapePanel(LabPanel):
    key = "landscape"
    title = "Loss landscape and learning rate"
    idea = (
        "The colours are the loss for every pair of two weights (dark = low). Gradient descent "
        "starts at the white dot and steps downhill, against the gradient (the arrow). The "
        "learning rate sets the step size. Click the map to choose where to start."
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.surface_box = QComboBox()
        for key, s in landscape.SURFACES.items():
            self.surface_box.addItem(s.title, key)
        self.surface_box.setToolTip("The shape of the loss surface")
        self.optimizer_box = QComboBox()
        for key in landscape.OPTIMIZERS:
            self.optimizer_box.addItem(landscape.OPTIMIZER_TITLES[key], key)
        self.optimizer_box.setToolTip("How each step uses the gradient")
        self.lr_slider = QSlider(Qt.Orientation.Horizontal)
        self.lr_slider.setRange(0, 1000)
        self.lr_slider.setMinimumWidth(220)
        self.lr_slider.setToolTip("Learning rate: the size of each step (log scale)")
        self.lr_label = QLabel()
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Take one gradient step")
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Keep stepping (press again to pause)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the start point")
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setObjectName("result")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("note")

        self.map = plot_area("Loss surface", equal=False)
        self.map.setLabel("bottom", "weight 1")
        self.map.setLabel("left", "weight 2")
        self.path = pg.PlotDataItem(
            [],
            [],
            pen=pg.mkPen("#FFFFFF", width=2),
            symbol="o",
            symbolSize=6,
            symbolBrush=OKABE_ITO[1],
            symbolPen=pg.mkPen("#000000"),
        )
        self.dot = pg.ScatterPlotItem(
            size=16, brush=pg.mkBrush("#FFFFFF"), pen=pg.mkPen("#000000", width=2)
        )
        self.arrow = pg.ArrowItem(
            angle=0,
            headLen=14,
            tailLen=30,
            tailWidth=4,
            brush=OKABE_ITO[3],
            pen=pg.mkPen("#000000"),
        )
        self.heat: pg.ImageItem | None = None
        self.loss_plot = LivePlot("Loss at each step", "step", "loss")
        self.loss_plot.add_series("loss", 0, width=2.5, symbol=True)

        controls = QHBoxLayout()
        for label, w in (("Surface", self.surface_box), ("Method", self.optimizer_box)):
            controls.addWidget(QLabel(label))
            controls.addWidget(w)
        controls.addStretch(1)
        stepping = QHBoxLayout()
        stepping.addWidget(QLabel("Learning rate"))
        stepping.addWidget(self.lr_slider, 1)
        stepping.addWidget(self.lr_label)
        for b in (self.step_button, self.play_button, self.reset_button):
            stepping.addWidget(b)
        plots = QGridLayout()
        plots.addWidget(self.map, 0, 0)
        plots.addWidget(self.loss_plot, 0, 1)
        explain(self.surface_box, "Loss surface")
        explain(self.optimizer_box, "Optimizer")
        explain(self.lr_slider, "Learning rate")
        explain(self.step_button, "Step")
        explain(self.play_button, "Play")
        explain(self.reset_button, "Reset")
        explain(
            self.map,
            "Loss surface map",
            "The loss as a coloured landscape (dark is low) and the path the optimizer takes "
            "downhill from the start point.",
        )
        explain(
            self.loss_plot,
            "Loss at each step",
            "The loss after each step: a steady fall is good, zig-zags or a climb mean the "
            "learning rate is too big.",
        )
        layout = QVBoxLayout(self)
        for w in self.heading():
            layout.addWidget(w)
        layout.addLayout(controls)
        layout.addLayout(stepping)
        layout.addWidget(self.note)
        layout.addLayout(plots, 1)
        layout.addWidget(self.verdict)
        layout.addWidget(self.notice)

        self.timer = QTimer(self)
        self.timer.setInterval(120)
        self.timer.timeout.connect(self.step)
        self.surface_box.currentIndexChanged.connect(
            lambda _: self.set_surface(self.surface_box.currentData())
        )
        self.optimizer_box.currentIndexChanged.connect(lambda _: self.reset())
        self.lr_slider.valueChanged.connect(self._lr_changed)
        self.step_button.clicked.connect(self.step)
        self.play_button.clicked.connect(self.toggle_play)
        self.reset_button.clicked.connect(self.reset)
        self.map.scene().sigMouseClicked.connect(self._clicked)
        self.set_learning_rate(0.1)
        self.set_surface("bowl")

    # -- state ------------------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        frac = self.lr_slider.value() / 1000
        return float(LR_MIN * (LR_MAX / LR_MIN) ** frac)

    def set_learning_rate(self, lr: float) -> None:
        lr = min(max(lr, LR_MIN), LR_MAX)
        self.lr_slider.setValue(round(1000 * np.log(lr / LR_MIN) / np.log(LR_MAX / LR_MIN)))
        self._lr_changed()

    def set_surface(self, key: str) -> None:
        surface = landscape.SURFACES[key]
        self.surface_box.blockSignals(True)
        self.surface_box.setCurrentIndex(self.surface_box.findData(key))
        self.surface_box.blockSignals(False)
        self.surface = surface
        self.start = surface.start
        if self.heat is not None:
            self.map.removeItem(self.heat)
        _, _, values = landscape.grid(surface)
        self.heat = heat_image(np.log1p(values - values.min()), surface.extent)
        self.map.addItem(self.heat)
        for item in (self.path, self.dot, self.arrow):
            if item.scene() is None:
                self.map.addItem(item)
        x0, x1, y0, y1 = surface.extent
        self.map.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.note.setText(surface.note)
        self.reset()

    def reset(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")
        self.descent = landscape.Descent(
            self.surface, self.optimizer_box.currentData(), self.learning_rate, *self.start
        )
        self.xs, self.ys, self.losses = [self.descent.x], [self.descent.y], [self.descent.loss]
        self.loss_plot.clear_data()
        self.loss_plot.append("loss", 0, self.descent.loss)
        self.verdict.setText("")
        self._draw()

    def step(self) -> None:
        if self.descent.diverged:
            self.timer.stop()
            self.play_button.setText("Play")
            return
        self.descent.step()
        self.xs.append(self.descent.x)
        self.ys.append(self.descent.y)
        self.losses.append(self.descent.loss)
        self.loss_plot.append("loss", self.descent.t, self.descent.loss)
        if self.descent.diverged or self.descent.t >= 500:
            self.timer.stop()
            self.play_button.setText("Play")
        self.verdict.setText(landscape.verdict(self.losses, self.descent.diverged))
        self._draw()

    def toggle_play(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.play_button.setText("Play")
        else:
            self.timer.start()
            self.play_button.setText("Pause")

    def _draw(self) -> None:
        x0, x1, y0, y1 = self.surface.extent
        xs = np.clip(self.xs, x0 - (x1 - x0), x1 + (x1 - x0))
        ys = np.clip(self.ys, y0 - (y1 - y0), y1 + (y1 - y0))
        self.path.setData(xs, ys)
        self.dot.setData([xs[-1]], [ys[-1]])
        gx, gy = self.descent.gradient()
        if np.isfinite(gx) and np.isfinite(gy) and (gx or gy) and not self.descent.diverged:
            # The arrow points downhill (against the gradient), the way the step goes. An
            # ArrowItem at angle 0 points towards -x; the view's y axis points up.
            self.arrow.setStyle(angle=float(np.degrees(np.arctan2(-gy, gx))))
            self.arrow.setPos(xs[-1], ys[-1])
            self.arrow.show()
        else:
            self.arrow.hide()

    def _lr_changed(self, *_) -> None:
        self.lr_label.setText(f"{self.learning_rate:.3g}")
        if hasattr(self, "descent"):
            self.reset()

    def _clicked(self, event) -> None:
        point = self.map.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        x0, x1, y0, y1 = self.surface.extent
        if x0 <= point.x() <= x1 and y0 <= point.y() <= y1:
            self.start = (point.x(), point.y())
            self.reset()

    def shutdown(self) -> None:
        self.timer.stop()
        super().shutdown()
