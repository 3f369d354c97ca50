"""Forward diffusion: pick a picture, slide t from 0 to T and watch noise take over."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lab.core.dataset import DatasetError
from lab.core.diffusion.data import (
    fashion_mnist_dir,
    load_fashion_mnist_raw,
    to_model_range,
    to_uint8,
)
from lab.core.diffusion.forward import ForwardNoising, alpha_bar_curve, load_picture, snr_curve
from lab.core.images import ImageError, is_image_name
from lab.core.workspace import Workspace
from lab.ui.diffusion.pictures import ImageView
from lab.ui.theme import OKABE_ITO
from lab.ui.widgets.column import ScrollColumn
from lab.ui.widgets.help import explain
from lab.ui.widgets.notice import Notice

TIMESTEPS = 1000
STRIP = 8
PLAY_MS = 33  # about 30 frames a second
PLAY_SECONDS = 4.0


class ForwardPanel(QWidget):
    status_message = Signal(str)

    def __init__(self, workspace: Workspace, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.setAcceptDrops(True)
        self._fashion: np.ndarray | None = None
        self._photos: list[Path] = []
        self.process: ForwardNoising | None = None
        self._image: np.ndarray | None = None
        self.source_name = ""

        self.notice = Notice()
        self.source = QComboBox()
        self.source.setToolTip("Where the picture comes from")
        self.index = QSpinBox()
        self.index.setToolTip("Which picture of the source")
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("Noise a picture of your own (or drop one here)")
        self.schedule = QComboBox()
        self.schedule.addItem("Cosine (Nichol & Dhariwal)", "cosine")
        self.schedule.addItem("Linear (Ho et al.)", "linear")
        self.schedule.setToolTip("How fast the signal fades as t grows")
        self.curve = QComboBox()
        self.curve.addItem("ᾱ_t: share of the picture kept", "alpha")
        self.curve.addItem("Signal-to-noise ratio (log scale)", "snr")
        self.seed = QSpinBox()
        self.seed.setRange(0, 9999)
        self.seed.setToolTip("A different seed draws different noise")

        form = QFormLayout()
        src = QHBoxLayout()
        src.addWidget(self.source, 1)
        src.addWidget(self.index)
        form.addRow("Picture", src)
        form.addRow("", self.open_button)
        form.addRow("Noise schedule", self.schedule)
        form.addRow("Plot", self.curve)
        form.addRow("Noise seed", self.seed)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, TIMESTEPS)
        self.slider.setToolTip("The timestep t: 0 is the clean picture, T is (almost) pure noise")
        self.slider.setAccessibleName("Timestep")
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Animate t from 0 to T")
        self.t_label = QLabel()
        self.t_label.setObjectName("result")
        self.t_label.setWordWrap(True)  # one line under the slider; two at 200 %

        self.view = ImageView("x_t", size=260)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumSize(300, 240)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "timestep t")
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextSize="11pt")
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        blue, orange = QColor(OKABE_ITO[0]), QColor(OKABE_ITO[1])
        self.curve_item = self.plot.plot([], [], pen=pg.mkPen(blue, width=3))
        self.other_item = self.plot.plot(
            [], [], pen=pg.mkPen(orange, width=2, style=Qt.PenStyle.DashLine)
        )
        self.marker = pg.ScatterPlotItem(size=14, brush=pg.mkBrush(OKABE_ITO[3]), symbol="o")
        self.plot.addItem(self.marker)
        self.t_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(OKABE_ITO[3], width=1.5))
        self.plot.addItem(self.t_line)

        self.strip_views = [ImageView("", size=64) for _ in range(STRIP)]
        strip = QGridLayout()
        for i, v in enumerate(self.strip_views):
            # Square pictures as tall as the row's share of the height, not as its width:
            # eight width-high pictures would push the page past a 768-pixel screen.
            v.picture.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            strip.addWidget(v, 0, i)

        explain(self.source, "Picture source")
        explain(self.index, "Picture number")
        explain(self.open_button, "Open image")
        explain(self.schedule, "Noise schedule")
        explain(
            self.curve,
            "What to plot",
            "Pick the curve on the right: how much of the picture is kept at each step, or the "
            "signal-to-noise ratio.",
        )
        explain(self.seed, "Noise seed")
        explain(self.slider, "Timestep")
        explain(self.play_button, "Play noising")
        explain(
            self.view,
            "Noisy picture",
            "The picture after t steps of adding noise: x_t. Move the timestep slider to change t.",
        )
        explain(
            self.plot,
            "Noise schedule plot",
            "How much of the picture survives at each timestep t; the red dot is the t you chose.",
        )
        for i, view in enumerate(self.strip_views):
            explain(
                view,
                f"Noisy picture {i + 1} of {len(self.strip_views)}",
                "The same picture at evenly spaced timesteps, from clean to almost pure noise.",
            )

        left_box = QWidget()
        left = QVBoxLayout(left_box)
        left.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("Forward diffusion: adding noise")
        heading.setObjectName("heading")
        left.addWidget(heading)
        note = QLabel(
            "Training a diffusion model starts here: take a picture and mix in Gaussian noise. "
            "x_t = √ᾱ_t · picture + √(1 − ᾱ_t) · noise. No model is needed for this part."
        )
        note.setObjectName("note")
        note.setWordWrap(True)
        left.addWidget(note)
        left.addLayout(form)
        left.addStretch(1)

        top = QHBoxLayout()
        top.addWidget(ScrollColumn(left_box, chars=30, max_chars=44), 1)
        top.addWidget(self.view, 2)
        top.addWidget(self.plot, 2)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        strip_title = QLabel("The same picture at evenly spaced steps")
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addLayout(top, 3)
        layout.addLayout(controls)
        layout.addWidget(self.t_label)
        layout.addWidget(strip_title)
        layout.addLayout(strip, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_MS)
        self.timer.timeout.connect(self._tick)

        self.source.currentIndexChanged.connect(self._source_changed)
        self.index.valueChanged.connect(self._load_from_source)
        self.open_button.clicked.connect(self._ask_open)
        self.schedule.currentIndexChanged.connect(self._rebuild)
        self.seed.valueChanged.connect(self._rebuild)
        self.curve.currentIndexChanged.connect(self._draw_curves)
        self.slider.valueChanged.connect(self._show_t)
        self.play_button.clicked.connect(self.toggle_play)
        self.refresh_sources()

    # -- picture sources ---------------------------------------------------------------
    def refresh_sources(self) -> None:
        self.source.blockSignals(True)
        self.source.clear()
        if fashion_mnist_dir() is not None:
            self.source.addItem("Fashion-MNIST test pictures", "fashion")
        self._photos = [p for c in self.workspace.classes() for p in self.workspace.images(c)]
        if self._photos:
            self.source.addItem(f"Your images ({len(self._photos)})", "photos")
        if self.source.count() == 0:
            self.source.addItem("(open or drop a picture)", "none")
        self.source.blockSignals(False)
        self._source_changed()

    def _source_changed(self) -> None:
        kind = self.source.currentData()
        self.index.blockSignals(True)
        if kind == "fashion":
            self.index.setRange(0, 9999)
        elif kind == "photos":
            self.index.setRange(0, len(self._photos) - 1)
        else:
            self.index.setRange(0, 0)
        self.index.setEnabled(kind in ("fashion", "photos"))
        self.index.blockSignals(False)
        self._load_from_source()

    def _load_from_source(self) -> None:
        kind = self.source.currentData()
        try:
            if kind == "fashion":
                if self._fashion is None:
                    self._fashion, _ = load_fashion_mnist_raw("test")
                i = self.index.value()
                self.set_picture(to_model_range(self._fashion[i : i + 1])[0], f"Fashion-MNIST #{i}")
            elif kind == "photos":
                path = self._photos[self.index.value()]
                self.set_picture(load_picture(path), path.name)
            else:
                self.notice.show_message("Open a picture, or drop one here, to see it noised.")
        except (DatasetError, ImageError) as exc:
            self.notice.show_message(str(exc), "error")

    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a picture",
            "",
            "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff)",
        )
        if path:
            self.open_file(Path(path))

    def open_file(self, path: Path) -> bool:
        try:
            picture = load_picture(path)
        except ImageError as exc:
            self.notice.show_message(str(exc), "error")
            return False
        self.set_picture(picture, path.name)
        return True

    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls and any(is_image_name(u.toLocalFile()) for u in urls):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if self.open_file(Path(url.toLocalFile())):
                break

    # -- drawing -------------------------------------------------------------------------
    def set_picture(self, image: np.ndarray, name: str) -> None:
        self.notice.hide()
        self.source_name = name
        self._image = image
        self._rebuild()

    def _rebuild(self) -> None:
        if self._image is None:
            return
        self.process = ForwardNoising(
            self._image, self.schedule.currentData(), TIMESTEPS, seed=self.seed.value()
        )
        for v, t in zip(self.strip_views, self.process.strip_times(STRIP)):
            v.caption.setText(f"t = {t}")
            v.set_array(to_uint8(self.process.at(t)))
        self._draw_curves()
        self._show_t(self.slider.value())

    def _draw_curves(self) -> None:
        if self.process is None:
            return
        current = self.schedule.currentData()
        other = "linear" if current == "cosine" else "cosine"
        self.legend.clear()
        self.legend.addItem(self.curve_item, f"{current} (shown)")
        self.legend.addItem(self.other_item, f"{other}, to compare")
        ts = np.arange(TIMESTEPS + 1, dtype=float)
        if self.curve.currentData() == "alpha":
            self.plot.setLabel("left", "ᾱ_t")
            self.plot.setLogMode(False, False)
            ys = self.process.alpha_bar
            self.curve_item.setData(ts, ys)
            self.other_item.setData(ts, alpha_bar_curve(other, TIMESTEPS))
        else:
            self.plot.setLabel("left", "signal-to-noise ratio")
            self.plot.setLogMode(False, True)
            self.curve_item.setData(ts[1:], np.maximum(snr_curve(current, TIMESTEPS), 1e-12))
            self.other_item.setData(ts[1:], np.maximum(snr_curve(other, TIMESTEPS), 1e-12))
        self._show_t(self.slider.value())

    def _show_t(self, t: int) -> None:
        if self.process is None:
            return
        ab = float(self.process.alpha_bar[t])
        self.view.caption.setText(f"x_t at t = {t}  ({self.source_name})")
        self.view.set_array(to_uint8(self.process.at(t)))
        self.t_line.setValue(t)
        if self.curve.currentData() == "alpha":
            self.marker.setData([t], [ab])
        elif t > 0:
            self.marker.setData([t], [np.log10(max(ab / max(1 - ab, 1e-20), 1e-12))])
        else:
            self.marker.setData([], [])
        self.t_label.setText(
            f"t = {t} of {TIMESTEPS}   ·   ᾱ_t = {ab:.3f}   ·   noise share {1 - ab:.3f}"
        )

    # -- playing -------------------------------------------------------------------------
    def toggle_play(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.play_button.setText("Play")
        else:
            if self.slider.value() >= TIMESTEPS:
                self.slider.setValue(0)
            self.timer.start()
            self.play_button.setText("Pause")

    def _tick(self) -> None:
        step = max(1, int(TIMESTEPS * PLAY_MS / 1000 / PLAY_SECONDS))
        t = min(TIMESTEPS, self.slider.value() + step)
        self.slider.setValue(t)
        if t >= TIMESTEPS:
            self.toggle_play()

    def hideEvent(self, event) -> None:
        if self.timer.isActive():
            self.toggle_play()
        super().hideEvent(event)

    def shutdown(self) -> None:
        self.timer.stop()
