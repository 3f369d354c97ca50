"""How long each concept lab takes to reach the result it shows, on this machine.

    python benchmarks/labs.py [--data ../shared/data/cats-vs-raccoons]

Each lab runs its core exactly as its panel does (same settings). The forgetting and
clustering labs use the starter photos (--data) and are skipped without them. Ends with one
JSON line mapping each lab to its seconds. Target: each ≤ 20 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/cats-vs-raccoons"))
    args = parser.parse_args()

    from lab.core.labs import landscape
    from lab.core.labs.gan import train_gan
    from lab.core.labs.memorize import memorize_vs_generalize
    from lab.core.labs.tokens import tokenize
    from lab.core.labs.toy_data import sample_shape
    from lab.core.runtime import tune_allocator
    from lab.core.training import run_to_end

    tune_allocator()
    times: dict[str, float] = {}

    def descend():
        d = landscape.Descent(landscape.SURFACES["valley"], "momentum", 0.1, -9.0, 2.0)
        return run_to_end(landscape.descend(d, 500))

    times["landscape"], d = timed(descend)
    print(f"loss landscape: 500 steps in {times['landscape']:.3f} s (final loss {d.loss:.2e})")

    times["memorize"], r = timed(lambda: run_to_end(memorize_vs_generalize()))
    print(
        f"memorizing vs generalizing: {times['memorize']:.1f} s; train {r['true_train']:.0%} / "
        f"{r['shuffled_train']:.0%}, validation {r['true_val']:.0%} / {r['shuffled_val']:.0%} "
        "(true / shuffled labels)"
    )

    target = sample_shape("moons", 2000, seed=1)
    times["gan"], g = timed(lambda: run_to_end(train_gan(target, steps=2000)))
    print(
        f"GAN on two moons: 2,000 steps in {times['gan']:.1f} s; fake-to-real distance {g['distance']:.3f}"
    )

    from lab.core.labs import vae

    try:
        from lab.core.diffusion.data import load_fashion_mnist_raw

        images, _ = load_fashion_mnist_raw("test")
        t, model = timed(vae.load_vae)
        t2, _ = timed(lambda: vae.encode_points(model, images[:2000]))
        t3, _ = timed(lambda: vae.decode_grid(model))
        times["vae"] = t + t2 + t3
        print(f"VAE: load, map 2,000 images and decode a 12×12 grid in {times['vae']:.2f} s")
    except Exception as exc:  # no dataset, no weights
        print(f"VAE: skipped ({exc})")

    times["tokens"], toks = timed(
        lambda: tokenize("The raccoon washed its food, unbelievably carefully!")
    )
    print(
        f"tokens: {len(toks)} tokens in {times['tokens'] * 1000:.0f} ms (first call loads the tokenizer)"
    )

    if (args.data / "cat").is_dir():
        import os

        os.environ["LAB_DATA_DIR"] = tempfile.mkdtemp(prefix="ml-lab-labs-")
        from lab.core import paths
        from lab.core.dataset import ImageFolder
        from lab.core.features import FeatureCache
        from lab.core.labs.clustering import cluster, image_features
        from lab.core.labs.forgetting import forgetting_run

        folder = ImageFolder.scan(args.data)

        def clustering():

            feats, labels, _ = run_to_end(
                image_features(folder, FeatureCache(paths.cache_dir() / "f"))
            )
            return cluster(feats, labels, 2)

        times["clustering"], c = timed(clustering)
        print(
            f"k-means on 300 photos (features from cold): {times['clustering']:.1f} s; purity {c.purity:.0%}, ARI {c.ari:.2f}"
        )
        for mode in ("head", "finetune"):
            key = f"forgetting_{mode}"
            times[key], f = timed(
                lambda m=mode: run_to_end(forgetting_run(folder, mode=m, epochs=3))
            )
            print(
                f"forgetting ({mode}): 3 epochs in {times[key]:.1f} s; old answers kept "
                f"{f['agreement']:.0%}, KL {f['kl']:.3f}, your classes {f['val_accuracy']:.0%}"
            )
    else:
        print(f"clustering and forgetting: skipped ({args.data} not found)")

    slow = {k: v for k, v in times.items() if v > 20}
    print("Target ≤ 20 s each: " + ("met" if not slow else f"NOT met for {', '.join(slow)}"))
    print(json.dumps({k: round(v, 2) for k, v in times.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
