"""'Your images': classes with counts and thumbnails, adding images, starter images."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lab.core import paths as lab_paths
from lab.core.starter import download_starter
from lab.core.workspace import ImportReport, Workspace, WorkspaceError
from lab.ui.widgets.help import explain
from lab.ui.widgets.notice import Notice
from lab.ui.widgets.thumbnails import ThumbnailGrid, read_thumbnail
from lab.ui.worker import TaskRunner

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"


def dropped_paths(event) -> list[Path]:
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class ClassList(QListWidget):
    """The classes, each with its count; files or folders dropped on a class go into it."""

    files_dropped = Signal(str, list)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QListWidget.DragDropMode.DropOnly)
        self.setIconSize(QSize(40, 40))
        self.setAccessibleName("Classes")
        self.setToolTip("Your classes. Drop image files or folders on a class to add them to it.")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event)
        if not paths:
            return super().dropEvent(event)
        item = self.itemAt(event.position().toPoint()) or self.currentItem()
        name = item.data(Qt.ItemDataRole.UserRole) if item else ""
        event.acceptProposedAction()
        self.files_dropped.emit(name, paths)


class DataPanel(QWidget):
    """Owns the workspace view; emits `changed` when classes or images change."""

    changed = Signal()
    busy_changed = Signal(bool)

    def __init__(self, workspace: Workspace, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(lambda msg: self.notice.show_message(msg, "error"))
        self.runner.finished.connect(self._on_finished)
        self._task_label = ""
        self._counts: dict[str, int] = {}

        title = QLabel("1. Your images")
        title.setObjectName("heading")
        hint = QLabel("Make a class for each kind of picture, then add images to it.")
        hint.setWordWrap(True)

        self.class_list = ClassList()
        self.class_list.currentItemChanged.connect(lambda *_: self._show_selected())
        self.class_list.files_dropped.connect(self._on_class_drop)

        self.new_button = QPushButton("New class")
        self.new_button.setToolTip("Make a new, empty class")
        self.new_button.clicked.connect(self._ask_new_class)
        self.rename_button = QPushButton("Rename")
        self.rename_button.setToolTip("Rename the selected class")
        self.rename_button.clicked.connect(self._ask_rename)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected class and its images")
        self.delete_button.clicked.connect(self._ask_delete)
        class_buttons = QHBoxLayout()
        for b in (self.new_button, self.rename_button, self.delete_button):
            class_buttons.addWidget(b)

        self.add_button = QPushButton("Add images…")
        self.add_button.setToolTip("Add image files, or a whole folder, to the selected class")
        add_menu = QMenu(self.add_button)
        add_menu.addAction("Image files…", self._ask_add_files)
        add_menu.addAction("A folder of images…", self._ask_add_folder)
        self.add_button.setMenu(add_menu)
        self.starter_button = QPushButton("Starter images…")
        self.starter_button.setToolTip("Get cat and raccoon pictures to start with")
        starter_menu = QMenu(self.starter_button)
        starter_menu.addAction(
            "Import a folder with one sub-folder per class (like cat/ and raccoon/)…",
            self._ask_import_tree,
        )
        starter_menu.addAction(
            "Download cats (CIFAR-10) and raccoons (CIFAR-100): about 330 MB, once",
            self.download_starter,
        )
        self.starter_button.setMenu(starter_menu)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_button)
        add_row.addWidget(self.starter_button)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.runner.stop)
        self.cancel_button.hide()
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)

        self.notice = Notice()
        self.grid_label = QLabel()
        self.grid_label.setWordWrap(True)  # fits at presentation sizes
        self.grid = ThumbnailGrid(80)
        self.grid.setAcceptDrops(True)
        self.grid.setToolTip("The selected class's images. Drop more here to add them.")
        self.grid.setAccessibleName("Images in the selected class")
        self.grid.viewport().setAcceptDrops(True)
        self.grid.dragEnterEvent = self._grid_drag_enter  # type: ignore[method-assign]
        self.grid.dragMoveEvent = self._grid_drag_enter  # type: ignore[method-assign]
        self.grid.dropEvent = self._grid_drop  # type: ignore[method-assign]

        explain(
            self.class_list,
            "Classes",
            description=(
                "Your classes, one per kind of picture, with how many images each has. Pick one to "
                "see its images below; drop files or folders on a class to add them to it."
            ),
        )
        explain(self.new_button, "New class")
        explain(self.rename_button, "Rename class")
        explain(self.delete_button, "Delete class")
        explain(self.add_button, "Add images")
        explain(self.starter_button, "Starter images")
        explain(
            self.cancel_button, "Cancel import", "Stop adding images; the ones already added stay."
        )
        explain(self.grid, "Images in the selected class")

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addWidget(self.class_list, 1)
        layout.addLayout(class_buttons)
        layout.addLayout(add_row)
        layout.addLayout(progress_row)
        layout.addWidget(self.notice)
        layout.addWidget(self.grid_label)
        layout.addWidget(self.grid, 2)
        self.refresh()

    # -- state ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.runner.running

    def selected_class(self) -> str:
        item = self.class_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else ""

    def counts(self) -> dict[str, int]:
        """Images per class as of the last refresh (scanning the folders on every keystroke
        would cost a quarter of a second with 20,000 images)."""
        return dict(self._counts)

    def refresh(self, select: str | None = None) -> None:
        current = select or self.selected_class()
        self._counts = {name: self.workspace.count(name) for name in self.workspace.classes()}
        self.class_list.blockSignals(True)
        self.class_list.clear()
        for name, n in self.counts().items():
            item = QListWidgetItem(f"{name}  —  {n} image{'s' if n != 1 else ''}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            first = self.workspace.images(name)[:1]
            if first:
                img = read_thumbnail(first[0], 40)
                if not img.isNull():
                    item.setIcon(QIcon(QPixmap.fromImage(img)))
            self.class_list.addItem(item)
            if name == current:
                self.class_list.setCurrentItem(item)
        if self.class_list.currentItem() is None and self.class_list.count():
            self.class_list.setCurrentRow(0)
        self.class_list.blockSignals(False)
        has_class = bool(self.selected_class())
        self.rename_button.setEnabled(has_class)
        self.delete_button.setEnabled(has_class)
        self._show_selected()
        self.changed.emit()

    def _show_selected(self) -> None:
        name = self.selected_class()
        paths = self.workspace.images(name) if name else []
        self.grid.thumbnails.set_paths(paths)
        if name:
            self.grid_label.setText(f"Images in “{name}” ({len(paths)})")
        else:
            self.grid_label.setText("No class yet: press “New class” or use “Starter images…”.")

    # -- class operations (the dialogs call these; tests call them directly) --------------
    def new_class(self, name: str) -> bool:
        try:
            clean = self.workspace.add_class(name)
        except (WorkspaceError, OSError) as exc:
            self.notice.show_message(str(exc), "error")
            return False
        self.refresh(select=clean)
        return True

    def rename_class(self, old: str, new: str) -> bool:
        try:
            clean = self.workspace.rename_class(old, new)
        except (WorkspaceError, OSError) as exc:
            self.notice.show_message(str(exc), "error")
            return False
        self.refresh(select=clean)
        return True

    def delete_class(self, name: str) -> bool:
        try:
            self.workspace.delete_class(name)
        except (WorkspaceError, OSError) as exc:
            self.notice.show_message(str(exc), "error")
            return False
        self.refresh()
        return True

    def import_paths(self, class_name: str, paths: list[Path]) -> None:
        """Add files/folders to a class in the background."""
        if not class_name:
            self.notice.show_message("Make a class first, then add images to it.", "warning")
            return
        self._start(
            f"Adding images to “{class_name}”",
            lambda stop: self.workspace.import_images(class_name, paths),
        )

    def import_tree(self, root: Path) -> None:
        self._start("Importing classes", lambda stop: self.workspace.import_tree(root))

    def download_starter(self) -> None:
        workspace = self.workspace
        dest = lab_paths.data_dir() / "starter" / "cifar-cats-vs-raccoons"
        downloads = lab_paths.cache_dir() / "downloads"

        def task(stop):
            folder = yield from download_starter(dest, downloads, stop=stop)
            if folder is None:
                return ImportReport()
            report = yield from workspace.import_tree(folder)
            return report

        self._start("Getting the starter images", task)

    def _start(self, label: str, factory) -> None:
        if self.runner.running:
            self.notice.show_message("Please wait: images are still being added.", "warning")
            return
        self._task_label = label
        self.progress.setRange(0, 0)
        self.progress.setFormat(label + "…")
        self.progress.show()
        self.cancel_button.show()
        self.busy_changed.emit(True)
        self.runner.start(factory)

    def _on_progress(self, ev: dict) -> None:
        kind = ev.get("kind")
        if kind == "import":
            self.progress.setRange(0, ev["total"])
            self.progress.setValue(ev["done"])
            self.progress.setFormat(f"{self._task_label}: %v of %m")
        elif kind == "download":
            total = ev.get("total") or 0
            mb = ev["done"] / 1e6
            if total:
                self.progress.setRange(0, 1000)
                self.progress.setValue(int(1000 * ev["done"] / total))
                left = ev.get("eta_s")
                tail = f", about {left:.0f} s left" if left else ""
                self.progress.setFormat(
                    f"Downloading {ev['file']}: {mb:.0f} of {total / 1e6:.0f} MB{tail}"
                )
            else:
                self.progress.setRange(0, 0)
                self.progress.setFormat(f"Downloading {ev['file']}: {mb:.0f} MB")
        elif kind in ("stage", "convert"):
            self.progress.setRange(0, 0)
            what = ev.get("class") or ev.get("file", "")
            self.progress.setFormat(f"Preparing {what}…")

    def _on_result(self, report: ImportReport) -> None:
        if report is None:
            return
        level = "warning" if report.skipped else "info"
        self.notice.show_message(report.summary(), level)
        self.last_report = report

    def _on_finished(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.refresh()
        self.busy_changed.emit(False)

    def shutdown(self) -> None:
        self.runner.shutdown()
        self.grid.thumbnails.shutdown()

    # -- dialogs and drops ------------------------------------------------------------------
    def _ask_new_class(self) -> None:
        name, ok = QInputDialog.getText(
            self, "New class", "Name of the new class (for example: cat):"
        )
        if ok:
            self.new_class(name)

    def _ask_rename(self) -> None:
        old = self.selected_class()
        if not old:
            return
        name, ok = QInputDialog.getText(self, "Rename class", f"New name for “{old}”:", text=old)
        if ok:
            self.rename_class(old, name)

    def _ask_delete(self) -> None:
        name = self.selected_class()
        if not name:
            return
        n = self.workspace.count(name)
        answer = QMessageBox.question(
            self,
            "Delete class",
            f"Delete the class “{name}” and its {n} image{'s' if n != 1 else ''}?\n"
            "The copies in ML Lab are removed; your original files are not touched.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_class(name)

    def _ask_add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add images", "", IMAGE_FILTER)
        if files:
            self.import_paths(self.selected_class(), [Path(f) for f in files])

    def _ask_add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of images")
        if folder:
            self.import_paths(self.selected_class(), [Path(folder)])

    def _ask_import_tree(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose a folder with one sub-folder per class"
        )
        if folder:
            self.import_tree(Path(folder))

    def _on_class_drop(self, name: str, paths: list) -> None:
        self.import_paths(name, paths)

    def _grid_drag_enter(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def _grid_drop(self, event) -> None:
        paths = dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            self.import_paths(self.selected_class(), paths)


def file_urls(paths: list[Path]) -> list[QUrl]:
    return [QUrl.fromLocalFile(str(p)) for p in paths]


__all__ = ["DataPanel", "ClassList", "file_urls"]
