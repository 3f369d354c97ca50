"""Projecting embeddings to 2D: PCA (exact, instant) and t-SNE (iterative, shown as it moves).

Both are generators that yield small progress dicts and return the final layout, so the
window runs them the same way. PCA's coordinates equal scikit-learn's, signs included: each
component is flipped so its largest-magnitude entry is positive (sklearn's svd_flip). t-SNE
uses openTSNE's gradient descent in short slices, so the map can be redrawn between slices
and Stop answers within a fraction of a second.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from lab.core.dataset import DatasetError
from lab.core.embeddings.neighbours import knn_graph, normalize_rows
from lab.core.tasks import StopFlag

METHODS = {"pca": "PCA", "tsne": "t-SNE"}
# Below this many points Barnes-Hut is faster than the FFT interpolation on a laptop CPU.
FFT_FROM_POINTS = 5000
SLICE_TARGET_S = 0.08  # each optimisation slice aims at this long, so Stop is quick


class ProjectionError(DatasetError):
    """The points cannot be projected with these settings; the message says why.

    A DatasetError, so the window shows its message as it is.
    """


@dataclass
class PCA:
    """A fitted principal-component projection: mean and unit components (k×d)."""

    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, k: int = 2) -> PCA:
        x = np.asarray(x)
        # float32 embeddings keep float32 products (4x faster); the eigenproblem is float64.
        x = x.astype(np.float32 if x.dtype == np.float32 else np.float64, copy=False)
        if x.ndim != 2 or len(x) < 2:
            raise ProjectionError("PCA needs at least two points.")
        n, d = x.shape
        k = min(k, n, d)
        mean = x.mean(axis=0, dtype=np.float64)
        xc = x - mean.astype(x.dtype)
        total = float(np.einsum("ij,ij->", xc, xc, dtype=np.float64))
        if d <= n:
            cov = (xc.T @ xc).astype(np.float64)  # d×d: cheaper than an SVD of the n×d data
            vals, vecs = _top_eigen(cov, k)
            comps = vecs.T
        else:
            gram = (xc @ xc.T).astype(np.float64)  # n×n: fewer points than dimensions
            vals, u = _top_eigen(gram, k)
            comps = (xc.T.astype(np.float64) @ u / np.sqrt(np.maximum(vals, 1e-300))).T
            comps /= np.maximum(np.linalg.norm(comps, axis=1, keepdims=True), 1e-300)
        # scikit-learn's sign convention: each component's largest |entry| is positive.
        biggest = np.argmax(np.abs(comps), axis=1)
        signs = np.sign(comps[np.arange(len(comps)), biggest])
        signs[signs == 0] = 1.0
        comps = comps * signs[:, None]
        ratio = np.maximum(vals, 0.0) / total if total > 0 else np.zeros_like(vals)
        return cls(mean=mean, components=comps, explained_variance_ratio=ratio)

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return (x - self.mean) @ self.components.T


def _top_eigen(sym: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest eigenvalues of a symmetric matrix (descending) and their eigenvectors."""
    m = len(sym)
    if m > 200 and k < m // 4:
        # Lanczos for a few of many: several times faster than a dense solver, to full
        # precision (tol=0); a fixed start vector keeps it deterministic.
        vals, vecs = scipy.sparse.linalg.eigsh(sym, k=k, which="LA", tol=0, v0=np.ones(m))
    else:
        vals, vecs = scipy.linalg.eigh(sym, subset_by_index=[m - k, m - 1])
    order = np.argsort(vals)[::-1]
    return vals[order], vecs[:, order]


@dataclass(frozen=True)
class TSNESettings:
    perplexity: float = 30.0
    iterations: int = 500
    seed: int = 0

    def problems(self, n_points: int | None = None) -> dict[str, str]:
        out = {}
        if not 2 <= self.perplexity <= 100:
            out["perplexity"] = "must be between 2 and 100"
        if not 50 <= self.iterations <= 5000:
            out["iterations"] = "must be between 50 and 5,000"
        if n_points is not None and n_points < 5:
            out["points"] = "t-SNE needs at least 5 images"
        return out

    def check(self, n_points: int | None = None) -> TSNESettings:
        problems = self.problems(n_points)
        if problems:
            raise ProjectionError(
                "Cannot run t-SNE: " + "; ".join(f"{k} {v}" for k, v in problems.items()) + "."
            )
        return self


@dataclass
class Layout:
    """2D positions for the points, and what is needed to place a new point."""

    method: str
    xy: np.ndarray  # n×2 float32
    pca: PCA | None = None  # set for PCA: new points are placed exactly
    iterations: int = 0
    stopped: bool = False
    seconds: float = 0.0


def pca_layout(vectors: np.ndarray, stop: StopFlag | None = None) -> Generator[dict, None, Layout]:
    """PCA to 2D. Instant, so it only reports that it ran."""
    started = time.perf_counter()
    pca = PCA.fit(vectors, 2)
    xy = pca.transform(vectors)
    if xy.shape[1] < 2:  # a single dimension: put every point on a line
        xy = np.column_stack([xy[:, 0], np.zeros(len(xy))])
    xy = xy.astype(np.float32)
    yield {"kind": "layout", "method": "pca", "iteration": 1, "total": 1, "xy": xy}
    return Layout("pca", xy, pca=pca, iterations=1, seconds=time.perf_counter() - started)


