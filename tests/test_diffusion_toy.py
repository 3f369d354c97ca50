"""The 2D playground: target shapes, the fit measure, and training to a good fit."""

from __future__ import annotations

import numpy as np
import pytest

from lab.core.diffusion.toy2d import (
    FIT_THRESHOLD,
    SHAPES,
    ToySettings,
    fit_distance,
    point_paths,
    target_points,
    train_and_flow,
    train_toy,
)
from lab.core.settings import SettingsError


def _run(gen):
    events = []
    try:
        while True:
            events.append(next(gen))
    except StopIteration as done:
        return events, done.value


@pytest.mark.parametrize("shape", [s for s in SHAPES if s != "drawn"])
def test_shapes_fit_in_the_view_and_the_fit_measure_tells_shape_from_noise(shape):
    a = target_points(shape, 1000, seed=1)
    b = target_points(shape, 1000, seed=2)
    assert a.shape == (1000, 2) and np.abs(a).max() < 2.8
    assert fit_distance(a, b) < FIT_THRESHOLD / 1.5
    noise = np.random.default_rng(0).standard_normal((1000, 2))
    assert fit_distance(noise, b) > 2 * FIT_THRESHOLD


def test_drawn_shape_follows_the_strokes_and_needs_a_drawing():
    pts = target_points("drawn", 500, strokes=[[(0, 0), (10, 0)], [(5, 5)]])
    assert pts.shape == (500, 2) and abs(pts[:, 0].max() - 1.8) < 0.2
    with pytest.raises(SettingsError, match="draw a shape"):
        target_points("drawn", 10, strokes=[])


def test_two_moons_train_to_the_fit_threshold():
    s = ToySettings(shape="two moons", seed=0)
    events, result = _run(train_toy(s, eval_every=250, stop_at_fit=True))
    fits = [e["fit"] for e in events if e["kind"] == "fit"]
    assert result.fit_seconds is not None, fits
    assert result.fit <= FIT_THRESHOLD
    assert fits[0] > result.fit  # it got better as it trained


def test_flow_traces_every_point_from_noise_to_the_shape():
    s = ToySettings(shape="rings", steps=30, points=300)
    events, (result, paths) = _run(train_and_flow(s))
    assert paths["ddim"].shape == paths["ddpm"].shape == (101, 300, 2)
    assert {"train", "fit", "flow"} <= {e["kind"] for e in events}
    again = point_paths(result.diffusion, 300, seed=s.seed + 7, sampler="ddpm")
    np.testing.assert_allclose(paths["ddpm"], again)
    # DDIM paths are smooth: a step moves points less than a DDPM step with fresh noise.
    ddim_moves = np.abs(np.diff(paths["ddim"], axis=0)).mean()
    assert ddim_moves < np.abs(np.diff(paths["ddpm"], axis=0)).mean()


def test_bad_toy_settings_are_refused():
    with pytest.raises(SettingsError) as err:
        ToySettings(shape="cube", steps=0).check()
    assert set(err.value.problems) == {"shape", "steps"}
