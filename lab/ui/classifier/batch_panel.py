"""'Classify a folder': every picture in a folder, in the background, into a table and a CSV."""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from lab.core import paths as lab_paths
from lab.core.classifier import Classifier
from lab.core.inference import (
    THUMB_SIZE,
    BatchRow,
    BatchSummary,
    accuracy_of,
    classify_folder,
    write_csv,
)
from lab.ui.widgets.help import explain
from lab.ui.widgets.notice import Notice
from lab.ui.widgets.picture_view import array_to_qimage
from lab.ui.worker import TaskRunner

COLUMNS = ("Picture", "File", "Prediction", "Confidence", "True class", "Right?", "Problem")
PICTURE, FILE, PREDICTION, CONFIDENCE, TRUE, RIGHT, PROBLEM = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ICON_CACHE = 500


class BatchResultsModel(QAbstractTableModel):
    """Rows arrive in chunks as the folder is classified; thumbnails become icons once."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[BatchRow] = []
        # Icons only for rows that were on screen lately: 20,000 rows stay light.
        self._icons: OrderedDict[int, QIcon] = OrderedDict()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self._icons.clear()
        self.endResetModel()

    def add_rows(self, rows: list[BatchRow]) -> None:
        if not rows:
            return
        start = len(self.rows)
        self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(r, col)
        if role == SORT_ROLE:
            if col == CONFIDENCE:
                return -1.0 if math.isnan(r.confidence) else r.confidence
            if col == RIGHT:
                return {None: 0, False: 1, True: 2}[r.correct]
            return (self._text(r, col) or "").lower()
        if role == Qt.ItemDataRole.DecorationRole and col == PICTURE:
            return self._icon(index.row())
        if role == Qt.ItemDataRole.ForegroundRole and col == RIGHT and r.correct is False:
            return QColor("#A03A00")
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.error or r.path
        if role == Qt.ItemDataRole.TextAlignmentRole and col == CONFIDENCE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(r: BatchRow, col: int) -> str:
        if col == FILE:
            return r.name
        if col == PREDICTION:
            return r.label or "—"
        if col == CONFIDENCE:
            return "" if r.error else f"{r.confidence:.1%}"
        if col == TRUE:
            return r.true_class or ""
        if col == RIGHT:
            return {None: "", True: "✓ right", False: "✗ wrong"}[r.correct]
        if col == PROBLEM:
            return r.error
        return ""

    def _icon(self, row: int) -> QIcon | None:
        icon = self._icons.get(row)
        if icon is not None:
            self._icons.move_to_end(row)
        elif self.rows[row].thumbnail is not None:
            icon = QIcon(QPixmap.fromImage(array_to_qimage(self.rows[row].thumbnail)))
            self._icons[row] = icon
            while len(self._icons) > ICON_CACHE:
                self._icons.popitem(last=False)
        return icon


class BatchFilter(QSortFilterProxyModel):
    """Text filter on one column (or all), and 'only mistakes'."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.only_mistakes = False
        self.text = ""
        self.column = -1  # -1: any column
        self.setSortRole(SORT_ROLE)

    def set_filter(self, text: str, column: int, only_mistakes: bool) -> None:
        begin = getattr(self, "beginFilterChange", None)  # Qt 6.10+; invalidateFilter before
        if begin is not None:
            begin()
        self.text, self.column, self.only_mistakes = text.strip().lower(), column, only_mistakes
        if begin is not None:
            self.endFilterChange()
        else:
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:  # noqa: N802
        model: BatchResultsModel = self.sourceModel()
        r = model.rows[source_row]
        if self.only_mistakes and not (r.correct is False or r.error):
            return False
        if not self.text:
            return True
        cols = [self.column] if self.column >= 0 else range(1, len(COLUMNS))
        return any(self.text in model._text(r, c).lower() for c in cols)


