"""Pieces the lab panels share."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QWidget

from lab.ui.widgets.notice import Notice
from lab.ui.worker import TaskRunner


class LabPanel(QWidget):
    """A lab: a title, a one-paragraph idea, and at most one background task at a time."""

    key = ""
    title = ""
    idea = ""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runner = TaskRunner(self)
        self.notice = Notice()
        self.runner.error.connect(lambda msg: self.notice.show_message(msg, "error"))

    def heading(self) -> list[QWidget]:
        title = QLabel(self.title)
        title.setObjectName("heading")
        idea = QLabel(self.idea)
        idea.setWordWrap(True)
        return [title, idea]

    def classifier_images(self):
        """The Classifier tab's images as an ImageFolder, or None (and say why)."""
        from lab.core import paths
        from lab.core.dataset import DatasetError
        from lab.core.workspace import Workspace

        workspace = getattr(self, "workspace", None) or Workspace(paths.workspace_dir())
        try:
            folder = workspace.as_image_folder()
            folder.check_trainable()
        except DatasetError as exc:
            self.notice.show_message(f"{exc} Add images in the Classifier tab first.", "warning")
            return None
        return folder

    def shutdown(self) -> None:
        self.runner.shutdown()


def plot_area(title: str, equal: bool = True) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setMinimumSize(320, 280)
    if equal:
        plot.setAspectLocked(True)
    plot.showGrid(x=True, y=True, alpha=0.2)
    for axis in ("bottom", "left"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    return plot


def heat_image(
    values: np.ndarray, extent: tuple[float, float, float, float], cmap: str = "viridis"
) -> pg.ImageItem:
    """An ImageItem for a (rows=y, cols=x) grid placed over extent (x0, x1, y0, y1)."""
    item = pg.ImageItem(np.asarray(values, dtype=np.float32).T)  # ImageItem wants [x, y]
    item.setColorMap(pg.colormap.get(cmap))
    x0, x1, y0, y1 = extent
    item.setRect(x0, y0, x1 - x0, y1 - y0)
    item.setZValue(-20)
    return item
