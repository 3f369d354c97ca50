"""2D point sets the labs share: two moons, a spiral, rings, or points the user drew."""

from __future__ import annotations

import numpy as np

SHAPES = ("moons", "spiral", "rings")
SHAPE_TITLES = {
    "moons": "Two moons",
    "spiral": "A spiral",
    "rings": "Rings",
    "drawn": "Your drawing",
}


def sample_shape(shape: str, n: int, seed: int = 0, noise: float = 0.05) -> np.ndarray:
    """n points (n×2, roughly within [-1.5, 1.5]) on the named shape."""
    rng = np.random.default_rng(seed)
    if shape == "moons":
        t = rng.uniform(0, np.pi, n)
        upper = rng.random(n) < 0.5
        x = np.where(upper, np.cos(t), 1 - np.cos(t)) - 0.5
        y = np.where(upper, np.sin(t), 0.5 - np.sin(t)) - 0.25
        pts = np.stack([x, y], 1) * 1.1
    elif shape == "spiral":
        t = np.sqrt(rng.random(n)) * 3 * np.pi
        pts = np.stack([t * np.cos(t), t * np.sin(t)], 1) / (3 * np.pi) * 1.3
    elif shape == "rings":
        r = np.where(rng.random(n) < 0.5, 0.5, 1.2)
        a = rng.uniform(0, 2 * np.pi, n)
        pts = np.stack([r * np.cos(a), r * np.sin(a)], 1)
    else:
        raise ValueError(f"Unknown shape '{shape}'.")
    return (pts + rng.normal(0, noise, pts.shape)).astype(np.float32)


def sample_drawn(strokes: np.ndarray, n: int, seed: int = 0, noise: float = 0.03) -> np.ndarray:
    """n points along a drawn polyline (k×2, k ≥ 2), evenly by length, with a little noise."""
    pts = np.asarray(strokes, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2:
        raise ValueError("Draw a line with at least two points first.")
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    if seg.sum() <= 0:
        raise ValueError("The drawing has no length: drag the mouse to draw a shape.")
    rng = np.random.default_rng(seed)
    cum = np.concatenate([[0], np.cumsum(seg)])
    s = rng.uniform(0, cum[-1], n)
    i = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
    frac = ((s - cum[i]) / np.where(seg[i] > 0, seg[i], 1))[:, None]
    out = pts[i] + frac * (pts[i + 1] - pts[i])
    return (out + rng.normal(0, noise, out.shape)).astype(np.float32)


def labelled_moons(n: int, seed: int = 0, noise: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half-moons with labels 0/1 (a classic small classification set)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    label = (rng.random(n) < 0.5).astype(np.int64)
    x = np.where(label == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(label == 0, np.sin(t), 0.5 - np.sin(t))
    pts = np.stack([x, y], 1) + rng.normal(0, noise, (n, 2))
    return pts.astype(np.float32), label


def mean_nn_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance from each point of a to its nearest point of b."""
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return float(np.sqrt(d.min(1)).mean())
