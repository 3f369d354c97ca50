"""The main window: one tab per lab, a menu, and a status bar."""

from __future__ import annotations

from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget

from lab import __version__
from lab.core import paths
from lab.core.features import FeatureCache
from lab.core.runs import RunStore
from lab.core.workspace import Workspace
from lab.ui.classifier import ClassifierTab
from lab.ui.curves import CurvesTab
from lab.ui.diffusion import DiffusionTab
from lab.ui.embeddings import EmbeddingsTab
from lab.ui.labs import LabsTab
from lab.ui.lessons import LessonsTab
from lab.ui.runs_model import RunsModel


class MainWindow(QMainWindow):
    def __init__(
        self,
        workspace: Workspace | None = None,
        cache: FeatureCache | None = None,
        runs: RunsModel | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("ML Lab")
        self.resize(1360, 860)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.setAcceptDrops(True)  # pictures dropped anywhere go to Classifier ▸ Classify

        self.device_label = QLabel()
        self.activity_label = QLabel("Ready")
        self.statusBar().addWidget(self.activity_label, 1)
        self.statusBar().addPermanentWidget(self.device_label)

        # One line per tab. A tab is a QWidget with a `title`; it may have a `shutdown()`
        # (stop its background work) and a `status_message` signal (shown in the status bar).
        self.runs = runs or RunsModel(RunStore(paths.data_dir() / "runs"), self)
        self.lessons = self._add_tab(LessonsTab(self.tabs, self.runs))  # first: opens first
        self.classifier = self._add_tab(ClassifierTab(workspace, cache, self.runs))
        self.embeddings = self._add_tab(EmbeddingsTab.beside(self.classifier))
        self.classifier.trained.connect(self.embeddings.set_trained)
        self.curves = self._add_tab(CurvesTab(self.runs))
        self.diffusion = self._add_tab(DiffusionTab(workspace))
        self.labs = self._add_tab(LabsTab(workspace))
        self._build_menus()
        self._show_device()

    def _add_tab(self, tab):
        self.tabs.addTab(tab, tab.title)
        status = getattr(tab, "status_message", None)
        if status is not None:
            status.connect(self.activity_label.setText)
        return tab

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.save_action = QAction("&Save model…", self)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.setToolTip("Save the trained classifier to a file")
        self.save_action.triggered.connect(self.classifier._ask_save)
        self._build_model_actions(file_menu)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.setToolTip("Close ML Lab (running tasks are stopped)")
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About ML Lab", self)
        about.setToolTip("Versions and the device ML Lab computes on")
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _build_model_actions(self, file_menu) -> None:
        """Load / Save / Export the classifier, from the File menu and a toolbar."""
        tab = self.classifier
        self.load_action = QAction("&Load model…", self)
        self.load_action.setShortcut(QKeySequence.StandardKey.Open)
        self.load_action.setToolTip("Load a saved .mlmodel file and use it in the Classifier")
        self.load_action.triggered.connect(tab.ask_load)
        self.export_onnx_action = QAction("Export as &ONNX…", self)
        self.export_onnx_action.setToolTip(
            "Save the model for other programs (ONNX Runtime, phones, the web)"
        )
        self.export_onnx_action.triggered.connect(lambda: tab.ask_export("onnx"))
        self.export_ts_action = QAction("Export as &TorchScript…", self)
        self.export_ts_action.setToolTip("Save the model for PyTorch programs without ML Lab")
        self.export_ts_action.triggered.connect(lambda: tab.ask_export("torchscript"))
        file_menu.insertAction(self.save_action, self.load_action)
        file_menu.addAction(self.export_onnx_action)
        file_menu.addAction(self.export_ts_action)
        toolbar = self.addToolBar("Model")
        toolbar.setObjectName("modelToolbar")
        toolbar.setMovable(False)
        for action in (
            self.load_action,
            self.save_action,
            self.export_onnx_action,
            self.export_ts_action,
        ):
            toolbar.addAction(action)
        tab.model_changed.connect(lambda _: self._enable_model_actions())
        self._enable_model_actions()

    def _enable_model_actions(self) -> None:
        has_model = self.classifier.model is not None
        for action in (self.save_action, self.export_onnx_action, self.export_ts_action):
            action.setEnabled(has_model)

    # Pictures dropped on any part of the window that does not take them itself.
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        from lab.ui.widgets.drop_zone import has_droppable

        if has_droppable(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        from lab.ui.widgets.drop_zone import has_droppable

        if has_droppable(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        from lab.ui.widgets.drop_zone import DropZone

        paths = DropZone.paths_from(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.show_tab(self.classifier.title)
            self.classifier.classify_paths(paths)

    def _show_device(self) -> None:
        # torch is already loaded by the time the window shows; ask it which device is used.
        from lab.core.models import describe_device, pick_device

        self.device_label.setText(f"Device: {describe_device(pick_device())}")

    def _about(self) -> None:
        import platform

        import torch
        from PySide6 import __version__ as qt_version

        QMessageBox.about(
            self,
            "About ML Lab",
            f"<h3>ML Lab {__version__}</h3><p>A learning lab for machine learning.</p>"
            f"<p>Python {platform.python_version()} · PyTorch {torch.__version__} · "
            f"Qt {qt_version}<br>{self.device_label.text()}</p>",
        )

    def tab_names(self) -> list[str]:
        return [self.tabs.tabText(i) for i in range(self.tabs.count())]

    def show_tab(self, name: str) -> bool:
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i).lower() == name.lower():
                self.tabs.setCurrentIndex(i)
                return True
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        for i in range(self.tabs.count()):
            shutdown = getattr(self.tabs.widget(i), "shutdown", None)
            if shutdown:
                shutdown()
        event.accept()
