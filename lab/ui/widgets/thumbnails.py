"""A grid of image thumbnails that loads only what is on screen, off the GUI thread."""

from __future__ import annotations

from collections import OrderedDict, deque
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QImageReader, QPixmap
from PySide6.QtWidgets import QListView

from lab.ui.worker import TaskRunner

CACHE_LIMIT = 3000
# Thumbnails asked for but not loaded yet; scrolling through 10,000 images asks for all of
# them, so only the latest requests are kept (an item asks again when it is painted again).
WANTED_LIMIT = 512


def read_thumbnail(path: Path, size: int) -> QImage:
    """Decode a small version of an image (safe off the GUI thread: QImage, not QPixmap)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    full = reader.size()
    if full.isValid() and full.width() > 0 and full.height() > 0:
        reader.setScaledSize(full.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    img = reader.read()
    if img.isNull():
        return QImage()
    return img.convertToFormat(QImage.Format.Format_RGB32)


class ThumbnailModel(QAbstractListModel):
    """Paths shown as thumbnails; a thumbnail is decoded the first time the view asks for it."""

    def __init__(self, size: int = 88, parent=None) -> None:
        super().__init__(parent)
        self.size = size
        self._paths: list[Path] = []
        self._row_of: dict[Path, int] = {}
        self._icons: OrderedDict[Path, QIcon] = OrderedDict()
        self._wanted: deque[Path] = deque()
        self._queued: set[Path] = set()
        placeholder = QPixmap(size, size)
        placeholder.fill(QColor("#e4e4e4"))
        self._placeholder = QIcon(placeholder)
        self.loader = TaskRunner(self)
        self.loader.progress.connect(self._on_loaded)
        self.loader.finished.connect(self._load_more)

    @property
    def paths(self) -> list[Path]:
        return list(self._paths)

    def set_paths(self, paths: list[Path]) -> None:
        self.beginResetModel()
        self._paths = list(paths)
        self._row_of = {p: i for i, p in enumerate(self._paths)}
        self._wanted.clear()
        self._queued.clear()
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._paths)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._paths):
            return None
        path = self._paths[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            icon = self._icons.get(path)
            if icon is not None:
                self._icons.move_to_end(path)
                return icon
            self._want(path)
            return self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            return path.name
        if role == Qt.ItemDataRole.UserRole:
            return str(path)
        return None

    def is_loaded(self, path: Path) -> bool:
        return path in self._icons

    def _want(self, path: Path) -> None:
        if path in self._queued:
            return
        self._queued.add(path)
        self._wanted.append(path)
        while len(self._wanted) > WANTED_LIMIT:
            self._queued.discard(self._wanted.popleft())
        if not self.loader.running:
            self._load_more()

    def _load_more(self) -> None:
        if not self._wanted or self.loader.running:
            return
        # Newest first: what is on screen now, not what was scrolled past.
        batch = [self._wanted.pop() for _ in range(min(64, len(self._wanted)))]
        size = self.size

        def load(stop):
            for path in batch:
                if stop.requested:
                    return
                yield (path, read_thumbnail(path, size))

        self.loader.start(load)

    def _on_loaded(self, item) -> None:
        path, image = item
        self._queued.discard(path)
        if image.isNull():
            pix = QPixmap(self.size, self.size)
            pix.fill(QColor("#f4c7c3"))
            icon = QIcon(pix)
        else:
            icon = QIcon(QPixmap.fromImage(image))
        self._icons[path] = icon
        while len(self._icons) > CACHE_LIMIT:
            self._icons.popitem(last=False)
        row = self._row_of.get(path)
        if row is not None:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def shutdown(self) -> None:
        self._wanted.clear()
        self.loader.shutdown()


class ThumbnailGrid(QListView):
    """Icon-mode list of a ThumbnailModel; uniform sizes keep 20,000 items smooth."""

    def __init__(self, size: int = 88, parent=None) -> None:
        super().__init__(parent)
        self.thumbnails = ThumbnailModel(size, self)
        self.setModel(self.thumbnails)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(size, size))
        self.setGridSize(QSize(size + 12, size + 12))
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
