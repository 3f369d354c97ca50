"""A trained image classifier: the network with everything needed to use it elsewhere.

The saved file is a plain torch archive of tensors, numbers and strings (loaded with
weights_only=True, so opening a model file never runs code from it). It holds the weights,
the class names, the preprocessing and the training settings and results.
"""

from __future__ import annotations

import datetime as _dt
import io
import threading
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lab.core.files import atomic_write_bytes
from lab.core.images import ImageError, open_image
from lab.core.models import (
    FEATURE_DIMS,
    MEAN,
    STD,
    ClassifierNet,
    build_classifier,
    normalize,
    to_uint8_tensor,
)
from lab.core.tasks import StopFlag

FORMAT = "ml-lab-classifier"
FORMAT_VERSION = 1


class ModelFileError(Exception):
    """A model file cannot be used; the message says why in plain words."""


@dataclass
class Classifier:
    net: ClassifierNet
    classes: list[str]
    backbone: str
    image_size: int
    settings: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    created: str = ""
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    # One prediction at a time per model: two at once on a 2-core laptop make PyTorch's
    # threads wait on each other and both get several times slower.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.net.eval()
        if not self.created:
            self.created = _dt.datetime.now().astimezone().isoformat(timespec="seconds")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to(self, device: torch.device) -> Classifier:
        self.net.to(device)
        self.device = device
        return self

    def preprocess(self, img: Image.Image) -> torch.Tensor:
        return to_uint8_tensor(img, self.image_size)

    @torch.inference_mode()
    def predict_batch(self, batch: torch.Tensor) -> np.ndarray:
        """uint8 N×3×S×S → N×C probabilities."""
        with self.lock:
            self.net.eval()
            logits = self.net(normalize(batch.to(self.device)))
        return torch.softmax(logits.float(), dim=1).cpu().numpy()

    def predict_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.predict_batch(torch.stack([self.preprocess(img) for img in images]))

    def load_for_prediction(self, path: str | Path) -> Image.Image:
        return open_image(path, max_side=self.image_size * 2)

    def predict_paths(
        self, paths: Iterable[str | Path], batch_size: int = 16, stop: StopFlag | None = None
    ) -> Generator[dict, None, None]:
        """One result dict per path, in order: label and probabilities, or the error."""
        pending: list[tuple[Path, torch.Tensor]] = []

        def flush() -> Iterable[dict]:
            probs = self.predict_batch(torch.stack([t for _, t in pending]))
            for (p, _), row in zip(pending, probs):
                yield self._result(p, row)
            pending.clear()

        for raw in paths:
            if stop is not None and stop.requested:
                return
            path = Path(raw)
            try:
                pending.append((path, self.preprocess(self.load_for_prediction(path))))
            except ImageError as exc:
                if pending:
                    yield from flush()
                yield {"path": str(path), "error": exc.reason}
                continue
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()

    def _result(self, path: Path, row: np.ndarray) -> dict:
        return {
            "path": str(path),
            "label": self.classes[int(row.argmax())],
            "probabilities": {c: float(p) for c, p in zip(self.classes, row)},
        }

    # -- saving and loading -------------------------------------------------------------
    def to_payload(self) -> dict:
        state = {k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()}
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "classes": list(self.classes),
            "backbone": self.backbone,
            "preprocess": {
                "image_size": int(self.image_size),
                "resize": "shorter-side-then-centre-crop",
                "mean": list(MEAN),
                "std": list(STD),
            },
            "settings": dict(self.settings),
            "metrics": {k: v for k, v in self.metrics.items() if _plain(v)},
            "created": self.created,
            "state_dict": state,
        }

    def save(self, path: str | Path) -> Path:
        """Write the model atomically; a SaveError (an OSError) says why it could not be."""
        path = Path(path)
        buf = io.BytesIO()
        torch.save(self.to_payload(), buf)  # in memory first: only plain writes touch the disk
        atomic_write_bytes(path, buf.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path) -> Classifier:
        path = Path(path)
        if not path.exists():
            raise ModelFileError(f"{path.name} does not exist.")
        if path.is_dir():
            raise ModelFileError(f"{path.name} is a folder, not a model file.")
        if path.stat().st_size == 0:
            raise ModelFileError(f"{path.name} is empty (0 bytes).")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many kinds for a bad archive
            raise ModelFileError(
                f"{path.name} is not an ML Lab model file, or it is damaged ({_brief(exc)})."
            ) from None
        return cls.from_payload(payload, path.name)

    @classmethod
    def from_payload(cls, payload: object, name: str = "the model") -> Classifier:
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ModelFileError(f"{name} is not an ML Lab classifier model.")
        version = payload.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ModelFileError(
                f"{name} was made by a newer ML Lab (format {version}); please update ML Lab."
            )
        try:
            classes = [str(c) for c in payload["classes"]]
            backbone = str(payload["backbone"])
            size = int(payload["preprocess"]["image_size"])
            state = payload["state_dict"]
        except (KeyError, TypeError, ValueError):
            raise ModelFileError(
                f"{name} is missing parts of the model; it may be damaged."
            ) from None
        if backbone not in FEATURE_DIMS:
            raise ModelFileError(f"{name} uses a network this ML Lab does not know ({backbone}).")
        if len(classes) < 2:
            raise ModelFileError(f"{name} has fewer than two classes.")
        net = build_classifier(backbone, len(classes), pretrained=False)
        try:
            net.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError):
            raise ModelFileError(
                f"{name}: the weights do not fit the network; it may be damaged."
            ) from None
        return cls(
            net=net,
            classes=classes,
            backbone=backbone,
            image_size=size,
            settings=dict(payload.get("settings") or {}),
            metrics=dict(payload.get("metrics") or {}),
            created=str(payload.get("created") or ""),
        )


def _plain(value: object) -> bool:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _brief(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) < 90 else text[:87] + "..."


def read_for_model(path: Path, size: int) -> torch.Tensor:
    """An image file as the uint8 tensor a model of this size takes (ImageError if unusable)."""
    return to_uint8_tensor(open_image(path, max_side=size * 2), size)


def same_classes(model_classes: Sequence[str], other: Sequence[str]) -> bool:
    """True when both name the same classes in the same order (ignoring case)."""
    return [c.lower() for c in model_classes] == [c.lower() for c in other]


def class_difference(model_classes: Sequence[str], workspace_classes: Sequence[str]) -> str:
    """'' when a model fits the workspace's classes, else a plain sentence saying how not."""
    if same_classes(model_classes, workspace_classes):
        return ""
    known = ", ".join(model_classes)
    if not workspace_classes:
        return f"This model was made for the classes {known}; you have no classes yet."
    mine = ", ".join(workspace_classes)
    if sorted(c.lower() for c in model_classes) == sorted(c.lower() for c in workspace_classes):
        return f"This model's classes ({known}) are in another order than yours ({mine})."
    return f"This model was made for other classes ({known}) than yours ({mine})."


__all__ = [
    "Classifier",
    "ModelFileError",
    "ImageError",
    "read_for_model",
    "class_difference",
    "same_classes",
]
