"""Curves: a run table on the left, the overlaid curves with their controls on the right."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lab.core.files import atomic_write_bytes
from lab.core.runs import COLUMNS, METRIC_TITLES, RunRecord, best_epoch, overfitting_spans
from lab.ui.runs_model import RunsModel
from lab.ui.widgets.help import explain
from lab.ui.widgets.live_plot import DASHES, LivePlot
from lab.ui.widgets.notice import Notice

X_AXES = {"step": "step (batches seen)", "epoch": "epoch", "time": "seconds since the start"}
COLS = ("Show", "Run", "Result", "Took")
PNG_SIZES = {"1280 × 720 (slides)": 1280, "1920 × 1080 (full HD)": 1920, "3840 × 2160 (4K)": 3840}


def style_icon(color: str, style: int) -> QIcon:
    """A little line sample in the run's colour and dash pattern, for the table."""
    pix = QPixmap(36, 14)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    pen = QPen(QColor(color), 3)
    pen.setStyle(DASHES[style % len(DASHES)])
    painter.setPen(pen)
    painter.drawLine(2, 7, 34, 7)
    painter.end()
    return QIcon(pix)


def format_duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


class CurvesTab(QWidget):
    title = "Curves"
    status_message = Signal(str)

    def __init__(self, runs: RunsModel, parent=None) -> None:
        super().__init__(parent)
        self.runs = runs
        self._rows: dict[str, int] = {}
        self._mark_state: dict[str, int] = {}
        self._updating_table = False
        self._dirty: set[str] = set()
        self._update_timer = QTimer(self)
        self._update_timer.setSingleShot(True)
        self._update_timer.setInterval(33)
        self._update_timer.timeout.connect(self._apply_changes)

        self.table = QTableWidget(0, len(COLS))
        self.table.setHorizontalHeaderLabels(COLS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip(
            "Every training run is kept here. Tick Show to draw it; double-click a name to rename it."
        )
        self.table.setAccessibleName("Training runs")
        self.table.horizontalHeaderItem(2).setToolTip(
            "Validation accuracy at the end; for runs without one (diffusion), the last "
            "training loss"
        )
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._draw_marks)

        self.color_button = QPushButton("Colour…")
        self.color_button.setToolTip("Choose the colour of the selected run")
        self.color_button.clicked.connect(self._ask_color)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected runs for good")
        self.delete_button.clicked.connect(self._ask_delete)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setToolTip(
            "Save the selected runs' numbers (or all shown runs) as a CSV file"
        )
        self.csv_button.clicked.connect(self._ask_csv)
        self.png_button = QPushButton("Export PNG…")
        self.png_button.setToolTip("Save the plot as a picture, at a size for slides")
        self.png_button.clicked.connect(self._ask_png)
        table_buttons = QGridLayout()  # 2 × 2: four in a row get clipped at presentation sizes
        table_row = (self.color_button, self.delete_button, self.csv_button, self.png_button)
        for i, b in enumerate(table_row):
            table_buttons.addWidget(b, i // 2, i % 2)
        self.notice = Notice()
        if runs.load_problems:
            self.notice.show_message("\n".join(runs.load_problems), "warning")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        heading = QLabel("Training runs")
        heading.setObjectName("heading")
        left_layout.addWidget(heading)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(table_buttons)
        left_layout.addWidget(self.notice)

        self.metric_box = QComboBox()
        for key, title in METRIC_TITLES.items():
            self.metric_box.addItem(title, key)
        self.metric_box.setToolTip("Which number to draw for each run")
        self.x_axis_box = QComboBox()
        for key, title in X_AXES.items():
            self.x_axis_box.addItem(title, key)
        self.x_axis_box.setToolTip(
            "Draw against batches seen, epochs, or time since the run started"
        )
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(60)
        self.smoothing.setToolTip(
            "Smoothing: each point becomes a running average of the points before it "
            "(0 = raw numbers). The raw curve stays faint behind."
        )
        self.smoothing.setMinimumWidth(120)
        self.smoothing.setAccessibleName("Smoothing")
        self.smoothing_label = QLabel()
        self.log_y = QCheckBox("Log scale")
        self.log_y.setToolTip("Log scale makes small changes in a small loss visible")
        self.outliers = QCheckBox("Ignore outliers")
        self.outliers.setToolTip(
            "Scale the y axis to the bulk of the points, ignoring a few extreme ones"
        )
        self.autoscale_button = QPushButton("Autoscale")
        self.autoscale_button.setToolTip("Fit the view to all the shown curves")
        # Two short rows, so the tab fits a 1024-pixel-wide projector.
        choose = QHBoxLayout()
        for label, w in (("Show", self.metric_box), ("against", self.x_axis_box)):
            caption = QLabel(label)
            caption.setBuddy(w)  # a screen reader names the box
            choose.addWidget(caption)
            choose.addWidget(w)
        choose.addStretch(1)
        options = QHBoxLayout()
        smoothing_caption = QLabel("Smoothing")
        smoothing_caption.setBuddy(self.smoothing)
        options.addWidget(smoothing_caption)
        options.addWidget(self.smoothing, 1)
        options.addWidget(self.smoothing_label)
        options.addWidget(self.log_y)
        options.addWidget(self.outliers)
        options.addWidget(self.autoscale_button)
        controls = QVBoxLayout()
        controls.addLayout(choose)
        controls.addLayout(options)

        self.plot = LivePlot("", "step", "value")
        self.plot.setToolTip(
            "Each line is one run. ★ marks a run's best validation epoch. Orange shading (for "
            "the selected run): validation loss rose while training loss kept falling, the "
            "sign of memorizing (overfitting)."
        )
        for widget, name in (
            (self.table, "Training runs"),
            (self.color_button, "Run colour"),
            (self.delete_button, "Delete runs"),
            (self.csv_button, "Export CSV"),
            (self.png_button, "Export PNG"),
            (self.metric_box, "Metric to show"),
            (self.x_axis_box, "Horizontal axis"),
            (self.smoothing, "Smoothing"),
            (self.log_y, "Log scale"),
            (self.outliers, "Ignore outliers"),
            (self.autoscale_button, "Autoscale"),
            (self.plot, "Run curves"),
        ):
            explain(widget, name)
        self.missing_note = QLabel()
        self.missing_note.setObjectName("note")
        self.missing_note.setWordWrap(True)
        self.missing_note.hide()
        self.readout = QLabel("Move the mouse over the plot to read off values.")
        self.readout.setObjectName("note")
        self.plot.hovered.connect(self.readout.setText)
        legend_note = QLabel(
            "★ best validation epoch · select a run to shade where its validation loss rose while "
            "its training loss fell (overfitting)"
        )
        legend_note.setObjectName("note")
        legend_note.setWordWrap(True)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.plot, 1)
        right_layout.addWidget(self.missing_note)
        right_layout.addWidget(self.readout)
        right_layout.addWidget(legend_note)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([420, 840])
        left.setMinimumWidth(260)
        self.table.setMinimumWidth(240)
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)

        self.metric_box.currentIndexChanged.connect(lambda _: self.refresh_plot())
        self.x_axis_box.currentIndexChanged.connect(lambda _: self.refresh_plot())
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self.log_y.toggled.connect(self.plot.set_log_y)
        self.log_y.toggled.connect(lambda _: self._draw_marks())
        self.outliers.toggled.connect(self.plot.set_ignore_outliers)
        self.autoscale_button.clicked.connect(self.plot.autoscale)
        runs.run_added.connect(self._on_run_added)
        runs.run_changed.connect(self._on_run_changed)
        runs.run_removed.connect(lambda _: self._rebuild())
        runs.run_looks_changed.connect(lambda _: self._rebuild())
        runs.problem.connect(lambda msg: self.notice.show_message(msg, "error"))
        self._on_smoothing(self.smoothing.value())
        self._rebuild()

    # -- the run table ---------------------------------------------------------------------
    def _rebuild(self) -> None:
        self._updating_table = True
        runs = self.runs.runs()
        self.table.setRowCount(len(runs))
        self._rows = {}
        for row, run in enumerate(runs):
            self._rows[run.id] = row
            self._fill_row(row, run)
        self._updating_table = False
        self.refresh_plot()

    def _fill_row(self, row: int, run: RunRecord) -> None:
        was = self._updating_table
        self._updating_table = True
        show = QTableWidgetItem()
        show.setFlags(
            Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
        )
        show.setCheckState(Qt.CheckState.Unchecked if run.hidden else Qt.CheckState.Checked)
        show.setData(Qt.ItemDataRole.UserRole, run.id)
        name = QTableWidgetItem(style_icon(run.color, row), run.name)
        name.setData(Qt.ItemDataRole.UserRole, run.id)
        settings = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in run.settings.items())
        name.setToolTip(
            f"{run.name}\nStarted {run.started.replace('T', ' ')[:16]} on {run.device or 'unknown'}"
            f"\nStatus: {run.status}\n{settings}"
        )
        acc = run.summary.get("val_accuracy")
        if acc is None and "val_accuracy" in run.metrics and len(run.metrics["val_accuracy"]):
            acc = float(run.metrics["val_accuracy"].column("value")[-1])
        acc_text, took = _summary_cells(run, acc)
        cells = [show, name, _ro(acc_text), _ro(took)]
        for col, item in enumerate(cells):
            self.table.setItem(row, col, item)
        self._updating_table = was

    def _refresh_cells(self, row: int, run: RunRecord) -> None:
        """Streaming updates touch only the two cells that change, and only when they do
        (rebuilding a row re-measures every column: tens of milliseconds a frame)."""
        acc = run.summary.get("val_accuracy")
        if acc is None and "val_accuracy" in run.metrics and len(run.metrics["val_accuracy"]):
            acc = float(run.metrics["val_accuracy"].column("value")[-1])
        self._updating_table = True
        for col, text in zip((2, 3), _summary_cells(run, acc)):
            item = self.table.item(row, col)
            if item is not None and item.text() != text:
                item.setText(text)
        self._updating_table = False

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating_table:
            return
        run_id = item.data(Qt.ItemDataRole.UserRole)
        if not run_id:
            return
        if item.column() == 0:
            self.runs.set_hidden(run_id, item.checkState() != Qt.CheckState.Checked)
        elif item.column() == 1:
            self.runs.rename(run_id, item.text())

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        ids = [self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in rows]
        return [i for i in ids if i]

    def visible_runs(self) -> list[RunRecord]:
        return [r for r in self.runs.runs() if not r.hidden]

    def _on_run_added(self, run_id: str) -> None:
        self._rebuild()

    def _on_run_changed(self, run_id: str) -> None:
        # Runs stream many changes a second: gather them and update ~30 times a second.
        self._dirty.add(run_id)
        if not self._update_timer.isActive():
            self._update_timer.start()

    def _apply_changes(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for run_id in dirty:
            run = self.runs.get(run_id)
            row = self._rows.get(run_id)
            if run is None or row is None:
                self._rebuild()
                return
            self._refresh_cells(row, run)
            self._update_run_curve(run)

    # -- the plot ------------------------------------------------------------------------------
    def metric_key(self) -> str:
        return self.metric_box.currentData()

    def x_key(self) -> str:
        return self.x_axis_box.currentData()

    def _series_name(self, run: RunRecord) -> str:
        same = [r for r in self.runs.runs() if r.name == run.name]
        return run.name if len(same) == 1 else f"{run.name} ({run.id[-6:]})"

    def refresh_plot(self) -> None:
        metric, x = self.metric_key(), self.x_key()
        self.plot.clear_series()
        self.plot.setTitle(METRIC_TITLES[metric], size="13pt")
        self.plot.setLabel("bottom", X_AXES[x])
        self.plot.setLabel("left", "accuracy" if "accuracy" in metric else "loss")
        self.plot.fixed_y = (0.0, 1.02) if "accuracy" in metric else None
        missing = []
        for run in self.visible_runs():
            if not len(run.metrics.get(metric, ())) and run.status != "running":
                missing.append(run.name)  # e.g. a diffusion run has no accuracy: named below
                continue
            style = self._rows.get(run.id, 0)
            self.plot.add_series(
                self._series_name(run),
                style,
                color=run.color,
                style=style,
                symbol=metric != "train_loss",
                smooth=True,
                width=2.5,
            )
            self._update_run_curve(run)
        self.missing_note.setText(
            f"Not drawn: {', '.join(missing)} (no {METRIC_TITLES[metric].split(' (')[0].lower()} "
            "recorded). Choose another number to show them."
        )
        self.missing_note.setVisible(bool(missing))
        self._draw_marks()

    def _update_run_curve(self, run: RunRecord) -> None:
        name = self._series_name(run)
        if name not in self.plot.series:
            if not run.hidden and len(run.metrics.get(self.metric_key(), ())):
                self.refresh_plot()  # the run's first point of this metric
            return
        series = run.metrics.get(self.metric_key())
        if series is None:
            self.plot.set_data(name, [], [])
            return
        self.plot.set_data(name, series.column(self.x_key()), series.column("value"))
        n_epochs = len(run.metrics.get("val_loss", []))
        if self._mark_state.get(run.id) != n_epochs:
            self._draw_marks()

    def _draw_marks(self) -> None:
        """★ at each shown run's best validation epoch; shade where it started memorizing."""
        self.plot.clear_marks()
        self._mark_state = {}
        metric, x = self.metric_key(), self.x_key()
        for run in self.visible_runs():
            val = run.metrics.get("val_loss")
            self._mark_state[run.id] = len(val) if val is not None else 0
            if val is None or len(val) == 0:
                continue
            epochs = val.column("epoch")
            best = best_epoch(epochs, val.column("value"))
            shown = run.metrics.get(metric)
            if best is not None and shown is not None and metric != "train_loss":
                i = int(np.flatnonzero(epochs == best[0])[0])
                if i < len(shown):
                    self.plot.mark_point(
                        shown.column(x)[i],
                        shown.column("value")[i],
                        f"best: epoch {best[0]:g}",
                        run.color,
                    )
            train = run.metrics.get("train_loss_epoch")
            if train is None or not self._shade_run(run):
                continue
            to_x = dict(zip(epochs.tolist(), val.column(x).tolist()))
            for e0, e1 in overfitting_spans(epochs, train.column("value"), val.column("value")):
                self.plot.shade(
                    to_x[e0], to_x[e1], f"{run.name}: validation loss rose while training loss fell"
                )

    def _shade_run(self, run: RunRecord) -> bool:
        """Shade memorizing spans for the selected runs, or for the one run shown."""
        selected = self.selected_ids()
        return run.id in selected if selected else len(self.visible_runs()) == 1

    def _on_smoothing(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 100:.2f}")
        self.plot.set_smoothing(value / 100)

    # -- actions -------------------------------------------------------------------------------
    def delete_runs(self, ids: list[str]) -> None:
        for run_id in ids:
            self.runs.delete(run_id)

    def export_csv(self, path: Path, ids: list[str] | None = None) -> int:
        """Write the runs' every metric as rows; returns the number of rows."""
        runs = [self.runs.get(i) for i in ids] if ids else self.visible_runs()
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["run_id", "run", "metric", "step", "epoch", "time_s", "value"])
        rows = 0
        for run in runs:
            if run is None:
                continue
            for metric, series in sorted(run.metrics.items()):
                cols = [series.column(c) for c in COLUMNS]
                for step, epoch, t, value in zip(*cols):
                    writer.writerow(
                        [
                            run.id,
                            run.name,
                            metric,
                            f"{step:g}",
                            f"{epoch:g}",
                            f"{t:.3f}",
                            f"{value:.6g}",
                        ]
                    )
                    rows += 1
        atomic_write_bytes(path, buf.getvalue().encode())
        return rows

    def export_png(self, path: Path, width: int) -> None:
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(self.plot.getPlotItem())
        exporter.parameters()["width"] = int(width)
        exporter.export(str(path))

    def _ask_color(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        run = self.runs.get(ids[0])
        color = QColorDialog.getColor(QColor(run.color), self, f"Colour of {run.name}")
        if color.isValid():
            for run_id in ids:
                self.runs.set_color(run_id, color.name())
            self.refresh_plot()

    def _ask_delete(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        answer = QMessageBox.question(
            self, "Delete runs", f"Delete {len(ids)} run(s) and their curves for good?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_runs(ids)

    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export runs as CSV", "runs.csv", "CSV (*.csv)")
        if path:
            try:
                rows = self.export_csv(Path(path), self.selected_ids() or None)
            except OSError as exc:
                self.notice.show_message(f"Could not write {path}: {exc.strerror or exc}", "error")
                return
            self.notice.show_message(f"Saved {rows} rows to {path}.", "info")

    def _ask_png(self) -> None:
        choice, ok = QInputDialog.getItem(
            self, "Export plot", "Picture width:", list(PNG_SIZES), 1, False
        )
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export plot as PNG", "curves.png", "PNG (*.png)"
        )
        if path:
            self.export_png(Path(path), PNG_SIZES[choice])
            self.notice.show_message(f"Saved the plot to {path}.", "info")


def _summary_cells(run: RunRecord, acc) -> tuple[str, str]:
    acc_text = f"{acc:.1%}" if isinstance(acc, float) and acc == acc else "—"
    loss = run.metrics.get("train_loss")
    if acc is None and run.kind != "classifier" and loss is not None and len(loss):
        acc_text = f"loss {float(loss.column('value')[-1]):.3g}"  # e.g. diffusion: no accuracy
    took = format_duration(run.duration_s) if run.status != "running" else "running…"
    if run.status in ("stopped", "diverged", "failed"):
        took += f" ({run.status})"
    return acc_text, took


def _ro(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item
