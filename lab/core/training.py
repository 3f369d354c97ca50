"""Training the cat-vs-raccoon classifier: one generator for all three modes.

train_classifier(...) yields small event dicts (all floats, ints and strings) and returns a
TrainResult. It checks its StopFlag between steps; on Stop it finishes the epoch's
bookkeeping and returns the model as trained so far. Events:

  {"kind": "stage", "stage": "features"|"reading"|"training", "total": n}
  {"kind": "features"|"reading", "done", "total", "images_per_s", "eta_s"}
  {"kind": "step", "step", "epoch": float, "loss", "images_per_s", "eta_s", "progress"}
  {"kind": "epoch", "epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"}
  {"kind": "diverged", "step", "message"}
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lab.core.classifier import Classifier
from lab.core.dataset import DatasetError, ImageFolder, stratified_split
from lab.core.features import FeatureCache, extract_features
from lab.core.images import ImageError, open_image
from lab.core.models import (
    FEATURE_DIMS,
    PRETRAINED_BACKBONE,
    SCRATCH_BACKBONE,
    build_classifier,
    describe_device,
    efficientnet_backbone,
    normalize,
    to_uint8_tensor,
)
from lab.core.runs import EarlyStopping
from lab.core.settings import TrainSettings
from lab.core.tasks import RateMeter, StopFlag

# Images held in memory for whole-network training; above this, ask for a smaller setting.
MAX_IMAGE_BYTES = 1_500_000_000
# Whole-network steps run in slices of this many images (gradients add up over the slices),
# so Stop and Pause answer within a fraction of a second even with large batches.
SLICE = {"finetune": 8, "scratch": 32}
# A batch loss this many times the first one (or chance level, if larger) means the weights
# have blown up: cross-entropy never climbs that far while a model is learning.
EXPLODED = 100.0


@dataclass
class TrainResult:
    classifier: Classifier
    settings: TrainSettings
    metrics: dict
    history: dict
    val_paths: list[str]
    val_labels: np.ndarray
    val_probs: np.ndarray
    skipped: list[tuple[str, str]] = field(default_factory=list)
    stopped: bool = False
    diverged: str = ""


class _Diverged(Exception):
    pass


def backbone_for(mode: str) -> str:
    return SCRATCH_BACKBONE if mode == "scratch" else PRETRAINED_BACKBONE


def train_classifier(
    folder: ImageFolder,
    settings: TrainSettings,
    *,
    cache: FeatureCache | None = None,
    device: torch.device | None = None,
    stop: StopFlag | None = None,
) -> Generator[dict, None, TrainResult]:
    settings.check()
    folder.check_trainable()
    device = device or torch.device("cpu")
    stop = stop or StopFlag()
    started = time.perf_counter()
    labels = folder.labels
    train_idx, val_idx = stratified_split(labels, settings.val_share, settings.seed)
    paths = [s.path for s in folder.samples]
    yield {
        "kind": "start",
        "mode": settings.mode,
        "device": describe_device(device),
        "images": len(paths),
        "train_images": len(train_idx),
        "val_images": len(val_idx),
    }
    torch.manual_seed(settings.seed)
    run = _Run(settings, folder.classes, device, stop)
    if settings.mode == "head":
        inputs = yield from _head_inputs(paths, settings, cache, device, stop, run)
    else:
        inputs = yield from _image_inputs(paths, settings, stop, run)
    # Images that could not be read leave both sides of the split.
    bad = set(run.failed)
    train_idx = np.array([i for i in train_idx if i not in bad], dtype=np.int64)
    val_idx = np.array([i for i in val_idx if i not in bad], dtype=np.int64)
    if not stop.requested:
        for split_name, idx in (("training", train_idx), ("validation", val_idx)):
            missing = set(range(len(folder.classes))) - set(labels[idx].tolist())
            if missing:
                names = ", ".join(folder.classes[m] for m in sorted(missing))
                raise DatasetError(
                    f"After leaving out unreadable images, the {split_name} set has no images "
                    f"of: {names}. Add more images to those classes."
                )
    yield from run.fit(inputs, labels, train_idx, val_idx)
    return run.result(
        inputs, labels, train_idx, val_idx, [str(p) for p in paths], started, len(paths)
    )


def _head_inputs(paths, settings, cache, device, stop, run):
    feats, flipped, failed = yield from extract_features(
        paths,
        PRETRAINED_BACKBONE,
        lambda: efficientnet_backbone(pretrained=True),
        settings.image_size,
        cache,
        FEATURE_DIMS[PRETRAINED_BACKBONE],
        flips=settings.augment,
        device=device,
        stop=stop,
    )
    run.note_failed(paths, failed)
    return _Inputs(
        features=torch.from_numpy(feats),
        flipped=None if flipped is None else torch.from_numpy(flipped),
    )


def _image_inputs(paths, settings, stop, run):
    size = settings.image_size
    need = len(paths) * 3 * size * size
    if need > MAX_IMAGE_BYTES:
        raise DatasetError(
            f"{len(paths):,} images at {size} pixels need {need / 1e9:.1f} GB of memory for "
            "whole-network training. Choose a smaller image size, or head-only training."
        )
    images = torch.zeros((len(paths), 3, size, size), dtype=torch.uint8)
    yield {"kind": "stage", "stage": "reading", "total": len(paths)}
    meter = RateMeter()
    failed: dict[int, str] = {}
    for i, path in enumerate(paths):
        if stop.requested:
            break
        try:
            images[i] = to_uint8_tensor(open_image(path, max_side=size * 2), size)
        except ImageError as exc:
            failed[i] = exc.reason
        meter.add(1)
        if i % 16 == 15 or i == len(paths) - 1:
            yield {
                "kind": "reading",
                "done": i + 1,
                "total": len(paths),
                "images_per_s": meter.per_second,
                "eta_s": meter.seconds_left(len(paths) - i - 1),
            }
    run.note_failed(paths, failed)
    return _Inputs(images=images)


@dataclass
class _Inputs:
    features: torch.Tensor | None = None
    flipped: torch.Tensor | None = None
    images: torch.Tensor | None = None


class _Run:
    """The state of one training run: network, optimiser, history."""

    def __init__(self, settings: TrainSettings, classes, device, stop: StopFlag) -> None:
        self.settings = settings
        self.classes = list(classes)
        self.device = device
        self.stop = stop
        self.failed: dict[int, str] = {}
        self.skipped: list[tuple[str, str]] = []
        self.history: dict[str, list] = {
            "step": [],
            "step_epoch": [],
            "loss": [],
            "epoch": [],
            "train_loss": [],
            "train_accuracy": [],
            "val_loss": [],
            "val_accuracy": [],
        }
        self.diverged = ""
        self.net = (
            build_classifier(
                backbone_for(settings.mode), len(classes), pretrained=settings.mode != "scratch"
            )
            if settings.mode != "head"
            else None
        )
        self.head_only = settings.mode == "head"
        self.best: tuple[int, dict, np.ndarray] | None = None  # (history index, weights, probs)
        self.final_index = -1  # which epoch's numbers the result reports
        self.last_good: dict | None = None
        self.val_probs = np.zeros((0, len(classes)), dtype=np.float32)
        self.train_seconds = 0.0

    def note_failed(self, paths, failed: dict[int, str]) -> None:
        self.failed.update(failed)
        self.skipped = [(paths[i].name, reason) for i, reason in sorted(self.failed.items())]

    # -- the training loop ------------------------------------------------------------
    def fit(self, inputs: _Inputs, labels, train_idx, val_idx):
        s = self.settings
        # Seed here, after any feature extraction, so a cached run gives the same model.
        torch.manual_seed(s.seed)
        if self.head_only:
            self.head = nn.Linear(FEATURE_DIMS[PRETRAINED_BACKBONE], len(self.classes))
            self.dropout = nn.Dropout(0.2)
            params = list(self.head.parameters())
            self.head.to(self.device)
        else:
            self.net.to(self.device)
            params = list(self.net.parameters())
        opt = torch.optim.Adam(params, lr=s.learning_rate)
        y = torch.from_numpy(labels)
        n_train = len(train_idx)
        if s.mode == "head" and inputs.flipped is not None:
            n_train *= 2  # mirrored copies are extra training examples
        steps_per_epoch = max(1, math.ceil(n_train / s.batch_size))
        total_steps = steps_per_epoch * s.epochs
        gen = torch.Generator().manual_seed(s.seed)
        meter = RateMeter()
        step = 0
        early = EarlyStopping(s.patience)
        self.last_good = self._state()
        first_loss: float | None = None
        yield {"kind": "stage", "stage": "training", "total": total_steps}
        t0 = time.perf_counter()
        for epoch in range(1, s.epochs + 1):
            order = self._epoch_order(train_idx, inputs, gen)
            seen, correct, loss_sum = 0, 0, 0.0
            self._train_mode(True)
            for start in range(0, len(order), s.batch_size):
                if self.stop.requested:
                    break
                batch = order[start : start + s.batch_size]
                where = epoch - 1 + (start + len(batch)) / len(order)
                try:
                    loss, n_correct = yield from self._step(opt, inputs, batch, y)
                    if first_loss is None:
                        first_loss = loss
                    elif loss > EXPLODED * max(first_loss, math.log(len(self.classes))):
                        raise _Diverged(f"the loss exploded (from {first_loss:.2f} to {loss:,.0f})")
                except _Diverged as exc:
                    self._restore(self.last_good)
                    what = str(exc) or "the loss became infinite"
                    self.diverged = (
                        f"The learning rate is too large: {what} at step {step + 1}. "
                        "Training stopped and the model went back to its last good weights "
                        f"({self._good_epoch_text()}); try a smaller learning rate."
                    )
                    yield {
                        "kind": "diverged",
                        "step": step + 1,
                        "epoch": round(where, 4),
                        "message": self.diverged,
                    }
                    break
                step += 1
                seen += len(batch)
                correct += n_correct
                loss_sum += loss * len(batch)
                meter.add(len(batch))
                self._log_step(step, where, loss)
                yield {
                    "kind": "step",
                    "step": step,
                    "epoch": self.history["step_epoch"][-1],
                    "loss": loss,
                    "images_per_s": meter.per_second,
                    "eta_s": meter.seconds_left((total_steps - step) * s.batch_size),
                    "progress": step / total_steps,
                }
            if self.diverged or seen == 0:
                break
            self._train_mode(False)
            val_loss, val_acc, probs = yield from self._evaluate(inputs, labels, val_idx)
            self.val_probs = probs
            self.last_good = self._state()
            h = self.history
            h["epoch"].append(epoch)
            h["train_loss"].append(loss_sum / seen)
            h["train_accuracy"].append(correct / seen)
            h["val_loss"].append(val_loss)
            h["val_accuracy"].append(val_acc)
            yield {
                "kind": "epoch",
                "epoch": epoch,
                "train_loss": loss_sum / seen,
                "train_accuracy": correct / seen,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
            }
            stop_now = early.update(epoch, val_loss)
            if early.best_epoch == epoch:
                self.best = (len(h["epoch"]) - 1, self._state(), probs)
            if stop_now:
                # Go back to the weights of the best epoch, as a careful person would.
                index, state, best_probs = self.best
                self._restore(state)
                self.val_probs = best_probs
                self.final_index = index
                yield {
                    "kind": "early_stop",
                    "epoch": epoch,
                    "patience": s.patience,
                    "best_epoch": early.best_epoch,
                }
                break
            if self.stop.requested:
                break
        self.train_seconds = time.perf_counter() - t0
        self._train_mode(False)
        if self.diverged and not self.history["epoch"] and len(val_idx):
            # No epoch finished: score the weights it went back to, so every validation
            # image still has probabilities (the Evaluate page needs one row per image).
            _, _, self.val_probs = yield from self._evaluate(inputs, labels, val_idx)

    def _epoch_order(self, train_idx, inputs: _Inputs, gen) -> np.ndarray:
        # Head mode with augmentation: index i + N means "the mirrored copy of image i".
        idx = train_idx
        if self.head_only and inputs.flipped is not None:
            idx = np.concatenate([train_idx, train_idx + len(inputs.features)])
        perm = torch.randperm(len(idx), generator=gen).numpy()
        return idx[perm]

    def _features(self, inputs: _Inputs, batch: np.ndarray) -> torch.Tensor:
        n = len(inputs.features)
        if inputs.flipped is None:
            return inputs.features[torch.from_numpy(batch)]
        both = torch.cat([inputs.features, inputs.flipped])
        return (
            both[torch.from_numpy(batch)]
            if batch.max(initial=0) >= n
            else inputs.features[torch.from_numpy(batch)]
        )

    def _step(self, opt, inputs: _Inputs, batch: np.ndarray, y: torch.Tensor):
        opt.zero_grad(set_to_none=True)
        targets = y[torch.from_numpy(batch % len(y))].to(self.device)
        if self.head_only:
            x = self._features(inputs, batch).to(self.device)
            logits = self.head(self.dropout(x))
            loss = F.cross_entropy(logits, targets)
            if not torch.isfinite(loss):
                raise _Diverged
            loss.backward()
            if not _finite_grads(self.head.parameters()):
                raise _Diverged
            opt.step()
            return float(loss.detach()), int((logits.argmax(1) == targets).sum())
        # Whole-network step in slices, yielding between them so Stop stays quick.
        size = SLICE[self.settings.mode]
        total_loss, correct = 0.0, 0
        for start in range(0, len(batch), size):
            part = batch[start : start + size]
            imgs = inputs.images[torch.from_numpy(part)]
            if self.settings.augment:
                imgs = augment(imgs)
            logits = self.net(normalize(imgs.to(self.device)))
            t = targets[start : start + size]
            loss = F.cross_entropy(logits, t) * (len(part) / len(batch))
            if not torch.isfinite(loss):
                raise _Diverged
            loss.backward()
            total_loss += float(loss.detach())
            correct += int((logits.argmax(1) == t).sum())
            if start + size < len(batch):
                yield None  # a checkpoint, not progress
        if not _finite_grads(self.net.parameters()):
            raise _Diverged
        opt.step()
        if not _finite_params(self.net.parameters()):
            raise _Diverged
        return total_loss, correct

    def _evaluate(self, inputs: _Inputs, labels, val_idx):
        y = torch.from_numpy(labels[val_idx])
        with torch.inference_mode():
            if self.head_only:
                logits = self.head(inputs.features[torch.from_numpy(val_idx)].to(self.device))
            else:
                outs = []
                for start in range(0, len(val_idx), 32):
                    part = torch.from_numpy(val_idx[start : start + 32])
                    outs.append(self.net(normalize(inputs.images[part].to(self.device))).cpu())
                    yield None
                logits = torch.cat(outs) if outs else torch.zeros((0, len(self.classes)))
            logits = logits.float().cpu()
            loss = float(F.cross_entropy(logits, y)) if len(y) else float("nan")
            acc = float((logits.argmax(1) == y).float().mean()) if len(y) else float("nan")
            probs = torch.softmax(logits, 1).numpy()
        return loss, acc, probs

    def _train_mode(self, on: bool) -> None:
        if self.head_only:
            self.dropout.train(on)
            return
        self.net.train(on)
        if on and self.settings.mode == "finetune":
            # Keep the pretrained batch-norm statistics: re-estimating them from batches of a
            # few hundred photos makes the features noisier (the classes drift together).
            for module in self.net.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()

    def _good_epoch_text(self) -> str:
        epochs = self.history["epoch"]
        return (
            f"those after epoch {epochs[self.final_index]}" if epochs else "those it started with"
        )

    def _state(self) -> dict:
        module = self.head if self.head_only else self.net
        return copy.deepcopy(module.state_dict())

    def _restore(self, state: dict | None) -> None:
        if state is not None:
            (self.head if self.head_only else self.net).load_state_dict(state)

    def _log_step(self, step: int, epoch: float, loss: float) -> None:
        self.history["step"].append(step)
        self.history["step_epoch"].append(round(epoch, 4))
        self.history["loss"].append(loss)

    # -- the result ---------------------------------------------------------------------
    def result(self, inputs, labels, train_idx, val_idx, paths, started, n_images) -> TrainResult:
        s = self.settings
        if self.head_only:
            net = build_classifier(PRETRAINED_BACKBONE, len(self.classes), pretrained=True)
            net.head.load_state_dict(self.head.state_dict())
        else:
            net = self.net
        net = net.cpu().eval()
        h = self.history
        i = self.final_index
        val_acc = h["val_accuracy"][i] if h["val_accuracy"] else float("nan")
        val_loss = h["val_loss"][i] if h["val_loss"] else float("nan")
        seconds = time.perf_counter() - started
        metrics = {
            "val_accuracy": val_acc,
            "val_loss": val_loss,
            "train_accuracy": h["train_accuracy"][i] if h["train_accuracy"] else float("nan"),
            "seconds": seconds,
            "train_seconds": self.train_seconds,
            "images": n_images - len(self.failed),
            "train_images": len(train_idx),
            "val_images": len(val_idx),
            "epochs": len(h["epoch"]),
            "model_epoch": h["epoch"][i] if h["epoch"] else 0,
            "mode": s.mode,
            "device": describe_device(self.device),
            "stopped": bool(self.stop.requested),
            "diverged": bool(self.diverged),
        }
        classifier = Classifier(
            net=net,
            classes=self.classes,
            backbone=backbone_for(s.mode),
            image_size=s.image_size,
            settings=s.to_dict(),
            metrics=metrics,
        )
        return TrainResult(
            classifier=classifier,
            settings=s,
            metrics=metrics,
            history=h,
            val_paths=[paths[i] for i in val_idx],
            val_labels=labels[val_idx],
            val_probs=self.val_probs,
            skipped=self.skipped,
            stopped=bool(self.stop.requested),
            diverged=self.diverged,
        )


def augment(images: torch.Tensor) -> torch.Tensor:
    """Random mirror and a random crop of 75–100% of each side, resized back (uint8 in/out)."""
    n, _, h, w = images.shape
    out = torch.empty_like(images)
    for i in range(n):
        img = images[i]
        if torch.rand(()) < 0.5:
            img = img.flip(-1)
        scale = 0.75 + 0.25 * float(torch.rand(()))
        ch, cw = max(8, int(h * scale)), max(8, int(w * scale))
        top = int(torch.randint(0, h - ch + 1, ()))
        left = int(torch.randint(0, w - cw + 1, ()))
        crop = img[:, top : top + ch, left : left + cw].unsqueeze(0).float()
        out[i] = (
            F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False)[0]
            .round()
            .clamp(0, 255)
            .to(torch.uint8)
        )
    return out


def _finite_grads(params) -> bool:
    return all(p.grad is None or bool(torch.isfinite(p.grad).all()) for p in params)


def _finite_params(params) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in params)


def run_to_end(gen: Generator):
    """Drive a task generator to its end, returning what it returns (for scripts and tests)."""
    while True:
        try:
            next(gen)
        except StopIteration as done:
            return done.value


def compare_modes(
    folder: ImageFolder,
    base: TrainSettings,
    *,
    modes: tuple[str, ...] = ("head", "finetune", "scratch"),
    overrides: dict | None = None,
    cache: FeatureCache | None = None,
    device: torch.device | None = None,
    stop: StopFlag | None = None,
) -> Generator[dict, None, list[TrainResult]]:
    """Train each mode in turn on the same images, split and seed (each with its own defaults).

    Events of each run are passed through with "run" (0, 1, 2) added; {"kind": "run_start"}
    and {"kind": "run_end"} frame each run. Returns the results of the runs that finished.
    """
    stop = stop or StopFlag()
    results: list[TrainResult] = []
    for index, mode in enumerate(modes):
        settings = TrainSettings.for_mode(
            mode,
            val_share=base.val_share,
            seed=base.seed,
            patience=base.patience,
            **(overrides or {}),
        ).check()
        yield {
            "kind": "run_start",
            "run": index,
            "mode": mode,
            "of": len(modes),
            "settings": settings.to_dict(),
        }
        gen = train_classifier(folder, settings, cache=cache, device=device, stop=stop)
        while True:
            try:
                ev = next(gen)
            except StopIteration as done:
                result = done.value
                break
            yield None if ev is None else {**ev, "run": index}
        results.append(result)
        yield {"kind": "run_end", "run": index, "mode": mode, "metrics": dict(result.metrics)}
        if stop.requested:
            break
    return results
