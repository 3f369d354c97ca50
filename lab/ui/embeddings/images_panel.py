"""The image map: embeddings of the dataset's images, projected to 2D and explored."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from lab.core.dataset import DatasetError
from lab.core.embeddings.image_embeddings import (
    EmbeddingSource,
    ImageEmbedder,
    ImageEmbeddings,
    embed_images,
    pretrained_source,
)
from lab.core.embeddings.neighbours import nearest_neighbours
from lab.core.embeddings.projection import Layout, TSNESettings, place_new_point, project
from lab.core.features import FeatureCache
from lab.core.images import IMAGE_SUFFIXES
from lab.core.workspace import Workspace
from lab.ui.embeddings.common import ScoredList, heading, load_thumbnails, note
from lab.ui.embeddings.scatter import ScatterMap
from lab.ui.widgets.advanced import AdvancedSection
from lab.ui.widgets.column import ScrollColumn
from lab.ui.widgets.help import explain
from lab.ui.widgets.notice import Notice
from lab.ui.widgets.thumbnails import ThumbnailGrid, read_thumbnail
from lab.ui.worker import TaskRunner

REDRAW_MS = 50  # t-SNE frames: 20 a second is smooth, and leaves time for the rest
NEIGHBOURS = 8
PLACE_NEIGHBOURS = 5
COLOR_MODES = {"class": "Class", "prediction": "Prediction", "correct": "Correct or wrong"}
SELECT_MODES = {"pan": "Pan and zoom", "rect": "Rectangle", "lasso": "Lasso"}


def map_task(paths, labels, classes, embedder, cache, method, tsne, stop):
    """Embed the images, hand them over, then project them (one cancellable task)."""
    emb = yield from embed_images(paths, labels, classes, embedder, cache, stop)
    yield {"kind": "embedded", "embeddings": emb}
    if stop.requested or len(emb.vectors) < 2:
        return emb, None
    layout = yield from project(emb.vectors, method, tsne, stop)
    return emb, layout


def projection_task(emb: ImageEmbeddings, method, tsne, stop):
    layout = yield from project(emb.vectors, method, tsne, stop)
    return emb, layout


def drop_task(embedder: ImageEmbedder, path: Path, stop):
    yield {"kind": "stage", "stage": "embedding the new image"}
    started = time.perf_counter()
    vector = embedder.embed_file(path)
    return path, vector, time.perf_counter() - started


def warm_task(embedder: ImageEmbedder, stop):
    """Load the network now, so a dropped image is placed at once later."""
    embedder.network()
    return None
    yield  # a generator, as the runner expects


class ImageMapPanel(QWidget):
    status_message = Signal(str)
    map_ready = Signal()  # a finished layout is on the map
    placed = Signal(object)  # (xy, neighbour indices, exact) of a dropped image

    def __init__(self, workspace: Workspace, cache: FeatureCache, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.cache = cache
        self.sources: dict[str, EmbeddingSource] = {"pretrained": pretrained_source()}
        self.embedders: dict[str, ImageEmbedder] = {}
        self.embeddings: ImageEmbeddings | None = None
        self.layout_result: Layout | None = None
        self.probabilities: np.ndarray | None = None  # the classifier's, for self.embeddings
        self.thumb_images: dict[int, QImage] = {}
        self.last_drop_ms: float | None = None
        self._pending_xy: np.ndarray | None = None
        self._last_fit = 0.0
        self._drop_started = 0.0

        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(self._on_error)
        self.runner.finished.connect(self._update_buttons)
        self.thumb_runner = TaskRunner(self)
        self.thumb_runner.progress.connect(self._on_thumbs)
        self.drop_runner = TaskRunner(self)
        self.drop_runner.result.connect(self._on_dropped_embedded)
        self.drop_runner.error.connect(self._on_drop_error)
        self.predict_runner = TaskRunner(self)
        self.predict_runner.result.connect(self._on_predictions)
        self.predict_runner.error.connect(lambda m: self.notice.show_message(m, "error"))
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self._draw_pending)

        self._build()
        self._method_changed()
        self._update_buttons()

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        self.source_box = QComboBox()
        self.source_box.addItem(self.sources["pretrained"].label, "pretrained")
        self.source_box.setToolTip("Which network turns each image into numbers")
        self.method_box = QComboBox()
        self.method_box.addItem("PCA (instant)", "pca")
        self.method_box.addItem("t-SNE (clusters)", "tsne")
        self.method_box.setToolTip(
            "PCA: a straight projection, exact and instant. t-SNE: keeps neighbours together "
            "and shows clusters; it takes a few seconds and you can watch it work."
        )
        self.method_box.currentIndexChanged.connect(self._method_changed)
        self.perplexity = QSpinBox()
        self.perplexity.setRange(2, 100)
        self.perplexity.setValue(int(TSNESettings.perplexity))
        self.perplexity.setToolTip("Roughly how many neighbours each point pays attention to")
        self.iterations = QSpinBox()
        self.iterations.setRange(50, 5000)
        self.iterations.setSingleStep(50)
        self.iterations.setValue(TSNESettings.iterations)
        self.iterations.setToolTip("How many optimisation steps t-SNE takes")
        form = QFormLayout()
        form.addRow("Network", self.source_box)
        form.addRow("Map", self.method_box)
        # t-SNE's knobs fold away under "Advanced" in presentation mode.
        self.advanced = AdvancedSection("Advanced settings")
        advanced_form = QFormLayout()
        advanced_form.addRow("Perplexity", self.perplexity)
        advanced_form.addRow("Iterations", self.iterations)
        self.advanced.add_layout(advanced_form)

        self.compute_button = QPushButton("Compute map")
        self.compute_button.setObjectName("primary")
        self.compute_button.setToolTip("Embed the images in your collection and draw the map")
        self.compute_button.clicked.connect(self.compute)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop now (t-SNE keeps the map drawn so far)")
        self.stop_button.clicked.connect(self.runner.stop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compute_button)
        buttons.addWidget(self.stop_button)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = note("Press Compute map to see your images as points.")

        self.points_radio = QRadioButton("Points")
        self.thumbs_radio = QRadioButton("Pictures")
        self.points_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.points_radio)
        group.addButton(self.thumbs_radio)
        self.thumbs_radio.toggled.connect(self._show_thumbnails)
        show_row = QHBoxLayout()
        show_row.addWidget(self.points_radio)
        show_row.addWidget(self.thumbs_radio)
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(16, 96)
        self.size_slider.setValue(40)
        self.size_slider.setToolTip("Size of the pictures on the map")
        self.size_slider.valueChanged.connect(lambda v: self.map.set_thumbnail_size(v))
        self.color_box = QComboBox()
        for key, text in COLOR_MODES.items():
            self.color_box.addItem(text, key)
        self.color_box.setToolTip("Prediction and Correct or wrong need a trained classifier")
        self.color_box.currentIndexChanged.connect(self._recolor)
        self.select_box = QComboBox()
        for key, text in SELECT_MODES.items():
            self.select_box.addItem(text, key)
        self.select_box.setToolTip("Drag on the map to pan, or to select images")
        self.select_box.currentIndexChanged.connect(
            lambda: self.map.set_select_mode(self.select_box.currentData())
        )
        view_form = QFormLayout()
        view_form.addRow("Show", show_row)
        view_form.addRow("Picture size", self.size_slider)
        view_form.addRow("Colour by", self.color_box)
        view_form.addRow("Mouse drag", self.select_box)
        self.place_button = QPushButton("Place a new image…")
        self.place_button.setToolTip("Embed another picture and show where it lands (or drop it)")
        self.place_button.clicked.connect(self._ask_place)
        self.notice = Notice()

        controls = QWidget()
        c = QVBoxLayout(controls)
        c.addWidget(heading("Your images as points"))
        c.addWidget(
            note(
                "Each image becomes a list of numbers (an embedding). Similar images get "
                "similar numbers, so they land close together on the map."
            )
        )
        c.addLayout(form)
        c.addWidget(self.advanced)
        c.addLayout(buttons)
        c.addWidget(self.progress)
        c.addWidget(self.status)
        c.addWidget(heading("View"))
        c.addLayout(view_form)
        c.addWidget(self.place_button)
        c.addWidget(note("Or drop an image file on the map."))
        c.addWidget(self.notice)
        c.addStretch(1)

        self.map = ScatterMap(empty_text="Press Compute map to see your images here.")
        self.map.hovered.connect(self._on_hover)
        self.map.clicked.connect(self.show_neighbours)
        self.map.selected.connect(self.show_selection)
        self.map.files_dropped.connect(lambda paths: self.place_image(paths[0]))
        self.map_note = note()

        self.preview = QLabel()
        self.preview.setFixedSize(240, 240)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background:#f2f2f2; border:1px solid #cccccc;")
        self.preview_caption = note("Point at an image on the map to see it here.")
        self.neighbours_title = heading("Nearest neighbours")
        self.neighbours = ScoredList(64)
        self.selection_title = heading("Selected images")
        self.selection = ThumbnailGrid(72)
        explain(self.source_box, "Network")
        explain(self.method_box, "Map method")
        explain(self.perplexity, "Perplexity")
        explain(self.iterations, "Iterations")
        explain(self.compute_button, "Compute map")
        explain(self.stop_button, "Stop")
        explain(self.points_radio, "Show points", "Draw each image as a coloured dot.")
        explain(self.thumbs_radio, "Show pictures", "Draw each image as a small picture.")
        explain(self.size_slider, "Picture size")
        explain(self.color_box, "Colour by")
        explain(self.select_box, "Mouse drag")
        explain(self.place_button, "Place a new image")
        explain(
            self.map,
            "Image map",
            "Each image as a point: images the network finds similar land close together. "
            "Point at one to see it, click it to list its nearest neighbours. With the "
            "keyboard: arrow keys go from point to point, Enter lists the neighbours.",
        )
        explain(
            self.neighbours,
            "Nearest neighbours",
            "The images most similar to the one you clicked, closest first, with their similarity.",
        )
        explain(
            self.selection,
            "Selected images",
            "The images inside the area you dragged on the map.",
        )
        info = QWidget()
        i = QVBoxLayout(info)
        i.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        i.addWidget(self.preview_caption)
        i.addWidget(self.neighbours_title)
        i.addWidget(note("Click an image: the most similar ones in the full embedding space."))
        i.addWidget(self.neighbours, 2)
        i.addWidget(self.selection_title)
        i.addWidget(self.selection, 1)

        centre = QWidget()
        m = QVBoxLayout(centre)
        m.setContentsMargins(0, 0, 0, 0)
        m.addWidget(self.map, 1)
        m.addWidget(self.map_note)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        # Both side columns scroll rather than squeeze when the font is large.
        splitter.addWidget(ScrollColumn(controls, chars=26, max_chars=36))
        splitter.addWidget(centre)
        splitter.addWidget(ScrollColumn(info, chars=22, max_chars=30))
        splitter.setCollapsible(0, False)
        splitter.setCollapsible(2, False)
        splitter.setStretchFactor(1, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    # -- the trained classifier ----------------------------------------------------------
    def set_trained_source(self, source: EmbeddingSource) -> None:
        self.sources["trained"] = source
        self.embedders.pop("trained", None)
        i = self.source_box.findData("trained")
        if i < 0:
            self.source_box.addItem(source.label, "trained")
        self.probabilities = None
        if self.embeddings is not None:
            self._recolor()

    def embedder(self, key: str) -> ImageEmbedder:
        if key not in self.embedders:
            self.embedders[key] = ImageEmbedder(self.sources[key])
        return self.embedders[key]

    # -- computing ------------------------------------------------------------------------
    def tsne_settings(self) -> TSNESettings:
        return TSNESettings(perplexity=self.perplexity.value(), iterations=self.iterations.value())

    def compute(self) -> bool:
        try:
            folder = self.workspace.as_image_folder()
        except DatasetError as exc:
            self.notice.show_message(str(exc), "warning")
            return False
        if len(folder.samples) < 2:
            self.notice.show_message(
                "Add some images in the Classifier tab first (at least two): the map shows "
                "the images of your collection.",
                "warning",
            )
            return False
        key = self.source_box.currentData()
        embedder, cache = self.embedder(key), self.cache
        method, tsne = self.method_box.currentData(), self.tsne_settings()
        paths = [s.path for s in folder.samples]
        labels = [s.label for s in folder.samples]
        classes = list(folder.classes)
        self.notice.hide()
        self._clear_views()
        self.progress.setRange(0, 0)
        self.status.setText("Computing embeddings…")
        self.runner.start(
            lambda stop: map_task(paths, labels, classes, embedder, cache, method, tsne, stop)
        )
        self.status_message.emit("Computing embeddings…")
        self._update_buttons()
        return True

    def reproject(self) -> None:
        if self.embeddings is None or len(self.embeddings.vectors) < 2:
            return
        emb, method, tsne = self.embeddings, self.method_box.currentData(), self.tsne_settings()
        self.map.set_marker(None)
        self.map_note.setText("")
        self.progress.setRange(0, 0)
        self.runner.start(lambda stop: projection_task(emb, method, tsne, stop))
        self._update_buttons()

    def _method_changed(self) -> None:
        tsne = self.method_box.currentData() == "tsne"
        self.perplexity.setEnabled(tsne)
        self.iterations.setEnabled(tsne)
        if self.embeddings is not None and not self.runner.running:
            self.reproject()

    def _on_progress(self, ev: dict) -> None:
        kind = ev.get("kind")
        if kind == "features":
            self.progress.setRange(0, ev["total"])
            self.progress.setValue(ev["done"])
            self.status.setText(
                f"Embedding images: {ev['done']} of {ev['total']} "
                f"({ev['images_per_s']:.0f} images/s)"
            )
        elif kind == "embedded":
            self._set_embeddings(ev["embeddings"])
        elif kind == "stage" and ev.get("stage") == "neighbours":
            self.status.setText("t-SNE: finding each image's neighbours…")
        elif kind == "layout":
            if self.embeddings is None or len(ev["xy"]) != len(self.embeddings.vectors):
                return  # a layout of other images: not for this map
            self.progress.setRange(0, ev["total"])
            self.progress.setValue(ev["iteration"])
            if ev["method"] == "tsne":
                self.status.setText(f"t-SNE: step {ev['iteration']} of {ev['total']}")
            self._pending_xy = ev["xy"]
            if not self._redraw.isActive():
                self._redraw.start()

    def _draw_pending(self) -> None:
        if self._pending_xy is not None:
            # Follow the map while it spreads out, but re-fit the view only a few times a
            # second: the user sees it grow without the picture jumping on every frame.
            now = time.perf_counter()
            refit = len(self.map.xy) != len(self._pending_xy) or now - self._last_fit > 0.4
            self.map.set_positions(self._pending_xy, autorange=refit)
            if refit:
                self._last_fit = now
            self._pending_xy = None

    def _on_result(self, value) -> None:
        emb, layout = value
        if emb is not self.embeddings:
            self._set_embeddings(emb)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        if layout is None:
            self.status.setText("Stopped before the map was drawn.")
            return
        self.layout_result = layout
        self._pending_xy = None
        self._redraw.stop()
        self.map.set_positions(layout.xy, autorange=True)
        self.map.set_axes(
            ("principal component 1", "principal component 2") if layout.pca else None
        )
        name = "PCA" if layout.method == "pca" else "t-SNE"
        stopped = " (stopped early)" if layout.stopped else ""
        extra = ""
        if layout.pca is not None:
            share = float(layout.pca.explained_variance_ratio[:2].sum())
            extra = f" The two axes keep {share:.0%} of the spread."
        self.status.setText(f"{name} map of {len(layout.xy)} images{stopped}.{extra}")
        self.status_message.emit("Ready")
        self.map_ready.emit()
        if not self.drop_runner.running:
            # Load the network now (a cached map never needed it), so a drop is placed at once.
            embedder = self.embedder(emb.source_key)
            self.drop_runner.start(lambda stop: warm_task(embedder, stop))

    def _on_error(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText("The map could not be made.")
        self.notice.show_message(message, "error")
        self.status_message.emit("Ready")

    def _set_embeddings(self, emb: ImageEmbeddings) -> None:
        self.embeddings = emb
        self.layout_result = None
        self.probabilities = emb.probabilities
        trained = self.sources.get("trained")
        if (
            self.probabilities is None
            and trained is not None
            and trained.same_as_pretrained
            and trained.image_size == self.sources["pretrained"].image_size
            and emb.source_key == "pretrained"
        ):
            # A head-only classifier sees exactly these features: predict from them directly.
            self.probabilities = trained.probabilities(emb.vectors)
        if emb.skipped and not emb.stopped:
            names = "\n".join(f"  • {n}: {why}" for n, why in emb.skipped[:10])
            more = f"\n  … and {len(emb.skipped) - 10} more" if len(emb.skipped) > 10 else ""
            self.notice.show_message(
                f"Left out {len(emb.skipped)} image(s) that could not be read:\n{names}{more}",
                "warning",
            )
        self.map.clear_map()
        self._recolor()
        self.thumb_images = {}
        # ~37 KB a picture at 96 px: smaller ones for big collections keep memory in check.
        size = 96 if len(emb.paths) <= 3000 else 48
        paths = list(emb.paths)
        self.thumb_runner.start(lambda stop: load_thumbnails(paths, size, stop))

    def _clear_views(self) -> None:
        self.embeddings = None
        self.layout_result = None
        self.map.clear_map()
        self.map_note.setText("")
        self.neighbours.clear()
        self.selection.thumbnails.set_paths([])

    def _on_thumbs(self, batch) -> None:
        for i, image in batch:
            self.thumb_images[i] = image
            self.map.thumbs.set_image(i, image)

    # -- colouring ------------------------------------------------------------------------
    def _recolor(self) -> None:
        emb = self.embeddings
        if emb is None:
            return
        mode = self.color_box.currentData()
        if mode != "class" and self.probabilities is None:
            if "trained" not in self.sources:
                self.notice.show_message(
                    "Colouring by prediction needs a trained classifier: train one in the "
                    "Classifier tab first.",
                    "info",
                )
                self.color_box.setCurrentIndex(0)
                return
            self._compute_predictions()
        classes = emb.classes
        if mode == "class" or self.probabilities is None:
            self.map.set_groups(emb.labels, classes)
            return
        pred_names = self.sources["trained"].head_classes
        predicted = self.probabilities.argmax(axis=1)
        if mode == "prediction":
            self.map.set_groups(predicted, pred_names, emb.labels, classes)
        else:
            truth = [classes[i] for i in emb.labels]
            wrong = np.array([pred_names[p] != t for p, t in zip(predicted, truth)], dtype=int)
            self.map.set_groups(wrong, ["correct", "wrong"], emb.labels, classes)

    def _compute_predictions(self) -> None:
        """The classifier's predictions for the images on the map (needs its embeddings)."""
        emb, cache = self.embeddings, self.cache
        embedder = self.embedder("trained")
        self.status.setText("Asking your classifier for its predictions…")

        def task(stop):
            trained = yield from embed_images(
                emb.paths, emb.labels, emb.classes, embedder, cache, stop
            )
            return emb, trained

        self.predict_runner.start(task)

    def _on_predictions(self, value) -> None:
        emb, trained = value
        if emb is not self.embeddings or trained.probabilities is None:
            return
        if len(trained.paths) != len(emb.paths):
            self.notice.show_message("Some images could not be read by the classifier.", "warning")
            return
        self.probabilities = trained.probabilities
        self.status.setText("Coloured by your classifier's predictions.")
        self._recolor()

    # -- looking around -------------------------------------------------------------------
    def _caption(self, i: int) -> str:
        emb = self.embeddings
        text = f"{emb.paths[i].name} — class: {emb.classes[emb.labels[i]]}"
        if self.probabilities is not None and "trained" in self.sources:
            names = self.sources["trained"].head_classes
            p = self.probabilities[i]
            text += f"\npredicted: {names[int(p.argmax())]} ({p.max():.0%})"
        return text

    def _on_hover(self, i: int) -> None:
        if self.embeddings is None or i < 0 or i >= len(self.embeddings.paths):
            return
        image = read_thumbnail(self.embeddings.paths[i], 240)
        self.preview.setPixmap(QPixmap.fromImage(image) if not image.isNull() else QPixmap())
        self.preview_caption.setText(self._caption(i))

    def show_neighbours(self, i: int) -> list[int]:
        """List the k images most similar to image i (cosine, full embedding space)."""
        emb = self.embeddings
        if emb is None or not 0 <= i < len(emb.vectors):
            return []
        idx, scores = nearest_neighbours(emb.vectors[i], emb.vectors, NEIGHBOURS, exclude=i)
        self.neighbours_title.setText(f"Nearest neighbours of {emb.paths[i].name}")
        self._list_neighbours(idx, scores)
        self.map.set_highlight([i, *idx.tolist()])
        self._on_hover(i)
        return idx.tolist()

    def _list_neighbours(self, idx: np.ndarray, scores: np.ndarray) -> None:
        emb = self.embeddings
        rows = []
        for j, s in zip(idx.tolist(), scores.tolist()):
            image = self.thumb_images.get(j) or read_thumbnail(emb.paths[j], 64)
            rows.append((f"{emb.paths[j].name} ({emb.classes[emb.labels[j]]})", s, image))
        self.neighbours.show_items(rows)

    def show_selection(self, indices: list[int]) -> None:
        emb = self.embeddings
        if emb is None:
            return
        paths = [emb.paths[i] for i in indices]
        self.selection.thumbnails.set_paths(paths)
        counts: dict[str, int] = {}
        for i in indices:
            name = emb.classes[emb.labels[i]]
            counts[name] = counts.get(name, 0) + 1
        summary = ", ".join(f"{n} {c}" for c, n in counts.items())
        self.selection_title.setText(
            f"Selected images: {len(paths)}" + (f" ({summary})" if summary else "")
        )
        self.map.set_highlight(indices)

    # -- a new image ----------------------------------------------------------------------
    def _ask_place(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Place a new image", "", f"Images ({patterns})")
        if path:
            self.place_image(Path(path))

    def place_image(self, path: Path) -> bool:
        if self.embeddings is None or self.layout_result is None:
            self.notice.show_message("Compute a map first, then drop an image on it.", "info")
            return False
        self._drop_started = time.perf_counter()
        embedder = self.embedder(self.embeddings.source_key)
        self.map_note.setText(f"Embedding {Path(path).name}…")
        self.drop_runner.start(lambda stop: drop_task(embedder, Path(path), stop))
        return True

    def _on_dropped_embedded(self, value) -> None:
        if value is None or self.embeddings is None or self.layout_result is None:
            return
        path, vector, _ = value
        emb, layout = self.embeddings, self.layout_result
        xy, idx, scores, exact = place_new_point(layout, emb.vectors, vector, PLACE_NEIGHBOURS)
        self.map.set_marker(xy)
        self.map.set_highlight(idx.tolist())
        self.neighbours_title.setText(f"Nearest neighbours of {path.name} (the star)")
        self._list_neighbours(idx, scores)
        how = (
            "placed exactly, with the same PCA formula as every other image."
            if exact
            else f"placed between its {len(idx)} nearest neighbours: t-SNE has no formula for "
            "new points, so this position is an estimate."
        )
        self.map_note.setText(f"★ {path.name} is {how}")
        self.last_drop_ms = (time.perf_counter() - self._drop_started) * 1000.0
        self.placed.emit((xy, idx.tolist(), exact))

    def _on_drop_error(self, message: str) -> None:
        self.map_note.setText("")
        self.notice.show_message(message, "error")

    # -- state ----------------------------------------------------------------------------
    def _show_thumbnails(self, on: bool) -> None:
        self.map.set_thumbnails_on(on)
        self.map.set_thumbnail_size(self.size_slider.value())

    def _update_buttons(self) -> None:
        running = self.runner.running
        self.compute_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.source_box.setEnabled(not running)
        if not running:
            self.status_message.emit("Ready")

    def shutdown(self) -> None:
        self._redraw.stop()
        for runner in (self.runner, self.thumb_runner, self.drop_runner, self.predict_runner):
            runner.shutdown()
        self.selection.thumbnails.shutdown()
