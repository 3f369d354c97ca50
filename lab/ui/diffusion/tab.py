"""The Diffusion tab: forward noising, reverse sampling, a 2D playground, and training."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from lab.core import paths as lab_paths
from lab.core.diffusion.weights import ImageDenoiser
from lab.core.workspace import Workspace
from lab.ui.diffusion.forward_panel import ForwardPanel
from lab.ui.diffusion.reverse_panel import ReversePanel
from lab.ui.diffusion.toy_panel import ToyPanel
from lab.ui.diffusion.train_panel import TrainPanel
from lab.ui.runs_model import RunsModel


class DiffusionTab(QWidget):
    title = "Diffusion"
    status_message = Signal(str)

    def __init__(
        self,
        workspace: Workspace | None = None,
        model: ImageDenoiser | None = None,
        parent=None,
        *,
        runs: RunsModel | None = None,
    ) -> None:
        """runs: the run history that training runs are recorded in (None: not recorded)."""
        super().__init__(parent)
        self.workspace = workspace or Workspace(lab_paths.workspace_dir())
        self.forward = ForwardPanel(self.workspace)
        self.reverse = ReversePanel(model)
        self.toy = ToyPanel()
        self.training = TrainPanel(self.workspace, runs=runs)
        self.pages = QTabWidget()
        self.pages.addTab(self.forward, "1. Adding noise")
        self.pages.addTab(self.reverse, "2. Removing it: generate")
        self.pages.addTab(self.toy, "3. 2D points you train")
        self.pages.addTab(self.training, "4. Train your own")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.pages)
        for panel in self.panels:
            panel.status_message.connect(self.status_message)
        self.training.model_ready.connect(self.reverse.add_model)
        self.training.generate_requested.connect(lambda: self.show_page(self.reverse))

    @property
    def panels(self) -> list:
        return [self.forward, self.reverse, self.toy, self.training]

    def show_page(self, panel: QWidget) -> None:
        self.pages.setCurrentWidget(panel)

    def shutdown(self) -> None:
        for panel in self.panels:
            panel.shutdown()
