"""Embeddings core, headless: PCA, neighbours, t-SNE, placing new points, image embeddings."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from conftest import make_dataset, make_image
from sklearn.decomposition import PCA as SklearnPCA

from lab.core.dataset import ImageFolder
from lab.core.embeddings.image_embeddings import (
    EmbeddingSource,
    ImageEmbedder,
    classifier_source,
    embed_images,
)
from lab.core.embeddings.neighbours import knn_graph, nearest_neighbours
from lab.core.embeddings.projection import (
    PCA,
    ProjectionError,
    TSNESettings,
    pca_layout,
    place_new_point,
    points_in_polygon,
    separation_score,
    tsne_layout,
)
from lab.core.features import FeatureCache
from lab.core.models import SmallCNN, build_classifier
from lab.core.tasks import StopFlag


def run(gen):
    """Drain a generator: (events, return value)."""
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as done:
            return events, done.value


def tiny_source(key: str = "pretrained") -> EmbeddingSource:
    torch.manual_seed(0)
    net = SmallCNN().eval()
    return EmbeddingSource(
        key=key, label="tiny", cache_name="tiny-test", image_size=32, dim=256, build=lambda: net
    )


def blobs(n: int, d: int = 64, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 4
    labels = rng.integers(0, k, n)
    return (centres[labels] + rng.normal(size=(n, d))).astype(np.float32), labels


# -- PCA ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(60, 8), (15, 40), (120, 1280)])
def test_pca_coordinates_match_scikit_learn_signs_included(shape):
    rng = np.random.default_rng(42)
    x = rng.normal(size=shape) * np.linspace(5, 0.2, shape[1]) + rng.normal(size=shape[1])
    ours = PCA.fit(x, 2)
    theirs = SklearnPCA(n_components=2, svd_solver="full").fit(x)
    np.testing.assert_allclose(ours.transform(x), theirs.transform(x), atol=1e-8)
    np.testing.assert_allclose(ours.components, theirs.components_, atol=1e-10)
    np.testing.assert_allclose(
        ours.explained_variance_ratio, theirs.explained_variance_ratio_, rtol=1e-8
    )
    new = rng.normal(size=(3, shape[1]))
    np.testing.assert_allclose(ours.transform(new), theirs.transform(new), atol=1e-8)


def test_pca_of_float32_embeddings_matches_closely():
    x, _ = blobs(300, 400)
    ours = pca_layout(x)
    _, layout = run(ours)
    theirs = SklearnPCA(n_components=2, svd_solver="full").fit_transform(x.astype(np.float64))
    np.testing.assert_allclose(layout.xy, theirs, rtol=1e-3, atol=1e-3 * np.abs(theirs).max())


def test_pca_refuses_a_single_point():
    with pytest.raises(ProjectionError, match="two points"):
        PCA.fit(np.ones((1, 5)))


# -- neighbours ---------------------------------------------------------------------------
def test_nearest_neighbours_match_brute_force_cosine():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(200, 32))
    for q in (0, 17, 199):
        idx, scores = nearest_neighbours(vectors[q], vectors, 10, exclude=q)
        brute = [
            float(vectors[q] @ v / (np.linalg.norm(vectors[q]) * np.linalg.norm(v)))
            for v in vectors
        ]
        order = [j for j in sorted(range(200), key=lambda j: -brute[j]) if j != q][:10]
        assert idx.tolist() == order
        np.testing.assert_allclose(scores, [brute[j] for j in order], rtol=1e-5)
        assert all(a >= b for a, b in zip(scores, scores[1:]))


def test_nearest_neighbours_handles_small_sets_and_zero_vectors():
    vectors = np.array([[1.0, 0.0], [0.0, 0.0], [0.5, 0.5]])
    idx, scores = nearest_neighbours(vectors[0], vectors, 10, exclude=0)
    assert idx.tolist() == [2, 1]
    assert scores[1] == pytest.approx(0.0)


def test_knn_graph_matches_brute_force_and_can_stop():
    x, _ = blobs(700, 16)
    (_, (idx, dist)) = run(knn_graph(x, 5))
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(dist, np.sort(d, axis=1)[:, :5], rtol=1e-3, atol=1e-3)
    stop = StopFlag()
    stop.request()
    assert run(knn_graph(x, 5, stop))[1] is None


# -- t-SNE --------------------------------------------------------------------------------
def test_tsne_redraws_as_it_optimizes_and_separates_clusters():
    x, labels = blobs(150, 32)
    events, layout = run(tsne_layout(x, TSNESettings(perplexity=15, iterations=200)))
    frames = [e for e in events if e.get("kind") == "layout"]
    assert len(frames) >= 5  # many intermediate maps, not just the final one
    assert [f["iteration"] for f in frames] == sorted(f["iteration"] for f in frames)
    assert frames[-1]["iteration"] == 200 and not layout.stopped
    assert layout.xy.shape == (150, 2) and np.isfinite(layout.xy).all()
    # Every point's nearest point on the map has the same label (clusters kept).
    d = np.linalg.norm(layout.xy[:, None] - layout.xy[None], axis=2)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(axis=1)] == labels).mean() > 0.95


def test_tsne_settings_are_checked():
    with pytest.raises(ProjectionError, match="perplexity"):
        run(tsne_layout(np.zeros((50, 4)), TSNESettings(perplexity=500)))
    with pytest.raises(ProjectionError, match="at least 5"):
        run(tsne_layout(np.zeros((3, 4)), TSNESettings()))
    assert TSNESettings(iterations=10).problems() == {"iterations": "must be between 50 and 5,000"}


def test_cancelling_tsne_stops_within_one_second():
    x, _ = blobs(2000, 64)
    stop = StopFlag()
    gen = tsne_layout(x, TSNESettings(iterations=5000), stop)
    result: dict = {}

    def consume() -> None:
        for ev in gen:
            if ev.get("kind") == "layout" and "first" not in result:
                result["first"] = time.perf_counter()
        result["end"] = time.perf_counter()

    worker = threading.Thread(target=consume)
    worker.start()
    deadline = time.perf_counter() + 60
    while "first" not in result and time.perf_counter() < deadline:
        time.sleep(0.01)
    asked = time.perf_counter()
    stop.request()
    worker.join(5)
    assert not worker.is_alive()
    assert result["end"] - asked < 1.0


# -- placing a new point, separation, selection -------------------------------------------
def test_a_new_point_on_a_pca_map_is_placed_exactly():
    x, _ = blobs(80, 20)
    _, layout = run(pca_layout(x))
    new = x[5] * 0.7 + x[9] * 0.3
    xy, idx, scores, exact = place_new_point(layout, x, new, k=4)
    assert exact
    np.testing.assert_allclose(xy, layout.pca.transform(new[None])[0], rtol=1e-5)
    np.testing.assert_allclose(
        xy, SklearnPCA(2, svd_solver="full").fit(x.astype(np.float64)).transform(new[None])[0],
        rtol=1e-3, atol=1e-3,
    )  # fmt: skip
    assert idx.tolist() == nearest_neighbours(new, x, 4)[0].tolist()


def test_a_new_point_on_a_tsne_map_goes_among_its_neighbours():
    x, _ = blobs(120, 16)
    _, layout = run(tsne_layout(x, TSNESettings(perplexity=10, iterations=100)))
    xy, idx, _, exact = place_new_point(layout, x, x[3] + 0.01, k=5)
    assert not exact
    lo, hi = layout.xy[idx].min(axis=0), layout.xy[idx].max(axis=0)
    assert np.all(xy >= lo - 1e-6) and np.all(xy <= hi + 1e-6)


def test_separation_score_is_higher_for_separated_classes():
    tight, labels = blobs(200, 16, k=2)
    rng = np.random.default_rng(3)
    mixed = rng.normal(size=(200, 16))
    assert separation_score(tight, labels) > 0.5
    assert abs(separation_score(mixed, labels)) < 0.1
    assert np.isnan(separation_score(tight, np.zeros(200)))


def test_points_in_a_lasso_polygon():
    xy = np.array([[0.5, 0.5], [2.0, 2.0], [0.1, 0.9], [-1.0, 0.5]])
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]])
    assert points_in_polygon(xy, square).tolist() == [True, False, True, False]
    triangle = np.array([[0, 0], [3, 0], [0, 3]])
    assert points_in_polygon(xy, triangle).tolist() == [True, False, True, False]
    assert not points_in_polygon(xy, square[:2]).any()


# -- image embeddings ---------------------------------------------------------------------
def test_image_embeddings_are_cached_and_unreadable_files_listed(tmp_path):
    root = make_dataset(tmp_path / "data", per_class=4, size=32)
    (root / "cat" / "broken.png").write_bytes(b"not a picture")
    folder = ImageFolder.scan(root)
    cache = FeatureCache(tmp_path / "cache")
    embedder = ImageEmbedder(tiny_source())
    paths = [s.path for s in folder.samples]
    labels = [s.label for s in folder.samples]
    _, first = run(embed_images(paths, labels, folder.classes, embedder, cache))
    assert first.vectors.shape == (8, 256)
    assert [name for name, _ in first.skipped] == ["broken.png"]
    assert "broken.png" not in [p.name for p in first.paths]
    hits = cache.hits
    events, second = run(embed_images(paths, labels, folder.classes, embedder, cache))
    assert cache.hits - hits == 8  # only the broken file is tried again
    assert [e["total"] for e in events if e.get("kind") == "features"] == [1]
    np.testing.assert_allclose(second.vectors, first.vectors)
    one = embedder.embed_file(first.paths[2])
    np.testing.assert_allclose(one, first.vectors[2], rtol=1e-4, atol=1e-5)


def test_a_trained_classifier_source_gives_its_penultimate_layer_and_predictions(tmp_path):
    from lab.core.classifier import Classifier

    torch.manual_seed(0)
    net = build_classifier("small_cnn", 2, pretrained=False)
    clf = Classifier(net, ["cat", "raccoon"], "small_cnn", 32, settings={"mode": "scratch"})
    source = classifier_source(clf)
    assert source.key == "trained" and not source.same_as_pretrained and source.dim == 256
    path = make_image(tmp_path / "a.png", 0, size=40)
    vec = ImageEmbedder(source).embed_file(path)
    with torch.inference_mode():
        expected = clf.net.embed(
            torch.stack([clf.preprocess(clf.load_for_prediction(path))]).float() / 127.5 - 1
        )
    np.testing.assert_allclose(vec, expected.numpy()[0], rtol=1e-4, atol=1e-5)
    probs = source.probabilities(vec[None])
    expected_probs = list(next(clf.predict_paths([path]))["probabilities"].values())
    np.testing.assert_allclose(probs[0], expected_probs, rtol=1e-4)
    head_only = Classifier(
        build_classifier("small_cnn", 2, pretrained=False),
        ["cat", "raccoon"],
        "small_cnn",
        32,
        settings={"mode": "head"},
    )
    assert classifier_source(head_only).same_as_pretrained


# -- separation before and after training -------------------------------------------------
@pytest.mark.slow
def test_training_a_classifier_pulls_its_penultimate_layer_apart(tmp_path):
    from lab.core.classifier import Classifier
    from lab.core.settings import TrainSettings
    from lab.core.training import train_classifier

    root = make_dataset(tmp_path / "data", per_class=10, size=40)
    folder = ImageFolder.scan(root)
    settings = TrainSettings.for_mode("scratch", epochs=3, image_size=32, batch_size=10)
    trained = run(train_classifier(folder, settings))[1].classifier
    torch.manual_seed(settings.seed)
    untrained = Classifier(
        build_classifier("small_cnn", 2, pretrained=False), folder.classes, "small_cnn", 32,
        settings={"mode": "scratch"},
    )  # fmt: skip
    paths = [s.path for s in folder.samples]
    scores = {}
    for name, clf in (("before", untrained), ("after", trained)):
        src = classifier_source(clf)
        emb = run(embed_images(paths, folder.labels, folder.classes, ImageEmbedder(src), None))[1]
        scores[name] = separation_score(emb.vectors, emb.labels)
    assert scores["after"] > scores["before"]


@pytest.mark.photos
@pytest.mark.slow
def test_pretrained_features_already_separate_cats_from_raccoons(starter_photos):
    """ImageNet has cat and raccoon classes: the pretrained map is already two clusters."""
    from lab.core.embeddings.image_embeddings import pretrained_source

    folder = ImageFolder.scan(starter_photos)
    picked = [s for c in (0, 1) for s in [x for x in folder.samples if x.label == c][:15]]
    emb = run(
        embed_images(
            [s.path for s in picked], [s.label for s in picked], folder.classes,
            ImageEmbedder(pretrained_source()), None,
        )
    )[1]  # fmt: skip
    assert separation_score(emb.vectors, emb.labels) > 0.1
    same = [
        emb.labels[nearest_neighbours(v, emb.vectors, 1, exclude=i)[0][0]] == emb.labels[i]
        for i, v in enumerate(emb.vectors)
    ]
    assert np.mean(same) >= 0.9
