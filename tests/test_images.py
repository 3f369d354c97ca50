"""Reading what users bring: every odd file becomes an upright 8-bit RGB picture, or a plain no."""

from __future__ import annotations

import io
import resource
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from lab.core.images import ImageError, is_image_name, open_image

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)


# -- building odd files (all made here, never real photos) -----------------------------------
def noisy_rgb(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


def jpeg_bytes(img: Image.Image, **save_args) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90, **save_args)
    return buf.getvalue()


def write_cut_short_jpeg(path: Path) -> Path:
    """A JPEG whose headers are fine but whose picture data stops half-way."""
    data = jpeg_bytes(noisy_rgb(64, 64))
    path.write_bytes(data[: len(data) // 2])
    return path


def write_garbled_jpeg(path: Path) -> Path:
    """A JPEG with a valid start and frame header, its Huffman tables overwritten with junk."""
    data = bytearray(jpeg_bytes(noisy_rgb(64, 64, seed=1)))
    dht = data.find(b"\xff\xc4")
    assert dht > 0
    data[dht + 6 : dht + 46] = b"\x55" * 40
    path.write_bytes(bytes(data))
    return path


def write_exif_rotated_jpeg(path: Path, orientation: int = 6) -> Path:
    """A 60x30 picture stored sideways: red top-left, blue top-right, as the camera saved it."""
    arr = np.full((30, 60, 3), 128, dtype=np.uint8)
    arr[:8, :8] = RED  # stored top-left
    arr[:8, -8:] = BLUE  # stored top-right
    exif = Image.Exif()
    exif[0x0112] = orientation
    path.write_bytes(jpeg_bytes(Image.fromarray(arr, "RGB"), exif=exif.tobytes()))
    return path


def write_rgba_png(path: Path) -> Path:
    """Left half fully transparent (black underneath), right half opaque red."""
    arr = np.zeros((20, 40, 4), dtype=np.uint8)
    arr[:, 20:] = (255, 0, 0, 255)
    Image.fromarray(arr, "RGBA").save(path)
    return path


def write_palette_png_with_transparency(path: Path) -> Path:
    """Palette image: index 0 is black but marked transparent, index 1 is blue."""
    img = Image.new("P", (20, 20), 0)
    img.putpalette([0, 0, 0, 0, 0, 255] + [0] * (254 * 3))
    img.paste(1, (10, 0, 20, 20))
    img.save(path, transparency=0)
    return path


def write_16bit_png(path: Path, value: int = 32768) -> Path:
    arr = np.full((16, 16), value, dtype=np.uint16)
    arr[0, 0] = 0
    arr[0, 1] = 65535
    img = Image.fromarray(arr)
    assert img.mode == "I;16"
    img.save(path)
    return path


def write_animated_gif(path: Path) -> Path:
    frames = [Image.new("RGB", (16, 16), c) for c in (RED, BLUE, (0, 255, 0))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def write_cmyk_jpeg(path: Path) -> Path:
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path, quality=95)  # pure red ink
    return path


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_bilevel_png(path: Path, width: int, height: int) -> Path:
    """A valid, all-black 1-bit PNG of any size; 30000x30000 is about 100 KB on disk."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    squeeze = zlib.compressobj(9)
    rows_per_block = max(1, (1 << 20) // len(row))
    pieces = []
    left = height
    while left:
        n = min(rows_per_block, left)
        pieces.append(squeeze.compress(row * n))
        left -= n
    pieces.append(squeeze.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(pieces))
        + _png_chunk(b"IEND", b"")
    )
    return path


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img).astype(int)


def assert_near(actual, expected, tol: int = 12) -> None:
    assert np.all(np.abs(np.asarray(actual, dtype=int) - np.asarray(expected, dtype=int)) <= tol), (
        f"{actual} is not close to {expected}"
    )


# -- names ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cat.jpg", True),
        ("CAT.JPEG", True),
        ("a.b.PnG", True),
        ("anim.gif", True),
        ("scan.tiff", True),
        ("photo.webp", True),
        ("notes.txt", False),
        ("archive.jpg.zip", False),
        ("jpg", False),
        ("README", False),
    ],
)
def test_is_image_name(name, expected):
    assert is_image_name(name) is expected
    assert is_image_name(Path("some folder") / name) is expected


# -- refusals, each with a reason in plain words ----------------------------------------------
def test_empty_file_is_refused_as_empty(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError) as info:
        open_image(path)
    assert "empty" in info.value.reason
    assert info.value.path == path
    assert "empty.jpg" in str(info.value)


def test_text_file_renamed_jpg_is_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("Shopping list: milk, eggs, a raccoon-proof bin.\n" * 20)
    with pytest.raises(ImageError) as info:
        open_image(path)
    assert "not an image" in info.value.reason


@pytest.mark.parametrize("write", [write_cut_short_jpeg, write_garbled_jpeg])
def test_damaged_jpeg_is_refused_as_damaged(tmp_path, write):
    path = write(tmp_path / "broken.jpg")
    assert path.read_bytes()[:2] == b"\xff\xd8", "the file must still start like a JPEG"
    with pytest.raises(ImageError) as info:
        open_image(path)
    assert "damaged" in info.value.reason


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(ImageError) as info:
        open_image(tmp_path / "nowhere.png")
    assert "does not exist" in info.value.reason
    folder = tmp_path / "looks_like.png"
    folder.mkdir()
    with pytest.raises(ImageError) as info:
        open_image(folder)
    assert "folder" in info.value.reason


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@pytest.mark.parametrize("side", [(30000, 30000), (10000, 9000)])
def test_huge_picture_in_a_tiny_file_is_refused_without_decoding(tmp_path, side):
    """900 and 90 megapixels: above the limit either way, refused before any pixel is read."""
    width, height = side
    path = write_bilevel_png(tmp_path / "bomb.png", width, height)
    assert path.stat().st_size < 2_000_000, "the point is a file that is small on disk"
    data = path.read_bytes()
    assert struct.unpack(">II", data[16:24]) == (width, height)  # what the header claims
    first_rows = zlib.decompressobj().decompress(data[41:-16], 64)
    assert first_rows == bytes(64), "and genuine (black) pixels follow"
    before = _peak_rss_mb()
    with pytest.raises(ImageError) as info:
        open_image(path)
    assert "too large" in info.value.reason
    assert _peak_rss_mb() - before < 200, "refusing must not decode the picture"


def test_huge_picture_is_refused_even_when_pillows_own_guard_is_off(tmp_path, monkeypatch):
    """Some libraries set Image.MAX_IMAGE_PIXELS = None at import; ML Lab keeps its own limit."""
    path = write_bilevel_png(tmp_path / "bomb.png", 30000, 30000)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    before = _peak_rss_mb()
    with pytest.raises(ImageError) as info:
        open_image(path)
    assert "too large" in info.value.reason and "30000" in info.value.reason
    assert _peak_rss_mb() - before < 200


def test_bilevel_png_writer_makes_real_pictures(tmp_path):
    """The same writer at a modest size gives a picture that opens: the refusal is for size."""
    img = open_image(write_bilevel_png(tmp_path / "small.png", 301, 200))
    assert img.size == (301, 200)
    assert pixels(img).max() == 0


# -- conversions to upright 8-bit RGB --------------------------------------------------------
def test_plain_rgb_png_comes_back_unchanged(tmp_path):
    src = noisy_rgb(33, 21, seed=5)
    src.save(tmp_path / "plain.png")
    img = open_image(tmp_path / "plain.png")
    assert img.mode == "RGB"
    assert img.size == (33, 21)
    assert np.array_equal(np.asarray(img), np.asarray(src))


def test_grayscale_png_becomes_grey_rgb(tmp_path):
    arr = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (8, 1))
    Image.fromarray(arr, "L").save(tmp_path / "grey.png")
    img = open_image(tmp_path / "grey.png")
    assert img.mode == "RGB"
    assert img.size == (16, 8)
    rgb = pixels(img)
    assert np.array_equal(rgb[..., 0], arr)
    assert np.array_equal(rgb[..., 1], arr)
    assert np.array_equal(rgb[..., 2], arr)


def test_rgba_png_transparent_areas_are_white(tmp_path):
    img = open_image(write_rgba_png(tmp_path / "cutout.png"))
    assert img.mode == "RGB"
    assert img.size == (40, 20)
    assert img.getpixel((5, 10)) == WHITE, "transparent must be white, not black"
    assert img.getpixel((30, 10)) == RED


def test_half_transparent_black_is_mid_grey(tmp_path):
    Image.new("RGBA", (4, 4), (0, 0, 0, 128)).save(tmp_path / "shadow.png")
    assert_near(open_image(tmp_path / "shadow.png").getpixel((1, 1)), (127, 127, 127), tol=2)


def test_grey_with_alpha_png_transparent_areas_are_white(tmp_path):
    arr = np.zeros((10, 10, 2), dtype=np.uint8)  # black, fully transparent
    arr[:, 5:, 1] = 255  # right half opaque black
    Image.fromarray(arr, "LA").save(tmp_path / "la.png")
    img = open_image(tmp_path / "la.png")
    assert img.getpixel((1, 1)) == WHITE
    assert img.getpixel((8, 1)) == (0, 0, 0)


def test_palette_png_transparency_is_white(tmp_path):
    img = open_image(write_palette_png_with_transparency(tmp_path / "palette.png"))
    assert img.mode == "RGB"
    assert img.getpixel((2, 2)) == WHITE
    assert img.getpixel((15, 2)) == BLUE


@pytest.mark.parametrize(
    ("mode", "fill", "transparent"),
    [("L", 0, 0), ("RGB", (0, 0, 0), (0, 0, 0))],
    ids=["grey-tRNS", "rgb-tRNS"],
)
def test_png_colour_key_transparency_is_white(tmp_path, mode, fill, transparent):
    """PNG's tRNS chunk also marks one grey level or one colour as see-through."""
    img = Image.new(mode, (10, 10), fill)
    img.paste(200 if mode == "L" else (200, 0, 0), (5, 0, 10, 10))
    img.save(tmp_path / "key.png", transparency=transparent)
    with Image.open(tmp_path / "key.png") as check:
        assert "transparency" in check.info
    out = open_image(tmp_path / "key.png")
    assert out.getpixel((1, 1)) == WHITE, "the see-through colour must come out white"
    assert out.getpixel((8, 1)) == ((200, 200, 200) if mode == "L" else (200, 0, 0))


def test_cmyk_jpeg_becomes_rgb_with_the_right_colour(tmp_path):
    path = write_cmyk_jpeg(tmp_path / "print.jpg")
    with Image.open(path) as raw:
        assert raw.mode == "CMYK"
    img = open_image(path)
    assert img.mode == "RGB"
    assert_near(img.getpixel((8, 8)), RED, tol=20)


def test_16bit_png_is_scaled_not_clipped(tmp_path):
    img = open_image(write_16bit_png(tmp_path / "deep.png", 32768))
    assert img.mode == "RGB"
    assert img.size == (16, 16)
    assert_near(img.getpixel((8, 8)), (128, 128, 128), tol=1)
    assert img.getpixel((0, 0)) == (0, 0, 0)
    assert img.getpixel((1, 0)) == WHITE


def test_dark_16bit_png_stays_dark(tmp_path):
    """A 16-bit picture whose brightest pixel is 200 of 65535 is almost black."""
    arr = np.full((8, 8), 200, dtype=np.uint16)
    arr[0, 0] = 0
    Image.fromarray(arr).save(tmp_path / "night.png")
    img = open_image(tmp_path / "night.png")
    assert_near(img.getpixel((4, 4)), (1, 1, 1), tol=1)


def test_exif_rotated_jpeg_loads_upright(tmp_path):
    """Orientation 6 (camera held upright): a viewer turns the stored picture 90° clockwise."""
    path = write_exif_rotated_jpeg(tmp_path / "phone.jpg", orientation=6)
    with Image.open(path) as raw:
        assert raw.size == (60, 30)
    img = open_image(path)
    assert img.mode == "RGB"
    assert img.size == (30, 60)
    # Clockwise turn: the stored top-left goes to the top-right, the stored top-right to the
    # bottom-right.
    assert_near(img.getpixel((26, 3)), RED, tol=40)
    assert_near(img.getpixel((26, 56)), BLUE, tol=40)
    assert_near(img.getpixel((3, 3)), (128, 128, 128), tol=20)
    assert_near(img.getpixel((3, 56)), (128, 128, 128), tol=20)


@pytest.mark.parametrize(
    ("orientation", "size", "red_at"),
    [(1, (60, 30), (3, 3)), (3, (60, 30), (56, 26)), (8, (30, 60), (3, 56))],
)
def test_other_exif_orientations(tmp_path, orientation, size, red_at):
    img = open_image(write_exif_rotated_jpeg(tmp_path / "o.jpg", orientation))
    assert img.size == size
    assert_near(img.getpixel(red_at), RED, tol=40)


def test_animated_gif_gives_its_first_frame(tmp_path):
    path = write_animated_gif(tmp_path / "blink.gif")
    with Image.open(path) as raw:
        assert raw.n_frames == 3
    img = open_image(path)
    assert img.mode == "RGB"
    assert img.size == (16, 16)
    assert img.getpixel((8, 8)) == RED


def test_unicode_and_space_filled_name(tmp_path):
    path = tmp_path / "Mein Kätzchen  猫 фото (1).png"
    noisy_rgb(12, 10).save(path)
    img = open_image(path)
    assert img.size == (12, 10)


def test_returned_image_is_detached_from_the_file(tmp_path):
    path = tmp_path / "gone.png"
    noisy_rgb(8, 8).save(path)
    img = open_image(path)
    path.unlink()
    assert img.getpixel((0, 0)) is not None
    img.load()


@pytest.mark.parametrize(("orientation", "size"), [(1, (448, 336)), (6, (336, 448))])
def test_12_megapixel_jpeg_shrinks_to_max_side(tmp_path, orientation, size):
    yy, xx = np.mgrid[0:3000, 0:4000]
    arr = np.empty((3000, 4000, 3), dtype=np.uint8)
    arr[..., 0] = xx * 255 // 3999  # red grows to the right (as stored)
    arr[..., 1] = yy * 255 // 2999
    arr[..., 2] = 60
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "big.jpg"
    Image.fromarray(arr, "RGB").save(path, quality=80, exif=exif.tobytes())
    img = open_image(path, max_side=448)
    assert img.mode == "RGB"
    assert max(img.size) <= 448
    assert abs(img.size[0] - size[0]) <= 2 and abs(img.size[1] - size[1]) <= 2
    # the content is still the whole picture, upright: compare with a full decode shrunk down
    with Image.open(path) as full:
        reference = ImageOps.exif_transpose(full).convert("RGB").resize(img.size)
    assert np.abs(pixels(img) - pixels(reference)).mean() < 6
    # and without max_side the size is the full one
    assert max(open_image(path).size) == 4000
