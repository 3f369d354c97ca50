"""Image data for the diffusion models: Fashion-MNIST from the Debian package, or the user's own.

Images become float32 arrays in [-1, 1], shaped (N, C, H, W), with integer class labels.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lab.core.dataset import DatasetError, ImageFolder
from lab.core.images import ImageError, open_image
from lab.core.tasks import StopFlag

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# Debian's `dataset-fashion-mnist` package; LAB_FASHION_MNIST points elsewhere.
FASHION_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
USER_IMAGE_SIZE = 32
MIN_USER_IMAGES = 8


@dataclass
class ImageSet:
    images: np.ndarray  # float32 (N, C, H, W) in [-1, 1]
    labels: np.ndarray  # int64 (N,)
    classes: tuple[str, ...]
    source: str

    def __len__(self) -> int:
        return len(self.labels)


def fashion_mnist_dir() -> Path | None:
    override = os.environ.get("LAB_FASHION_MNIST")
    candidates = [Path(override)] if override else list(FASHION_DIRS)
    for folder in candidates:
        if all((folder / name).is_file() for pair in _FILES.values() for name in pair):
            return folder
    return None


def _read_idx(path: Path, expected_dims: int) -> np.ndarray:
    """Read an IDX file (the MNIST format): magic, sizes, then unsigned bytes."""
    try:
        with gzip.open(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path.name} could not be read ({exc}).") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != expected_dims:
        raise DatasetError(f"{path.name} is not a Fashion-MNIST file.")
    header = 4 + 4 * expected_dims
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(expected_dims)]
    if len(data) != header + int(np.prod(dims)):
        raise DatasetError(f"{path.name} is cut short or damaged.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def load_fashion_mnist_raw(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images (N, 28, 28), int64 labels) of the train or test split."""
    folder = fashion_mnist_dir()
    if folder is None:
        raise DatasetError(
            "Fashion-MNIST is not installed. Install the Debian package: "
            "sudo apt-get install dataset-fashion-mnist"
        )
    images_name, labels_name = _FILES[split]
    images = _read_idx(folder / images_name, 3)
    labels = _read_idx(folder / labels_name, 1).astype(np.int64)
    if len(images) != len(labels):
        raise DatasetError("The Fashion-MNIST images and labels do not match in number.")
    return images, labels


def to_model_range(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) or (N, H, W, C) → float32 (N, C, H, W) in [-1, 1]."""
    x = images_uint8.astype(np.float32) / 127.5 - 1.0
    if x.ndim == 3:
        return x[:, None]
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float (N, C, H, W) or (C, H, W) in [-1, 1] → uint8 (..., H, W, C) for display."""
    x = np.clip((np.asarray(images, dtype=np.float32) + 1.0) * 127.5 + 0.5, 0, 255)
    return np.moveaxis(x.astype(np.uint8), -3, -1)


def load_fashion_mnist(split: str = "train", limit: int | None = None) -> ImageSet:
    images, labels = load_fashion_mnist_raw(split)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return ImageSet(to_model_range(images), labels, FASHION_CLASSES, "Fashion-MNIST")


def load_image_folder(
    root: str | Path, size: int = USER_IMAGE_SIZE, stop: StopFlag | None = None
) -> Generator[dict, None, ImageSet]:
    """The user's images (root/CLASS/IMAGE), centre-cropped to size×size colour pictures.

    Unreadable files are skipped; yields progress while reading.
    """
    folder = ImageFolder.scan(root)
    usable = [s for s in folder.samples]
    if len(usable) < MIN_USER_IMAGES:
        raise DatasetError(
            f"Training an image model needs at least {MIN_USER_IMAGES} images; "
            f"the collection has {len(usable)}. Add images in the Classifier tab."
        )
    arrays: list[np.ndarray] = []
    labels: list[int] = []
    for i, sample in enumerate(usable):
        if stop is not None and stop.requested:
            break
        try:
            img = open_image(sample.path, max_side=4 * size)
        except ImageError:
            continue
        arrays.append(_centre_square(img, size))
        labels.append(sample.label)
        if i % 16 == 0 or i == len(usable) - 1:
            yield {"kind": "load", "done": i + 1, "total": len(usable)}
    if len(arrays) < MIN_USER_IMAGES:
        raise DatasetError(
            f"Only {len(arrays)} of the images could be read; at least "
            f"{MIN_USER_IMAGES} are needed."
        )
    images = to_model_range(np.stack(arrays))
    return ImageSet(
        images, np.asarray(labels, dtype=np.int64), tuple(folder.classes), "your images"
    )


def _centre_square(img, size: int) -> np.ndarray:
    from PIL import Image

    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    crop = img.crop((left, top, left + side, top + side))
    return np.asarray(crop.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)
