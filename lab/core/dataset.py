"""A labelled image collection laid out as CLASS/IMAGE, and its train/validation split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lab.core.images import IGNORED_NAMES, is_image_name


class DatasetError(Exception):
    """The images cannot be used for training; the message says what to fix."""


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int


@dataclass
class ImageFolder:
    """Images found under root/CLASS/; classes are the sub-folder names, sorted."""

    root: Path
    classes: list[str]
    samples: list[Sample]

    @classmethod
    def scan(cls, root: str | Path) -> ImageFolder:
        root = Path(root)
        if not root.is_dir():
            raise DatasetError(f"{root} is not a folder.")
        class_dirs = sorted(
            (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.name.lower(),
        )
        classes = [p.name for p in class_dirs]
        samples = [
            Sample(path, label)
            for label, folder in enumerate(class_dirs)
            for path in list_images(folder)
        ]
        return cls(root, classes, samples)

    @property
    def labels(self) -> np.ndarray:
        return np.array([s.label for s in self.samples], dtype=np.int64)

    def counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(self.classes)) if self.samples else []
        return {name: int(n) for name, n in zip(self.classes, counts)} or {
            name: 0 for name in self.classes
        }

    def check_trainable(self) -> None:
        """Raise DatasetError unless there are two classes with two images each."""
        counts = self.counts()
        if len(counts) < 2:
            raise DatasetError(
                "Training needs at least two classes (for example 'cat' and 'raccoon'); "
                f"found {len(counts)}."
            )
        small = [name for name, n in counts.items() if n < 2]
        if small:
            raise DatasetError(
                "Every class needs at least two images (one to learn from, one to check with); "
                f"too few in: {', '.join(small)}."
            )


def list_images(folder: Path) -> list[Path]:
    """Image files below a folder (recursively), in a stable order."""
    found = [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and is_image_name(p)
        and not p.name.startswith(".")
        and p.name.lower() not in IGNORED_NAMES
    ]
    return sorted(found, key=lambda p: str(p).lower())


def stratified_split(
    labels: np.ndarray, val_share: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices for training and validation, the same share taken from every class.

    The same labels, share and seed always give the same split. Each class with two or more
    images keeps at least one on each side.
    """
    rng = np.random.default_rng(seed)
    train, val = [], []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        rng.shuffle(idx)
        n_val = int(round(len(idx) * val_share))
        if len(idx) >= 2:
            n_val = min(max(n_val, 1), len(idx) - 1)
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(val, dtype=np.int64))
