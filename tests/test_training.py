"""Training in the core, with no Qt: it learns, it caches, it saves and refuses bad settings."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from lab.core.classifier import Classifier, ModelFileError
from lab.core.dataset import DatasetError, ImageFolder, stratified_split
from lab.core.features import FeatureCache
from lab.core.settings import SettingsError, TrainSettings
from lab.core.tasks import StopFlag
from lab.core.training import run_to_end, train_classifier


def _events_and_result(gen):
    events = []
    while True:
        try:
            ev = next(gen)
        except StopIteration as done:
            return events, done.value
        if ev:
            events.append(ev)


def test_scratch_training_learns_made_up_images(tiny_dataset):
    folder = ImageFolder.scan(tiny_dataset)
    settings = TrainSettings.for_mode(
        "scratch", epochs=12, image_size=32, batch_size=8, learning_rate=0.003
    )
    events, result = _events_and_result(train_classifier(folder, settings))
    losses = [e["loss"] for e in events if e["kind"] == "step"]
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) * 0.8, "the loss should fall"
    assert result.metrics["val_accuracy"] > 0.5 + 0.2, "accuracy should beat chance clearly"
    epochs = [e for e in events if e["kind"] == "epoch"]
    assert [e["epoch"] for e in epochs] == list(range(1, 13))
    assert result.metrics["mode"] == "scratch"
    assert result.val_probs.shape == (len(result.val_paths), 2)


def test_head_mode_uses_the_feature_cache_on_the_second_run(tiny_dataset, tmp_path):
    folder = ImageFolder.scan(tiny_dataset)
    cache = FeatureCache(tmp_path / "cache")
    settings = TrainSettings.for_mode("head", epochs=8, image_size=64)
    events1, first = _events_and_result(train_classifier(folder, settings, cache=cache))
    assert any(e["kind"] == "features" for e in events1), "the first run computes features"
    assert cache.misses > 0
    assert first.metrics["val_accuracy"] >= 0.8

    cache2 = FeatureCache(tmp_path / "cache")  # a new session, same disk
    events2, second = _events_and_result(train_classifier(folder, settings, cache=cache2))
    assert not any(e["kind"] == "features" for e in events2), "the second run must not recompute"
    assert cache2.hits == len(folder.samples) and cache2.misses == 0
    # The same data, split and seed give the same model, cached or not.
    assert second.metrics["val_accuracy"] == pytest.approx(first.metrics["val_accuracy"])
    assert np.allclose(second.val_probs, first.val_probs, atol=1e-5)


def test_feature_cache_is_keyed_by_content_and_size(tiny_dataset, tmp_path):
    cache = FeatureCache(tmp_path / "c")
    a = tiny_dataset / "cat" / "cat_000.png"
    b = tmp_path / "renamed.png"
    b.write_bytes(a.read_bytes())
    assert cache.key(a, "net", 64) == cache.key(b, "net", 64)
    assert cache.key(a, "net", 64) != cache.key(a, "net", 96)
    assert cache.key(a, "net", 64) != cache.key(tiny_dataset / "cat" / "cat_001.png", "net", 64)


def test_damaged_cache_entry_is_recomputed(tmp_path):
    cache = FeatureCache(tmp_path / "c")
    cache.put("k1", np.ones(4, dtype=np.float32))
    assert cache.get("k1", 4) is not None
    cache._file("k1").write_bytes(b"garbage")
    assert cache.get("k1", 4) is None
    assert not cache._file("k1").exists()


def test_saved_model_reloads_and_predicts_the_same(tiny_dataset, tmp_path):
    folder = ImageFolder.scan(tiny_dataset)
    settings = TrainSettings.for_mode("scratch", epochs=2, image_size=32, batch_size=8)
    result = run_to_end(train_classifier(folder, settings))
    path = result.classifier.save(tmp_path / "m.mlmodel")
    loaded = Classifier.load(path)
    assert loaded.classes == ["cat", "raccoon"]
    assert loaded.image_size == 32
    assert loaded.settings["epochs"] == 2
    assert loaded.metrics["val_accuracy"] == pytest.approx(result.metrics["val_accuracy"])
    files = [s.path for s in folder.samples[:6]]
    before = [r["probabilities"] for r in result.classifier.predict_paths(files)]
    after = [r["probabilities"] for r in loaded.predict_paths(files)]
    for p, q in zip(before, after):
        assert p == pytest.approx(q, abs=1e-6)
        assert sum(q.values()) == pytest.approx(1.0, abs=1e-5)


def test_saved_model_loads_in_a_fresh_process_without_the_data(tiny_dataset, tmp_path):
    folder = ImageFolder.scan(tiny_dataset)
    result = run_to_end(
        train_classifier(folder, TrainSettings.for_mode("scratch", epochs=1, image_size=32))
    )
    model = result.classifier.save(tmp_path / "m.mlmodel")
    probe = tmp_path / "probe.png"
    probe.write_bytes((tiny_dataset / "cat" / "cat_003.png").read_bytes())
    expected = next(result.classifier.predict_paths([probe]))["probabilities"]
    import shutil

    shutil.rmtree(tiny_dataset)
    code = (
        "import json,sys; from lab.core.classifier import Classifier; "
        f"m=Classifier.load({str(model)!r}); print(json.dumps(next(m.predict_paths([{str(probe)!r}]))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import json

    got = json.loads(out.stdout)["probabilities"]
    assert got == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 5000}, "epochs"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"image_size": 8}, "image_size"),
        ({"image_size": 10000}, "image_size"),
        ({"val_share": 0.0}, "val_share"),
        ({"val_share": 0.9}, "val_share"),
        ({"seed": -1}, "seed"),
        ({"mode": "magic"}, "mode"),
    ],
)
def test_invalid_settings_are_refused_with_a_reason(tiny_dataset, change, field):
    bad = replace(TrainSettings(), **change)
    assert field in bad.problems()
    with pytest.raises(SettingsError) as err:
        next(train_classifier(ImageFolder.scan(tiny_dataset), bad))
    assert field.replace("_", " ") in str(err.value)


def test_defaults_are_valid():
    for mode in ("head", "finetune", "scratch"):
        assert TrainSettings.for_mode(mode).problems() == {}


def test_training_needs_two_classes_with_two_images(tmp_path):
    from conftest import make_image

    make_image(tmp_path / "d" / "cat" / "a.png", 0)
    make_image(tmp_path / "d" / "cat" / "b.png", 0)
    with pytest.raises(DatasetError, match="two classes"):
        next(train_classifier(ImageFolder.scan(tmp_path / "d"), TrainSettings()))
    make_image(tmp_path / "d" / "raccoon" / "a.png", 1)
    with pytest.raises(DatasetError, match="raccoon"):
        next(train_classifier(ImageFolder.scan(tmp_path / "d"), TrainSettings()))


def test_split_is_stratified_and_fixed_by_the_seed():
    labels = np.array([0] * 50 + [1] * 30)
    train, val = stratified_split(labels, 0.2, seed=3)
    assert len(set(train) & set(val)) == 0 and len(train) + len(val) == 80
    assert (labels[val] == 0).sum() == 10 and (labels[val] == 1).sum() == 6
    again = stratified_split(labels, 0.2, seed=3)
    assert np.array_equal(val, again[1])
    other = stratified_split(labels, 0.2, seed=4)
    assert not np.array_equal(val, other[1])


def test_stop_returns_the_model_trained_so_far(tiny_dataset):
    stop = StopFlag()
    gen = train_classifier(
        ImageFolder.scan(tiny_dataset),
        TrainSettings.for_mode("scratch", epochs=50, image_size=32),
        stop=stop,
    )
    steps = 0
    while True:
        try:
            ev = next(gen)
        except StopIteration as done:
            result = done.value
            break
        if ev and ev["kind"] == "step":
            steps += 1
            if steps == 5:
                stop.request()
    assert result.stopped
    assert result.metrics["epochs"] < 50
    assert isinstance(result.classifier, Classifier)


def test_an_infinite_loss_is_caught_and_explained(tiny_dataset, monkeypatch):
    import lab.core.training as training

    real = training.F.cross_entropy
    calls = {"n": 0}

    def exploding(*args, **kwargs):
        loss = real(*args, **kwargs)
        if not torch.is_grad_enabled():
            return loss  # validation
        calls["n"] += 1
        return loss * float("inf") if calls["n"] == 7 else loss

    monkeypatch.setattr(training.F, "cross_entropy", exploding)
    settings = TrainSettings.for_mode("scratch", epochs=5, image_size=32, batch_size=8)
    events, result = _events_and_result(train_classifier(ImageFolder.scan(tiny_dataset), settings))
    assert "learning rate is too large" in result.diverged
    assert [e["kind"] for e in events].count("diverged") == 1
    assert result.metrics["diverged"] and result.metrics["epochs"] < 5
    for p in result.classifier.net.parameters():
        assert torch.isfinite(p).all(), "the model returns to its last good weights"


def test_unreadable_images_are_left_out_and_named(tiny_dataset):
    (tiny_dataset / "cat" / "broken.jpg").write_bytes(b"this is not a picture")
    folder = ImageFolder.scan(tiny_dataset)
    result = run_to_end(
        train_classifier(folder, TrainSettings.for_mode("scratch", epochs=1, image_size=32))
    )
    assert [name for name, _ in result.skipped] == ["broken.jpg"]
    assert result.metrics["images"] == len(folder.samples) - 1


def test_model_file_errors_are_plain(tmp_path):
    empty = tmp_path / "empty.mlmodel"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        Classifier.load(empty)
    junk = tmp_path / "junk.mlmodel"
    junk.write_bytes(b"\x00not a model" * 100)
    with pytest.raises(ModelFileError, match="not an ML Lab model"):
        Classifier.load(junk)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ModelFileError, match="not an ML Lab classifier"):
        Classifier.load(other)


def test_core_never_imports_qt():
    code = (
        "import sys, pkgutil, importlib, lab.core\n"
        "for m in pkgutil.walk_packages(lab.core.__path__, 'lab.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'shiboken6')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, f"lab.core imported Qt: {out.stdout}{out.stderr}"


@pytest.mark.photos
@pytest.mark.slow
def test_head_mode_on_the_starter_photos_reaches_95_percent(starter_photos, tmp_path):
    folder = ImageFolder.scan(starter_photos)
    assert len(folder.samples) >= 300
    result = run_to_end(
        train_classifier(folder, TrainSettings.for_mode("head"), cache=FeatureCache(tmp_path / "c"))
    )
    assert result.metrics["val_accuracy"] >= 0.95
    assert not math.isnan(result.metrics["val_loss"])
