"""The Classifier tab: put images in classes, train, then use and inspect the model.

Left: the images (data panel). Right: pages for Train, Classify (real time), Classify a
folder (batch) and Evaluate, all working on the current model: the one just trained or one
loaded from a file.
"""

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
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lab.core import paths as lab_paths
from lab.core.classifier import Classifier, class_difference
from lab.core.dataset import DatasetError
from lab.core.evaluation import from_training
from lab.core.features import FeatureCache
from lab.core.runs import RunRecorder, RunStore
from lab.core.settings import TrainSettings
from lab.core.training import TrainResult
from lab.core.workspace import Workspace
from lab.ui.classifier.batch_panel import BatchPanel
from lab.ui.classifier.classify_panel import ClassifyPanel
from lab.ui.classifier.data_panel import DataPanel
from lab.ui.classifier.evaluate_panel import EvaluatePanel
from lab.ui.classifier.training_panel import SHORT_MODE, SettingsForm, TrainingView
from lab.ui.runs_model import RunsModel
from lab.ui.widgets.help import explain
from lab.ui.widgets.notice import Notice
from lab.ui.worker import TaskRunner


class ClassifierTab(QWidget):
    """Owns the training runner; the core does the work, this only shows it."""

    title = "Classifier"
    status_message = Signal(str)
    trained = Signal(object)  # TrainResult
    model_changed = Signal(object)  # the Classifier now in use (or None)

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
        self.model: Classifier | None = None
        self.model_source = ""
        self._single_ms: float | None = None
        self._batch_rate: float | None = None
        self._loading: Path | None = None
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
        self.data.changed.connect(self._check_model_fit)
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
        scroll = QScrollArea()
        scroll.setWidget(settings_box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # The settings may scroll on a small screen; Train, Stop and their messages never do.
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(scroll, 1)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.why_not)
        top_layout.addWidget(self.notice)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(self.view)
        right.setStretchFactor(0, 0)
        right.setStretchFactor(1, 1)

        self.model_runner = TaskRunner(self)  # loading a model file
        self.model_runner.result.connect(self._on_model_loaded)
        self.model_runner.error.connect(self._on_model_load_failed)
        self.export_runner = TaskRunner(self)
        self.export_runner.progress.connect(self._on_export_progress)
        self.export_runner.result.connect(self._on_exported)
        self.export_runner.error.connect(
            lambda m: self.model_notice.show_message(f"The export failed: {m}", "error")
        )
        self.classify = ClassifyPanel()
        self.classify.folder_dropped.connect(self.classify_folder)
        self.classify.single_speed.connect(self._on_single_speed)
        self.batch = BatchPanel()
        self.batch.batch_speed.connect(self._on_batch_speed)
        self.batch.status_message.connect(self.status_message)
        self.evaluate = EvaluatePanel(self.workspace)
        self.evaluate.workspace_changed.connect(self.data.refresh)
        for button, name in (
            (self.train_button, "Train"),
            (self.pause_button, "Pause training"),
            (self.stop_button, "Stop training"),
            (self.compare_button, "Compare training modes"),
            (self.save_button, "Save model"),
        ):
            explain(button, name)
        self.pages = QTabWidget()
        self.pages.addTab(right, "Train")
        self.pages.addTab(self.classify, "Classify")
        self.pages.addTab(self.batch, "Classify a folder")
        self.pages.addTab(self.evaluate, "Evaluate")
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_notice = Notice()
        right_side = QWidget()
        right_layout = QVBoxLayout(right_side)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.model_label)
        right_layout.addWidget(self.model_notice)
        right_layout.addWidget(self.pages, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.data)
        splitter.addWidget(right_side)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setSizes([360, 900])
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)
        self._show_model_label()
        self._show_speeds()
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
        if self.model is None:
            return False
        try:
            self.model.save(path)
        except OSError as exc:
            # The old file, if any, is untouched: saving writes a new file and renames it.
            self.model_notice.show_message(
                f"Could not save the model to {path}: {exc.strerror or exc}", "error"
            )
            return False
        self.model_notice.show_message(f"Saved the model to {path}.", "info")
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
        for index in list(self._recorders):  # closed mid-run: keep the curves so far
            self._finish_record(index, "stopped", {})
        self.model_runner.shutdown()
        self.export_runner.shutdown()
        self.classify.shutdown()
        self.batch.shutdown()
        self.evaluate.shutdown()
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
        self.save_button.setEnabled(self.model is not None and not running)
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
            if result:
                self._use_trained(result[-1])
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
        self._use_trained(result)
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

    # -- the model in use -----------------------------------------------------------------
    def _use_trained(self, result: TrainResult) -> None:
        m = result.metrics
        source = f"trained just now ({SHORT_MODE.get(result.settings.mode, result.settings.mode)}"
        if m.get("val_accuracy") == m.get("val_accuracy"):  # not nan
            source += f", {m['val_accuracy']:.0%} right on the validation images"
        self.use_model(result.classifier, source + ")")
        n = len(result.val_paths)
        if len(result.val_probs) != n:  # stopped before its first check on them
            self.evaluate.set_evaluation(
                None, "Training stopped before the model was checked on its validation images."
            )
            return
        self.evaluate.set_evaluation(
            from_training(result),
            f"The {n} validation images of the last training: the model never learned from "
            "them, so this is a fair check.",
        )

    def use_model(self, classifier: Classifier, source: str) -> None:
        """Make this the model every page uses."""
        self.model = classifier
        self.model_source = source
        self.classify.set_classifier(classifier)
        self.batch.set_classifier(classifier)
        self._check_model_fit()
        self._show_model_label()
        self._update_buttons()
        self.model_changed.emit(classifier)

    def _check_model_fit(self) -> None:
        if self.model is None:
            return
        diff = class_difference(self.model.classes, self.workspace.classes())
        self.evaluate.set_classifier(self.model, fits_workspace=not diff)
        if diff and self.evaluate.evaluation is None:
            self.evaluate.source.setText(
                diff + " It can still classify pictures, but it can only be checked on images "
                "of its own classes."
            )

    def _show_model_label(self) -> None:
        if self.model is None:
            self.model_label.setText(
                "<b>Model:</b> none yet. Train one, or load one with File ▸ Load model…"
            )
            return
        self.model_label.setText(
            f"<b>Model:</b> {self.model_source} · classes: {', '.join(self.model.classes)} · "
            f"{self.model.image_size} px"
        )

    def load_model(self, path: Path) -> None:
        """Load a model file in the background; a bad file leaves the current model in place."""
        path = Path(path)
        self.model_notice.hide()

        def task(stop):
            yield {"kind": "loading", "file": path.name}
            return Classifier.load(path)

        self._loading = path
        self.model_runner.start(task)
        self.status_message.emit(f"Loading {path.name}…")

    def _on_model_loaded(self, classifier: Classifier) -> None:
        path = self._loading
        self.use_model(classifier, f"loaded from {path.name}")
        diff = class_difference(classifier.classes, self.workspace.classes())
        if diff:
            self.model_notice.show_message(
                f"Loaded {path.name}. {diff} You can classify pictures with it; to check it "
                "on your images (Evaluate), they need to be in the same classes.",
                "warning",
            )
            self.evaluate.set_evaluation(None, diff)
            self._check_model_fit()
        else:
            self.model_notice.show_message(f"Loaded {path.name}.", "info")
            self.evaluate.set_evaluation(
                None, f"Loaded {path.name}: press the button to check it on your images."
            )
        self.status_message.emit("Ready")

    def _on_model_load_failed(self, message: str) -> None:
        keep = " The model you had is still in use." if self.model is not None else ""
        self.model_notice.show_message(f"Could not load the model: {message}{keep}", "error")
        self.status_message.emit("Ready")

    def export_model(self, path: Path, fmt: str) -> bool:
        if self.model is None:
            self.model_notice.show_message("There is no model to export yet.", "warning")
            return False
        from lab.core.export import export_model

        clf, path = self.model, Path(path)
        self.model_notice.show_message(f"Exporting to {path.name}…", "info")
        self.export_runner.start(lambda stop: export_model(clf, path, fmt))
        return True

    def _on_export_progress(self, ev: dict) -> None:
        if ev.get("stage") == "checking":
            self.model_notice.show_message("Checking the exported file…", "info")

    def _on_exported(self, report) -> None:
        size = report.size_bytes / 1e6
        name = {"onnx": "ONNX", "torchscript": "TorchScript"}[report.format]
        if report.checked_with:
            check = (
                f"Checked with {report.checked_with}: it gives the same probabilities as the "
                f"model (largest difference {report.max_difference:.1e})."
            )
        else:
            check = "It could not be checked here (onnxruntime is not installed)."
        self.model_notice.show_message(
            f"Exported {name} to {report.path} ({size:.1f} MB). {check} It takes RGB pictures "
            f"as bytes, {self.model.image_size}×{self.model.image_size}, and returns "
            "probabilities.",
            "info",
        )

    def ask_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Load model",
            str(lab_paths.models_dir()),
            "ML Lab model (*.mlmodel);;All files (*)",
        )
        if path:
            self.load_model(Path(path))

    def ask_export(self, fmt: str) -> None:
        from lab.core.export import FORMATS

        label = {"onnx": "ONNX model (*.onnx)", "torchscript": "TorchScript model (*.pt)"}[fmt]
        default = str(lab_paths.models_dir() / f"classifier{FORMATS[fmt]}")
        path, _ = QFileDialog.getSaveFileName(self, "Export model", default, label)
        if path:
            if not path.endswith(FORMATS[fmt]):
                path += FORMATS[fmt]
            self.export_model(Path(path), fmt)

    # -- classifying ------------------------------------------------------------------------
    def classify_paths(self, paths: list) -> None:
        """Pictures dropped anywhere in the window: show them on the Classify page."""
        self.pages.setCurrentWidget(self.classify)
        self.classify.add_paths(paths)

    def classify_folder(self, sources: list) -> None:
        self.pages.setCurrentWidget(self.batch)
        self.batch.start(sources)

    def _on_single_speed(self, ms: float) -> None:
        self._single_ms = ms
        self._show_speeds()

    def _on_batch_speed(self, rate: float) -> None:
        self._batch_rate = rate
        self._show_speeds()

    def _show_speeds(self) -> None:
        single = (
            f"One picture at a time: {self._single_ms:.0f} ms each (file to answer)"
            if self._single_ms is not None
            else "One picture at a time: drop one on “Classify” to measure"
        )
        batch = (
            f"A folder in batches: {self._batch_rate:.0f} pictures/s, "
            f"{1000 / self._batch_rate:.0f} ms each"
            if self._batch_rate
            else "A folder in batches: classify one to measure"
        )
        text = (
            f"<b>Speed.</b> {single} · {batch}. Batches are usually faster per picture: the "
            "network handles many pictures in one pass, so the fixed cost of each layer is "
            "shared and the processor's vector units stay busy (the gain is largest on a GPU; "
            "on a small CPU it can be small)."
        )
        self.classify.speed_note.setText(text)
        self.batch.speed_note.setText(text)
