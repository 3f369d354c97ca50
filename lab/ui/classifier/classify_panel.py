"""'Classify': drop pictures and see the answer at once; bend them; see where the model looked."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from lab.core.classifier import Classifier
from lab.core.inference import (
    DEFAULT_THRESHOLD,
    Perturbation,
    SingleResult,
    classify_files,
    classify_picture,
    verdict,
)
from lab.core.workspace import expand_paths
from lab.ui.classifier.camera import CameraFeed, camera_unavailable_reason
from lab.ui.widgets.drop_zone import DropZone
from lab.ui.widgets.notice import Notice
from lab.ui.widgets.picture_view import PictureView, array_to_qimage, blend_heat, qimage_to_array
from lab.ui.widgets.probability_bars import ProbabilityBars
from lab.ui.worker import TaskRunner

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"
MAX_DROP_IMAGES = 60  # more than this at once goes to "Classify a folder"
KEEP_ITEMS = 60
LIVE_INTERVAL_MS = 60  # at most ~16 slider-driven predictions a second
WHY_ALWAYS_A_CLASS = (
    "A classifier always picks one of its classes, even for a picture of something else: "
    "a low top probability is a sign it is guessing."
)
CAMERA_ID = -1


@dataclass
class DropItem:
    id: int
    path: Path
    probs: np.ndarray | None = None
    ms: float = math.nan
    picture: np.ndarray | None = None
    error: str = ""


class ClassifyPanel(QWidget):
    """Owns two runners: one classifies dropped files, one recomputes the shown picture."""

    folder_dropped = Signal(list)  # too many pictures for this view: classify them as a batch
    single_speed = Signal(float)  # milliseconds per picture, file to answer

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.classifier: Classifier | None = None
        self.items: list[DropItem] = []
        self._next_id = 0
        self._current: DropItem | None = None
        self._pending_ids: list[int] = []
        self._drop_ms: list[float] = []
        self._camera: CameraFeed | None = None
        self._camera_item = DropItem(CAMERA_ID, Path("camera"))
        self.last_live: SingleResult | None = None
        self._live_stamp: tuple | None = None

        self.drop_runner = TaskRunner(self)
        self.drop_runner.progress.connect(self._on_item)
        self.drop_runner.error.connect(lambda m: self.notice.show_message(m, "error"))
        self.live_runner = TaskRunner(self)
        self.live_runner.result.connect(self._on_live)
        self.live_runner.error.connect(lambda m: self.notice.show_message(m, "error"))
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_INTERVAL_MS)
        self._live_timer.timeout.connect(self._start_live)

        # -- getting pictures in -------------------------------------------------------
        self.drop_zone = DropZone(
            "Drop pictures here (files or a folder), or paste one with Ctrl+V"
        )
        self.drop_zone.setMinimumHeight(70)
        self.drop_zone.paths_dropped.connect(self.add_paths)
        self.open_button = QPushButton("Open pictures…")
        self.open_button.setToolTip("Choose picture files to classify")
        self.open_button.clicked.connect(self._ask_open)
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip(
            "Classify a picture (or picture files) from the clipboard (Ctrl+V)"
        )
        self.paste_button.clicked.connect(self.paste)
        paste_key = QShortcut(QKeySequence.StandardKey.Paste, self)
        paste_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste_key.activated.connect(self.paste)
        self.camera_button = QPushButton("Camera")
        self.camera_button.setCheckable(True)
        self.camera_button.toggled.connect(self._toggle_camera)
        why_no_camera = camera_unavailable_reason()
        self.camera_button.setEnabled(not why_no_camera)
        self.camera_button.setToolTip(why_no_camera or "Classify what the camera sees, live")
        in_buttons = QVBoxLayout()
        for b in (self.open_button, self.paste_button, self.camera_button):
            in_buttons.addWidget(b)
        top = QHBoxLayout()
        top.addWidget(self.drop_zone, 1)
        top.addLayout(in_buttons)

        self.recent = QListWidget()
        self.recent.setViewMode(QListWidget.ViewMode.IconMode)
        self.recent.setFlow(QListWidget.Flow.LeftToRight)
        self.recent.setWrapping(False)
        self.recent.setIconSize(QSize(56, 56))
        self.recent.setGridSize(QSize(130, 84))
        self.recent.setFixedHeight(96)
        self.recent.setMovement(QListWidget.Movement.Static)
        self.recent.setAccessibleName("Pictures you dropped")
        self.recent.setToolTip("The pictures you dropped; click one to look at it closely")
        self.recent.currentItemChanged.connect(lambda *_: self._select_from_list())
        self.notice = Notice()

        # -- the picture and the answer ----------------------------------------------------
        self.picture = PictureView()
        self.picture.set_caption("No picture yet")
        self.answer = QLabel("Drop a picture to classify it")
        self.answer.setObjectName("answer")
        self.answer.setStyleSheet("QLabel#answer { font-size: 26pt; font-weight: 600; }")
        self.answer.setWordWrap(True)
        self.bars = ProbabilityBars()
        self.why = QLabel(WHY_ALWAYS_A_CLASS)
        self.why.setObjectName("note")
        self.why.setWordWrap(True)
        self.threshold = QSpinBox()
        self.threshold.setRange(1, 99)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(round(DEFAULT_THRESHOLD * 100))
        self.threshold.setToolTip(
            "When the most likely class is below this probability, the answer reads “Not sure”"
        )
        self.threshold.valueChanged.connect(lambda _: self._render())
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(QLabel("Say “Not sure” below"))
        threshold_row.addWidget(self.threshold)
        threshold_row.addStretch(1)
        self.timing = QLabel()
        self.timing.setObjectName("note")
        self.timing.setWordWrap(True)
        self.speed_note = QLabel()
        self.speed_note.setObjectName("note")
        self.speed_note.setWordWrap(True)

        answer_box = QWidget()
        answer_layout = QVBoxLayout(answer_box)
        answer_layout.addWidget(self.answer)
        answer_layout.addWidget(self.bars)
        answer_layout.addWidget(self.why)
        answer_layout.addLayout(threshold_row)
        answer_layout.addWidget(self.timing)
        answer_layout.addWidget(self._build_robustness())
        answer_layout.addWidget(self.speed_note)
        answer_layout.addStretch(1)
        answer_scroll = QScrollArea()
        answer_scroll.setWidget(answer_box)
        answer_scroll.setWidgetResizable(True)
        answer_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        picture_box = QWidget()
        picture_layout = QVBoxLayout(picture_box)
        picture_layout.setContentsMargins(0, 0, 0, 0)
        picture_layout.addWidget(self.picture, 1)
        picture_layout.addWidget(self._build_saliency())

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(picture_box)
        split.addWidget(answer_scroll)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.recent)
        layout.addWidget(self.notice)
        layout.addWidget(split, 1)
        self._update_enabled()

    def _build_robustness(self) -> QGroupBox:
        box = QGroupBox("Change the picture: does the answer hold?")
        box.setToolTip(
            "The model sees the changed picture; the answer updates as you move a slider"
        )
        grid = QGridLayout(box)
        self.sliders: dict[str, QSlider] = {}
        self.slider_labels: dict[str, QLabel] = {}
        specs = {
            "rotation": (-180, 180, 0, "Turn the picture (degrees)"),
            "blur": (0, 100, 0, "Blur, in pixels of what the model sees"),
            "brightness": (10, 300, 100, "Darker or brighter"),
            "zoom": (100, 400, 100, "Zoom into the centre"),
        }
        for row, (name, (lo, hi, value, tip)) in enumerate(specs.items()):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(lo, hi)
            slider.setValue(value)
            slider.setToolTip(tip)
            slider.setAccessibleName(name.capitalize())
            slider.valueChanged.connect(self._sliders_moved)
            label = QLabel()
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("Brightness: 300% "))
            grid.addWidget(label, row, 0)
            grid.addWidget(slider, row, 1)
            self.sliders[name] = slider
            self.slider_labels[name] = label
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Put every slider back: the picture as it is")
        self.reset_button.clicked.connect(self.reset_sliders)
        grid.addWidget(self.reset_button, len(specs), 1, Qt.AlignmentFlag.AlignRight)
        self._label_sliders()
        return box

    def _build_saliency(self) -> QGroupBox:
        box = QGroupBox("Where did it look?")
        grid = QGridLayout(box)
        self.cam_check = QCheckBox("Show the Grad-CAM heatmap")
        self.cam_check.setToolTip(
            "Colours the parts of the picture that raised the chosen class's score most "
            "(yellow = a lot, dark blue = not at all). The dashed square is what the model "
            "sees; the dimmed edges are cut off before it looks."
        )
        self.cam_check.toggled.connect(lambda _: self._schedule_live())
        self.cam_class = QComboBox()
        self.cam_class.setToolTip("The class whose evidence is shown")
        self.cam_class.currentIndexChanged.connect(lambda _: self._schedule_live())
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(55)
        self.opacity.setToolTip("How strongly the heatmap covers the picture")
        self.opacity.valueChanged.connect(lambda _: self._render())
        self.cam_note = QLabel()
        self.cam_note.setObjectName("note")
        self.cam_note.setWordWrap(True)
        grid.addWidget(self.cam_check, 0, 0)
        grid.addWidget(QLabel("for"), 0, 1)
        grid.addWidget(self.cam_class, 0, 2)
        grid.addWidget(QLabel("Opacity"), 1, 1)
        grid.addWidget(self.opacity, 1, 2)
        grid.addWidget(self.cam_note, 1, 0)
        grid.setColumnStretch(2, 1)
        return box

    # -- the model -------------------------------------------------------------------------
    def set_classifier(self, classifier: Classifier | None) -> None:
        """Use this model from now on; pictures already here are classified again."""
        self.classifier = classifier
        self.cam_class.blockSignals(True)
        self.cam_class.clear()
        self.cam_class.addItem("the predicted class", -1)
        for i, name in enumerate(classifier.classes if classifier else []):
            self.cam_class.addItem(name, i)
        self.cam_class.blockSignals(False)
        for item in self.items:
            item.probs, item.error, item.ms = None, "", math.nan
        self._update_enabled()
        self._classify_pending()
        self._render()
        self._schedule_live()

    def _update_enabled(self) -> None:
        if self.classifier is None:
            self.answer.setText("Train a model (or load one from the File menu) to classify")

    # -- adding pictures -----------------------------------------------------------------
    def add_paths(self, paths: list) -> None:
        """Classify dropped files and folders (a big folder goes to "Classify a folder")."""
        files, refused = expand_paths([Path(p) for p in paths])
        if len(files) > MAX_DROP_IMAGES:
            self.folder_dropped.emit([Path(p) for p in paths])
            return
        if refused:
            names = "\n".join(f"  • {name}: {why}" for name, why in refused)
            self.notice.show_message(f"Left out {len(refused)} file(s):\n{names}", "warning")
        elif self.classifier is None and files:
            self.notice.show_message(
                "There is no model yet: train one (Train) or load one (File ▸ Load model…). "
                "Your pictures will be classified as soon as there is one.",
                "warning",
            )
        else:
            self.notice.hide()
        first = None
        for path in files:
            item = DropItem(self._next_id, path)
            self._next_id += 1
            self.items.append(item)
            widget_item = QListWidgetItem(path.name)
            widget_item.setData(Qt.ItemDataRole.UserRole, item.id)
            widget_item.setToolTip(str(path))
            self.recent.addItem(widget_item)
            first = first or item
        while len(self.items) > KEEP_ITEMS:
            self.items.pop(0)
            self.recent.takeItem(0)
        if first is not None:
            self._select(first)
        self._classify_pending()

    def paste(self) -> None:
        mime = QApplication.clipboard().mimeData()
        paths = DropZone.paths_from(mime) if mime is not None else []
        if paths:
            self.add_paths(paths)
        else:
            self.notice.show_message("The clipboard holds no picture to classify.", "info")

    def _ask_open(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Pictures to classify", "", IMAGE_FILTER)
        if files:
            self.add_paths([Path(f) for f in files])

    def _classify_pending(self) -> None:
        clf = self.classifier
        pending = [it for it in self.items if it.probs is None and not it.error]
        if clf is None or not pending:
            return
        self._pending_ids = [it.id for it in pending]
        paths = [it.path for it in pending]
        # A new start cancels a run still going; what it had not done is in `pending` again.
        self.drop_runner.start(lambda stop: classify_files(clf, paths, stop=stop))

    def _item(self, item_id: int) -> DropItem | None:
        return next((it for it in self.items if it.id == item_id), None)

    def _list_row(self, item_id: int) -> int:
        for row in range(self.recent.count()):
            if self.recent.item(row).data(Qt.ItemDataRole.UserRole) == item_id:
                return row
        return -1

    def _on_item(self, ev: dict) -> None:
        item = self._item(self._pending_ids[ev["index"]])
        if item is None or self.classifier is None:
            return
        row = self._list_row(item.id)
        widget_item = self.recent.item(row) if row >= 0 else None
        if "error" in ev:
            item.error = ev["error"]
            if widget_item is not None:
                widget_item.setText(f"✗ {item.path.name}")
                widget_item.setToolTip(f"{item.path.name}: {item.error}")
        else:
            item.probs, item.ms, item.picture = ev["probabilities"], ev["ms"], ev["picture"]
            self._drop_ms.append(item.ms)
            self.single_speed.emit(float(np.median(self._drop_ms[-20:])))
            if widget_item is not None:
                v = verdict(item.probs, self.classifier.classes, self._threshold())
                widget_item.setText(f"{v.label} {v.probability:.0%}" if v.sure else "not sure")
                thumb = array_to_qimage(item.picture).scaled(
                    56, 56, Qt.AspectRatioMode.KeepAspectRatio
                )
                widget_item.setIcon(QIcon(QPixmap.fromImage(thumb)))
        if item is self._current:
            self._render()
            self._schedule_live()

    # -- the shown picture -------------------------------------------------------------------
    def _select_from_list(self) -> None:
        current = self.recent.currentItem()
        if current is not None:
            item = self._item(current.data(Qt.ItemDataRole.UserRole))
            if item is not None and item is not self._current:
                self._current = item
                self.last_live = None
                self._render()
                self._schedule_live()

    def _select(self, item: DropItem) -> None:
        row = self._list_row(item.id)
        if row >= 0:
            self.recent.setCurrentRow(row)  # → _select_from_list
        self._current = item
        self._render()

    @property
    def current(self) -> DropItem | None:
        return self._current

    def perturbation(self) -> Perturbation:
        s = self.sliders
        return Perturbation(
            rotation=float(s["rotation"].value()),
            blur=s["blur"].value() / 10.0,
            brightness=s["brightness"].value() / 100.0,
            zoom=s["zoom"].value() / 100.0,
        )

    def reset_sliders(self) -> None:
        for name, value in (("rotation", 0), ("blur", 0), ("brightness", 100), ("zoom", 100)):
            self.sliders[name].setValue(value)

    def _label_sliders(self) -> None:
        p = self.perturbation()
        self.slider_labels["rotation"].setText(f"Rotation: {p.rotation:+.0f}°")
        self.slider_labels["blur"].setText(f"Blur: {p.blur:.1f} px")
        self.slider_labels["brightness"].setText(f"Brightness: {p.brightness:.0%}")
        self.slider_labels["zoom"].setText(f"Zoom: {p.zoom:.2f}×")

    def _sliders_moved(self) -> None:
        self._label_sliders()
        self._schedule_live()

    def _threshold(self) -> float:
        return self.threshold.value() / 100.0

    def _wanted_stamp(self) -> tuple | None:
        item = self._current
        if item is None or item.picture is None or self.classifier is None:
            return None
        cam = self.cam_class.currentData() if self.cam_check.isChecked() else None
        return (id(self.classifier), item.id, id(item.picture), self.perturbation(), cam)

    def _schedule_live(self) -> None:
        # Throttle, not debounce: while a slider moves, recompute every LIVE_INTERVAL_MS.
        if self._wanted_stamp() is not None and not self._live_timer.isActive():
            self._live_timer.start()

    def _start_live(self) -> None:
        stamp = self._wanted_stamp()
        if stamp is None or stamp == self._live_stamp:
            return
        from PIL import Image

        clf, picture = self.classifier, self._current.picture
        perturbation, cam = stamp[3], stamp[4]
        self._live_stamp = stamp

        def task(stop):
            img = Image.fromarray(picture)
            result = yield from classify_picture(clf, img, perturbation, cam_class=cam, stop=stop)
            return stamp, result

        self.live_runner.start(task)

    def _on_live(self, value) -> None:
        stamp, result = value
        if result is None or stamp != self._wanted_stamp():
            return  # the settings moved on since this was asked for
        self.last_live = result
        self._render()

    def _render(self) -> None:
        """Draw the current picture and answer from what is known now (never computes)."""
        item, clf = self._current, self.classifier
        live = self.last_live
        if live is not None and (
            item is None or self._live_stamp is None or self._live_stamp[1] != item.id
        ):
            live = None
        if item is None:
            self.picture.set_picture(None)
            self.bars.clear()
            return
        if item.error:
            self.picture.set_picture(None)
            self.picture.set_caption(f"{item.path.name} could not be used")
            self.answer.setText("Could not read this picture")
            self.timing.setText(f"{item.path.name}: {item.error}")
            self.bars.clear()
            return
        probs = live.probabilities if live is not None else item.probs
        if clf is None or probs is None:
            self.picture.set_picture(None)
            self.picture.set_caption(f"Classifying {item.path.name}…" if clf else item.path.name)
            self.bars.clear()
            return
        v = verdict(probs, clf.classes, self._threshold())
        self.answer.setText(v.text)
        self.answer.setToolTip(f"Most likely: {v.label} ({v.probability:.1%})")
        self.bars.set_probabilities(clf.classes, probs)
        if item.id == CAMERA_ID:
            timing = f"Camera: {live.ms:.0f} ms per frame" if live is not None else "Camera"
        else:
            timing = f"{item.path.name}: {item.ms:.0f} ms from file to answer"
            if live is not None and not self.perturbation().is_identity:
                timing += f" · changed picture: {live.ms:.0f} ms"
        self.timing.setText(timing)
        picture = live.picture if live is not None else item.picture
        saliency = live.saliency if live is not None else None
        if saliency is not None and self.cam_check.isChecked():
            shown = blend_heat(picture, saliency.heat, saliency.box, self.opacity.value() / 100)
            self.picture.set_picture(shown, saliency.box)
            name = clf.classes[saliency.class_index]
            self.cam_note.setText(
                f"Nothing in this picture points towards “{name}”."
                if saliency.empty
                else f"Showing what made the model think “{name}”."
            )
        else:
            self.picture.set_picture(picture)
            self.cam_note.setText("")

    # -- the camera ------------------------------------------------------------------------
    def _toggle_camera(self, on: bool) -> None:
        if on:
            if self._camera is None:
                self._camera = CameraFeed(self)
                self._camera.frame_ready.connect(self._on_camera_frame)
                self._camera.failed.connect(self._camera_failed)
            self._camera.start()
        elif self._camera is not None:
            self._camera.stop()

    def _camera_failed(self, message: str) -> None:
        self.camera_button.setChecked(False)
        self.notice.show_message(f"The camera stopped: {message}", "error")

    def _on_camera_frame(self) -> None:
        if self._camera is None or self.live_runner.running or self.classifier is None:
            return  # busy: this frame is skipped, the next one will do
        frame = self._camera.take_frame()
        if frame.isNull():
            return
        item = self._camera_item
        item.picture = qimage_to_array(frame, self.classifier.image_size * 2)
        self._current = item
        self._start_live()

    def shutdown(self) -> None:
        self._live_timer.stop()
        if self._camera is not None:
            self._camera.stop()
        self.drop_runner.shutdown()
        self.live_runner.shutdown()
