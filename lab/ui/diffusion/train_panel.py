"""Train your own image model: the same small U-Net, on Fashion-MNIST or your own pictures."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lab.core.diffusion.data import USER_IMAGE_SIZE, fashion_mnist_dir
from lab.core.diffusion.training import ImageTrainSettings, train_from_source
from lab.core.diffusion.weights import ImageDenoiser
from lab.core.settings import SettingsError
from lab.core.workspace import Workspace
from lab.ui.widgets.live_plot import LivePlot
from lab.ui.widgets.notice import Notice
from lab.ui.worker import TaskRunner

HONEST_NOTE = (
    "Be patient with a CPU: after a few minutes the pictures are blurry blobs with roughly the "
    "right outline; sharp ones take hours.{shipped} Stop at any time: the model trained so far "
    "is kept and can make pictures."
)


def honest_note() -> str:
    """The note, with how long the shipped model took if its training record is there."""
    import json

    from lab.core.diffusion.weights import shipped_weights_path

    extra = ""
    try:
        record = json.loads(shipped_weights_path().with_suffix(".json").read_text())
        minutes = float(record["train_seconds"]) / 60
        extra = (
            f" The model that ships with ML Lab trained {int(record['steps_done']):,} steps "
            f"in {minutes:.0f} minutes on one shared CPU core."
        )
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return HONEST_NOTE.format(shipped=extra)


def _format_time(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


class TrainPanel(QWidget):
    status_message = Signal(str)
    model_ready = Signal(object)  # ImageDenoiser
    generate_requested = Signal()

    def __init__(self, workspace: Workspace, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.model: ImageDenoiser | None = None
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(self._on_error)
        self.runner.finished.connect(self._update_buttons)

        defaults = ImageTrainSettings()
        self.notice = Notice()
        self.source = QComboBox()
        self.source.setToolTip("What the model learns to draw")
        self.steps = QSpinBox()
        self.steps.setRange(10, 200_000)
        self.steps.setSingleStep(100)
        self.steps.setValue(1000)
        self.steps.setToolTip("Training steps; each step learns from one batch of pictures")
        self.batch = QSpinBox()
        self.batch.setRange(4, 512)
        self.batch.setValue(64)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(0.00001, 0.1)
        self.lr.setSingleStep(0.0005)
        self.lr.setValue(defaults.learning_rate)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        form = QFormLayout()
        form.addRow("Pictures", self.source)
        form.addRow("Training steps", self.steps)
        form.addRow("Batch size", self.batch)
        form.addRow("Learning rate", self.lr)
        form.addRow("Seed", self.seed)

        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("primary")
        self.train_button.setToolTip("Train a diffusion model in the background")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop and keep the model trained so far")
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)
        self.progress = QProgressBar()
        self.progress.setFormat("step %v of %m")
        self.rate_label = QLabel()
        self.rate_label.setObjectName("result")

        heading = QLabel("Train your own image model")
        heading.setObjectName("heading")
        honest = QLabel(honest_note())
        honest.setWordWrap(True)
        honest.setObjectName("note")
        left = QVBoxLayout()
        left.addWidget(heading)
        left.addWidget(honest)
        left.addLayout(form)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.rate_label)
        self.use_button = QPushButton("Make pictures with it")
        self.use_button.setToolTip("Go to Generate with your model selected")
        self.use_button.hide()
        self.use_button.clicked.connect(self.generate_requested)
        left.addWidget(self.use_button)
        left.addStretch(1)

        self.loss_plot = LivePlot("Training loss", "step", "loss (MSE of the noise)")
        self.loss_plot.add_series("loss", 0)
        top = QHBoxLayout()
        top.addLayout(left, 2)
        top.addWidget(self.loss_plot, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addLayout(top, 1)

        self.train_button.clicked.connect(self.train)
        self.stop_button.clicked.connect(self.runner.stop)
        self.refresh_sources()
        self._update_buttons()

    def refresh_sources(self) -> None:
        current = self.source.currentData()
        self.source.clear()
        if fashion_mnist_dir() is not None:
            self.source.addItem("Fashion-MNIST (60,000 pictures, 28×28, grey)", "fashion")
        n = sum(self.workspace.count(c) for c in self.workspace.classes())
        if n:
            self.source.addItem(
                f"Your images from the Classifier tab ({n}, {USER_IMAGE_SIZE}×{USER_IMAGE_SIZE}, colour)",
                "workspace",
            )
        if self.source.count() == 0:
            self.notice.show_message(
                "There are no pictures to train on yet. Add images in the Classifier tab, or "
                "install Fashion-MNIST (sudo apt-get install dataset-fashion-mnist).",
                "warning",
            )
        i = self.source.findData(current)
        if i >= 0:
            self.source.setCurrentIndex(i)

    def showEvent(self, event) -> None:
        if not self.runner.running:
            self.refresh_sources()
        super().showEvent(event)

    def settings(self) -> ImageTrainSettings:
        return ImageTrainSettings(
            steps=self.steps.value(),
            batch_size=self.batch.value(),
            learning_rate=self.lr.value(),
            warmup_steps=min(200, self.steps.value() // 10),
            seed=self.seed.value(),
        )

    def _update_buttons(self) -> None:
        running = self.runner.running
        self.train_button.setEnabled(not running and self.source.count() > 0)
        self.stop_button.setEnabled(running)

    def train(self) -> bool:
        source = self.source.currentData()
        s = self.settings()
        try:
            s.check()
        except SettingsError as exc:
            self.notice.show_message(f"These settings cannot be used: {exc}.", "error")
            return False
        if source is None:
            return False
        self.notice.hide()
        self.loss_plot.clear_data()
        self.progress.setRange(0, s.steps)
        self.progress.setValue(0)
        self.rate_label.setText("Reading the pictures…")
        root = self.workspace.root
        self.runner.start(lambda stop: train_from_source(source, s, root, stop=stop))
        self._update_buttons()
        self.status_message.emit("Training a diffusion model…")
        return True

    def _on_progress(self, ev: dict) -> None:
        if ev.get("kind") == "train":
            self.progress.setValue(ev["step"])
            self.loss_plot.append("loss", ev["step"], ev["loss"])
            self.rate_label.setText(
                f"{ev['images_per_s']:.0f} pictures/s · time left {_format_time(ev['seconds_left'])}"
            )
        elif ev.get("kind") == "load":
            self.rate_label.setText(f"Reading the pictures… {ev['done']} of {ev['total']}")

    def _on_result(self, model: ImageDenoiser | None) -> None:
        if model is None:
            self.rate_label.setText("Stopped before training began.")
            return
        self.model = model
        done = model.meta.get("steps_done", 0)
        self.rate_label.setText(
            f"Trained {done} steps in {_format_time(model.meta.get('seconds'))}."
        )
        self.notice.show_message(f"“{model.name}” is ready to make pictures.", "info")
        self.use_button.show()
        self.model_ready.emit(model)

    def _on_error(self, message: str) -> None:
        self.notice.show_message(message, "error")
        self.rate_label.setText("")

    def shutdown(self) -> None:
        self.runner.shutdown()
