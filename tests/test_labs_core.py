"""The concept labs' key claims, checked numerically (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from lab.core.labs import landscape
from lab.core.labs.clustering import cluster, purity
from lab.core.labs.gan import train_gan
from lab.core.labs.memorize import memorize_vs_generalize
from lab.core.labs.tokens import summary, tokenize
from lab.core.labs.toy_data import mean_nn_distance, sample_drawn, sample_shape
from lab.core.training import run_to_end


def _final_loss(surface: str, optimizer: str, lr: float, steps: int = 200) -> tuple[float, bool]:
    d = landscape.Descent(
        landscape.SURFACES[surface], optimizer, lr, *landscape.SURFACES[surface].start
    )
    run_to_end(landscape.descend(d, steps))
    return d.loss, d.diverged


def test_gradient_descent_on_the_bowl_diverges_above_its_bound():
    # f = x² + 3y²: a step multiplies y by (1 - 6·lr), so lr > 1/3 makes it grow without end.
    loss, diverged = _final_loss("bowl", "gd", 0.32)
    assert not diverged and loss < 1e-6
    loss, diverged = _final_loss("bowl", "gd", 0.34)
    assert diverged, "just above 1/3 the steps run away"
    steps = list(
        landscape.descend(landscape.Descent(landscape.SURFACES["bowl"], "gd", 0.5, -2.5, 2.0), 50)
    )
    assert steps[-1]["diverged"] and len(steps) < 50
    assert "too large" in landscape.verdict([s["loss"] for s in steps], True)


def test_the_gradient_is_the_slope():
    for surface in landscape.SURFACES.values():
        x, y, h = 0.3, -0.7, 1e-6
        gx, gy = surface.grad(x, y)
        assert gx == pytest.approx(
            (surface.loss(x + h, y) - surface.loss(x - h, y)) / (2 * h), rel=1e-4
        )
        assert gy == pytest.approx(
            (surface.loss(x, y + h) - surface.loss(x, y - h)) / (2 * h), rel=1e-4
        )


def test_momentum_and_adam_cross_the_valley_faster_than_plain_descent():
    plain, _ = _final_loss("valley", "gd", 0.1, steps=100)
    momentum, _ = _final_loss("valley", "momentum", 0.1, steps=100)
    adam, _ = _final_loss("valley", "adam", 0.3, steps=100)
    assert momentum < plain and adam < plain


def test_two_minima_the_start_decides_the_valley():
    s = landscape.SURFACES["two_minima"]
    right = landscape.Descent(s, "gd", 0.05, 1.6, 1.5)
    left = landscape.Descent(s, "gd", 0.05, -1.6, 1.5)
    run_to_end(landscape.descend(right, 300))
    run_to_end(landscape.descend(left, 300))
    assert right.x > 0 > left.x and left.loss < right.loss


def test_true_labels_generalize_shuffled_labels_only_memorize():
    result = run_to_end(memorize_vs_generalize(n_train=80, n_val=300, steps=1200))
    assert result["true_train"] >= 0.95 and result["shuffled_train"] >= 0.9
    assert result["true_val"] >= 0.8
    assert result["shuffled_val"] <= 0.65
    assert result["true_val"] - result["shuffled_val"] >= 0.2


def test_kmeans_purity_on_separable_groups():
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3] * 5
    feats = np.concatenate([c + rng.normal(0, 0.3, (40, 8)) for c in centres])
    labels = np.repeat([0, 1, 2], 40)
    result = cluster(feats, labels, k=3)
    assert result.purity == pytest.approx(1.0) and result.ari == pytest.approx(1.0)
    assert purity(np.zeros(120, dtype=int), labels) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        cluster(feats, labels, k=1)


def test_gan_fake_points_move_toward_the_target():
    target = sample_shape("moons", 2000, seed=1)
    events = []
    result = run_to_end(_collect(train_gan(target, steps=800, report_every=100), events))
    first, last = events[0]["distance"], result["distance"]
    assert last < 0.5 * first, f"fake points should approach the moons ({first:.2f} → {last:.2f})"
    assert (
        result["grid"].shape == (60, 60) and 0 <= result["grid"].min() <= result["grid"].max() <= 1
    )


def _collect(gen, events):
    while True:
        try:
            ev = next(gen)
        except StopIteration as done:
            return _returning(done.value)
        events.append(ev)


def _returning(value):
    def gen():
        return value
        yield  # pragma: no cover

    return gen()


def test_shapes_and_drawings():
    for shape in ("moons", "spiral", "rings"):
        pts = sample_shape(shape, 500)
        assert pts.shape == (500, 2) and np.abs(pts).max() < 3
    line = sample_drawn(np.array([[0, 0], [1, 0], [1, 1]]), 300, noise=0)
    assert (
        mean_nn_distance(
            line,
            np.array(
                [[x, 0] for x in np.linspace(0, 1, 200)] + [[1, y] for y in np.linspace(0, 1, 200)]
            ),
        )
        < 0.01
    )
    with pytest.raises(ValueError, match="at least two points"):
        sample_drawn(np.array([[0, 0]]), 10)


def test_token_ids_match_the_model_tokenizer():
    from transformers import AutoTokenizer

    from lab.core.labs.tokens import model_folder

    text = "The raccoon washed its food, unbelievably carefully!"
    ours = tokenize(text)
    reference = AutoTokenizer.from_pretrained(str(model_folder()))
    assert [t.id for t in ours] == reference(text)["input_ids"]
    assert [t.text for t in ours if t.is_piece] == [
        "##cco",
        "##on",
        "##bel",
        "##ie",
        "##va",
        "##bly",
    ]
    assert text[ours[2].start : ours[4].end] == "raccoon"
    assert summary(ours) == {
        "tokens": len(ours),
        "text_tokens": len(ours) - 2,
        "split_pieces": 6,
        "special": 2,
    }


def test_head_only_never_forgets_and_whole_network_training_drifts(tiny_dataset):
    from lab.core.dataset import ImageFolder
    from lab.core.labs.forgetting import forgetting_run

    folder = ImageFolder.scan(tiny_dataset)
    head = run_to_end(forgetting_run(folder, mode="head", epochs=1, image_size=64))
    full = run_to_end(forgetting_run(folder, mode="finetune", epochs=1, image_size=64, lr=1e-3))
    assert head["agreement"] == 1.0 and head["kl"] == pytest.approx(0.0, abs=1e-6)
    assert full["kl"] > 1e-3, "training every layer moves the old ImageNet answers"
    assert full["agreement"] <= 1.0


def test_the_shipped_vae_decodes_each_class_centre_to_that_class():
    from lab.core.dataset import DatasetError
    from lab.core.labs import vae

    try:
        from lab.core.diffusion.data import load_fashion_mnist_raw

        images, labels = load_fashion_mnist_raw("test")
    except DatasetError:
        pytest.skip("Fashion-MNIST (Debian package dataset-fashion-mnist) is not installed")
    model = vae.load_vae()
    images, labels = images[:3000], labels[:3000]
    z = vae.encode_points(model, images)
    centres = np.stack([z[labels == c].mean(0) for c in range(10)])
    decoded = vae.decode_points(model, centres).astype(np.float32)
    means = np.stack([images[labels == c].mean(0) for c in range(10)])
    nearest = [int(np.argmin(((means - d) ** 2).sum((1, 2)))) for d in decoded]
    assert sum(n == c for c, n in enumerate(nearest)) >= 7, nearest
    # Nearby points share a class far more often than chance (10%): the map separates classes.
    d = ((z[:500, None] - z[None, :500]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    knn_same = (labels[:500][d.argmin(1)] == labels[:500]).mean()
    assert knn_same > 0.5
    assert vae.decode_grid(model, n=6).shape == (168, 168)


def test_a_damaged_vae_file_is_refused_plainly(tmp_path):
    from lab.core.labs import vae

    bad = tmp_path / "vae.pt"
    bad.write_bytes(b"not weights")
    with pytest.raises(ValueError, match="damaged"):
        vae.load_vae(bad)
    with pytest.raises(ValueError, match="missing"):
        vae.load_vae(tmp_path / "nothing.pt")
