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


def test_closing_the_window_mid_training_keeps_the_run_as_stopped(qtbot, tmp_path):
    ws = Workspace(tmp_path / "ws")
    run_to_end(ws.import_tree(make_dataset(tmp_path / "src", per_class=10)))
    runs = RunsModel(RunStore(tmp_path / "runs"))
    w = MainWindow(workspace=ws, cache=FeatureCache(tmp_path / "c"), runs=runs)
    qtbot.addWidget(w)
    tab = w.classifier
    tab.form.set_settings(
        TrainSettings.for_mode("scratch", epochs=200, image_size=32, batch_size=8)
    )
    tab.start_training()
    qtbot.waitUntil(
        lambda: len(tab.view.loss_plot.data("training (each batch)")[0]) > 2, timeout=30000
    )
    w.close()
    again = RunsModel(RunStore(tmp_path / "runs")).runs()
    assert len(again) == 1 and again[0].status == "stopped"
    assert len(again[0].metrics["train_loss"]) > 0


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


def test_nice_ranges_grow_in_coarse_steps():
    from lab.ui.widgets.live_plot import nice_ceil, sticky_x, sticky_y

    assert [nice_ceil(v) for v in (0.7, 1.0, 1.2, 2.5, 7, 9, 11, 4500)] == pytest.approx(
        [0.75, 1.0, 1.5, 3.0, 7.5, 10.0, 15.0, 5000.0]
    )
    assert sticky_x(1, 100, None) == (1 - 3, 1 + 150)  # 99 × 1.1 → 150 ahead, 2% before
    assert sticky_x(1, 140, (-2, 151)) == (-2, 151)  # still fits: unchanged
    assert sticky_x(1, 160, (-2, 151)) == (1 - 4, 1 + 200)
    assert sticky_x(1, 30, (-2, 151)) == (1 - 1, 1 + 50)  # far too wide: refit
    assert sticky_y(0.2, 1.2, None) == pytest.approx((0.1, 1.3))
    assert sticky_y(0.15, 1.2, (0.1, 1.3)) == (0.1, 1.3)
    assert sticky_y(0.05, 1.2, (0.1, 1.3)) == pytest.approx((-0.065, 1.315))


def test_streaming_moves_the_axes_only_now_and_then_and_draws_every_point(qtbot):
    from lab.ui.widgets.live_plot import LivePlot

    plot = LivePlot("t", "step", "loss")
    qtbot.addWidget(plot)
    plot.resize(800, 500)
    plot.show()
    plot.add_series("run", 0, smooth=True)
    plot.set_smoothing(0.6)
    vb = plot.getPlotItem().getViewBox()
    ranges = []
    vb.sigXRangeChanged.connect(lambda _, r: ranges.append(tuple(r)))
    vb.sigYRangeChanged.connect(lambda _, r: ranges.append(tuple(r)))
    rng = np.random.default_rng(0)
    for frame in range(200):  # 200 frames of 20 new steps, as a quick run streams them
        for step in range(frame * 20 + 1, frame * 20 + 21):
            plot.append("run", step, 1 / np.sqrt(step) + 0.05 * rng.random())
        plot.redraw(changed_only=True)
        vb.prepareForPaint()  # what a paint does: apply the auto-range
    assert len(ranges) < 40, "the axes redraw their labels only when the range steps on"
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x0 <= 1 and 4000 <= x1 <= 4000 * 1.8
    assert y0 <= 0.02 and y1 >= 1.0
    assert len(plot.drawn("run")[0]) == 4000
    # Once the data is set as a whole (the run has finished), the view fits it snugly again.
    xs, ys = plot.data("run")
    plot.set_data("run", np.array(xs), np.array(ys))
    plot.redraw(changed_only=True)
    vb.prepareForPaint()
    assert vb.viewRange()[0][1] < 4000 * 1.1


def test_grid_lines_are_solid_colours_that_look_faint(qtbot):
    """See-through lines are slow to draw; the grid is pre-blended with the paper colour."""
    from lab.ui.widgets.live_plot import LivePlot

    plot = LivePlot("t", "step", "loss")
    qtbot.addWidget(plot)
    plot.resize(600, 400)
    plot.show()
    plot.add_series("a", 0)
    plot.set_data("a", np.arange(10.0), np.arange(10.0))
    plot.redraw()
    from PySide6.QtGui import QImage, QPainter

    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    _, ticks, _ = plot.getAxis("bottom").generateDrawSpecs(painter)
    painter.end()
    colours = {pen.color().name() for pen, _, _ in ticks}
    assert all(pen.color().alpha() == 255 for pen, _, _ in ticks)
    # #222222 ink at 25% (or less, for minor lines) on white paper: light greys, not black.
    assert colours and all(int(c[1:3], 16) >= 0xC0 for c in colours)
