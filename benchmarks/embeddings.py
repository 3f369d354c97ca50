"""Embedding explorer speed: embedding, PCA and t-SNE, thumbnail frame rate, placing a dropped
image, and how responsive the window stays meanwhile.

    python benchmarks/embeddings.py --data ../shared/data/cats-vs-raccoons [--quick]

Figures:
- embedding throughput of the pretrained network on the starter photos (cold cache), and a
  bare PyTorch loop doing the same (decode, resize, forward) for the ratio;
- PCA (ours and scikit-learn's) and t-SNE (default settings) for 300 (the starter photos'
  embeddings), 2,000 and 10,000 points (synthetic 1280-d clusters);
- frames per second panning and zooming the map with 2,000 thumbnails (offscreen, each frame
  repainted synchronously), wall clock and per CPU second (the machine may be shared);
- time from dropping an image to its star on the map, with the network loaded;
- event-loop latency (a 10 ms probe timer) while t-SNE of 2,000 points redraws the map with
  thumbnails, and while the word model loads in the background.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cats-vs-raccoons"
PROBE_MS = 10


def drain(gen):
    while True:
        try:
            next(gen)
        except StopIteration as done:
            return done.value


def synthetic(n: int, d: int = 1280, k: int = 10, seed: int = 0) -> np.ndarray:
    """Clusters of non-negative features, like pooled CNN activations."""
    rng = np.random.default_rng(seed)
    centres = rng.gamma(0.6, 1.0, size=(k, d))
    labels = rng.integers(0, k, n)
    x = centres[labels] * rng.uniform(0.6, 1.4, size=(n, 1)) + rng.gamma(0.4, 0.5, size=(n, d))
    return x.astype(np.float32)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench_embedding(paths, labels, classes) -> tuple[float, float, np.ndarray]:
    import torch

    from lab.core.embeddings.image_embeddings import ImageEmbedder, embed_images, pretrained_source
    from lab.core.features import FeatureCache
    from lab.core.images import open_image
    from lab.core.models import efficientnet_backbone, normalize, to_uint8_tensor

    embedder = ImageEmbedder(pretrained_source())
    with torch.inference_mode():  # load and warm up once; both measurements exclude it
        embedder.network()(normalize(torch.zeros(8, 3, 224, 224, dtype=torch.uint8)))
    with tempfile.TemporaryDirectory() as tmp:
        emb, seconds = timed(
            lambda: drain(
                embed_images(paths, labels, classes, embedder, FeatureCache(Path(tmp)), None)
            )
        )
    ours = len(paths) / seconds
    net = efficientnet_backbone().eval()
    with torch.inference_mode():
        net(normalize(torch.zeros(8, 3, 224, 224, dtype=torch.uint8)))
    t0 = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(paths), 8):
            batch = torch.stack(
                [to_uint8_tensor(open_image(p, 448), 224) for p in paths[start : start + 8]]
            )
            net(normalize(batch))
    bare = len(paths) / (time.perf_counter() - t0)
    return ours, bare, emb


def bench_projections(starter_vectors: np.ndarray | None, quick: bool) -> dict:
    from sklearn.decomposition import PCA as SklearnPCA

    from lab.core.embeddings.projection import TSNESettings, pca_layout, tsne_layout

    out = {}
    big = synthetic(10000)
    _, out["pca_10000_s"] = timed(lambda: drain(pca_layout(big)))
    _, out["sklearn_pca_10000_s"] = timed(lambda: SklearnPCA(2).fit_transform(big))
    drain(tsne_layout(synthetic(60), TSNESettings(perplexity=10, iterations=50)))  # imports
    sets = {
        300: starter_vectors if starter_vectors is not None else synthetic(300),
        2000: synthetic(2000, seed=1),
    }
    if not quick:
        sets[10000] = big
    for n, x in sets.items():
        _, out[f"tsne_{n}_s"] = timed(lambda x=x: drain(tsne_layout(x, TSNESettings())))
        print(f"t-SNE {n} points: {out[f'tsne_{n}_s']:.2f} s", flush=True)
    out.setdefault("tsne_10000_s", None)
    return out


class Probe:
    """A repeating timer; each firing's lateness is one sample of the event loop's latency."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.samples: dict[str, list[float]] = {}
        self.phase = "idle"
        self.last: float | None = None
        self.timer = QTimer()
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            late = (now - self.last) * 1000 - PROBE_MS
            self.samples.setdefault(self.phase, []).append(max(0.0, late))
        self.last = now

    def p99(self, *phases: str) -> float:
        data = [x for p in (phases or self.samples) for x in self.samples.get(p, [])]
        return float(np.percentile(data, 99)) if data else float("nan")


def wait(app, cond, timeout_s: float) -> bool:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    check = QTimer()
    check.timeout.connect(lambda: cond() and loop.quit())
    check.start(20)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    if not cond():
        loop.exec()
    check.stop()
    return cond()


