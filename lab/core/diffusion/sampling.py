"""Generating images step by step, keeping every step so the UI can scrub without the model.

`sample_trajectory` is a generator: it runs the sampler (DDPM: every step; DDIM: fewer,
evenly spaced steps), yields progress, and returns a Trajectory holding, for each step,
x_t, the predicted noise and the predicted clean image x̂0 of every sample (as 8-bit
pictures, so a long trajectory stays small). TrajectoryCache keeps recent ones by settings.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Generator
from dataclasses import asdict, dataclass

import numpy as np
import torch

from lab.core.diffusion.compute import fast_dtype, inference_precision, torch_threads
from lab.core.diffusion.schedule import time_pairs
from lab.core.diffusion.weights import ImageDenoiser
from lab.core.settings import SettingsError
from lab.core.tasks import StopFlag

SAMPLERS = ("ddim", "ddpm")
ANY_CLASS = -1  # a mix: sample i asks for class i mod the number of classes
NO_CLASS = -2  # unconditional: the model's "no class" prediction
MAX_SAMPLES = 64
MAX_GUIDANCE = 10.0
NOISE_RANGE = 3.0  # predicted noise is shown from -3 to 3 (a standard normal fits)
FRAME_BUDGET_BYTES = 400 * 1024 * 1024
PROGRESS_EVERY_S = 0.05
DEFAULT_GUIDANCE = 2.0  # the tab's default; the class-match test and benchmark use it too
DEFAULT_DDIM_STEPS = 50


@dataclass(frozen=True)
class SampleSettings:
    n: int = 16
    seed: int = 0
    class_index: int = ANY_CLASS
    guidance: float = DEFAULT_GUIDANCE
    sampler: str = "ddim"
    steps: int = DEFAULT_DDIM_STEPS  # DDIM only; DDPM always takes every step

    def problems(self, timesteps: int = 1000, num_classes: int = 10) -> dict[str, str]:
        p: dict[str, str] = {}
        if isinstance(self.n, bool) or not isinstance(self.n, int):
            p["samples"] = "must be a whole number"
        elif not 1 <= self.n <= MAX_SAMPLES:
            p["samples"] = f"must be between 1 and {MAX_SAMPLES} (asked for {self.n:,})"
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            p["seed"] = "must be a whole number"
        elif not 0 <= self.seed <= 2**31 - 1:
            p["seed"] = f"must be between 0 and {2**31 - 1:,}"
        c = self.class_index
        if isinstance(c, bool) or not isinstance(c, int):
            p["class"] = "must be a class"
        elif c not in (ANY_CLASS, NO_CLASS) and not 0 <= c < num_classes:
            p["class"] = f"must be one of the model's {num_classes} classes"
        g = self.guidance
        if isinstance(g, bool) or not isinstance(g, (int, float)) or not math.isfinite(g):
            p["guidance"] = "must be a number"
        elif not 0 <= g <= MAX_GUIDANCE:
            p["guidance"] = f"must be between 0 and {MAX_GUIDANCE:g}"
        if self.sampler not in SAMPLERS:
            p["sampler"] = "must be DDPM or DDIM"
        elif self.sampler == "ddim":
            s = self.steps
            if isinstance(s, bool) or not isinstance(s, int):
                p["steps"] = "must be a whole number"
            elif not 1 <= s <= timesteps:
                p["steps"] = f"must be between 1 and {timesteps:,} (asked for {s:,})"
        return p

    def check(self, timesteps: int = 1000, num_classes: int = 10) -> SampleSettings:
        problems = self.problems(timesteps, num_classes)
        if problems:
            raise SettingsError(problems)
        return self

    def effective_steps(self, timesteps: int) -> int:
        return timesteps if self.sampler == "ddpm" else self.steps

    def to_dict(self) -> dict:
        return asdict(self)


def class_labels(settings: SampleSettings, num_classes: int) -> np.ndarray:
    """The class each sample asks for; `num_classes` stands for "no class"."""
    if settings.class_index == ANY_CLASS:
        return np.arange(settings.n) % num_classes
    if settings.class_index == NO_CLASS:
        return np.full(settings.n, num_classes)
    return np.full(settings.n, settings.class_index)


def images_to_uint8(x: torch.Tensor, scale: float = 1.0) -> np.ndarray:
    """(n, C, H, W) floats in [-scale, scale] → uint8 (n, H, W, C)."""
    u = ((x.float() / scale).clamp(-1, 1) + 1) * 127.5 + 0.5
    return u.to(torch.uint8).permute(0, 2, 3, 1).numpy()


def noise_from_uint8(u: np.ndarray) -> np.ndarray:
    return (u.astype(np.float32) / 127.5 - 1.0) * NOISE_RANGE


@dataclass
class Trajectory:
    """What the sampler did. Frame k shows x at timestep times[k] and what the model predicted
    from it; the last frame is the finished image (its predictions are the last step's)."""

    settings: SampleSettings
    model_uid: str
    times: list[int]  # timestep of each frame; the final frame has -1
    step_numbers: list[int]  # sampler step of each frame (0 = pure noise)
    total_steps: int
    labels: np.ndarray  # (n,) class per sample; num_classes means none
    x: np.ndarray  # uint8 (frames, n, H, W, C)
    noise: np.ndarray  # uint8 (frames, n, H, W, C), -3..3 mapped to 0..255
    x_start: np.ndarray  # uint8 (frames, n, H, W, C)
    final: np.ndarray  # float32 (n, C, H, W) in [-1, 1]
    seconds: float

    @property
    def frames(self) -> int:
        return len(self.times)

    @property
    def nbytes(self) -> int:
        return self.x.nbytes + self.noise.nbytes + self.x_start.nbytes + self.final.nbytes


def frame_stride(frames: int, n: int, image_values: int, budget: int = FRAME_BUDGET_BYTES) -> int:
    """Keep every k-th step when all of them would take more than `budget` bytes."""
    return max(1, math.ceil(frames * 3 * n * image_values / budget))


def sample_trajectory(
    model: ImageDenoiser,
    settings: SampleSettings,
    stop: StopFlag | None = None,
    record: bool = True,
    threads: int | None = None,
    fast: bool = True,
) -> Generator[dict, None, Trajectory | None]:
    """Run the sampler from pure noise; yields {"kind": "sample", done, total}.

    Returns the Trajectory, or None when stopped. record=False keeps only the final images.
    fast=True runs the network in bfloat16 where the CPU does that natively (see compute).
    """
    dtype = fast_dtype() if fast else None
    with torch_threads(threads):
        return (yield from _sample(model, settings, stop, record, dtype))


def _sample(
    model: ImageDenoiser,
    settings: SampleSettings,
    stop: StopFlag | None,
    record: bool,
    dtype: torch.dtype | None,
) -> Generator[dict, None, Trajectory | None]:
    diffusion = model.diffusion
    T = diffusion.timesteps
    s = settings.check(T, len(model.classes))
    steps = s.effective_steps(T)
    pairs = time_pairs(T, steps)
    c, h, w = model.image_shape
    labels = class_labels(s, len(model.classes))
    y = torch.from_numpy(labels).long()
    gen = torch.Generator().manual_seed(s.seed)
    x = torch.randn((s.n, c, h, w), generator=gen)
    stride = frame_stride(steps + 1, s.n, c * h * w) if record else steps + 1
    kept = [k for k in range(steps) if k % stride == 0] + [steps]
    xs, eps, x0s = [], [], []
    started = time.perf_counter()
    last = 0.0
    for k, (t, t_next) in enumerate(pairs):
        if stop is not None and stop.requested:
            return None
        with inference_precision(dtype):
            if s.sampler == "ddpm":
                out = diffusion.p_sample(x, t, y, s.guidance, generator=gen)
            else:
                out = diffusion.ddim_step(x, t, t_next, y, s.guidance, generator=gen)
        if record and k % stride == 0:
            xs.append(images_to_uint8(x))
            eps.append(images_to_uint8(out.noise, NOISE_RANGE))
            x0s.append(images_to_uint8(out.x_start))
        x = out.image
        now = time.perf_counter()
        if now - last >= PROGRESS_EVERY_S or k == steps - 1:
            last = now
            yield {"kind": "sample", "done": k + 1, "total": steps}
    final = x.clamp(-1, 1)
    if record:
        xs.append(images_to_uint8(final))
        eps.append(eps[-1])
        x0s.append(images_to_uint8(final))
    else:
        xs = eps = x0s = [np.zeros((s.n, h, w, c), np.uint8)]
    times = [pairs[k][0] for k in kept[:-1]] + [-1]
    return Trajectory(
        settings=s,
        model_uid=model.uid,
        times=times,
        step_numbers=kept,
        total_steps=steps,
        labels=labels,
        x=np.stack(xs),
        noise=np.stack(eps),
        x_start=np.stack(x0s),
        final=final.numpy().astype(np.float32),
        seconds=time.perf_counter() - started,
    )


def generate(
    model: ImageDenoiser, settings: SampleSettings, threads: int | None = None, fast: bool = True
) -> np.ndarray:
    """Final images only (n, C, H, W) in [-1, 1]; for tests and benchmarks."""
    gen = sample_trajectory(model, settings, record=False, threads=threads, fast=fast)
    try:
        while True:
            next(gen)
    except StopIteration as done:
        return done.value.final


class TrajectoryCache:
    """Recent trajectories by (model, settings); the oldest go when memory runs over budget."""

    def __init__(self, max_bytes: int = 1024 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, Trajectory] = OrderedDict()

    @staticmethod
    def key(model_uid: str, settings: SampleSettings) -> tuple:
        s = settings
        steps = s.steps if s.sampler == "ddim" else 0
        return (
            model_uid,
            s.seed,
            s.class_index,
            round(float(s.guidance), 4),
            s.sampler,
            steps,
            s.n,
        )

    def get(self, model_uid: str, settings: SampleSettings) -> Trajectory | None:
        k = self.key(model_uid, settings)
        item = self._items.get(k)
        if item is not None:
            self._items.move_to_end(k)
        return item

    def put(self, traj: Trajectory) -> None:
        self._items[self.key(traj.model_uid, traj.settings)] = traj
        self._items.move_to_end(self.key(traj.model_uid, traj.settings))
        while len(self._items) > 1 and self.nbytes > self.max_bytes:
            self._items.popitem(last=False)

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
