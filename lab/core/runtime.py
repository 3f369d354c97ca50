"""Process-wide settings that make the CPU work faster; called once at start-up."""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def tune_allocator() -> bool:
    """Keep freed memory for reuse instead of handing it back to the system at once.

    With glibc's defaults every batch of images maps and unmaps fresh pages, and a third of
    the CPU time goes to the kernel; raising these thresholds made feature extraction
    1.5-1.9x faster here. The cost: the process keeps its peak memory (a few hundred MB).
    Returns True if applied (Linux with glibc only).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        ok &= libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
        ok &= libc.mallopt(_M_TOP_PAD, 256 << 20)
        return bool(ok)
    except (OSError, AttributeError):
        return False


def preload_models() -> None:
    """Import the model libraries and read the pretrained weights (slow the first time)."""
    import timm  # noqa: F401
    import torch

    from lab.core.models import _pretrained_state

    _pretrained_state()
    # The first optimizer of a process imports torch._dynamo (seconds): do it now, not at Train.
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
