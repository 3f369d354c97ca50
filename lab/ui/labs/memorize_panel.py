"""Memorizing vs generalizing: true labels vs shuffled labels, same network."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from lab.core.labs.memorize import memorize_vs_generalize
from lab.ui.labs.common import LabPanel, plot_area
from lab.ui.theme import OKABE_ITO
from lab.ui.widgets.help import explain
from lab.ui.widgets.live_plot import LivePlot

SERIES = (
    ("true_train", "true labels: training", 0, 0),
    ("true_val", "true labels: validation", 0, 1),
    ("shuffled_train", "shuffled labels: training", 3, 0),
    ("shuffled_val", "shuffled labels: validation", 3, 1),
)


class MemorizePanel(LabPanel):
    key = "memorize"
    title = "Memorizing vs generalizing"
    idea = (
        "Two identical networks learn the same 120 points. One gets the true labels; the other "
        "gets labels shuffled at random, so there is no pattern to find. Both reach nearly 100% "
        "on the points they learn from. Only the validation points, never seen in training, "
        "show which one learned something."
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.train_button = QPushButton("Train both")
        self.train_button.setObjectName("primary")
        self.train_button.setToolTip("Train the two networks side by side (a few seconds)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.plot = LivePlot("Accuracy while training", "step", "accuracy")
        self.plot.fixed_y = (0.0, 1.02)
        for _key, label, color, style in SERIES:
            self.plot.add_series(label, color, width=2.5, style=style)
        self.points = {
            k: plot_area(t) for k, t in (("true", "True labels"), ("shuffled", "Shuffled labels"))
        }
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setObjectName("result")
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        for plot in self.points.values():
            plot.setMinimumSize(240, 200)  # two rows of plots must fit a 768-pixel screen
        grid = QGridLayout()
        grid.addWidget(self.plot, 0, 0, 1, 2)
        grid.addWidget(self.points["true"], 1, 0)
        grid.addWidget(self.points["shuffled"], 1, 1)
        explain(self.train_button, "Train both")
        explain(self.stop_button, "Stop", "Stop training both networks.")
        explain(
            self.plot,
            "Accuracy while training",
            "Training and test accuracy of both networks: with shuffled labels the network can "
            "still learn the training points by heart, but it gets the test points wrong.",
        )
        for key, plot in self.points.items():
            explain(
                plot,
                "True labels" if key == "true" else "Shuffled labels",
                "The training points coloured by their label"
                + ("." if key == "true" else ", shuffled at random so there is no rule to learn."),
            )
        layout = QVBoxLayout(self)
        for w in self.heading():
            layout.addWidget(w)
        layout.addLayout(buttons)
        layout.addLayout(grid, 1)
        layout.addWidget(self.result)
        layout.addWidget(self.notice)
        self.train_button.clicked.connect(self.train)
        self.stop_button.clicked.connect(self.runner.stop)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.finished.connect(
            lambda: (self.train_button.setEnabled(True), self.stop_button.setEnabled(False))
        )

    def train(self, steps: int = 1500) -> None:
        self.plot.clear_data()
        self.result.setText("Training…")
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.runner.start(lambda stop: memorize_vs_generalize(steps=steps, stop=stop))

    def _on_progress(self, ev: dict) -> None:
        for key, label, _, _ in SERIES:
            self.plot.append(label, ev["step"], ev[key])
        if ev.get("diverged"):
            self.notice.show_message(ev["diverged"], "warning")

    def _on_result(self, r: dict) -> None:
        if "x_train" not in r:
            return
        for key, labels in (("true", r["y_train"]), ("shuffled", r["y_shuffled"])):
            plot = self.points[key]
            plot.clear()
            for cls, symbol in ((0, "o"), (1, "t")):
                pts = r["x_train"][labels == cls]
                plot.addItem(
                    pg.ScatterPlotItem(
                        pts[:, 0],
                        pts[:, 1],
                        symbol=symbol,
                        size=9,
                        brush=pg.mkBrush(OKABE_ITO[cls * 3 + 0 if cls == 0 else 1]),
                        pen=pg.mkPen("#000000", width=0.5),
                    )
                )
        self.last = r
        if "true_train" not in r:  # stopped before the first measurement
            self.result.setText("Stopped before the first check of accuracy.")
            return
        self.result.setText(
            f"Training accuracy: true labels {r['true_train']:.0%}, shuffled {r['shuffled_train']:.0%}. "
            f"Validation accuracy: true labels <b>{r['true_val']:.0%}</b>, shuffled <b>{r['shuffled_val']:.0%}</b> "
            "(a coin toss is 50%). High training accuracy alone proves nothing: the shuffled "
            "network memorized the points, it did not learn the moons."
        )
