"""The diffusion core: schedules, forward noising, one reverse step, samplers, files, the 2D toy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lab.core.diffusion.data import ImageSet
from lab.core.diffusion.forward import ForwardNoising, alpha_bar_curve
from lab.core.diffusion.gaussian import GaussianDiffusion
from lab.core.diffusion.model import UNet, UNetConfig
from lab.core.diffusion.sampling import (
    ANY_CLASS,
    NO_CLASS,
    SampleSettings,
    TrajectoryCache,
    class_labels,
    frame_stride,
    generate,
    sample_trajectory,
)
from lab.core.diffusion.schedule import (
    beta_schedule,
    cosine_beta_schedule,
    linear_beta_schedule,
    noised,
    time_pairs,
)
from lab.core.diffusion.training import ImageTrainSettings, train_image_denoiser
from lab.core.diffusion.weights import (
    DiffusionModelError,
    ImageDenoiser,
    build_diffusion,
    load_denoiser,
    save_denoiser,
)
from lab.core.settings import SettingsError

TINY = UNetConfig(
    image_channels=1,
    image_size=8,
    channels=(8, 16),
    num_classes=3,
    embed_dim=16,
    attention=True,
    mid_blocks=1,
    patch=2,
)


def tiny_model(timesteps: int = 20) -> ImageDenoiser:
    torch.manual_seed(0)
    return ImageDenoiser(build_diffusion(TINY, "cosine", timesteps).eval(), ("a", "b", "c"), "tiny")


class FixedNoise(torch.nn.Module):
    """A 'denoiser' whose prediction we know: eps = 0.3 * x + 0.1 * (class + 1), no class: 0."""

    null_class = 2

    def forward(self, x, t, y):
        shift = torch.where(y == self.null_class, torch.zeros_like(y), y + 1).float()
        return 0.3 * x + 0.1 * shift.reshape(-1, *([1] * (x.dim() - 1)))


# -- schedules and forward noising --------------------------------------------------------
@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_schedules_are_valid_and_end_in_noise(name):
    betas = beta_schedule(name, 1000)
    ab = np.cumprod(1 - betas)
    assert betas.shape == (1000,) and np.all(betas > 0) and np.all(betas < 1)
    assert np.all(np.diff(ab) < 0)
    assert ab[0] > 0.999 and ab[-1] < 1e-3


def test_linear_schedule_is_ho_et_al_and_cosine_is_nichol_dhariwal():
    b = linear_beta_schedule(1000)
    assert b[0] == pytest.approx(1e-4) and b[-1] == pytest.approx(0.02)
    ab = np.cumprod(1 - cosine_beta_schedule(1000))
    t = 500
    s = 0.008
    f = lambda u: math.cos((u / 1000 + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    assert ab[t - 1] == pytest.approx(f(t) / f(0), rel=1e-6)


@pytest.mark.parametrize("t", [0, 100, 500, 900, 999])
def test_q_sample_matches_closed_form_mean_and_variance(t):
    diff = GaussianDiffusion(FixedNoise(), timesteps=1000, schedule="linear")
    ab = float(np.cumprod(1 - linear_beta_schedule(1000))[t])
    x0 = torch.tensor([-0.8, 0.0, 0.5, 1.0]).repeat(50_000, 1)
    torch.manual_seed(1)
    xt = diff.q_sample(x0, torch.full((len(x0),), t))
    mean, var = xt.mean(0).numpy(), xt.var(0).numpy()
    np.testing.assert_allclose(mean, math.sqrt(ab) * x0[0].numpy(), atol=0.015)
    np.testing.assert_allclose(var, 1 - ab, atol=0.015 + 0.02 * (1 - ab))
    # Exactly the formula for a given noise draw, and the same as the numpy version.
    noise = torch.randn(3, 4)
    got = diff.q_sample(x0[:3], torch.full((3,), t), noise)
    want = noised(x0[:3].numpy(), ab, noise.numpy())
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


def test_forward_noising_counts_t_from_the_clean_picture():
    img = np.linspace(-1, 1, 2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    fwd = ForwardNoising(img, "cosine", 1000, seed=3)
    np.testing.assert_allclose(fwd.at(0), img, atol=1e-6)
    ab = alpha_bar_curve("cosine", 1000)
    np.testing.assert_allclose(
        fwd.at(400), math.sqrt(ab[400]) * img + math.sqrt(1 - ab[400]) * fwd.noise, rtol=1e-5
    )
    assert abs(float(np.corrcoef(fwd.at(1000).ravel(), fwd.noise.ravel())[0, 1])) > 0.999
    assert fwd.strip_times(8)[0] == 0 and fwd.strip_times(8)[-1] == 1000


# -- one reverse step, by hand --------------------------------------------------------------
def _hand_constants(T: int, t: int):
    betas = np.asarray(beta_schedule("linear", T), dtype=np.float64)
    ab = np.cumprod(1 - betas)
    ab_prev = 1.0 if t == 0 else ab[t - 1]
    return betas[t], ab[t], ab_prev, ab


@pytest.mark.parametrize("t", [0, 7, 49])
def test_ddpm_step_matches_hand_computation(t):
    T = 50
    diff = GaussianDiffusion(FixedNoise(), timesteps=T, schedule="linear", clip=None)
    x = torch.tensor([[0.4, -1.2, 2.0]], dtype=torch.float32)
    y = torch.tensor([1])
    beta, ab, ab_prev, _ = _hand_constants(T, t)
    xn = x.double().numpy()[0]
    eps = 0.3 * xn + 0.2
    x0 = (xn - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
    mean = (
        beta * math.sqrt(ab_prev) / (1 - ab) * x0
        + (1 - ab_prev) * math.sqrt(1 - beta) / (1 - ab) * xn
    )
    out = diff.p_sample(x, t, y, generator=torch.Generator().manual_seed(5))
    np.testing.assert_allclose(out.noise.numpy()[0], eps, rtol=1e-5)
    np.testing.assert_allclose(out.x_start.numpy()[0], x0, rtol=1e-4, atol=1e-5)
    if t == 0:
        np.testing.assert_allclose(out.image.numpy()[0], mean, rtol=1e-4, atol=1e-5)
    else:
        var = beta * (1 - ab_prev) / (1 - ab)
        z = torch.randn((1, 3), generator=torch.Generator().manual_seed(5)).double().numpy()[0]
        np.testing.assert_allclose(out.image.numpy()[0], mean + math.sqrt(var) * z, rtol=1e-4)


def test_ddim_step_matches_hand_computation():
    T = 50
    diff = GaussianDiffusion(FixedNoise(), timesteps=T, schedule="linear", clip=None)
    x = torch.tensor([[0.4, -1.2, 2.0]])
    t, t_next = 15, 9
    _, ab, _, all_ab = _hand_constants(T, t)
    xn = x.double().numpy()[0]
    eps = 0.3 * xn + 0.1  # class 0
    x0 = (xn - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
    want = math.sqrt(all_ab[t_next]) * x0 + math.sqrt(1 - all_ab[t_next]) * eps
    out = diff.ddim_step(x, t, t_next, torch.tensor([0]))
    np.testing.assert_allclose(out.image.numpy()[0], want, rtol=1e-4)
    last = diff.ddim_step(x, 0, -1, torch.tensor([0]))
    np.testing.assert_allclose(last.image.numpy(), last.x_start.numpy())


def test_guidance_mixes_class_and_no_class_predictions():
    diff = GaussianDiffusion(FixedNoise(), timesteps=10, schedule="linear", clip=None)
    x = torch.zeros(3, 2)
    y = torch.tensor([0, 1, 2])  # 2 is "no class"
    eps = diff.predict_noise(x, torch.zeros(3, dtype=torch.long), y, guidance=3.0)
    # (1 + w) * eps(y) - w * eps(none); eps(none) = 0 here; no guidance for "no class".
    np.testing.assert_allclose(eps[:, 0].numpy(), [4 * 0.1, 4 * 0.2, 0.0], rtol=1e-6)


def test_clipping_keeps_the_predicted_image_in_range_and_noise_consistent():
    diff = GaussianDiffusion(FixedNoise(), timesteps=20, schedule="cosine", clip=1.0)
    x = torch.full((1, 4), 3.0)
    t = torch.tensor([2])
    noise, x0 = diff.model_predictions(x, t, torch.tensor([0]))
    assert float(x0.abs().max()) <= 1.0
    np.testing.assert_allclose(
        diff.predict_start_from_noise(x, t, noise).numpy(), x0.numpy(), atol=1e-5
    )


def test_time_pairs_visit_evenly_spaced_steps_down_to_the_clean_image():
    pairs = time_pairs(1000, 50)
    assert len(pairs) == 50 and pairs[0][0] == 999 and pairs[-1][1] == -1
    ts = [a for a, _ in pairs]
    assert all(a > b for a, b in zip(ts, ts[1:]))
    assert [a for a, _ in time_pairs(20, 20)] == list(range(19, -1, -1))
    with pytest.raises(ValueError):
        time_pairs(1000, 0)


# -- samplers and settings ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "field", "words"),
    [
        (SampleSettings(sampler="ddim", steps=0), "steps", "between 1 and 20"),
        (SampleSettings(n=10_000), "samples", "between 1 and 64"),
        (SampleSettings(n=0), "samples", "between 1 and 64"),
        (SampleSettings(guidance=float("nan")), "guidance", "number"),
        (SampleSettings(guidance=-1.0), "guidance", "between 0"),
        (SampleSettings(class_index=7), "class", "3 classes"),
        (SampleSettings(sampler="euler"), "sampler", "DDPM or DDIM"),
    ],
)
def test_bad_sample_settings_are_refused_with_a_reason(settings, field, words):
    with pytest.raises(SettingsError) as err:
        list(sample_trajectory(tiny_model(), settings))
    assert field in err.value.problems
    assert words in err.value.problems[field]


def test_class_labels_any_none_and_one():
    assert class_labels(SampleSettings(n=5, class_index=ANY_CLASS), 3).tolist() == [0, 1, 2, 0, 1]
    assert class_labels(SampleSettings(n=2, class_index=NO_CLASS), 3).tolist() == [3, 3]
    assert class_labels(SampleSettings(n=2, class_index=1), 3).tolist() == [1, 1]


def _run(gen):
    events = []
    try:
        while True:
            events.append(next(gen))
    except StopIteration as done:
        return events, done.value


@pytest.mark.parametrize(("sampler", "steps"), [("ddim", 5), ("ddpm", 0)])
def test_trajectory_keeps_every_step_and_is_reproducible(sampler, steps):
    model = tiny_model(timesteps=12)
    calls = []
    model.diffusion.model.register_forward_hook(lambda *a: calls.append(a[1][0].shape[0]))
    s = SampleSettings(n=3, seed=4, class_index=1, guidance=2.0, sampler=sampler, steps=steps or 1)
    events, traj = _run(sample_trajectory(model, s))
    total = 5 if sampler == "ddim" else 12
    assert len(calls) == total and set(calls) == {6}  # one batched call per step: class + none
    assert events[-1] == {"kind": "sample", "done": total, "total": total}
    assert traj.frames == total + 1 and traj.step_numbers[-1] == total
    assert traj.x.shape == (total + 1, 3, 8, 8, 1) and traj.x.dtype == np.uint8
    assert traj.times[0] == 11 and traj.times[-1] == -1
    final_u8 = np.clip((traj.final + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(traj.x[-1], np.moveaxis(final_u8, 1, -1))
    np.testing.assert_allclose(generate(model, s), traj.final)
    other = generate(model, SampleSettings(**{**s.to_dict(), "seed": 5}))
    assert not np.allclose(other, traj.final)


def test_trajectory_stops_between_steps():
    from lab.core.tasks import StopFlag

    stop = StopFlag()
    gen = sample_trajectory(tiny_model(), SampleSettings(n=2, sampler="ddim", steps=10), stop=stop)
    next(gen)
    stop.request()
    _, value = _run(gen)
    assert value is None


def test_long_trajectories_keep_every_kth_step_within_the_memory_budget():
    assert frame_stride(51, 16, 784) == 1
    assert frame_stride(1001, 64, 3 * 32 * 32, budget=100 * 1024 * 1024) == 6


def test_cache_is_keyed_by_settings_and_forgets_the_oldest():
    model = tiny_model()
    a = _run(sample_trajectory(model, SampleSettings(n=2, steps=3)))[1]
    b = _run(sample_trajectory(model, SampleSettings(n=2, steps=4)))[1]
    c = _run(sample_trajectory(model, SampleSettings(n=2, steps=5)))[1]
    cache = TrajectoryCache(max_bytes=a.nbytes + c.nbytes)
    cache.put(a)
    cache.put(b)
    assert cache.get(model.uid, SampleSettings(n=2, steps=3)) is a
    assert cache.get(model.uid, SampleSettings(n=2, steps=3, seed=1)) is None
    assert cache.get("another model", SampleSettings(n=2, steps=3)) is None
    cache.put(c)  # over budget: b is now the oldest (a was just read)
    assert cache.get(model.uid, SampleSettings(n=2, steps=4)) is None
    assert len(cache) == 2


# -- model files -----------------------------------------------------------------------------
def test_weights_round_trip_and_load_with_weights_only(tmp_path):
    model = tiny_model()
    path = tmp_path / "m.pt"
    save_denoiser(path, model)
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "ml-lab-diffusion"
    loaded = load_denoiser(path)
    assert loaded.classes == ("a", "b", "c") and loaded.config == TINY
    s = SampleSettings(n=2, steps=3)
    np.testing.assert_allclose(generate(loaded, s), generate(model, s), atol=1e-6)


def test_corrupt_or_foreign_weights_files_are_refused_with_a_message(tmp_path):
    good = tmp_path / "good.pt"
    save_denoiser(good, tiny_model())
    cases = {
        "empty.pt": b"",
        "text.pt": b"these are not weights",
        "cut.pt": good.read_bytes()[: good.stat().st_size // 2],
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    torch.save({"hello": torch.zeros(2)}, tmp_path / "foreign.pt")
    payload = torch.load(good, weights_only=True)
    payload["state_dict"] = {k: v[..., :1] for k, v in payload["state_dict"].items()}
    torch.save(payload, tmp_path / "mismatch.pt")
    expected = {
        "empty.pt": "is empty",
        "text.pt": "damaged or is not",
        "cut.pt": "damaged or is not",
        "foreign.pt": "not an ML Lab diffusion model",
        "mismatch.pt": "do not fit together",
        "missing.pt": "does not exist",
    }
    for name, words in expected.items():
        with pytest.raises(DiffusionModelError) as err:
            load_denoiser(tmp_path / name)
        assert words in str(err.value), name
        assert name in str(err.value)


def test_unet_output_has_the_input_shape_for_grey_and_colour():
    for c, size in ((1, 28), (3, 32)):
        net = UNet(UNetConfig(image_channels=c, image_size=size, channels=(8, 16), embed_dim=16))
        x = torch.randn(2, c, size, size)
        assert net(x, torch.tensor([0, 999]), torch.tensor([0, 10])).shape == x.shape


# -- training ----------------------------------------------------------------------------------
def test_training_lowers_the_loss_and_stop_keeps_the_model():
    from lab.core.tasks import StopFlag

    rng = np.random.default_rng(0)
    imgs = np.where(rng.random((64, 1, 8, 8)) < 0.5, -1.0, 1.0).astype(np.float32)
    imgs[:32, :, :4] = -1.0  # class 0: top half dark
    data = ImageSet(imgs, np.repeat([0, 1], 32), ("dark top", "noisy"), "made up for the test")
    s = ImageTrainSettings(steps=40, batch_size=16, warmup_steps=5, learning_rate=3e-3)
    events, model = _run(
        train_image_denoiser(data, s, TINY.__class__(**{**TINY.__dict__, "num_classes": 2}))
    )
    losses = [e["loss"] for e in events if e["kind"] == "train"]
    assert losses[-1] < losses[0]
    assert model.meta["steps_done"] == 40 and model.classes == ("dark top", "noisy")
    stop = StopFlag()
    gen = train_image_denoiser(data, ImageTrainSettings(steps=100_000, batch_size=16), stop=stop)
    first = next(gen)
    stop.request()
    _, stopped = _run(gen)
    assert stopped.meta["steps_done"] == first["step"] < 100_000
    generate(stopped, SampleSettings(n=2, steps=2))  # usable for sampling


def test_bad_training_settings_are_refused():
    with pytest.raises(SettingsError) as err:
        ImageTrainSettings(steps=0, learning_rate=-1, schedule="wiggly").check()
    assert set(err.value.problems) == {"steps", "learning_rate", "schedule"}
