"""The user's preferences (Settings dialog): device, CPU threads, data folder, look.

Kept in a small INI file, written atomically. A damaged or hand-edited file never stops the
lab from starting: bad values fall back to their defaults and `load()` says which.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from lab.core.files import atomic_write_bytes

DEVICES = ("auto", "cpu", "gpu")
THEMES = ("system", "light", "dark")
SCALES = (1.25, 1.5, 2.0)
FILE_NAME = "preferences.ini"
_SECTION = "ml-lab"


class PrefsError(ValueError):
    """Settings the user cannot keep; the message names each problem."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems.values()))


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Preferences:
    device: str = "auto"  # auto: a GPU when there is one, else the CPU
    threads: int = 0  # CPU threads for training; 0: every core but one (the window's)
    data_dir: str = ""  # "" : the usual place for this system
    theme: str = "system"  # follows the system's light or dark setting
    presentation: bool = False
    scale: float = 1.5  # text and plot size in presentation mode
    fullscreen: bool = False
    welcome_done: bool = False

    def problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if self.device not in DEVICES:
            found["device"] = f"Device must be one of: {', '.join(DEVICES)}."
        cores = cpu_count()
        if not isinstance(self.threads, int) or not 0 <= self.threads <= cores:
            found["threads"] = (
                f"CPU threads must be between 1 and {cores} (this computer has {cores} cores), "
                "or Automatic."
            )
        if self.theme not in THEMES:
            found["theme"] = f"Theme must be one of: {', '.join(THEMES)}."
        if self.scale not in SCALES:
            shown = ", ".join(f"{round(s * 100)}%" for s in SCALES)
            found["scale"] = f"Presentation size must be one of: {shown}."
        if self.data_dir:
            problem = _data_dir_problem(Path(self.data_dir).expanduser())
            if problem:
                found["data_dir"] = problem
        return found

    def check(self) -> Preferences:
        found = self.problems()
        if found:
            raise PrefsError(found)
        return self

    def training_threads(self) -> int:
        """Threads for training: the chosen number, or all cores but one (at least one)."""
        return self.threads or max(1, cpu_count() - 1)


def _data_dir_problem(path: Path) -> str | None:
    if path.exists() and not path.is_dir():
        return f"The data folder {path} is a file, not a folder."
    probe = path
    while not probe.exists():  # the nearest folder that exists must take new files
        if probe.parent == probe:
            return f"The data folder {path} cannot be created."
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"ML Lab cannot write to {probe}: choose a folder you may change."
    return None


def config_dir() -> Path:
    """LAB_CONFIG_DIR; else LAB_DATA_DIR when set (tests, portable installs); else the
    system's place for settings (on Linux ~/.config/ml-lab)."""
    for name in ("LAB_CONFIG_DIR", "LAB_DATA_DIR"):
        value = os.environ.get(name)
        if value:
            return Path(value)
    from platformdirs import user_config_dir

    return Path(user_config_dir("ml-lab", appauthor=False))


def config_path() -> Path:
    return config_dir() / FILE_NAME


def load(path: Path | None = None) -> tuple[Preferences, list[str]]:
    """The saved preferences and a list of plain-English warnings about what was reset."""
    path = path or config_path()
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Preferences(), []
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        return Preferences(), [
            f"The settings file {path} could not be read ({exc}); defaults used."
        ]
    if not parser.has_section(_SECTION):
        return Preferences(), []
    values: dict[str, object] = {}
    warnings: list[str] = []
    section = parser[_SECTION]
    defaults = Preferences()
    for field in fields(Preferences):
        if field.name not in section:
            continue
        raw = section[field.name]
        default = getattr(defaults, field.name)
        try:
            if isinstance(default, bool):
                value: object = section.getboolean(field.name)
            elif isinstance(default, int):
                value = int(raw)
            elif isinstance(default, float):
                value = float(raw)
            else:
                value = raw
        except ValueError:
            warnings.append(
                f"The setting {field.name} = {raw!r} is not valid; the default is used."
            )
            continue
        values[field.name] = value
    prefs = replace(defaults, **values)
    for name, problem in prefs.problems().items():
        warnings.append(f"{problem} The default is used.")
        prefs = replace(prefs, **{name: getattr(defaults, name)})
    return prefs, warnings


def save(prefs: Preferences, path: Path | None = None) -> None:
    """Write the preferences (checked first: PrefsError names what is wrong)."""
    prefs.check()
    path = path or config_path()
    parser = configparser.ConfigParser(interpolation=None)
    parser[_SECTION] = {k: str(v) for k, v in asdict(prefs).items()}
    lines = ["# ML Lab settings (Settings dialog). Bad values fall back to defaults.\n"]
    import io

    buf = io.StringIO()
    parser.write(buf)
    atomic_write_bytes(path, ("".join(lines) + buf.getvalue()).encode("utf-8"))


_cache: dict[tuple, Preferences] = {}


def current() -> Preferences:
    """The saved preferences, read again only when the file changes (this is asked often)."""
    path = config_path()
    try:
        st = path.stat()
        stamp: tuple = (st.st_mtime_ns, st.st_ino, st.st_size)  # each save is a new file
    except OSError:
        stamp = ()
    key = (str(path), *stamp)
    if key not in _cache:
        _cache.clear()
        _cache[key] = load(path)[0]
    return _cache[key]
