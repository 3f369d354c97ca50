"""ML Lab's command line: the window by default, and headless train / predict commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ml-lab",
        description="ML Lab: learn machine learning by doing it. With no command, opens the window.",
    )
    parser.add_argument(
        "--screenshot", type=Path, metavar="FILE", help="render the window to a PNG file and exit"
    )
    parser.add_argument("--tab", metavar="NAME", help="open this tab (for example: Classifier)")
    parser.add_argument(
        "--lesson", metavar="ID", help="open this lesson (its number or id, for example: 5 or loss)"
    )
    sub = parser.add_subparsers(dest="command")

    train = sub.add_parser("train", help="train an image classifier on a CLASS/IMAGE folder")
    train.add_argument(
        "--data", type=Path, required=True, help="folder with one sub-folder per class"
    )
    train.add_argument("--out", type=Path, required=True, help="where to save the model file")
    train.add_argument("--mode", choices=["head", "finetune", "scratch"], default="head")
    train.add_argument("--epochs", type=int)
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--image-size", type=int)
    train.add_argument("--val-share", type=float)
    train.add_argument("--augment", action="store_true", default=None)
    train.add_argument("--seed", type=int)
    train.add_argument("--patience", type=int)
    train.add_argument(
        "--no-cache", action="store_true", help="do not reuse or keep backbone features"
    )

    predict = sub.add_parser("predict", help="classify image files or folders with a saved model")
    predict.add_argument("--model", type=Path, required=True)
    predict.add_argument("paths", type=Path, nargs="+", metavar="PATH")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from lab.core.runtime import tune_allocator

    tune_allocator()
    if args.command == "train":
        return _train(args)
    if args.command == "predict":
        return _predict(args)
    if args.screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from lab.ui.app import run_window

    return run_window(tab=args.tab, screenshot=args.screenshot, lesson=args.lesson)


def _say(text: str) -> None:
    print(text, flush=True)


def _train(args) -> int:
    from lab.core import paths
    from lab.core.dataset import DatasetError, ImageFolder
    from lab.core.features import FeatureCache
    from lab.core.models import pick_device
    from lab.core.settings import SettingsError, TrainSettings

    changes = {
        name: getattr(args, name)
        for name in (
            "epochs",
            "learning_rate",
            "batch_size",
            "image_size",
            "val_share",
            "augment",
            "seed",
            "patience",
        )
        if getattr(args, name) is not None
    }
    try:
        settings = TrainSettings.for_mode(args.mode, **changes).check()
        folder = ImageFolder.scan(args.data)
        folder.check_trainable()
    except (SettingsError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from lab.core.training import train_classifier

    cache = None if args.no_cache else FeatureCache(paths.cache_dir() / "features")
    counts = ", ".join(f"{n} {c}" for c, n in folder.counts().items())
    _say(f"Training ({settings.mode}) on {len(folder.samples)} images: {counts}")
    gen = train_classifier(folder, settings, cache=cache, device=pick_device())
    last_pct = -1
    try:
        while True:
            ev = next(gen)
            if not ev:
                continue
            kind = ev["kind"]
            if kind == "start":
                _say(
                    f"Device: {ev['device']}; {ev['train_images']} to learn from, {ev['val_images']} to check."
                )
            elif kind in ("features", "reading"):
                pct = int(100 * ev["done"] / max(1, ev["total"]))
                if pct // 10 != last_pct // 10 or ev["done"] == ev["total"]:
                    last_pct = pct
                    _say(
                        f"  {kind}: {ev['done']}/{ev['total']} ({ev['images_per_s']:.1f} images/s)"
                    )
            elif kind == "epoch":
                _say(
                    f"  epoch {ev['epoch']}: train loss {ev['train_loss']:.4f}, "
                    f"val loss {ev['val_loss']:.4f}, val accuracy {ev['val_accuracy']:.1%}"
                )
            elif kind in ("diverged",):
                _say(f"  {ev['message']}")
    except StopIteration as done:
        result = done.value
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, reason in result.skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    try:
        result.classifier.save(args.out)
    except OSError as exc:
        print(
            f"error: could not save the model to {args.out}: {exc.strerror or exc}", file=sys.stderr
        )
        return 1
    summary = {k: v for k, v in result.metrics.items()}
    summary["model"] = str(args.out)
    summary["classes"] = result.classifier.classes
    print(json.dumps(summary), flush=True)
    return 0 if not result.diverged else 3


def _predict(args) -> int:
    from lab.core.classifier import Classifier, ModelFileError
    from lab.core.dataset import list_images

    try:
        model = Classifier.load(args.model)
    except ModelFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    files: list[Path] = []
    for p in args.paths:
        files.extend(list_images(p) if p.is_dir() else [p])
    failed = 0
    for row in model.predict_paths(files):
        failed += "error" in row
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 2 if failed else 0
