"""Freeze plots (View menu) for views that draw a task's latest state, not a series."""

from __future__ import annotations

from collections.abc import Callable


class HeldDraw:
    """Calls draw(*args) at once, or, while frozen, keeps only the newest args and draws
    them on unfreeze. drop() forgets what is held (a newer result was drawn anyway)."""

    def __init__(self, draw: Callable[..., None]) -> None:
        self._draw = draw
        self.frozen = False
        self._held: tuple | None = None

    def show(self, *args) -> None:
        if self.frozen:
            self._held = args
        else:
            self._draw(*args)

    def drop(self) -> None:
        self._held = None

    def set_frozen(self, frozen: bool) -> None:
        self.frozen = bool(frozen)
        if not self.frozen and self._held is not None:
            held, self._held = self._held, None
            self._draw(*held)
