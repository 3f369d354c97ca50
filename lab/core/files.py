"""Writing files so that a crash or a full disk never destroys what was there before."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _read_umask() -> int:
    # Reading the umask means setting it; done once, at import, before threads start.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _read_umask()
NEW_FILE_MODE = 0o666 & ~UMASK  # what open(path, "w") would give a new file


class SaveError(OSError):
    """A file could not be written; str(error) says why in plain words. Nothing was changed."""

    def __init__(self, dest: Path, cause: OSError) -> None:
        # strerror is the short reason (for "Could not save X: <reason>"), str() the sentence.
        super().__init__(cause.errno, _reason(dest, cause), str(dest))
        self.dest = dest
        self.message = save_problem(dest, cause)

    def __str__(self) -> str:
        return self.message


def _reason(dest: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"ML Lab cannot write to {dest.parent}"
    return exc.strerror or str(exc) or type(exc).__name__


def save_problem(dest: str | Path, exc: OSError) -> str:
    """A plain sentence for a failed save: full disk, no permission, or the system's reason."""
    dest = Path(dest)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"The disk is full: could not save {dest.name}. Free some space and try again."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"ML Lab cannot write to {dest.parent}: could not save {dest.name}. "
            "Choose a folder you may change."
        )
    return f"Could not save {dest.name} ({_reason(dest, exc)})."


def atomic_write(dest: str | Path, write: Callable[[BinaryIO], None], durable: bool = True) -> None:
    """Call write(file) on a temporary file beside dest, then rename it over dest.

    durable=False skips the fsync: still never half-written, but a power cut may lose it
    (fine for caches, which are recomputed). An OSError (full disk, read-only folder) comes
    out as a SaveError with a plain message; the old file, if any, is left as it was and no
    temporary file stays behind.
    """
    dest = Path(dest)
    tmp: str | None = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(dest.stat().st_mode)  # keep an existing file's permissions
        except FileNotFoundError:
            mode = NEW_FILE_MODE
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)  # mkstemp makes 0600; a saved file should not be
            write(fh)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, SaveError):
            raise SaveError(dest, exc) from exc
        raise


def atomic_write_bytes(dest: str | Path, data: bytes, durable: bool = True) -> None:
    atomic_write(dest, lambda fh: fh.write(data), durable)
