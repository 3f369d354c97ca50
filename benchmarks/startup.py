"""How fast the window appears: lazy start (PyTorch loads in the background) vs eager.

Starts `python -m lab` in fresh processes (offscreen, private data folder) and reads the
times it prints with LAB_STARTUP_TRACE=1: when the window first painted and when every tab
was built ("ready": the model code is importable). The eager start imports PyTorch and
builds every tab before showing the window (LAB_EAGER_START=1), as ML Lab did before.

    python benchmarks/startup.py [--runs 3]

Ends with one JSON line: first_window_s, ready_s, eager_first_window_s, ratio
(first_window_s / eager_first_window_s; target <= 0.5, and first_window_s <= 2.0).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_start(eager: bool, data_dir: Path) -> dict[str, float]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        LAB_DATA_DIR=str(data_dir),
        LAB_STARTUP_TRACE="1",
        LAB_EAGER_START="1" if eager else "0",
    )
    shot = data_dir / "shot.png"
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-m", "lab", "--screenshot", str(shot)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if out.returncode != 0:
        raise SystemExit(f"ML Lab failed to start:\n{out.stderr}")
    marks = {}
    for line in out.stdout.splitlines():
        name, _, value = line.partition(" ")
        if name in ("first_window", "ready"):
            marks[name] = float(value) - started
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        (data / "preferences.ini").write_text("[ml-lab]\nwelcome_done = True\n")
        # Warm the disk cache once each, so neither start pays for reading files from disk.
        one_start(False, data)
        one_start(True, data)
        lazy, eager = [], []
        for i in range(args.runs):
            lazy.append(one_start(False, data))
            eager.append(one_start(True, data))
            print(
                f"run {i + 1}: lazy first window {lazy[-1]['first_window']:.2f} s, "
                f"ready {lazy[-1]['ready']:.2f} s; eager first window "
                f"{eager[-1]['first_window']:.2f} s",
                flush=True,
            )
    first = statistics.median(r["first_window"] for r in lazy)
    ready = statistics.median(r["ready"] for r in lazy)
    eager_first = statistics.median(r["first_window"] for r in eager)
    print(f"median: first window {first:.2f} s (eager {eager_first:.2f} s), ready {ready:.2f} s")
    print(
        json.dumps(
            {
                "first_window_s": round(first, 3),
                "ready_s": round(ready, 3),
                "eager_first_window_s": round(eager_first, 3),
                "ratio": round(first / eager_first, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
