"""Lesson 16's box: this computer's own speed, measured in the background, and what it means."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from lab.lessons.speed import SpeedResult, measure_speed
from lab.ui.runs_model import RunsModel
from lab.ui.worker import TaskRunner

IMAGENET_IMAGES = 1_281_167
IMAGENET_EPOCHS = 350  # how long EfficientNet's makers trained on ImageNet


def human_duration(seconds: float) -> str:
    """'40 s', '3.5 min', '5 hours', '2.3 days', '4 years': the unit a person would pick."""
    if seconds != seconds or seconds == float("inf"):
        return "forever"
    for limit, size, unit in (
        (90, 1, "s"),
        (90 * 60, 60, "min"),
        (48 * 3600, 3600, "hours"),
        (2 * 365 * 86400, 86400, "days"),
    ):
        if seconds < limit:
            value = seconds / size
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{seconds / (365 * 86400):,.0f} years"


class SpeedPanel(QFrame):
    """Measures once per session (when first shown); the numbers stay for later visits."""

    def __init__(self, runs: RunsModel | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("speedPanel")
        self.runs = runs
        self.result: SpeedResult | None = None
        self.measure_options: dict = {}  # passed to measure_speed (tests make it tiny)
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(self._on_error)
        heading = QLabel("Measured on this computer")
        heading.setObjectName("questionHeading")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.numbers = QLabel()
        self.numbers.setWordWrap(True)
        self.numbers.setTextFormat(Qt.TextFormat.RichText)
        self.numbers.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.last_run = QLabel()
        self.last_run.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addWidget(heading)
        layout.addWidget(self.status)
        layout.addWidget(self.numbers)
        layout.addWidget(self.last_run)

    def start(self) -> None:
        """Measure now, unless it is measured already or being measured."""
        self._show_last_run()
        if self.result is not None:
            self._show_result(self.result)
            return
        if self.runner.running:
            return
        options = dict(self.measure_options)
        self.status.setText("Measuring: a few photo-sized batches go through the network…")
        self.numbers.setText("")
        self.runner.start(lambda stop: measure_speed(stop, **options))

    def shutdown(self) -> None:
        # One forward or backward pass can take seconds on a busy laptop; wait for it rather
        # than leave the thread running while the program exits.
        self.runner.shutdown(timeout_s=15.0)

    def _on_progress(self, ev: dict) -> None:
        what = "just looking" if ev["what"] == "inference" else "learning"
        self.status.setText(
            f"Measuring ({what}): {ev['images_per_s']:.1f} photos per second so far…"
        )

    def _on_error(self, message: str) -> None:
        self.status.setText(f"The measurement did not work: {message}")

    def _on_result(self, result: SpeedResult | None) -> None:
        if result is None:
            self.status.setText("The measurement was stopped.")
            return
        self.result = result
        self._show_result(result)

    def _show_result(self, r: SpeedResult) -> None:
        self.status.setText(
            f"{r.device}, {r.network}, photos of {r.image_size} × {r.image_size} pixels:"
        )
        rows = [
            ("Just looking (inference)", f"<b>{r.inference_per_s:,.1f}</b> photos per second"),
            (
                "Learning (a training step)",
                f"<b>{r.training_per_s:,.1f}</b> photos per second: "
                f"<b>{r.training_cost:.1f} ×</b> the work",
            ),
            (
                "Head only, 300 photos",
                f"features once: {human_duration(r.seconds_for(300, training=False))}, "
                "then each epoch takes well under a second",
            ),
            (
                "Whole network, 240 photos, 3 epochs",
                human_duration(r.seconds_for(240, 3)),
            ),
            (
                f"ImageNet, {IMAGENET_EPOCHS} epochs, as the network's makers did",
                f"{human_duration(r.seconds_for(IMAGENET_IMAGES, IMAGENET_EPOCHS))} on foot "
                "(this computer); hours to days with a data centre's GPUs",
            ),
        ]
        cells = "".join(
            f"<tr><td style='padding:4px 18px 4px 0'>{a}</td><td style='padding:4px 0'>{b}</td></tr>"
            for a, b in rows
        )
        self.numbers.setText(f"<table>{cells}</table>")

    def _show_last_run(self) -> None:
        runs = [r for r in (self.runs.runs() if self.runs else []) if r.status == "finished"]
        runs = [r for r in runs if r.summary.get("seconds") and r.summary.get("images")]
        if not runs:
            self.last_run.setText(
                "Train a model in the Classifier tab and its time will show here too."
            )
            return
        run = runs[-1]
        s = run.summary
        self.last_run.setText(
            f"Your last training run, “{run.name}”: {s['images']} photos, "
            f"{s.get('epochs', '?')} epochs, {human_duration(float(s['seconds']))} "
            f"on {run.device or s.get('device', 'this computer')}."
        )
