"""Denoisers: a compact class-conditional U-Net for small images and an MLP for 2D points.

Both take (x_t, t, class) and predict the noise that was added (eps-prediction). The class
index `num_classes` means "no class": trained by dropping labels, it gives the unconditional
prediction that classifier-free guidance needs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer-style position embedding of the timestep (Vaswani et al.)."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half
    )
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=-1)


@dataclass(frozen=True)
class UNetConfig:
    image_channels: int = 1
    image_size: int = 28
    channels: tuple[int, ...] = (32, 64, 64)
    num_classes: int = 10
    embed_dim: int = 128
    attention: bool = True  # self-attention at the lowest resolution
    mid_blocks: int = 2  # ResBlocks in the middle (1 or 2)
    patch: int = 1  # >1 folds patch x patch pixels into channels first: much less compute

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> UNetConfig:
        d = dict(d)
        d["channels"] = tuple(int(c) for c in d["channels"])
        return cls(**d)


def _groups(channels: int) -> int:
    return 8 if channels % 8 == 0 else 1


class ResBlock(nn.Module):
    """Two 3x3 convolutions; the time+class embedding scales and shifts the middle."""

    def __init__(self, c_in: int, c_out: int, embed_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.embed = nn.Linear(embed_dim, 2 * c_out)
        self.norm2 = nn.GroupNorm(_groups(c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.embed(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return h + self.skip(x)


class Attention(nn.Module):
    """Self-attention over the pixels of a small feature map: lets distant parts agree."""

    def __init__(self, channels: int, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(_groups(channels), channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).unbind(1)
        out = F.scaled_dot_product_attention(
            q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2)
        )
        return x + self.out(out.transpose(-1, -2).reshape(b, c, h, w))


class UNet(nn.Module):
    """Down: one ResBlock per level, then halve. Middle: ResBlock, attention, ResBlock.

    Up: one ResBlock per level on the skip-concatenated features, then double.
    """

    def __init__(self, config: UNetConfig = UNetConfig()) -> None:
        super().__init__()
        self.config = config
        chs = config.channels
        e = config.embed_dim
        self.time_mlp = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        self.class_embed = nn.Embedding(config.num_classes + 1, e)  # last index: no class
        folded = config.image_channels * config.patch**2
        self.stem = nn.Conv2d(folded, chs[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        c_prev = chs[0]
        for i, c in enumerate(chs):
            self.down.append(ResBlock(c_prev, c, e))
            last = i == len(chs) - 1
            self.downsample.append(nn.Identity() if last else nn.Conv2d(c, c, 3, 2, 1))
            c_prev = c
        self.mid1 = ResBlock(c_prev, c_prev, e)
        self.mid_attn = Attention(c_prev) if config.attention else nn.Identity()
        self.mid2 = ResBlock(c_prev, c_prev, e) if config.mid_blocks > 1 else None
        self.up = nn.ModuleList()
        for c in reversed(chs):
            self.up.append(ResBlock(c_prev + c, c, e))
            c_prev = c
        self.out_norm = nn.GroupNorm(_groups(c_prev), c_prev)
        self.out = nn.Conv2d(c_prev, folded, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @property
    def null_class(self) -> int:
        return self.config.num_classes

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        emb = self.time_mlp(sinusoidal_embedding(t, self.config.embed_dim))
        emb = emb + self.class_embed(y)
        if self.config.patch > 1:
            x = F.pixel_unshuffle(x, self.config.patch)
        h = self.stem(x)
        skips = []
        for block, down in zip(self.down, self.downsample):
            h = block(h, emb)
            skips.append(h)
            h = down(h)
        h = self.mid_attn(self.mid1(h, emb))
        if self.mid2 is not None:
            h = self.mid2(h, emb)
        for block in self.up:
            skip = skips.pop()
            if h.shape[-1] != skip.shape[-1]:
                h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = block(torch.cat([h, skip], dim=1), emb)
        out = self.out(F.silu(self.out_norm(h)))
        return F.pixel_shuffle(out, self.config.patch) if self.config.patch > 1 else out


class PointDenoiser(nn.Module):
    """A small MLP that predicts the noise on 2D points.

    The coordinates also enter as sines and cosines at a few frequencies (Fourier features),
    which lets a tiny network draw sharp, thin shapes; the timestep enters as an embedding.
    """

    def __init__(
        self, hidden: int = 128, embed_dim: int = 32, frequencies: int = 4, num_classes: int = 0
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.num_classes = num_classes
        self.register_buffer(
            "freqs", 2.0 ** torch.arange(frequencies, dtype=torch.float32), persistent=False
        )
        n_in = 2 + 4 * frequencies + embed_dim
        self.net = nn.Sequential(
            nn.Linear(n_in, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 2),
        )

    @property
    def null_class(self) -> int:
        return self.num_classes

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        angles = (x[:, :, None] * self.freqs).flatten(1)
        features = [x, angles.sin(), angles.cos(), sinusoidal_embedding(t, self.embed_dim)]
        return self.net(torch.cat(features, dim=-1))
