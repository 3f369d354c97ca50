"""'Classify': drop pictures and see the answer at once; bend them; see where the model looked."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
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
from lab.core.tasks import RateMeter
from lab.core.workspace import expand_paths
from lab.ui.appearance import appearance
from lab.ui.classifier.camera import CameraFeed, camera_unavailable_reason, frame_to_image
from lab.ui.widgets.drop_zone import DropZone
from lab.ui.widgets.help import explain
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
NO_MODEL = "No model yet"
NO_MODEL_HINT = "Train one on the Train page, or load one with File ▸ Load model…"
NO_PICTURE = "Drop a picture to classify it"
CAMERA_ID = -1
CAMERA_MAX_SIDE = 480  # camera frames are shrunk to this before classifying and showing
CAMERA_TIP = "Classify what the camera sees, live"


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
        self._camera_rate = RateMeter(window_s=3.0)
        self.camera_frames_classified = 0
        self.camera_frames_dropped = 0
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
        # Camera frames have their own runner: one frame in flight at most, apart from the
        # slider-driven recomputation of a still picture.
        self.camera_runner = TaskRunner(self)
        self.camera_runner.result.connect(self._on_camera_result)
        self.camera_runner.error.connect(lambda m: self.notice.show_message(m, "error"))

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
        self.camera_button.setEnabled(False)  # looked at when this page first shows
        self.camera_button.setToolTip("Looking for a camera…")
        self.camera_button.toggled.connect(self._toggle_camera)
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
        self.answer = QLabel(NO_PICTURE)
        self.answer.setObjectName("answer")
        appearance().style(self.answer, "QLabel#answer { font-size: 26pt; font-weight: 600; }")
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
        # Never wider than the space it has: long answers wrap instead of running off the edge.
        answer_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        answer_scroll.setMinimumWidth(
            answer_box.minimumSizeHint().width()
            + answer_scroll.verticalScrollBar().sizeHint().width()
        )
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

        explain(
            self.drop_zone,
            "Drop pictures here",
            "Drop picture files or a folder here to classify them. From the keyboard, use "
            "Open pictures… or Paste (Ctrl+V) instead.",
        )
        explain(self.open_button, "Open pictures")
        explain(self.paste_button, "Paste picture")
        explain(self.camera_button, "Camera")
        explain(self.recent, "Pictures to classify")
        explain(
            self.picture,
            "Picture being classified",
            "The picture the model is looking at now, as the sliders change it; with Grad-CAM on, "
            "warm colours show the parts that pushed the model towards its answer.",
        )
        explain(self.threshold, "Not-sure threshold")
        for name, slider in self.sliders.items():
            explain(slider, name.capitalize())
        explain(self.reset_button, "Reset sliders")
        explain(self.cam_check, "Show Grad-CAM heatmap")
        explain(self.cam_class, "Heatmap class")
        explain(self.opacity, "Heatmap opacity")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.recent)
        layout.addWidget(self.notice)
        layout.addWidget(split, 1)
        self._update_enabled()

    def _build_robustness(self) -> QGroupBox:
        box = QGroupBox("Does the answer hold?")
        box.setToolTip(
            "Change the picture: the model sees the changed picture, and the answer updates "
            "as you move a slider"
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
            label.setBuddy(slider)
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
        self.cam_check = QCheckBox("Show the heatmap")
        self.cam_check.setToolTip(
            "Grad-CAM: colours the parts of the picture that raised the chosen class's score most "
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
        # Stacked rows, so that the picture's side stays narrow enough for a 1024-px window.
        grid.addWidget(self.cam_check, 0, 0, 1, 2)
        grid.addWidget(QLabel("for"), 1, 0)
        grid.addWidget(self.cam_class, 1, 1)
        grid.addWidget(QLabel("Opacity"), 2, 0)
        grid.addWidget(self.opacity, 2, 1)
        grid.addWidget(self.cam_note, 3, 0, 1, 2)
        grid.setColumnStretch(1, 1)
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
        if classifier is None:
            self.stop_camera()
        self._update_enabled()
        self._classify_pending()
        self._render()
        self._schedule_live()

    def _update_enabled(self) -> None:
        if self.classifier is None:
            self.answer.setText(NO_MODEL)
            self.timing.setText(NO_MODEL_HINT)
        elif self._current is None:
            self.answer.setText(NO_PICTURE)
            self.timing.setText("")
        if self.isVisible():
            self.refresh_camera_button()

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
                self.stop_camera()  # the user chose a still picture
                self._current = item
                self.last_live = None
                self._render()
                self._schedule_live()

    def _select(self, item: DropItem) -> None:
        row = self._list_row(item.id)
        if row >= 0:
            self.recent.setCurrentRow(row)  # → _select_from_list
        self.stop_camera()
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
        if item is self._camera_item and self._camera is not None:
            return None  # the camera's next frame uses the new settings
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
            if item.id == CAMERA_ID:
                self.picture.set_caption("Waiting for the camera…")
            else:
                self.picture.set_caption(
                    f"Classifying {item.path.name}…" if clf else item.path.name
                )
            self.bars.clear()
            return
        v = verdict(probs, clf.classes, self._threshold())
        self.answer.setText(v.text)
        self.answer.setToolTip(f"Most likely: {v.label} ({v.probability:.1%})")
        self.bars.set_probabilities(clf.classes, probs)
        if item.id == CAMERA_ID:
            timing = "Camera" if self._camera is not None else "Camera (stopped)"
            if live is not None:
                timing += f": {live.ms:.0f} ms per frame"
            rate = self._camera_rate.per_second
            if self._camera is not None and rate > 0:
                timing += f" · {rate:.0f} answers a second"
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
    @property
    def camera_on(self) -> bool:
        return self._camera is not None

    def refresh_camera_button(self) -> None:
        """Enable the Camera button only when a camera and a model are there; say why not."""
        if self._camera is not None:
            return
        why = camera_unavailable_reason()
        if not why and self.classifier is None:
            why = "Train a model (or load one) first; then the camera's pictures can be classified."
        self.camera_button.setEnabled(not why)
        self.camera_button.setToolTip(why or CAMERA_TIP)

    def _show_camera_button(self, on: bool) -> None:
        self.camera_button.blockSignals(True)
        self.camera_button.setChecked(on)
        self.camera_button.blockSignals(False)
        if on:
            self.camera_button.setEnabled(True)  # Stop camera must always be clickable
        self.camera_button.setText("Stop camera" if on else "Camera")
        self.camera_button.setToolTip("Stop the camera" if on else CAMERA_TIP)

    def _toggle_camera(self, on: bool) -> None:
        if on:
            self.start_camera()
        else:
            self.stop_camera()

    def start_camera(self, feed: CameraFeed | None = None) -> bool:
        """Classify live frames from `feed` (the default camera when None); False if it can't."""
        if self._camera is not None:
            return True
        if feed is None:
            why = camera_unavailable_reason()
            if why or self.classifier is None:
                self._show_camera_button(False)
                self.refresh_camera_button()
                self.notice.show_message(why or self.camera_button.toolTip(), "warning")
                return False
            feed = CameraFeed.open_default(self)
        self._camera = feed
        # Queued even from the GUI thread: a frame is classified from the event loop, never
        # from inside whoever delivered it.
        feed.frame_ready.connect(self._on_camera_frame, Qt.ConnectionType.QueuedConnection)
        feed.failed.connect(self._camera_failed)
        self._camera_rate = RateMeter(window_s=3.0)
        item = self._camera_item
        item.picture, item.probs, item.ms = None, None, math.nan
        self._current = item
        self.last_live = None
        self.recent.setCurrentRow(-1)
        self.notice.hide()
        self._show_camera_button(True)
        self._render()
        feed.start()
        return True

    def stop_camera(self) -> None:
        """Stop the camera; its last frame and answer stay on show."""
        feed, self._camera = self._camera, None
        if feed is None:
            return
        self.camera_runner.cancel()
        feed.frame_ready.disconnect(self._on_camera_frame)
        feed.close()
        if feed.parent() is self:
            feed.deleteLater()
        self._show_camera_button(False)
        if self.isVisible():
            self.refresh_camera_button()
        if self._current is self._camera_item:
            self._render()

    def _camera_failed(self, message: str) -> None:
        self.stop_camera()
        self.notice.show_message(f"The camera stopped: {message}", "error")

    @Slot()
    def _on_camera_frame(self) -> None:
        feed = self._camera
        if feed is None:
            return
        frame = feed.take_frame()
        if frame is None or self.classifier is None:
            return
        if self.camera_runner.running:
            # Busy: drop this frame rather than queue it; the camera sends a newer one soon.
            self.camera_frames_dropped += 1
            return
        self._classify_frame(frame)

    def _camera_settings(self) -> tuple:
        cam = self.cam_class.currentData() if self.cam_check.isChecked() else None
        return (id(self.classifier), self.perturbation(), cam)

    def _classify_frame(self, frame) -> None:
        from PIL import Image

        image = frame_to_image(frame)  # here, not in the task: see frame_to_image
        if image is None:
            return
        clf = self.classifier
        settings = self._camera_settings()
        _, perturbation, cam = settings
        max_side = max(CAMERA_MAX_SIDE, 2 * clf.image_size)

        def task(stop):
            picture = qimage_to_array(image, max_side)  # shrinking takes a few ms: not here
            img = Image.fromarray(picture)
            result = yield from classify_picture(clf, img, perturbation, cam_class=cam, stop=stop)
            return settings, picture, result

        self.camera_runner.start(task)

    def _on_camera_result(self, value) -> None:
        if value is None or self._camera is None:
            return
        settings, picture, result = value
        if result is None or settings != self._camera_settings():
            return  # the model or the settings changed while this frame was classified
        item = self._camera_item
        item.picture, item.probs, item.ms = picture, result.probabilities, result.ms
        self.camera_frames_classified += 1
        self._camera_rate.add(1)
        self.last_live = result
        self._live_stamp = (settings[0], CAMERA_ID, id(picture), settings[1], settings[2])
        if self._current is item:
            self._render()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_camera_button()  # a camera may have been plugged in meanwhile

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.stop_camera()  # nobody is looking: let the camera (and its light) go

    def shutdown(self) -> None:
        self._live_timer.stop()
        self.stop_camera()
        self.drop_runner.shutdown()
        self.live_runner.shutdown()
        self.camera_runner.shutdown()
