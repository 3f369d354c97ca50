"""Training an image denoiser: a generator that yields the loss as it goes.

The model learns to predict the noise added to a training image at a random step; a copy
with exponentially averaged weights (EMA) is what samples best, and is what Stop returns.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass

import numpy as np
import torch

from lab.core.diffusion.compute import torch_threads
from lab.core.diffusion.data import ImageSet
from lab.core.diffusion.model import UNetConfig
from lab.core.diffusion.schedule import SCHEDULES
from lab.core.diffusion.weights import ImageDenoiser, build_diffusion
from lab.core.settings import SettingsError
from lab.core.tasks import RateMeter, StopFlag

REPORT_EVERY_S = 0.25


@dataclass(frozen=True)
class ImageTrainSettings:
    steps: int = 4000
    batch_size: int = 128
    learning_rate: float = 2e-3
    warmup_steps: int = 200
    ema_decay: float = 0.999
    label_dropout: float = 0.1
    schedule: str = "cosine"
    timesteps: int = 1000
    flip: bool = True
    seed: int = 0
    checkpoint_every: int = 0  # steps; 0: no checkpoints along the way

    def problems(self) -> dict[str, str]:
        p: dict[str, str] = {}

        def whole(name: str, lo: int, hi: int) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                p[name] = "must be a whole number"
            elif not lo <= v <= hi:
                p[name] = f"must be between {lo:,} and {hi:,}"

        def number(name: str, lo: float, hi: float) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
                p[name] = "must be a number"
            elif not lo <= v <= hi:
                p[name] = f"must be between {lo:g} and {hi:g}"

        whole("steps", 1, 1_000_000)
        whole("batch_size", 1, 1024)
        whole("warmup_steps", 0, 100_000)
        whole("timesteps", 10, 10_000)
        whole("seed", 0, 2**31 - 1)
        whole("checkpoint_every", 0, 1_000_000)
        number("learning_rate", 1e-6, 1.0)
        number("ema_decay", 0.0, 0.99999)
        number("label_dropout", 0.0, 0.9)
        if self.schedule not in SCHEDULES:
            p["schedule"] = f"must be one of {', '.join(SCHEDULES)}"
        return p

    def check(self) -> ImageTrainSettings:
        problems = self.problems()
        if problems:
            raise SettingsError(problems)
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def learning_rate_at(step: int, s: ImageTrainSettings) -> float:
    """Linear warm-up, then a cosine decay to a tenth of the peak."""
    if step < s.warmup_steps:
        return s.learning_rate * (step + 1) / s.warmup_steps
    span = max(1, s.steps - s.warmup_steps)
    progress = min(1.0, (step - s.warmup_steps) / span)
    return s.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_image_denoiser(
    data: ImageSet,
    settings: ImageTrainSettings = ImageTrainSettings(),
    config: UNetConfig | None = None,
    stop: StopFlag | None = None,
    name: str = "your model",
    threads: int | None = None,
) -> Generator[dict, None, ImageDenoiser]:
    """Train a class-conditional U-Net on `data`; returns the EMA model (also when stopped).

    Yields {"kind": "train", step, steps, loss, lr, images_per_s, seconds_left} about four
    times a second, and {"kind": "checkpoint", step, model} every checkpoint_every steps.
    A non-finite or exploding loss yields {"kind": "diverged", step, message} and ends
    training with the last good weights (the message is also in the model's meta).
    """
    with torch_threads(threads):
        return (yield from _train(data, settings, config, stop, name))


def _train(
    data: ImageSet,
    settings: ImageTrainSettings,
    config: UNetConfig | None,
    stop: StopFlag | None,
    name: str,
) -> Generator[dict, None, ImageDenoiser]:
    s = settings.check()
    if len(data) == 0:
        raise SettingsError({"images": "there are no images to train on"})
    _, c, h, w = data.images.shape
    if h != w:
        raise SettingsError({"images": "the images must be square"})
    if config is None:
        config = UNetConfig(image_channels=c, image_size=h, num_classes=len(data.classes))
    torch.manual_seed(s.seed)
    rng = np.random.default_rng(s.seed)
    diffusion = build_diffusion(config, s.schedule, s.timesteps)
    ema = copy.deepcopy(diffusion).eval()
    ema.requires_grad_(False)
    model_params = list(diffusion.model.parameters())
    ema_params = list(ema.model.parameters())
    opt = torch.optim.AdamW(model_params, lr=s.learning_rate, weight_decay=0.0)
    images = torch.from_numpy(data.images)
    labels = torch.from_numpy(data.labels)
    order = rng.permutation(len(data))
    cursor = 0
    meter = RateMeter()
    losses: list[float] = []
    last_report = time.perf_counter()
    started = last_report
    record: dict = {"loss_curve": []}
    first_loss: float | None = None
    step = 0
    diffusion.train()
    for step in range(1, s.steps + 1):
        if stop is not None and stop.requested:
            step -= 1
            break
        if cursor + s.batch_size > len(order):
            order, cursor = rng.permutation(len(data)), 0
        idx = torch.from_numpy(order[cursor : cursor + s.batch_size])
        cursor += s.batch_size
        x, y = images[idx], labels[idx]
        if s.flip:
            flip = torch.from_numpy(rng.random(len(idx)) < 0.5)
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        lr = learning_rate_at(step - 1, s)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = diffusion(x, y, label_dropout=s.label_dropout)
        value = float(loss.detach())
        first_loss = value if first_loss is None else first_loss
        opt.zero_grad(set_to_none=True)
        what = _trouble(value, first_loss)
        if not what:
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model_params, 1.0)
            what = "" if torch.isfinite(norm) else "the gradients became infinite"
        if what:
            # Checked before the weights change: the averaged model is still the last good one.
            record["diverged"] = (
                f"The learning rate is too large: {what} at step {step}. Training stopped; "
                "the model keeps its last good weights. Try a smaller learning rate."
            )
            yield {"kind": "diverged", "step": step, "message": record["diverged"]}
            step -= 1
            break
        opt.step()
        # EMA with a short warm-up, so early checkpoints are not dominated by random weights.
        decay = min(s.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_lerp_(ema_params, model_params, 1.0 - decay)
        losses.append(value)
        meter.add(len(idx))
        now = time.perf_counter()
        if now - last_report >= REPORT_EVERY_S or step == s.steps:
            mean_loss = float(np.mean(losses))
            losses.clear()
            record["loss_curve"].append((step, mean_loss))
            rate = meter.per_second
            left = meter.seconds_left((s.steps - step) * s.batch_size)
            yield {
                "kind": "train",
                "step": step,
                "steps": s.steps,
                "loss": mean_loss,
                "lr": lr,
                "images_per_s": rate,
                "seconds_left": left,
                "elapsed_s": now - started,
            }
            last_report = now
        if s.checkpoint_every and step % s.checkpoint_every == 0 and step < s.steps:
            yield {
                "kind": "checkpoint",
                "step": step,
                "model": _snapshot(ema, data, name, s, step, started, record),
            }
    return _snapshot(ema, data, name, s, step, started, record)


# A loss this many times the first one (or 1, if larger) means the weights have blown up.
EXPLODED = 100.0


def _trouble(loss: float, first: float) -> str:
    """'' for a healthy loss, else what went wrong, in words."""
    if not math.isfinite(loss):
        return "the loss became infinite"
    if loss > EXPLODED * max(first, 1.0):
        return f"the loss exploded (from {first:.2f} to {loss:,.0f})"
    return ""


def _snapshot(
    ema, data: ImageSet, name: str, s: ImageTrainSettings, step: int, started: float, record: dict
) -> ImageDenoiser:
    diffusion = copy.deepcopy(ema).eval()
    meta = {
        "data": data.source,
        "images": len(data),
        "settings": s.to_dict(),
        "steps_done": step,
        "seconds": round(time.perf_counter() - started, 1),
        "threads": torch.get_num_threads(),
        "final_loss": record["loss_curve"][-1][1] if record["loss_curve"] else None,
    }
    if record.get("diverged"):
        meta["diverged"] = record["diverged"]
    return ImageDenoiser(diffusion, tuple(data.classes), name, meta)


SOURCES = ("fashion", "workspace")


def train_from_source(
    source: str,
    settings: ImageTrainSettings,
    workspace_root=None,
    stop: StopFlag | None = None,
    fashion_limit: int | None = None,
) -> Generator[dict, None, ImageDenoiser | None]:
    """Load Fashion-MNIST or the user's images (CLASS/IMAGE folders), then train on them."""
    from lab.core.diffusion.data import load_fashion_mnist, load_image_folder

    settings.check()
    if source == "fashion":
        yield {"kind": "load", "done": 0, "total": 1}
        data = load_fashion_mnist("train", limit=fashion_limit)
        name = "Your model (Fashion-MNIST)"
    elif source == "workspace":
        if workspace_root is None:
            raise SettingsError({"images": "no image collection was given"})
        data = yield from load_image_folder(workspace_root, stop=stop)
        name = "Your model (your images)"
    else:
        raise SettingsError({"source": f"must be one of {', '.join(SOURCES)}"})
    if stop is not None and stop.requested:
        return None
    model = yield from train_image_denoiser(data, settings, stop=stop, name=name)
    return model
