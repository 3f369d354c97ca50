"""Starting the application: fonts, style, the window; and offscreen screenshots."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from lab.ui.theme import BASE_POINT_SIZE

STYLE = """
QLabel#heading { font-size: 15pt; font-weight: 600; margin-top: 4px; }
QLabel#note { color: #444444; }
QLabel#result { font-size: 13pt; }
QPushButton { padding: 5px 12px; }
QPushButton#primary { font-weight: 600; padding: 6px 22px; }
"""


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("ML Lab")
    app.setOrganizationName("ML Lab")
    font = QFont(app.font())
    font.setPointSize(BASE_POINT_SIZE)
    app.setFont(font)
    app.setStyleSheet(STYLE)
    return app


def run_window(
    tab: str | None = None, screenshot: Path | None = None, lesson: str | None = None
) -> int:
    app = make_app()
    from lab.core.runtime import tune_allocator
    from lab.ui.main_window import MainWindow

    tune_allocator()

    window = MainWindow()
    if tab and not window.show_tab(tab):
        names = ", ".join(window.tab_names())
        print(f"There is no tab called '{tab}'. The tabs are: {names}.", file=sys.stderr)
        window.close()
        return 2
    if lesson and not _open_lesson(window, lesson):
        window.close()
        return 2
    window.show()
    if screenshot is None:
        _preload_in_background(window)
    if screenshot is not None:
        status = {"code": 1}

        def grab() -> None:
            ok = window.grab().save(str(screenshot))
            status["code"] = 0 if ok else 1
            if not ok:
                print(f"Could not write the screenshot to {screenshot}.", file=sys.stderr)
            window.close()
            app.quit()

        # Give thumbnails and layouts a moment to settle, then render.
        QTimer.singleShot(1200, grab)
        app.exec()
        return _exit_cleanly(status["code"])
    return _exit_cleanly(app.exec())


def _exit_cleanly(code: int) -> int:
    """Wait briefly for background tasks; if one is stuck in a long step, leave without
    tearing it down (destroying a running thread would crash instead of exiting)."""
    import os

    from lab.ui.worker import wait_for_all_tasks

    if not wait_for_all_tasks(timeout_s=2.0):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _open_lesson(window, key: str) -> bool:
    """Show the Lessons tab at one lesson; say which lessons there are if there is no such one."""
    from lab.lessons import LESSONS

    lessons = getattr(window, "lessons", None)
    if lessons is not None and lessons.open_lesson(key):
        window.show_tab(lessons.title)
        return True
    names = ", ".join(f"{lesson.number} ({lesson.id})" for lesson in LESSONS)
    print(f"There is no lesson '{key}'. The lessons are: {names}.", file=sys.stderr)
    return False


def _preload_in_background(window) -> None:
    """Import the model libraries while the user looks at the window, not when they press Train
    (importing them on the training thread froze the window for up to 0.2 s)."""
    from lab.core.runtime import preload_models
    from lab.ui.worker import TaskRunner

    runner = TaskRunner(window)

    def task(stop):
        preload_models()
        yield None

    QTimer.singleShot(300, lambda: runner.start(task))
    window.preload_runner = runner  # an import cannot be stopped: _exit_cleanly() handles it