def tsne_threads() -> int:
    """Leave one core for the window: on a 2-core laptop t-SNE runs on one thread."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def tsne_layout(
    vectors: np.ndarray, settings: TSNESettings, stop: StopFlag | None = None
) -> Generator[dict, None, Layout]:
    """t-SNE to 2D, yielding the layout after every short slice of iterations.

    Events: {"kind": "stage", "stage": "neighbours"|"optimizing"}, {"kind": "neighbours",
    "done", "total"}, {"kind": "layout", "method": "tsne", "iteration", "total", "xy"}.
    Returns the layout so far when stopped (Layout.stopped).
    """
    from openTSNE import TSNEEmbedding
    from openTSNE.affinity import PerplexityBasedNN
    from openTSNE.nearest_neighbors import PrecomputedNeighbors

    started = time.perf_counter()
    stop = stop or StopFlag()
    x = np.asarray(vectors, dtype=np.float32)
    n = len(x)
    settings.check(n)
    # Cosine geometry, like the neighbour lists: neighbours of the unit vectors, exactly.
    unit = normalize_rows(x)
    perplexity = min(settings.perplexity, (n - 1) / 3.0)
    k = min(n - 1, max(3, int(3 * perplexity)))
    yield {"kind": "stage", "stage": "neighbours", "total": n}
    graph = yield from knn_graph(unit, k, stop)
    if graph is None:
        return Layout("tsne", np.zeros((n, 2), np.float32), stopped=True)
    idx, dist = graph
    threads = tsne_threads()
    affinities = PerplexityBasedNN(
        knn_index=PrecomputedNeighbors(idx, dist), perplexity=perplexity, n_jobs=threads
    )
    # Start from the PCA layout scaled small (openTSNE's recommended initialisation).
    init = PCA.fit(unit, 2).transform(unit)
    if init.shape[1] < 2:
        init = np.column_stack([init[:, 0], np.zeros(n)])
    init = init / max(float(np.std(init[:, 0])), 1e-12) * 1e-4
    method = "fft" if n >= FFT_FROM_POINTS else "bh"
    emb = TSNEEmbedding(
        init,
        affinities,
        negative_gradient_method=method,
        n_jobs=threads,
        random_state=settings.seed,
    )
    total = settings.iterations
    early = min(250, total // 2)  # early exaggeration pulls clusters together first
    yield {"kind": "stage", "stage": "optimizing", "total": total}
    done, step = 0, 5
    while done < total and not stop.requested:
        phase_end = early if done < early else total
        n_iter = min(step, phase_end - done)
        t0 = time.perf_counter()
        if done < early:
            emb.optimize(n_iter, exaggeration=12, momentum=0.5, inplace=True)
        else:
            emb.optimize(n_iter, exaggeration=1, momentum=0.8, inplace=True)
        per_iter = (time.perf_counter() - t0) / n_iter
        done += n_iter
        step = int(np.clip(SLICE_TARGET_S / max(per_iter, 1e-6), 1, 50))
        yield {
            "kind": "layout",
            "method": "tsne",
            "iteration": done,
            "total": total,
            "xy": np.asarray(emb, dtype=np.float32).copy(),
        }
    return Layout(
        "tsne",
        np.asarray(emb, dtype=np.float32).copy(),
        iterations=done,
        stopped=done < total,
        seconds=time.perf_counter() - started,
    )


def project(
    vectors: np.ndarray,
    method: str,
    tsne: TSNESettings | None = None,
    stop: StopFlag | None = None,
) -> Generator[dict, None, Layout]:
    if method == "pca":
        return (yield from pca_layout(vectors, stop))
    if method == "tsne":
        return (yield from tsne_layout(vectors, tsne or TSNESettings(), stop))
    raise ProjectionError(f"Unknown projection '{method}'.")


def place_new_point(layout: Layout, vectors: np.ndarray, new: np.ndarray, k: int = 5) -> tuple:
    """Where a new embedding goes on an existing map: (xy, neighbour indices, scores, exact).

    PCA places it exactly (the same transform as every other point). t-SNE has no such
    transform, so the point goes to the similarity-weighted mean of its k nearest neighbours'
    positions; exact is False then, and the window says so.
    """
    from lab.core.embeddings.neighbours import nearest_neighbours

    idx, scores = nearest_neighbours(new, vectors, k)
    if layout.pca is not None:
        xy = layout.pca.transform(np.asarray(new).reshape(1, -1))[0, :2]
        return xy.astype(np.float32), idx, scores, True
    weights = np.maximum(scores, 0.0) + 1e-6
    xy = (layout.xy[idx] * weights[:, None]).sum(axis=0) / weights.sum()
    return xy.astype(np.float32), idx, scores, False


def separation_score(vectors: np.ndarray, labels: np.ndarray, max_points: int = 2000) -> float:
    """Mean silhouette by cosine distance in the full embedding space, from -1 to 1.

    Higher means each image is closer to its own class than to the nearest other class.
    Over max_points, a fixed random sample is scored (the full score costs n² distances).
    NaN when there are fewer than two classes.
    """
    from sklearn.metrics import silhouette_score

    labels = np.asarray(labels)
    n_labels = len(np.unique(labels))
    if n_labels < 2 or n_labels > len(labels) - 1:
        return float("nan")
    sample = max_points if len(labels) > max_points else None
    return float(
        silhouette_score(vectors, labels, metric="cosine", sample_size=sample, random_state=0)
    )


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Boolean mask of the points inside a polygon (even-odd rule), for lasso selection."""
    xy = np.asarray(xy, dtype=float)
    poly = np.asarray(polygon, dtype=float)
    inside = np.zeros(len(xy), dtype=bool)
    if len(poly) < 3 or not len(xy):
        return inside
    x, y = xy[:, 0], xy[:, 1]
    x1, y1 = poly[:, 0], poly[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    for ax, ay, bx, by in zip(x1, y1, x2, y2):
        crosses = (ay > y) != (by > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (x < at)
    return inside
