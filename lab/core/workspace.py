"""The user's own image collection: classes as folders, images imported as clean copies.

Importing converts each picture to an upright RGB file (copying it unchanged when it
already is one), so training never meets a broken file. Long imports are generators that
yield progress and can be stopped between files.
"""

from __future__ import annotations

import errno
import hashlib
import re
import shutil
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lab.core.dataset import ImageFolder, list_images
from lab.core.files import SaveError, atomic_write_bytes
from lab.core.images import IGNORED_NAMES, ImageError, is_image_name, needs_conversion, open_image

# Imported copies are at most this many pixels on their longer side: plenty for any model
# here, and it keeps a folder of 12-megapixel phone photos small and quick to train on.
STORED_MAX_SIDE = 1024
_BAD_NAME_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


class WorkspaceError(Exception):
    """A class or file operation was refused; the message says why."""


@dataclass
class ImportReport:
    added: list[Path] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)

    def summary(self) -> str:
        parts = [f"Added {len(self.added)} image{'s' if len(self.added) != 1 else ''}."]
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} already there, left out.")
        if self.skipped:
            parts.append(f"Skipped {len(self.skipped)} that could not be used:")
            parts.extend(f"  • {name}: {reason}" for name, reason in self.skipped)
        return "\n".join(parts)


def validate_class_name(name: str) -> str:
    """Return the cleaned name or raise WorkspaceError saying what is wrong with it."""
    clean = name.strip()
    if not clean:
        raise WorkspaceError("A class needs a name.")
    if clean in (".", "..") or clean.startswith("."):
        raise WorkspaceError("A class name cannot start with a dot.")
    if _BAD_NAME_CHARS.search(clean):
        raise WorkspaceError('A class name cannot contain any of  \\ / : * ? " < > |')
    if len(clean) > 60:
        raise WorkspaceError("A class name can have at most 60 characters.")
    return clean


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to import from a mix of files and folders, and the ones refused outright."""
    files: list[Path] = []
    refused: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for p in sorted(path.rglob("*"), key=lambda p: str(p).lower()):
                if not p.is_file() or p.name.startswith(".") or p.name.lower() in IGNORED_NAMES:
                    continue
                if is_image_name(p):
                    files.append(p)
                else:
                    refused.append((p.name, "not an image file"))
        elif path.is_file():
            files.append(path)
        else:
            refused.append((path.name or str(path), "the file does not exist"))
    return files, refused


class Workspace:
    """Classes are sub-folders of root; the folder itself is the source of truth."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def classes(self) -> list[str]:
        return [
            p.name
            for p in sorted(self.root.iterdir(), key=lambda p: p.name.lower())
            if p.is_dir() and not p.name.startswith(".")
        ]

    def images(self, name: str) -> list[Path]:
        folder = self.root / name
        return list_images(folder) if folder.is_dir() else []

    def existing_class(self, name: str) -> str | None:
        """The class this name refers to, ignoring case ('Cat' is 'cat'), or None."""
        return next((c for c in self.classes() if c.lower() == name.strip().lower()), None)

    def count(self, name: str) -> int:
        return len(self.images(name))

    def as_image_folder(self) -> ImageFolder:
        return ImageFolder.scan(self.root)

    def add_class(self, name: str) -> str:
        clean = validate_class_name(name)
        if any(c.lower() == clean.lower() for c in self.classes()):
            raise WorkspaceError(f"There is already a class called '{clean}'.")
        (self.root / clean).mkdir()
        return clean

    def rename_class(self, old: str, new: str) -> str:
        clean = validate_class_name(new)
        if clean == old:
            return clean
        if old not in self.classes():
            raise WorkspaceError(f"There is no class called '{old}'.")
        if any(c.lower() == clean.lower() and c != old for c in self.classes()):
            raise WorkspaceError(f"There is already a class called '{clean}'.")
        (self.root / old).rename(self.root / clean)
        return clean

    def delete_class(self, name: str) -> None:
        folder = self.root / name
        if name not in self.classes():
            raise WorkspaceError(f"There is no class called '{name}'.")
        shutil.rmtree(folder)

    def remove_image(self, path: str | Path) -> None:
        path = Path(path)
        if self.root.resolve() not in path.resolve().parents:
            raise WorkspaceError(f"{path.name} is not in the image collection.")
        path.unlink(missing_ok=True)

    def import_images(
        self, name: str, paths: Iterable[str | Path]
    ) -> Generator[dict, None, ImportReport]:
        """Copy images into class `name` (created if new). Yields progress; returns a report."""
        name = self.existing_class(name) or self.add_class(name)
        files, refused = expand_paths(paths)
        report = ImportReport(skipped=list(refused))
        yield from self._import_files(name, files, report, done_before=0, total=len(files))
        return report

    def import_tree(self, root: str | Path) -> Generator[dict, None, ImportReport]:
        """Import a folder laid out as CLASS/IMAGE; each sub-folder becomes (or joins) a class."""
        root = Path(root)
        if not root.is_dir():
            raise WorkspaceError(f"{root} is not a folder.")
        class_dirs = [
            p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")
        ]
        if not class_dirs:
            raise WorkspaceError(
                f"{root.name} has no sub-folders. Put each class's images in a folder named "
                "after the class, for example cat/ and raccoon/."
            )
        plan = []
        report = ImportReport()
        for folder in class_dirs:
            files, refused = expand_paths([folder])
            report.skipped.extend(refused)
            plan.append((validate_class_name(folder.name), files))
        total = sum(len(files) for _, files in plan)
        done = 0
        for name, files in plan:
            name = self.existing_class(name) or self.add_class(name)
            yield from self._import_files(name, files, report, done_before=done, total=total)
            done += len(files)
        return report

    def _import_files(
        self, name: str, files: list[Path], report: ImportReport, done_before: int, total: int
    ) -> Generator[dict, None, None]:
        target = self.root / name
        known = {_digest(p.read_bytes()) for p in self.images(name)}
        for i, src in enumerate(files):
            try:
                data = self._import_one(src, target, known)
            except ImageError as exc:
                report.skipped.append((src.name, exc.reason))
            except SaveError as exc:
                if exc.errno in _STOP_ERRNOS:
                    # A full disk or a read-only folder fails every file the same way: stop.
                    n = len(report.added)
                    kept = f" {n} image{'s were' if n != 1 else ' was'} added before that."
                    raise WorkspaceError(f"{exc}{kept if n else ''}") from None
                report.skipped.append((src.name, f"could not be saved ({exc.strerror or exc})"))
            except OSError as exc:
                report.skipped.append((src.name, f"could not be read ({exc.strerror or exc})"))
            else:
                if data is None:
                    report.duplicates.append(src.name)
                else:
                    report.added.append(data)
            yield {"kind": "import", "done": done_before + i + 1, "total": total, "file": src.name}

    def _import_one(self, src: Path, target: Path, known: set[str]) -> Path | None:
        img = open_image(src, max_side=STORED_MAX_SIDE)  # validates and converts
        if not needs_conversion(src) and max(img.size) == max(_peek_size(src)):
            data = src.read_bytes()
            suffix = ".png" if src.suffix.lower() == ".png" else ".jpg"
        else:
            suffix = ".png" if _is_lossless(src) else ".jpg"
            data = _encode(img, suffix)
        digest = _digest(data)
        if digest in known:
            return None
        known.add(digest)
        dest = _free_name(target, _safe_stem(src.stem), suffix)
        atomic_write_bytes(dest, data)
        return dest


_STOP_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS})


def _peek_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as img:
        return img.size


def _is_lossless(path: Path) -> bool:
    return path.suffix.lower() in (".png", ".bmp", ".gif", ".tif", ".tiff")


def _encode(img, suffix: str) -> bytes:
    import io

    buf = io.BytesIO()
    if suffix == ".png":
        img.save(buf, format="PNG", optimize=False)
    else:
        img.save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_stem(stem: str) -> str:
    clean = _BAD_NAME_CHARS.sub("_", stem).strip(" .") or "image"
    return clean[:80]


def _free_name(folder: Path, stem: str, suffix: str) -> Path:
    candidate = folder / f"{stem}{suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}_{n}{suffix}"
        n += 1
    return candidate
