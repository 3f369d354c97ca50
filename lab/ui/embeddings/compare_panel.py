"""Before vs after: the same images mapped with pretrained features and with the trained model."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lab.core.dataset import DatasetError
from lab.core.embeddings.image_embeddings import (
    EmbeddingSource,
    ImageEmbedder,
    embed_images,
    pretrained_source,
)
from lab.core.embeddings.projection import TSNESettings, project, separation_score
from lab.core.features import FeatureCache
from lab.core.workspace import Workspace
from lab.ui.embeddings.common import heading, note
from lab.ui.embeddings.scatter import ScatterMap
from lab.ui.widgets.help import explain
from lab.ui.widgets.notice import Notice
from lab.ui.worker import TaskRunner

SIDES = ("before", "after")


def compare_task(paths, labels, classes, sources, cache, method, stop):
    """Embed with both networks, score both, then project both (events say which side)."""
    results = {}
    for side, source in zip(SIDES, sources):
        yield {"kind": "stage", "stage": f"embedding ({side})", "side": side}
        emb = yield from embed_images(
            paths, labels, classes, ImageEmbedder(source), cache, stop=stop
        )
        if stop.requested:
            return None
        score = separation_score(emb.vectors, emb.labels)
        results[side] = (emb, score)
        yield {"kind": "embedded", "side": side, "embeddings": emb, "score": score}
    for side in SIDES:
        emb, _ = results[side]
        if len(emb.vectors) < 2:
            continue
        gen = project(emb.vectors, method, TSNESettings(), stop)
        while True:
            try:
                ev = next(gen)
            except StopIteration as done:
                yield {"kind": "layout", "side": side, "xy": done.value.xy, "final": True}
                break
            if ev.get("kind") == "layout":
                yield {**ev, "side": side}
        if stop.requested:
            break
    return {side: score for side, (_, score) in results.items()}


class ComparePanel(QWidget):
    status_message = Signal(str)
    compared = Signal(object)  # {"before": score, "after": score}

    def __init__(self, workspace: Workspace, cache: FeatureCache, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.cache = cache
        self.trained: EmbeddingSource | None = None
        self.pretrained_source = pretrained_source  # image size → the "before" source
        self.scores: dict[str, float] = {}
        self.embeddings: dict[str, object] = {}
        self._pending: dict[str, np.ndarray] = {}
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_result)
        self.runner.error.connect(lambda m: self.notice.show_message(m, "error"))
        self.runner.finished.connect(self._update_buttons)
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(33)
        self._redraw.timeout.connect(self._draw_pending)

        self.method_box = QComboBox()
        self.method_box.addItem("PCA (instant)", "pca")
        self.method_box.addItem("t-SNE", "tsne")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("primary")
        self.compare_button.setToolTip("Map the same images with both networks, side by side")
        self.compare_button.clicked.connect(self.compare)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.runner.stop)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.status = note()
        row = QHBoxLayout()
        map_label = QLabel("Map")
        map_label.setBuddy(self.method_box)
        row.addWidget(map_label)
        row.addWidget(self.method_box)
        row.addWidget(self.compare_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.progress)
        row.addWidget(self.status, 1)
        self.notice = Notice()
        self.maps = {side: ScatterMap(empty_text="Press Compare.") for side in SIDES}
        self.titles = {
            "before": heading("Before: pretrained features"),
            "after": heading("After: your trained model"),
        }
        self.score_labels = {side: QLabel("separation: –") for side in SIDES}
        for label in self.score_labels.values():
            label.setObjectName("result")
        explain(
            self.method_box,
            "Map method",
            "How the many numbers per image are squeezed onto a flat map: PCA is instant, "
            "t-SNE keeps close neighbours together.",
        )
        explain(self.compare_button, "Compare")
        explain(self.stop_button, "Stop", "Stop making the maps.")
        for side in SIDES:
            explain(
                self.maps[side],
                f"Map {side} training",
                "Your images placed by the pretrained network's features (before) or by your "
                "trained model's (after); better training pulls each class into its own group.",
            )
        sides = QHBoxLayout()
        for side in SIDES:
            col = QVBoxLayout()
            col.addWidget(self.titles[side])
            col.addWidget(self.score_labels[side])
            col.addWidget(self.maps[side], 1)
            sides.addLayout(col, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Before vs after: does training pull the classes apart?"))
        layout.addWidget(
            note(
                "Left: the pretrained network's features. Right: the penultimate layer of the "
                "classifier you trained. Separation is the silhouette score (cosine, in the full "
                "embedding space): from −1 to 1, higher means each image is closer to its own "
                "class than to the other classes."
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.notice)
        layout.addLayout(sides, 1)
        self._update_buttons()

    def set_trained_source(self, source: EmbeddingSource) -> None:
        self.trained = source
        self.notice.hide()
        if source.same_as_pretrained:
            self.notice.show_message(
                "This classifier was trained head only: its penultimate layer is the pretrained "
                "network's, unchanged, so both maps are the same. Train with 'Fine-tune the "
                "whole network' to see the classes pulled apart.",
                "info",
            )
        self._update_buttons()

    def compare(self) -> bool:
        if self.trained is None:
            self.notice.show_message(
                "Train a classifier in the Classifier tab first; then compare.", "info"
            )
            return False
        try:
            folder = self.workspace.as_image_folder()
        except DatasetError as exc:
            self.notice.show_message(str(exc), "warning")
            return False
        if len(set(s.label for s in folder.samples)) < 2:
            self.notice.show_message("Comparing needs images of at least two classes.", "warning")
            return False
        paths = [s.path for s in folder.samples]
        labels = [s.label for s in folder.samples]
        classes = list(folder.classes)
        sources = (self.pretrained_source(self.trained.image_size), self.trained)
        cache, method = self.cache, self.method_box.currentData()
        self.scores = {}
        for side in SIDES:
            self.maps[side].clear_map()
            self.score_labels[side].setText("separation: –")
        self.progress.setRange(0, 0)
        self.runner.start(
            lambda stop: compare_task(paths, labels, classes, sources, cache, method, stop)
        )
        self.status_message.emit("Comparing…")
        self._update_buttons()
        return True

    def _on_progress(self, ev: dict) -> None:
        kind = ev.get("kind")
        if kind == "stage":
            self.status.setText(f"{ev['stage'].capitalize()}…")
        elif kind == "features":
            self.progress.setRange(0, ev["total"])
            self.progress.setValue(ev["done"])
        elif kind == "embedded":
            side, emb = ev["side"], ev["embeddings"]
            self.embeddings[side] = emb
            self.scores[side] = ev["score"]
            self.maps[side].set_groups(emb.labels, emb.classes)
            self.score_labels[side].setText(f"separation (silhouette): {ev['score']:.3f}")
        elif kind == "layout":
            side = ev["side"]
            emb = self.embeddings.get(side)
            if emb is None or len(ev["xy"]) != len(emb.vectors):
                return
            if "total" in ev:
                self.progress.setRange(0, ev["total"])
                self.progress.setValue(ev["iteration"])
            self._pending[side] = ev["xy"]
            if ev.get("final"):
                self._draw_pending()
            elif not self._redraw.isActive():
                self._redraw.start()

    def _draw_pending(self) -> None:
        self._redraw.stop()
        for side, xy in self._pending.items():
            self.maps[side].set_positions(xy)
        self._pending = {}

    def _on_result(self, scores) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        if not scores or len(scores) < 2:
            self.status.setText("Stopped.")
            return
        b, a = scores["before"], scores["after"]
        verdict = (
            "Training pulled the classes apart."
            if a > b + 0.01
            else "Training did not separate the classes more in this space; the classifier "
            "can still tell them apart along the one direction its last layer uses."
        )
        self.status.setText(f"Separation {b:.3f} → {a:.3f}. {verdict}")
        self.compared.emit(dict(scores))

    def _update_buttons(self) -> None:
        running = self.runner.running
        self.compare_button.setEnabled(not running and self.trained is not None)
        self.compare_button.setToolTip(
            "Map the same images with both networks, side by side"
            if self.trained is not None
            else "Train a classifier in the Classifier tab first"
        )
        self.stop_button.setEnabled(running)
        if not running:
            self.status_message.emit("Ready")

    def shutdown(self) -> None:
        self._redraw.stop()
        self.runner.shutdown()
