"""How responsive the window stays: event-loop latency, idle and while head-mode training runs.

A probe QTimer asks to fire every INTERVAL_MS; each firing's lateness (actual interval minus
the requested one) is one sample. The probe runs ~3 s with the window idle, then for the
whole of a head-mode training started from the window on the starter photos, which are first
imported into a temporary ML Lab data folder (cold feature cache; the user's data untouched).

    python benchmarks/ui_latency.py --data ../shared/data/cats-vs-raccoons

The last line printed is one JSON object with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

INTERVAL_MS = 10
SETTLE_MS = 1500  # let the window lay out and load its thumbnails before measuring "idle"
TARGET_P99_MS = 50.0


@dataclass
class Probe:
    """Timestamps of a repeating timer, grouped by the phase the program was in."""

    interval_s: float
    phase: str = "settle"
    last: float | None = None
    last_cpu: float = 0.0
    lateness_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # (when, phase, lateness ms, GUI-thread CPU ms in that interval): where the stalls were
    timeline: list[tuple[float, str, float, float]] = field(default_factory=list)

    def tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self.last is not None:
            late = (now - self.last - self.interval_s) * 1000.0
            self.lateness_ms[self.phase].append(late)
            self.timeline.append((now, self.phase, late, (cpu - self.last_cpu) * 1000.0))
        self.last, self.last_cpu = now, cpu

    def set_phase(self, phase: str) -> None:
        self.phase = phase

    def samples(self, *phases: str) -> np.ndarray:
        return np.array([x for p in phases for x in self.lateness_ms.get(p, [])], dtype=float)


def stats(samples: np.ndarray) -> dict[str, float]:
    if samples.size == 0:
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    return {
        "n": int(samples.size),
        "p50_ms": float(np.percentile(samples, 50)),
        "p99_ms": float(np.percentile(samples, 99)),
        "max_ms": float(samples.max()),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder with one sub-folder per class")
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    parser.add_argument("--epochs", type=int, default=15, help="head-mode epochs in the window")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="experiment: torch.set_num_threads(N) before training (0: leave torch's default)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this long")
    return parser.parse_args(argv)


def check_data(data: Path | None) -> str:
    """Why the data folder cannot be used, or '' if it can."""
    if data is None:
        return "--data is required: a folder with one sub-folder per class (cat/, raccoon/)."
    if not data.is_dir():
        return f"--data {data}: no such folder."
    if len([p for p in data.iterdir() if p.is_dir()]) < 2:
        return f"--data {data}: needs at least two class sub-folders."
    return ""


def run(args: argparse.Namespace, lab_dir: Path) -> dict[str, Any]:
    # Everything ML Lab writes goes below lab_dir; set before lab reads its paths.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["LAB_DATA_DIR"] = str(lab_dir)

    import torch
    from PySide6.QtCore import Qt, QTimer

    from lab.core import paths as lab_paths
    from lab.core.features import FeatureCache
    from lab.core.training import run_to_end
    from lab.core.workspace import Workspace
    from lab.ui.app import make_app
    from lab.ui.main_window import MainWindow

    workspace = Workspace(lab_paths.workspace_dir())
    t0 = time.perf_counter()
    report = run_to_end(workspace.import_tree(args.data))
    print(
        f"Imported {len(report.added)} photos into {workspace.root} in "
        f"{time.perf_counter() - t0:.1f} s ({len(report.duplicates)} duplicates and "
        f"{len(report.skipped)} unreadable left out)",
        flush=True,
    )
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    cache = FeatureCache(lab_paths.cache_dir() / "features")

    app = make_app()
    window = MainWindow(workspace=workspace, cache=cache)
    tab = window.classifier
    tab.form.epochs.setValue(args.epochs)
    window.show()

    probe = Probe(INTERVAL_MS / 1000.0)
    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(INTERVAL_MS)
    ticker.timeout.connect(probe.tick)

    outcome: dict[str, Any] = {"started": False, "start_call_ms": float("nan")}
    stage_times: dict[str, float] = {}

    def on_progress(ev: dict) -> None:
        kind = ev.get("kind")
        if kind == "stage":
            stage_times[ev["stage"]] = time.perf_counter()
            probe.set_phase(ev["stage"])  # "features", then "training"

    def start_training() -> None:
        probe.set_phase("start")
        t = time.perf_counter()
        outcome["started"] = tab.start_training()
        outcome["start_call_ms"] = (time.perf_counter() - t) * 1000.0
        outcome["t_start"] = t
        if not outcome["started"]:
            print("error: the window refused to train: " + tab.notice.text, file=sys.stderr)
            app.quit()

    def on_finished() -> None:
        outcome["t_end"] = time.perf_counter()
        probe.set_phase("done")
        ticker.stop()
        QTimer.singleShot(0, app.quit)

    tab.runner.progress.connect(on_progress)
    tab.runner.finished.connect(on_finished)
    QTimer.singleShot(0, ticker.start)
    QTimer.singleShot(SETTLE_MS, lambda: probe.set_phase("idle"))
    QTimer.singleShot(SETTLE_MS + int(args.idle_seconds * 1000), start_training)
    QTimer.singleShot(int(args.timeout * 1000), app.quit)
    app.exec()

    result = tab.last_result
    window.close()
    outcome["val_accuracy"] = (
        float(result.metrics["val_accuracy"]) if result is not None else float("nan")
    )
    outcome["train_s"] = outcome.get("t_end", float("nan")) - outcome.get("t_start", float("nan"))
    outcome["probe"] = probe
    outcome["threads"] = torch.get_num_threads()
    return outcome


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = check_data(args.data)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    args.data = args.data.resolve()
    with tempfile.TemporaryDirectory(prefix="mllab-ui-") as tmp:
        out = run(args, Path(tmp))
    if not out["started"] or "t_end" not in out:
        print("error: training did not start or did not finish in time.", file=sys.stderr)
        return 1
    probe: Probe = out["probe"]
    idle = stats(probe.samples("idle"))
    training = stats(probe.samples("start", "features", "training"))
    print(
        f"Probe timer every {INTERVAL_MS} ms; lateness = actual interval - {INTERVAL_MS} ms; "
        f"torch threads {out['threads']}"
    )
    print(
        f"  idle           ({idle['n']:4d} samples): p50 {idle['p50_ms']:6.2f} ms   "
        f"p99 {idle['p99_ms']:6.2f} ms   max {idle['max_ms']:7.2f} ms"
    )
    print(
        f"  while training ({training['n']:4d} samples): p50 {training['p50_ms']:6.2f} ms   "
        f"p99 {training['p99_ms']:6.2f} ms   max {training['max_ms']:7.2f} ms"
    )
    for phase in ("start", "features", "training"):
        s = stats(probe.samples(phase))
        print(
            f"    {phase:9s}    ({s['n']:4d} samples): p50 {s['p50_ms']:6.2f} ms   "
            f"p99 {s['p99_ms']:6.2f} ms   max {s['max_ms']:7.2f} ms"
        )
    t_start = out["t_start"]
    worst = sorted(
        (x for x in probe.timeline if x[1] in ("start", "features", "training")),
        key=lambda x: -x[2],
    )[:5]
    print("  worst stalls (s after Train, phase, late, of which GUI-thread CPU):")
    for when, phase, late, cpu in worst:
        print(f"    {when - t_start:6.2f} s  {phase:9s} {late:7.1f} ms late, {cpu:6.1f} ms CPU")
    print(
        f"  start_training() on the GUI thread took {out['start_call_ms']:.1f} ms; training "
        f"took {out['train_s']:.1f} s; validation accuracy {out['val_accuracy']:.3f}"
    )
    met = training["p99_ms"] <= TARGET_P99_MS
    print(f"  target p99 <= {TARGET_P99_MS:g} ms while training: {'met' if met else 'MISSED'}")
    print(
        json.dumps(
            {
                "p50_ms": round(training["p50_ms"], 2),
                "p99_ms": round(training["p99_ms"], 2),
                "max_ms": round(training["max_ms"], 2),
                "idle_p50_ms": round(idle["p50_ms"], 2),
                "idle_p99_ms": round(idle["p99_ms"], 2),
                "samples": training["n"],
                "idle_samples": idle["n"],
                "train_s": round(out["train_s"], 2),
                "val_accuracy": round(out["val_accuracy"], 4),
                "torch_threads": out["threads"],
                "target_met": met,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
