"""The window's dialogs: Settings, keyboard shortcuts, the first-run welcome, About."""

from __future__ import annotations

import platform
import sys
from dataclasses import replace
from importlib import metadata

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lab import __version__
from lab.core import environment, prefs


def _explain(widget: QWidget, name: str, text: str) -> QWidget:
    widget.setAccessibleName(name)
    widget.setToolTip(text)
    widget.setWhatsThis(text)
    return widget


def gpu_present() -> bool:
    """Only asks PyTorch when it is already loaded (importing it takes seconds)."""
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_available())


class SettingsDialog(QDialog):
    """Device, CPU threads, data folder, presentation size and theme; checked before kept."""

    def __init__(self, current: prefs.Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.current = current
        self.result_prefs: prefs.Preferences | None = None
        form = QFormLayout()

        self.device = QComboBox()
        self.device.addItem("Automatic (a GPU when there is one)", "auto")
        self.device.addItem("CPU", "cpu")
        self.device.addItem("GPU", "gpu")
        if not gpu_present():
            self.device.model().item(2).setEnabled(False)
            self.device.setItemData(
                2, "No GPU was found on this computer.", Qt.ItemDataRole.ToolTipRole
            )
        _explain(
            self.device, "Device", "Where models compute. Every lab runs on a CPU; a GPU is faster."
        )
        self.device.setCurrentIndex(max(0, self.device.findData(current.device)))
        form.addRow("&Device:", self.device)

        cores = prefs.cpu_count()
        self.threads = QSpinBox()
        self.threads.setRange(0, cores)
        self.threads.setSpecialValueText(
            f"Automatic ({max(1, cores - 1)} of {cores}: one core left for the window)"
        )
        _explain(
            self.threads,
            "CPU threads for training",
            "How many processor cores training may use. Leaving one free keeps the window "
            "smooth while a model trains.",
        )
        self.threads.setValue(current.threads)
        form.addRow("CPU &threads for training:", self.threads)

        self.data_dir = QLineEdit(current.data_dir)
        self.data_dir.setPlaceholderText("The usual place for this computer")
        _explain(
            self.data_dir,
            "Data folder",
            "Where ML Lab keeps your images, models, run history and caches. Empty: the usual "
            "place. A new folder is used after a restart.",
        )
        browse = QPushButton("Browse…")
        _explain(browse, "Browse for the data folder", "Choose the data folder in a file dialog.")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(browse)
        folder_label = QLabel("Data &folder:")
        folder_label.setBuddy(self.data_dir)  # a row of two widgets gets no buddy by itself
        form.addRow(folder_label, row)

        self.theme = QComboBox()
        for label, value in (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")):
            self.theme.addItem(label, value)
        _explain(
            self.theme,
            "Theme",
            "Light or dark colours. Presentation mode always uses high contrast.",
        )
        self.theme.setCurrentIndex(max(0, self.theme.findData(current.theme)))
        form.addRow("T&heme:", self.theme)

        self.presentation = QCheckBox("Presentation mode (F5)")
        _explain(
            self.presentation,
            "Presentation mode",
            "Large text and thick plot lines for a projector, high contrast, and fewer "
            "settings on screen.",
        )
        self.presentation.setChecked(current.presentation)
        form.addRow("", self.presentation)

        self.scale = QComboBox()
        for value in prefs.SCALES:
            self.scale.addItem(f"{round(value * 100)}%", value)
        _explain(
            self.scale,
            "Presentation size",
            "How much larger text and lines are in presentation mode.",
        )
        self.scale.setCurrentIndex(max(0, self.scale.findData(current.scale)))
        form.addRow("Presentation &size:", self.scale)

        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #B00020; font-weight: 600;")
        self.problem.hide()

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, "Choose the data folder", self.data_dir.text()
        )
        if chosen:
            self.data_dir.setText(chosen)

    def chosen(self) -> prefs.Preferences:
        return replace(
            self.current,
            device=self.device.currentData(),
            threads=self.threads.value(),
            data_dir=self.data_dir.text().strip(),
            theme=self.theme.currentData(),
            presentation=self.presentation.isChecked(),
            scale=float(self.scale.currentData()),
        )

    def accept(self) -> None:
        candidate = self.chosen()
        problems = candidate.problems()
        if problems:
            self.problem.setText("\n".join(problems.values()))
            self.problem.show()
            return  # stay open: nothing is kept until it is right
        self.result_prefs = candidate
        super().accept()


EXTRA_KEYS = (
    ("Next / previous lesson", "Right / Left arrow (Lessons tab)"),
    ("Scroll the lesson", "Page Down / Page Up (Lessons tab)"),
    ("Next / previous tab", "Ctrl+Tab / Ctrl+Shift+Tab"),
    ("Move between controls", "Tab / Shift+Tab"),
    ("Paste a picture to classify", "Ctrl+V (Classifier ▸ Classify)"),
)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


class ShortcutsDialog(QDialog):
    """Every action of the window with its key, and the keys that work inside tabs."""

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = [
            (_plain(a.text()), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
            for a in actions
        ]
        rows += list(EXTRA_KEYS)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Key"])
        for r, (what, key) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(what))
            self.table.setItem(r, 1, QTableWidgetItem(key))
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        _explain(
            self.table, "Keyboard shortcuts", "Every action of ML Lab and the key that runs it."
        )
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(close)
        self.resize(620, 560)

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.table.item(r, 0).text(), self.table.item(r, 1).text())
            for r in range(self.table.rowCount())
        ]


