"""Unsupervised vs supervised: k-means groups the images without seeing a single label."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from lab.core import paths as lab_paths
from lab.core.features import FeatureCache
from lab.core.labs.clustering import cluster, image_features
from lab.core.workspace import Workspace
from lab.ui.labs.common import LabPanel, plot_area
from lab.ui.theme import OKABE_ITO, SYMBOLS
from lab.ui.widgets.help import explain


class ClusteringPanel(LabPanel):
    key = "clustering"
    title = "Unsupervised: groups without labels"
    idea = (
        "Supervised learning needs a label on every image. Unsupervised learning gets none: "
        "k-means just puts the pretrained network's feature vectors of your images into k groups "
        "of look-alikes. Then we peek at the labels to see how well the groups match the classes. "
        "Colour = the group k-means found; shape = the true class."
    )

    def __init__(self, workspace: Workspace | None = None, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.k_box = QSpinBox()
        self.k_box.setRange(2, 8)
        self.k_box.setValue(2)
        self.k_box.setToolTip("How many groups k-means should find")
        self.run_button = QPushButton("Find groups")
        self.run_button.setObjectName("primary")
        self.run_button.setToolTip("Compute features of your images (cached) and run k-means")
        self.map = plot_area("Your images (PCA of their features)", equal=False)
        self.result = QLabel("Press “Find groups”. It uses the images in the Classifier tab.")
        self.result.setWordWrap(True)
        self.result.setObjectName("result")
        row = QHBoxLayout()
        row.addWidget(QLabel("Groups (k)"))
        row.addWidget(self.k_box)
        row.addWidget(self.run_button)
        row.addStretch(1)
        explain(self.k_box, "Number of groups")
        explain(self.run_button, "Find groups")
        explain(
            self.map,
            "Groups map",
            "Your images flattened onto a map (PCA of their features); colour shows the group "
            "k-means put each image in, the marker shape its real class.",
        )
        layout = QVBoxLayout(self)
        for w in self.heading():
            layout.addWidget(w)
        layout.addLayout(row)
        layout.addWidget(self.map, 1)
        layout.addWidget(self.result)
        layout.addWidget(self.notice)
        self.features = None
        self.run_button.clicked.connect(self.run)
        self.k_box.valueChanged.connect(lambda _: self.features is not None and self._cluster())
        self.runner.progress.connect(self._on_progress)
        self.runner.result.connect(self._on_features)
        self.runner.finished.connect(lambda: self.run_button.setEnabled(True))

    def run(self) -> bool:
        folder = self.classifier_images()
        if folder is None:
            return False
        cache = FeatureCache(lab_paths.cache_dir() / "features")
        self.run_button.setEnabled(False)
        self.result.setText("Computing features…")
        self.runner.start(lambda stop: image_features(folder, cache, stop))
        return True

    def _on_progress(self, ev: dict) -> None:
        if ev.get("kind") == "features":
            self.result.setText(f"Computing features: {ev['done']} of {ev['total']} images…")

    def _on_features(self, result) -> None:
        self.features, self.labels, self.classes = result
        self._cluster()

    def _cluster(self) -> None:
        from sklearn.decomposition import PCA

        k = self.k_box.value()
        try:
            self.last = cluster(self.features, self.labels, k)
        except ValueError as exc:
            self.notice.show_message(str(exc), "warning")
            return
        xy = PCA(2, random_state=0).fit_transform(self.features)
        self.map.clear()
        for c in range(k):
            for t, _name in enumerate(self.classes):
                sel = (self.last.clusters == c) & (self.labels == t)
                if sel.any():
                    self.map.addItem(
                        pg.ScatterPlotItem(
                            xy[sel, 0],
                            xy[sel, 1],
                            size=10,
                            symbol=SYMBOLS[t % len(SYMBOLS)],
                            brush=pg.mkBrush(OKABE_ITO[c % len(OKABE_ITO)]),
                            pen=pg.mkPen("#000000", width=0.5),
                        )
                    )
        r = self.last
        shapes = ", ".join(f"{SYMBOLS[t % len(SYMBOLS)]} = {n}" for t, n in enumerate(self.classes))
        self.result.setText(
            f"k-means found {k} groups without labels. Purity <b>{r.purity:.0%}</b> (the share of "
            f"images in a group whose majority class is theirs); adjusted Rand index "
            f"<b>{r.ari:.2f}</b> (1 = exactly the classes, 0 = no better than chance). "
            f"Shapes: {shapes.replace('o =', '● =').replace('t =', '▲ =').replace('s =', '■ =')}."
        )
