"""Fine-tuning and forgetting: does learning cats vs raccoons change what the network knew?

The pretrained EfficientNet-Lite0 names 1,000 ImageNet things. We fine-tune it on the user's
classes, then ask it again, through its ORIGINAL ImageNet classifier, about a fixed set of
other photos (an astronaut, a cup of coffee, a rocket…). Head-only training never touches the
backbone, so those answers cannot change; whole-network training moves the backbone, and the
old answers drift: top-1 agreement with the original model falls and the KL divergence grows.
"""

from __future__ import annotations

import copy
from collections.abc import Generator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lab.core.dataset import ImageFolder, stratified_split
from lab.core.images import ImageError, open_image
from lab.core.models import (
    ClassifierNet,
    _pretrained_state,
    efficientnet_backbone,
    normalize,
    to_uint8_tensor,
)
from lab.core.tasks import StopFlag

# Colour photos that ship inside scikit-image's wheel (BSD-licensed sample data).
PROBE_FILES = (
    "astronaut.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
    "retina.jpg",
    "chelsea.png",
    "logo.png",
)


def probe_folder() -> Path | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec("skimage")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    return folder if folder.is_dir() else None


def probe_images(size: int) -> tuple[list[str], torch.Tensor]:
    """The probe photos (and their four corner crops, for more views) as uint8 tensors."""
    folder = probe_folder()
    if folder is None:
        raise FileNotFoundError("The sample photos (from scikit-image) are not installed.")
    names, tensors = [], []
    for name in PROBE_FILES:
        try:
            img = open_image(folder / name, max_side=size * 4)
        except ImageError:
            continue
        w, h = img.size
        views = [img] + [
            img.crop(box)
            for box in (
                (0, 0, w // 2, h // 2),
                (w // 2, 0, w, h // 2),
                (0, h // 2, w // 2, h),
                (w // 2, h // 2, w, h),
            )
        ]
        for i, view in enumerate(views):
            names.append(name if i == 0 else f"{name} (part {i})")
            tensors.append(to_uint8_tensor(view, size))
    if not tensors:
        raise FileNotFoundError("None of the sample photos could be read.")
    return names, torch.stack(tensors)


def _imagenet_logits(backbone: torch.nn.Module, images: torch.Tensor, w, b) -> torch.Tensor:
    with torch.inference_mode():
        return backbone(normalize(images)) @ w.T + b


def drift(original: torch.Tensor, now: torch.Tensor) -> tuple[float, float]:
    """(top-1 agreement, mean KL(original ‖ now)) between two sets of ImageNet logits."""
    agree = float((original.argmax(1) == now.argmax(1)).float().mean())
    kl = F.kl_div(
        F.log_softmax(now, 1), F.log_softmax(original, 1), log_target=True, reduction="batchmean"
    )
    return agree, max(0.0, float(kl))


def forgetting_run(
    folder: ImageFolder,
    mode: str = "finetune",
    epochs: int = 3,
    image_size: int = 128,
    lr: float = 2e-4,
    batch_size: int = 16,
    max_images: int = 120,
    seed: int = 0,
    stop: StopFlag | None = None,
) -> Generator[dict, None, dict]:
    """Train head-only or the whole network; after each epoch measure the ImageNet drift.

    Events: {"kind": "probe", "names"}, {"kind": "epoch", "epoch", "agreement", "kl",
    "val_accuracy", "top_labels"}. Returns the last epoch's numbers.
    """
    if mode not in ("head", "finetune"):
        raise ValueError("Mode must be 'head' or 'finetune'.")
    stop = stop or StopFlag()
    folder.check_trainable()
    torch.manual_seed(seed)
    state = _pretrained_state()
    w_in, b_in = state["classifier.weight"], state["classifier.bias"]
    names, probes = probe_images(image_size)
    backbone = efficientnet_backbone(pretrained=True)
    backbone.eval()
    original = _imagenet_logits(backbone, probes, w_in, b_in)
    yield {"kind": "probe", "names": names, "count": len(names)}

    labels = folder.labels
    rng = np.random.default_rng(seed)
    keep = np.sort(
        np.concatenate(
            [
                rng.permutation(np.flatnonzero(labels == c))[
                    : max(2, max_images // len(folder.classes))
                ]
                for c in range(len(folder.classes))
            ]
        )
    )
    train_idx, val_idx = stratified_split(labels[keep], 0.25, seed)
    images = []
    for i in keep:
        try:
            images.append(
                to_uint8_tensor(
                    open_image(folder.samples[i].path, max_side=image_size * 2), image_size
                )
            )
        except ImageError:
            images.append(torch.zeros(3, image_size, image_size, dtype=torch.uint8))
    x = torch.stack(images)
    y = torch.from_numpy(labels[keep])
    net = ClassifierNet(copy.deepcopy(backbone), 1280, len(folder.classes))
    params = net.head.parameters() if mode == "head" else net.parameters()
    opt = torch.optim.Adam(params, lr=lr if mode == "finetune" else 1e-3)
    last: dict = {}
    for epoch in range(1, epochs + 1):
        net.train(mode == "finetune")
        if mode == "head":
            net.backbone.eval()
            net.dropout.train()
        order = torch.from_numpy(rng.permutation(train_idx))
        for start in range(0, len(order), batch_size):
            if stop.requested:
                return last
            part = order[start : start + batch_size]
            opt.zero_grad()
            if mode == "head":
                with torch.no_grad():
                    feats = net.backbone(normalize(x[part]))
                logits = net.head(net.dropout(feats))
            else:
                logits = net(normalize(x[part]))
            F.cross_entropy(logits, y[part]).backward()
            opt.step()
            yield None
        net.eval()
        now = _imagenet_logits(net.backbone, probes, w_in, b_in)
        agree, kl = drift(original, now)
        with torch.inference_mode():
            pred = net(normalize(x[torch.from_numpy(val_idx)])).argmax(1)
        val_acc = float((pred == y[torch.from_numpy(val_idx)]).float().mean())
        last = {
            "kind": "epoch",
            "epoch": epoch,
            "mode": mode,
            "agreement": agree,
            "kl": kl,
            "val_accuracy": val_acc,
            "original_top": original.argmax(1).tolist(),
            "now_top": now.argmax(1).tolist(),
        }
        yield last
    return last
