"""Run history and the curve maths, without Qt."""

from __future__ import annotations

import numpy as np
import pytest

from lab.core.dataset import ImageFolder
from lab.core.runs import (
    EarlyStopping,
    RunRecord,
    RunRecorder,
    RunStore,
    best_epoch,
    ema_smooth,
    overfitting_spans,
)
from lab.core.settings import TrainSettings
from lab.core.training import compare_modes, run_to_end, train_classifier


def test_smoothing_matches_a_hand_computed_ema_with_bias_correction():
    values = [4.0, 2.0, 3.0, 1.0, 0.5]
    w = 0.6
    expected, last = [], 0.0
    for n, v in enumerate(values, start=1):
        last = last * w + (1 - w) * v
        expected.append(last / (1 - w**n))
    assert ema_smooth(np.array(values), w) == pytest.approx(expected)
    # The first point is not dragged towards zero, and 0 means no smoothing.
    assert ema_smooth(np.array(values), w)[0] == pytest.approx(4.0)
    assert ema_smooth(np.array(values), 0.0) == pytest.approx(values)


def test_smoothing_leaves_gaps_for_non_finite_values():
    out = ema_smooth(np.array([1.0, np.nan, 3.0, np.inf]), 0.5)
    assert np.isnan(out[1]) and np.isnan(out[3])
    assert out[2] == pytest.approx((0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.25))
    with pytest.raises(ValueError):
        ema_smooth(np.array([1.0]), 1.0)


def test_smoothing_a_million_points_is_quick():
    import time

    x = np.random.default_rng(0).normal(size=1_000_000)
    t = time.perf_counter()
    ema_smooth(x, 0.9)
    assert time.perf_counter() - t < 1.0


def test_best_epoch_and_overfitting_spans_on_a_fixed_sequence():
    epochs = np.arange(1, 9)
    train = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.35, 0.2]
    val = [1.1, 0.9, 0.7, 0.75, 0.8, 0.78, 0.9, 0.95]
    assert best_epoch(epochs, val) == (3.0, 0.7)
    # val rises 3→4, 4→5 while train falls: one span 3–5; 6→7 val rises but train rises too;
    # 7→8 both move the "memorizing" way again.
    assert overfitting_spans(epochs, train, val) == [(3.0, 5.0), (7.0, 8.0)]
    assert best_epoch(epochs, [np.nan] * 8) is None


def test_early_stopping_waits_for_patience_epochs():
    stopper = EarlyStopping(patience=2)
    stopped_at = None
    for epoch, loss in enumerate([1.0, 0.8, 0.85, 0.79, 0.9, 0.95, 0.5], start=1):
        if stopper.update(epoch, loss):
            stopped_at = epoch
            break
    # 0.85 is one bad epoch, then 0.79 improves; 0.9 and 0.95 are two bad ones in a row.
    assert stopped_at == 6
    assert stopper.best_epoch == 4 and stopper.best == 0.79
    assert not any(EarlyStopping(0).update(e, 1.0) for e in range(10)), "0 means never stop"


def _record(name="run", n=50) -> RunRecord:
    run = RunRecord.new(name, "classifier", {"mode": "head", "epochs": 5})
    rec = RunRecorder(run)
    rec.add({"kind": "start", "device": "CPU (2 threads)"})
    for step in range(1, n + 1):
        rec.add({"kind": "step", "step": step, "epoch": step / 10, "loss": 1 / step})
        if step % 10 == 0:
            rec.add(
                {
                    "kind": "epoch",
                    "epoch": step // 10,
                    "train_loss": 0.5,
                    "train_accuracy": 0.8,
                    "val_loss": 0.6 + step / 1000,
                    "val_accuracy": 0.7,
                }
            )
    rec.finish("finished", {"val_accuracy": 0.7, "note": "x", "skip": [1, 2]})
    return run


def test_runs_persist_and_reload_identically(tmp_path):
    store = RunStore(tmp_path / "runs")
    a, b = _record("a"), _record("b", n=30)
    a.color, a.hidden = "#E69F00", True
    store.save(a)
    store.save(b)
    loaded = {r.name: r for r in RunStore(tmp_path / "runs").load_all()}
    assert set(loaded) == {"a", "b"}
    again = loaded["a"]
    assert again.meta() == a.meta()
    assert again.device == "CPU (2 threads)" and again.status == "finished"
    assert again.summary == {"val_accuracy": 0.7, "note": "x"}
    for metric in ("train_loss", "val_loss", "val_accuracy", "train_accuracy", "train_loss_epoch"):
        for col in ("step", "epoch", "time", "value"):
            assert np.array_equal(again.metrics[metric].column(col), a.metrics[metric].column(col))
    assert len(again.metrics["train_loss"]) == 50 and len(again.metrics["val_loss"]) == 5


def test_a_damaged_run_is_reported_and_the_others_still_load(tmp_path):
    store = RunStore(tmp_path / "runs")
    good, bad = _record("good"), _record("bad")
    store.save(good)
    store.save(bad)
    (tmp_path / "runs" / bad.id / "metrics.npz").write_bytes(b"garbage")
    runs = store.load_all()
    assert [r.name for r in runs] == ["good"]
    assert len(store.problems) == 1 and "damaged" in store.problems[0]


def test_compare_modes_trains_all_three_on_the_same_split(tiny_dataset):
    folder = ImageFolder.scan(tiny_dataset)
    events = []
    gen = compare_modes(
        folder, TrainSettings(seed=7), overrides={"epochs": 1, "image_size": 32, "batch_size": 8}
    )
    while True:
        try:
            ev = next(gen)
        except StopIteration as done:
            results = done.value
            break
        if ev:
            events.append(ev)
    assert [r.metrics["mode"] for r in results] == ["head", "finetune", "scratch"]
    assert [e["mode"] for e in events if e["kind"] == "run_start"] == [
        "head",
        "finetune",
        "scratch",
    ]
    val_sets = [sorted(r.val_paths) for r in results]
    assert val_sets[0] == val_sets[1] == val_sets[2], "the same images are kept aside"
    assert all(r.settings.seed == 7 for r in results)
    assert all(e.get("run") in (0, 1, 2) for e in events)


def test_early_stopping_in_training_returns_the_best_epochs_model(tiny_dataset):
    folder = ImageFolder.scan(tiny_dataset)
    settings = TrainSettings.for_mode(
        "head", epochs=60, image_size=32, patience=2, learning_rate=0.05
    )
    result = run_to_end(train_classifier(folder, settings))
    h = result.history
    assert result.metrics["epochs"] < 60, "it stopped early"
    best = h["epoch"].index(result.metrics["model_epoch"])
    assert h["val_loss"][best] <= min(h["val_loss"]) + 1e-6, "the model is from the best epoch"
    assert len(h["val_loss"]) - 1 - best == 2, "stopped exactly `patience` epochs after the best"
    assert result.metrics["val_loss"] == pytest.approx(h["val_loss"][best])
    # The returned model really holds that epoch's weights: it reproduces that epoch's loss.
    rows = list(result.classifier.predict_paths(result.val_paths))
    probs = np.array([[r["probabilities"][c] for c in result.classifier.classes] for r in rows])
    loss = -np.log(probs[np.arange(len(probs)), result.val_labels] + 1e-12).mean()
    assert loss == pytest.approx(h["val_loss"][best], rel=0.05, abs=1e-4)
