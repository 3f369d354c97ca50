"""How good is a trained model: confusion matrix, per-class accuracy, the hardest images.

Works on any set of (path, true label, probabilities): the validation predictions a
training run keeps, or predictions a loaded model makes on the workspace's images
(evaluate_images). Relabelling and removing an image act on the workspace's files.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lab.core.classifier import Classifier, same_classes
from lab.core.dataset import ImageFolder
from lab.core.tasks import StopFlag
from lab.core.workspace import Workspace, WorkspaceError


def confusion_matrix(labels: Sequence[int], predictions: Sequence[int], n: int) -> np.ndarray:
    """counts[t, p]: how many images of true class t were predicted as class p."""
    out = np.zeros((n, n), dtype=np.int64)
    np.add.at(out, (np.asarray(labels, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return out


@dataclass
class Evaluation:
    """Predictions on a labelled set of images, and what they add up to."""

    classes: list[str]
    paths: list[str]
    labels: np.ndarray  # true class index per image
    probs: np.ndarray  # N×C

    @property
    def predictions(self) -> np.ndarray:
        return self.probs.argmax(axis=1) if len(self.probs) else np.zeros(0, dtype=np.int64)

    @property
    def matrix(self) -> np.ndarray:
        return confusion_matrix(self.labels, self.predictions, len(self.classes))

    @property
    def row_shares(self) -> np.ndarray:
        """The matrix as a share of each true class (rows sum to 1; empty rows stay 0)."""
        m = self.matrix.astype(np.float64)
        totals = m.sum(axis=1, keepdims=True)
        return np.divide(m, totals, out=np.zeros_like(m), where=totals > 0)

    @property
    def accuracy(self) -> float:
        return float((self.predictions == self.labels).mean()) if len(self.labels) else float("nan")

    def class_accuracy(self) -> dict[str, float]:
        """Share of each class's images predicted right (nan for a class with none)."""
        m = self.matrix
        totals = m.sum(axis=1)
        return {
            c: float(m[i, i] / totals[i]) if totals[i] else float("nan")
            for i, c in enumerate(self.classes)
        }

    def cell(self, true: int, predicted: int) -> list[int]:
        """Indices of the images of true class `true` predicted as `predicted`."""
        hit = (self.labels == true) & (self.predictions == predicted)
        return np.flatnonzero(hit).tolist()

    def losses(self) -> np.ndarray:
        """Cross-entropy of each image: -log of the probability given to its true class."""
        if not len(self.labels):
            return np.zeros(0)
        p = self.probs[np.arange(len(self.labels)), self.labels]
        return -np.log(np.clip(p.astype(np.float64), 1e-12, 1.0))

    def hardest(self, k: int = 20) -> list[int]:
        """The k images with the highest loss, worst first: likely mistakes or mislabels."""
        order = np.argsort(-self.losses(), kind="stable")
        return order[:k].tolist()


def from_training(result) -> Evaluation:
    """The validation predictions a training run kept (lab.core.training.TrainResult)."""
    return Evaluation(
        classes=list(result.classifier.classes),
        paths=[str(p) for p in result.val_paths],
        # Copies: relabelling here must not rewrite the training run's own record.
        labels=np.array(result.val_labels, dtype=np.int64),
        probs=np.array(result.val_probs, dtype=np.float64),
    )


def evaluate_images(
    classifier: Classifier, folder: ImageFolder, stop: StopFlag | None = None
) -> Generator[dict, None, Evaluation]:
    """Run a model on every image of a CLASS/IMAGE folder whose classes match the model's.

    Yields {"kind": "evaluate", "done", "total"}; unreadable images are left out.
    """
    if not same_classes(classifier.classes, folder.classes):
        raise WorkspaceError(
            "The model's classes (" + ", ".join(classifier.classes) + ") are not the classes of "
            "your images (" + ", ".join(folder.classes) + "), so it cannot be checked on them."
        )
    stop = stop or StopFlag()
    samples = folder.samples
    paths, labels, probs = [], [], []
    label_of = {str(s.path): s.label for s in samples}
    for i, row in enumerate(
        classifier.predict_paths([s.path for s in samples], batch_size=16, stop=stop)
    ):
        if "error" not in row:
            paths.append(row["path"])
            labels.append(label_of[row["path"]])
            probs.append([row["probabilities"][c] for c in classifier.classes])
        if i % 16 == 15:
            yield {"kind": "evaluate", "done": i + 1, "total": len(samples)}
    return Evaluation(
        classes=list(classifier.classes),
        paths=paths,
        labels=np.asarray(labels, dtype=np.int64),
        probs=np.asarray(probs, dtype=np.float64).reshape(len(paths), len(classifier.classes)),
    )


# -- fixing the data -------------------------------------------------------------------
def _inside(workspace: Workspace, path: Path) -> None:
    if workspace.root.resolve() not in path.resolve().parents:
        raise WorkspaceError(f"{path.name} is not in your image collection.")
    if not path.is_file():
        raise WorkspaceError(f"{path.name} is no longer there (it was moved or removed).")


def relabel_image(workspace: Workspace, path: str | Path, new_class: str) -> Path:
    """Move an image of the workspace into another class; returns its new path."""
    path = Path(path)
    _inside(workspace, path)
    target_class = workspace.existing_class(new_class)
    if target_class is None:
        raise WorkspaceError(f"There is no class called '{new_class}'.")
    folder = workspace.root / target_class
    if path.parent.resolve() == folder.resolve():
        return path
    dest = folder / path.name
    n = 2
    while dest.exists():
        dest = folder / f"{path.stem}_{n}{path.suffix}"
        n += 1
    os.replace(path, dest)  # same file system: a rename, never a half-written copy
    return dest


def remove_image(workspace: Workspace, path: str | Path) -> None:
    """Delete an image's copy from the workspace (the user's original is not touched)."""
    path = Path(path)
    _inside(workspace, path)
    workspace.remove_image(path)
