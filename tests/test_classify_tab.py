"""Classify, Classify a folder, Evaluate and the model menu, driven as a user would (offscreen)."""

from __future__ import annotations

import csv
import io
import time

import numpy as np
import pytest
import torch
from conftest import make_dataset, make_image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent, QImage
from PySide6.QtWidgets import QApplication
from test_inference import tiny_classifier

from lab.core.evaluation import from_training
from lab.core.features import FeatureCache
from lab.core.inference import Perturbation, classify_picture, verdict
from lab.core.settings import TrainSettings
from lab.core.training import run_to_end
from lab.core.workspace import Workspace
from lab.ui.classifier import ClassifierTab
from lab.ui.classifier.batch_panel import RIGHT, TRUE
from lab.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(workspace=Workspace(tmp_path / "ws"), cache=FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


@pytest.fixture
def tab(qtbot, tmp_path):
    """The Classifier tab alone: quicker to build than the whole window."""
    t = ClassifierTab(Workspace(tmp_path / "ws"), FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(t)
    t.resize(1300, 850)
    t.show()
    yield t
    t.shutdown()


def _wait_idle(qtbot, runner, timeout=20000):
    if runner.running:
        with qtbot.waitSignal(runner.finished, timeout=timeout):
            pass


def _drop(widget, mime: QMimeData) -> None:
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)


def _file_mime(paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def _settle(qtbot, panel):
    """Wait until dropped files are classified and the shown picture is recomputed."""
    _wait_idle(qtbot, panel.drop_runner)
    qtbot.waitUntil(lambda: not panel._live_timer.isActive(), timeout=5000)
    _wait_idle(qtbot, panel.live_runner)


def _favour_class_zero(model):
    with torch.no_grad():
        model.net.head.weight[0] = model.net.head.weight[0].abs()
    return model


# -- Classify -----------------------------------------------------------------------------
def test_dropped_pictures_show_probabilities_and_the_answer(tab, qtbot, tmp_path):
    panel = tab.classify
    tab.use_model(tiny_classifier(), "made for the test")
    files = [
        make_image(tmp_path / "a cat photo.png", 0),
        make_image(tmp_path / "räccoon.png", 1, seed=3),
    ]
    broken = tmp_path / "broken.jpg"
    broken.write_text("not a picture")
    _drop(panel.drop_zone, _file_mime([*files, broken]))
    _settle(qtbot, panel)
    assert [it.path.name for it in panel.items] == ["a cat photo.png", "räccoon.png", "broken.jpg"]
    assert panel.current is panel.items[0], "the first dropped picture is shown"
    shown = panel.bars.values()
    assert [c for c, _ in shown] == sorted(tab.model.classes, key=lambda c: -dict(shown)[c])
    assert sum(p for _, p in shown) == pytest.approx(1, abs=1e-5)
    assert dict(shown) == pytest.approx(dict(zip(tab.model.classes, panel.current.probs)))
    assert panel.answer.text() == verdict(panel.current.probs, tab.model.classes).text
    assert panel.recent.item(2).text() == "✗ broken.jpg"
    assert "ms from file to answer" in panel.timing.text()
    assert "ms each" in panel.speed_note.text()
    panel.recent.setCurrentRow(2)
    assert panel.answer.text() == "Could not read this picture"
    assert "not an image" in panel.timing.text()
    _settle(qtbot, panel)


def test_not_sure_threshold_changes_the_answer(tab, qtbot, tmp_path):
    panel = tab.classify
    tab.use_model(tiny_classifier(), "made for the test")
    tab.classify_paths([make_image(tmp_path / "x.png", 0)])
    _settle(qtbot, panel)
    top = float(max(panel.current.probs))
    assert top < 0.98
    panel.threshold.setValue(int(top * 100) + 1)
    assert panel.answer.text() == "Not sure — this may be neither a cat nor a raccoon"
    assert "always picks one of its classes" in panel.why.text()
    panel.threshold.setValue(int(top * 100))
    best = tab.model.classes[int(np.argmax(panel.current.probs))]
    assert panel.answer.text() == best


def test_sliders_change_what_the_model_sees_live_and_throttled(tab, qtbot, tmp_path):
    panel = tab.classify
    tab.use_model(tiny_classifier(), "made for the test")
    tab.classify_paths([make_image(tmp_path / "x.png", 0, size=64)])
    _settle(qtbot, panel)
    before = panel.last_live.model_input.copy()
    starts = []
    panel.live_runner.started.connect(lambda: starts.append(1))
    t0 = time.monotonic()
    for angle in range(0, 91, 3):  # a drag: 31 positions in a moment
        panel.sliders["rotation"].setValue(angle)
    assert time.monotonic() - t0 < 0.5, "moving a slider never waits for the model"
    _settle(qtbot, panel)
    assert len(starts) <= 3, "throttled: not one computation per position"
    after = panel.last_live.model_input
    assert np.abs(after.astype(int) - before).mean() > 2
    assert "Rotation: +90°" in panel.slider_labels["rotation"].text()
    from PIL import Image

    expected = run_to_end(
        classify_picture(tab.model, Image.fromarray(panel.current.picture), Perturbation(90))
    )
    assert np.array_equal(after, expected.model_input), "the result is for the last position"
    assert dict(panel.bars.values()) == pytest.approx(
        dict(zip(tab.model.classes, expected.probabilities)), abs=1e-5
    )
    panel.reset_sliders()
    _settle(qtbot, panel)
    assert np.array_equal(panel.last_live.model_input, before)


def test_grad_cam_overlay_has_the_pictures_aspect(tab, qtbot, tmp_path):
    panel = tab.classify
    tab.use_model(_favour_class_zero(tiny_classifier(size=96)), "made for the test")
    wide = tmp_path / "wide.png"
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 80, (60, 150, 3), dtype=np.uint8)
    arr[15:45, 60:90] = [240, 210, 40]
    from PIL import Image

    Image.fromarray(arr).save(wide)
    tab.classify_paths([wide])
    _settle(qtbot, panel)
    assert panel.last_live.saliency is None, "no Grad-CAM until asked"
    panel.cam_class.setCurrentIndex(panel.cam_class.findData(0))
    panel.cam_check.setChecked(True)
    _settle(qtbot, panel)
    cam = panel.last_live.saliency
    assert cam is not None and cam.class_index == 0
    assert cam.heat.shape == (60, 150) and cam.box == (45, 0, 105, 60)
    assert cam.heat[:, 45:105].std() > 0.02, "the map is not constant"
    assert panel.picture.image.width() == 150 and panel.picture.image.height() == 60
    assert "cat" in panel.cam_note.text()
    before = QColor(panel.picture.image.pixel(75, 30))
    panel.opacity.setValue(0)  # no recomputation: only the blend changes
    assert not panel._live_timer.isActive()
    plain = QColor(panel.picture.image.pixel(75, 30))
    assert plain.getRgb()[:3] == tuple(int(v) for v in arr[30, 75])
    assert before != plain


def test_window_wide_drop_pasted_image_and_camera_button(window, qtbot, tmp_path):
    tab = window.classifier
    panel = tab.classify
    window.tabs.setCurrentIndex(window.tabs.count() - 1)
    tab.use_model(tiny_classifier(), "made for the test")
    _drop(window, _file_mime([make_image(tmp_path / "w.png", 1)]))
    assert window.tabs.currentWidget() is tab and tab.pages.currentWidget() is panel
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("#d0a020"))
    mime = QMimeData()
    mime.setImageData(image)
    _drop(window, mime)  # picture data, as from a web browser
    QApplication.clipboard().setImage(image)
    panel.paste()
    _settle(qtbot, panel)
    assert len(panel.items) == 3
    assert panel.items[1].path.suffix == ".png" and panel.items[1].path.exists()
    assert all(it.probs is not None for it in panel.items)
    assert panel.items[2].picture.shape == (30, 40, 3)
    assert not panel.camera_button.isEnabled()
    assert "camera" in panel.camera_button.toolTip().lower()


