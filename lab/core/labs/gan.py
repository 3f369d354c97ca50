"""A GAN on 2D points, trained live: a generator learns to fool a discriminator.

The generator turns random noise into points; the discriminator scores how "real" a point
looks. Each step trains the discriminator on real vs fake points, then the generator to make
the discriminator say "real". The fake points drift onto the target shape.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Generator

import numpy as np
import torch
from torch import nn

from lab.core.labs.toy_data import mean_nn_distance
from lab.core.tasks import StopFlag, on_one_thread

NOISE_DIM = 4
DIVERGED = (
    "The losses became infinite at step {step}, so training stopped; the networks went back "
    "to their last good weights."
)


def _mlp(n_in: int, n_out: int, hidden: int = 64) -> nn.Module:
    return nn.Sequential(
        nn.Linear(n_in, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, n_out),
    )


def decision_grid(disc: nn.Module, extent: float = 2.0, n: int = 60) -> np.ndarray:
    """The discriminator's P(real) on an n×n grid over [-extent, extent]² (rows = y)."""
    xs = torch.linspace(-extent, extent, n)
    gy, gx = torch.meshgrid(xs, xs, indexing="ij")
    with torch.no_grad():
        p = torch.sigmoid(disc(torch.stack([gx.flatten(), gy.flatten()], 1)))
    return p.reshape(n, n).numpy()


@on_one_thread
def train_gan(
    target: np.ndarray,
    steps: int = 2000,
    batch: int = 256,
    seed: int = 0,
    report_every: int = 50,
    n_show: int = 600,
    stop: StopFlag | None = None,
) -> Generator[dict, None, dict]:
    """Yield {"step", "d_loss", "g_loss", "fake" (n_show×2), "grid", "distance"} as it trains.

    If a loss becomes infinite the last event also has "diverged" (a sentence) and training
    ends with the last good weights.

    distance is the mean distance from fake points to their nearest real point: it falls as
    the generator learns the shape.
    """
    stop = stop or StopFlag()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    real_all = torch.from_numpy(np.asarray(target, dtype=np.float32))
    gen, disc = _mlp(NOISE_DIM, 2), _mlp(2, 1)
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    fixed_noise = torch.randn(n_show, NOISE_DIM)
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    show_real = target[rng.choice(len(target), size=min(len(target), 1000), replace=False)]
    last: dict = {}

    def report(step: int, d_loss: float, g_loss: float) -> dict:
        with torch.no_grad():
            shown = gen(fixed_noise).numpy()
        return {
            "step": step,
            "d_loss": d_loss,
            "g_loss": g_loss,
            "fake": shown,
            "grid": decision_grid(disc),
            "distance": mean_nn_distance(shown, show_real),
        }

    good = (copy.deepcopy(gen.state_dict()), copy.deepcopy(disc.state_dict()))
    for step in range(1, steps + 1):
        if stop.requested:
            break
        real = real_all[torch.randint(len(real_all), (batch,))]
        fake = gen(torch.randn(batch, NOISE_DIM))
        opt_d.zero_grad()
        d_loss = bce(disc(real), ones) + bce(disc(fake.detach()), zeros)
        g_loss = None
        if torch.isfinite(d_loss):
            d_loss.backward()
            opt_d.step()
            opt_g.zero_grad()
            g_loss = bce(disc(fake), ones)  # the generator wants "real"
        if g_loss is None or not torch.isfinite(g_loss):
            # Numbers blew up: go back to the last good weights and say so.
            gen.load_state_dict(good[0])
            disc.load_state_dict(good[1])
            last = {
                **report(step, last.get("d_loss", math.nan), last.get("g_loss", math.nan)),
                "diverged": DIVERGED.format(step=step),
            }
            yield last
            break
        g_loss.backward()
        opt_g.step()
        if step % report_every == 0 or step == 1 or step == steps:
            last = report(step, float(d_loss.detach()), float(g_loss.detach()))
            good = (copy.deepcopy(gen.state_dict()), copy.deepcopy(disc.state_dict()))
            yield last
    return last
