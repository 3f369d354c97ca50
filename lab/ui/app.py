"""Starting the application: fonts, style, the window; and offscreen screenshots."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

# A template: $names are colours of the current theme (lab.ui.appearance.Theme) and sizes
# of the current scale; every font-size is multiplied by the scale when it is applied.
STYLE = """
QLabel#heading { font-size: 15pt; font-weight: 600; margin-top: 4px; }
QLabel#note { color: $note_text; }
QLabel#fieldError { color: $error_text; }
QLabel#result { font-size: 13pt; }
QToolTip { color: $tooltip_text; background: $tooltip_base; border: 1px solid $border; }
QPushButton, QToolButton {
    color: $button_text; background: $button; border: 1px solid $border;
    border-radius: $radius; padding: $pad_y $pad_x; }
QPushButton:hover, QToolButton:hover { border-color: $text; }
QPushButton:pressed, QPushButton:checked, QToolButton:pressed, QToolButton:checked {
    background: $alt_base; border-color: $text; }
QPushButton:disabled, QToolButton:disabled { color: $disabled_text; }
QPushButton#primary {
    font-weight: 600; color: $primary_text; background: $primary; border-color: $primary;
    padding: $primary_pad_y $primary_pad_x; min-height: $primary_height; }
QPushButton#primary:disabled { color: $disabled_text; background: $button; border-color: $border; }
QPushButton:focus, QToolButton:focus { border: 2px solid $focus; padding: $fpad_y $fpad_x; }
QPushButton#primary:focus {
    border: 2px solid $focus; padding: $primary_fpad_y $primary_fpad_x; }
QLineEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus, QTextEdit:focus,
QPlainTextEdit:focus, QAbstractItemView:focus { border: 2px solid $focus; }
QCheckBox, QRadioButton { border: 2px solid transparent; border-radius: 3px; padding: 1px; }
QCheckBox:focus, QRadioButton:focus { border: 2px solid $focus; }
QTabBar::tab:focus { border: 2px solid $focus; }
QSlider:focus { border: 2px solid $focus; border-radius: 3px; }
$indicator_rule
"""


def make_app(argv: list[str] | None = None) -> QApplication:
    """The application with ML Lab's look: the system's light or dark theme at 100 %."""
    from lab.ui.appearance import appearance

    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("ML Lab")
    app.setOrganizationName("ML Lab")
    appearance().apply(app, theme="system")
    return app


def run_window(
    tab: str | None = None, screenshot: Path | None = None, lesson: str | None = None
) -> int:
    """Show the window at once with the Lessons tab; the tabs that need PyTorch are built
    as soon as it has loaded in the background (LAB_EAGER_START=1: all before showing)."""
    import os

    app = make_app()
    from lab.core.runtime import tune_allocator
    from lab.ui.main_window import MainWindow

    tune_allocator()
    trace = os.environ.get("LAB_STARTUP_TRACE") == "1"
    window = MainWindow(lazy=os.environ.get("LAB_EAGER_START") != "1")
    if window.prefs_warnings:
        window.activity_label.setText(window.prefs_warnings[0])
    if tab and not window.show_tab(tab):
        names = ", ".join(window.tab_names())
        print(f"There is no tab called '{tab}'. The tabs are: {names}.", file=sys.stderr)
        window.close()
        return 2
    if lesson and not _open_lesson(window, lesson):
        window.close()
        return 2
    if window.prefs.presentation or window.prefs.theme != "system":
        window.apply_look()
    if trace:
        _trace_startup(window)
    if window.prefs.fullscreen and screenshot is None:
        window.fullscreen_action.setChecked(True)
        window.showFullScreen()
    else:
        window.show()
    preload = screenshot is None
    window.ready.connect(lambda: _when_ready(window, preload))
    window.finish_loading()
    if window.is_ready:
        _when_ready(window, preload)
    if screenshot is not None:
        status = {"code": 1}

        def grab() -> None:
            ok = window.grab().save(str(screenshot))
            status["code"] = 0 if ok else 1
            if not ok:
                print(f"Could not write the screenshot to {screenshot}.", file=sys.stderr)
            window.close()
            app.quit()

        # Once every tab is built, give thumbnails and layouts a moment to settle, then render.
        if window.is_ready:
            QTimer.singleShot(1200, grab)
        else:
            window.ready.connect(lambda: QTimer.singleShot(1200, grab))
        app.exec()
        return _exit_cleanly(status["code"])
    if not window.prefs.welcome_done:
        QTimer.singleShot(0, window.show_welcome)
    _close_on_ctrl_c(window)
    return _exit_cleanly(app.exec())


def _close_on_ctrl_c(window) -> None:
    """Ctrl+C in the terminal closes the window as the close button does (work is stopped,
    files are safe). Python only sees the signal when it runs, so a timer wakes it."""
    import signal

    signal.signal(signal.SIGINT, lambda *_: window.close())
    window._signal_tick = QTimer(window)
    window._signal_tick.timeout.connect(lambda: None)
    window._signal_tick.start(300)


def _when_ready(window, preload: bool) -> None:
    from lab.ui.main_window import _apply_threads

    _apply_threads(window.prefs)
    if preload and not getattr(window, "_preloading", False):
        window._preloading = True
        _preload_in_background(window)


def _trace_startup(window) -> None:
    """For benchmarks/startup.py: print when the window has first painted and when every tab
    is ready (wall-clock seconds, compared with the time the benchmark started us)."""
    import time

    from PySide6.QtCore import QEvent, QObject

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
            if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
                self.seen = True
                QTimer.singleShot(0, lambda: print(f"first_window {time.time():.4f}", flush=True))
            return False

    window._first_paint = FirstPaint(window)
    window.installEventFilter(window._first_paint)

    def ready() -> None:
        print(f"ready {time.time():.4f}", flush=True)

    if window.is_ready:
        QTimer.singleShot(0, ready)
    else:
        window.ready.connect(ready)


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
    runner.unstoppable = True

    def task(stop):
        preload_models()
        yield None

    QTimer.singleShot(300, lambda: runner.start(task))
    window.preload_runner = runner  # an import cannot be stopped: _exit_cleanly() handles it