def test_without_a_model_the_pictures_wait_for_one(tab, qtbot, tmp_path):
    panel = tab.classify
    panel.add_paths([make_image(tmp_path / "x.png", 0)])
    assert "no model yet" in panel.notice.label.text()
    assert panel.items[0].probs is None and not panel.drop_runner.running
    tab.use_model(tiny_classifier(), "made for the test")
    _settle(qtbot, panel)
    assert panel.items[0].probs is not None


# -- Classify a folder ----------------------------------------------------------------------
def test_folder_table_truth_filters_and_csv(tab, qtbot, tmp_path):
    batch = tab.batch
    tab.use_model(tiny_classifier(), "made for the test")
    root = make_dataset(tmp_path / "folder", per_class=5)
    (root / "cat" / "empty.jpg").write_bytes(b"")
    with qtbot.waitSignal(batch.runner.finished, timeout=20000):
        tab.classify_folder([root])
    assert tab.pages.currentWidget() is batch
    model = batch.model
    assert model.rowCount() == 11
    texts = {model.data(model.index(r, 1)): r for r in range(11)}
    right_col = [model.data(model.index(r, RIGHT)) for r in range(11)]
    assert right_col.count("") == 1 and all(t in ("✓ right", "✗ wrong") for t in right_col if t)
    wrong = sum(t == "✗ wrong" for t in right_col)
    assert model.data(model.index(texts["empty.jpg"], 6)) == "the file is empty (0 bytes)"
    assert f"Right: {10 - wrong} of 10" in batch.summary_label.text()
    assert "pictures per second" in batch.summary_label.text()
    batch.only_mistakes.setChecked(True)
    assert batch.proxy.rowCount() == wrong + 1
    batch.only_mistakes.setChecked(False)
    batch.filter_column.setCurrentIndex(batch.filter_column.findData(TRUE))
    batch.filter_text.setText("raccoon")
    assert batch.proxy.rowCount() == 5
    batch.filter_text.setText("")
    batch.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    confidences = [batch.proxy.index(r, 3).data(Qt.ItemDataRole.UserRole + 1) for r in range(11)]
    assert confidences == sorted(confidences, reverse=True)
    out = tmp_path / "results.csv"
    assert batch.export_csv(out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 11
    assert sum(r["correct"] == "no" for r in rows) == wrong
    assert {r["true class"] for r in rows} == {"cat", "raccoon"}
    assert "pictures/s" in batch.speed_note.text()


def test_cancelling_a_folder_stops_within_a_second(tab, qtbot, tmp_path):
    batch = tab.batch
    tab.use_model(tiny_classifier(size=128), "made for the test")
    root = make_dataset(tmp_path / "many", per_class=150, size=40)
    batch.start([root])
    qtbot.waitUntil(lambda: batch.model.rowCount() > 0, timeout=20000)
    t0 = time.monotonic()
    with qtbot.waitSignal(batch.runner.finished, timeout=2000):
        batch.cancel_button.click()
    assert time.monotonic() - t0 < 1.0
    assert batch.summary is not None and batch.summary.stopped
    assert batch.model.rowCount() < 300
    assert batch.summary_label.text().startswith("Stopped after")


def test_a_big_dropped_folder_goes_to_the_folder_page(window, qtbot, tmp_path):
    tab = window.classifier
    tab.use_model(tiny_classifier(), "made for the test")
    root = make_dataset(tmp_path / "big", per_class=31, size=24)
    with qtbot.waitSignal(tab.batch.runner.finished, timeout=20000):
        _drop(window, _file_mime([root]))
    assert tab.pages.currentWidget() is tab.batch
    assert tab.batch.model.rowCount() == 62 and not tab.classify.items


# -- Evaluate -------------------------------------------------------------------------------
def _train_tiny(qtbot, tab, tmp_path):
    tab.data.import_tree(make_dataset(tmp_path / "src", per_class=8))
    _wait_idle(qtbot, tab.data.runner)
    tab.form.set_settings(
        TrainSettings.for_mode("scratch", epochs=3, image_size=32, batch_size=8, val_share=0.25)
    )
    with qtbot.waitSignal(tab.runner.result, timeout=60000) as blocker:
        assert tab.start_training()
    _wait_idle(qtbot, tab.runner)
    return blocker.args[0]


def test_evaluate_matrix_hardest_relabel_and_remove(tab, qtbot, tmp_path):
    result = _train_tiny(qtbot, tab, tmp_path)
    panel = tab.evaluate
    assert tab.model is result.classifier and "trained just now" in tab.model_label.text()
    ev = from_training(result)
    m = ev.matrix
    assert m.sum() == 4
    for t in range(2):
        for p in range(2):
            assert panel.matrix.item(t, p).text().split("\n")[0] == str(m[t, p])
    assert f"({int(np.trace(m))} of 4 images right)" in panel.overall.text()
    panel.matrix.cellClicked.emit(1, 1)
    assert [str(p) for p in panel.cell_grid.thumbnails.paths] == [
        ev.paths[i] for i in ev.cell(1, 1)
    ]
    assert panel.hard.rowCount() == 4
    worst = ev.hardest(1)[0]
    assert panel.hard.item(0, 1).text() == ev.paths[worst].split("/")[-1]
    # Relabel the hardest image to the other class: the file moves, the data panel follows.
    panel.hard.selectRow(0)
    old = ev.paths[worst]
    other = ev.classes[1 - ev.labels[worst]]
    counts = tab.data.counts()
    assert panel.relabel_selected(other)
    assert not __import__("os").path.exists(old)
    assert panel.evaluation.paths[worst].split("/")[-2] == other
    assert panel.evaluation.labels[worst] == 1 - ev.labels[worst]
    after = tab.data.counts()
    assert after[other] == counts[other] + 1 and sum(after.values()) == sum(counts.values())
    panel.hard.selectRow(0)
    assert panel.remove_selected()
    assert sum(tab.data.counts().values()) == sum(counts.values()) - 1
    assert panel.hard.rowCount() == 3 and panel.evaluation.matrix.sum() == 3


# -- Load, save, export ---------------------------------------------------------------------
def test_loading_models_good_bad_and_for_other_classes(window, qtbot, tmp_path):
    tab = window.classifier
    tab.data.import_tree(make_dataset(tmp_path / "src", per_class=3))
    _wait_idle(qtbot, tab.data.runner)
    assert not window.save_action.isEnabled() and not window.export_onnx_action.isEnabled()
    other = tiny_classifier(classes=("apple", "pear")).save(tmp_path / "fruit.mlmodel")
    with qtbot.waitSignal(tab.model_runner.finished, timeout=10000):
        tab.load_model(other)
    assert tab.model.classes == ["apple", "pear"]
    assert window.save_action.isEnabled() and window.export_onnx_action.isEnabled()
    assert tab.model_notice.level == "warning"
    assert "other classes (apple, pear)" in tab.model_notice.text
    assert "classify pictures" in tab.model_notice.text
    assert panel_hidden(tab.evaluate.check_button)
    kept = tab.model
    bad = tmp_path / "bad.mlmodel"
    bad.write_bytes(b"PK\x03\x04 not really a model")
    with qtbot.waitSignal(tab.model_runner.finished, timeout=10000):
        tab.load_model(bad)
    assert tab.model is kept, "a failed load leaves the model in place"
    assert tab.model_notice.level == "error"
    assert "bad.mlmodel" in tab.model_notice.text and "still in use" in tab.model_notice.text
    fits = tiny_classifier().save(tmp_path / "cats.mlmodel")
    with qtbot.waitSignal(tab.model_runner.finished, timeout=10000):
        tab.load_model(fits)
    assert tab.model_notice.level == "info" and "loaded from cats.mlmodel" in tab.model_label.text()
    assert not panel_hidden(tab.evaluate.check_button)
    with qtbot.waitSignal(tab.evaluate.runner.finished, timeout=20000):
        assert tab.evaluate.check_on_workspace()
    assert tab.evaluate.evaluation.matrix.sum() == 6
    assert "All your images" in tab.evaluate.source.text()


def panel_hidden(widget) -> bool:
    return widget.isHidden()


def test_save_and_export(tab, qtbot, tmp_path):
    tab.use_model(tiny_classifier(), "made for the test")
    assert tab.save_model(tmp_path / "m.mlmodel")
    assert "Saved the model" in tab.model_notice.text
    with qtbot.waitSignal(tab.export_runner.finished, timeout=30000):
        assert tab.export_model(tmp_path / "m.onnx", "onnx")
    assert "Checked with onnxruntime" in tab.model_notice.text
    assert (tmp_path / "m.onnx").stat().st_size > 0
    unwritable = tmp_path / "file-not-folder"
    unwritable.write_text("x")
    assert not tab.save_model(unwritable / "m.mlmodel")
    assert "Could not save the model" in tab.model_notice.text
