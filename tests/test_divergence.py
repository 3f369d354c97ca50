"""Numerical trouble: a huge learning rate or an infinite loss stops training with a plain
message, and the model goes back to its last good weights (classifier, diffusion, labs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import make_dataset, make_image

from lab.core.dataset import ImageFolder
from lab.core.features import FeatureCache
from lab.core.settings import TrainSettings
from lab.core.training import run_to_end, train_classifier
from lab.core.workspace import Workspace


def _events_and_result(gen):
    events = []
    while True:
        try:
            ev = next(gen)
        except StopIteration as done:
            return events, done.value
        if ev:
            events.append(ev)


def _finite(module: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


def _explode_at(monkeypatch, module, name: str, call: int) -> None:
    """Make the n-th training-time call of module.name return an infinite loss."""
    real = getattr(module, name)
    calls = {"n": 0}

    def exploding(*args, **kwargs):
        loss = real(*args, **kwargs)
        if not torch.is_grad_enabled():
            return loss
        calls["n"] += 1
        return loss * float("inf") if calls["n"] == call else loss

    monkeypatch.setattr(module, name, exploding)


# -- the classifier, each mode ---------------------------------------------------------------
@pytest.mark.parametrize(
    "mode, size", [("scratch", 32), ("finetune", 32)], ids=["scratch", "finetune"]
)
def test_a_learning_rate_of_10_stops_with_a_plain_message(tmp_path, mode, size):
    folder = ImageFolder.scan(make_dataset(tmp_path / "d", per_class=8))
    settings = TrainSettings.for_mode(
        mode, epochs=3, image_size=size, batch_size=8, learning_rate=10.0
    )
    events, result = _events_and_result(train_classifier(folder, settings))
    diverged = [e for e in events if e["kind"] == "diverged"]
    assert len(diverged) == 1
    assert result.diverged.startswith("The learning rate is too large: the loss exploded")
    assert "last good weights" in result.diverged
    assert diverged[0]["epoch"] > 0
    assert result.metrics["diverged"]
    # No exploded loss reaches the curve, and the model is usable.
    losses = [e["loss"] for e in events if e["kind"] == "step"]
    assert max(losses) < 100 * max(losses[0], np.log(2))
    assert _finite(result.classifier.net)
    out = list(result.classifier.predict_paths([folder.samples[0].path]))
    assert out[0]["label"] in ("cat", "raccoon")
    assert sum(out[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_an_infinite_loss_restores_exactly_the_last_good_epoch(tiny_dataset, monkeypatch):
    import lab.core.training as training

    folder = ImageFolder.scan(tiny_dataset)
    two = TrainSettings.for_mode("scratch", epochs=2, image_size=32, batch_size=8)
    clean = run_to_end(train_classifier(folder, two))
    steps_per_epoch = len(clean.history["loss"]) // 2
    # The first step of epoch 3 blows up: the model must be the one after epoch 2.
    _explode_at(monkeypatch, training.F, "cross_entropy", 2 * steps_per_epoch + 1)
    five = TrainSettings.for_mode("scratch", epochs=5, image_size=32, batch_size=8)
    events, result = _events_and_result(train_classifier(folder, five))
    assert "the loss became infinite at step" in result.diverged
    assert "epoch 2" in result.diverged
    assert result.metrics["epochs"] == 2
    assert result.metrics["val_accuracy"] == pytest.approx(clean.metrics["val_accuracy"])
    for a, b in zip(
        result.classifier.net.state_dict().values(), clean.classifier.net.state_dict().values()
    ):
        assert torch.equal(a, b), "the weights are those of the last good epoch"


def test_head_mode_catches_an_infinite_loss(tiny_dataset, tmp_path, monkeypatch):
    import lab.core.training as training

    _explode_at(monkeypatch, training.F, "cross_entropy", 3)
    settings = TrainSettings.for_mode("head", epochs=4, image_size=64, batch_size=8)
    events, result = _events_and_result(
        train_classifier(
            ImageFolder.scan(tiny_dataset), settings, cache=FeatureCache(tmp_path / "c")
        )
    )
    assert "the loss became infinite at step 3" in result.diverged
    assert "those it started with" in result.diverged
    assert _finite(result.classifier.net)
    out = list(result.classifier.predict_paths([ImageFolder.scan(tiny_dataset).samples[0].path]))
    assert "label" in out[0]


# -- the classifier tab ----------------------------------------------------------------------
def test_the_training_panel_explains_marks_the_curve_and_keeps_a_usable_model(qtbot, tmp_path):
    from lab.ui.main_window import MainWindow

    w = MainWindow(workspace=Workspace(tmp_path / "ws"), cache=FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(w)
    w.show()
    w.show_tab("Classifier")
    tab = w.classifier
    tab.data.import_tree(make_dataset(tmp_path / "src", per_class=8))
    if tab.data.runner.running:
        with qtbot.waitSignal(tab.data.runner.finished, timeout=20000):
            pass
    tab.form.set_settings(
        TrainSettings.for_mode("scratch", epochs=3, image_size=32, batch_size=8, learning_rate=10)
    )
    with qtbot.waitSignal(tab.runner.result, timeout=60000) as blocker:
        assert tab.start_training()
    if tab.runner.running:
        with qtbot.waitSignal(tab.runner.finished, timeout=20000):
            pass
    result = blocker.args[0]
    assert result.diverged
    assert "learning rate is too large" in tab.view.status.text()
    assert "Training went wrong" in tab.view.result.text()
    assert tab.view.divergence_mark is not None
    x, y = tab.view.divergence_mark
    xs, ys = tab.view.loss_plot.data("training (each batch)")
    assert xs[-1] <= x and np.isfinite(y) and y == ys[-1]
    assert tab.model is result.classifier and _finite(tab.model.net)
    photo = make_image(tmp_path / "new.png", 0)
    assert "label" in next(tab.model.predict_paths([photo]))
    w.close()


# -- diffusion training ----------------------------------------------------------------------
def _tiny_diffusion_data():
    from lab.core.diffusion.data import ImageSet

    rng = np.random.default_rng(0)
    imgs = np.where(rng.random((32, 1, 8, 8)) < 0.5, -1.0, 1.0).astype(np.float32)
    return ImageSet(imgs, np.repeat([0, 1], 16), ("a", "b"), "made up for the test")


def _tiny_config():
    from lab.core.diffusion.model import UNetConfig

    return UNetConfig(image_channels=1, image_size=8, channels=(8, 16), num_classes=2, embed_dim=16)


def test_diffusion_training_stops_on_an_infinite_loss_and_keeps_the_last_good_model(monkeypatch):
    from lab.core.diffusion import gaussian
    from lab.core.diffusion.training import ImageTrainSettings, train_image_denoiser

    data, config = _tiny_diffusion_data(), _tiny_config()
    s = ImageTrainSettings(
        steps=20, batch_size=8, warmup_steps=1, learning_rate=3e-3, checkpoint_every=4
    )
    real = gaussian.GaussianDiffusion.forward
    calls = {"n": 0}

    def blows_up_on_the_fifth(self, *args, **kwargs):
        calls["n"] += 1
        loss = real(self, *args, **kwargs)
        return loss * float("nan") if calls["n"] == 5 else loss

    monkeypatch.setattr(gaussian.GaussianDiffusion, "forward", blows_up_on_the_fifth)
    events, model = _events_and_result(train_image_denoiser(data, s, config))
    # The checkpoint after step 4 is the last good model.
    (checkpoint,) = [e["model"] for e in events if e["kind"] == "checkpoint"]
    clean = checkpoint
    diverged = [e for e in events if e["kind"] == "diverged"]
    assert len(diverged) == 1 and diverged[0]["step"] == 5
    assert (
        "learning rate is too large: the loss became infinite at step 5" in diverged[0]["message"]
    )
    assert model.meta["diverged"] == diverged[0]["message"] and model.meta["steps_done"] == 4
    for a, b in zip(model.diffusion.state_dict().values(), clean.diffusion.state_dict().values()):
        assert torch.equal(a, b), "the model is the one of the last good step"


def test_the_diffusion_train_panel_shows_the_message(qtbot, tmp_path, monkeypatch):
    from lab.core.diffusion import gaussian
    from lab.ui.diffusion.train_panel import TrainPanel

    real = gaussian.GaussianDiffusion.forward
    calls = {"n": 0}

    def blows_up_on_the_third(self, *args, **kwargs):
        calls["n"] += 1
        loss = real(self, *args, **kwargs)
        return loss * float("inf") if calls["n"] == 3 else loss

    monkeypatch.setattr(gaussian.GaussianDiffusion, "forward", blows_up_on_the_third)
    panel = TrainPanel(Workspace(make_dataset(tmp_path / "ws", per_class=4)))
    qtbot.addWidget(panel)
    panel.source.setCurrentIndex(panel.source.findData("workspace"))
    panel.steps.setValue(10)
    panel.batch.setValue(4)
    with qtbot.waitSignal(panel.model_ready, timeout=60_000) as ready:
        assert panel.train()
    if panel.runner.running:
        with qtbot.waitSignal(panel.runner.finished, timeout=20_000):
            pass
    assert "learning rate is too large" in panel.notice.text
    assert ready.args[0].meta["steps_done"] == 2 and _finite(ready.args[0].diffusion)
    panel.shutdown()


# -- concept labs ------------------------------------------------------------------------------
def test_the_gan_lab_stops_on_an_infinite_loss_with_its_last_good_weights(monkeypatch):
    from lab.core.labs import gan
    from lab.core.labs.toy_data import sample_shape

    target = sample_shape("moons", 500, seed=1)
    real_bce = torch.nn.BCEWithLogitsLoss.forward
    calls = {"n": 0}

    def bad(self, *args):
        calls["n"] += 1
        loss = real_bce(self, *args)
        return loss * float("inf") if calls["n"] == 2 * 60 else loss

    monkeypatch.setattr(torch.nn.BCEWithLogitsLoss, "forward", bad)
    events = []
    gen = gan.train_gan(target, steps=200, batch=32, report_every=10, n_show=50)
    last = None
    while True:
        try:
            events.append(next(gen))
        except StopIteration as done:
            last = done.value
            break
    assert "diverged" in last and "infinite" in last["diverged"]
    assert np.isfinite(last["fake"]).all() and np.isfinite(last["grid"]).all()
    assert last["step"] < 200 and not any("diverged" in e for e in events[:-1])


def test_the_memorize_lab_stops_on_an_infinite_loss(monkeypatch):
    from lab.core.labs import memorize

    _explode_at(monkeypatch, memorize.nn.functional, "cross_entropy", 21)
    events: list = []
    gen = memorize.memorize_vs_generalize(n_train=40, n_val=40, steps=100, report_every=5)
    while True:
        try:
            events.append(next(gen))
        except StopIteration as done:
            result = done.value
            break
    assert "diverged" in events[-1] and events[-1]["step"] == 11
    assert 0.0 <= result["true_train"] <= 1.0
