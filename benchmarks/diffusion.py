"""Diffusion speed and quality on this machine.

- one reverse step for 16 samples at 28×28 (class-conditional, default guidance: the U-Net
  sees 32 images), compared with a bare forward pass of the same U-Net;
- a whole 50-step DDIM trajectory and a 1000-step DDPM trajectory for 16 samples (every
  step kept, as the tab does);
- 2D playground: seconds of training until the fit distance first drops below the threshold;
- class match: share of class-conditional samples (default guidance, 50 DDIM steps) that
  the shipped Fashion-MNIST classifier puts in the asked class;
- window responsiveness: a QTimer probe (every 10 ms) measures event-loop lateness while the
  Diffusion tab generates in the background.

    python benchmarks/diffusion.py [--weights assets/diffusion/fashion_unet.pt] [--per-class 20]

Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.core.diffusion.compute import (  # noqa: E402
    default_threads,
    fast_dtype,
    inference_precision,
    torch_threads,
)
from lab.core.diffusion.judge import classify, load_judge  # noqa: E402
from lab.core.diffusion.sampling import (  # noqa: E402
    DEFAULT_GUIDANCE,
    SampleSettings,
    generate,
    sample_trajectory,
)
from lab.core.diffusion.toy2d import FIT_THRESHOLD, ToySettings, train_toy  # noqa: E402
from lab.core.diffusion.weights import load_denoiser, shipped_weights_path  # noqa: E402

GUIDANCE = DEFAULT_GUIDANCE
PROBE_MS = 10


def run(gen):
    try:
        while True:
            next(gen)
    except StopIteration as done:
        return done.value


def time_step(
    model, threads: int, dtype: torch.dtype | None, n: int = 16, repeats: int = 30
) -> tuple[float, float]:
    """Median ms of one DDIM step (with guidance) and of one bare U-Net call on 2n images."""
    d = model.diffusion
    x = torch.randn(n, 1, 28, 28)
    y = torch.arange(n) % 10
    step, bare = [], []
    with torch.inference_mode(), torch_threads(threads), inference_precision(dtype):
        for i in range(repeats + 3):
            t0 = time.perf_counter()
            d.ddim_step(x, 500, 480, y, GUIDANCE)
            t1 = time.perf_counter()
            d.model(torch.cat([x, x]), torch.full((2 * n,), 500), torch.cat([y, y]))
            t2 = time.perf_counter()
            if i >= 3:
                step.append((t1 - t0) * 1000)
                bare.append((t2 - t1) * 1000)
    return statistics.median(step), statistics.median(bare)


def time_trajectory(model, threads: int, sampler: str, steps: int, n: int = 16) -> float:
    s = SampleSettings(n=n, seed=0, class_index=-1, guidance=GUIDANCE, sampler=sampler, steps=steps)
    t0 = time.perf_counter()
    traj = run(sample_trajectory(model, s, threads=threads))
    assert traj.frames == s.effective_steps(model.diffusion.timesteps) + 1
    return time.perf_counter() - t0


def toy_fit_seconds(seed: int = 0) -> tuple[float | None, float]:
    result = run(train_toy(ToySettings(shape="two moons", seed=seed), stop_at_fit=True))
    return result.fit_seconds, result.fit


def class_match(model, threads: int, per_class: int, steps: int = 50) -> tuple[float, list[float]]:
    judge, _ = load_judge()
    rates = []
    for c in range(10):
        s = SampleSettings(n=per_class, seed=100 + c, class_index=c, guidance=GUIDANCE, steps=steps)
        pred = classify(judge, generate(model, s, threads=threads))
        rates.append(float(np.mean(pred == c)))
    return float(np.mean(rates)), rates


def gui_latency(model, n: int, sampler: str, steps: int) -> dict:
    """Event-loop lateness while the tab computes a trajectory in the background."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer

    from lab.ui.app import make_app
    from lab.ui.diffusion import DiffusionTab

    app = make_app()
    tab = DiffusionTab(model=model)
    tab.resize(1360, 820)
    tab.show()
    tab.show_page(tab.reverse)
    panel = tab.reverse
    late: list[float] = []
    state = {"last": None, "measuring": False}

    def tick() -> None:
        now = time.perf_counter()
        if state["measuring"] and state["last"] is not None:
            late.append((now - state["last"]) * 1000 - PROBE_MS)
        state["last"] = now

    probe = QTimer()
    probe.setInterval(PROBE_MS)
    probe.timeout.connect(tick)
    started = {}

    def start() -> None:
        state["measuring"] = True
        started["t"] = time.perf_counter()
        panel.samples.setValue(n)
        panel.sampler.setCurrentIndex(panel.sampler.findData(sampler))
        panel.steps.setValue(steps)
        panel.seed.setValue(12345)
        panel.generate()

    def done() -> None:
        started["s"] = time.perf_counter() - started["t"]
        state["measuring"] = False
        probe.stop()
        tab.shutdown()
        app.quit()

    panel.runner.finished.connect(done)
    probe.start()
    QTimer.singleShot(800, start)
    app.exec()
    arr = np.array(late)
    return {
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
        "max_ms": float(arr.max()),
        "samples": len(arr),
        "seconds": started.get("s"),
    }


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--weights", default=str(shipped_weights_path()))
    p.add_argument("--per-class", type=int, default=20, help="samples per class for class match")
    p.add_argument(
        "--threads", type=int, default=0, help="torch threads (0: what the tab uses here)"
    )
    p.add_argument("--skip-ddpm", action="store_true", help="leave out the 1000-step trajectory")
    args = p.parse_args()
    threads = args.threads or default_threads()
    model = load_denoiser(args.weights)
    print(
        f"model: {args.weights} ({model.meta.get('steps_done')} training steps); "
        f"torch threads: {threads}; load average: {os.getloadavg()[0]:.1f}"
    )

    dtype = fast_dtype()
    precision = "bfloat16" if dtype is not None else "float32"
    step_ms, bare_ms = time_step(model, threads, dtype)
    print(
        f"one reverse step, 16 samples (U-Net on 32 with guidance, {precision}): "
        f"{step_ms:.1f} ms (bare U-Net call {bare_ms:.1f} ms, ratio {step_ms / bare_ms:.2f})"
    )
    step32_ms = step_ms
    if dtype is not None:
        step32_ms, _ = time_step(model, threads, None)
        print(f"the same step in float32: {step32_ms:.1f} ms")
    ddim = time_trajectory(model, threads, "ddim", 50)
    print(f"50-step DDIM trajectory, 16 samples, every step kept: {ddim:.2f} s")
    ddpm = None
    if not args.skip_ddpm:
        ddpm = time_trajectory(model, threads, "ddpm", 1000)
        print(f"1000-step DDPM trajectory, 16 samples: {ddpm:.1f} s")
    fit_s, fit = toy_fit_seconds()
    print(f"2D two moons: fit distance below {FIT_THRESHOLD} after {fit_s} s (final {fit:.3f})")
    match, rates = class_match(model, threads, args.per_class)
    names = model.classes
    print(
        f"class match ({args.per_class} per class, guidance {GUIDANCE}, 50 DDIM steps): "
        f"{match:.1%}  " + ", ".join(f"{n} {r:.0%}" for n, r in zip(names, rates))
    )
    lat = gui_latency(model, n=64, sampler="ddim", steps=200)
    print(
        f"event-loop lateness while generating 64 samples x 200 DDIM steps "
        f"({lat['seconds']:.1f} s): p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, "
        f"max {lat['max_ms']:.1f} ms over {lat['samples']} probes"
    )
    result = {
        "step16_ms": round(step_ms, 2),
        "bare_unet32_ms": round(bare_ms, 2),
        "step16_fp32_ms": round(step32_ms, 2),
        "precision": precision,
        "ddim50_16_s": round(ddim, 3),
        "ddpm1000_16_s": None if ddpm is None else round(ddpm, 2),
        "toy2d_fit_s": None if fit_s is None else round(fit_s, 2),
        "class_match": round(match, 4),
        "latency_p99_ms": round(lat["p99_ms"], 2),
        "threads": threads,
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
