"""Diffusion on 2D points: a target shape, a tiny MLP denoiser trained in seconds, and the
paths thousands of points take from a Gaussian cloud to the shape.

Fit is measured as the symmetric mean nearest-neighbour (Chamfer) distance between
generated points and the target; FIT_THRESHOLD is where the shape is plainly recognisable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from lab.core.diffusion.gaussian import GaussianDiffusion
from lab.core.diffusion.model import PointDenoiser
from lab.core.settings import SettingsError
from lab.core.tasks import StopFlag, one_thread

SHAPES = ("two moons", "spiral", "rings", "drawn")
FIT_THRESHOLD = (
    0.05  # symmetric Chamfer distance; two fresh draws of a shape give ~0.025, noise ~0.2
)
MIN_DRAWN_POINTS = 2
VIEW_LIMIT = 3.0  # shapes lie within ±2.8; the predicted clean points are kept inside this
EVAL_POINTS = 1000
REPORT_EVERY_S = 0.1


def two_moons(n: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.uniform(0, math.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(a), 1 - np.cos(a))
    y = np.where(upper, np.sin(a), 0.5 - np.sin(a))
    pts = np.stack([x - 0.5, y - 0.25], 1) * 1.6
    return pts + rng.normal(0, 0.05, pts.shape)


def spiral(n: int, rng: np.random.Generator) -> np.ndarray:
    r = np.sqrt(rng.random(n)) * 0.95 + 0.05
    theta = r * 3.5 * math.pi
    pts = np.stack([r * np.cos(theta), r * np.sin(theta)], 1) * 2.0
    return pts + rng.normal(0, 0.04, pts.shape)


def rings(n: int, rng: np.random.Generator) -> np.ndarray:
    outer = rng.random(n) < 0.6
    radius = np.where(outer, 1.8, 0.8)
    a = rng.uniform(0, 2 * math.pi, n)
    pts = np.stack([radius * np.cos(a), radius * np.sin(a)], 1)
    return pts + rng.normal(0, 0.05, pts.shape)


def drawn(
    strokes: Sequence[Sequence[tuple[float, float]]], n: int, rng: np.random.Generator
) -> np.ndarray:
    """Points spread evenly along the user's strokes (lengths weigh), scaled to fit the box."""
    segments = []
    for stroke in strokes:
        pts = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 1:
            segments.append((pts[0], pts[0]))
        segments.extend((pts[i], pts[i + 1]) for i in range(len(pts) - 1))
    all_pts = np.array([p for seg in segments for p in seg]) if segments else np.zeros((0, 2))
    if len(all_pts) < MIN_DRAWN_POINTS:
        raise SettingsError({"shape": "draw a shape first: press and drag in the box"})
    lengths = np.array([np.linalg.norm(b - a) for a, b in segments]) + 1e-3
    pick = rng.choice(len(segments), n, p=lengths / lengths.sum())
    u = rng.random(n)[:, None]
    a = np.array([segments[i][0] for i in pick])
    b = np.array([segments[i][1] for i in pick])
    pts = a + u * (b - a)
    centre = (all_pts.max(0) + all_pts.min(0)) / 2
    half = max(float(np.abs(all_pts - centre).max()), 1e-6)
    pts = (pts - centre) / half * 1.8
    return pts + rng.normal(0, 0.04, pts.shape)


