"""Render the Classifier tab after a real training run (for the README and for reviewing).

python scripts/screenshot_trained.py --data ../shared/data/cats-vs-raccoons --out docs/classifier.png
Uses a temporary data directory, so the user's own images are untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mode", default="head")
    parser.add_argument("--tab", default="Classifier", help="the tab to render once training ends")
    parser.add_argument("--compare", action="store_true", help="compare the three training modes")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["LAB_DATA_DIR"] = tempfile.mkdtemp(prefix="ml-lab-shot-")

    from PySide6.QtCore import QTimer

    from lab.core import paths
    from lab.core.settings import TrainSettings
    from lab.core.training import run_to_end
    from lab.core.workspace import Workspace
    from lab.ui.app import make_app
    from lab.ui.main_window import MainWindow

    run_to_end(Workspace(paths.workspace_dir()).import_tree(args.data))
    app = make_app()
    window = MainWindow()
    window.show()
    tab = window.classifier
    tab.form.set_settings(TrainSettings.for_mode(args.mode))

    def grab() -> None:
        window.show_tab(args.tab)
        window.grab().save(str(args.out))
        window.close()
        app.quit()

    tab.runner.finished.connect(lambda: QTimer.singleShot(1500, grab))
    QTimer.singleShot(500, tab.start_comparison if args.compare else tab.start_training)
    app.exec()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
