"""Saving and loading a trained image denoiser: one file, plain tensors and settings.

Loading uses torch.load(weights_only=True), so a file can never run code, and checks
every field, so a damaged or foreign file gets a message instead of a crash.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lab.core.classifier import ModelFileError
from lab.core.diffusion.gaussian import GaussianDiffusion
from lab.core.diffusion.model import UNet, UNetConfig
from lab.core.diffusion.schedule import SCHEDULES
from lab.core.files import atomic_write
from lab.core.paths import assets_dir

FORMAT = "ml-lab-diffusion"
VERSION = 1
MAX_FILE_BYTES = 200 * 1024 * 1024


class DiffusionModelError(ModelFileError):
    """A diffusion weights file cannot be used; the message says why."""


@dataclass
class ImageDenoiser:
    """A trained image model, ready to sample: the diffusion process, class names, record."""

    diffusion: GaussianDiffusion
    classes: tuple[str, ...]
    name: str
    meta: dict = field(default_factory=dict)
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)  # tells cached samples apart

    @property
    def config(self) -> UNetConfig:
        return self.diffusion.model.config

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c = self.config
        return (c.image_channels, c.image_size, c.image_size)


def shipped_weights_path() -> Path:
    return assets_dir() / "diffusion" / "fashion_unet.pt"


def build_diffusion(config: UNetConfig, schedule: str = "cosine", timesteps: int = 1000):
    return GaussianDiffusion(UNet(config), timesteps=timesteps, schedule=schedule)


def save_denoiser(path: str | Path, model: ImageDenoiser) -> None:
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config.to_dict(),
        "schedule": model.diffusion.schedule,
        "timesteps": model.diffusion.timesteps,
        "classes": list(model.classes),
        "name": model.name,
        "meta": model.meta,
        "state_dict": {
            k: v.detach().cpu().clone() for k, v in model.diffusion.model.state_dict().items()
        },
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))


def load_denoiser(path: str | Path) -> ImageDenoiser:
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DiffusionModelError(f"The model file {name} does not exist.") from None
    if size == 0:
        raise DiffusionModelError(f"The model file {name} is empty.")
    if size > MAX_FILE_BYTES:
        raise DiffusionModelError(f"The model file {name} is too large to be an ML Lab model.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        raise DiffusionModelError(
            f"{name} is damaged or is not an ML Lab diffusion model file."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DiffusionModelError(f"{name} is not an ML Lab diffusion model file.")
    if payload.get("version") != VERSION:
        raise DiffusionModelError(
            f"{name} was saved by a different version of ML Lab (format {payload.get('version')})."
        )
    try:
        config = UNetConfig.from_dict(payload["config"])
        schedule = str(payload["schedule"])
        timesteps = int(payload["timesteps"])
        classes = tuple(str(c) for c in payload["classes"])
        if schedule not in SCHEDULES or not 1 <= timesteps <= 10_000:
            raise ValueError("schedule")
        if len(classes) != config.num_classes:
            raise ValueError("classes")
        diffusion = build_diffusion(config, schedule, timesteps)
        diffusion.model.load_state_dict(payload["state_dict"])
    except Exception:
        raise DiffusionModelError(
            f"{name} is damaged: its settings or weights do not fit together."
        ) from None
    if not all(torch.isfinite(p).all() for p in diffusion.model.parameters()):
        raise DiffusionModelError(f"{name} holds broken weights (not-a-number values).")
    diffusion.eval()
    meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
    return ImageDenoiser(diffusion, classes, str(payload.get("name", path.stem)), meta)


def load_shipped() -> ImageDenoiser:
    """The Fashion-MNIST model that comes with ML Lab."""
    path = shipped_weights_path()
    if not path.is_file():
        raise DiffusionModelError(
            "The Fashion-MNIST model that ships with ML Lab is missing "
            f"({path}). Reinstall ML Lab, or train one: python -m lab.core.diffusion.train"
        )
    return load_denoiser(path)
