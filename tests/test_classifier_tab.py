"""The window and the Classifier tab, driven as a user would (offscreen)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import make_dataset, make_image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from lab.core.features import FeatureCache
from lab.core.settings import TrainSettings
from lab.core.workspace import Workspace
from lab.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(workspace=Workspace(tmp_path / "ws"), cache=FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(w)
    w.show()
    w.show_tab("Classifier")
    yield w
    w.close()


def _wait_idle(qtbot, runner, timeout=20000):
    if runner.running:
        with qtbot.waitSignal(runner.finished, timeout=timeout):
            pass


def _import_tiny(qtbot, window, tmp_path, per_class=12):
    root = make_dataset(tmp_path / "src", per_class=per_class)
    panel = window.classifier.data
    panel.import_tree(root)
    _wait_idle(qtbot, panel.runner)
    return panel


def _drop(widget, paths: list[Path], pos: QPoint) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(pos),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)


def test_window_opens_with_a_working_classifier_tab(window):
    assert window.windowTitle() == "ML Lab"
    assert "Classifier" in window.tab_names()
    tab = window.classifier
    assert not tab.train_button.isEnabled(), "nothing to train on yet"
    assert "two classes" in tab.why_not.text()
    assert window.device_label.text().startswith("Device: CPU")


def test_create_rename_delete_classes_and_counts(window, qtbot, tmp_path):
    panel = window.classifier.data
    assert panel.new_class("cat")
    assert not panel.new_class("Cat"), "names differ by more than case"
    assert "already" in panel.notice.label.text()
    assert not panel.new_class("a/b")
    assert panel.new_class("racoon")
    assert panel.rename_class("racoon", "raccoon")
    assert panel.workspace.classes() == ["cat", "raccoon"]
    assert [panel.class_list.item(i).text() for i in range(2)] == [
        "cat  —  0 images",
        "raccoon  —  0 images",
    ]
    assert panel.delete_class("raccoon")
    assert panel.workspace.classes() == ["cat"]


def test_dropping_files_and_folders_onto_a_class_imports_them(window, qtbot, tmp_path):
    panel = window.classifier.data
    panel.new_class("cat")
    panel.new_class("raccoon")
    files = [make_image(tmp_path / f"c{i}.png", 0, seed=i) for i in range(3)]
    folder = tmp_path / "more"
    for i in range(4):
        make_image(folder / f"r{i}.png", 1, seed=50 + i)
    (folder / "notes.txt").write_text("not an image")
    # Drop the three files on "cat", the folder on "raccoon".
    cat_rect = panel.class_list.visualItemRect(panel.class_list.item(0))
    _drop(panel.class_list, files, cat_rect.center())
    _wait_idle(qtbot, panel.runner)
    racc_rect = panel.class_list.visualItemRect(panel.class_list.item(1))
    _drop(panel.class_list, [folder], racc_rect.center())
    _wait_idle(qtbot, panel.runner)
    assert panel.counts() == {"cat": 3, "raccoon": 4}
    assert "notes.txt" in panel.notice.label.text(), "the non-image is named"
    assert panel.class_list.item(1).text() == "raccoon  —  4 images"
    # Thumbnails of the selected class load in the background.
    panel.class_list.setCurrentRow(1)
    model = panel.grid.thumbnails
    assert len(model.paths) == 4
    qtbot.waitUntil(lambda: all(model.is_loaded(p) for p in model.paths), timeout=5000)


def test_invalid_settings_are_refused_in_the_form(window, qtbot, tmp_path):
    _import_tiny(qtbot, window, tmp_path)
    tab = window.classifier
    assert tab.train_button.isEnabled()
    tab.form.epochs.setValue(0)
    assert tab.form.errors["epochs"].isVisible() or tab.form.errors["epochs"].text()
    assert "between 1" in tab.form.errors["epochs"].text()
    assert not tab.train_button.isEnabled()
    tab.form.epochs.setValue(3)
    tab.form.learning_rate.setText("fast")
    assert "number" in tab.form.errors["learning_rate"].text()
    assert not tab.train_button.isEnabled()
    assert not tab.start_training()
    tab.form.learning_rate.setText("0.01")
    assert tab.train_button.isEnabled()


def _scratch(tab, epochs=200):
    tab.form.set_settings(
        TrainSettings.for_mode("scratch", epochs=epochs, image_size=32, batch_size=8)
    )


def test_training_runs_in_the_background_with_live_curves(window, qtbot, tmp_path):
    _import_tiny(qtbot, window, tmp_path)
    tab = window.classifier
    _scratch(tab, epochs=6)
    kinds = []
    tab.runner.progress.connect(lambda ev: kinds.append(ev["kind"]))
    with qtbot.waitSignal(tab.runner.result, timeout=60000) as blocker:
        assert tab.start_training()
        assert tab.runner.running and not tab.train_button.isEnabled()
    _wait_idle(qtbot, tab.runner)
    result = blocker.args[0]
    assert kinds.count("epoch") == 6 and "step" in kinds
    xs, ys = tab.view.loss_plot.data("training (each batch)")
    assert len(ys) == len(result.history["loss"]) and ys == pytest.approx(result.history["loss"])
    _, val_acc = tab.view.acc_plot.data("validation")
    assert val_acc == pytest.approx(result.history["val_accuracy"])
    assert "Validation accuracy" in tab.view.result.text()
    assert tab.train_button.isEnabled() and tab.save_button.isEnabled()
    assert tab.save_model(tmp_path / "m.mlmodel")
    assert (tmp_path / "m.mlmodel").stat().st_size > 0


def test_pause_resume_and_stop_within_one_second(window, qtbot, tmp_path):
    _import_tiny(qtbot, window, tmp_path)
    tab = window.classifier
    _scratch(tab)
    steps = []
    tab.runner.progress.connect(lambda ev: ev["kind"] == "step" and steps.append(ev["step"]))
    tab.start_training()
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=20000)
    tab.toggle_pause()
    assert tab.pause_button.text() == "Resume"
    qtbot.wait(300)  # let an in-flight step land
    frozen = len(steps)
    qtbot.wait(500)
    assert len(steps) == frozen, "no steps while paused"
    tab.toggle_pause()
    qtbot.waitUntil(lambda: len(steps) > frozen, timeout=5000)
    t0 = time.monotonic()
    with qtbot.waitSignal(tab.runner.finished, timeout=1500):
        tab.stop_training()
    assert time.monotonic() - t0 < 1.0
    assert not tab.runner.running
    assert tab.last_result is not None and tab.last_result.stopped
    assert "Stopped" in tab.view.result.text()


def test_closing_the_window_mid_training_stops_cleanly(qtbot, tmp_path, capfd):
    w = MainWindow(workspace=Workspace(tmp_path / "ws"), cache=FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(w)
    w.show()
    _import_tiny(qtbot, w, tmp_path)
    tab = w.classifier
    tab.form.set_settings(TrainSettings.for_mode("head", epochs=50, image_size=64))
    started = []
    tab.runner.progress.connect(lambda ev: started.append(ev["kind"]))
    tab.start_training()
    qtbot.waitUntil(lambda: "features" in started, timeout=30000)
    t0 = time.monotonic()
    w.close()
    assert time.monotonic() - t0 < 2.0
    assert not tab.runner.running
    err = capfd.readouterr().err
    assert "Destroyed while thread" not in err


def test_screenshot_command_writes_a_png(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "shot.png"
    proc = subprocess.run(
        [sys.executable, "-m", "lab", "--screenshot", str(out), "--tab", "Classifier"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(out) as img:
        assert img.width >= 800 and img.height >= 500
    bad = subprocess.run(
        [sys.executable, "-m", "lab", "--screenshot", str(out), "--tab", "Nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "Classifier" in bad.stderr
