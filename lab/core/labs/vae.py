"""A variational autoencoder (VAE) with a 2D latent space, on Fashion-MNIST.

The encoder squeezes each 28×28 picture into two numbers (a point on a map); the decoder
turns any point back into a picture. Because training keeps the points close to a standard
normal cloud, every point on the map decodes to something garment-like, and similar
garments land near each other. Weights ship in assets/labs/vae_fashion.pt; this module's
`python -m lab.core.labs.vae` reproduces them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Generator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lab.core.files import atomic_write, atomic_write_bytes
from lab.core.paths import assets_dir
from lab.core.tasks import StopFlag

LATENT = 2
HIDDEN = 512
WEIGHTS_NAME = "vae_fashion.pt"


class VAE(nn.Module):
    def __init__(self, hidden: int = HIDDEN, latent: int = LATENT) -> None:
        super().__init__()
        self.enc = nn.Sequential(
            nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden // 2), nn.ReLU()
        )
        self.mu = nn.Linear(hidden // 2, latent)
        self.logvar = nn.Linear(hidden // 2, latent)
        self.dec = nn.Sequential(
            nn.Linear(latent, hidden // 2),
            nn.ReLU(),
            nn.Linear(hidden // 2, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 784),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x.flatten(1))
        return self.mu(h), self.logvar(h)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Points (N×2) → pictures (N×28×28) with values in [0, 1]."""
        return torch.sigmoid(self.dec(z)).view(-1, 28, 28)

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode_logits(z), mu, logvar


def vae_loss(logits, x, mu, logvar) -> torch.Tensor:
    """Reconstruction (how well it redraws) plus KL (how close the codes stay to N(0, 1))."""
    recon = F.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (recon + kl) / len(x)


def train_vae(
    images: np.ndarray,
    epochs: int = 15,
    batch: int = 128,
    seed: int = 0,
    stop: StopFlag | None = None,
) -> Generator[dict, None, VAE]:
    """images: uint8 (N, 28, 28). Yields {"epoch", "loss"}; returns the trained VAE."""
    stop = stop or StopFlag()
    torch.manual_seed(seed)
    x_all = torch.from_numpy(images.astype(np.float32) / 255.0)
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(len(x_all))
        total = 0.0
        for start in range(0, len(perm), batch):
            if stop.requested:
                return model
            xb = x_all[perm[start : start + batch]]
            opt.zero_grad()
            logits, mu, logvar = model(xb)
            loss = vae_loss(logits, xb, mu, logvar)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(xb)
        yield {"epoch": epoch, "loss": total / len(x_all)}
    return model


def weights_path() -> Path:
    return assets_dir() / "labs" / WEIGHTS_NAME


def load_vae(path: Path | None = None) -> VAE:
    """The shipped VAE; ValueError with a plain reason if the file is missing or damaged."""
    path = path or weights_path()
    if not path.is_file():
        raise ValueError(f"The VAE weights are missing ({path.name}); reinstall ML Lab.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        model = VAE(payload["hidden"], payload["latent"])
        model.load_state_dict(payload["state_dict"])
    except Exception as exc:  # any damage to the file
        raise ValueError(
            f"The VAE weights in {path.name} are damaged ({type(exc).__name__})."
        ) from None
    return model.eval()


@torch.no_grad()
def encode_points(model: VAE, images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) → latent means (N, 2)."""
    mu, _ = model.encode(torch.from_numpy(images.astype(np.float32) / 255.0))
    return mu.numpy()


@torch.no_grad()
def decode_points(model: VAE, points: np.ndarray) -> np.ndarray:
    """(N, 2) → uint8 pictures (N, 28, 28)."""
    pics = model.decode(torch.as_tensor(np.asarray(points, dtype=np.float32)))
    return (pics.numpy() * 255 + 0.5).astype(np.uint8)


def decode_grid(model: VAE, n: int = 12, extent: float = 2.5) -> np.ndarray:
    """An n×n mosaic (uint8, 28n × 28n) of decodings across the latent map; top row = high y."""
    ys = np.linspace(extent, -extent, n)
    xs = np.linspace(-extent, extent, n)
    pts = np.array([[x, y] for y in ys for x in xs], dtype=np.float32)
    pics = decode_points(model, pts).reshape(n, n, 28, 28)
    return pics.transpose(0, 2, 1, 3).reshape(n * 28, n * 28)


def main(argv: list[str] | None = None) -> int:
    from lab.core.diffusion.data import load_fashion_mnist_raw

    parser = argparse.ArgumentParser(description="Train the VAE that ML Lab ships.")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=weights_path())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    images, _ = load_fashion_mnist_raw("train")
    t0 = time.time()
    log = []
    gen = train_vae(images, epochs=args.epochs, seed=args.seed)
    while True:
        try:
            ev = next(gen)
        except StopIteration as done:
            model = done.value
            break
        log.append({**ev, "seconds": round(time.time() - t0, 1)})
        print(json.dumps(log[-1]), flush=True)
    payload = {"hidden": HIDDEN, "latent": LATENT, "state_dict": model.state_dict()}
    atomic_write(args.out, lambda fh: torch.save(payload, fh))
    record = {
        "settings": vars(args) | {"out": str(args.out)},
        "log": log,
        "data": "Fashion-MNIST train (60,000)",
    }
    atomic_write_bytes(args.out.with_suffix(".json"), json.dumps(record, indent=1).encode())
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