def target_points(
    shape: str, n: int, seed: int = 0, strokes: Sequence[Sequence[tuple[float, float]]] = ()
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if shape == "two moons":
        return two_moons(n, rng)
    if shape == "spiral":
        return spiral(n, rng)
    if shape == "rings":
        return rings(n, rng)
    if shape == "drawn":
        return drawn(strokes, n, rng)
    raise SettingsError({"shape": f"must be one of {', '.join(SHAPES)}"})


def fit_distance(samples: np.ndarray, target: np.ndarray) -> float:
    """Symmetric mean nearest-neighbour distance: low only if points sit on the shape AND cover it."""
    a = torch.as_tensor(samples, dtype=torch.float32)
    b = torch.as_tensor(target, dtype=torch.float32)
    d = torch.cdist(a, b)
    return float(0.5 * (d.min(1).values.mean() + d.min(0).values.mean()))


@dataclass(frozen=True)
class ToySettings:
    shape: str = "two moons"
    steps: int = 2000  # training steps
    batch_size: int = 256
    learning_rate: float = 5e-3
    timesteps: int = 100
    hidden: int = 128
    points: int = 2000  # points shown flowing
    seed: int = 0

    def problems(self) -> dict[str, str]:
        p: dict[str, str] = {}
        for name, lo, hi in (
            ("steps", 1, 100_000),
            ("batch_size", 8, 8192),
            ("timesteps", 10, 1000),
            ("hidden", 8, 1024),
            ("points", 10, 20_000),
            ("seed", 0, 2**31 - 1),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                p[name] = "must be a whole number"
            elif not lo <= v <= hi:
                p[name] = f"must be between {lo:,} and {hi:,}"
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 1e-6 <= lr <= 1:
            p["learning_rate"] = "must be a number between 0.000001 and 1"
        if self.shape not in SHAPES:
            p["shape"] = f"must be one of {', '.join(SHAPES)}"
        return p

    def check(self) -> ToySettings:
        problems = self.problems()
        if problems:
            raise SettingsError(problems)
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def make_toy_diffusion(s: ToySettings) -> GaussianDiffusion:
    return GaussianDiffusion(
        PointDenoiser(hidden=s.hidden), timesteps=s.timesteps, schedule="linear", clip=VIEW_LIMIT
    )


@dataclass
class ToyResult:
    diffusion: GaussianDiffusion
    target: np.ndarray
    fit: float
    steps_done: int
    seconds: float
    fit_seconds: float | None  # when the fit first went below FIT_THRESHOLD


def train_toy(
    settings: ToySettings,
    strokes: Sequence[Sequence[tuple[float, float]]] = (),
    stop: StopFlag | None = None,
    eval_every: int = 250,
    stop_at_fit: bool = False,
) -> Generator[dict, None, ToyResult]:
    """Train the point denoiser; yields {"kind": "train", step, loss} and {"kind": "fit", ...}."""
    # A network this small is fastest on one thread (measured: 3 s to fit on one, 30 s on two).
    with one_thread():
        return (yield from _train_toy(settings, strokes, stop, eval_every, stop_at_fit))


def _train_toy(
    settings: ToySettings,
    strokes: Sequence[Sequence[tuple[float, float]]],
    stop: StopFlag | None,
    eval_every: int,
    stop_at_fit: bool,
) -> Generator[dict, None, ToyResult]:
    s = settings.check()
    target = target_points(s.shape, 20_000, s.seed, strokes)
    data = torch.as_tensor(target, dtype=torch.float32)
    torch.manual_seed(s.seed)
    gen = torch.Generator().manual_seed(s.seed)
    diffusion = make_toy_diffusion(s)
    opt = torch.optim.AdamW(diffusion.model.parameters(), lr=s.learning_rate, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, s.steps, eta_min=s.learning_rate * 0.1)
    eval_target = target[:EVAL_POINTS]
    started = time.perf_counter()
    last = 0.0
    losses: list[float] = []
    fit = float("inf")
    fit_seconds = None
    step = 0
    for step in range(1, s.steps + 1):
        if stop is not None and stop.requested:
            step -= 1
            break
        idx = torch.randint(0, len(data), (s.batch_size,), generator=gen)
        diffusion.train()
        loss = diffusion(data[idx], None, label_dropout=0.0, generator=gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        now = time.perf_counter()
        if now - last >= REPORT_EVERY_S or step == s.steps:
            last = now
            yield {"kind": "train", "step": step, "steps": s.steps, "loss": float(np.mean(losses))}
            losses.clear()
        if step % eval_every == 0 or step == s.steps:
            pts = sample_points(diffusion, EVAL_POINTS, seed=s.seed + 1)
            fit = fit_distance(pts, eval_target)
            elapsed = time.perf_counter() - started
            if fit_seconds is None and fit <= FIT_THRESHOLD:
                fit_seconds = elapsed
            yield {"kind": "fit", "step": step, "fit": fit, "seconds": elapsed, "points": pts}
            if stop_at_fit and fit_seconds is not None:
                break
    diffusion.eval()
    return ToyResult(diffusion, target, fit, step, time.perf_counter() - started, fit_seconds)


@torch.inference_mode()
def sample_points(diffusion: GaussianDiffusion, n: int, seed: int = 0) -> np.ndarray:
    return point_paths(diffusion, n, seed)[-1]


@torch.inference_mode()
def point_paths(
    diffusion: GaussianDiffusion, n: int, seed: int = 0, sampler: str = "ddpm"
) -> np.ndarray:
    """Every point's position at every step: float32 (T + 1, n, 2), pure noise first.

    "ddpm" adds fresh noise at each step (jittery paths); "ddim" takes the same T steps
    without it (smooth paths, a deterministic flow from noise to the shape).
    """
    steps = trace_points(diffusion, n, seed, sampler)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def trace_points(
    diffusion: GaussianDiffusion, n: int, seed: int = 0, sampler: str = "ddpm"
) -> Generator[dict, None, np.ndarray]:
    """point_paths() one step at a time: yields {"kind": "flow_step", "t"} between steps (so
    that a closing window need not wait for all of them) and returns the paths."""
    diffusion.eval()
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((n, 2), generator=gen)
    y = torch.zeros(n, dtype=torch.long)
    out = [x.numpy().copy()]
    for t in reversed(range(diffusion.timesteps)):
        if sampler == "ddpm":
            x = diffusion.p_sample(x, t, y, generator=gen).image
        else:
            x = diffusion.ddim_step(x, t, t - 1, y).image
        out.append(x.numpy().copy())
        yield {"kind": "flow_step", "t": t}
    return np.stack(out).astype(np.float32)


def train_and_flow(
    settings: ToySettings,
    strokes: Sequence[Sequence[tuple[float, float]]] = (),
    stop: StopFlag | None = None,
) -> Generator[dict, None, tuple[ToyResult, dict[str, np.ndarray]] | None]:
    """Train, then trace `settings.points` points from noise to the shape (for the playground).

    Fit events carry the points the model makes so far ("points"), to show it learning.
    Returns (result, paths) with paths {"ddim": ..., "ddpm": ...}, each float32
    (T + 1, points, 2); None if stopped before any training step.
    """
    gen = train_toy(settings, strokes, stop=stop)
    try:
        while True:
            ev = next(gen)
            yield ev
    except StopIteration as done:
        result: ToyResult = done.value
    if result.steps_done == 0:
        return None
    yield {"kind": "flow"}
    paths = {}
    with one_thread():
        for sampler in ("ddim", "ddpm"):
            paths[sampler] = yield from trace_points(
                result.diffusion, settings.points, settings.seed + 7, sampler
            )
    return result, paths
