"""'Train': the mode, the settings (checked as you type), Train/Pause/Stop and live curves."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lab.core.runs import best_epoch, overfitting_spans
from lab.core.settings import MODE_NOTES, MODE_TITLES, MODES, TrainSettings
from lab.ui.theme import OKABE_ITO
from lab.ui.widgets.advanced import AdvancedSection
from lab.ui.widgets.help import explain
from lab.ui.widgets.live_plot import LivePlot

FIELDS = (
    "epochs",
    "learning_rate",
    "batch_size",
    "image_size",
    "val_share",
    "augment",
    "seed",
    "patience",
)


def format_seconds(s: float | None) -> str:
    if s is None:
        return "…"
    s = max(0, int(round(s)))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


class SettingsForm(QWidget):
    """Edits a TrainSettings; shows each problem beside its field in plain words."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._user_touched = False
        self.mode_buttons: dict[str, QRadioButton] = {}
        self.mode_group = QButtonGroup(self)
        mode_box = QVBoxLayout()
        for mode in MODES:
            button = QRadioButton(MODE_TITLES[mode])
            button.setToolTip(MODE_NOTES[mode])
            button.setAccessibleDescription(MODE_NOTES[mode])
            explain(button, f"Training mode: {MODE_TITLES[mode]}", MODE_NOTES[mode])
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            mode_box.addWidget(button)
            button.toggled.connect(lambda on, m=mode: on and self._mode_picked(m))
        self.mode_note = QLabel()
        self.mode_note.setWordWrap(True)
        self.mode_note.setObjectName("note")
        mode_box.addWidget(self.mode_note)

        self.epochs = _spin(-(10**6), 10**6, "How many times training goes through all the images")
        self.learning_rate = QLineEdit()
        self.learning_rate.setToolTip(
            "How big a step each weight takes per batch (for example 0.001)"
        )
        self.batch_size = _spin(
            -(10**6), 10**6, "How many images are looked at before each weight update"
        )
        self.image_size = _spin(-(10**6), 10**6, "Images are resized to this many pixels square")
        self.image_size.setSuffix(" px")
        self.val_share = _spin(
            -1000,
            1000,
            "The share of each class kept aside to check the model on images it never learned from",
        )
        self.val_share.setSuffix(" %")
        self.early_stop = QCheckBox("Stop when validation stops improving, after")
        self.early_stop.setToolTip(
            "Early stopping: when the validation loss has not improved for this many epochs, "
            "training stops and the model goes back to its best epoch."
        )
        self.patience = _spin(-1000, 10**6, "How many epochs without improvement to wait")
        self.patience.setSuffix(" epochs")
        self.patience.setValue(3)
        self.early_stop.toggled.connect(self.patience.setEnabled)
        self.early_stop.toggled.connect(self._edited)
        self.patience.valueChanged.connect(self._edited)
        self.patience.setEnabled(False)
        self.augment = QCheckBox("Mirror and crop images at random while training")
        self.augment.setToolTip(
            "Augmentation: shows the model slightly changed copies so it memorizes less"
        )
        self.seed = _spin(
            -(10**9), 2**31 - 1, "The same seed gives the same split and the same result"
        )
        self.errors = {name: _error_label() for name in FIELDS}

        for widget, name in (
            (self.epochs, "Epochs"),
            (self.learning_rate, "Learning rate"),
            (self.batch_size, "Batch size"),
            (self.image_size, "Image size"),
            (self.val_share, "Validation share"),
            (self.seed, "Seed"),
            (self.augment, "Augmentation"),
            (self.early_stop, "Early stopping"),
            (self.patience, "Early stopping patience"),
        ):
            explain(widget, name)

        # Two columns of fields leave room for the curves; a problem shows under its field.
        columns = QHBoxLayout()
        for group in (
            (
                ("&Learning rate", "learning_rate"),
                ("&Batch size", "batch_size"),
            ),
            (("&Image size", "image_size"), ("&Validation share", "val_share"), ("See&d", "seed")),
        ):
            form = QFormLayout()
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
            for label, name in group:
                form.addRow(label, getattr(self, name))
                form.addRow("", self.errors[name])
            columns.addLayout(form)
        columns.addStretch(1)
        for w in (self.epochs, self.batch_size, self.image_size, self.val_share, self.seed):
            w.valueChanged.connect(self._edited)
        self.learning_rate.textChanged.connect(self._edited)
        self.augment.toggled.connect(self._edited)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(mode_box)
        epochs_form = QFormLayout()
        epochs_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        epochs_form.addRow("&Epochs", self.epochs)
        epochs_form.addRow("", self.errors["epochs"])
        layout.addLayout(epochs_form)
        # The rest folds away under "Advanced" in presentation mode.
        self.advanced = AdvancedSection("Advanced settings")
        self.advanced.add_layout(columns)
        self.advanced.add_widget(self.augment)
        self.advanced.add_widget(self.errors["augment"])
        early_row = QHBoxLayout()
        early_row.addWidget(self.early_stop)
        early_row.addWidget(self.patience)
        early_row.addStretch(1)
        self.advanced.add_layout(early_row)
        self.advanced.add_widget(self.errors["patience"])
        layout.addWidget(self.advanced)
        self.set_settings(TrainSettings.for_mode("head"))

    def set_settings(self, s: TrainSettings) -> None:
        widgets = (
            self.epochs,
            self.batch_size,
            self.image_size,
            self.val_share,
            self.seed,
            self.learning_rate,
            self.augment,
        )
        for w in widgets:
            w.blockSignals(True)
        self.mode_buttons[s.mode].setChecked(True)
        self.mode_note.setText(MODE_NOTES[s.mode])
        self.epochs.setValue(s.epochs)
        self.learning_rate.setText(f"{s.learning_rate:g}")
        self.batch_size.setValue(s.batch_size)
        self.image_size.setValue(s.image_size)
        self.val_share.setValue(round(s.val_share * 100))
        self.augment.setChecked(s.augment)
        self.seed.setValue(s.seed)
        for w in widgets:
            w.blockSignals(False)
        self.early_stop.blockSignals(True)
        self.early_stop.setChecked(s.patience > 0)
        self.early_stop.blockSignals(False)
        self.patience.setEnabled(s.patience > 0)
        if s.patience > 0:
            self.patience.setValue(s.patience)
        self._check()

    def mode(self) -> str:
        return next(m for m, b in self.mode_buttons.items() if b.isChecked())

    def settings(self) -> TrainSettings:
        """The settings as typed (they may be invalid: see problems())."""
        text = self.learning_rate.text().strip().replace(",", ".")
        try:
            lr: float | str = float(text)
        except ValueError:
            lr = text
        return TrainSettings(
            mode=self.mode(),
            epochs=self.epochs.value(),
            learning_rate=lr,  # type: ignore[arg-type]
            batch_size=self.batch_size.value(),
            image_size=self.image_size.value(),
            val_share=self.val_share.value() / 100,
            augment=self.augment.isChecked(),
            seed=self.seed.value(),
            patience=self.patience.value() if self.early_stop.isChecked() else 0,
        )

    def problems(self) -> dict[str, str]:
        problems = self.settings().problems()
        if self.early_stop.isChecked() and self.patience.value() < 1 and "patience" not in problems:
            problems["patience"] = "must be at least 1 epoch"
        return problems

    def _mode_picked(self, mode: str) -> None:
        # A new mode brings that mode's sensible defaults, keeping the split and seed.
        current = self.settings()
        self.set_settings(
            TrainSettings.for_mode(
                mode,
                val_share=current.val_share if 0.05 <= current.val_share <= 0.5 else 0.2,
                seed=max(0, current.seed),
                patience=current.patience if 0 <= current.patience <= 1000 else 3,
            )
        )
        self.changed.emit()

    def _edited(self, *_) -> None:
        self._check()
        self.changed.emit()

    def _check(self) -> None:
        problems = self.problems()
        for name, label in self.errors.items():
            text = problems.get(name, "")
            if name == "val_share" and text:
                text = "must be between 5% and 50%"
            label.setText(f"⚠ {text[0].upper()}{text[1:]}." if text else "")
            label.setVisible(bool(text))


