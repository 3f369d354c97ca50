"""Noise schedules: pure functions from a number of steps to the betas and what follows from them.

The forward process adds Gaussian noise in T small steps; beta_t is the variance added at
step t and alpha_bar_t = prod(1 - beta) is how much of the original signal survives.
"""

from __future__ import annotations

import math

import numpy as np

SCHEDULES = ("linear", "cosine")


def linear_beta_schedule(timesteps: int) -> np.ndarray:
    """Ho et al. (2020): betas from 1e-4 to 0.02 at T = 1000, scaled for other T."""
    scale = 1000 / timesteps
    betas = np.linspace(scale * 1e-4, scale * 0.02, timesteps, dtype=np.float64)
    return np.clip(betas, 0, 0.999)  # very short schedules would otherwise reach 1


def cosine_beta_schedule(timesteps: int, s: float = 0.008) -> np.ndarray:
    """Nichol & Dhariwal (2021): alpha_bar follows a squared cosine, so less signal is wasted."""
    steps = np.arange(timesteps + 1, dtype=np.float64)
    f = np.cos(((steps / timesteps) + s) / (1 + s) * math.pi / 2) ** 2
    alphas_cumprod = f / f[0]
    betas = 1 - alphas_cumprod[1:] / alphas_cumprod[:-1]
    return np.clip(betas, 0, 0.999)


def beta_schedule(name: str, timesteps: int) -> np.ndarray:
    if timesteps < 1:
        raise ValueError("A schedule needs at least one step.")
    if name == "linear":
        return linear_beta_schedule(timesteps)
    if name == "cosine":
        return cosine_beta_schedule(timesteps)
    raise ValueError(f"Unknown noise schedule '{name}'; choose one of {', '.join(SCHEDULES)}.")


def alphas_cumprod(betas: np.ndarray) -> np.ndarray:
    return np.cumprod(1.0 - np.asarray(betas, dtype=np.float64))


def signal_to_noise(alpha_bar: np.ndarray) -> np.ndarray:
    """SNR_t = alpha_bar / (1 - alpha_bar): signal power over noise power in x_t."""
    alpha_bar = np.asarray(alpha_bar, dtype=np.float64)
    return alpha_bar / np.maximum(1.0 - alpha_bar, 1e-20)


def time_pairs(total: int, steps: int) -> list[tuple[int, int]]:
    """(t, t_next) pairs a sampler with `steps` steps visits, from T-1 down; the last t_next is -1.

    With steps == total this is every step (DDPM); fewer steps skip evenly (DDIM).
    """
    if not 1 <= steps <= total:
        raise ValueError(f"The number of steps must be between 1 and {total}.")
    times = np.linspace(-1, total - 1, steps + 1).round().astype(int)[::-1]
    return [(int(a), int(b)) for a, b in zip(times[:-1], times[1:])]


def noised(x_start: np.ndarray, alpha_bar: float, noise: np.ndarray) -> np.ndarray:
    """The closed form of forward diffusion: x_t = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) ε."""
    return np.sqrt(alpha_bar) * x_start + np.sqrt(1.0 - alpha_bar) * noise
