"""Render every tab as a projector shows it: presentation mode at 150 %, 1366 × 768.

python scripts/screenshot_presentation.py                 # /tmp/pres_<tab>.png
python scripts/screenshot_presentation.py --pages         # also each page of a tab's own tabs
python scripts/screenshot_presentation.py --theme dark --scale 1.0 --prefix /tmp/dark_
Uses a temporary data directory, so the user's own images and runs are untouched.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.5)
    parser.add_argument("--theme", default="light", help="light or dark (without presentation)")
    parser.add_argument("--prefix", default="/tmp/pres_")
    parser.add_argument("--size", default="1366x768")
    parser.add_argument("--pages", action="store_true", help="each page of nested tabs too")
    parser.add_argument("--data", type=Path, help="a CLASS/IMAGE folder to import first")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["LAB_DATA_DIR"] = tempfile.mkdtemp(prefix="ml-lab-pres-")

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QTabWidget

    from lab.ui.app import make_app
    from lab.ui.appearance import appearance

    app = make_app()
    if args.data is not None:
        from lab.core import paths
        from lab.core.training import run_to_end
        from lab.core.workspace import Workspace

        run_to_end(Workspace(paths.workspace_dir()).import_tree(args.data))
    from lab.ui.main_window import MainWindow

    window = MainWindow()
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    presentation = args.theme == "high-contrast" or args.scale > 1.0
    appearance().apply(app, theme=args.theme, presentation=presentation, scale=args.scale)
    window.show()

    shots: list[tuple[str, object]] = []  # (file name, a function that shows it)
    for i in range(window.tabs.count()):
        name = slug(window.tabs.tabText(i))
        shots.append((name, lambda i=i: window.tabs.setCurrentIndex(i)))
        if not args.pages:
            continue
        page = window.tabs.widget(i)
        for inner in page.findChildren(QTabWidget):
            for j in range(inner.count()):
                sub = f"{name}_{slug(inner.tabText(j))}"
                shots.append(
                    (
                        sub,
                        lambda i=i, inner=inner, j=j: (
                            window.tabs.setCurrentIndex(i),
                            inner.setCurrentIndex(j),
                        ),
                    )
                )
    written: list[str] = []

    def step(k: int = 0) -> None:
        if k > 0:
            path = f"{args.prefix}{shots[k - 1][0]}.png"
            window.grab().save(path)
            written.append(path)
        if k == len(shots):
            window.close()
            app.quit()
            return
        shots[k][1]()
        QTimer.singleShot(700, lambda: step(k + 1))  # layouts and thumbnails settle

    QTimer.singleShot(1000, step)
    app.exec()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
