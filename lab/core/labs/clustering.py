"""Unsupervised vs supervised: k-means finds groups without labels; how well do they match?"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from lab.core.dataset import ImageFolder
from lab.core.features import FeatureCache, extract_features
from lab.core.models import FEATURE_DIMS, PRETRAINED_BACKBONE, efficientnet_backbone
from lab.core.tasks import StopFlag

IMAGE_SIZE = 160


@dataclass
class ClusterResult:
    clusters: np.ndarray  # cluster index per point
    purity: float  # share of points whose cluster's majority class is their class
    ari: float  # adjusted Rand index: 1 = the same grouping as the labels, ~0 = chance
    majority: dict[int, int]  # cluster → its most common class


def purity(clusters: np.ndarray, labels: np.ndarray) -> float:
    total = 0
    for c in np.unique(clusters):
        members = labels[clusters == c]
        total += np.bincount(members).max()
    return total / len(labels)


def cluster(features: np.ndarray, labels: np.ndarray, k: int, seed: int = 0) -> ClusterResult:
    """k-means on L2-normalised features (cosine geometry), compared with the true labels."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if k < 2 or k > len(features):
        raise ValueError(f"The number of groups must be between 2 and {len(features)}.")
    norm = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    found = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(norm)
    majority = {int(c): int(np.bincount(labels[found == c]).argmax()) for c in np.unique(found)}
    return ClusterResult(
        found, purity(found, labels), float(adjusted_rand_score(labels, found)), majority
    )


def image_features(
    folder: ImageFolder, cache: FeatureCache | None, stop: StopFlag | None = None
) -> Generator[dict, None, tuple[np.ndarray, np.ndarray, list[str]]]:
    """Pretrained features of every readable image (cached), their labels and class names."""
    paths = [s.path for s in folder.samples]
    feats, _, failed = yield from extract_features(
        paths,
        PRETRAINED_BACKBONE,
        lambda: efficientnet_backbone(True),
        IMAGE_SIZE,
        cache,
        FEATURE_DIMS[PRETRAINED_BACKBONE],
        stop=stop,
    )
    keep = np.array([i not in failed for i in range(len(paths))], dtype=bool)
    return feats[keep], folder.labels[keep], list(folder.classes)
