"""Fine-tuning and forgetting: what the network knew before, asked again after training."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from lab.core.labs.forgetting import forgetting_run
from lab.core.workspace import Workspace
from lab.ui.labs.common import LabPanel
from lab.ui.widgets.help import explain
from lab.ui.widgets.live_plot import LivePlot

MODE_NAMES = {"head": "head only", "finetune": "whole network"}


def _both(folder, epochs, stop):
    results = {}
    for mode in ("head", "finetune"):
        gen = forgetting_run(folder, mode=mode, epochs=epochs, stop=stop)
        while True:
            try:
                ev = next(gen)
            except StopIteration as done:
                results[mode] = done.value
                break
            yield None if ev is None else {**ev, "mode": mode}
        if stop.requested:
            break
    return results


class ForgettingPanel(LabPanel):
    key = "forgetting"
    title = "Fine-tuning and forgetting"
    idea = (
        "The pretrained network can name 1,000 kinds of things. We train it on your classes, then "
        "ask it again, with its original ImageNet answers, about photos that have nothing to do "
        "with them (an astronaut, a cup of coffee, a rocket…). Head-only training leaves the "
        "network untouched, so its old answers cannot change. Training the whole network moves "
        "every weight, and some of what it knew drifts away: that is forgetting."
    )

    def __init__(self, workspace: Workspace | None = None, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 20)
        self.epochs.setValue(3)
        self.epochs.setToolTip("Epochs of training for each way")
        self.run_button = QPushButton("Train both ways and compare")
        self.run_button.setObjectName("primary")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.agree_plot = LivePlot("Same ImageNet answer as before", "epoch", "agreement")
        self.agree_plot.fixed_y = (0.0, 1.02)
        self.kl_plot = LivePlot("How far the old answers moved (KL divergence)", "epoch", "KL")
        for i, mode in enumerate(("head", "finetune")):
            self.agree_plot.add_series(MODE_NAMES[mode], i, width=2.5, symbol=True, style=i)
            self.kl_plot.add_series(MODE_NAMES[mode], i, width=2.5, symbol=True, style=i)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(
            ["Photo", "Before training", "After whole-network training"]
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.result = QLabel("It uses the images in the Classifier tab (at least two classes).")
        self.result.setWordWrap(True)
        self.result.setObjectName("result")
        row = QHBoxLayout()
        row.addWidget(QLabel("Epochs"))
        row.addWidget(self.epochs)
        row.addWidget(self.run_button)
        row.addWidget(self.stop_button)
        row.addStretch(1)
        grid = QGridLayout()
        grid.addWidget(self.agree_plot, 0, 0)
        grid.addWidget(self.kl_plot, 0, 1)
        grid.addWidget(self.table, 1, 0, 1, 2)
        explain(self.epochs, "Epochs")
        explain(
            self.run_button,
            "Train both ways and compare",
            "Train head-only and whole-network on your images, then see how much each forgot "
            "of what the network knew before.",
        )
        explain(self.stop_button, "Stop", "Stop training; the results so far stay.")
        explain(
            self.agree_plot,
            "Agreement with the original answers",
            "The share of photos that still get the same ImageNet answer as before training; "
            "1 means nothing was forgotten.",
        )
        explain(
            self.kl_plot,
            "How far the old answers moved",
            "KL divergence between the old and new ImageNet answers; higher means the network "
            "changed its mind more.",
        )
        explain(
            self.table,
            "Answers before and after",
            "For a few photos: the network's ImageNet answer before training and after "
            "whole-network training.",
        )
        layout = QVBoxLayout(self)
        for w in self.heading():
            layout.addWidget(w)
        layout.addLayout(row)
        layout.addLayout(grid, 1)
        layout.addWidget(self.result)
        layout.addWidget(self.notice)
        self.results: dict = {}
        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.runner.stop)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.finished.connect(
            lambda: (self.run_button.setEnabled(True), self.stop_button.setEnabled(False))
        )

    def run(self) -> bool:
        folder = self.classifier_images()
        if folder is None:
            return False
        epochs = self.epochs.value()
        for plot in (self.agree_plot, self.kl_plot):
            plot.clear_data()
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.result.setText("Training head only, then the whole network…")
        self.runner.start(lambda stop: _both(folder, epochs, stop))
        return True

    def _on_progress(self, ev: dict) -> None:
        if ev["kind"] == "probe":
            self.names = ev["names"]
        elif ev["kind"] == "epoch":
            name = MODE_NAMES[ev["mode"]]
            self.agree_plot.append(name, ev["epoch"], ev["agreement"])
            self.kl_plot.append(name, ev["epoch"], ev["kl"])
            self.result.setText(
                f"{name.capitalize()}, epoch {ev['epoch']}: {ev['agreement']:.0%} of the old answers "
                f"unchanged; your classes: {ev['val_accuracy']:.0%} right."
            )

    def _on_result(self, results: dict) -> None:
        from torchvision.models._meta import _IMAGENET_CATEGORIES as names

        self.results = results
        full = results.get("finetune")
        if not full:
            return
        self.table.setRowCount(len(self.names))
        for row, (photo, before, after) in enumerate(
            zip(self.names, full["original_top"], full["now_top"])
        ):
            for col, text in enumerate(
                (photo, names[before], names[after] + ("" if before == after else "  ← changed"))
            ):
                self.table.setItem(row, col, QTableWidgetItem(text))
        head = results.get("head", {})
        self.result.setText(
            f"Head only: <b>{head.get('agreement', 1):.0%}</b> of the old answers unchanged (KL "
            f"{head.get('kl', 0):.3f}). Whole network: <b>{full['agreement']:.0%}</b> unchanged (KL "
            f"{full['kl']:.3f}). Both learned your classes; only one paid for it with what it knew."
        )
