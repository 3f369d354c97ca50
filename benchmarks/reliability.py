"""Reliability at length and at size: soak (start/stop many times) and scale (20,000 images).

Soak: in one process, start and stop head-only training in the real Classifier tab, then
diffusion sampling in the real generate panel, CYCLES times each; threads must not grow and
resident memory must grow by less than 100 MB from cycle 5 to the last.

Scale: make N small PNGs (two classes, N/2 each), import them through the Classifier tab's
data panel (progress shown), show the class of N/2 images and scroll through it while the
thumbnails load (GUI event-loop latency p99), then train head-only at 32 px. Peak memory
(VmHWM, ru_maxrss where there is none) must stay below 2 GB.

    nice -n 10 python benchmarks/reliability.py [--cycles 50] [--images 20000]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 1e6


def os_threads() -> int:
    """Every thread of the process (Qt's and PyTorch's too, not only Python's)."""
    return len(os.listdir("/proc/self/task"))


def peak_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the running program only;
    ru_maxrss also counts the parent's size at fork (4 GB when started from a long pytest)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def spin_until(done: Callable[[], bool], timeout_s: float) -> bool:
    """Run the Qt event loop until done() is true (a benchmark driver, not app code)."""
    from PySide6.QtCore import QEventLoop, QTimer

    if done():
        return True
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(5)
    poll.timeout.connect(lambda: loop.quit() if done() else None)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(loop.quit)
    poll.start()
    give_up.start(int(timeout_s * 1000))
    loop.exec()
    poll.stop()
    give_up.stop()
    return done()


class LatencyProbe:
    """A 10 ms timer; each firing's lateness is one sample of how long the GUI was busy."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.samples: list[float] = []
        self._last: float | None = None
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.samples.append((now - self._last - 0.010) * 1000)
        self._last = now

    def start(self) -> None:
        self.samples.clear()
        self._last = None
        self.timer.start()

    def stop(self) -> dict:
        self.timer.stop()
        s = np.array(self.samples or [0.0])
        return {"p50_ms": float(np.percentile(s, 50)), "p99_ms": float(np.percentile(s, 99))}


# -- soak ------------------------------------------------------------------------------------
def _cycle(runner, start: Callable[[], object], stop: Callable[[], None], first_event) -> None:
    events: list = []
    runner.progress.connect(events.append)
    try:
        start()
        if not spin_until(lambda: any(first_event(e) for e in events), 60):
            raise RuntimeError("the task sent no progress within 60 s")
        stop()
        if not spin_until(lambda: not runner.running, 10):
            raise RuntimeError("the task did not stop within 10 s")
    finally:
        runner.progress.disconnect(events.append)


def soak(cycles: int, work: Path, say: Callable[[str], None] = print) -> dict:
    """Start/stop training and diffusion sampling `cycles` times each; threads and memory."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import make_dataset

    from lab.core.diffusion.weights import load_shipped
    from lab.core.features import FeatureCache
    from lab.core.settings import TrainSettings
    from lab.core.workspace import Workspace
    from lab.ui import worker
    from lab.ui.classifier import ClassifierTab
    from lab.ui.diffusion.reverse_panel import ReversePanel

    ws = Workspace(make_dataset(work / "soak-ws", per_class=16, size=48))
    tab = ClassifierTab(ws, FeatureCache(work / "soak-cache"))
    tab.form.set_settings(TrainSettings.for_mode("head", epochs=1000, image_size=32))
    panel = ReversePanel(load_shipped())
    panel.samples.setValue(4)
    panel.sampler.setCurrentIndex(panel.sampler.findData("ddpm"))

    def new_seed() -> None:
        panel.seed.setValue(panel.seed.value() + 1)
        panel.generate()

    out: dict = {}
    for name, runner, start, stop, first in (
        ("training", tab.runner, tab.start_training, tab.stop_training,
         lambda e: e.get("kind") == "step"),
        ("sampling", panel.runner, new_seed, panel.runner.stop,
         lambda e: e.get("kind") == "sample"),
    ):  # fmt: skip
        rss, threads = [], []
        t0 = time.perf_counter()
        for _ in range(cycles):
            _cycle(runner, start, stop, first)
            spin_until(lambda: not worker._LIVE, 5)  # count after the task's thread has ended
            rss.append(rss_mb())
            threads.append(os_threads())
        base = min(4, cycles - 1)  # cycle 5, counting from 1
        out[name] = {
            "cycles": cycles,
            "seconds": time.perf_counter() - t0,
            "rss_growth_mb": rss[-1] - rss[base],
            "thread_growth": threads[-1] - threads[base],
            "rss_mb": [round(x, 1) for x in rss],
            "threads": threads,
        }
        say(
            f"soak {name}: {cycles} start/stop cycles in {out[name]['seconds']:.0f} s; "
            f"memory {rss[base]:.0f} -> {rss[-1]:.0f} MB (cycle {base + 1} -> {cycles}), "
            f"threads {threads[base]} -> {threads[-1]}"
        )
    tab.shutdown()
    panel.shutdown()
    tab.deleteLater()
    panel.deleteLater()
    out["rss_growth_mb"] = max(out["training"]["rss_growth_mb"], out["sampling"]["rss_growth_mb"])
    out["thread_growth"] = max(out["training"]["thread_growth"], out["sampling"]["thread_growth"])
    return out


# -- scale -----------------------------------------------------------------------------------
def make_images(root: Path, n: int, size: int = 40) -> float:
    """n distinct small PNGs in two classes (a warm and a cool one); returns the seconds."""
    from PIL import Image

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    colours = (np.array([200, 150, 60]), np.array([50, 90, 190]))
    for k, name in enumerate(("warm", "cool")):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n // 2):
            noise = rng.integers(-40, 40, size=(size, size, 3))
            pixels = np.clip(colours[k] + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels, "RGB").save(folder / f"{name}_{i:05d}.png", compress_level=1)
    return time.perf_counter() - t0


def scale(n: int, work: Path, say: Callable[[str], None] = print, train: bool = True) -> dict:
    from lab.core.features import FeatureCache
    from lab.core.settings import TrainSettings
    from lab.core.workspace import Workspace
    from lab.ui.classifier import ClassifierTab

    out: dict = {"images": n}
    src = work / "scale-src"
    out["make_s"] = make_images(src, n)
    say(f"scale: made {n:,} PNGs in {out['make_s']:.1f} s")

    tab = ClassifierTab(Workspace(work / "scale-ws"), FeatureCache(work / "scale-cache"))
    tab.resize(1300, 850)
    tab.show()
    data = tab.data
    probe = LatencyProbe()
    progress: list[int] = []
    data.runner.progress.connect(lambda ev: progress.append(ev.get("done", 0)))
    probe.start()
    t0 = time.perf_counter()
    data.import_tree(src)
    if not spin_until(lambda: not data.busy, 3600):
        raise RuntimeError("the import did not finish in an hour")
    out["import_s"] = time.perf_counter() - t0
    out["import_latency"] = probe.stop()
    out["import_progress_events"] = len(progress)
    out["imported"] = sum(data.counts().values())
    say(
        f"scale: imported {out['imported']:,} images in {out['import_s']:.1f} s "
        f"({out['imported'] / out['import_s']:.0f}/s), {len(progress)} progress updates; "
        f"GUI latency p99 {out['import_latency']['p99_ms']:.0f} ms"
    )

    # Show the class of n/2 images and scroll through all of it while thumbnails load.
    grid = data.grid
    probe.start()
    t0 = time.perf_counter()
    data.class_list.setCurrentRow(0)
    spin_until(lambda: grid.thumbnails.rowCount() == n // 2, 10)
    out["show_class_s"] = time.perf_counter() - t0
    bar = grid.verticalScrollBar()
    spin_until(lambda: bar.maximum() > 0, 10)
    for k in range(41):
        bar.setValue(int(bar.maximum() * k / 40))
        spin_until(lambda: False, 0.05)  # a student dragging the scroll bar
    visible = _visible_paths(grid)
    spin_until(lambda: all(grid.thumbnails.is_loaded(p) for p in visible), 20)
    out["scroll_s"] = time.perf_counter() - t0
    out["last_page_loaded"] = all(grid.thumbnails.is_loaded(p) for p in visible)
    out["scroll_latency"] = probe.stop()
    say(
        f"scale: showing and scrolling {n // 2:,} thumbnails: GUI latency p50 "
        f"{out['scroll_latency']['p50_ms']:.1f} ms, p99 {out['scroll_latency']['p99_ms']:.0f} ms; "
        f"the last page loaded: {out['last_page_loaded']}"
    )

    if train:
        tab.form.set_settings(TrainSettings.for_mode("head", epochs=3, image_size=32))
        results: list = []
        tab.runner.result.connect(results.append)
        stages: dict[str, float] = {}
        t0 = time.perf_counter()

        def mark(ev: dict) -> None:
            if ev.get("kind") in ("step", "epoch") and "features" not in stages:
                stages["features"] = time.perf_counter() - t0

        tab.runner.progress.connect(mark)
        probe.start()
        if not tab.start_training():
            raise RuntimeError(f"training refused: {tab.why_not.text()}")
        spin_until(lambda: not tab.runner.running, 3600)
        out["train_latency"] = probe.stop()
        out["train_s"] = time.perf_counter() - t0
        out["features_s"] = stages.get("features", float("nan"))
        if not results:
            raise RuntimeError(f"training gave no result: {tab.notice.text()}")
        m = results[0].metrics
        out["val_accuracy"] = m["val_accuracy"]
        out["trained_images"] = m["images"]
        say(
            f"scale: head-only training at 32 px on {m['images']:,} images: features "
            f"{out['features_s']:.0f} s, all {out['train_s']:.0f} s, validation accuracy "
            f"{m['val_accuracy']:.0%}; GUI latency p99 {out['train_latency']['p99_ms']:.0f} ms"
        )
    tab.shutdown()
    tab.hide()
    tab.deleteLater()
    spin_until(lambda: False, 0.1)  # let the deleteLater happen
    out["peak_mb"] = peak_mb()
    say(f"scale: peak memory {out['peak_mb']:.0f} MB")
    return out


def _visible_paths(grid) -> list:
    model = grid.thumbnails
    rect = grid.viewport().rect()
    paths = []
    for row in range(model.rowCount()):
        if grid.visualRect(model.index(row)).intersects(rect):
            paths.append(model.paths[row])
    return paths


# -- the other engineer's fuzz tests -----------------------------------------------------------
def fuzz_cases(say: Callable[[str], None] = print) -> int | None:
    test = ROOT / "tests" / "test_fuzz_images.py"
    if not test.exists():
        say("fuzz: tests/test_fuzz_images.py is absent: fuzz_cases is null")
        return None
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(test)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    # The fuzz tests print one line "fuzz_cases: N" (or "fuzz_cases=N").
    counts = [int(m) for m in re.findall(r"fuzz_cases[=:]\s*(\d+)", proc.stdout + proc.stderr)]
    tail = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    say(f"fuzz: {tail}; cases: {counts[-1] if counts else 'none printed'}")
    return counts[-1] if counts else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50, help="soak cycles (0: no soak)")
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--no-fuzz", action="store_true", help="do not run the fuzz tests")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="lab-reliability-") as tmp:
        os.environ["LAB_DATA_DIR"] = str(Path(tmp) / "data")
        from lab.ui.app import make_app

        make_app()
        threads_at_start = {t.ident for t in threading.enumerate()}
        s = soak(args.cycles, Path(tmp)) if args.cycles else {}
        c = scale(args.images, Path(tmp))
        python_threads_left = [
            t.name
            for t in threading.enumerate()
            if t.ident not in threads_at_start and t.is_alive() and not t.daemon
        ]
        print(f"python threads left behind: {python_threads_left or 'none'}")
    fuzz = None if args.no_fuzz else fuzz_cases()
    print(
        json.dumps(
            {
                "soak_rss_growth_mb": round(s["rss_growth_mb"], 1) if s else None,
                "soak_thread_growth": s.get("thread_growth"),
                "soak_cycles": args.cycles,
                "scale_images": args.images,
                "scale_20k_peak_mb": round(c["peak_mb"]),
                "scale_20k_import_s": round(c["import_s"], 1),
                "scale_scroll_p99_ms": round(c["scroll_latency"]["p99_ms"], 1),
                "scale_import_p99_ms": round(c["import_latency"]["p99_ms"], 1),
                "scale_features_s": round(c.get("features_s", float("nan")), 1),
                "scale_train_s": round(c.get("train_s", float("nan")), 1),
                "scale_imported": c["imported"],
                "scale_progress_events": c["import_progress_events"],
                "scale_last_page_loaded": c["last_page_loaded"],
                "scale_trained_images": c.get("trained_images"),
                "scale_val_accuracy": c.get("val_accuracy"),
                "fuzz_cases": fuzz,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