def _spin(lo: int, hi: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setToolTip(tip)
    box.setAccessibleDescription(tip)
    box.setMinimumWidth(110)
    return box


def _error_label() -> QLabel:
    label = QLabel()
    label.setObjectName("fieldError")
    label.setWordWrap(True)
    label.hide()
    return label


SHORT_MODE = {"head": "head only", "finetune": "whole network", "scratch": "from scratch"}
TRAIN_STEP = "training (each batch)"
VAL_LOSS = "validation (each epoch)"


class TrainingView(QWidget):
    """Progress, status, device and the live loss/accuracy curves of a run (or a comparison)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("Ready")
        self.progress.setAccessibleName("Training progress")
        self.status = QLabel("Press Train to start.")
        self.status.setWordWrap(True)
        self.device = QLabel()
        self.device.setObjectName("note")
        self.loss_plot = LivePlot("Loss (lower is better)", "epoch", "loss")
        self.loss_plot.setToolTip(
            "Loss measures how wrong the model is. Training loss is measured on the images it "
            "learns from, validation loss on images kept aside. ★ marks the best validation "
            "epoch; orange shading shows where validation loss rose while training loss fell "
            "(memorizing)."
        )
        self.acc_plot = LivePlot("Accuracy (higher is better)", "epoch", "accuracy")
        self.acc_plot.fixed_y = (0.0, 1.02)
        self.acc_plot.setToolTip(
            "The share of images the model labels correctly, after each epoch."
        )
        self.result = QLabel()
        self.result.setObjectName("result")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        plots = QGridLayout()
        plots.addWidget(self.loss_plot, 0, 0)
        plots.addWidget(self.acc_plot, 0, 1)
        explain(self.loss_plot, "Loss curves")
        explain(self.acc_plot, "Accuracy curves")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.device)
        layout.addLayout(plots, 1)
        layout.addWidget(self.result)
        self._train_base = 0  # where the progress bar's training part starts (of 1000)
        self._compare: list[str] = []  # the modes being compared, if any
        self._run = 0
        self._train_epoch_loss: list[float] = []
        self._compare_lines: list[str] = []
        self.reset()

    def reset(self, compare: list[str] | None = None) -> None:
        """Empty the plots for a new run, or for a comparison of several modes."""
        self._compare = list(compare or [])
        self._run = 0
        self._train_epoch_loss = []
        self.divergence_mark: tuple[float, float] | None = None
        self._compare_lines = []
        for plot in (self.loss_plot, self.acc_plot):
            plot.clear_series()
        if self._compare:
            for i, mode in enumerate(self._compare):
                label = SHORT_MODE[mode]
                self.loss_plot.add_series(
                    f"{label}: validation", i, width=2.5, symbol=True, style=i
                )
                self.acc_plot.add_series(f"{label}: validation", i, width=2.5, symbol=True, style=i)
        else:
            self.loss_plot.add_series(TRAIN_STEP, 0, width=1.5)
            self.loss_plot.add_series(VAL_LOSS, 1, width=2.5, symbol=True, dashed=True)
            self.acc_plot.add_series("training", 0, width=2.5, symbol=True)
            self.acc_plot.add_series("validation", 1, width=2.5, symbol=True, dashed=True)
        self.progress.setValue(0)
        self.progress.setFormat("Starting…" if compare is not None or self._compare else "Ready")
        self.result.setText("")
        self._train_base = 0

    def _overall(self, fraction: float) -> int:
        """Progress of the whole job (of 1000): a comparison spreads it over its runs."""
        if not self._compare:
            return int(fraction)
        return int((self._run * 1000 + fraction) / len(self._compare))

    def show_event(self, ev: dict) -> None:
        kind = ev.get("kind")
        if kind == "run_start":
            self._run = ev["run"]
            self._train_base = 0
            self._train_epoch_loss = []
            self.status.setText(
                f"Run {ev['run'] + 1} of {ev['of']}: {MODE_TITLES[ev['mode']].lower()}…"
            )
        elif kind == "run_end":
            m = ev["metrics"]
            self._compare_lines.append(
                f"<b>{SHORT_MODE[ev['mode']]}</b>: {m['val_accuracy']:.1%} in "
                f"{format_seconds(m['seconds'])}"
            )
            self.result.setText("Compared so far: " + " · ".join(self._compare_lines))
        elif kind == "start":
            self.device.setText(f"Running on: {ev['device']}")
            if not self._compare:
                self.status.setText(
                    f"{ev['images']} images: {ev['train_images']} to learn from, "
                    f"{ev['val_images']} kept aside to check."
                )
        elif kind == "stage":
            if ev["stage"] == "features":
                self._train_base = 850
                self.status.setText(
                    f"Computing features for {ev['total']} new images (kept for next time)…"
                )
            elif ev["stage"] == "reading":
                self._train_base = 100
                self.status.setText(f"Reading {ev['total']} images…")
        elif kind in ("features", "reading"):
            frac = ev["done"] / max(1, ev["total"])
            share = 0.85 if kind == "features" else 0.1
            self.progress.setValue(self._overall(1000 * share * frac))
            verb = "Computing features" if kind == "features" else "Reading images"
            self.progress.setFormat(f"{verb}: {ev['done']} of {ev['total']}")
            self.status.setText(
                f"{verb}: {ev['images_per_s']:.1f} images/s · "
                f"about {format_seconds(ev['eta_s'])} left"
            )
        elif kind == "step":
            if not self._compare:
                self.loss_plot.append(TRAIN_STEP, ev["epoch"], ev["loss"])
            base = self._train_base
            self.progress.setValue(self._overall(base + (1000 - base) * ev["progress"]))
            epoch = int(ev["epoch"]) + 1
            prefix = f"Run {self._run + 1} of {len(self._compare)} · " if self._compare else ""
            self.progress.setFormat(f"{prefix}Training: epoch {epoch} · %p%")
            self.status.setText(
                f"Training: {ev['images_per_s']:.0f} images/s · "
                f"about {format_seconds(ev['eta_s'])} left"
            )
        elif kind == "epoch":
            self._show_epoch(ev)
        elif kind == "diverged":
            self.status.setText(ev["message"])
            self._mark_divergence(ev)
        elif kind == "early_stop":
            self.status.setText(
                f"Stopped early after epoch {ev['epoch']}: validation loss had not improved for "
                f"{ev['patience']} epochs. The model went back to epoch {ev['best_epoch']}, its best."
            )

    def _show_epoch(self, ev: dict) -> None:
        e = ev["epoch"]
        if self._compare:
            label = f"{SHORT_MODE[self._compare[self._run]]}: validation"
            self.loss_plot.append(label, e, ev["val_loss"])
            self.acc_plot.append(label, e, ev["val_accuracy"])
            return
        self.loss_plot.append(VAL_LOSS, e, ev["val_loss"])
        self.acc_plot.append("training", e, ev["train_accuracy"])
        self.acc_plot.append("validation", e, ev["val_accuracy"])
        self._train_epoch_loss.append(ev["train_loss"])
        self._mark_overfitting()

    def _mark_overfitting(self) -> None:
        epochs, val = self.loss_plot.data(VAL_LOSS)
        self.loss_plot.clear_marks()
        best = best_epoch(np.array(epochs), np.array(val))
        if best is not None:
            self.loss_plot.mark_point(best[0], best[1], f"best: epoch {best[0]:g}", OKABE_ITO[1])
        for e0, e1 in overfitting_spans(epochs, self._train_epoch_loss, val):
            self.loss_plot.shade(
                e0, e1, "Validation loss rose while training loss fell: memorizing"
            )

    def _mark_divergence(self, ev: dict) -> None:
        """A vermillion star on the loss curve where the loss blew up (at the last finite loss)."""
        if self._compare:
            return
        _, losses = self.loss_plot.data(TRAIN_STEP)
        finite = [v for v in losses if np.isfinite(v)]
        y = finite[-1] if finite else 1.0
        x = float(ev.get("epoch", 0.0))
        self.divergence_mark = (x, y)
        self.loss_plot.mark_point(x, y, "loss blew up here", OKABE_ITO[3])

    def show_result(self, metrics: dict, stopped: bool, diverged: str) -> None:
        self.progress.setValue(1000)
        self.progress.setFormat("Stopped" if stopped else "Done")
        acc, loss = metrics["val_accuracy"], metrics["val_loss"]
        head = "Stopped early. " if stopped else ""
        if diverged:
            head = "Training went wrong. "
        if acc == acc:  # not NaN
            text = (
                f"{head}Validation accuracy <b>{acc:.1%}</b> · validation loss {loss:.3f} · "
                f"took {format_seconds(metrics['seconds'])} ({metrics['images']} images, "
                f"{metrics['epochs']} epoch{'s' if metrics['epochs'] != 1 else ''})."
            )
        else:
            text = f"{head}No epoch finished, so there is no result to show."
        self.result.setText(text)
        if not diverged:
            self.status.setText("Finished." if not stopped else "Stopped.")

    def show_comparison(self, results: list, stopped: bool) -> None:
        self.progress.setValue(1000)
        self.progress.setFormat("Stopped" if stopped else "Done")
        self.status.setText(
            "Same images, same split, same seed: only the way of training differs."
            if not stopped
            else "Stopped."
        )
        self.result.setText("Compared: " + " · ".join(self._compare_lines))
