"""Memorizing vs generalizing: the same network, true labels vs shuffled labels.

With shuffled labels there is nothing to learn, yet a big enough network still reaches ~100%
training accuracy by memorizing each point; only validation accuracy tells the two apart.
"""

from __future__ import annotations

import copy
from collections.abc import Generator

import numpy as np
import torch
from torch import nn

from lab.core.labs.toy_data import labelled_moons
from lab.core.tasks import StopFlag, on_one_thread


def make_net(hidden: int = 256) -> nn.Module:
    return nn.Sequential(
        nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2)
    )


@on_one_thread
def memorize_vs_generalize(
    n_train: int = 120,
    n_val: int = 400,
    steps: int = 1500,
    seed: int = 0,
    report_every: int = 25,
    stop: StopFlag | None = None,
) -> Generator[dict, None, dict]:
    """Train two identical networks side by side; yield both accuracies as they learn.

    Events: {"step", "true_train", "true_val", "shuffled_train", "shuffled_val"}.
    Returns the final four accuracies and the two datasets (for drawing).
    """
    stop = stop or StopFlag()
    x_train, y_train = labelled_moons(n_train, seed=seed)
    x_val, y_val = labelled_moons(n_val, seed=seed + 1)
    shuffled = np.random.default_rng(seed + 2).permutation(y_train)
    xt, xv = torch.from_numpy(x_train), torch.from_numpy(x_val)
    labels = {"true": torch.from_numpy(y_train), "shuffled": torch.from_numpy(shuffled)}
    yv = torch.from_numpy(y_val)
    torch.manual_seed(seed)
    nets = {k: make_net() for k in labels}
    opts = {k: torch.optim.Adam(nets[k].parameters(), lr=3e-3) for k in labels}
    last: dict = {}
    good = {k: copy.deepcopy(net.state_dict()) for k, net in nets.items()}
    for step in range(1, steps + 1):
        if stop.requested:
            break
        losses = {}
        for k, net in nets.items():
            opts[k].zero_grad()
            losses[k] = nn.functional.cross_entropy(net(xt), labels[k])
        if not all(torch.isfinite(v) for v in losses.values()):
            for k, net in nets.items():
                net.load_state_dict(good[k])  # back to the last good weights
            last = {
                **_accuracies(nets, xt, xv, labels, yv, step),
                "diverged": f"The loss became infinite at step {step}, so training stopped; "
                "both networks went back to their last good weights.",
            }
            yield dict(last)
            break
        for k in nets:
            losses[k].backward()
            opts[k].step()
        if step % report_every == 0 or step == steps:
            good = {k: copy.deepcopy(net.state_dict()) for k, net in nets.items()}
            last = _accuracies(nets, xt, xv, labels, yv, step)
            yield dict(last)
    return {
        **last,
        "x_train": x_train,
        "y_train": y_train,
        "y_shuffled": shuffled,
        "x_val": x_val,
        "y_val": y_val,
    }


def _accuracies(nets, xt, xv, labels, yv, step: int) -> dict:
    with torch.no_grad():
        out: dict = {"step": step}
        for k, net in nets.items():
            out[f"{k}_train"] = float((net(xt).argmax(1) == labels[k]).float().mean())
            out[f"{k}_val"] = float((net(xv).argmax(1) == yv).float().mean())
    return out
