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


def run_window(tab: str | None = None, screenshot: Path | None = None) -> int:
    app = make_app()
    from lab.ui.main_window import MainWindow

    window = MainWindow()
    if tab and not window.show_tab(tab):
        names = ", ".join(window.tab_names())
        print(f"There is no tab called '{tab}'. The tabs are: {names}.", file=sys.stderr)
        window.close()
        return 2
    window.show()
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
        return status["code"]
    return app.exec()
