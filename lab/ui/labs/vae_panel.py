"""VAE latent space: every point of a 2D map decodes to a picture."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout

from lab.core.labs import vae as vae_core
from lab.ui.labs.common import LabPanel, plot_area
from lab.ui.theme import OKABE_ITO, SYMBOLS
from lab.ui.widgets.help import explain

MAP_POINTS = 2000
# Ten classes: the eight Okabe–Ito colours plus grey and wine, each with its own marker.
CLASS_COLORS = (*OKABE_ITO, "#999999", "#882255")
CLASS_SYMBOLS = (*SYMBOLS, "h", "t1")


class VaePanel(LabPanel):
    key = "vae"
    title = "VAE: a map you can decode"
    idea = (
        "A variational autoencoder squeezes each 28×28 picture of clothing into just two "
        "numbers: a point on this map. Its decoder turns any point back into a picture. Drag the "
        "white cross: similar garments sit near each other, and the places between them decode "
        "to blends. The grid shows what the whole map decodes to."
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.map = plot_area("The latent map (test images, by class)")
        self.map.setLabel("bottom", "latent 1")
        self.map.setLabel("left", "latent 2")
        self.cross = pg.TargetItem(
            pos=(0, 0),
            size=18,
            movable=True,
            pen=pg.mkPen("#000000", width=2),
            brush=pg.mkBrush("#FFFFFF"),
        )
        self.map.addItem(self.cross)
        self.decoded = pg.ImageView()
        self.decoded.ui.histogram.hide()
        self.decoded.ui.roiBtn.hide()
        self.decoded.ui.menuBtn.hide()
        self.decoded.setMinimumSize(160, 160)
        self.grid_view = pg.ImageView()
        self.grid_view.ui.histogram.hide()
        self.grid_view.ui.roiBtn.hide()
        self.grid_view.ui.menuBtn.hide()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(self.map, 0, 0, 2, 1)
        cross_label = QLabel("The picture at the cross")
        cross_label.setWordWrap(True)
        grid_label = QLabel("What the map decodes to, from -2.5 to 2.5 on each axis")
        grid_label.setWordWrap(True)
        grid.addWidget(cross_label, 0, 1)
        grid.addWidget(self.decoded, 1, 1)
        grid.addWidget(grid_label, 0, 2)
        grid.addWidget(self.grid_view, 1, 2)
        explain(
            self.map,
            "Latent map",
            "Each test image placed by the two numbers the encoder gives it, coloured by class. "
            "Drag the cross, or use the arrow keys (Shift for big steps), to decode any point "
            "of the map.",
        )
        self.map.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.map.installEventFilter(self)
        explain(
            self.decoded.ui.graphicsView,
            "Decoded picture",
            "The picture the decoder draws from the point under the cross.",
        )
        explain(
            self.grid_view.ui.graphicsView,
            "Decoded grid",
            "Pictures decoded from evenly spaced points of the map: see how they morph.",
        )
        layout = QVBoxLayout(self)
        for w in self.heading():
            layout.addWidget(w)
        layout.addLayout(grid, 1)
        layout.addWidget(self.caption)
        layout.addWidget(self.notice)
        self.model = None
        self.cross.sigPositionChanged.connect(lambda *_: self.decode_at(*self.cross.pos()))
        self.load()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        """Arrow keys move the cross: the map works without a mouse too."""
        if obj is self.map and event.type() == QEvent.Type.KeyPress:
            step = 0.5 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.1
            moves = {
                Qt.Key.Key_Left: (-step, 0),
                Qt.Key.Key_Right: (step, 0),
                Qt.Key.Key_Up: (0, step),
                Qt.Key.Key_Down: (0, -step),
            }
            if event.key() in moves:
                dx, dy = moves[event.key()]
                x, y = self.cross.pos()
                self.cross.setPos((x + dx, y + dy))
                return True
        return super().eventFilter(obj, event)

    def load(self) -> bool:
        try:
            self.model = vae_core.load_vae()
        except ValueError as exc:
            self.notice.show_message(str(exc), "error")
            return False
        mosaic = vae_core.decode_grid(self.model)
        self.grid_view.setImage(mosaic.T, levels=(0, 255))
        self._show_map()
        self.decode_at(0.0, 0.0)
        return True

    def _show_map(self) -> None:
        from lab.core.dataset import DatasetError
        from lab.core.diffusion.data import FASHION_CLASSES, load_fashion_mnist_raw

        try:
            images, labels = load_fashion_mnist_raw("test")
        except DatasetError as exc:
            self.caption.setText(f"The map of real images needs Fashion-MNIST. {exc}")
            return
        points = vae_core.encode_points(self.model, images[:MAP_POINTS])
        labels = labels[:MAP_POINTS]
        self.points, self.labels = points, labels
        for cls, name in enumerate(FASHION_CLASSES):
            pts = points[labels == cls]
            self.map.addItem(
                pg.ScatterPlotItem(
                    pts[:, 0],
                    pts[:, 1],
                    size=8,
                    symbol=CLASS_SYMBOLS[cls],
                    brush=pg.mkBrush(CLASS_COLORS[cls]),
                    pen=pg.mkPen("#000000", width=0.3),
                    name=name,
                )
            )
        self.map.addLegend(offset=(5, 5), labelTextSize="10pt")
        for item in self.map.getPlotItem().listDataItems():
            self.map.getPlotItem().legend.addItem(item, item.name())
        self.cross.setZValue(100)

    def decode_at(self, x: float, y: float) -> np.ndarray | None:
        if self.model is None:
            return None
        picture = vae_core.decode_points(self.model, np.array([[x, y]]))[0]
        self.decoded.setImage(picture.T, levels=(0, 255))
        self.last_picture = picture
        return picture
