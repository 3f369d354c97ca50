"""The Curves tab and run recording, driven offscreen."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import make_dataset
from PySide6.QtCore import Qt

from lab.core.features import FeatureCache
from lab.core.runs import RunRecord, RunStore, ema_smooth
from lab.core.settings import TrainSettings
from lab.core.training import run_to_end
from lab.core.workspace import Workspace
from lab.ui.curves import CurvesTab
from lab.ui.main_window import MainWindow
from lab.ui.runs_model import RunsModel


def _fake_run(model: RunsModel, name: str, scale: float) -> RunRecord:
    recorder = model.start_run(name, "classifier", {"mode": "head"})
    for step in range(1, 41):
        recorder.add({"kind": "step", "step": step, "epoch": step / 10, "loss": scale / step})
        if step % 10 == 0:
            e = step // 10
            recorder.add(
                {
                    "kind": "epoch",
                    "epoch": e,
                    "train_loss": 1 / e,
                    "train_accuracy": 0.9,
                    "val_loss": [0.5, 0.4, 0.45, 0.5][e - 1],
                    "val_accuracy": 0.8,
                }
            )
    recorder.finish("finished", {"val_accuracy": 0.8})
    model.save(recorder.record.id)
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    # Changes reach the plot on its next frame (~33 ms); wait for it as a user would.
    loop = QEventLoop()
    QTimer.singleShot(60, loop.quit)
    loop.exec()
    assert QCoreApplication.instance() is not None
    return recorder.record


@pytest.fixture
def curves(qtbot, tmp_path):
    model = RunsModel(RunStore(tmp_path / "runs"))
    tab = CurvesTab(model)
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    return tab


def test_two_runs_overlay_as_two_curves_with_their_data(curves, qtbot):
    a = _fake_run(curves.runs, "small lr", 1.0)
    b = _fake_run(curves.runs, "big lr", 3.0)
    curves.smoothing.setValue(0)
    assert curves.table.rowCount() == 2
    assert set(curves.plot.series) == {"small lr", "big lr"}
    for run in (a, b):
        xs, ys = curves.plot.data(run.name)
        assert xs == pytest.approx(run.metrics["train_loss"].column("step"))
        assert ys == pytest.approx(run.metrics["train_loss"].column("value"))
    # Choosing another metric and x axis redraws from the same records.
    curves.metric_box.setCurrentIndex(curves.metric_box.findData("val_loss"))
    curves.x_axis_box.setCurrentIndex(curves.x_axis_box.findData("epoch"))
    xs, ys = curves.plot.data("big lr")
    assert xs == [1, 2, 3, 4] and ys == pytest.approx([0.5, 0.4, 0.45, 0.5])


def test_smoothing_slider_draws_the_bias_corrected_ema(curves, qtbot):
    run = _fake_run(curves.runs, "r", 1.0)
    curves.smoothing.setValue(80)
    curves.plot.redraw()
    _, drawn = curves.plot.drawn("r")
    expected = ema_smooth(run.metrics["train_loss"].column("value"), 0.8)
    assert drawn == pytest.approx(expected)
    raw = curves.plot.series["r"].raw_item
    assert raw.isVisible(), "the raw curve stays faint behind"


def test_best_epoch_is_marked_and_overfitting_is_shaded(curves):
    _fake_run(curves.runs, "r", 1.0)
    curves.metric_box.setCurrentIndex(curves.metric_box.findData("val_loss"))
    curves.x_axis_box.setCurrentIndex(curves.x_axis_box.findData("epoch"))
    import pyqtgraph as pg

    regions = [m for m in curves.plot._marks if isinstance(m, pg.LinearRegionItem)]
    stars = [m for m in curves.plot._marks if isinstance(m, pg.ScatterPlotItem)]
    assert [tuple(r.getRegion()) for r in regions] == [(2.0, 4.0)]
    assert len(stars) == 1 and stars[0].data["x"][0] == 2.0


def test_hide_rename_colour_delete_persist(curves, tmp_path):
    a = _fake_run(curves.runs, "a", 1.0)
    b = _fake_run(curves.runs, "b", 2.0)
    curves.table.item(0, 0).setCheckState(Qt.CheckState.Unchecked)
    assert curves.runs.get(a.id).hidden and "a" not in curves.plot.series
    curves.table.item(1, 1).setText("renamed")
    curves.runs.set_color(b.id, "#CC79A7")
    reloaded = {r.id: r for r in RunStore(tmp_path / "runs").load_all()}
    assert reloaded[a.id].hidden is True
    assert reloaded[b.id].name == "renamed" and reloaded[b.id].color == "#CC79A7"
    curves.delete_runs([a.id])
    assert curves.table.rowCount() == 1
    assert [r.id for r in RunStore(tmp_path / "runs").load_all()] == [b.id]


def test_csv_and_png_export(curves, tmp_path):
    a = _fake_run(curves.runs, "a", 1.0)
    _fake_run(curves.runs, "b", 2.0)
    rows = curves.export_csv(tmp_path / "runs.csv", [a.id])
    with open(tmp_path / "runs.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == rows == 40 + 4 * 4
    losses = [r for r in table if r["metric"] == "train_loss"]
    assert {r["run"] for r in table} == {"a"}
    assert float(losses[4]["value"]) == pytest.approx(1 / 5, rel=1e-5)
    assert losses[4]["step"] == "5"
    curves.export_png(tmp_path / "plot.png", 1920)
    from PIL import Image

    with Image.open(tmp_path / "plot.png") as img:
        assert img.width == 1920


def test_crosshair_readout_names_run_step_and_value(curves):
    _fake_run(curves.runs, "mine", 1.0)
    curves.smoothing.setValue(0)
    curves.plot.redraw()
    text = curves.plot.readout_at(10.2, 0.1)
    assert text.startswith("mine") and "10" in text and "0.1" in text


def test_log_scale_and_ignore_outliers_change_the_view(curves):
    run = _fake_run(curves.runs, "r", 1.0)
    run.metrics["train_loss"].column("value")[0] = 1000.0  # one wild value
    curves.refresh_plot()
    curves.smoothing.setValue(0)
    curves.outliers.setChecked(True)
    lo, hi = curves.plot.getPlotItem().getViewBox().viewRange()[1]
    assert hi < 100, "the outlier no longer sets the scale"
    curves.log_y.setChecked(True)
    assert curves.plot.getPlotItem().ctrl.logYCheck.isChecked()


def test_training_runs_are_recorded_and_listed_after_a_restart(qtbot, tmp_path):
    ws = Workspace(tmp_path / "ws")
    run_to_end(ws.import_tree(make_dataset(tmp_path / "src", per_class=10)))
    runs = RunsModel(RunStore(tmp_path / "runs"))
    w = MainWindow(workspace=ws, cache=FeatureCache(tmp_path / "c"), runs=runs)
    qtbot.addWidget(w)
    tab = w.classifier
    tab.form.set_settings(TrainSettings.for_mode("scratch", epochs=3, image_size=32, batch_size=8))
    with qtbot.waitSignal(tab.runner.finished, timeout=60000):
        tab.start_training()
    assert w.curves.table.rowCount() == 1
    run = runs.runs()[0]
    assert run.status == "finished" and run.device.startswith("CPU")
    assert len(run.metrics["val_loss"]) == 3 and run.duration_s > 0
    name = w.curves._series_name(run)
    qtbot.waitUntil(
        lambda: len(w.curves.plot.data(name)[0]) == len(run.metrics["train_loss"]) > 0, timeout=2000
    )
    w.close()
    again = RunsModel(RunStore(tmp_path / "runs"))
    assert [r.name for r in again.runs()] == [run.name]
    assert np.array_equal(
        again.runs()[0].metrics["val_loss"].column("value"), run.metrics["val_loss"].column("value")
    )


def test_compare_training_modes_records_three_runs(qtbot, tmp_path):
    ws = Workspace(tmp_path / "ws")
    run_to_end(ws.import_tree(make_dataset(tmp_path / "src", per_class=8)))
    runs = RunsModel(RunStore(tmp_path / "runs"))
    w = MainWindow(workspace=ws, cache=FeatureCache(tmp_path / "c"), runs=runs)
    qtbot.addWidget(w)
    tab = w.classifier
    with qtbot.waitSignal(tab.runner.finished, timeout=120000):
        assert tab.start_comparison(overrides={"epochs": 2, "image_size": 32, "batch_size": 8})
    recorded = runs.runs()
    assert [r.settings["mode"] for r in recorded] == ["head", "finetune", "scratch"]
    assert all(r.status == "finished" for r in recorded)
    assert len(tab.last_comparison) == 3
    text = tab.view.result.text()
    assert "head only" in text and "whole network" in text and "from scratch" in text
    for label in ("head only: validation", "whole network: validation", "from scratch: validation"):
        assert len(tab.view.acc_plot.data(label)[0]) == 2
    w.close()
