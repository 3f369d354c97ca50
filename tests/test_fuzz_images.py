"""Bad images never crash: random and mutated bytes through every path a picture comes in by.

Each case is written to a file and given to: open_image, the workspace import, the classifier
(predict_paths and the Classify page's classify_files), the diffusion forward panel's picture
loading, the embeddings' dropped-image placement, and the drop zone's paste path. Each must
give an image or a clear error (ImageError, or a WorkspaceError for the import), never another
exception and never an unbounded allocation. FUZZ_CASES counts the cases run.
"""

from __future__ import annotations

import io
import os
import resource
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from lab.core.classifier import Classifier
from lab.core.diffusion.forward import PICTURE_SIZE
from lab.core.diffusion.forward import load_picture as diffusion_picture
from lab.core.embeddings.image_embeddings import ImageEmbedder, classifier_source
from lab.core.images import MAX_PIXELS, ImageError, open_image
from lab.core.inference import classify_files
from lab.core.models import SCRATCH_BACKBONE, build_classifier
from lab.core.workspace import Workspace, WorkspaceError

FUZZ_CASES = {"n": 0}
FORMATS = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "GIF": ".gif",
    "WEBP": ".webp",
    "BMP": ".bmp",
    "TIFF": ".tif",
}
# LAB_FUZZ_EXAMPLES=1000 fuzzes harder (minutes); the default keeps the file under ~30 s.
FUZZ = settings(
    max_examples=int(os.environ.get("LAB_FUZZ_EXAMPLES", "40")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _real_bytes(fmt: str) -> bytes:
    rng = np.random.default_rng(len(fmt))
    arr = rng.integers(0, 255, size=(24, 32, 3), dtype=np.uint8)
    arr[:12] = [200, 120, 40]  # some structure, so the compressed stream is not all noise
    img = Image.fromarray(arr, "RGB")
    if fmt == "GIF":
        img = img.convert("P")
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


REAL = {fmt: _real_bytes(fmt) for fmt in FORMATS}


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_dimensions_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A 1×1 PNG whose header claims width×height pixels (the CRC fixed, so it looks valid)."""
    data = bytearray(_tiny_png())
    ihdr = 8  # after the signature: length(4) type(4) body(13) crc(4)
    body = bytearray(data[ihdr + 8 : ihdr + 8 + 13])
    body[0:8] = struct.pack(">II", width, height)
    data[ihdr + 8 : ihdr + 8 + 13] = body
    data[ihdr + 21 : ihdr + 25] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(body)))
    return bytes(data)


def _tiny_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1, 1), (10, 20, 30)).save(buf, format="PNG")
    return buf.getvalue()


def bomb_png(side: int = 30_000) -> bytes:
    """A single-colour side×side 1-bit PNG: ~100 KB on disk, 900 megapixels when decoded."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" + bytes((side + 7) // 8)
    z = zlib.compressobj(9)
    parts = [z.compress(row * 1000) for _ in range(side // 1000)]
    parts.append(z.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + (_chunk(b"IEND", b""))
    )


# -- every path a file can come in by -------------------------------------------------------
class Paths:
    """The import/drop paths, with what they need (a tiny model, a workspace), built once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.n = 0
        net = build_classifier(SCRATCH_BACKBONE, 2, pretrained=False)
        self.clf = Classifier(
            net=net, classes=["cat", "raccoon"], backbone=SCRATCH_BACKBONE, image_size=32
        )
        self.embedder = ImageEmbedder(classifier_source(self.clf))
        self.workspace = Workspace(root / "ws")

    def write(self, data: bytes, suffix: str) -> Path:
        self.n += 1
        path = self.root / "in" / f"case{self.n:05d}{suffix}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    def check(self, path: Path) -> str:
        """Run every path on one file; return 'image' or 'error' (what open_image gave)."""
        FUZZ_CASES["n"] += 1
        try:
            img = open_image(path)
            assert img.mode == "RGB" and 1 <= img.width * img.height <= MAX_PIXELS
            verdict = "image"
        except ImageError as exc:
            assert exc.reason and path.name in str(exc)
            verdict = "error"

        try:
            arr = diffusion_picture(path)
            assert arr.shape == (3, PICTURE_SIZE, PICTURE_SIZE) and np.isfinite(arr).all()
        except ImageError as exc:
            assert exc.reason

        (row,) = list(self.clf.predict_paths([path]))
        assert ("label" in row) or row["error"]
        (item,) = list(classify_files(self.clf, [path]))
        assert ("probabilities" in item) or item["error"]
        assert ("error" in row) == ("error" in item) == (verdict == "error")

        try:
            vec = self.embedder.embed_file(path)
            assert np.isfinite(vec).all()
        except ImageError as exc:
            assert exc.reason

        try:
            gen = self.workspace.import_images("fuzz", [path])
            while True:
                next(gen)
        except StopIteration as done:
            report = done.value
            assert len(report.added) + len(report.duplicates) + len(report.skipped) == 1
            if verdict == "error":
                assert report.skipped and report.skipped[0][1]
        except WorkspaceError as exc:
            assert str(exc)
        return verdict


@pytest.fixture(scope="module")
def lab_paths():
    with tempfile.TemporaryDirectory() as tmp:
        yield Paths(Path(tmp))


# -- fixed corpus ----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_real_pictures_of_every_format_open(lab_paths, fmt):
    assert lab_paths.check(lab_paths.write(REAL[fmt], FORMATS[fmt])) == "image"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_truncated_pictures_give_a_clear_error_or_an_image(lab_paths, fmt):
    data = REAL[fmt]
    for cut in sorted(
        {1, 8, 16, 40, len(data) // 3, len(data) // 2, len(data) - 10, len(data) - 1}
    ):
        lab_paths.check(lab_paths.write(data[:cut], FORMATS[fmt]))


def test_odd_files_give_clear_errors(lab_paths):
    cases = {
        "empty.jpg": b"",
        "notes.jpg": b"Dear diary, this is not a photo.\n" * 20,
        "page.png": b"<html><body>404 Not Found</body></html>",
        "nul.gif": bytes(300),
        "zip.png": b"PK\x03\x04" + bytes(200),
    }
    for name, data in cases.items():
        path = lab_paths.write(data, Path(name).suffix)
        assert lab_paths.check(path) == "error"
    reason = None
    try:
        open_image(lab_paths.write(b"", ".jpg"))
    except ImageError as exc:
        reason = exc.reason
    assert reason == "the file is empty (0 bytes)"


def test_huge_dimensions_in_a_tiny_file_are_refused_before_decoding(lab_paths):
    path = lab_paths.write(huge_dimensions_png(), ".png")
    assert path.stat().st_size < 200
    with pytest.raises(ImageError, match="too large"):
        open_image(path)
    assert lab_paths.check(path) == "error"
    # Just below the limit in a header, but with no pixel data: still a clear error.
    side = int(MAX_PIXELS**0.5) - 1
    assert lab_paths.check(lab_paths.write(huge_dimensions_png(side, side), ".png")) == "error"


def test_a_decompression_bomb_renamed_png_is_refused_without_using_the_memory(lab_paths):
    data = bomb_png()
    assert len(data) < 500_000, "small on disk"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    path = lab_paths.write(data, ".png")
    with pytest.raises(ImageError, match="too large"):
        open_image(path)
    assert lab_paths.check(path) == "error"
    # Also renamed to another picture type: the content decides, not the name.
    assert lab_paths.check(lab_paths.write(data, ".jpg")) == "error"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"peak memory grew by {grown_mb:.0f} MB"


# -- hypothesis: random and mutated bytes ----------------------------------------------------
@FUZZ
@given(data=st.binary(min_size=0, max_size=2048), suffix=st.sampled_from(list(FORMATS.values())))
def test_random_bytes(lab_paths, data, suffix):
    lab_paths.check(lab_paths.write(data, suffix))


@FUZZ
@given(
    fmt=st.sampled_from(list(FORMATS)),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
    suffix=st.sampled_from([*FORMATS.values(), ".png"]),
)
def test_bit_flipped_and_truncated_real_pictures(lab_paths, fmt, flips, cut, suffix):
    data = bytearray(REAL[fmt])
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    lab_paths.check(lab_paths.write(bytes(data), suffix))


@FUZZ
@given(
    fmt=st.sampled_from(["PNG", "JPEG", "GIF", "BMP"]),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), min_size=1, max_size=6),
)
def test_pasted_image_data_is_saved_and_read_safely(qapp, lab_paths, fmt, flips):
    """The drop zone's paste path: image bytes in a clipboard → QImage → saved PNG → classify."""
    from PySide6.QtCore import QMimeData

    from lab.ui.widgets.drop_zone import image_from_mime, save_pasted_image

    data = bytearray(REAL[fmt])
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit
    mime = QMimeData()
    mime.setData(f"image/{fmt.lower()}", bytes(data))
    FUZZ_CASES["n"] += 1
    image = image_from_mime(mime)
    if image is None:
        return  # Qt could not read it: nothing is pasted, nothing to crash on
    path = save_pasted_image(image, lab_paths.root / "pasted")
    assert lab_paths.check(path) == "image"


def test_report_the_number_of_fuzz_cases(lab_paths):
    """Runs last in this file: the count the reliability table quotes."""
    print(f"\nfuzz_cases: {FUZZ_CASES['n']}")
    assert FUZZ_CASES["n"] >= 150
