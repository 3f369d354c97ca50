"""Which lessons are done and which one was open last, kept across restarts (QSettings)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from lab.core import paths

GROUP = "lessons"


def default_settings() -> QSettings:
    """ML Lab's settings file in its data directory (so LAB_DATA_DIR moves it too)."""
    return QSettings(str(paths.data_dir() / "settings.ini"), QSettings.Format.IniFormat)


class LessonProgress:
    def __init__(self, settings: QSettings | None = None, known: list[str] | None = None) -> None:
        self.settings = settings or default_settings()
        self._known = set(known) if known is not None else None
        self.done: set[str] = {i for i in self._read_list("done") if self._is_known(i)}
        last = str(self.settings.value(f"{GROUP}/last", "") or "")
        self.last: str = last if self._is_known(last) else ""
        self.first_start = not self.settings.contains(f"{GROUP}/started")

    def _is_known(self, lesson_id: str) -> bool:
        return bool(lesson_id) and (self._known is None or lesson_id in self._known)

    def _read_list(self, key: str) -> list[str]:
        value = self.settings.value(f"{GROUP}/{key}", [])
        if isinstance(value, str):  # one item comes back as a plain string
            value = [value] if value else []
        if not isinstance(value, (list, tuple)):
            return []  # a damaged settings file: start from the defaults
        return [str(v) for v in value]

    def mark_started(self) -> None:
        self.settings.setValue(f"{GROUP}/started", True)
        self.settings.sync()

    def set_done(self, lesson_id: str, done: bool = True) -> None:
        if done:
            self.done.add(lesson_id)
        else:
            self.done.discard(lesson_id)
        self.settings.setValue(f"{GROUP}/done", sorted(self.done))
        self.settings.sync()

    def clear(self) -> None:
        self.done.clear()
        self.settings.setValue(f"{GROUP}/done", [])
        self.settings.sync()

    def set_last(self, lesson_id: str) -> None:
        self.last = lesson_id
        self.settings.setValue(f"{GROUP}/last", lesson_id)
        self.settings.sync()
