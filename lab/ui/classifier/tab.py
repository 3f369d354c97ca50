"""The Classifier tab: put images in classes, choose how to train, watch it learn."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from lab.core import paths as lab_paths
from lab.core.dataset import DatasetError
from lab.core.features import FeatureCache
from lab.core.runs import RunRecorder, RunStore
from lab.core.settings import TrainSettings
from lab.core.training import TrainResult
from lab.core.workspace import Workspace
from lab.ui.classifier.data_panel import DataPanel
from lab.ui.classifier.training_panel import SHORT_MODE, SettingsForm, TrainingView
from lab.ui.runs_model import RunsModel
from lab.ui.widgets.notice import Notice
from lab.ui.worker import TaskRunner


class ClassifierTab(QWidget):
    """Owns the training runner; the core does the work, this only shows it."""

    title = "Classifier"
    status_message = Signal(str)
    trained = Signal(object)  # TrainResult

    def __init__(
        self,
        workspace: Workspace | None = None,
        cache: FeatureCache | None = None,
        runs: RunsModel | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace or Workspace(lab_paths.workspace_dir())
        self.cache = cache or FeatureCache(lab_paths.cache_dir() / "features")
        self.runs = runs or RunsModel(RunStore(lab_paths.data_dir() / "runs"), self)
        self.last_result: TrainResult | None = None
        self.last_comparison: list[TrainResult] = []
        self._recorders: dict[int, RunRecorder] = {}
        self._comparing = False
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(self._on_error)
        self.runner.finished.connect(self._on_finished)
        self.runner.paused_changed.connect(self._on_paused)

        self.data = DataPanel(self.workspace)
        self.data.changed.connect(self._update_buttons)
        self.data.busy_changed.connect(lambda _: self._update_buttons())

        title = QLabel("2. Train a model")
        title.setObjectName("heading")
        self.form = SettingsForm()
        self.form.changed.connect(self._update_buttons)
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("primary")
        self.train_button.setToolTip("Start training with these settings (Ctrl+Return)")
        self.train_button.setShortcut("Ctrl+Return")
        self.train_button.clicked.connect(self.start_training)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause training; press again to resume")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop training and keep the model as trained so far")
        self.stop_button.clicked.connect(self.stop_training)
        self.compare_button = QPushButton("Compare training modes")
        self.compare_button.setToolTip(
            "Train head-only, whole-network and from-scratch one after another on the same "
            "images, split and seed, and overlay their curves"
        )
        self.compare_button.clicked.connect(self.start_comparison)
        self.save_button = QPushButton("Save model…")
        self.save_button.setToolTip("Save the trained model to a file you can use again or share")
        self.save_button.clicked.connect(self._ask_save)
        buttons = QHBoxLayout()
        for b in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.save_button)
        self.why_not = QLabel()
        self.why_not.setObjectName("note")
        self.why_not.setWordWrap(True)
        self.notice = Notice()
        self.view = TrainingView()

        settings_box = QWidget()
        settings_layout = QVBoxLayout(settings_box)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(title)
        settings_layout.addWidget(self.form)
        settings_layout.addLayout(buttons)
        settings_layout.addWidget(self.why_not)
        settings_layout.addWidget(self.notice)
        scroll = QScrollArea()
        scroll.setWidget(settings_box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(scroll)
        right.addWidget(self.view)
        right.setStretchFactor(0, 0)
        right.setStretchFactor(1, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.data)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setSizes([360, 900])
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)
        self._update_buttons()

    # -- actions --------------------------------------------------------------------------
    def start_training(self) -> bool:
        """Start a run with the form's settings; False (with the reason shown) if it can't."""
        folder = self._trainable_folder()
        if folder is None:
            return False
        settings = self.form.settings().check()
        from lab.core.models import pick_device
        from lab.core.training import train_classifier

        device = pick_device()
        cache = self.cache
        self.notice.hide()
        self._comparing = False
        self.view.reset()
        self._recorders = {0: self._start_record(settings)}
        self.runner.start(
            lambda stop: train_classifier(folder, settings, cache=cache, device=device, stop=stop)
        )
        self.status_message.emit("Training…")
        self._update_buttons()
        return True

    def start_comparison(self, overrides: dict | None = None) -> bool:
        """Train all three modes in turn on the same data, split and seed, overlaid."""
        folder = self._trainable_folder()
        if folder is None:
            return False
        from lab.core.models import pick_device
        from lab.core.training import compare_modes

        base = self.form.settings().check()
        device, cache = pick_device(), self.cache
        modes = ("head", "finetune", "scratch")
        self.notice.hide()
        self._comparing = True
        self._recorders = {}
        self.view.reset(compare=list(modes))
        self.runner.start(
            lambda stop: compare_modes(
                folder,
                base,
                modes=modes,
                overrides=overrides,
                cache=cache,
                device=device,
                stop=stop,
            )
        )
        self.status_message.emit("Comparing training modes…")
        self._update_buttons()
        return True

    def _trainable_folder(self):
        reason = self._cannot_train_reason()
        if reason:
            self.notice.show_message(reason, "warning")
            return None
        try:
            folder = self.workspace.as_image_folder()
            folder.check_trainable()
        except DatasetError as exc:
            self.notice.show_message(str(exc), "warning")
            return None
        return folder

    def _start_record(self, settings: TrainSettings) -> RunRecorder:
        name = f"{SHORT_MODE[settings.mode]} · lr {settings.learning_rate:g} · {settings.epochs} epochs"
        return self.runs.start_run(name, "classifier", settings.to_dict())

    def _finish_record(self, index: int, status: str, metrics: dict) -> None:
        recorder = self._recorders.pop(index, None)
        if recorder is not None:
            recorder.finish(status, metrics)
            self.runs.save(recorder.record.id)

    def toggle_pause(self) -> None:
        if self.runner.paused:
            self.runner.resume()
        else:
            self.runner.pause()

    def stop_training(self) -> None:
        self.runner.stop()
        self.view.status.setText("Stopping…")

    def save_model(self, path: Path) -> bool:
        if self.last_result is None:
            return False
        try:
            self.last_result.classifier.save(path)
        except OSError as exc:
            self.notice.show_message(
                f"Could not save the model to {path}: {exc.strerror or exc}", "error"
            )
            return False
        self.notice.show_message(f"Saved the model to {path}.", "info")
        return True

    def _ask_save(self) -> None:
        default = str(lab_paths.models_dir() / "cats-vs-raccoons.mlmodel")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save model", default, "ML Lab model (*.mlmodel)"
        )
        if path:
            if not path.endswith(".mlmodel"):
                path += ".mlmodel"
            self.save_model(Path(path))

    def shutdown(self) -> None:
        """Stop every background task and wait for it (the window is closing)."""
        self.runner.shutdown()
        self.data.shutdown()

    # -- reactions ------------------------------------------------------------------------
    def _cannot_train_reason(self) -> str:
        if self.runner.running:
            return "Training is already running."
        if self.data.busy:
            return "Please wait until the images have been added."
        problems = self.form.problems()
        if problems:
            return "Please fix the settings marked in the form first."
        counts = self.data.counts()
        if len(counts) < 2:
            return "Make at least two classes (for example cat and raccoon) to train a classifier."
        small = [n for n, c in counts.items() if c < 2]
        if small:
            return f"Every class needs at least two images. Add more to: {', '.join(small)}."
        return ""

    def _update_buttons(self) -> None:
        running = self.runner.running
        reason = self._cannot_train_reason() if not running else ""
        self.train_button.setEnabled(not running and not reason)
        self.compare_button.setEnabled(not running and not reason)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.save_button.setEnabled(self.last_result is not None and not running)
        self.form.setEnabled(not running)
        self.why_not.setText(reason)
        self.why_not.setVisible(bool(reason))

    def _on_progress(self, ev: dict) -> None:
        self.view.show_event(ev)
        index = ev.get("run", 0)
        kind = ev.get("kind")
        if kind == "run_start":
            self._recorders[index] = self._start_record(TrainSettings.from_dict(ev["settings"]))
        elif kind == "run_end":
            m = ev["metrics"]
            status = (
                "diverged" if m.get("diverged") else "stopped" if m.get("stopped") else "finished"
            )
            self._finish_record(index, status, m)
        recorder = self._recorders.get(index)
        if recorder is not None and recorder.add(ev):
            self.runs.data_changed(recorder.record.id)

    def _on_result(self, result) -> None:
        if self._comparing:
            self.last_comparison = list(result)
            if result:
                self.last_result = result[-1]
            self.view.show_comparison(result, any(r.stopped for r in result))
            return
        self.last_result = result
        status = "diverged" if result.diverged else "stopped" if result.stopped else "finished"
        self._finish_record(0, status, result.metrics)
        self.view.show_result(result.metrics, result.stopped, result.diverged)
        if result.skipped:
            names = "\n".join(f"  • {n}: {why}" for n, why in result.skipped)
            self.notice.show_message(
                f"Left out {len(result.skipped)} image(s) that could not be read:\n{names}",
                "warning",
            )
        self.trained.emit(result)

    def _on_error(self, message: str) -> None:
        for index in list(self._recorders):
            self._finish_record(index, "failed", {})
        self.view.status.setText("Training could not run.")
        self.notice.show_message(message, "error")

    def _on_finished(self) -> None:
        self.pause_button.setText("Pause")
        self.status_message.emit("Ready")
        self._update_buttons()

    def _on_paused(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        if paused:
            self.view.status.setText("Paused. Press Resume to go on.")
