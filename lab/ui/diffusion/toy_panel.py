"""2D diffusion you train live: pick or draw a shape, train a tiny denoiser, watch points flow."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lab.core.diffusion.toy2d import (
    FIT_THRESHOLD,
    SHAPES,
    ToySettings,
    target_points,
    train_and_flow,
)
from lab.core.settings import SettingsError
from lab.ui.theme import OKABE_ITO
from lab.ui.widgets.column import ScrollColumn
from lab.ui.widgets.help import explain
from lab.ui.widgets.live_plot import LivePlot
from lab.ui.widgets.notice import Notice
from lab.ui.worker import TaskRunner

VIEW = 2.8
TRAIL = 6  # steps of history drawn behind each point
PLAY_MS = 40
SHAPE_TITLES = {
    "two moons": "Two moons",
    "spiral": "Spiral",
    "rings": "Rings",
    "drawn": "Draw your own",
}


class PointCanvas(pg.PlotWidget):
    """The square plot the points live in; in drawing mode, dragging draws strokes."""

    strokes_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent)
        self.setAspectLocked(True)
        self.setXRange(-VIEW, VIEW, padding=0)
        self.setYRange(-VIEW, VIEW, padding=0)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setMinimumSize(360, 360)
        self.drawing = False
        self.strokes: list[list[tuple[float, float]]] = []
        self.target_item = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(150, 150, 150, 90))
        self.trail_item = pg.PlotDataItem(pen=pg.mkPen(86, 180, 233, 60, width=1))
        self.points_item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(OKABE_ITO[0]))
        self.stroke_item = pg.PlotDataItem(pen=pg.mkPen(OKABE_ITO[3], width=3), connect="finite")
        for item in (self.target_item, self.trail_item, self.points_item, self.stroke_item):
            self.addItem(item)

    def set_drawing(self, on: bool) -> None:
        self.drawing = on
        self.setMouseEnabled(x=not on, y=not on)
        self.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)

    def clear_strokes(self) -> None:
        self.strokes = []
        self._draw_strokes()
        self.strokes_changed.emit()

    def _to_view(self, event) -> tuple[float, float]:
        p = self.plotItem.vb.mapSceneToView(self.mapToScene(event.position().toPoint()))
        return float(p.x()), float(p.y())

    def mousePressEvent(self, event) -> None:
        if self.drawing and event.button() == Qt.MouseButton.LeftButton:
            self.strokes.append([self._to_view(event)])
            self._draw_strokes()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self.drawing and self.strokes and event.buttons() & Qt.MouseButton.LeftButton:
            self.strokes[-1].append(self._to_view(event))
            self._draw_strokes()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self.drawing:
            self.strokes_changed.emit()
            return
        super().mouseReleaseEvent(event)

    def _draw_strokes(self) -> None:
        xs: list[float] = []
        ys: list[float] = []
        for s in self.strokes:
            xs.extend(p[0] for p in s)
            ys.extend(p[1] for p in s)
            xs.append(np.nan)
            ys.append(np.nan)
        self.stroke_item.setData(np.array(xs), np.array(ys))


class ToyPanel(QWidget):
    status_message = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.result = None
        self.all_paths: dict[str, np.ndarray] = {}
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(self._on_error)
        self.runner.finished.connect(self._update_buttons)

        self.notice = Notice()
        self.shape = QComboBox()
        for s in SHAPES:
            self.shape.addItem(SHAPE_TITLES[s], s)
        self.shape.setToolTip("The shape the points should learn to form")
        self.clear_button = QPushButton("Clear drawing")
        self.train_steps = QSpinBox()
        self.train_steps.setRange(100, 20000)
        self.train_steps.setSingleStep(500)
        self.train_steps.setValue(ToySettings().steps)
        self.train_steps.setToolTip("Training steps (batches of 256 points)")
        self.points = QSpinBox()
        self.points.setRange(100, 10000)
        self.points.setSingleStep(500)
        self.points.setValue(ToySettings().points)
        self.points.setToolTip("How many points flow from noise to the shape")
        self.trails = QCheckBox("Show trails")
        self.trails.setChecked(True)
        self.path_kind = QComboBox()
        self.path_kind.addItem("Smooth flow (DDIM, no fresh noise)", "ddim")
        self.path_kind.addItem("With fresh noise each step (DDPM)", "ddpm")
        self.path_kind.setToolTip("Both use the same trained model; switching recomputes nothing")
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("primary")
        self.train_button.setToolTip("Train a tiny denoiser on the shape (about 10 seconds)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop training and use the model as it is")
        self.progress = QProgressBar()
        self.fit_label = QLabel("")
        self.fit_label.setWordWrap(True)
        self.fit_label.setObjectName("result")

        form = QFormLayout()
        form.addRow("Shape", self.shape)
        form.addRow("", self.clear_button)
        form.addRow("Training steps", self.train_steps)
        form.addRow("Points", self.points)
        form.addRow("Paths", self.path_kind)
        form.addRow("", self.trails)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)
        heading = QLabel("2D diffusion you train live")
        heading.setObjectName("heading")
        note = QLabel(
            "Each point is a tiny 'picture' with two numbers. A small network learns to "
            "predict the noise added to points of the shape; then thousands of points start "
            "as a Gaussian cloud and are denoised step by step."
        )
        note.setObjectName("note")
        note.setWordWrap(True)
        self.loss_plot = LivePlot("Training loss", "step", "loss (MSE of the noise)")
        self.loss_plot.add_series("loss", 0)
        left_box = QWidget()
        left = QVBoxLayout(left_box)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(heading)
        left.addWidget(note)
        left.addLayout(form)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.fit_label)
        left.addWidget(self.loss_plot, 1)

        self.canvas = PointCanvas()
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Watch the points flow from noise to the shape")
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setAccessibleName("Denoising step")
        self.step_label = QLabel()
        self.step_label.setMinimumWidth(200)
        transport = QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(self.scrubber, 1)
        transport.addWidget(self.step_label)
        right = QVBoxLayout()
        right.addWidget(self.canvas, 1)
        right.addLayout(transport)

        explain(self.shape, "Target shape")
        explain(
            self.clear_button,
            "Clear drawing",
            "Rub out the shape you drew on the plot, to draw a new one.",
        )
        explain(self.train_steps, "Training steps")
        explain(self.points, "Number of points")
        explain(self.path_kind, "Paths")
        explain(
            self.trails,
            "Show trails",
            "Draw the path each point took from noise to the shape.",
        )
        explain(self.train_button, "Train")
        explain(self.stop_button, "Stop training")
        explain(
            self.loss_plot,
            "Training loss",
            "How wrong the tiny model's noise guesses are, step by step; lower is better.",
        )
        explain(
            self.canvas,
            "Points and target shape",
            "The grey dots are the shape to learn, the blue dots the generated points. Drag with "
            "the mouse to draw your own shape (Draw your own in the shape list).",
        )
        explain(self.play_button, "Play")
        explain(
            self.scrubber,
            "Denoising step",
            "Move through the steps that turn noise into the shape; nothing is recomputed.",
        )

        top = QHBoxLayout()
        top.addWidget(ScrollColumn(left_box, chars=30), 2)  # scrolls rather than squeezes
        top.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addLayout(top, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_MS)
        self.timer.timeout.connect(self._tick)
        self.shape.currentIndexChanged.connect(self._shape_changed)
        self.clear_button.clicked.connect(self.canvas.clear_strokes)
        self.canvas.strokes_changed.connect(self._show_target)
        self.train_button.clicked.connect(self.train)
        self.stop_button.clicked.connect(self.runner.stop)
        self.scrubber.valueChanged.connect(self.show_step)
        self.trails.toggled.connect(lambda _: self.show_step(self.scrubber.value()))
        self.path_kind.currentIndexChanged.connect(lambda _: self.show_step(self.scrubber.value()))
        self.play_button.clicked.connect(self.toggle_play)
        self._shape_changed()

    @property
    def paths(self) -> np.ndarray | None:
        """The paths shown now: (T + 1, points, 2), or None before training."""
        return self.all_paths.get(self.path_kind.currentData())

    def settings(self) -> ToySettings:
        return ToySettings(
            shape=self.shape.currentData(),
            steps=self.train_steps.value(),
            points=self.points.value(),
        )

    def _shape_changed(self) -> None:
        drawing = self.shape.currentData() == "drawn"
        self.canvas.set_drawing(drawing)
        self.clear_button.setVisible(drawing)
        if drawing:
            self.notice.show_message(
                "Draw a shape in the box: press and drag. Several strokes are fine."
            )
        else:
            self.notice.hide()
        self._show_target()

    def _show_target(self) -> None:
        shape = self.shape.currentData()
        if shape == "drawn" and sum(len(s) for s in self.canvas.strokes) < 2:
            self.canvas.target_item.setData([], [])
        else:
            try:
                pts = target_points(shape, 2000, 0, self.canvas.strokes)
            except SettingsError:
                pts = np.zeros((0, 2))
            self.canvas.target_item.setData(pts[:, 0], pts[:, 1])
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.runner.running
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        has = self.paths is not None
        self.scrubber.setEnabled(has)
        self.play_button.setEnabled(has)

    def train(self) -> bool:
        s = self.settings()
        strokes = [list(st) for st in self.canvas.strokes]
        try:
            s.check()
            if s.shape == "drawn":
                target_points("drawn", 10, 0, strokes)
        except SettingsError as exc:
            self.notice.show_message(f"Cannot train yet: {exc}.", "warning")
            return False
        self._stop_playing()
        self.all_paths = {}
        self.loss_plot.clear_data()
        self.canvas.trail_item.setData([], [])
        self.canvas.points_item.setData([], [])
        self.progress.setRange(0, s.steps)
        self.progress.setValue(0)
        self.fit_label.setText("Training…")
        self._running_settings = s
        self.runner.start(lambda stop: train_and_flow(s, strokes, stop=stop))
        self._update_buttons()
        return True

    def _on_progress(self, ev: dict) -> None:
        kind = ev.get("kind")
        if kind == "train":
            self.loss_plot.append("loss", ev["step"], ev["loss"])
            self.progress.setValue(ev["step"])
        elif kind == "fit":
            if getattr(self, "frozen", False):
                self._held = ev
            else:
                self._draw_fit(ev)
        elif kind == "flow":
            self.status_message.emit("Tracing the points from noise to the shape…")

    def _draw_fit(self, ev: dict) -> None:
        pts = ev["points"]
        self.canvas.points_item.setData(pts[:, 0], pts[:, 1])
        self.fit_label.setText(self._fit_text(ev["fit"], ev["seconds"]))

    def set_frozen(self, frozen: bool) -> None:
        """Freeze plots (View menu): keep training, stop redrawing the points; catch up after."""
        self.frozen = bool(frozen)
        if not frozen and getattr(self, "_held", None) is not None:
            held, self._held = self._held, None
            self._draw_fit(held)

    @staticmethod
    def _fit_text(fit: float, seconds: float) -> str:
        verdict = "a good fit" if fit <= FIT_THRESHOLD else "not there yet"
        return (
            f"Fit distance {fit:.3f} after {seconds:.1f} s: {verdict} "
            f"(good below {FIT_THRESHOLD}; plain noise scores about 0.2)"
        )

    def _on_result(self, value) -> None:
        if value is None:
            self.fit_label.setText("Stopped before training began.")
            return
        self.result, self.all_paths = value
        self.fit_label.setText(self._fit_text(self.result.fit, self.result.seconds))
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, len(self.paths) - 1)
        self.scrubber.setValue(0)
        self.scrubber.blockSignals(False)
        self._update_buttons()
        self.show_step(0)
        self.status_message.emit("Trained. Press Play to watch the points flow.")
        if self.isVisible():  # a result that arrives while another tab is shown waits for Play
            self.toggle_play()

    def _on_error(self, message: str) -> None:
        self.notice.show_message(message, "error")

    def show_step(self, k: int) -> None:
        if self.paths is None:
            return
        T = len(self.paths) - 1
        pts = self.paths[k]
        self.canvas.points_item.setData(pts[:, 0], pts[:, 1])
        if self.trails.isChecked() and k > 0:
            seg = self.paths[max(0, k - TRAIL) : k + 1]  # (L, n, 2)
            n_l = seg.shape[0]
            xs = seg[:, :, 0].T.reshape(-1)
            ys = seg[:, :, 1].T.reshape(-1)
            connect = np.ones(len(xs), dtype=bool)
            connect[n_l - 1 :: n_l] = False
            self.canvas.trail_item.setData(xs, ys, connect=connect)
        else:
            self.canvas.trail_item.setData([], [])
        self.step_label.setText(f"step {k} of {T} · t = {T - k}")

    def toggle_play(self) -> None:
        if self.timer.isActive():
            self._stop_playing()
        elif self.paths is not None:
            if self.scrubber.value() >= self.scrubber.maximum():
                self.scrubber.setValue(0)
            self.timer.start()
            self.play_button.setText("Pause")

    def _stop_playing(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")

    def _tick(self) -> None:
        k = min(self.scrubber.maximum(), self.scrubber.value() + 1)
        self.scrubber.setValue(k)
        if k >= self.scrubber.maximum():
            self._stop_playing()

    def hideEvent(self, event) -> None:
        self._stop_playing()
        super().hideEvent(event)

    def shutdown(self) -> None:
        self._stop_playing()
        self.runner.shutdown()
