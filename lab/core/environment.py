"""A check of this computer for the welcome screen: each finding with a fix in plain words."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from lab.core import paths

LOW_DISK_BYTES = 1 << 30  # below 1 GB free, caches and models may not fit


@dataclass(frozen=True)
class Finding:
    name: str  # what was checked: "Device", "Free disk", …
    ok: bool
    text: str  # what was found
    fix: str = ""  # what to do about it, when not ok


def check_disk(folder: Path | None = None) -> Finding:
    folder = folder or paths.data_dir()
    try:
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        return Finding("Free disk", False, f"Could not check {folder}: {exc.strerror or exc}.")
    shown = f"{free / (1 << 30):.1f} GB free in {folder}"
    if free < LOW_DISK_BYTES:
        return Finding(
            "Free disk",
            False,
            shown,
            "Less than 1 GB is free: models and caches may not fit. Free some space, or choose "
            "another data folder in Settings.",
        )
    return Finding("Free disk", True, shown)


def check_writable(folder: Path | None = None) -> Finding:
    folder = folder or paths.data_dir()
    if os.access(folder, os.W_OK | os.X_OK):
        return Finding("Data folder", True, f"ML Lab keeps your work in {folder}.")
    return Finding(
        "Data folder",
        False,
        f"ML Lab cannot write to {folder}.",
        "Choose a folder you may change in Settings (File ▸ Settings), then restart ML Lab.",
    )


def check_images(workspace_root: Path | None = None) -> Finding:
    root = workspace_root or paths.workspace_dir()
    counts = {}
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            counts[folder.name] = sum(1 for f in folder.iterdir() if f.is_file())
    total = sum(counts.values())
    if total:
        listed = ", ".join(f"{n} {name}" for name, n in counts.items())
        return Finding("Images", True, f"{total} images to train on: {listed}.")
    return Finding(
        "Images",
        False,
        "There are no images to train on yet.",
        "Open the Classifier tab and press Starter images… to add cats and raccoons (from a "
        "folder, or downloaded once when you are online), or drag in your own photos.",
    )


def check_device(preference: str = "auto") -> Finding:
    """Needs PyTorch (seconds to import): call it off the GUI thread or once it is loaded."""
    import torch

    from lab.core.models import describe_device, pick_device

    device = pick_device(preference)
    if device.type != "cpu":
        return Finding("Device", True, f"Training uses the GPU: {describe_device(device)}.")
    if preference == "gpu":
        return Finding(
            "Device",
            False,
            "You chose the GPU in Settings, but PyTorch finds none; the CPU is used.",
            "Nothing to fix for the lessons: everything in ML Lab runs on a CPU.",
        )
    cores = os.cpu_count() or 1
    return Finding(
        "Device",
        True,
        f"Training uses the CPU ({cores} cores, PyTorch {torch.__version__}). Every lab in ML "
        "Lab is made to run on a CPU.",
    )


def check_python() -> Finding:
    version = ".".join(str(v) for v in sys.version_info[:3])
    return Finding("Python", True, f"Python {version}.")


def quick_checks() -> list[Finding]:
    """The checks that need no PyTorch (instant)."""
    return [check_python(), check_writable(), check_disk(), check_images()]
