"""The Labs tab: a list of small labs on the left, the chosen lab on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QStackedWidget, QWidget

from lab.core.workspace import Workspace
from lab.ui.labs.common import LabPanel
from lab.ui.widgets.help import explain


class LabsTab(QWidget):
    title = "Labs"
    status_message = Signal(str)

    def __init__(self, workspace: Workspace | None = None, parent=None) -> None:
        super().__init__(parent)
        from lab.ui.labs.clustering_panel import ClusteringPanel
        from lab.ui.labs.forgetting_panel import ForgettingPanel
        from lab.ui.labs.gan_panel import GanPanel
        from lab.ui.labs.landscape_panel import LandscapePanel
        from lab.ui.labs.memorize_panel import MemorizePanel
        from lab.ui.labs.tokens_panel import TokensPanel
        from lab.ui.labs.vae_panel import VaePanel

        self.list = QListWidget()
        self.list.setFixedWidth(250)
        self.list.setWordWrap(True)
        self.list.setAccessibleName("Labs")
        explain(
            self.list, "Labs", "Pick a lab; it opens on the right. Hover a lab to read its idea."
        )
        self.stack = QStackedWidget()
        self.panels: dict[str, LabPanel] = {}
        for panel in (
            LandscapePanel(),
            MemorizePanel(),
            ForgettingPanel(workspace),
            ClusteringPanel(workspace),
            GanPanel(),
            VaePanel(),
            TokensPanel(),
        ):
            self.panels[panel.key] = panel
            self.stack.addWidget(panel)
            item = QListWidgetItem(panel.title)
            item.setData(Qt.ItemDataRole.UserRole, panel.key)
            item.setToolTip(panel.idea)
            self.list.addItem(item)
        self.list.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.list.setCurrentRow(0)
        layout = QHBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.stack, 1)

    def show_lab(self, key: str) -> LabPanel:
        panel = self.panels[key]
        self.list.setCurrentRow(list(self.panels).index(key))
        return panel

    def shutdown(self) -> None:
        for panel in self.panels.values():
            panel.shutdown()
