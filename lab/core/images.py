"""Reading any image a user may bring, safely: upright, RGB, bounded in size.

Every failure becomes an ImageError whose message names the problem in plain words.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
# Pillow refuses images above twice this many pixels (decompression bombs); we keep its limit
# and refuse anything above it too, so a tiny file can never ask for gigabytes of memory.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
# Files that are never images and are not worth a message.
IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})

ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageError(Exception):
    """An image could not be used; str(error) says why, for the user."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")


def is_image_name(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; transparency is laid over white."""
    mode = img.mode
    if mode in ("P", "L", "RGB") and "transparency" in img.info:
        # A palette entry, grey level or colour marked see-through (PNG tRNS): lay it on white.
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit (or 32-bit integer) grey: scale to 0..255 instead of clipping to white.
        arr = np.asarray(img, dtype=np.float64)
        # An I;16 picture is 16-bit whatever its values; only plain "I" needs a guess.
        sixteen = mode != "I" or arr.max(initial=0) > 255
        top = 65535.0 if sixteen else 255.0
        grey = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        scaled = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        return Image.fromarray(np.nan_to_num(scaled).astype(np.uint8), "L").convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def open_image(path: str | Path, max_side: int | None = None) -> Image.Image:
    """Open an image file as an upright 8-bit RGB picture.

    max_side shrinks large pictures while decoding (JPEG draft mode), which keeps a
    12-megapixel photo fast and small in memory. Raises ImageError with a plain reason.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageError(path, "the file does not exist") from None
    except OSError as exc:
        raise ImageError(path, f"the file cannot be read ({exc.strerror or exc})") from None
    if path.is_dir():
        raise ImageError(path, "this is a folder, not an image file")
    if size == 0:
        raise ImageError(path, "the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # e.g. "Corrupt EXIF data": we cope
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                return _decode(img, path, max_side)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            path, "the picture is too large (more than about 90 megapixels) to open safely"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(path, "this is not an image file ML Lab can read") from None
    except MemoryError:
        raise ImageError(path, "the picture is too large to fit in memory") from None
    except PermissionError:
        raise ImageError(path, "ML Lab is not allowed to read this file") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError) as exc:
        raise ImageError(path, f"the file is damaged or cut short ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 80 else text[:77] + "..."


def _decode(img: Image.Image, path: Path, max_side: int | None) -> Image.Image:
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageError(path, "the picture has no pixels")
    if width * height > MAX_PIXELS:
        raise ImageError(path, f"the picture is too large ({width}×{height} pixels) to open safely")
    if getattr(img, "is_animated", False):
        img.seek(0)  # animated GIF/WebP: the first frame stands for the file
    if max_side and img.format == "JPEG" and max(width, height) > 2 * max_side:
        # Let the JPEG decoder shrink by 2/4/8 while reading: far less time and memory.
        img.draft("RGB", (max_side, max_side))
    img.load()
    upright = ImageOps.exif_transpose(img) or img
    rgb = _to_rgb(upright)
    if max_side and max(rgb.size) > max_side:
        rgb = rgb.copy()
        rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    elif rgb is img:
        rgb = rgb.copy()  # detach from the file so it can be closed
    return rgb


def needs_conversion(path: str | Path) -> bool:
    """True when a file is not already a plain upright RGB JPEG/PNG (so it can't be copied as is)."""
    try:
        with Image.open(path) as img:
            if img.format not in ("JPEG", "PNG") or img.mode != "RGB":
                return True
            if img.format == "PNG" and "transparency" in img.info:
                return True
            orientation = img.getexif().get(0x0112, 1)
            return orientation not in (0, 1)
    except Exception:
        return True
