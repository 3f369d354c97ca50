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

from lab.core.diffusion.compute import default_threads
from lab.core.diffusion.data import USER_IMAGE_SIZE, fashion_mnist_dir
from lab.core.diffusion.training import ImageTrainSettings, train_from_source
from lab.core.diffusion.weights import ImageDenoiser
from lab.core.runs import RunRecorder
from lab.core.settings import SettingsError
from lab.core.workspace import Workspace
from lab.ui.runs_model import RunsModel
from lab.ui.widgets.help import explain
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


# The Fashion-MNIST training split; a run's epochs are corrected from the model if it differs.
FASHION_TRAIN_PICTURES = 60_000


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

    def __init__(self, workspace: Workspace, parent=None, *, runs: RunsModel | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.model: ImageDenoiser | None = None
        self.runs = runs  # the run history the Curves tab shows; None: runs are not kept
        self._recorder: RunRecorder | None = None
        self._run_shape = (0, 0, 0)  # steps asked for, batch size, pictures: for epochs
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
        explain(self.source, "Pictures to learn from")
        explain(self.steps, "Training steps")
        explain(
            self.batch,
            "Batch size",
            "How many pictures the model learns from in each step; bigger is smoother but slower.",
        )
        explain(
            self.lr,
            "Learning rate",
            "How big a change each training step makes to the model; too big and training blows "
            "up, too small and it crawls.",
        )
        explain(
            self.seed,
            "Seed",
            "The same seed and settings train the same model again.",
        )
        explain(self.train_button, "Train")
        explain(self.stop_button, "Stop training")
        explain(self.use_button, "Make pictures with it")
        explain(
            self.loss_plot,
            "Training loss",
            "How wrong the model's guesses of the noise are, step by step; lower is better.",
        )
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
        self._start_record(source, s)
        self.runner.start(lambda stop: train_from_source(source, s, root, stop=stop))
        self._update_buttons()
        self.status_message.emit("Training a diffusion model…")
        return True

    def _on_progress(self, ev: dict) -> None:
        self._record(ev)
        if ev.get("kind") == "train":
            self.progress.setValue(ev["step"])
            self.loss_plot.append("loss", ev["step"], ev["loss"])
            self.rate_label.setText(
                f"{ev['images_per_s']:.0f} pictures/s · time left {_format_time(ev['seconds_left'])}"
            )
        elif ev.get("kind") == "diverged":
            self.notice.show_message(ev["message"], "warning")
        elif ev.get("kind") == "load":
            self.rate_label.setText(f"Reading the pictures… {ev['done']} of {ev['total']}")

    def _on_result(self, model: ImageDenoiser | None) -> None:
        if model is None:
            self._finish_record("stopped")
            self.rate_label.setText("Stopped before training began.")
            return
        if model.meta.get("diverged"):
            self._finish_record("diverged", model)
        elif model.meta.get("steps_done", 0) < self._run_shape[0]:
            self._finish_record("stopped", model)
        else:
            self._finish_record("finished", model)
        self.model = model
        done = model.meta.get("steps_done", 0)
        self.rate_label.setText(
            f"Trained {done} steps in {_format_time(model.meta.get('seconds'))}."
        )
        if model.meta.get("diverged"):
            self.notice.show_message(model.meta["diverged"], "warning")
        else:
            self.notice.show_message(f"“{model.name}” is ready to make pictures.", "info")
        self.use_button.show()
        self.model_ready.emit(model)

    def _on_error(self, message: str) -> None:
        self._finish_record("failed")
        self.notice.show_message(message, "error")
        self.rate_label.setText("")

    def shutdown(self) -> None:
        self.runner.shutdown()
        self._finish_record("stopped")  # the window closed mid-run: keep what it learned

    # -- the run history (the Curves tab) ------------------------------------------------------
    def _start_record(self, source: str, s: ImageTrainSettings) -> None:
        self._finish_record("stopped")  # a run still going is replaced by this one
        if self.runs is None:
            return
        if source == "fashion":
            pictures, count = "Fashion-MNIST", FASHION_TRAIN_PICTURES
        else:
            pictures = "your images"
            count = sum(self.workspace.count(c) for c in self.workspace.classes())
        self._run_shape = (s.steps, s.batch_size, count)
        self._recorder = self.runs.start_run(
            f"Diffusion: {pictures}, {s.steps:,} steps",
            "diffusion",
            {"pictures": pictures, **s.to_dict()},
        )
        self._recorder.record.device = f"CPU ({default_threads()} threads)"

    def _record(self, ev: dict) -> None:
        recorder = self._recorder
        if recorder is None or self.runs is None:
            return
        _, batch, pictures = self._run_shape
        if ev.get("kind") == "train":
            step = ev["step"]
            recorder.add(
                {
                    "kind": "step",
                    "step": step,
                    "epoch": step * batch / max(1, pictures),
                    "loss": ev["loss"],
                }
            )
            self.runs.data_changed(recorder.record.id)
        elif ev.get("kind") == "diverged":
            recorder.add(ev)

    def _finish_record(self, status: str, model: ImageDenoiser | None = None) -> None:
        recorder, self._recorder = self._recorder, None
        if recorder is None or self.runs is None:
            return
        summary: dict = {}
        if model is not None:
            meta = model.meta
            summary = {k: meta[k] for k in ("steps_done", "images", "final_loss") if k in meta}
            if meta.get("threads"):
                recorder.record.device = f"CPU ({meta['threads']} threads)"
            loss = recorder.record.metrics.get("train_loss")
            _, batch, pictures = self._run_shape
            if loss is not None and meta.get("images") and meta["images"] != pictures:
                # Epochs were counted with the expected number of pictures; some were unreadable.
                loss.column("epoch")[:] = loss.column("step") * batch / meta["images"]
        recorder.finish(status, summary)
        self.runs.save(recorder.record.id)
