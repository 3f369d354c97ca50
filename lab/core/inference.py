"""Using a trained classifier: one picture as it arrives, or a whole folder at once.

- classify_file / classify_picture: one picture → probabilities, timed from file to answer,
  optionally changed first (rotation, blur, brightness, zoom) and with a Grad-CAM map.
- classify_folder: a generator over a folder that yields rows of results in small batches
  (with a small thumbnail each) and returns a summary with the images per second.
- verdict: the answer in words, "Not sure" below a confidence threshold.
- write_csv: the batch results as a spreadsheet, written atomically.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageFilter

from lab.core.classifier import Classifier
from lab.core.files import atomic_write_bytes
from lab.core.images import ImageError, open_image
from lab.core.saliency import SaliencyMap, grad_cam
from lab.core.settings import SettingsError
from lab.core.tasks import RateMeter, StopFlag
from lab.core.workspace import expand_paths

DEFAULT_THRESHOLD = 0.7
BATCH_SIZE = 16
THUMB_SIZE = 48  # the table's thumbnails: 7 KB each, so 20,000 rows stay small


# -- the answer in words -------------------------------------------------------------------
def _article(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def none_of(classes: list[str]) -> str:
    """'neither a cat nor a raccoon' / 'none of: cat, dog, bird'."""
    if len(classes) == 2:
        return f"neither {_article(classes[0])} nor {_article(classes[1])}"
    return "none of: " + ", ".join(classes)


@dataclass(frozen=True)
class Verdict:
    label: str  # the most likely class
    probability: float
    sure: bool
    text: str  # what the user reads in large type


def verdict(probs: np.ndarray, classes: list[str], threshold: float = DEFAULT_THRESHOLD) -> Verdict:
    """The predicted class, or 'Not sure' when the top probability is below the threshold."""
    best = int(np.argmax(probs))
    p = float(probs[best])
    sure = p >= threshold
    text = classes[best] if sure else f"Not sure — this may be {none_of(classes)}"
    return Verdict(classes[best], p, sure, text)


# -- changing a picture to test robustness -------------------------------------------------
@dataclass(frozen=True)
class Perturbation:
    """What the robustness sliders do to a picture before the model sees it."""

    rotation: float = 0.0  # degrees, anticlockwise
    blur: float = 0.0  # Gaussian blur radius, in pixels of the model's input
    brightness: float = 1.0  # 1 = unchanged, 0.5 = half as bright
    zoom: float = 1.0  # 2 = the centre half of each side, enlarged

    def problems(self) -> dict[str, str]:
        p: dict[str, str] = {}
        checks = {
            "rotation": (-180.0, 180.0, " degrees"),
            "blur": (0.0, 20.0, " pixels"),
            "brightness": (0.05, 3.0, " times"),
            "zoom": (1.0, 8.0, " times"),
        }
        for name, (lo, hi, unit) in checks.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                p[name] = "must be a number"
            elif not lo <= value <= hi:
                p[name] = f"must be between {lo:g} and {hi:g}{unit}"
        return p

    def check(self) -> Perturbation:
        problems = self.problems()
        if problems:
            raise SettingsError(problems)
        return self

    @property
    def is_identity(self) -> bool:
        return self == Perturbation()


def perturb(img: Image.Image, p: Perturbation, model_size: int) -> Image.Image:
    """The picture as changed by p: zoom (centre crop), rotation, blur, brightness."""
    p.check()
    out = img
    if p.zoom > 1.0:
        w, h = out.size
        cw, ch = max(1, round(w / p.zoom)), max(1, round(h / p.zoom))
        left, top = (w - cw) // 2, (h - ch) // 2
        out = out.crop((left, top, left + cw, top + ch)).resize((w, h), Image.Resampling.BILINEAR)
    if p.rotation:
        out = out.rotate(p.rotation, resample=Image.Resampling.BILINEAR, fillcolor=(128, 128, 128))
    if p.blur > 0:
        # The radius is given in the model's pixels, so it means the same at any photo size.
        out = out.filter(ImageFilter.GaussianBlur(p.blur * min(out.size) / model_size))
    if p.brightness != 1.0:
        out = ImageEnhance.Brightness(out).enhance(p.brightness)
    return out if out is not img else img.copy()


# -- one picture ---------------------------------------------------------------------------
@dataclass
class SingleResult:
    probabilities: np.ndarray  # one per class, summing to 1
    ms: float  # milliseconds from the file (or picture) to the probabilities
    model_input: np.ndarray  # S×S×3 uint8: exactly what the network saw
    picture: np.ndarray  # H×W×3 uint8: the (changed) picture, for display
    saliency: SaliencyMap | None = None


def load_picture(classifier: Classifier, path: str | Path) -> Image.Image:
    """A picture as prediction needs it: upright RGB, at most twice the model's size."""
    return open_image(path, max_side=classifier.image_size * 2)


