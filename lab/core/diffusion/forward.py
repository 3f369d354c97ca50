"""Forward diffusion of one picture, for looking at: x_t for any t from the closed form.

Here t counts from 0 (the clean picture) to T (almost pure noise), so ᾱ_0 = 1; the noise is
drawn once per seed, so moving t back and forth shows the same noise fading in and out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lab.core.diffusion.data import to_model_range
from lab.core.diffusion.schedule import alphas_cumprod, beta_schedule, noised, signal_to_noise
from lab.core.images import open_image

PICTURE_SIZE = 96  # photos are shown noised at this size: big enough to see, quick to redraw


def alpha_bar_curve(schedule: str, timesteps: int) -> np.ndarray:
    """ᾱ_t for t = 0..T (length T + 1, starting at 1)."""
    return np.append(1.0, alphas_cumprod(beta_schedule(schedule, timesteps)))


def snr_curve(schedule: str, timesteps: int) -> np.ndarray:
    """Signal-to-noise ratio for t = 1..T (infinite at t = 0, so it is left out)."""
    return signal_to_noise(alpha_bar_curve(schedule, timesteps)[1:])


class ForwardNoising:
    """One picture (C, H, W) in [-1, 1] and a fixed draw of noise; `at(t)` is x_t."""

    def __init__(
        self, image: np.ndarray, schedule: str = "cosine", timesteps: int = 1000, seed: int = 0
    ):
        self.image = np.asarray(image, dtype=np.float32)
        self.timesteps = timesteps
        self.schedule = schedule
        self.alpha_bar = alpha_bar_curve(schedule, timesteps)
        self.noise = (
            np.random.default_rng(seed).standard_normal(self.image.shape).astype(np.float32)
        )

    def at(self, t: int) -> np.ndarray:
        t = int(np.clip(t, 0, self.timesteps))
        return noised(self.image, float(self.alpha_bar[t]), self.noise).astype(np.float32)

    def strip_times(self, count: int = 8) -> list[int]:
        return [int(round(v)) for v in np.linspace(0, self.timesteps, count)]


def load_picture(path: str | Path, size: int = PICTURE_SIZE) -> np.ndarray:
    """A photo as a (3, size, size) array in [-1, 1], centre-cropped square. Raises ImageError."""
    from PIL import Image

    img = open_image(path, max_side=4 * size)
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize(
        (size, size), Image.Resampling.BILINEAR
    )
    return to_model_range(np.asarray(img, dtype=np.uint8)[None])[0]
