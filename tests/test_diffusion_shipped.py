"""The Fashion-MNIST model ML Lab ships: small, loads offline, draws the class asked for."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lab.core.diffusion.data import FASHION_CLASSES, fashion_mnist_dir
from lab.core.diffusion.judge import classify, evaluate_judge, load_judge, shipped_judge_path
from lab.core.diffusion.sampling import DEFAULT_GUIDANCE, SampleSettings, generate
from lab.core.diffusion.weights import load_shipped, shipped_weights_path

MAX_BYTES = 20 * 1024 * 1024
needs_fashion = pytest.mark.skipif(
    fashion_mnist_dir() is None,
    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)


def test_shipped_files_are_small_load_offline_and_record_their_training():
    for path in (shipped_weights_path(), shipped_judge_path()):
        assert path.is_file(), f"{path} is missing"
        assert path.stat().st_size <= MAX_BYTES
        assert isinstance(torch.load(path, map_location="cpu", weights_only=True), dict)
    model = load_shipped()
    assert model.classes == FASHION_CLASSES and model.image_shape == (1, 28, 28)
    record = json.loads(shipped_weights_path().with_suffix(".json").read_text())
    assert record["steps_done"] == record["settings"]["steps"]
    assert record["command"].startswith("python -m lab.core.diffusion.train")
    steps, losses = zip(*record["loss_curve"])
    assert steps[-1] == record["steps_done"] and losses[-1] < losses[0] / 3


@needs_fashion
def test_shipped_classifier_is_right_on_at_least_88_percent_of_the_real_test_set():
    judge, meta = load_judge()
    accuracy = evaluate_judge(judge)
    assert accuracy >= 0.88
    assert meta["test_accuracy"] == pytest.approx(accuracy, abs=1e-6)


def test_samples_look_like_the_class_asked_for():
    model = load_shipped()
    judge, _ = load_judge()
    hits = []
    for c in range(10):
        s = SampleSettings(n=8, seed=c, class_index=c, guidance=DEFAULT_GUIDANCE, steps=25)
        hits.append(classify(judge, generate(model, s)) == c)
    rate = float(np.mean(hits))
    assert rate >= 0.8, f"only {rate:.0%} of the samples show the class asked for"
