"""Inference speed: one picture from file to probabilities, and a whole folder in batches.

python benchmarks/inference.py --data ../shared/data/cats-vs-raccoons

- Single picture (ML Lab's classify_file: open, shrink, crop, network, softmax), median and
  95th percentile, for a 320-px photo and for a 12-megapixel JPEG this script makes.
- Batch: ML Lab's classify_folder (the "Classify a folder" page) on the folder, against a
  bare PyTorch loop over the same files in the same run (PIL open → resize → crop →
  normalize → network in batches of the same size). The two alternate round by round and
  the ratio is the median of the rounds' ratios, so a busy moment on a shared machine hurts
  both alike. On such a machine, compare --threads 1 too.

The network is EfficientNet-Lite0 with ImageNet weights and a 2-class head (untrained: speed
does not depend on the head's weights). Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.core.classifier import Classifier  # noqa: E402
from lab.core.dataset import list_images  # noqa: E402
from lab.core.inference import BATCH_SIZE, classify_file, classify_folder  # noqa: E402
from lab.core.models import PRETRAINED_BACKBONE, build_classifier, normalize  # noqa: E402
from lab.core.training import run_to_end  # noqa: E402

IMAGE_SIZE = 224


def make_classifier() -> Classifier:
    net = build_classifier(PRETRAINED_BACKBONE, 2, pretrained=True)
    return Classifier(
        net=net, classes=["cat", "raccoon"], backbone=PRETRAINED_BACKBONE, image_size=IMAGE_SIZE
    )


def make_12mp_jpeg(source: Path, dest: Path) -> Path:
    """A 4000×3000 JPEG with photo-like detail (a real photo enlarged, plus sensor noise)."""
    with Image.open(source) as img:
        big = img.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    arr = np.asarray(big).astype(np.int16)
    rng = np.random.default_rng(0)
    arr = np.clip(arr + rng.normal(0, 6, arr.shape), 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(dest, format="JPEG", quality=92)
    return dest


def time_single(clf: Classifier, path: Path, runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        classify_file(clf, path)
    return [classify_file(clf, path)[1] for _ in range(runs)]


def ours(clf: Classifier, folder: Path) -> tuple[float, int]:
    summary = run_to_end(classify_folder(clf, [folder], batch_size=BATCH_SIZE))
    return summary.images_per_s, summary.done - summary.failed


def bare(net: torch.nn.Module, files: list[Path]) -> tuple[float, int]:
    """What a person would write by hand with PIL and PyTorch."""
    t0 = time.perf_counter()
    n = 0
    with torch.inference_mode():
        for start in range(0, len(files), BATCH_SIZE):
            batch = []
            for p in files[start : start + BATCH_SIZE]:
                with Image.open(p) as img:
                    img = img.convert("RGB")
                w, h = img.size
                s = IMAGE_SIZE / min(w, h)
                img = img.resize((max(IMAGE_SIZE, round(w * s)), max(IMAGE_SIZE, round(h * s))))
                left = (img.width - IMAGE_SIZE) // 2
                top = (img.height - IMAGE_SIZE) // 2
                img = img.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))
                batch.append(torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1))
            torch.softmax(net(normalize(torch.stack(batch))), dim=1)
            n += len(batch)
    return n / (time.perf_counter() - t0), n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/cats-vs-raccoons"))
    parser.add_argument("--runs", type=int, default=40, help="timed single-picture runs")
    parser.add_argument("--rounds", type=int, default=3, help="alternating batch rounds")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="PyTorch threads (0: its default, as the app uses). On a machine shared with other "
        "busy processes, 1 thread can be much faster than 2 (threads waiting on each other)",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    files = list_images(args.data)
    if not files:
        print(f"No pictures found in {args.data}.", file=sys.stderr)
        return 1
    load = os.getloadavg()
    print(
        f"Machine: {os.cpu_count()} CPUs, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), load average {load[0]:.1f} / {load[1]:.1f}"
    )
    clf = make_classifier()

    photo = next(p for p in files if max(Image.open(p).size) == 320)
    single = time_single(clf, photo, args.runs)
    print(
        f"320-px photo ({photo.name}): median {np.median(single):.1f} ms, "
        f"p95 {np.percentile(single, 95):.1f} ms over {len(single)} runs"
    )
    with tempfile.TemporaryDirectory() as tmp:
        big = make_12mp_jpeg(photo, Path(tmp) / "twelve-megapixels.jpg")
        big_ms = time_single(clf, big, max(10, args.runs // 2))
    print(
        f"12-megapixel JPEG (4000×3000): median {np.median(big_ms):.1f} ms, "
        f"p95 {np.percentile(big_ms, 95):.1f} ms"
    )

    ours_rates, bare_rates = [], []
    for r in range(args.rounds):
        b, n_bare = bare(clf.net, files)
        o, n_ours = ours(clf, args.data)
        bare_rates.append(b)
        ours_rates.append(o)
        print(f"round {r + 1}: ML Lab {o:.1f} pictures/s ({n_ours}), bare loop {b:.1f} ({n_bare})")
    batch, bare_best = max(ours_rates), max(bare_rates)
    # Each round's two runs are back to back, so their ratio is the least disturbed by what
    # else the machine is doing; the median round counts.
    ratio = float(np.median([o / b for o, b in zip(ours_rates, bare_rates)]))
    print(
        f"Batch: best {batch:.1f} pictures/s vs bare PyTorch {bare_best:.1f}; "
        f"median ratio per round {ratio:.2f}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(
        json.dumps(
            {
                "single_320_median_ms": round(float(np.median(single)), 2),
                "single_320_p95_ms": round(float(np.percentile(single, 95)), 2),
                "single_12mp_median_ms": round(float(np.median(big_ms)), 2),
                "batch_images_per_s": round(batch, 2),
                "bare_images_per_s": round(bare_best, 2),
                "batch_ratio": round(ratio, 3),
                "load_average": round(load[0], 2),
                "threads": torch.get_num_threads(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
