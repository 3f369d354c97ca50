"""Small pieces the Embeddings views share: headings, notes, neighbour lists, thumbnails."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem

from lab.core.tasks import StopFlag
from lab.ui.widgets.thumbnails import read_thumbnail

THUMB_DECODE = 96  # thumbnails are decoded once at this size; the map scales them down


def heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("heading")
    label.setWordWrap(True)
    return label


def note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName("note")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def load_thumbnails(
    paths: Sequence[Path], size: int = THUMB_DECODE, stop: StopFlag | None = None
) -> Generator[list[tuple[int, QImage]], None, None]:
    """Decode small versions of images off the GUI thread (QImage is safe there), in batches."""
    batch: list[tuple[int, QImage]] = []
    for i, path in enumerate(paths):
        if stop is not None and stop.requested:
            return
        image = read_thumbnail(Path(path), size)
        if not image.isNull():
            batch.append((i, image))
        if len(batch) >= 24:
            yield batch
            batch = []
    if batch:
        yield batch


class ScoredList(QListWidget):
    """Items with a picture (optional) and a score: nearest neighbours, best first."""

    def __init__(self, icon_size: int = 72, parent=None) -> None:
        super().__init__(parent)
        self.setIconSize(QSize(icon_size, icon_size))
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.setWordWrap(True)

    def show_items(self, rows: Sequence[tuple[str, float, QImage | None]]) -> None:
        self.clear()
        for text, score, image in rows:
            label = f"{text}  ·  {score:.3f}"
            if image is not None:
                label = f"{text}\ncosine similarity {score:.3f}"
            item = QListWidgetItem(label)
            if image is not None and not image.isNull():
                item.setIcon(QIcon(QPixmap.fromImage(image)))
            self.addItem(item)

    def texts(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]