def predict_picture(classifier: Classifier, img: Image.Image) -> tuple[np.ndarray, torch.Tensor]:
    tensor = classifier.preprocess(img)
    return classifier.predict_batch(tensor.unsqueeze(0))[0], tensor


def classify_picture(
    classifier: Classifier,
    img: Image.Image,
    perturbation: Perturbation | None = None,
    *,
    cam_class: int | None = None,
    stop: StopFlag | None = None,
) -> Generator[None, None, SingleResult | None]:
    """One picture (changed by `perturbation`), with a Grad-CAM map for cam_class if given.

    cam_class -1 means the predicted class. Returns None if stopped before the answer.
    """
    t0 = time.perf_counter()
    shown = perturb(img, perturbation, classifier.image_size) if perturbation else img
    if stop is not None and stop.requested:
        return None
    yield None
    probs, tensor = predict_picture(classifier, shown)
    ms = (time.perf_counter() - t0) * 1000.0
    saliency = None
    if cam_class is not None:
        if stop is not None and stop.requested:
            return None
        yield None
        target = int(np.argmax(probs)) if cam_class < 0 else cam_class
        saliency = grad_cam(classifier, shown, target)
    return SingleResult(
        probabilities=probs,
        ms=ms,
        model_input=tensor.permute(1, 2, 0).numpy(),
        picture=np.asarray(shown),
        saliency=saliency,
    )


def classify_file(classifier: Classifier, path: str | Path) -> tuple[np.ndarray, float]:
    """Probabilities for one image file and the milliseconds it took, file to answer."""
    t0 = time.perf_counter()
    probs, _ = predict_picture(classifier, load_picture(classifier, path))
    return probs, (time.perf_counter() - t0) * 1000.0


def classify_files(
    classifier: Classifier, paths: Iterable[str | Path], stop: StopFlag | None = None
) -> Generator[dict, None, None]:
    """Dropped files one by one, each as soon as it is done (real time, not batched).

    Yields {"kind": "item", "index", "path", "probabilities", "ms", "picture"} or, for a file
    that cannot be used, {"kind": "item", "index", "path", "error"}.
    """
    for index, raw in enumerate(paths):
        if stop is not None and stop.requested:
            return
        path = Path(raw)
        t0 = time.perf_counter()
        try:
            img = load_picture(classifier, path)
        except ImageError as exc:
            yield {"kind": "item", "index": index, "path": str(path), "error": exc.reason}
            continue
        probs, _ = predict_picture(classifier, img)
        yield {
            "kind": "item",
            "index": index,
            "path": str(path),
            "probabilities": probs,
            "ms": (time.perf_counter() - t0) * 1000.0,
            "picture": np.asarray(img),
        }


# -- a whole folder ------------------------------------------------------------------------
@dataclass
class BatchRow:
    path: str
    name: str
    label: str = ""  # the prediction ("" when the file could not be used)
    confidence: float = math.nan
    probabilities: np.ndarray | None = None
    true_class: str | None = None  # from the folder name, when laid out as CLASS/IMAGE
    error: str = ""
    thumbnail: np.ndarray | None = field(default=None, repr=False)

    @property
    def correct(self) -> bool | None:
        if self.error or self.true_class is None:
            return None
        return self.label == self.true_class


@dataclass
class BatchSummary:
    total: int
    done: int
    failed: int
    seconds: float
    images_per_s: float
    stopped: bool
    laid_out_by_class: bool


def list_folder(
    sources: Iterable[str | Path],
) -> tuple[list[Path], list[tuple[str, str]], Path | None]:
    """Image files under the given folders/files, the files refused by name, and the root."""
    sources = [Path(s) for s in sources]
    files, refused = expand_paths(sources)
    root = sources[0] if len(sources) == 1 and sources[0].is_dir() else None
    return files, refused, root


def true_class_of(path: Path, root: Path | None, classes: list[str]) -> str | None:
    """The class a CLASS/IMAGE layout gives this file (matched ignoring case), or None."""
    if root is None:
        return None
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    if len(parts) < 2:
        return None
    folder = parts[0].lower()
    return next((c for c in classes if c.lower() == folder), None)


def _thumbnail(img: Image.Image, size: int) -> np.ndarray:
    small = img.copy()
    small.thumbnail((size, size), Image.Resampling.BILINEAR)
    return np.asarray(small)