WELCOME = (
    "<h2>Welcome to ML Lab</h2>"
    "<p>ML Lab is a lab where you learn machine learning by doing it: train a model that "
    "tells cats from raccoons and watch it learn, drop in your own photos, see how a diffusion "
    "model turns noise into pictures, and explore how a model arranges images and words on a "
    "map. Everything runs on this computer, offline.</p>"
    "<p>The lessons explain each idea in plain words and open the tab that shows it.</p>"
)


class WelcomeDialog(QDialog):
    """First run: what ML Lab is, the first lesson, and a check of this computer."""

    def __init__(self, window=None) -> None:
        super().__init__(window)
        self.setWindowTitle("Welcome to ML Lab")
        self.chosen = ""
        intro = QLabel(WELCOME)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        heading = QLabel("<b>Checking this computer</b>")
        self.findings_box = QVBoxLayout()
        self.findings: list[environment.Finding] = []
        for finding in environment.quick_checks():
            self._add_finding(finding)
        self.device_label = QLabel("Device: checking… (PyTorch is loading)")
        self.device_label.setWordWrap(True)
        self.findings_box.addWidget(self.device_label)
        if window is not None and getattr(window, "is_ready", True) is False:
            window.ready.connect(self._check_device)
        else:
            self._check_device()

        start = QPushButton("Start the first lesson")
        start.setObjectName("primary")
        start.setDefault(True)
        _explain(start, "Start the first lesson", "Opens lesson 1: what a model is.")
        start.clicked.connect(self._start)
        close = QPushButton("Close")
        _explain(close, "Close", "Close this window and look around on your own.")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(start)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(heading)
        layout.addLayout(self.findings_box)
        again = QLabel("You can open this again from Help ▸ Welcome and environment check.")
        again.setObjectName("note")
        layout.addWidget(again)
        layout.addLayout(buttons)
        self.resize(640, 520)

    def _add_finding(self, finding: environment.Finding) -> None:
        self.findings.append(finding)
        mark = "✔" if finding.ok else "⚠"
        text = f"{mark} <b>{finding.name}:</b> {finding.text}"
        if finding.fix:
            text += f"<br>&nbsp;&nbsp;&nbsp;&nbsp;<i>What to do:</i> {finding.fix}"
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setAccessibleName(f"{finding.name}: {'fine' if finding.ok else 'needs attention'}")
        self.findings_box.addWidget(label)

    def _check_device(self) -> None:
        parent = self.parent()
        preference = getattr(getattr(parent, "prefs", None), "device", "auto")
        finding = environment.check_device(preference)
        self.findings.append(finding)
        mark = "✔" if finding.ok else "⚠"
        text = f"{mark} <b>{finding.name}:</b> {finding.text}"
        if finding.fix:
            text += f"<br>&nbsp;&nbsp;&nbsp;&nbsp;<i>What to do:</i> {finding.fix}"
        self.device_label.setText(text)

    def _start(self) -> None:
        self.chosen = "lesson"
        self.accept()


class AboutDialog(QDialog):
    def __init__(self, window=None) -> None:
        super().__init__(window)
        self.setWindowTitle("About ML Lab")
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        device = window.device_label.text() if window is not None else ""
        threads = window.threads_label.text() if window is not None else ""
        self.versions = {
            "ML Lab": __version__,
            "Python": platform.python_version(),
            "PyTorch": _version("torch"),
            "torchvision": _version("torchvision"),
            "Qt": qVersion(),
            "PySide6": pyside_version,
        }
        lines = "".join(
            f"<tr><td>{k}</td><td><b>{v}</b></td></tr>" for k, v in self.versions.items()
        )
        text = QLabel(
            f"<h2>ML Lab {__version__}</h2><p>A desktop lab for learning machine learning by "
            f"doing it.</p><table cellspacing='6'>{lines}</table><p>{device}<br>{threads}</p>"
            "<p>Pretrained weights: EfficientNet-Lite0 (ImageNet, Apache-2.0). Text model: "
            "all-MiniLM-L6-v2 (Apache-2.0).</p>"
        )
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = text
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(close)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
