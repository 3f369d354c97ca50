"""The Embeddings tab's image views, with a tiny network so they run in seconds."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from conftest import make_dataset, make_image
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPolygonF

from lab.core.classifier import Classifier
from lab.core.embeddings.image_embeddings import EmbeddingSource, classifier_source
from lab.core.embeddings.neighbours import nearest_neighbours
from lab.core.embeddings.projection import PCA, separation_score
from lab.core.features import FeatureCache
from lab.core.models import SmallCNN, build_classifier
from lab.core.workspace import Workspace
from lab.ui.embeddings import EmbeddingsTab


def tiny_source() -> EmbeddingSource:
    torch.manual_seed(0)
    net = SmallCNN().eval()
    return EmbeddingSource(
        key="pretrained", label="tiny", cache_name="tiny-ui", image_size=32, dim=256,
        build=lambda: net,
    )  # fmt: skip


def tiny_classifier() -> Classifier:
    torch.manual_seed(1)
    net = build_classifier("small_cnn", 2, pretrained=False)
    return Classifier(net, ["cat", "raccoon"], "small_cnn", 32, settings={"mode": "scratch"})


@pytest.fixture
def tab(qtbot, tmp_path):
    root = make_dataset(tmp_path / "ws", per_class=10, size=40)
    t = EmbeddingsTab(Workspace(root), FeatureCache(tmp_path / "cache"))
    t.images.sources["pretrained"] = tiny_source()
    t.resize(1300, 800)
    t.show()
    qtbot.addWidget(t)
    yield t
    t.shutdown()


def compute(panel, qtbot, method: str = "pca"):
    panel.method_box.setCurrentIndex(panel.method_box.findData(method))
    with qtbot.waitSignal(panel.map_ready, timeout=30000):
        assert panel.compute()
    qtbot.waitUntil(
        lambda: not panel.runner.running and not panel.drop_runner.running, timeout=10000
    )


def test_pca_map_neighbours_selection_and_a_dropped_image(tab, qtbot, tmp_path):
    panel = tab.images
    compute(panel, qtbot)
    emb = panel.embeddings
    assert emb.vectors.shape == (20, 256)
    expected = PCA.fit(emb.vectors, 2).transform(emb.vectors)
    np.testing.assert_allclose(panel.map.xy, expected, rtol=1e-4, atol=1e-4)
    assert "PCA map of 20 images" in panel.status.text()
    # Click: the neighbours listed are a brute-force cosine ranking.
    shown = panel.show_neighbours(3)
    idx, scores = nearest_neighbours(emb.vectors[3], emb.vectors, 8, exclude=3)
    assert shown == idx.tolist()
    first = panel.neighbours.texts()[0]
    assert emb.paths[idx[0]].name in first and f"{scores[0]:.3f}" in first
    # Rectangle selection lists the images inside it.
    xy = panel.map.xy
    lo, hi = xy.min(axis=0), np.median(xy, axis=0)
    panel.map.set_select_mode("rect")
    polygon = QPolygonF([QPointF(lo[0] - 1, lo[1] - 1), QPointF(hi[0], lo[1] - 1),
                         QPointF(hi[0], hi[1]), QPointF(lo[0] - 1, hi[1])])  # fmt: skip
    with qtbot.waitSignal(panel.map.selected) as sel:
        panel.map.view_box.selection_made.emit(polygon)
    inside = [i for i, (x, y) in enumerate(xy) if x <= hi[0] and y <= hi[1]]
    assert sel.args[0] == inside
    assert [p.name for p in panel.selection.thumbnails.paths] == [emb.paths[i].name for i in inside]
    # A dropped image lands exactly where PCA puts its embedding.
    new = make_image(tmp_path / "new_cat.png", 0, size=40, seed=999)
    with qtbot.waitSignal(panel.placed, timeout=10000) as placed:
        assert panel.place_image(new)
    xy_new, neighbours, exact = placed.args[0]
    vec = panel.embedder("pretrained").embed_file(new)
    np.testing.assert_allclose(xy_new, panel.layout_result.pca.transform(vec[None])[0], rtol=1e-4)
    assert exact and panel.map.marker_position() == pytest.approx(tuple(xy_new), rel=1e-4)
    assert neighbours == nearest_neighbours(vec, emb.vectors, 5)[0].tolist()
    assert "placed exactly" in panel.map_note.text()
    assert panel.last_drop_ms is not None and panel.last_drop_ms < 2000


def test_the_map_works_from_the_keyboard(tab, qtbot):
    from PySide6.QtCore import Qt

    panel = tab.images
    compute(panel, qtbot)
    scatter = panel.map
    xy = scatter.xy
    hovered = []
    scatter.hovered.connect(hovered.append)
    qtbot.keyClick(scatter, Qt.Key.Key_Right)  # first press: the point nearest the middle
    start = hovered[-1]
    assert start >= 0
    qtbot.keyClick(scatter, Qt.Key.Key_Right)
    moved = hovered[-1]
    rightmost = int(np.argmax(xy[:, 0]))
    assert moved == start == rightmost or xy[moved, 0] > xy[start, 0]
    with qtbot.waitSignal(scatter.clicked) as clicked:
        qtbot.keyClick(scatter, Qt.Key.Key_Return)
    assert clicked.args[0] == moved
    assert panel.neighbours.texts()  # Enter listed the neighbours, as a click does


def test_tsne_map_redraws_while_optimizing_and_stops_quickly(tab, qtbot):
    panel = tab.images
    panel.iterations.setValue(5000)
    frames = []
    panel.runner.progress.connect(lambda ev: frames.append(ev) if ev.get("kind") == "layout" else 0)
    panel.method_box.setCurrentIndex(panel.method_box.findData("tsne"))
    assert panel.compute()
    qtbot.waitUntil(lambda: len(frames) >= 3, timeout=30000)
    qtbot.waitUntil(lambda: len(panel.map.xy) == 20, timeout=5000)  # drawn before the end
    asked = time.perf_counter()
    panel.stop_button.click()
    qtbot.waitUntil(lambda: not panel.runner.running, timeout=3000)
    assert time.perf_counter() - asked < 1.0
    assert "stopped early" in panel.status.text()
    assert panel.layout_result is not None and panel.layout_result.stopped
    assert len({f["iteration"] for f in frames}) >= 3
    # A dropped image on a t-SNE map is placed from its neighbours, and says so.
    qtbot.waitUntil(lambda: not panel.drop_runner.running, timeout=10000)
    with qtbot.waitSignal(panel.placed, timeout=10000) as placed:
        panel.place_image(panel.embeddings.paths[0])
    assert placed.args[0][2] is False
    assert "estimate" in panel.map_note.text()


def test_thumbnails_colours_and_predictions(tab, qtbot):
    panel = tab.images
    compute(panel, qtbot)
    panel.thumbs_radio.setChecked(True)
    qtbot.waitUntil(lambda: len(panel.thumb_images) == 20, timeout=10000)
    assert panel.map.thumbnails_on and all(panel.map.thumbs.has_image(i) for i in range(20))
    panel.size_slider.setValue(64)
    assert panel.map.thumbs.size == 64
    panel.map.grab()  # paints the thumbnails
    # Without a classifier, colouring by prediction explains what is missing.
    panel.color_box.setCurrentIndex(panel.color_box.findData("prediction"))
    assert "needs a trained classifier" in panel.notice.text
    assert panel.color_box.currentData() == "class"
    # With one, the map shows the classifier's predictions for every image.
    clf = tiny_classifier()
    tab.set_trained(clf)
    panel.color_box.setCurrentIndex(panel.color_box.findData("correct"))
    qtbot.waitUntil(lambda: panel.probabilities is not None, timeout=20000)
    qtbot.waitUntil(lambda: not panel.predict_runner.running, timeout=5000)
    rows = clf.predict_paths(panel.embeddings.paths)
    expected = np.array([np.argmax(list(r["probabilities"].values())) for r in rows])
    assert panel.probabilities.argmax(axis=1).tolist() == expected.tolist()
    truth = panel.embeddings.labels
    assert panel.map.color_groups.tolist() == (expected != truth).astype(int).tolist()
    assert panel.map.shape_groups.tolist() == truth.tolist()


def test_unreadable_images_and_an_empty_collection_are_explained(qtbot, tmp_path):
    t = EmbeddingsTab(Workspace(tmp_path / "empty"), FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(t)
    assert not t.images.compute()
    assert "Add some images" in t.images.notice.text
    assert not t.images.place_image(tmp_path / "x.png")
    assert "Compute a map first" in t.images.notice.text
    t.shutdown()


def test_before_vs_after_shows_both_maps_and_their_separation(tab, qtbot):
    panel = tab.compare
    assert not panel.compare_button.isEnabled()
    clf = tiny_classifier()
    tab.set_trained(clf)
    panel.pretrained_source = lambda size: tiny_source()
    with qtbot.waitSignal(panel.compared, timeout=30000) as done:
        assert panel.compare()
    qtbot.waitUntil(lambda: not panel.runner.running, timeout=5000)
    scores = done.args[0]
    after = panel.embeddings["after"]
    assert scores["after"] == pytest.approx(separation_score(after.vectors, after.labels))
    before = panel.embeddings["before"]
    assert scores["before"] == pytest.approx(separation_score(before.vectors, before.labels))
    assert f"{scores['before']:.3f}" in panel.score_labels["before"].text()
    assert len(panel.maps["before"].xy) == 20 and len(panel.maps["after"].xy) == 20
    head_only = tiny_classifier()
    head_only.settings = {"mode": "head"}
    tab.set_trained(head_only)
    assert "both maps are the same" in panel.notice.text
    assert classifier_source(head_only).same_as_pretrained
