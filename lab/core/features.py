"""Backbone features, computed once per image and kept on disk.

A cache entry is keyed by the file's content (not its name), the network, the image size
and whether the picture was mirrored, so renaming or moving a file still hits the cache and
editing a file misses it. Entries are written atomically; a damaged entry is recomputed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Sequence
from pathlib import Path

import numpy as np
import torch

from lab.core.files import atomic_write_bytes
from lab.core.images import ImageError, open_image
from lab.core.models import normalize, to_uint8_tensor
from lab.core.tasks import RateMeter, StopFlag

CACHE_VERSION = 2  # 2: entries carry a checksum
EXTRACT_BATCH = 8  # small batches: progress and Stop stay quick on a CPU


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class FeatureCache:
    """On-disk store of feature vectors, one small checksummed file per (image, settings)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0
        self.damaged = 0  # entries found truncated or altered, and recomputed
        self._digests: dict[tuple[str, int, int], str] = {}

    def digest(self, path: Path) -> str:
        st = path.stat()
        memo = (str(path), st.st_mtime_ns, st.st_size)
        if memo not in self._digests:
            self._digests[memo] = file_digest(path)
        return self._digests[memo]

    def key(self, path: Path, backbone: str, size: int, flipped: bool = False) -> str:
        flip = "f" if flipped else "n"
        return f"v{CACHE_VERSION}-{backbone}-{size}-{flip}-{self.digest(path)[:40]}"

    def _file(self, key: str) -> Path:
        return self.root / key[-2:] / f"{key}.vec"

    def get(self, key: str, dim: int) -> np.ndarray | None:
        """The stored vector, or None; a truncated or altered entry is deleted (recomputed)."""
        path = self._file(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return None
        except OSError:
            self.misses += 1
            return None
        vec = _unpack(data, dim)
        if vec is None:
            self.damaged += 1
            self.misses += 1
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass  # a read-only cache: it is simply recomputed each time
            return None
        self.hits += 1
        return vec

    def put(self, key: str, vec: np.ndarray) -> None:
        try:
            atomic_write_bytes(self._file(key), _pack(vec), durable=False)
        except OSError:
            pass  # a full or read-only disk only costs speed next time


# An entry: magic, a checksum of the numbers, then little-endian float32s. The checksum
# catches a bit flipped on disk, which a plain .npy file would hand back as a wrong feature.
_MAGIC = b"MLLF"
_SUM = 16


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=_SUM).digest()


def _pack(vec: np.ndarray) -> bytes:
    payload = np.ascontiguousarray(vec, dtype="<f4").tobytes()
    return _MAGIC + _checksum(payload) + payload


def _unpack(data: bytes, dim: int) -> np.ndarray | None:
    head = len(_MAGIC) + _SUM
    if len(data) != head + 4 * dim or not data.startswith(_MAGIC):
        return None
    payload = data[head:]
    if _checksum(payload) != data[len(_MAGIC) : head]:
        return None
    vec = np.frombuffer(payload, dtype="<f4").astype(np.float32)
    return vec if np.isfinite(vec).all() else None


def extract_features(
    paths: Sequence[Path],
    backbone_name: str,
    backbone_factory,
    size: int,
    cache: FeatureCache | None,
    dim: int,
    flips: bool = False,
    device: torch.device | None = None,
    stop: StopFlag | None = None,
) -> Generator[dict, None, tuple[np.ndarray, np.ndarray | None, dict[int, str]]]:
    """Features for every path (and of its mirror image when flips), using the cache.

    backbone_factory() builds the network only if something is not cached, so a fully
    cached run never pays for loading it. Returns (features, flipped features or None,
    {index: reason} for unreadable images, whose rows are zeros).
    """
    device = device or torch.device("cpu")
    n = len(paths)
    feats = np.zeros((n, dim), dtype=np.float32)
    flipped = np.zeros((n, dim), dtype=np.float32) if flips else None
    failed: dict[int, str] = {}
    todo: list[int] = []
    keys: dict[int, tuple[str, str]] = {}
    for i, path in enumerate(paths):
        try:
            k, kf = (
                (cache.key(path, backbone_name, size), cache.key(path, backbone_name, size, True))
                if cache
                else ("", "")
            )
        except OSError as exc:
            failed[i] = f"the file cannot be read ({exc.strerror or exc})"
            continue
        keys[i] = (k, kf)
        vec = cache.get(k, dim) if cache else None
        vec_f = (cache.get(kf, dim) if cache else None) if flips else None
        if vec is None or (flips and vec_f is None):
            todo.append(i)
        else:
            feats[i] = vec
            if flipped is not None:
                flipped[i] = vec_f
    if not todo:
        return feats, flipped, failed

    yield {"kind": "stage", "stage": "features", "total": len(todo)}
    net = backbone_factory().to(device).eval()
    meter = RateMeter()
    done = 0
    for start in range(0, len(todo), EXTRACT_BATCH):
        if stop is not None and stop.requested:
            break
        chunk = todo[start : start + EXTRACT_BATCH]
        tensors, good = [], []
        for i in chunk:
            try:
                img = open_image(paths[i], max_side=size * 2)
            except ImageError as exc:
                failed[i] = exc.reason
                continue
            tensors.append(to_uint8_tensor(img, size))
            good.append(i)
        if tensors:
            batch = torch.stack(tensors)
            if flips:
                batch = torch.cat([batch, batch.flip(-1)])
            with torch.inference_mode():
                out = net(normalize(batch.to(device))).float().cpu().numpy()
            for j, i in enumerate(good):
                feats[i] = out[j]
                if cache:
                    cache.put(keys[i][0], out[j])
                if flipped is not None:
                    flipped[i] = out[len(good) + j]
                    if cache:
                        cache.put(keys[i][1], out[len(good) + j])
        done += len(chunk)
        meter.add(len(chunk))
        yield {
            "kind": "features",
            "done": done,
            "total": len(todo),
            "images_per_s": meter.per_second,
            "eta_s": meter.seconds_left(len(todo) - done),
        }
    if stop is not None and stop.requested:
        for i in todo[done:]:
            failed.setdefault(i, "stopped before its features were computed")
    return feats, flipped, failed