def classify_folder(
    classifier: Classifier,
    sources: Iterable[str | Path],
    *,
    batch_size: int = BATCH_SIZE,
    thumb_size: int = THUMB_SIZE,
    stop: StopFlag | None = None,
) -> Generator[dict, None, BatchSummary]:
    """Classify every image under `sources`, in batches, reporting rows as they are done.

    Yields {"kind": "start", "total", "laid_out_by_class"} then
    {"kind": "rows", "rows": [BatchRow], "done", "total", "images_per_s", "eta_s"}.
    A file that cannot be read becomes a row with its reason; the others go on.
    """
    stop = stop or StopFlag()
    files, refused, root = list_folder(sources)
    classes = classifier.classes
    truths = [true_class_of(p, root, classes) for p in files]
    by_class = any(t is not None for t in truths)
    total = len(files) + len(refused)
    yield {"kind": "start", "total": total, "laid_out_by_class": by_class}
    t0 = time.perf_counter()
    meter = RateMeter()
    done = failed = 0
    rows: list[BatchRow] = [
        BatchRow(path=name, name=name, error=reason) for name, reason in refused
    ]
    failed += len(rows)
    done += len(rows)
    pending: list[tuple[BatchRow, torch.Tensor]] = []

    def flush() -> None:
        nonlocal done
        if not pending:
            return
        probs = classifier.predict_batch(torch.stack([t for _, t in pending]))
        for (row, _), p in zip(pending, probs):
            best = int(np.argmax(p))
            row.label, row.confidence, row.probabilities = classes[best], float(p[best]), p
            rows.append(row)
        meter.add(len(pending))
        done += len(pending)
        pending.clear()

    def report() -> dict:
        out = rows.copy()
        rows.clear()
        return {
            "kind": "rows",
            "rows": out,
            "done": done,
            "total": total,
            "images_per_s": meter.per_second,
            "eta_s": meter.seconds_left(total - done),
        }

    stopped = False
    for path, truth in zip(files, truths):
        if stop.requested:
            stopped = True
            break
        row = BatchRow(path=str(path), name=path.name, true_class=truth)
        try:
            img = load_picture(classifier, path)
        except ImageError as exc:
            row.error = exc.reason
            rows.append(row)
            failed += 1
            done += 1
            continue
        row.thumbnail = _thumbnail(img, thumb_size)
        pending.append((row, classifier.preprocess(img)))
        if len(pending) >= batch_size:
            flush()
            yield report()
    if not stopped:
        flush()
    if rows:
        yield report()
    seconds = time.perf_counter() - t0
    classified = done - failed
    return BatchSummary(
        total=total,
        done=done,
        failed=failed,
        seconds=seconds,
        images_per_s=classified / seconds if seconds > 0 and classified else 0.0,
        stopped=stopped or stop.requested,
        laid_out_by_class=by_class,
    )


# -- keeping the results -------------------------------------------------------------------
def csv_text(rows: Iterable[BatchRow], classes: list[str]) -> str:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(
        ["file", "path", "prediction", "confidence", "true class", "correct"]
        + [f"p({c})" for c in classes]
        + ["problem"]
    )
    for r in rows:
        correct = {None: "", True: "yes", False: "no"}[r.correct]
        probs = (
            [f"{float(p):.6f}" for p in r.probabilities]
            if r.probabilities is not None
            else [""] * len(classes)
        )
        conf = "" if r.error else f"{r.confidence:.6f}"
        out.writerow(
            [r.name, r.path, r.label, conf, r.true_class or "", correct] + probs + [r.error]
        )
    return buf.getvalue()


def write_csv(path: str | Path, rows: Iterable[BatchRow], classes: list[str]) -> Path:
    """Write the results atomically; UTF-8 with a byte-order mark so spreadsheets read names."""
    path = Path(path)
    atomic_write_bytes(path, csv_text(rows, classes).encode("utf-8-sig"))
    return path


def accuracy_of(rows: Iterable[BatchRow]) -> tuple[int, int]:
    """(right, checked) over the rows that have a true class."""
    marks = [r.correct for r in rows if r.correct is not None]
    return sum(marks), len(marks)


__all__ = [
    "BatchRow",
    "BatchSummary",
    "DEFAULT_THRESHOLD",
    "Perturbation",
    "SingleResult",
    "Verdict",
    "accuracy_of",
    "classify_file",
    "classify_files",
    "classify_folder",
    "classify_picture",
    "csv_text",
    "load_picture",
    "none_of",
    "perturb",
    "true_class_of",
    "verdict",
    "write_csv",
]
