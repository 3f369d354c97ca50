"""'Evaluate': confusion matrix, accuracy per class, and the hardest images to fix by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lab.core.classifier import Classifier
from lab.core.evaluation import Evaluation, evaluate_images, relabel_image, remove_image
from lab.core.workspace import Workspace, WorkspaceError
from lab.ui.widgets.help import explain
from lab.ui.widgets.notice import Notice
from lab.ui.widgets.thumbnails import ThumbnailGrid, read_thumbnail
from lab.ui.worker import TaskRunner

HARDEST = 20
HARD_COLUMNS = ("Picture", "File", "Labelled", "Model says", "P(label)", "Loss")


def _mix(share: float, colour: str) -> QColor:
    """White for 0, the colour for 1: how much of a row a cell holds."""
    c = QColor(colour)
    t = max(0.0, min(1.0, share)) * 0.85
    return QColor(
        round(255 + (c.red() - 255) * t),
        round(255 + (c.green() - 255) * t),
        round(255 + (c.blue() - 255) * t),
    )


class EvaluatePanel(QWidget):
    workspace_changed = Signal()  # an image was moved to another class or removed

    def __init__(self, workspace: Workspace, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.evaluation: Evaluation | None = None
        self.classifier: Classifier | None = None
        self._hard_rows: list[int] = []
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(
            lambda ev: self.set_evaluation(
                ev,
                "All your images, checked with the loaded model. Some of them may be "
                "images it learned from, so this can look better than it really is.",
            )
        )
        self.runner.error.connect(lambda m: self.notice.show_message(m, "error"))
        self.runner.finished.connect(self._update_buttons)

        title = QLabel("How good is the model?")
        title.setObjectName("heading")
        self.source = QLabel("Train a model first: its check on the validation images shows here.")
        self.source.setWordWrap(True)
        self.check_button = QPushButton("Check this model on all my images")
        self.check_button.setToolTip(
            "Classify every image of your classes with this model and compare with their class"
        )
        self.check_button.clicked.connect(self.check_on_workspace)
        self.notice = Notice()
        self.overall = QLabel()
        self.overall.setObjectName("result")
        self.per_class = QLabel()
        self.per_class.setWordWrap(True)

        self.matrix = QTableWidget()
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.matrix.setToolTip(
            "Rows: the class an image really is. Columns: what the model said. The diagonal "
            "holds the right answers. Click a cell to see its images."
        )
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.matrix.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.matrix.cellClicked.connect(self.show_cell)
        self.matrix_note = QLabel(
            "Each cell: how many images, and their share of the row (the true class)."
        )
        self.matrix_note.setObjectName("note")
        self.matrix_note.setWordWrap(True)  # fits at presentation sizes
        self.cell_label = QLabel("Click a cell to see its images.")
        self.cell_grid = ThumbnailGrid(72)
        self.cell_grid.setAccessibleName("Images in the chosen cell")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.overall)
        left_layout.addWidget(self.per_class)
        left_layout.addWidget(self.matrix, 2)
        left_layout.addWidget(self.matrix_note)
        left_layout.addWidget(self.cell_label)
        left_layout.addWidget(self.cell_grid, 1)

        hard_title = QLabel("Hardest images")
        hard_title.setObjectName("heading")
        hard_note = QLabel(
            "The images the model got most wrong (highest loss). Often real mistakes, "
            "sometimes an image in the wrong class: fix it here."
        )
        hard_note.setWordWrap(True)
        hard_note.setObjectName("note")
        self.hard = QTableWidget(0, len(HARD_COLUMNS))
        self.hard.setHorizontalHeaderLabels(HARD_COLUMNS)
        self.hard.horizontalHeaderItem(4).setToolTip(
            "The probability the model gave to the class the image is in"
        )
        self.hard.horizontalHeaderItem(5).setToolTip(
            "−log of that probability: large when the model was sure and wrong"
        )
        self.hard.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.hard.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.hard.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.hard.verticalHeader().hide()
        self.hard.verticalHeader().setDefaultSectionSize(68)
        self.hard.setIconSize(QPixmap(64, 64).size())
        header = self.hard.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.hard.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.hard.itemSelectionChanged.connect(self._update_buttons)
        self.move_to = QComboBox()
        self.move_to.setToolTip("The class the selected image should be in")
        self.move_button = QPushButton("Move to this class")
        self.move_button.setToolTip("Move the selected image into the chosen class (relabel it)")
        self.move_button.clicked.connect(lambda: self.relabel_selected(self.move_to.currentText()))
        self.remove_button = QPushButton("Remove from my images")
        self.remove_button.setToolTip(
            "Delete ML Lab's copy of the selected image (your original file stays)"
        )
        self.remove_button.clicked.connect(self.remove_selected)
        explain(self.check_button, "Check this model on all my images")
        explain(self.matrix, "Confusion matrix")
        explain(
            self.cell_grid,
            "Images in the chosen cell",
            "The images in the cell you picked in the confusion matrix: a true class and what the "
            "model said.",
        )
        explain(
            self.hard,
            "Hardest images",
            "The images the model got most wrong, worst first. Select one to move it to another "
            "class or remove it.",
        )
        explain(self.move_to, "Move to class")
        explain(self.move_button, "Move to this class")
        explain(self.remove_button, "Remove from my images")
        # Two rows: three controls side by side are too wide for half a projected screen.
        move_row = QHBoxLayout()
        move_row.addWidget(self.move_to, 1)
        move_row.addWidget(self.move_button)
        fix_row = QVBoxLayout()
        fix_row.addLayout(move_row)
        fix_row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignLeft)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(hard_title)
        right_layout.addWidget(hard_note)
        right_layout.addWidget(self.hard, 1)
        right_layout.addLayout(fix_row)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        top = QHBoxLayout()
        top.addWidget(self.source, 1)
        top.addWidget(self.check_button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(split, 1)
        self._update_buttons()

    # -- inputs ----------------------------------------------------------------------------
    def set_classifier(self, classifier: Classifier | None, fits_workspace: bool) -> None:
        """The model in use; it can be checked on the workspace only if its classes fit."""
        self.classifier = classifier if fits_workspace else None
        self._update_buttons()

    def set_evaluation(self, evaluation: Evaluation | None, source: str) -> None:
        self.runner.cancel()
        self.evaluation = evaluation
        self.source.setText(source)
        self._render()

    def check_on_workspace(self) -> bool:
        clf = self.classifier
        if clf is None:
            return False
        folder = self.workspace.as_image_folder()
        self.notice.hide()
        self.source.setText("Checking the model on all your images…")
        self.runner.start(lambda stop: evaluate_images(clf, folder, stop=stop))
        self._update_buttons()
        return True

    def _on_progress(self, ev: dict) -> None:
        self.source.setText(f"Checking the model on your images: {ev['done']} of {ev['total']}…")

    # -- drawing ---------------------------------------------------------------------------
    def _render(self) -> None:
        ev = self.evaluation
        self.cell_grid.thumbnails.set_paths([])
        self.cell_label.setText("Click a cell to see its images.")
        if ev is None or not len(ev.labels):
            self.overall.setText("")
            self.per_class.setText("")
            self.matrix.setRowCount(0)
            self.matrix.setColumnCount(0)
            self.hard.setRowCount(0)
            self._update_buttons()
            return
        right = int((ev.predictions == ev.labels).sum())
        self.overall.setText(
            f"Overall accuracy: {ev.accuracy:.1%} ({right} of {len(ev.labels)} images right)"
        )
        acc = ev.class_accuracy()
        counts = np.bincount(ev.labels, minlength=len(ev.classes))
        self.per_class.setText(
            "Per class: "
            + " · ".join(
                f"{c}: {'no images' if math.isnan(a) else f'{a:.0%} of {n}'}"
                for (c, a), n in zip(acc.items(), counts)
            )
        )
        m, shares = ev.matrix, ev.row_shares
        n = len(ev.classes)
        self.matrix.setRowCount(n)
        self.matrix.setColumnCount(n)
        self.matrix.setHorizontalHeaderLabels([f"said {c}" for c in ev.classes])
        self.matrix.setVerticalHeaderLabels([f"is {c}" for c in ev.classes])
        for t in range(n):
            for p in range(n):
                item = QTableWidgetItem(f"{m[t, p]}\n{shares[t, p]:.0%}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                colour = "#0072B2" if t == p else "#D55E00"
                item.setBackground(QBrush(_mix(shares[t, p], colour)))
                item.setForeground(QBrush(QColor("#ffffff" if shares[t, p] > 0.6 else "#000000")))
                kind = "right" if t == p else "wrong"
                item.setToolTip(
                    f"{m[t, p]} {ev.classes[t]} image(s) the model called {ev.classes[p]} ({kind})"
                )
                self.matrix.setItem(t, p, item)
        self.move_to.clear()
        self.move_to.addItems(self.workspace.classes())
        self._render_hardest()

    def _render_hardest(self) -> None:
        ev = self.evaluation
        self._hard_rows = ev.hardest(HARDEST)
        losses = ev.losses()
        preds = ev.predictions
        self.hard.setRowCount(len(self._hard_rows))
        for row, i in enumerate(self._hard_rows):
            path = Path(ev.paths[i])
            thumb = read_thumbnail(path, 64)
            picture = QTableWidgetItem()
            if not thumb.isNull():
                picture.setIcon(QIcon(QPixmap.fromImage(thumb)))
            label, pred = ev.classes[ev.labels[i]], ev.classes[preds[i]]
            cells = [
                picture,
                QTableWidgetItem(path.name),
                QTableWidgetItem(label),
                QTableWidgetItem(pred + ("" if pred == label else "  ✗")),
                QTableWidgetItem(f"{ev.probs[i, ev.labels[i]]:.1%}"),
                QTableWidgetItem(f"{losses[i]:.2f}"),
            ]
            cells[1].setToolTip(str(path))
            for col, cell in enumerate(cells):
                self.hard.setItem(row, col, cell)
        self._update_buttons()

    def show_cell(self, true: int, predicted: int) -> list[Path]:
        ev = self.evaluation
        if ev is None:
            return []
        paths = [Path(ev.paths[i]) for i in ev.cell(true, predicted)]
        self.cell_grid.thumbnails.set_paths(paths)
        kind = "right" if true == predicted else "mistakes"
        self.cell_label.setText(
            f"{ev.classes[true]} images the model called {ev.classes[predicted]} "
            f"({kind}): {len(paths)}"
        )
        return paths

    # -- fixing the data -------------------------------------------------------------------
    def selected_index(self) -> int | None:
        rows = self.hard.selectionModel().selectedRows() if self.hard.selectionModel() else []
        if not rows or rows[0].row() >= len(self._hard_rows):
            return None
        return self._hard_rows[rows[0].row()]

    def relabel_selected(self, new_class: str) -> bool:
        i = self.selected_index()
        ev = self.evaluation
        if i is None or ev is None:
            return False
        try:
            dest = relabel_image(self.workspace, ev.paths[i], new_class)
        except (WorkspaceError, OSError) as exc:
            self.notice.show_message(str(exc), "error")
            return False
        lower = [c.lower() for c in ev.classes]
        if new_class.lower() in lower:
            ev.labels[i] = lower.index(new_class.lower())
        ev.paths[i] = str(dest)
        self.notice.show_message(
            f"Moved {dest.name} to “{new_class}”. Train again to learn from the change.", "info"
        )
        self._render()
        self.workspace_changed.emit()
        return True

    def remove_selected(self) -> bool:
        i = self.selected_index()
        ev = self.evaluation
        if i is None or ev is None:
            return False
        name = Path(ev.paths[i]).name
        try:
            remove_image(self.workspace, ev.paths[i])
        except (WorkspaceError, OSError) as exc:
            self.notice.show_message(str(exc), "error")
            return False
        keep = np.arange(len(ev.labels)) != i
        self.evaluation = Evaluation(
            classes=ev.classes,
            paths=[p for j, p in enumerate(ev.paths) if keep[j]],
            labels=ev.labels[keep],
            probs=ev.probs[keep],
        )
        self.notice.show_message(f"Removed {name} from your images.", "info")
        self._render()
        self.workspace_changed.emit()
        return True

    def _update_buttons(self) -> None:
        selected = self.selected_index() is not None
        self.move_button.setEnabled(selected)
        self.remove_button.setEnabled(selected)
        self.move_to.setEnabled(selected)
        self.check_button.setVisible(self.classifier is not None)
        self.check_button.setEnabled(self.classifier is not None and not self.runner.running)

    def shutdown(self) -> None:
        self.runner.shutdown()
        self.cell_grid.thumbnails.shutdown()
