"""Loss landscape: gradient descent (plain, momentum, Adam) on a 2D loss surface.

A surface is a loss f(w1, w2) with its exact gradient, so a student can watch each step
follow the slope, and see a learning rate that is too large overshoot, bounce and blow up.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Surface:
    key: str
    title: str
    loss: Callable[[Array, Array], Array]
    grad: Callable[[float, float], tuple[float, float]]
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 for the picture
    start: tuple[float, float]
    note: str


def _bowl_loss(x, y):
    return x**2 + 3 * y**2


def _valley_loss(x, y):
    # A long, narrow valley: steep across, almost flat along (like many real losses).
    return 0.05 * x**2 + 4 * y**2


def _two_minima_loss(x, y):
    # Two dips of different depth: where you start decides where you end.
    return (x**2 - 1) ** 2 + 0.3 * x + y**2


SURFACES: dict[str, Surface] = {
    s.key: s
    for s in (
        Surface(
            "bowl",
            "A round bowl",
            _bowl_loss,
            lambda x, y: (2 * x, 6 * y),
            (-3, 3, -3, 3),
            (-2.5, 2.0),
            "One lowest point. Any small enough step size gets there.",
        ),
        Surface(
            "valley",
            "A long narrow valley",
            _valley_loss,
            lambda x, y: (0.1 * x, 8 * y),
            (-10, 10, -3, 3),
            (-9.0, 2.0),
            "Steep walls, a gentle floor: a big step bounces between the walls, a small "
            "step crawls along the floor. Momentum helps.",
        ),
        Surface(
            "two_minima",
            "Two valleys",
            _two_minima_loss,
            lambda x, y: (4 * x * (x**2 - 1) + 0.3, 2 * y),
            (-2, 2, -2, 2),
            (1.6, 1.5),
            "A shallow valley on the right and a deeper one on the left: gradient descent "
            "finds the nearest one, not always the best.",
        ),
    )
}
OPTIMIZERS = ("gd", "momentum", "adam")
OPTIMIZER_TITLES = {"gd": "Gradient descent", "momentum": "With momentum", "adam": "Adam"}
DIVERGED_ABOVE = 1e6  # a loss this large means the steps have run away


@dataclass
class Descent:
    """The state of one descent; step() moves it once."""

    surface: Surface
    optimizer: str
    lr: float
    x: float
    y: float
    beta: float = 0.9
    beta2: float = 0.999
    t: int = 0
    vx: float = 0.0
    vy: float = 0.0
    sx: float = 0.0
    sy: float = 0.0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer '{self.optimizer}'.")
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise ValueError("The learning rate must be a number above 0.")

    @property
    def loss(self) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            return float(self.surface.loss(np.float64(self.x), np.float64(self.y)))

    def gradient(self) -> tuple[float, float]:
        with np.errstate(over="ignore", invalid="ignore"):
            gx, gy = self.surface.grad(np.float64(self.x), np.float64(self.y))
        return float(gx), float(gy)

    @property
    def diverged(self) -> bool:
        loss = self.loss
        return not np.isfinite(loss) or abs(loss) > DIVERGED_ABOVE

    def step(self) -> None:
        gx, gy = self.gradient()
        self.t += 1
        with np.errstate(over="ignore", invalid="ignore"):
            if self.optimizer == "gd":
                dx, dy = gx, gy
            elif self.optimizer == "momentum":
                self.vx = self.beta * self.vx + gx
                self.vy = self.beta * self.vy + gy
                dx, dy = self.vx, self.vy
            else:  # Adam, with bias correction
                self.vx = self.beta * self.vx + (1 - self.beta) * gx
                self.vy = self.beta * self.vy + (1 - self.beta) * gy
                self.sx = self.beta2 * self.sx + (1 - self.beta2) * gx * gx
                self.sy = self.beta2 * self.sy + (1 - self.beta2) * gy * gy
                c1, c2 = 1 - self.beta**self.t, 1 - self.beta2**self.t
                dx = (self.vx / c1) / (np.sqrt(self.sx / c2) + 1e-8)
                dy = (self.vy / c1) / (np.sqrt(self.sy / c2) + 1e-8)
            self.x = float(self.x - self.lr * dx)
            self.y = float(self.y - self.lr * dy)


def descend(descent: Descent, steps: int) -> Generator[dict, None, Descent]:
    """Yield {"step", "x", "y", "loss", "gx", "gy"} after each step; stop early on divergence."""
    for _ in range(steps):
        descent.step()
        gx, gy = descent.gradient()
        yield {
            "step": descent.t,
            "x": descent.x,
            "y": descent.y,
            "loss": descent.loss,
            "gx": gx,
            "gy": gy,
            "diverged": descent.diverged,
        }
        if descent.diverged:
            break
    return descent


def verdict(losses: list[float], diverged: bool) -> str:
    """A plain sentence on what the steps did."""
    if diverged:
        return (
            "The loss blew up: each step overshoots the valley and lands higher up the other "
            "side. The learning rate is too large."
        )
    if len(losses) < 4:
        return ""
    ups = sum(1 for a, b in zip(losses, losses[1:]) if b > a)
    if ups > len(losses) // 4:
        return (
            "The loss goes up and down: the steps bounce from wall to wall. A smaller learning "
            "rate (or momentum) would settle it."
        )
    if losses[-1] > 0.999 * losses[0]:
        return "Hardly any progress: the learning rate is very small, so each step is tiny."
    return "The loss falls step by step: the learning rate suits this surface."


def grid(surface: Surface, n: int = 160) -> tuple[Array, Array, Array]:
    """Loss values on an n×n grid over the surface's extent (for the heatmap/contours)."""
    x0, x1, y0, y1 = surface.extent
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, surface.loss(gx, gy)
