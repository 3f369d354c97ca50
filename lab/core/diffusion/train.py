"""Reproduce the shipped Fashion-MNIST diffusion model (and the classifier that checks it).

    python -m lab.core.diffusion.train                 # the U-Net, about 30-60 min on 1 core
    python -m lab.core.diffusion.train classifier      # the judge classifier, a few minutes
    python -m lab.core.diffusion.train finish          # make the last checkpoint the weights

The U-Net run writes the weights, a JSON record of its settings and loss curve, and a
loss log (one JSON line per 25 steps) beside them. It saves a checkpoint every few hundred
steps; Ctrl+C (or SIGTERM) stops it cleanly and saves the model trained so far, and
`finish` turns the last checkpoint of a run that was killed into the weights and record.
"""

from __future__ import annotations

import argparse
import json
import platform
import signal
import sys
import time
from pathlib import Path

import torch

from lab.core.diffusion.model import UNetConfig
from lab.core.diffusion.weights import save_denoiser, shipped_weights_path
from lab.core.files import atomic_write_bytes
from lab.core.tasks import StopFlag

LOG_EVERY_STEPS = 25


def _record_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def train_unet(args: argparse.Namespace) -> int:
    from lab.core.diffusion.data import load_fashion_mnist
    from lab.core.diffusion.training import ImageTrainSettings, train_image_denoiser

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    log_path = Path(args.log) if args.log else out.with_name(out.stem + "_loss.jsonl")
    data = load_fashion_mnist("train", limit=args.limit)
    settings = ImageTrainSettings(
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        warmup_steps=args.warmup,
        seed=args.seed,
        schedule=args.schedule,
        checkpoint_every=args.checkpoint_every,
    )
    config = UNetConfig(
        image_channels=1,
        image_size=28,
        channels=tuple(args.channels),
        num_classes=10,
        patch=args.patch,
        mid_blocks=args.mid_blocks,
    )
    record = {
        "what": "Class-conditional denoising U-Net for Fashion-MNIST (eps-prediction, "
        "classifier-free guidance via 10% label dropout)",
        "command": " ".join(["python -m lab.core.diffusion.train", *sys.argv[1:]]),
        "data": f"Fashion-MNIST train split ({len(data)} images, Debian dataset-fashion-mnist)",
        "config": config.to_dict(),
        "settings": settings.to_dict(),
        "threads": args.threads,
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}",
    }
    print(json.dumps(record), flush=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    last_logged = 0
    stop = StopFlag()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.request())
    gen = train_image_denoiser(
        data, settings, config, stop=stop, name=SHIPPED_NAME, threads=args.threads
    )
    with open(log_path, "w") as log:
        try:
            while True:
                ev = next(gen)
                if ev["kind"] == "checkpoint":
                    _save(ev["model"], _checkpoint_path(out), record)
                    print(f"checkpoint at step {ev['step']}", flush=True)
                elif ev["kind"] == "diverged":
                    print(ev["message"], flush=True)
                elif ev["step"] - last_logged >= LOG_EVERY_STEPS or ev["step"] == ev["steps"]:
                    last_logged = ev["step"]
                    line = {k: ev[k] for k in ("step", "loss", "lr", "images_per_s", "elapsed_s")}
                    log.write(json.dumps(line) + "\n")
                    log.flush()
                    print(
                        f"step {ev['step']}/{ev['steps']}  loss {ev['loss']:.4f}  "
                        f"{ev['images_per_s']:.0f} img/s  "
                        f"left {(ev['seconds_left'] or 0) / 60:.1f} min",
                        flush=True,
                    )
        except StopIteration as done:
            model = done.value
    if model.meta.get("diverged"):  # never replace good (e.g. the shipped) weights with these
        print(f"Not saved to {out}: {model.meta['diverged']}", flush=True)
        return 3
    _save(model, out, record)
    _write_record(out, model, log_path)
    print(json.dumps({"weights": str(out), "seconds": round(time.perf_counter() - started)}))
    return 0


SHIPPED_NAME = "Fashion-MNIST (shipped)"


def _checkpoint_path(weights: Path) -> Path:
    return weights.with_name(weights.stem + "_checkpoint.pt")


def _save(model, path: Path, record: dict) -> None:
    model.meta.update(record)
    save_denoiser(path, model)


def _write_record(weights: Path, model, log_path: Path) -> None:
    """The JSON record beside the weights: settings, time, and the loss curve up to the end."""
    meta = model.meta
    done = int(meta.get("steps_done") or 0)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    planned = int(meta["settings"]["steps"])
    record = {
        key: meta[key]
        for key in ("what", "command", "data", "config", "settings", "threads", "machine")
        if key in meta
    }
    record.update(
        steps_done=done,
        stopped_early=done < planned,
        train_seconds=meta.get("seconds"),
        final_loss=meta.get("final_loss"),
        loss_curve=[[c["step"], round(c["loss"], 5)] for c in lines if c["step"] <= done],
        weights_bytes=weights.stat().st_size,
    )
    atomic_write_bytes(_record_path(weights), (json.dumps(record, indent=1) + "\n").encode())


def finish_from_checkpoint(args: argparse.Namespace) -> int:
    """Make the last checkpoint of a killed run the weights, with its record."""
    from lab.core.diffusion.weights import load_denoiser

    out = Path(args.out)
    log_path = Path(args.log) if args.log else out.with_name(out.stem + "_loss.jsonl")
    model = load_denoiser(_checkpoint_path(out))
    model.name = SHIPPED_NAME
    save_denoiser(out, model)
    _write_record(out, model, log_path)
    print(json.dumps({"weights": str(out), "steps_done": model.meta.get("steps_done")}))
    return 0


def train_classifier(args: argparse.Namespace) -> int:
    from lab.core.diffusion.judge import evaluate_judge, save_judge, train_judge

    torch.set_num_threads(args.threads)
    out = Path(args.out_classifier)
    model = None
    gen = train_judge(epochs=args.epochs, seed=args.seed)
    try:
        while True:
            ev = next(gen)
            print(json.dumps(ev), flush=True)
    except StopIteration as done:
        model = done.value
    accuracy = evaluate_judge(model)
    save_judge(out, model, {"test_accuracy": accuracy, "epochs": args.epochs, "seed": args.seed})
    print(json.dumps({"weights": str(out), "test_accuracy": accuracy}))
    return 0


def main(argv: list[str] | None = None) -> int:
    from lab.core.diffusion.judge import shipped_judge_path

    p = argparse.ArgumentParser(
        prog="python -m lab.core.diffusion.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("what", nargs="?", default="unet", choices=["unet", "classifier", "finish"])
    p.add_argument("--out", default=str(shipped_weights_path()))
    p.add_argument("--out-classifier", default=str(shipped_judge_path()))
    p.add_argument("--log", default="", help="loss log (JSON lines); default beside --out")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--schedule", default="cosine", choices=["cosine", "linear"])
    p.add_argument("--channels", type=int, nargs="+", default=[32, 64])
    p.add_argument("--patch", type=int, default=2)
    p.add_argument("--mid-blocks", type=int, default=2)
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--limit", type=int, default=None, help="use only the first N images")
    p.add_argument("--epochs", type=int, default=5, help="classifier epochs")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    run = {"unet": train_unet, "classifier": train_classifier, "finish": finish_from_checkpoint}
    return run[args.what](args)


if __name__ == "__main__":
    raise SystemExit(main())
