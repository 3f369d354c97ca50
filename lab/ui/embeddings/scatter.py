"""A 2D map of points or image thumbnails: colour and shape per group, hover, click, select.

Thumbnails are drawn by one item (ThumbnailLayer) that paints only those inside the view, at a
fixed size on screen, straight from prepared pixmaps: pan and zoom stay smooth with thousands
of them, where one pixmap symbol per point in a ScatterPlotItem is several times slower.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
    QTransform,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from lab.ui.theme import OKABE_ITO, SYMBOLS

POINT_SIZE = 11
HOVER_RADIUS_PX = 9
TILES_PER_PAINT = 60  # new tiles made in one paint (~0.2 ms each); the rest follow


def group_color(i: int) -> QColor:
    return QColor(OKABE_ITO[i % len(OKABE_ITO)])


def group_symbol(i: int) -> str:
    return SYMBOLS[i % len(SYMBOLS)]


class MapViewBox(pg.ViewBox):
    """Pans and zooms, or draws a rectangle or lasso when a selection mode is on."""

    selection_made = Signal(object)  # QPolygonF in data coordinates

    def __init__(self) -> None:
        super().__init__()
        self.mode = "pan"  # "pan", "rect" or "lasso"
        self._drag: list[QPointF] = []
        self._outline = QGraphicsPathItem()
        pen = QPen(QColor("#222222"), 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._outline.setPen(pen)
        self._outline.setBrush(QColor(0, 114, 178, 40))
        self._outline.setZValue(1000)
        self._outline.hide()
        self.addItem(self._outline, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None) -> None:
        if self.mode == "pan" or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        pos = self.mapToView(ev.pos())
        if ev.isStart():
            self._drag = [self.mapToView(ev.buttonDownPos()), pos]
        else:
            self._drag.append(pos)
        polygon = self._polygon()
        path = QPainterPath()
        path.addPolygon(polygon)
        path.closeSubpath()
        self._outline.setPath(path)
        self._outline.show()
        if ev.isFinish():
            self._outline.hide()
            self._drag = []
            self.selection_made.emit(polygon)

    def _polygon(self) -> QPolygonF:
        if self.mode == "rect":
            a, b = self._drag[0], self._drag[-1]
            return QPolygonF(QRectF(a, b).normalized())
        return QPolygonF(self._drag)


class ThumbnailLayer(pg.GraphicsObject):
    """Image thumbnails at data positions, a fixed number of pixels wide whatever the zoom.

    Each thumbnail is drawn once into a "tile" with its frame colour and group shape, so a
    frame costs one drawPixmap per visible point and nothing is scaled while panning or
    zooming; points outside the view (or outside the part being repainted) are skipped.
    """

    def __init__(self) -> None:
        super().__init__()
        self.xy = np.zeros((0, 2))
        self.images: dict[int, QImage] = {}  # kept when the positions change
        self.colors: list[QColor] = []
        self.shapes: np.ndarray = np.zeros(0, dtype=np.int64)
        self.size = 40
        self._tiles: list[QPixmap | None] = []
        self._placeholders: dict[tuple[int, int], QPixmap] = {}
        self._bounds = QRectF()
        self._pixel = (0.0, 0.0)
        self._budget = 0
        self._unfinished = False
        # exposedRect tells paint() which strip a pan uncovered; only that strip is drawn.
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.paints = 0  # tiles drawn, for the benchmark

    def set_points(self, xy: np.ndarray, colors: list[QColor], shapes: np.ndarray) -> None:
        self.prepareGeometryChange()
        self.xy = np.asarray(xy, dtype=float)
        shapes = np.asarray(shapes, dtype=np.int64)
        rgba = [c.rgba() for c in colors]
        if rgba != [c.rgba() for c in self.colors] or not np.array_equal(shapes, self.shapes):
            self._tiles = [None] * len(self.xy)  # only new colours or shapes need new tiles
        self.colors = colors
        self.shapes = shapes
        if len(self.xy):
            lo, hi = self.xy.min(axis=0), self.xy.max(axis=0)
            self._bounds = QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        else:
            self._bounds = QRectF()
        self.informViewBoundsChanged()
        self.update()

    def set_image(self, index: int, image: QImage) -> None:
        self.images[index] = image
        if index < len(self._tiles):
            self._tiles[index] = None
            self.update()

    def clear_images(self) -> None:
        self.images = {}
        self._tiles = [None] * len(self.xy)
        self.update()

    def has_image(self, index: int) -> bool:
        return index in self.images

    def set_size(self, size: int) -> None:
        self.prepareGeometryChange()
        self.size = int(size)
        self._tiles = [None] * len(self.xy)
        self._placeholders.clear()
        self.update()

    def _tile(self, i: int) -> QPixmap:
        tile = self._tiles[i]
        if tile is not None:
            return tile
        image = self.images.get(i)
        if image is not None and self._budget > 0:
            self._budget -= 1
            tile = make_tile(image, self.size, self.colors[i], int(self.shapes[i]))
            self._tiles[i] = tile
            return tile
        if image is not None:
            self._unfinished = True
        key = (self.colors[i].rgba(), int(self.shapes[i]))
        if key not in self._placeholders:
            self._placeholders[key] = make_tile(None, self.size, self.colors[i], key[1])
        return self._placeholders[key]

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        if not len(self.xy):
            return None
        col = self.xy[:, ax]
        return float(col.min()), float(col.max())

    def pixelPadding(self) -> float:
        return self.size / 2 + 3

    def boundingRect(self) -> QRectF:
        if not len(self.xy):
            return QRectF()
        # Half a thumbnail beyond the outermost points, in data units at the current zoom.
        pw, ph = self._pixel
        pad = self.pixelPadding()
        return self._bounds.adjusted(-pad * pw, -pad * ph, pad * pw, pad * ph)

    def viewTransformChanged(self) -> None:
        pixel = (self.pixelWidth() or 0.0, self.pixelHeight() or 0.0)
        if not np.allclose(pixel, self._pixel, rtol=1e-6, atol=0):
            self.prepareGeometryChange()  # only a zoom changes the padding, not a pan
            self._pixel = pixel

    def visible_indices(self, view: QRectF | None = None) -> np.ndarray:
        """Points whose thumbnails touch a rectangle (default: the view), in drawing order."""
        if not len(self.xy):
            return np.zeros(0, dtype=np.int64)
        view = view if view is not None else self.viewRect()
        if view is None:
            return np.arange(len(self.xy))
        pw, ph = self.pixelWidth() or 0.0, self.pixelHeight() or 0.0
        pad = self.pixelPadding()
        x, y = self.xy[:, 0], self.xy[:, 1]
        inside = (
            (x >= view.left() - pad * pw)
            & (x <= view.right() + pad * pw)
            & (y >= view.top() - pad * ph)
            & (y <= view.bottom() + pad * ph)
        )
        return np.flatnonzero(inside)

    def paint(self, painter, option, widget=None) -> None:
        exposed = option.exposedRect if option is not None else None
        view = self.viewRect()
        if exposed is not None and not exposed.isEmpty() and view is not None:
            view = view.intersected(exposed)
        idx = self.visible_indices(view)
        self.paints += len(idx)
        if not len(idx):
            return
        t = painter.transform()
        x, y = self.xy[idx, 0], self.xy[idx, 1]
        px = t.m11() * x + t.m21() * y + t.dx()
        py = t.m12() * x + t.m22() * y + t.dy()
        half = self.size / 2
        left = np.round(px - half).astype(int).tolist()
        top = np.round(py - half).astype(int).tolist()
        painter.save()
        painter.setTransform(QTransform())  # draw in screen pixels: no scaling per frame
        tile = self._tile
        draw = painter.drawPixmap
        # Making tiles is the slow part: a few hundred per frame keeps every frame short.
        self._budget, self._unfinished = TILES_PER_PAINT, False
        for k, i in enumerate(idx.tolist()):
            draw(left[k], top[k], tile(i))
        painter.restore()
        if self._unfinished:
            QTimer.singleShot(15, self, self.update)


def make_tile(image: QImage | None, size: int, color: QColor, shape: int) -> QPixmap:
    """A thumbnail with a frame in its group's colour and its group's shape in a corner."""
    tile = QPixmap(size, size)
    tile.fill(color)
    painter = QPainter(tile)
    border = 3 if size >= 24 else 2
    inner = QRectF(border, border, size - 2 * border, size - 2 * border)
    if image is None:
        painter.fillRect(inner, QColor("#dcdcdc"))
    else:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(inner, image, _centre_square(image))
    if size >= 24:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        badge = max(8.0, size / 4)
        painter.translate(size - badge / 2 - border - 1, badge / 2 + border + 1)
        painter.scale(badge, badge)
        painter.setPen(QPen(QColor("white"), 0.12))
        painter.setBrush(color)
        painter.drawPath(Symbols[group_symbol(shape)])
    painter.end()
    return tile


def _centre_square(image: QImage) -> QRectF:
    w, h = image.width(), image.height()
    side = min(w, h)
    return QRectF((w - side) / 2, (h - side) / 2, side, side)


class ScatterMap(pg.PlotWidget):
    """Points (or thumbnails) grouped for colour and shape, with a legend.

    Signals give point indices: hovered (-1 when none), clicked, selected (a list), and
    files_dropped for image files dropped on the map.
    """

    hovered = Signal(int)
    clicked = Signal(int)
    selected = Signal(object)
    files_dropped = Signal(object)

    def __init__(self, title: str = "", empty_text: str = "", parent=None) -> None:
        self.view_box = MapViewBox()
        super().__init__(parent=parent, viewBox=self.view_box)
        if title:
            self.setTitle(title, size="13pt")
        self.setAspectLocked(False)
        for axis in ("bottom", "left"):
            self.getAxis(axis).enableAutoSIPrefix(False)
        self.set_axes(None)
        self.empty_label = pg.TextItem(empty_text, color="#666666", anchor=(0.5, 0.5))
        font = self.empty_label.textItem.font()
        font.setPointSize(13)
        self.empty_label.setFont(font)
        self.empty_label.setPos(0.5, 0.5)
        self.addItem(self.empty_label, ignoreBounds=True)
        self.legend = self.addLegend(offset=(-10, 10), labelTextSize="11pt")
        self.xy = np.zeros((0, 2))
        self.color_groups = np.zeros(0, dtype=np.int64)
        self.shape_groups = np.zeros(0, dtype=np.int64)
        self.color_names: list[str] = []
        self.shape_names: list[str] = []
        self.thumbnails_on = False
        self._point_items: list[pg.ScatterPlotItem] = []
        self._pairs: list[tuple[int, int]] = []
        self._labels: list[pg.TextItem] = []
        self.thumbs = ThumbnailLayer()
        self.thumbs.hide()
        self.addItem(self.thumbs)
        self.highlight = pg.ScatterPlotItem(
            pen=pg.mkPen("#000000", width=2.5), brush=None, symbol="o", size=20, pxMode=True
        )
        self.highlight.setZValue(50)
        self.addItem(self.highlight)
        self.marker = pg.ScatterPlotItem(
            pen=pg.mkPen("#000000", width=1.5),
            brush=pg.mkBrush("#F0E442"),
            symbol="star",
            size=30,
            pxMode=True,
        )
        self.marker.setZValue(60)
        self.addItem(self.marker)
        self.view_box.selection_made.connect(self._on_selection)
        self._hover_proxy = pg.SignalProxy(
            self.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved
        )
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._hover = -1
        self.setAcceptDrops(True)

    # -- data ---------------------------------------------------------------------------
    def set_groups(
        self,
        color_groups: np.ndarray,
        color_names: list[str],
        shape_groups: np.ndarray | None = None,
        shape_names: list[str] | None = None,
    ) -> None:
        """Which colour and shape each point gets (shape defaults to the colour group)."""
        self.color_groups = np.asarray(color_groups, dtype=np.int64)
        self.color_names = list(color_names)
        self.shape_groups = np.asarray(
            self.color_groups if shape_groups is None else shape_groups, dtype=np.int64
        )
        self.shape_names = list(color_names if shape_names is None else shape_names)
        self._rebuild_points()
        self._rebuild_legend()

    def set_axes(self, names: tuple[str, str] | None) -> None:
        """Name the axes, or hide them where the coordinates mean nothing (t-SNE)."""
        for axis, name in zip(("bottom", "left"), names or ("", "")):
            self.setLabel(axis, name)  # (setLabel also shows the axis)
            self.showAxis(axis, names is not None)

    def set_frozen(self, frozen: bool) -> None:
        """Freeze plots (View menu): a live t-SNE goes on, the map waits; catch up after."""
        self.frozen = bool(frozen)
        if not frozen and getattr(self, "_held", None) is not None:
            held, self._held = self._held, None
            self.set_positions(*held)

    def set_positions(self, xy: np.ndarray, autorange: bool = True) -> None:
        if getattr(self, "frozen", False) and len(xy) == len(self.xy):
            self._held = (xy, autorange)  # a live t-SNE step: wait (a new map still shows)
            return
        self._held = None
        self.xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        self.empty_label.setVisible(not len(self.xy))
        self._rebuild_points()
        for item, pos in zip(self._labels, xy):
            item.setPos(float(pos[0]), float(pos[1]))
        if autorange:
            self.view_box.autoRange(padding=0.06)

    def clear_map(self) -> None:
        self.xy = np.zeros((0, 2))
        self.color_groups = np.zeros(0, dtype=np.int64)
        self.shape_groups = np.zeros(0, dtype=np.int64)
        self.empty_label.setVisible(True)
        self.empty_label.setPos(*self.view_box.viewRect().center().toTuple())
        self.set_axes(None)
        self.set_labels([])
        self.thumbs.clear_images()
        self.highlight.setData([], [])
        self.marker.setData([], [])
        self._rebuild_points()
        self._rebuild_legend()

    def set_labels(self, texts: list[str]) -> None:
        """Text beside each point (the words map)."""
        for item in self._labels:
            self.removeItem(item)
        self._labels = []
        for text, pos in zip(texts, self.xy):
            item = pg.TextItem(text, color="#111111", anchor=(0.5, 1.25))
            font = item.textItem.font()
            font.setPointSize(12)
            item.setFont(font)
            item.setPos(float(pos[0]), float(pos[1]))
            self.addItem(item)
            self._labels.append(item)

    def set_thumbnails_on(self, on: bool) -> None:
        self.thumbnails_on = on
        self._rebuild_points()

    def set_thumbnail_size(self, size: int) -> None:
        self.thumbs.set_size(size)
        self._show_highlight_shape()

    def set_highlight(self, indices) -> None:
        idx = [i for i in indices if 0 <= i < len(self.xy)]
        pts = self.xy[idx] if idx else np.zeros((0, 2))
        self.highlight.setData(pts[:, 0], pts[:, 1])
        self._show_highlight_shape()

    def set_marker(self, xy: np.ndarray | None) -> None:
        if xy is None:
            self.marker.setData([], [])
        else:
            self.marker.setData([float(xy[0])], [float(xy[1])])

    def marker_position(self) -> tuple[float, float] | None:
        x, y = self.marker.getData()
        return (float(x[0]), float(y[0])) if len(x) else None

    def _show_highlight_shape(self) -> None:
        if self.thumbnails_on:
            self.highlight.setSymbol("s")
            self.highlight.setSize(self.thumbs.size + 10)
        else:
            self.highlight.setSymbol("o")
            self.highlight.setSize(20)

    def _rebuild_points(self) -> None:
        if len(self.color_groups) != len(self.xy) or len(self.shape_groups) != len(self.xy):
            self._drop_point_items()
            self.thumbs.set_points(np.zeros((0, 2)), [], np.zeros(0))
            return  # groups and positions of different point sets: wait for the other half
        if self.thumbnails_on:
            self._drop_point_items()
            colors = [group_color(int(c)) for c in self.color_groups]
            self.thumbs.set_points(self.xy, colors, self.shape_groups)
            self.thumbs.show()
        else:
            self.thumbs.hide()
            pairs = sorted(set(zip(self.color_groups.tolist(), self.shape_groups.tolist())))
            if pairs != self._pairs:  # new groups: new items; otherwise only move the points
                self._drop_point_items()
                for c, s in pairs:
                    item = pg.ScatterPlotItem(
                        symbol=group_symbol(s),
                        size=POINT_SIZE,
                        brush=pg.mkBrush(group_color(c)),
                        pen=pg.mkPen("#ffffff", width=0.8),
                        pxMode=True,
                    )
                    self.addItem(item)
                    self._point_items.append(item)
                self._pairs = pairs
            for (c, s), item in zip(pairs, self._point_items):
                sel = (self.color_groups == c) & (self.shape_groups == s)
                item.setData(x=self.xy[sel, 0], y=self.xy[sel, 1])
        self._show_highlight_shape()

    def _drop_point_items(self) -> None:
        for item in self._point_items:
            self.removeItem(item)
        self._point_items = []
        self._pairs = []

    def _rebuild_legend(self) -> None:
        self.legend.clear()
        same = np.array_equal(self.color_groups, self.shape_groups) and (
            self.color_names == self.shape_names
        )
        used_c = sorted(set(self.color_groups.tolist()))
        used_s = sorted(set(self.shape_groups.tolist()))
        for c in used_c:
            name = self.color_names[c] if c < len(self.color_names) else str(c)
            sample = pg.ScatterPlotItem(
                symbol=group_symbol(c) if same else "o",
                size=POINT_SIZE,
                brush=pg.mkBrush(group_color(c)),
                pen=pg.mkPen("#ffffff"),
            )
            self.legend.addItem(sample, name)
        if not same:
            for s in used_s:
                name = self.shape_names[s] if s < len(self.shape_names) else str(s)
                sample = pg.ScatterPlotItem(
                    symbol=group_symbol(s), size=POINT_SIZE, brush=pg.mkBrush("#888888")
                )
                self.legend.addItem(sample, f"shape: {name}")

    # -- interaction --------------------------------------------------------------------
    def set_select_mode(self, mode: str) -> None:
        self.view_box.mode = mode

    def point_at(self, scene_pos) -> int:
        """The point drawn under a scene position, or -1."""
        if not len(self.xy) or not self.view_box.sceneBoundingRect().contains(scene_pos):
            return -1
        pos = self.view_box.mapSceneToView(scene_pos)
        pw, ph = self.view_box.viewPixelSize()
        if pw <= 0 or ph <= 0:
            return -1
        dx = (self.xy[:, 0] - pos.x()) / pw
        dy = (self.xy[:, 1] - pos.y()) / ph
        if self.thumbnails_on:
            half = self.thumbs.size / 2
            inside = np.flatnonzero((np.abs(dx) <= half) & (np.abs(dy) <= half))
            return int(inside[-1]) if len(inside) else -1  # the one drawn on top
        d2 = dx * dx + dy * dy
        best = int(np.argmin(d2))
        return best if d2[best] <= HOVER_RADIUS_PX**2 else -1

    def _on_mouse_moved(self, args) -> None:
        index = self.point_at(args[0])
        if index != self._hover:
            self._hover = index
            self.hovered.emit(index)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(ev)
        if getattr(self, "empty_label", None) is None:
            return  # still being built
        # The empty-map message wraps inside the plot instead of running off both sides.
        self.empty_label.textItem.setTextWidth(max(120, int(self.width() * 0.8)))
        option = self.empty_label.textItem.document().defaultTextOption()
        option.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.textItem.document().setDefaultTextOption(option)
        self.empty_label.updateTextPos()

    # -- the keyboard: arrow keys walk from point to point, Enter clicks the current one ------
    _ARROWS = {
        Qt.Key.Key_Left: (-1.0, 0.0),
        Qt.Key.Key_Right: (1.0, 0.0),
        Qt.Key.Key_Up: (0.0, 1.0),
        Qt.Key.Key_Down: (0.0, -1.0),
    }

    def step_from(self, index: int, direction: tuple[float, float]) -> int:
        """The nearest point on screen in that direction from point index (or the point
        nearest the middle when there is none yet); index itself when nothing lies that way."""
        if not len(self.xy):
            return -1
        pw, ph = self.view_box.viewPixelSize()
        scale = np.array([pw or 1.0, ph or 1.0])
        on_screen = self.xy / scale
        if index < 0 or index >= len(self.xy):
            (x0, x1), (y0, y1) = self.view_box.viewRange()
            middle = np.array([(x0 + x1) / 2, (y0 + y1) / 2]) / scale
            return int(np.argmin(((on_screen - middle) ** 2).sum(1)))
        delta = on_screen - on_screen[index]
        along = delta @ np.asarray(direction)
        across = np.abs(delta @ np.array([-direction[1], direction[0]]))
        ahead = along > 1e-9
        if not ahead.any():
            return index
        cost = np.where(ahead, along + 2.0 * across, np.inf)  # prefer points straight ahead
        return int(np.argmin(cost))

    def keyPressEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        key = ev.key()
        if key in self._ARROWS and len(self.xy):
            self._hover = self.step_from(self._hover, self._ARROWS[key])
            self.hovered.emit(self._hover)
            self.set_highlight([self._hover])
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self._hover >= 0:
            self.clicked.emit(self._hover)
            return
        super().keyPressEvent(ev)

    def _on_mouse_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        index = self.point_at(ev.scenePos())
        if index >= 0:
            self.clicked.emit(index)

    def _on_selection(self, polygon: QPolygonF) -> None:
        from lab.core.embeddings.projection import points_in_polygon

        poly = np.array([[p.x(), p.y()] for p in polygon])
        self.selected.emit(np.flatnonzero(points_in_polygon(self.xy, poly)).tolist())

    # -- dropping files -----------------------------------------------------------------
    def dragEnterEvent(self, ev) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()
        else:
            super().dragEnterEvent(ev)

    def dragMoveEvent(self, ev) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()
        else:
            super().dragMoveEvent(ev)

    def dropEvent(self, ev) -> None:
        urls = [u for u in ev.mimeData().urls() if u.isLocalFile()]
        if urls:
            ev.acceptProposedAction()
            self.files_dropped.emit([Path(u.toLocalFile()) for u in urls])
        else:
            super().dropEvent(ev)
