"""Writing files so that a crash or a full disk never destroys what was there before."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(
    dest: str | Path, write: Callable[[BinaryIO], None], durable: bool = True
) -> None:
    """Call write(file) on a temporary file beside dest, then rename it over dest.

    durable=False skips the fsync: still never half-written, but a power cut may lose it
    (fine for caches, which are recomputed).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(dest: str | Path, data: bytes, durable: bool = True) -> None:
    atomic_write(dest, lambda fh: fh.write(data), durable)