def bench_window(data: Path, emb, quick: bool) -> dict:
    from PySide6.QtGui import QImage

    from lab.core.embeddings.image_embeddings import ImageEmbeddings
    from lab.core.features import FeatureCache
    from lab.core.workspace import Workspace
    from lab.ui.app import make_app
    from lab.ui.embeddings import EmbeddingsTab
    from lab.ui.embeddings.common import load_thumbnails

    app = make_app()
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LAB_DATA_DIR"] = tmp
        ws = Workspace(Path(tmp) / "images")
        drain(ws.import_tree(data))
        tab = EmbeddingsTab(ws, FeatureCache(Path(tmp) / "cache"))
        tab.resize(1360, 800)
        tab.show()
        panel = tab.images
        probe = Probe()
        probe.timer.start()
        wait(app, lambda: False, 1.0)

        # Scatter frame rate with 2,000 thumbnails (the starter photos, repeated).
        thumbs = [img for batch in load_thumbnails(emb.paths) for _, img in batch]
        smap = panel.map
        rng = np.random.default_rng(0)
        xy = rng.normal(size=(2000, 2)) * 10
        smap.set_groups(rng.integers(0, 2, 2000), ["cat", "raccoon"])
        smap.set_positions(xy)
        smap.set_thumbnails_on(True)
        smap.set_thumbnail_size(40)
        for i in range(2000):
            smap.thumbs.set_image(i, thumbs[i % len(thumbs)] if thumbs else QImage())
        smap.viewport().repaint()
        while smap.thumbs._unfinished:  # let the tiles be made (a few hundred per frame)
            smap.viewport().repaint()
        vb = smap.view_box
        frames, t0, c0 = 60, time.perf_counter(), time.process_time()
        for k in range(frames):
            if k % 2:
                vb.translateBy((0.3, 0.2))
            else:
                vb.scaleBy((0.98, 0.98))
            smap.viewport().repaint()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        out["thumbs_2000_fps"] = frames / wall
        out["thumbs_2000_fps_per_cpu_s"] = frames / cpu
        print(f"2,000 thumbnails: {frames / wall:.0f} fps ({frames / cpu:.0f} per CPU s)")

        # A PCA map of the starter photos, then dropped images (network loaded and warm).
        probe.phase = "map"
        panel.compute()
        wait(app, lambda: panel.layout_result is not None and not panel.runner.running, 600)
        wait(app, lambda: not panel.drop_runner.running and not panel.thumb_runner.running, 120)
        times = []
        for path in emb.paths[:10]:
            done = []
            panel.placed.connect(lambda _v, d=done: d.append(1))
            panel.place_image(path)
            wait(app, lambda d=done: bool(d), 30)
            panel.placed.disconnect()
            times.append(panel.last_drop_ms)
        out["drop_place_ms"] = float(np.median(times))
        out["drop_place_ms_max"] = float(np.max(times))
        print(f"dropped image placed: median {out['drop_place_ms']:.0f} ms")

        # t-SNE of 2,000 points redrawn live on the thumbnail map.
        n = 2000
        rep = [emb.paths[i % len(emb.paths)] for i in range(n)]
        fake = ImageEmbeddings(
            "pretrained", rep, np.arange(n) % 2, emb.classes, synthetic(n, seed=3)
        )
        panel._set_embeddings(fake)
        panel.thumbs_radio.setChecked(True)
        panel.method_box.setCurrentIndex(panel.method_box.findData("tsne"))  # starts t-SNE
        probe.phase = "tsne"
        if not panel.runner.running:
            panel.reproject()
        wait(app, lambda: not panel.runner.running, 300)
        wait(app, lambda: not panel.thumb_runner.running, 120)

        probe.phase = "word model"
        tab.views.setCurrentWidget(tab.words)
        wait(app, lambda: tab.text_model.model is not None and not tab.words.runner.running, 300)
        probe.phase = "idle after"
        wait(app, lambda: False, 1.0)
        probe.timer.stop()
        tab.shutdown()
        tab.close()
        for phase in probe.samples:
            print(f"event-loop latency p99 while {phase}: {probe.p99(phase):.1f} ms")
        out["latency_p99_ms"] = probe.p99()
        out["latency_p99_tsne_ms"] = probe.p99("tsne")
        out["latency_p99_word_model_ms"] = probe.p99("word model")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--quick", action="store_true", help="skip t-SNE of 10,000 points")
    args = parser.parse_args(argv)
    from lab.core.dataset import ImageFolder

    folder = ImageFolder.scan(args.data)
    paths = [s.path for s in folder.samples]
    labels = [s.label for s in folder.samples]
    print(f"{len(paths)} images in {args.data}; load average {os.getloadavg()[0]:.1f}")
    ours, bare, emb = bench_embedding(paths, labels, folder.classes)
    print(f"embedding: {ours:.1f} images/s (bare PyTorch loop {bare:.1f}, ratio {ours / bare:.2f})")
    result = {"embed_images_per_s": ours, "embed_bare_torch_per_s": bare}
    proj = bench_projections(emb.vectors, args.quick)
    ours_pca, sk_pca = proj["pca_10000_s"], proj["sklearn_pca_10000_s"]
    print(f"PCA 10,000 x 1280: {ours_pca:.2f} s (scikit-learn {sk_pca:.2f} s)")
    result.update(proj)
    result.update(bench_window(args.data, emb, args.quick))
    result["load_average"] = os.getloadavg()[0]
    keys = [
        "embed_images_per_s", "pca_10000_s", "tsne_300_s", "tsne_2000_s", "tsne_10000_s",
        "thumbs_2000_fps", "drop_place_ms", "latency_p99_ms",
    ]  # fmt: skip
    ordered = {k: result[k] for k in keys} | {k: v for k, v in result.items() if k not in keys}
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in ordered.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
