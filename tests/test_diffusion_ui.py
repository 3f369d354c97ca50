"""The Diffusion tab: forward noising, generating and scrubbing, the 2D playground, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from lab.core.diffusion.data import to_uint8
from lab.core.diffusion.forward import ForwardNoising, alpha_bar_curve
from lab.core.diffusion.model import UNetConfig
from lab.core.diffusion.sampling import SampleSettings
from lab.core.diffusion.weights import DiffusionModelError, ImageDenoiser, build_diffusion
from lab.core.workspace import Workspace
from lab.ui.diffusion import DiffusionTab
from lab.ui.diffusion.forward_panel import ForwardPanel
from lab.ui.diffusion.reverse_panel import ReversePanel
from lab.ui.diffusion.toy_panel import ToyPanel
from tests.conftest import make_dataset

TINY = UNetConfig(
    image_channels=1,
    image_size=8,
    channels=(8, 16),
    num_classes=3,
    embed_dim=16,
    attention=False,
    mid_blocks=1,
    patch=2,
)


def tiny_model(name: str = "tiny") -> ImageDenoiser:
    torch.manual_seed(0)
    return ImageDenoiser(build_diffusion(TINY, "cosine", 30).eval(), ("a", "b", "c"), name)


def count_calls(model: ImageDenoiser) -> list:
    calls: list = []
    model.diffusion.model.register_forward_hook(lambda *a: calls.append(1))
    return calls


def finish(qtbot, runner, timeout=60_000) -> None:
    if runner.running:
        with qtbot.waitSignal(runner.finished, timeout=timeout):
            pass


# -- generating and scrubbing ------------------------------------------------------------------
def test_scrubbing_after_generation_never_calls_the_model(qtbot):
    model = tiny_model()
    panel = ReversePanel(model)
    qtbot.addWidget(panel)
    calls = count_calls(model)
    panel.samples.setValue(4)
    panel.steps.setValue(6)
    panel.class_box.setCurrentIndex(panel.class_box.findData(1))
    with qtbot.waitSignal(panel.runner.result, timeout=30_000):
        assert panel.generate()
    finish(qtbot, panel.runner)
    traj = panel.trajectory
    assert traj is not None and traj.frames == 7 and len(calls) == 6
    assert panel.progress.value() == 6
    made = len(calls)

    for k in (0, 3, 6, 2, 5):
        panel.scrubber.setValue(k)
        np.testing.assert_array_equal(panel.x_view.array, traj.x[k, 0])
        np.testing.assert_array_equal(panel.eps_view.array, traj.noise[k, 0])
        np.testing.assert_array_equal(panel.x0_view.array, traj.x_start[k, 0])
    qtbot.mouseClick(panel.grid, Qt.MouseButton.LeftButton, pos=panel.grid.cell_rect(2).center())
    assert panel.grid.selected == 2
    np.testing.assert_array_equal(panel.x_view.array, traj.x[5, 2])
    assert "asked for “b”" in panel.sample_label.text()
    panel.back_button.click()
    assert panel.scrubber.value() == 4 and "step 4 of 6" in panel.step_label.text()
    panel.forward_button.click()
    panel.toggle_play()
    qtbot.waitUntil(lambda: not panel.timer.isActive(), timeout=10_000)
    assert panel.scrubber.value() == 6 and "finished" in panel.step_label.text()

    # The same settings again come from the cache: no task, no model call.
    assert panel.generate()
    assert not panel.runner.running
    assert "from memory" in panel.info.text()
    assert len(calls) == made
    panel.shutdown()


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (SampleSettings(sampler="ddim", steps=0), "between 1 and 30"),
        (SampleSettings(n=10_000), "between 1 and 64 (asked for 10,000)"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(qtbot, settings, words):
    model = tiny_model()
    panel = ReversePanel(model)
    qtbot.addWidget(panel)
    calls = count_calls(model)
    assert not panel.generate(settings)
    assert words in panel.notice.text and panel.notice.level == "error"
    assert not panel.runner.running and not calls


def test_a_missing_or_broken_shipped_model_is_explained(qtbot, monkeypatch):
    import lab.ui.diffusion.reverse_panel as rp

    def broken():
        raise DiffusionModelError(
            "fashion_unet.pt is damaged or is not an ML Lab diffusion model file."
        )

    monkeypatch.setattr(rp, "load_shipped", broken)
    panel = ReversePanel()
    qtbot.addWidget(panel)
    assert "damaged" in panel.notice.text
    assert not panel.generate_button.isEnabled()
    panel.add_model(tiny_model("mine"))
    assert panel.generate_button.isEnabled() and panel.model_box.currentText() == "mine"


def test_a_new_generation_replaces_the_running_one(qtbot):
    model = tiny_model()
    panel = ReversePanel(model)
    qtbot.addWidget(panel)
    panel.sampler.setCurrentIndex(panel.sampler.findData("ddpm"))
    panel.samples.setValue(64)
    panel.generate()
    panel.sampler.setCurrentIndex(panel.sampler.findData("ddim"))
    panel.samples.setValue(2)
    panel.steps.setValue(3)
    with qtbot.waitSignal(panel.runner.result, timeout=30_000):
        panel.generate()
    finish(qtbot, panel.runner)
    assert panel.trajectory.settings.n == 2 and panel.trajectory.frames == 4
    panel.shutdown()


# -- forward noising ------------------------------------------------------------------------------
def test_forward_panel_shows_x_t_from_the_closed_form(qtbot, tmp_path):
    panel = ForwardPanel(Workspace(tmp_path / "ws"))
    qtbot.addWidget(panel)
    img = np.linspace(-1, 1, 3 * 16 * 16, dtype=np.float32).reshape(3, 16, 16)
    panel.set_picture(img, "ramp")
    panel.slider.setValue(300)
    want = ForwardNoising(img, "cosine", 1000, seed=0).at(300)
    np.testing.assert_array_equal(panel.view.array, to_uint8(want))
    xs, ys = panel.marker.getData()
    assert xs[0] == 300 and ys[0] == pytest.approx(alpha_bar_curve("cosine", 1000)[300])
    panel.schedule.setCurrentIndex(panel.schedule.findData("linear"))
    xs, ys = panel.marker.getData()
    assert ys[0] == pytest.approx(alpha_bar_curve("linear", 1000)[300])
    assert [v.caption.text() for v in panel.strip_views][::7] == ["t = 0", "t = 1000"]
    panel.curve.setCurrentIndex(panel.curve.findData("snr"))
    xs, ys = panel.marker.getData()
    ab = alpha_bar_curve("linear", 1000)[300]
    assert ys[0] == pytest.approx(np.log10(ab / (1 - ab)))
    panel.toggle_play()
    qtbot.waitUntil(lambda: panel.slider.value() == 1000, timeout=10_000)
    assert not panel.timer.isActive()


def test_forward_panel_uses_your_images_and_explains_a_broken_one(qtbot, tmp_path):
    ws = Workspace(make_dataset(tmp_path / "ws", per_class=2))
    panel = ForwardPanel(ws)
    qtbot.addWidget(panel)
    i = panel.source.findData("photos")
    assert i >= 0 and "(4)" in panel.source.itemText(i)
    panel.source.setCurrentIndex(i)
    assert panel.view.array.shape == (96, 96, 3)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a picture")
    assert not panel.open_file(bad)
    assert "broken.jpg" in panel.notice.text and panel.notice.level == "error"


# -- 2D playground --------------------------------------------------------------------------------
def test_toy_panel_trains_then_flows_points_without_the_model(qtbot):
    panel = ToyPanel()
    qtbot.addWidget(panel)
    panel.train_steps.setValue(100)
    panel.points.setValue(300)
    with qtbot.waitSignal(panel.runner.result, timeout=60_000):
        assert panel.train()
    finish(qtbot, panel.runner)
    assert panel.paths.shape == (101, 300, 2)
    xs, ys = panel.loss_plot.data("loss")
    assert xs[-1] == 100 and all(np.isfinite(ys))
    assert "Fit distance" in panel.fit_label.text()
    panel._stop_playing()
    panel.scrubber.setValue(100)
    x, y = panel.canvas.points_item.getData()
    np.testing.assert_allclose(x, panel.all_paths["ddim"][100][:, 0])
    assert "step 100 of 100" in panel.step_label.text()
    panel.path_kind.setCurrentIndex(panel.path_kind.findData("ddpm"))
    x, y = panel.canvas.points_item.getData()
    np.testing.assert_allclose(x, panel.all_paths["ddpm"][100][:, 0])


def test_drawing_mode_needs_a_drawing_first(qtbot):
    panel = ToyPanel()
    qtbot.addWidget(panel)
    panel.shape.setCurrentIndex(panel.shape.findData("drawn"))
    assert not panel.train()
    assert "draw a shape" in panel.notice.text
    panel.canvas.strokes = [[(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)]]
    panel.canvas.strokes_changed.emit()
    assert len(panel.canvas.target_item.getData()[0]) == 2000


# -- the whole tab: train your own, then generate with it ----------------------------------------
def test_train_your_own_on_your_images_then_generate_with_it(qtbot, tmp_path):
    ws = Workspace(make_dataset(tmp_path / "ws", per_class=5))
    tab = DiffusionTab(ws, model=tiny_model())
    qtbot.addWidget(tab)
    assert tab.title == "Diffusion"
    t = tab.training
    t.source.setCurrentIndex(t.source.findData("workspace"))
    t.steps.setValue(10)
    t.batch.setValue(4)
    with qtbot.waitSignal(t.model_ready, timeout=60_000) as ready:
        assert t.train()
    finish(qtbot, t.runner)
    model = ready.args[0]
    assert model.classes == ("cat", "raccoon") and model.image_shape == (3, 32, 32)
    xs, _ = t.loss_plot.data("loss")
    assert xs and xs[-1] == 10
    r = tab.reverse
    assert r.model_box.currentText() == "Your model (your images)"
    t.use_button.click()
    assert tab.pages.currentWidget() is r
    assert [r.class_box.itemText(i) for i in range(r.class_box.count())][1:3] == ["cat", "raccoon"]
    r.samples.setValue(2)
    r.steps.setValue(3)
    with qtbot.waitSignal(r.runner.result, timeout=30_000):
        r.generate()
    finish(qtbot, r.runner)
    assert r.trajectory.x.shape == (4, 2, 32, 32, 3)
    tab.shutdown()


def test_closing_mid_task_stops_everything(qtbot):
    tab = DiffusionTab(model=tiny_model())
    qtbot.addWidget(tab)
    tab.reverse.sampler.setCurrentIndex(tab.reverse.sampler.findData("ddpm"))
    tab.reverse.generate()
    tab.toy.train()
    tab.shutdown()
    assert not tab.reverse.runner.running and not tab.toy.runner.running
