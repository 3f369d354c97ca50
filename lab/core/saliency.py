"""'Where did it look?': Grad-CAM on the last convolutional feature map of the backbone.

Grad-CAM weighs each channel of the last feature map by how much the chosen class's score
grows with it (the mean gradient), sums the channels and keeps the positive part. The map
covers the square the model saw (the centre crop); the rest of the picture, which the model
never saw, stays 0, and the square is returned so a view can mark it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from lab.core.classifier import Classifier
from lab.core.models import normalize


@dataclass
class SaliencyMap:
    heat: np.ndarray  # H×W float32 in [0, 1], the picture's own size and aspect
    box: tuple[int, int, int, int]  # (left, top, right, bottom): the square the model saw
    class_index: int
    empty: bool  # True when nothing in the picture raises this class's score


def feature_map(backbone: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The backbone's last convolutional feature map, N×C×h×w."""
    return backbone.forward_features(x)


def pooled_features(backbone: nn.Module, fmap: torch.Tensor) -> torch.Tensor:
    """What the backbone makes of its feature map: the vector the head sees."""
    if hasattr(backbone, "forward_head"):  # timm networks
        return backbone.forward_head(fmap, pre_logits=True)
    return backbone.pool(fmap).flatten(1)


def model_crop_box(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """The centre square to_uint8_tensor keeps, in the picture's own pixels."""
    scale = size / min(width, height)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return (
        round(left / scale),
        round(top / scale),
        min(width, round((left + size) / scale)),
        min(height, round((top + size) / scale)),
    )


def grad_cam(classifier: Classifier, img: Image.Image, class_index: int) -> SaliencyMap:
    """The Grad-CAM map of `class_index` for this picture, at the picture's size."""
    if not 0 <= class_index < classifier.num_classes:
        raise ValueError(f"There is no class number {class_index}.")
    net = classifier.net
    net.eval()
    x = normalize(classifier.preprocess(img).unsqueeze(0).to(classifier.device))
    with classifier.lock, torch.enable_grad():
        fmap = feature_map(net.backbone, x)
        logits = net.head(pooled_features(net.backbone, fmap))
        (grads,) = torch.autograd.grad(logits[0, class_index], fmap)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * fmap).sum(dim=1, keepdim=True)).detach().float().cpu()
    top = float(cam.max())
    w, h = img.size
    left, upper, right, lower = model_crop_box(w, h, classifier.image_size)
    heat = np.zeros((h, w), dtype=np.float32)
    empty = not top > 1e-12
    if not empty:
        cam = F.interpolate(
            cam / top, size=(lower - upper, right - left), mode="bilinear", align_corners=False
        )
        heat[upper:lower, left:right] = cam[0, 0].clamp(0, 1).numpy()
    return SaliencyMap(
        heat=heat, box=(left, upper, right, lower), class_index=class_index, empty=empty
    )
