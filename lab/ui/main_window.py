"""The main window: one tab per lab, menus, a toolbar, and a status bar.

With lazy=True (how `ml-lab` starts) the window shows at once with the Lessons tab; the other
tabs need PyTorch, which takes seconds to import, so they show "Getting ready…" until
`finish_loading()` has imported it in the background and built them one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QMainWindow,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lab.core import paths, prefs
from lab.core.runs import RunStore
from lab.ui.lessons import LessonsTab
from lab.ui.runs_model import RunsModel

if TYPE_CHECKING:
    from lab.core.features import FeatureCache
    from lab.core.workspace import Workspace

# The tabs after Lessons, in order; each is built by MainWindow._build_<name>().
LATER_TABS = ("Classifier", "Embeddings", "Curves", "Diffusion", "Labs")


class PendingTab(QWidget):
    """Stands in for a tab until PyTorch has loaded; says so, with a busy bar."""

    pending = True

    def __init__(self, title: str, build_now: Callable[[], QWidget]) -> None:
        super().__init__()
        self.title = title
        self.build_now = build_now  # Try its that need the tab at once call this
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        text = QLabel(
            f"Getting the {title} tab ready: PyTorch is loading.\n"
            "This takes a few seconds the first time after a restart."
        )
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setObjectName("heading")
        layout.addWidget(text)
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setMaximumWidth(360)
        bar.setAccessibleName("Loading")
        layout.addWidget(bar, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)


class MainWindow(QMainWindow):
    ready = Signal()  # every tab is built (at once unless lazy)

    def __init__(
        self,
        workspace: Workspace | None = None,
        cache: FeatureCache | None = None,
        runs: RunsModel | None = None,
        lazy: bool = False,
    ) -> None:
        super().__init__()
        self.setWindowTitle("ML Lab")
        self.resize(1360, 860)
        self.prefs, self.prefs_warnings = prefs.load()
        self._workspace, self._cache = workspace, cache
        self.is_ready = False
        self.frozen = False
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        # On a small projector screen at 150-200% the tabs may need more room than there is:
        # then the window scrolls instead of growing past the screen.
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # not a stop for Tab
        self.scroll.setWidget(self.tabs)
        self.setCentralWidget(self.scroll)
        self.tabs.currentChanged.connect(self._size_to_current_tab)
        self.setAcceptDrops(True)  # pictures dropped anywhere go to Classifier ▸ Classify
        self._build_status_bar()

        # A tab is a QWidget with a `title`; it may have a `shutdown()` (stop its background
        # work) and a `status_message` signal (shown in the status bar).
        self.runs = runs or RunsModel(RunStore(paths.data_dir() / "runs"), self)
        self.lessons = self._add_tab(LessonsTab(self.tabs, self.runs))  # first: opens first
        self._pending: dict[str, PendingTab] = {}
        for title in LATER_TABS:
            placeholder = PendingTab(title, lambda t=title: self.ensure_tab(t))
            self._pending[title] = placeholder
            self.tabs.addTab(placeholder, title)
        self._size_to_current_tab()
        self._build_actions()
        if not lazy:
            for title in LATER_TABS:
                self.ensure_tab(title)
            self._finish()

    # -- building the tabs --------------------------------------------------------------------
    def ensure_tab(self, title: str) -> QWidget:
        """The tab called title, built now if it is still pending."""
        placeholder = self._pending.get(title)
        if placeholder is None:
            return self._find_tab(title)
        if title == "Embeddings":
            self.ensure_tab("Classifier")  # it maps the classifier's images
        from lab.ui.appearance import install_plot_hooks

        install_plot_hooks()  # before the tab makes its plots
        tab = getattr(self, f"_build_{title.lower()}")()
        index = self.tabs.indexOf(placeholder)
        was_current = self.tabs.currentIndex() == index
        self.tabs.blockSignals(True)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, tab, tab.title)
        if was_current:
            self.tabs.setCurrentIndex(index)
        self.tabs.blockSignals(False)
        del self._pending[title]
        placeholder.deleteLater()
        self._size_to_current_tab()
        status = getattr(tab, "status_message", None)
        if status is not None:
            status.connect(self.activity_label.setText)
        self._watch_tasks(tab)
        if self.frozen:
            self._set_frozen_in(tab, True)
        return tab

    def _build_classifier(self) -> QWidget:
        from lab.ui.classifier import ClassifierTab

        self.classifier = ClassifierTab(self._workspace, self._cache, self.runs)
        self.classifier.model_changed.connect(lambda _: self._enable_model_actions())
        return self.classifier

    def _build_embeddings(self) -> QWidget:
        from lab.ui.embeddings import EmbeddingsTab

        self.embeddings = EmbeddingsTab.beside(self.classifier)
        self.classifier.trained.connect(self.embeddings.set_trained)
        return self.embeddings

    def _build_curves(self) -> QWidget:
        from lab.ui.curves import CurvesTab

        self.curves = CurvesTab(self.runs)
        return self.curves

    def _build_diffusion(self) -> QWidget:
        from lab.ui.diffusion import DiffusionTab

        self.diffusion = DiffusionTab(self._workspace, runs=self.runs)
        return self.diffusion

    def _build_labs(self) -> QWidget:
        from lab.ui.labs import LabsTab

        self.labs = LabsTab(self._workspace)
        return self.labs

    def finish_loading(self) -> None:
        """Import PyTorch and the model code in the background, then build the waiting tabs
        on the GUI thread one per event-loop turn (the window keeps painting meanwhile)."""
        if self.is_ready:
            return
        from lab.ui.worker import TaskRunner

        self.loader = TaskRunner(self)
        self.loader.unstoppable = True  # importing PyTorch cannot be cut short
        self.loader.finished.connect(self._build_next_tab)
        self.loader.start(_import_model_code)

    def _build_next_tab(self) -> None:
        if not self._pending:
            self._finish()
            return
        self.ensure_tab(next(iter(self._pending)))
        QTimer.singleShot(0, self, self._build_next_tab)

    def _finish(self) -> None:
        if self.is_ready:
            return
        self.is_ready = True
        self._enable_model_actions()
        self._show_device()
        refresh = getattr(self.lessons, "refresh_try_its", None)
        if refresh is not None:
            refresh()
        self.activity_label.setText("Ready")
        self.ready.emit()

    def _size_to_current_tab(self, _index: int = -1) -> None:
        """Only the tab on show sets the minimum size: a tall Classifier tab must not make
        every other tab scroll on a small screen (hidden pages' size policy is Ignored)."""
        current = self.tabs.currentWidget()
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            policy = QSizePolicy.Policy.Preferred if page is current else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        self.tabs.updateGeometry()

    def _add_tab(self, tab):
        self.tabs.addTab(tab, tab.title)
        status = getattr(tab, "status_message", None)
        if status is not None:
            status.connect(self.activity_label.setText)
        return tab

    # -- status bar ---------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.activity_label = QLabel("Loading PyTorch in the background: the other tabs follow.")
        self.activity_label.setAccessibleName("What ML Lab is doing")
        self.tasks_label = QLabel("")
        self.tasks_label.setAccessibleName("Running in the background")
        self.tasks_label.setToolTip("The work running in the background right now.")
        self.device_label = QLabel("Device: starting…")
        self.device_label.setAccessibleName("Device")
        self.device_label.setToolTip("Where the models compute: the CPU or a GPU (Settings).")
        self.threads_label = QLabel()
        self.threads_label.setAccessibleName("CPU threads")
        self.threads_label.setToolTip(
            "How many processor cores training uses. One is left for the window so it stays "
            "responsive (Settings)."
        )
        bar = self.statusBar()
        bar.addWidget(self.activity_label, 1)
        bar.addPermanentWidget(self.tasks_label)
        bar.addPermanentWidget(self.threads_label)
        bar.addPermanentWidget(self.device_label)
        self._show_threads()
        self._runners: list = []

    def _show_threads(self) -> None:
        self.threads_label.setText(
            f"CPU threads for training: {self.prefs.training_threads()} of {prefs.cpu_count()}"
        )

    def _show_device(self) -> None:
        from lab.core.models import describe_device, pick_device

        device = pick_device(self.prefs.device)
        name = describe_device(device) if device.type != "cpu" else "CPU"
        self.device_label.setText(f"Device: {name}")

    def _watch_tasks(self, tab: QWidget) -> None:
        """Show in the status bar which tabs have work running in the background."""
        from lab.ui.worker import TaskRunner

        for runner in tab.findChildren(TaskRunner):
            if runner in self._runners:
                continue
            self._runners.append(runner)
            runner.started.connect(self._show_tasks)
            runner.finished.connect(self._show_tasks)

    def _show_tasks(self) -> None:
        busy = []
        for runner in self._runners:
            try:
                running = runner.running
            except RuntimeError:  # deleted with its panel
                continue
            if running:
                owner = runner.parent()
                while owner is not None and not hasattr(owner, "title"):
                    owner = owner.parent()
                title = getattr(owner, "title", "") or "a tab"
                for i in range(self.tabs.count()):
                    if self.tabs.widget(i).isAncestorOf(owner) or self.tabs.widget(i) is owner:
                        title = self.tabs.tabText(i)
                if title not in busy:
                    busy.append(title)
        self.tasks_label.setText(f"Running: {', '.join(busy)}" if busy else "")

    # -- actions ------------------------------------------------------------------------------
    def _action(
        self, text: str, shortcut, tip: str, slot, checkable: bool = False, menu=None
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})")
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even with the toolbar hidden (fullscreen)
        if menu is not None:
            menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.load_action = self._action(
            "&Load model…",
            QKeySequence.StandardKey.Open,
            "Load a saved .mlmodel file and use it in the Classifier",
            lambda: self.ensure_tab("Classifier").ask_load(),
            menu=file_menu,
        )
        self.save_action = self._action(
            "&Save model…",
            QKeySequence.StandardKey.Save,
            "Save the trained classifier to a file",
            lambda: self.classifier._ask_save(),
            menu=file_menu,
        )
        self.export_onnx_action = self._action(
            "Export as &ONNX…",
            "Ctrl+E",
            "Save the model for other programs (ONNX Runtime, phones, the web)",
            lambda: self.classifier.ask_export("onnx"),
            menu=file_menu,
        )
        self.export_ts_action = self._action(
            "Export as &TorchScript…",
            "Ctrl+Shift+E",
            "Save the model for PyTorch programs without ML Lab",
            lambda: self.classifier.ask_export("torchscript"),
            menu=file_menu,
        )
        file_menu.addSeparator()
        self.settings_action = self._action(
            "Se&ttings…",
            "Ctrl+,",
            "Device, CPU threads, data folder, theme and presentation size",
            self.open_settings,
            menu=file_menu,
        )
        file_menu.addSeparator()
        self.quit_action = self._action(
            "&Quit",
            "Ctrl+Q",
            "Close ML Lab (running tasks are stopped)",
            self.close,
            menu=file_menu,
        )

        view_menu = self.menuBar().addMenu("&View")
        self.presentation_action = self._action(
            "&Presentation mode",
            "F5",
            "Large text and thick lines for a projector, high contrast, fewer settings",
            self.set_presentation,
            checkable=True,
            menu=view_menu,
        )
        self.freeze_action = self._action(
            "&Freeze plots",
            "F6",
            "Pause every live plot so you can point at it; training goes on. Press again to "
            "catch up",
            self.set_frozen,
            checkable=True,
            menu=view_menu,
        )
        self.fullscreen_action = self._action(
            "F&ull screen",
            "F11",
            "Fill the whole screen",
            self.set_fullscreen,
            checkable=True,
            menu=view_menu,
        )
        view_menu.addSeparator()
        self.go_actions = []
        for i, title in enumerate(("Lessons", *LATER_TABS), start=1):
            self.go_actions.append(
                self._action(
                    f"Go to {title}",
                    f"Ctrl+{i}",
                    f"Show the {title} tab",
                    lambda _=False, t=title: self.show_tab(t),
                    menu=view_menu,
                )
            )

        help_menu = self.menuBar().addMenu("&Help")
        self.shortcuts_action = self._action(
            "&Keyboard shortcuts",
            "F1",
            "Every action and its key",
            self.show_shortcuts,
            menu=help_menu,
        )
        self.welcome_action = self._action(
            "&Welcome and environment check",
            "Ctrl+Shift+W",
            "What ML Lab is, and a check of this computer (device, disk, starter images)",
            self.show_welcome,
            menu=help_menu,
        )
        self.about_action = self._action(
            "&About ML Lab",
            "Shift+F1",
            "Versions and the device ML Lab computes on",
            self.show_about,
            menu=help_menu,
        )

        # Short words on the toolbar, so it fits at 200% on a projector; menus say it in full.
        for action, short in (
            (self.load_action, "Load"),
            (self.save_action, "Save"),
            (self.export_onnx_action, "ONNX"),
            (self.export_ts_action, "TorchScript"),
            (self.presentation_action, "Present"),
            (self.freeze_action, "Freeze"),
            (self.fullscreen_action, "Full screen"),
            (self.settings_action, "Settings"),
            (self.shortcuts_action, "Keys"),
        ):
            action.setIconText(short)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        for action in (
            self.load_action,
            self.save_action,
            self.export_onnx_action,
            self.export_ts_action,
        ):
            toolbar.addAction(action)
        toolbar.addSeparator()
        for action in (self.presentation_action, self.freeze_action, self.fullscreen_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.settings_action)
        toolbar.addAction(self.shortcuts_action)
        self.toolbar = toolbar
        self.presentation_action.setChecked(self.prefs.presentation)
        self._enable_model_actions()

    def actions_with_shortcuts(self) -> list[QAction]:
        """Every action of the menus, for the shortcuts sheet and its test."""
        found: list[QAction] = []
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            for action in menu.actions() if menu else []:
                if not action.isSeparator() and action not in found:
                    found.append(action)
        return found

    def _enable_model_actions(self) -> None:
        classifier = getattr(self, "classifier", None)
        self.load_action.setEnabled(classifier is not None)
        has_model = classifier is not None and classifier.model is not None
        for action in (self.save_action, self.export_onnx_action, self.export_ts_action):
            action.setEnabled(has_model)

    # -- presentation, freeze, fullscreen ----------------------------------------------------
    def set_presentation(self, on: bool) -> None:
        self.presentation_action.setChecked(on)
        self._update_prefs(presentation=bool(on))
        self.apply_look()

    def apply_look(self) -> None:
        """Theme and sizes from the preferences, on the whole application."""
        from PySide6.QtWidgets import QApplication

        from lab.ui.appearance import appearance

        p = self.prefs
        appearance().apply(
            QApplication.instance(),
            theme=p.theme,
            presentation=p.presentation,
            scale=p.scale if p.presentation else 1.0,
        )

    def set_frozen(self, on: bool) -> None:
        """Pause (or catch up) every live plot; the data keeps arriving underneath."""
        self.frozen = bool(on)
        self.freeze_action.setChecked(self.frozen)
        self.freeze_action.setText("Un&freeze plots" if on else "&Freeze plots")
        self.freeze_action.setIconText("Unfreeze" if on else "Freeze")
        for i in range(self.tabs.count()):
            self._set_frozen_in(self.tabs.widget(i), self.frozen)
        self.activity_label.setText(
            "Plots frozen: press F6 to catch up." if on else "Plots live again."
        )

    @staticmethod
    def _set_frozen_in(root: QWidget, on: bool) -> None:
        for widget in [root, *root.findChildren(QWidget)]:
            freeze = getattr(widget, "set_frozen", None)
            if callable(freeze):
                freeze(on)

    def set_fullscreen(self, on: bool) -> None:
        self.fullscreen_action.setChecked(on)
        if on:
            self.showFullScreen()
        else:
            self.showNormal()
        self._update_prefs(fullscreen=bool(on))

    def _update_prefs(self, **changes) -> None:
        from dataclasses import replace

        self.prefs = replace(self.prefs, **changes)
        try:
            prefs.save(self.prefs)
        except (OSError, prefs.PrefsError) as exc:
            self.activity_label.setText(f"Could not save the settings: {exc}")

    # -- dialogs -------------------------------------------------------------------------------
    def open_settings(self) -> None:
        from lab.ui.dialogs import SettingsDialog

        dialog = SettingsDialog(self.prefs, self)
        if dialog.exec():
            self.set_prefs(dialog.result_prefs)

    def set_prefs(self, new: prefs.Preferences) -> None:
        """Keep and apply new preferences (already checked by the dialog)."""
        old = self.prefs
        self.prefs = new
        prefs.save(new)
        self.presentation_action.setChecked(new.presentation)
        self._show_threads()
        if self.is_ready:
            self._show_device()
            _apply_threads(new)
        if (old.theme, old.presentation, old.scale) != (new.theme, new.presentation, new.scale):
            self.apply_look()
        if old.data_dir != new.data_dir:
            self.activity_label.setText("The new data folder is used the next time ML Lab starts.")

    def show_shortcuts(self) -> None:
        from lab.ui.dialogs import ShortcutsDialog

        ShortcutsDialog(self.actions_with_shortcuts(), self).exec()

    def show_welcome(self) -> None:
        """The welcome and environment check; window-modal without a nested event loop, so
        the window keeps loading (and can close) behind it."""
        from lab.ui.dialogs import WelcomeDialog

        dialog = WelcomeDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _code: self._welcome_closed(dialog.chosen))
        self.welcome_dialog = dialog
        dialog.open()

    def _welcome_closed(self, chosen: str) -> None:
        self.welcome_dialog = None
        if not self.prefs.welcome_done:
            self._update_prefs(welcome_done=True)
        if chosen == "lesson":
            self.show_tab("Lessons")
            self.lessons.open_lesson(self.lessons.lessons[0].id)

    def show_about(self) -> None:
        from lab.ui.dialogs import AboutDialog

        AboutDialog(self).exec()

    # -- pictures dropped on any part of the window that does not take them itself ---------
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

        paths_ = DropZone.paths_from(event.mimeData())
        if paths_:
            event.acceptProposedAction()
            classifier = self.ensure_tab("Classifier")
            self.show_tab(classifier.title)
            classifier.classify_paths(paths_)

    # -- tabs -----------------------------------------------------------------------------------
    def tab_names(self) -> list[str]:
        return [self.tabs.tabText(i) for i in range(self.tabs.count())]

    def _find_tab(self, title: str) -> QWidget | None:
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i).lower() == title.lower():
                return self.tabs.widget(i)
        return None

    def show_tab(self, name: str) -> bool:
        tab = self._find_tab(name)
        if tab is None:
            return False
        self.tabs.setCurrentWidget(tab)
        return True

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        loader = getattr(self, "loader", None)
        if loader is not None:
            loader.cancel()  # an import cannot be stopped: app._exit_cleanly() handles it
        self._pending.clear()
        from lab.ui.worker import stop_all_tasks

        stop_all_tasks()  # all wind down together; the shutdown() calls share one short wait
        for i in range(self.tabs.count()):
            shutdown = getattr(self.tabs.widget(i), "shutdown", None)
            if shutdown:
                shutdown()
        event.accept()


def _import_model_code(stop):
    """Background: import PyTorch, the model code and the tabs' libraries (seconds), and read
    the pretrained weights, so that pressing Train later does not wait for them."""
    import importlib

    for name in (
        "torch",
        "lab.core.models",
        "lab.core.training",
        "lab.core.inference",
        "lab.core.classifier",
        "lab.core.features",
        "lab.core.workspace",
        "lab.core.embeddings.projection",
        "lab.core.diffusion.sampling",
        "lab.core.labs.gan",
    ):
        if stop.requested:
            return
        importlib.import_module(name)
        yield None


def _apply_threads(p: prefs.Preferences) -> None:
    import torch

    torch.set_num_threads(p.training_threads())
