"""Image embeddings: what a network's penultimate layer says about each picture.

Two sources: the pretrained EfficientNet-Lite0 (ImageNet features, shared with training's
feature cache) and a trained classifier's own backbone (its penultimate layer). Both run
through lab.core.features.extract_features, so they are cached on disk by file content.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lab.core.classifier import Classifier
from lab.core.features import FeatureCache, extract_features
from lab.core.images import open_image
from lab.core.models import (
    FEATURE_DIMS,
    PRETRAINED_BACKBONE,
    efficientnet_backbone,
    normalize,
    to_uint8_tensor,
)
from lab.core.tasks import StopFlag

PRETRAINED_SIZE = 224  # the head-only training default, so training's cache is shared


@dataclass
class EmbeddingSource:
    """A network that turns an image into a vector, and how to feed it."""

    key: str  # "pretrained" or "trained"
    label: str  # for the user
    cache_name: str  # part of the feature cache's key
    image_size: int
    dim: int
    build: Callable[[], nn.Module] = field(repr=False)
    same_as_pretrained: bool = False  # a head-only classifier: its backbone was never changed
    # The classifier's last layer, for predictions from these embeddings (trained source only).
    head: nn.Module | None = field(default=None, repr=False)
    head_classes: list[str] = field(default_factory=list)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray | None:
        """The classifier's class probabilities for these embeddings (None without one)."""
        if self.head is None or len(vectors) == 0:
            return None
        with torch.inference_mode():
            logits = self.head(torch.from_numpy(np.ascontiguousarray(vectors, np.float32)))
            return torch.softmax(logits.float(), dim=1).numpy()


def pretrained_source(image_size: int = PRETRAINED_SIZE) -> EmbeddingSource:
    return EmbeddingSource(
        key="pretrained",
        label="Pretrained network (ImageNet)",
        cache_name=PRETRAINED_BACKBONE,
        image_size=image_size,
        dim=FEATURE_DIMS[PRETRAINED_BACKBONE],
        build=lambda: efficientnet_backbone(pretrained=True),
    )


def backbone_fingerprint(net: nn.Module) -> str:
    """A short hash of a network's weights: the cache key for a trained model's features."""
    digest = hashlib.sha256()
    for name, tensor in sorted(net.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def classifier_source(classifier: Classifier) -> EmbeddingSource:
    """The trained classifier's penultimate layer (its backbone's output)."""
    head_only = classifier.settings.get("mode") == "head"
    # A private copy: the Classifier tab may keep using (or retrain) its own network.
    backbone = copy.deepcopy(classifier.net.backbone).cpu().eval()
    name = (
        PRETRAINED_BACKBONE
        if head_only
        else f"trained-{classifier.backbone}-{backbone_fingerprint(backbone)}"
    )
    return EmbeddingSource(
        key="trained",
        label="Your trained classifier (penultimate layer)",
        cache_name=name,
        image_size=classifier.image_size,
        dim=FEATURE_DIMS[classifier.backbone],
        build=lambda: backbone,
        same_as_pretrained=head_only,
        head=copy.deepcopy(classifier.net.head).cpu().eval(),
        head_classes=list(classifier.classes),
    )


class ImageEmbedder:
    """Holds one source's network once it is loaded, so single images embed quickly."""

    def __init__(self, source: EmbeddingSource) -> None:
        self.source = source
        self._net: nn.Module | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._net is not None

    def network(self) -> nn.Module:
        with self._lock:
            if self._net is None:
                self._net = self.source.build().cpu().eval()
            return self._net

    @torch.inference_mode()
    def embed_file(self, path: str | Path) -> np.ndarray:
        """One image's embedding (ImageError if the file is not a usable picture)."""
        img = open_image(path, max_side=self.source.image_size * 2)
        batch = to_uint8_tensor(img, self.source.image_size).unsqueeze(0)
        return self.network()(normalize(batch)).float().numpy()[0]


@dataclass
class ImageEmbeddings:
    """Vectors for a set of images; rows of unreadable images are left out."""

    source_key: str
    paths: list[Path]
    labels: np.ndarray
    classes: list[str]
    vectors: np.ndarray
    skipped: list[tuple[str, str]] = field(default_factory=list)
    stopped: bool = False
    probabilities: np.ndarray | None = None  # n×C from the classifier, when there is one
    prediction_classes: list[str] = field(default_factory=list)


def embed_images(
    paths: Sequence[Path],
    labels: Sequence[int],
    classes: Sequence[str],
    embedder: ImageEmbedder,
    cache: FeatureCache | None,
    stop: StopFlag | None = None,
) -> Generator[dict, None, ImageEmbeddings]:
    """Embed every image (from the cache where possible), yielding extract_features' progress."""
    src = embedder.source
    paths = [Path(p) for p in paths]
    feats, _, failed = yield from extract_features(
        paths, src.cache_name, embedder.network, src.image_size, cache, src.dim, stop=stop
    )
    keep = [i for i in range(len(paths)) if i not in failed]
    stopped = bool(stop is not None and stop.requested)
    vectors = feats[keep]
    return ImageEmbeddings(
        source_key=src.key,
        paths=[paths[i] for i in keep],
        labels=np.asarray(labels, dtype=np.int64)[keep],
        classes=list(classes),
        vectors=vectors,
        skipped=[(paths[i].name, why) for i, why in sorted(failed.items())],
        stopped=stopped,
        probabilities=src.probabilities(vectors),
        prediction_classes=list(src.head_classes),
    )
