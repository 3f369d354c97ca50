"""A small Fashion-MNIST classifier that judges whether generated samples show the asked class.

Trained once (python -m lab.core.diffusion.train classifier) and shipped beside the diffusion
model; its accuracy on the real test set is recorded in the file and checked by a test.
"""

from __future__ import annotations

import io
from collections.abc import Generator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lab.core.diffusion.compute import torch_threads
from lab.core.diffusion.data import load_fashion_mnist
from lab.core.diffusion.weights import DiffusionModelError
from lab.core.files import atomic_write
from lab.core.paths import assets_dir
from lab.core.tasks import StopFlag

FORMAT = "ml-lab-fashion-judge"


class FashionJudge(nn.Module):
    """Three conv blocks and a linear layer; takes images in [-1, 1]. Small, to train fast."""

    def __init__(self) -> None:
        super().__init__()

        def block(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.MaxPool2d(2),
            )

        self.features = nn.Sequential(block(1, 32), block(32, 64), block(64, 128))
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(128 * 3 * 3, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def shipped_judge_path() -> Path:
    return assets_dir() / "diffusion" / "fashion_classifier.pt"


def train_judge(
    epochs: int = 5, seed: int = 0, limit: int | None = None, stop: StopFlag | None = None
) -> Generator[dict, None, FashionJudge]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = load_fashion_mnist("train", limit=limit)
    x_all, y_all = torch.from_numpy(data.images), torch.from_numpy(data.labels)
    model = FashionJudge()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps_per_epoch = (len(data) + 127) // 128
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * steps_per_epoch)
    for epoch in range(epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(data)))
        total, correct, loss_sum = 0, 0, 0.0
        for i in range(steps_per_epoch):
            if stop is not None and stop.requested:
                return model.eval()
            idx = order[i * 128 : (i + 1) * 128]
            x, y = x_all[idx], y_all[idx]
            flip = torch.rand(len(idx)) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += len(idx)
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += float(loss.detach()) * len(idx)
        yield {
            "kind": "epoch",
            "epoch": epoch + 1,
            "loss": loss_sum / total,
            "accuracy": correct / total,
        }
    return model.eval()


@torch.inference_mode()
def classify(
    model: FashionJudge, images: np.ndarray | torch.Tensor, batch: int = 500
) -> np.ndarray:
    """Predicted class per image; images are (N, 1, 28, 28) in [-1, 1]."""
    x = torch.as_tensor(images, dtype=torch.float32)
    model.eval()
    with torch_threads():
        return np.concatenate(
            [model(x[i : i + batch]).argmax(1).numpy() for i in range(0, len(x), batch)]
        )


def evaluate_judge(model: FashionJudge) -> float:
    test = load_fashion_mnist("test")
    return float(np.mean(classify(model, test.images) == test.labels))


def save_judge(path: str | Path, model: FashionJudge, meta: dict) -> None:
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "state_dict": model.state_dict(), "meta": meta}, buf)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))


def load_judge(path: str | Path | None = None) -> tuple[FashionJudge, dict]:
    path = Path(path) if path else shipped_judge_path()
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("format") != FORMAT:
            raise ValueError
        model = FashionJudge()
        model.load_state_dict(payload["state_dict"])
    except FileNotFoundError:
        raise DiffusionModelError(f"The classifier file {path.name} does not exist.") from None
    except Exception:
        raise DiffusionModelError(
            f"{path.name} is not a usable Fashion-MNIST classifier."
        ) from None
    return model.eval(), dict(payload.get("meta", {}))
