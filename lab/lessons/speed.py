"""How fast this computer runs the Classifier's network: images per second, looking and learning.

Lesson 16 shows these numbers. The network gets random weights: the arithmetic (and so the
time) is the same as with the pretrained ones, and nothing needs loading from disk.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass

from lab.core.tasks import StopFlag

NETWORK_NAMES = {
    "efficientnet_lite0": "EfficientNet-Lite0, the Classifier tab's network",
    "small_cnn": "the small network trained from scratch",
}


@dataclass(frozen=True)
class SpeedResult:
    device: str
    network: str  # a description for people
    image_size: int
    inference_per_s: float  # images per second, forward only
    training_per_s: float  # images per second, forward + backward + update

    @property
    def training_cost(self) -> float:
        """How many inference steps one training step is worth."""
        return self.inference_per_s / self.training_per_s if self.training_per_s else 0.0

    def seconds_for(self, images: int, epochs: int = 1, training: bool = True) -> float:
        rate = self.training_per_s if training else self.inference_per_s
        return images * epochs / rate if rate else float("inf")


def measure_speed(
    stop: StopFlag | None = None,
    image_size: int = 224,
    batch_size: int = 2,
    seconds: float = 1.5,
    network: str = "efficientnet_lite0",
) -> Generator[dict, None, SpeedResult | None]:
    """Time forward passes, then training steps, for about `seconds` each.

    Small batches keep each step short, so a stop request is honoured quickly even on a
    slow computer (the window waits for this when it closes).

    Yields {"kind": "measuring", "what": "inference"|"training", "images_per_s"} as it goes;
    returns None if stopped before both were measured.
    """
    import torch

    from lab.core.models import FEATURE_DIMS, build_backbone, describe_device, pick_device

    stop = stop or StopFlag()
    device = pick_device()
    net = build_backbone(network, pretrained=False).to(device)
    head = torch.nn.Linear(FEATURE_DIMS[network], 2).to(device)
    x = torch.randn(batch_size, 3, image_size, image_size, device=device)
    y = torch.zeros(batch_size, dtype=torch.long, device=device)
    rates: dict[str, float] = {}

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    for what in ("inference", "training"):
        training = what == "training"
        net.train(training)
        params = list(net.parameters()) + list(head.parameters())
        images, elapsed, step = 0, 0.0, 0
        while elapsed < seconds or step < 2:
            if stop.requested:
                return None
            t0 = time.perf_counter()
            if training:
                loss = torch.nn.functional.cross_entropy(head(net(x)), y)
                if stop.requested:  # forward and backward are the long parts: stop between
                    return None
                loss.backward()
                with torch.no_grad():  # a plain gradient step (an optimiser adds little)
                    for p in params:
                        if p.grad is not None:
                            p.sub_(p.grad, alpha=1e-4)
                            p.grad = None
            else:
                with torch.no_grad():
                    head(net(x))
            sync()
            dt = time.perf_counter() - t0
            step += 1
            if step == 1:
                continue  # the first step warms up (memory, kernels) and is not counted
            images += batch_size
            elapsed += dt
            rates[what] = images / elapsed
            yield {"kind": "measuring", "what": what, "images_per_s": rates[what]}
    return SpeedResult(
        device=describe_device(device),
        network=NETWORK_NAMES.get(network, network),
        image_size=image_size,
        inference_per_s=rates["inference"],
        training_per_s=rates["training"],
    )
