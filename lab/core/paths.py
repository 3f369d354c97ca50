"""Where ML Lab keeps the user's data, models and caches."""

from __future__ import annotations

import functools
import os
from pathlib import Path

APP_NAME = "ml-lab"


def data_dir() -> Path:
    """The user's data directory: LAB_DATA_DIR (tests, portable installs), else the folder
    chosen in Settings, else the usual place for this system."""
    override = os.environ.get("LAB_DATA_DIR")
    if override:
        path = Path(override)
    elif chosen := _chosen_data_dir():
        path = chosen
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    path = data_dir() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def workspace_dir() -> Path:
    """The classifier's image folder, laid out as CLASS/IMAGE."""
    path = data_dir() / "images"
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def assets_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "assets"


@functools.cache
def _chosen_data_dir() -> Path | None:
    """Read once per run: a folder changed in Settings is used from the next start, so one
    session never splits its work between two folders."""
    from lab.core import prefs

    value = prefs.current().data_dir
    return Path(value).expanduser() if value else None
