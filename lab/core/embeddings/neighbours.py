"""Nearest neighbours by cosine similarity, the measure the embeddings are compared with."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from lab.core.tasks import StopFlag

# Rows compared at once in the chunked searches: about 20 MB of similarities for 10,000 points.
CHUNK_ROWS = 512


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a zero row stays zero), as float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def cosine_similarities(query: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity of one vector (d,) or several (m, d) with every row of vectors."""
    return normalize_rows(query) @ normalize_rows(vectors).T


def nearest_neighbours(
    query: np.ndarray, vectors: np.ndarray, k: int, exclude: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The k rows most similar to query: (indices, cosine scores), best first.

    exclude leaves out one row (the query itself when it is one of the vectors).
    """
    scores = cosine_similarities(np.asarray(query).reshape(-1), vectors).astype(np.float64)
    if exclude is not None:
        scores[exclude] = -np.inf
    k = max(0, min(k, len(scores) - (exclude is not None)))
    if k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    part = np.argpartition(-scores, k - 1)[:k]
    # Ties go to the lower index so the order never depends on the partition.
    order = np.lexsort((part, -scores[part]))
    best = part[order]
    return best.astype(np.int64), scores[best]


def knn_graph(
    points: np.ndarray, k: int, stop: StopFlag | None = None
) -> Generator[dict, None, tuple[np.ndarray, np.ndarray] | None]:
    """Each point's k nearest other points by Euclidean distance, in chunks that can stop.

    Returns (indices n×k, distances n×k) nearest first, or None when stopped.
    """
    x = np.asarray(points, dtype=np.float32)
    n = len(x)
    k = min(k, n - 1)
    sq = np.einsum("ij,ij->i", x, x)
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float64)
    for start in range(0, n, CHUNK_ROWS):
        if stop is not None and stop.requested:
            return None
        rows = slice(start, min(n, start + CHUNK_ROWS))
        d2 = sq[rows, None] + sq[None, :] - 2.0 * (x[rows] @ x.T)
        r = np.arange(rows.start, rows.stop)
        d2[r - start, r] = np.inf  # a point is not its own neighbour
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        pd = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(pd, axis=1, kind="stable")
        idx[rows] = np.take_along_axis(part, order, axis=1)
        dist[rows] = np.sqrt(np.maximum(np.take_along_axis(pd, order, axis=1), 0.0))
        yield {"kind": "neighbours", "done": rows.stop, "total": n}
    return idx, dist
