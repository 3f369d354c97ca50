"""Starter images for online users: cats from CIFAR-10 and raccoons from CIFAR-100.

The archives are fetched with a progress report (torchvision's own download prints to a
terminal, so we stream the same URL ourselves and let torchvision's dataset classes verify
and unpack it). The chosen pictures are written once as CLASS/IMAGE PNG files, the layout
every other part of ML Lab reads.
"""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from lab.core.files import atomic_write_bytes
from lab.core.tasks import RateMeter, StopFlag

PER_CLASS = 600  # CIFAR-100 has 600 raccoons (500 train + 100 test); take as many cats
CHUNK = 256 * 1024
DONE_MARKER = ".complete"


class DownloadError(Exception):
    """The starter images could not be fetched; the message says why."""


@dataclass(frozen=True)
class CifarSource:
    class_name: str  # the class in ML Lab
    dataset: type  # torchvision.datasets.CIFAR10 or CIFAR100 (or a stand-in in tests)
    label_name: str  # the label inside that dataset


def default_sources() -> tuple[CifarSource, ...]:
    from torchvision.datasets import CIFAR10, CIFAR100

    return (CifarSource("cat", CIFAR10, "cat"), CifarSource("raccoon", CIFAR100, "raccoon"))


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fetch(
    url: str, dest: Path, md5: str, stop: StopFlag, label: str
) -> Generator[dict, None, bool]:
    """Stream url to dest with progress; False if stopped. Verifies the checksum."""
    if dest.exists() and _md5(dest) == md5:
        return True
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    meter = RateMeter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while True:
                if stop.requested:
                    return False
                block = response.read(CHUNK)
                if not block:
                    break
                out.write(block)
                done += len(block)
                meter.add(len(block))
                yield {
                    "kind": "download",
                    "file": label,
                    "done": done,
                    "total": total,
                    "bytes_per_s": meter.per_second,
                    "eta_s": meter.seconds_left(total - done) if total else None,
                }
    except OSError as exc:
        part.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(
            f"Could not download {label}: {reason}. Check the internet connection, or import a "
            "folder of images instead."
        ) from None
    finally:
        if stop.requested:
            part.unlink(missing_ok=True)
    if _md5(part) != md5:
        part.unlink(missing_ok=True)
        raise DownloadError(f"The download of {label} arrived damaged. Please try again.")
    part.replace(dest)
    return True


def download_starter(
    dest: Path,
    download_dir: Path,
    sources: tuple[CifarSource, ...] | None = None,
    per_class: int = PER_CLASS,
    stop: StopFlag | None = None,
) -> Generator[dict, None, Path | None]:
    """Make dest/CLASS/*.png from the CIFAR archives. Returns dest, or None if stopped."""
    import io

    from PIL import Image

    stop = stop or StopFlag()
    if (dest / DONE_MARKER).exists():
        return dest
    for source in sources or default_sources():
        ds_cls = source.dataset
        archive = download_dir / ds_cls.filename
        ok = yield from _fetch(ds_cls.url, archive, ds_cls.tgz_md5, stop, ds_cls.filename)
        if not ok:
            return None
        yield {"kind": "stage", "stage": "unpacking", "file": ds_cls.filename}
        try:
            parts = [ds_cls(root=str(download_dir), train=t, download=True) for t in (True, False)]
        except (RuntimeError, OSError, ValueError) as exc:
            raise DownloadError(f"Could not unpack {ds_cls.filename}: {exc}") from None
        label = parts[0].class_to_idx.get(source.label_name)
        if label is None:
            raise DownloadError(f"{ds_cls.filename} has no class called '{source.label_name}'.")
        folder = dest / source.class_name
        written = 0
        for part in parts:
            for array, target in zip(part.data, part.targets):
                if target != label or written >= per_class:
                    continue
                buf = io.BytesIO()
                Image.fromarray(array).save(buf, format="PNG")
                written += 1
                atomic_write_bytes(
                    folder / f"{source.class_name}_{written:04d}.png", buf.getvalue()
                )
                if written % 50 == 0:
                    yield {"kind": "convert", "class": source.class_name, "done": written}
                    if stop.requested:
                        return None
    atomic_write_bytes(dest / DONE_MARKER, b"ok\n")
    return dest
