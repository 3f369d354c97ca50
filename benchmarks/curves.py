"""How smooth the curves stay: pan/zoom frame rate on huge runs, latency while a run streams.

    python benchmarks/curves.py

1. One run of 1,000,000 steps, and ten runs of 100,000 steps, in the Curves tab's plot:
   frames per second while panning and zooming (each frame is a full offscreen render).
2. The event-loop latency of the window (a 10 ms probe timer) while a background task streams
   training points into a recorded run shown live in the Curves tab.
Ends with one JSON line: fps_1m_points, fps_10x100k, stream_latency_p99_ms (and p50, steps
streamed, one paint of the live plot in ms, and the load average: the machine may be shared).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["LAB_DATA_DIR"] = tempfile.mkdtemp(prefix="ml-lab-bench-")


def fake_run(model, name: str, steps: int, seed: int):
    """A recorded run with a realistic noisy falling loss of `steps` points."""
    from lab.core.runs import Series

    rng = np.random.default_rng(seed)
    recorder = model.start_run(name, "classifier", {"mode": "head"})
    x = np.arange(1, steps + 1, dtype=np.float64)
    loss = 2.0 / np.sqrt(x) + 0.05 * np.abs(rng.normal(size=steps))
    recorder.record.metrics["train_loss"] = Series(
        {"step": x, "epoch": x / 1000, "time": x / 500, "value": loss}
    )
    recorder.finish("finished", {})
    return recorder.record


def pan_zoom_fps(tab, frames: int = 40) -> float:
    """Render frames while the view pans across and zooms in and out of the data."""
    vb = tab.plot.getPlotItem().getViewBox()
    x_max = max(s.xs[: s.n].max() for s in tab.plot.series.values())
    tab.plot.grab()  # first paint outside the timing
    t0 = time.perf_counter()
    for i in range(frames):
        zoom = 0.05 + 0.95 * abs(np.sin(i / 7))  # from 5% of the data to all of it
        width = x_max * zoom
        left = (x_max - width) * (i / frames)
        vb.setXRange(left, left + width, padding=0)
        tab.plot.grab()
    return frames / (time.perf_counter() - t0)


def main() -> int:
    from PySide6.QtCore import QTimer

    from lab.core.runs import RunStore
    from lab.ui.app import make_app
    from lab.ui.curves import CurvesTab
    from lab.ui.runs_model import RunsModel
    from lab.ui.worker import TaskRunner

    app = make_app()
    results: dict[str, float] = {}

    for label, runs_n, steps in (("fps_1m_points", 1, 1_000_000), ("fps_10x100k", 10, 100_000)):
        model = RunsModel(RunStore(tempfile.mkdtemp()))
        for i in range(runs_n):
            fake_run(model, f"run {i + 1}", steps, seed=i)
        tab = CurvesTab(model)
        tab.resize(1400, 800)
        tab.show()
        tab.smoothing.setValue(60)
        fps = pan_zoom_fps(tab)
        results[label] = round(fps, 1)
        print(f"{runs_n} run(s) × {steps:,} points: {fps:.1f} frames/s while panning and zooming")
        tab.close()

    # Streaming: a background task yields training steps as fast as a quick run would.
    model = RunsModel(RunStore(tempfile.mkdtemp()))
    tab = CurvesTab(model)
    tab.resize(1400, 800)
    tab.show()
    recorder = model.start_run("streaming", "classifier", {"mode": "head"})
    runner = TaskRunner()
    lateness: list[float] = []
    last = [time.perf_counter()]

    def probe() -> None:
        now = time.perf_counter()
        lateness.append((now - last[0] - 0.010) * 1000)
        last[0] = now

    def stream(stop):
        rng = np.random.default_rng(0)
        t_end = time.perf_counter() + 5.0
        step = 0
        while time.perf_counter() < t_end and not stop.requested:
            for _ in range(20):  # bursts of 20 steps, ~4,000 steps a second
                step += 1
                yield {
                    "kind": "step",
                    "step": step,
                    "epoch": step / 500,
                    "loss": 1 / np.sqrt(step) + 0.05 * rng.random(),
                }
            time.sleep(0.005)
            if step % 500 == 0:
                yield {
                    "kind": "epoch",
                    "epoch": step // 500,
                    "train_loss": 0.3,
                    "train_accuracy": 0.9,
                    "val_loss": 0.35,
                    "val_accuracy": 0.88,
                }
        return step

    def on_events(ev) -> None:
        if recorder.add(ev):
            model.data_changed(recorder.record.id)

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(probe)
    runner.progress.connect(on_events)
    total = {}
    runner.result.connect(lambda n: total.setdefault("steps", n))
    runner.finished.connect(app.quit)
    timer.start()
    runner.start(stream)
    app.exec()
    timer.stop()
    runner.shutdown()
    lat = np.array(lateness[5:])
    p50, p99 = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
    print(
        f"Streaming {total.get('steps', 0):,} steps in 5 s into the live Curves tab: "
        f"event-loop latency p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    results["stream_latency_p99_ms"] = round(p99, 1)
    results["stream_latency_p50_ms"] = round(p50, 1)
    results["streamed_steps"] = total.get("steps", 0)
    # One full repaint of the live plot as the stream left it (curves, axes, grid, legend).
    paints = []
    for _ in range(10):
        t0 = time.perf_counter()
        tab.plot.grab()
        paints.append((time.perf_counter() - t0) * 1000)
    results["stream_paint_ms"] = round(float(np.median(paints)), 1)
    print(f"One paint of the live plot at the end: {results['stream_paint_ms']:.1f} ms (median)")
    # The machine may be shared: a busy one makes the latency worse than the app's own.
    results["load_avg_1m"] = round(os.getloadavg()[0], 2)
    tab.close()
    targets = results["fps_1m_points"] >= 30 and results["stream_latency_p99_ms"] <= 50
    print(
        f"Targets (≥ 30 fps at 1M points, p99 ≤ 50 ms while streaming): {'met' if targets else 'NOT met'}"
    )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