class BatchPanel(QWidget):
    status_message = Signal(str)
    batch_speed = Signal(float)  # pictures per second of the last run

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.classifier: Classifier | None = None
        self.summary: BatchSummary | None = None
        self.source: list[Path] = []
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(lambda m: self.notice.show_message(m, "error"))
        self.runner.finished.connect(self._on_finished)

        title = QLabel("Classify every picture in a folder")
        title.setObjectName("heading")
        hint = QLabel(
            "If the folder has one sub-folder per class (like cat/ and raccoon/), the table "
            "also shows the true class and whether the model was right."
        )
        hint.setObjectName("note")
        hint.setWordWrap(True)
        self.folder_button = QPushButton("Classify a folder…")
        self.folder_button.setObjectName("primary")
        self.folder_button.setToolTip(
            "Choose a folder; every picture in it (and below) is classified"
        )
        self.folder_button.clicked.connect(self._ask_folder)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop; the pictures done so far stay in the table")
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the table (all rows) as a spreadsheet file")
        self.export_button.clicked.connect(self._ask_export)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        buttons = QHBoxLayout()
        buttons.addWidget(self.folder_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.export_button)

        self.filter_text = QLineEdit()
        self.filter_text.setPlaceholderText("Filter, for example: raccoon")
        self.filter_text.setClearButtonEnabled(True)
        self.filter_column = QComboBox()
        self.filter_column.addItem("in any column", -1)
        for col in (FILE, PREDICTION, TRUE, RIGHT, PROBLEM):
            self.filter_column.addItem(f"in “{COLUMNS[col]}”", col)
        self.only_mistakes = QCheckBox("Only mistakes and problems")
        self.filter_text.textChanged.connect(self._apply_filter)
        self.filter_column.currentIndexChanged.connect(self._apply_filter)
        self.only_mistakes.toggled.connect(self._apply_filter)
        filters = QHBoxLayout()
        show_label = QLabel("&Show")
        filters.addWidget(show_label)
        filters.addWidget(self.filter_text, 1)
        filters.addWidget(self.filter_column)
        filters.addWidget(self.only_mistakes)

        explain(
            self.filter_text,
            "Filter the table",
            "Show only the rows that contain these words, for example a class name.",
            label=show_label,
        )
        explain(self.filter_column, "Filter column", "Which column the filter words must be in.")
        explain(
            self.only_mistakes,
            "Only mistakes and problems",
            "Hide the pictures the model got right, leaving its mistakes and unreadable files.",
        )

        self.model = BatchResultsModel(self)
        self.proxy = BatchFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().setDefaultSectionSize(56)
        self.table.verticalHeader().hide()
        self.table.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(FILE, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(PICTURE, THUMB_SIZE + 20)
        header.setSectionResizeMode(PROBLEM, QHeaderView.ResizeMode.Stretch)

        explain(
            self.table,
            "Results table",
            "One row per picture in the folder: the model's answer, how sure it was and, when the "
            "folder has class subfolders, whether it was right. Click a column title to sort.",
        )
        explain(self.folder_button, "Classify a folder")
        explain(self.cancel_button, "Cancel")
        explain(self.export_button, "Export CSV")

        self.summary_label = QLabel()
        self.summary_label.setObjectName("result")
        self.summary_label.setWordWrap(True)
        self.speed_note = QLabel()
        self.speed_note.setObjectName("note")
        self.speed_note.setWordWrap(True)
        self.notice = Notice()

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(buttons)
        layout.addWidget(self.notice)
        layout.addWidget(self.summary_label)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.speed_note)
        self._update_buttons()

    def set_classifier(self, classifier: Classifier | None) -> None:
        self.classifier = classifier
        self._update_buttons()

    # -- running ---------------------------------------------------------------------------
    def start(self, sources: list) -> bool:
        clf = self.classifier
        if clf is None:
            self.notice.show_message(
                "There is no model yet: train one or load one (File ▸ Load model…).", "warning"
            )
            return False
        sources = [Path(s) for s in sources]
        self.source = sources
        self.model.clear()
        self.summary = None
        self.notice.hide()
        self.summary_label.setText(f"Classifying {', '.join(s.name for s in sources)}…")
        self.progress.setRange(0, 0)
        self.progress.setFormat("Looking for pictures…")
        self.runner.start(lambda stop: classify_folder(clf, sources, stop=stop))
        self.status_message.emit("Classifying a folder…")
        self._update_buttons()
        return True

    def cancel(self) -> None:
        # Stop, not cancel: the task returns its summary of what it did, within a batch.
        self.runner.stop()
        self.progress.setFormat("Stopping…")

    def _on_progress(self, ev: dict) -> None:
        if ev["kind"] == "start":
            self.progress.setRange(0, max(1, ev["total"]))
            self.progress.setValue(0)
            self.table.setColumnHidden(TRUE, not ev["laid_out_by_class"])
            self.table.setColumnHidden(RIGHT, not ev["laid_out_by_class"])
            return
        self.model.add_rows(ev["rows"])
        self.progress.setValue(ev["done"])
        rate = ev["images_per_s"]
        left = ev.get("eta_s")
        tail = f", about {left:.0f} s left" if left is not None and ev["done"] < ev["total"] else ""
        self.progress.setFormat(f"%v of %m · {rate:.0f} pictures/s{tail}" if rate else "%v of %m")

    def _on_result(self, summary: BatchSummary) -> None:
        self.summary = summary
        classified = summary.done - summary.failed
        parts = [
            f"{'Stopped after' if summary.stopped else 'Classified'} {classified} of "
            f"{summary.total} pictures in {summary.seconds:.1f} s: "
            f"{summary.images_per_s:.0f} pictures per second."
        ]
        if summary.failed:
            parts.append(f"{summary.failed} could not be used (see “Problem”).")
        right, checked = accuracy_of(self.model.rows)
        if checked:
            parts.append(f"Right: {right} of {checked} ({right / checked:.0%}).")
        self.summary_label.setText(" ".join(parts))
        if classified:
            self.batch_speed.emit(summary.images_per_s)

    def _on_finished(self) -> None:
        self.progress.setRange(0, max(1, self.progress.maximum()))
        if self.summary is None:
            self.progress.setFormat("")
        else:
            self.progress.setValue(self.summary.done)
            self.progress.setFormat("Stopped" if self.summary.stopped else "Done")
        self.status_message.emit("Ready")
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.runner.running
        self.folder_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.export_button.setEnabled(not running and bool(self.model.rows))

    def _apply_filter(self, *_) -> None:
        self.proxy.set_filter(
            self.filter_text.text(),
            self.filter_column.currentData(),
            self.only_mistakes.isChecked(),
        )

    # -- saving ----------------------------------------------------------------------------
    def export_csv(self, path: Path) -> bool:
        if self.classifier is None or not self.model.rows:
            return False
        try:
            write_csv(path, self.model.rows, self.classifier.classes)
        except OSError as exc:
            self.notice.show_message(f"Could not save {path}: {exc.strerror or exc}", "error")
            return False
        self.notice.show_message(f"Saved {len(self.model.rows)} rows to {path}.", "info")
        return True

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of pictures to classify")
        if folder:
            self.start([Path(folder)])

    def _ask_export(self) -> None:
        name = (self.source[0].name if self.source else "results") + "-predictions.csv"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export CSV", str(lab_paths.data_dir() / name), "CSV (*.csv)"
        )
        if path:
            self.export_csv(Path(path if path.lower().endswith(".csv") else path + ".csv"))

    def shutdown(self) -> None:
        self.runner.shutdown()
