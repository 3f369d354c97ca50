"""Diffusion training runs join the run history and the Curves tab, next to classifier runs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_dataset
from PySide6.QtCore import Qt

from lab.core.runs import RunStore
from lab.core.workspace import Workspace
from lab.ui.curves import CurvesTab
from lab.ui.diffusion import DiffusionTab
from lab.ui.runs_model import RunsModel


def _classifier_run(runs: RunsModel) -> None:
    recorder = runs.start_run("head · lr 0.001 · 2 epochs", "classifier", {"mode": "head"})
    for step in range(1, 11):
        recorder.add({"kind": "step", "step": step, "epoch": step / 5, "loss": 1 / step})
        if step % 5 == 0:
            e = step // 5
            recorder.add(
                {
                    "kind": "epoch",
                    "epoch": e,
                    "train_loss": 0.5,
                    "val_loss": 0.6,
                    "val_accuracy": 0.7,
                }
            )
    recorder.finish("finished", {"val_accuracy": 0.7})
    runs.save(recorder.record.id)


def _train(qtbot, panel, steps: int) -> None:
    panel.source.setCurrentIndex(panel.source.findData("workspace"))
    panel.steps.setValue(steps)
    panel.batch.setValue(4)
    with qtbot.waitSignal(panel.runner.finished, timeout=60_000):
        assert panel.train()


@pytest.fixture
def lab(qtbot, tmp_path):
    """A Diffusion tab and a Curves tab sharing one run history with a classifier run in it."""
    runs = RunsModel(RunStore(tmp_path / "runs"))
    _classifier_run(runs)
    ws = Workspace(make_dataset(tmp_path / "ws", per_class=4))
    diffusion, curves = DiffusionTab(ws, runs=runs), CurvesTab(runs)
    for w in (diffusion, curves):
        qtbot.addWidget(w)
    curves.resize(1200, 700)
    curves.show()
    yield runs, diffusion.training, curves
    diffusion.shutdown()


def test_a_diffusion_run_is_recorded_and_drawn_next_to_a_classifier_run(lab, qtbot, tmp_path):
    runs, panel, curves = lab
    _train(qtbot, panel, steps=12)
    run = [r for r in runs.runs() if r.kind == "diffusion"][0]
    assert run.name == "Diffusion: your images, 12 steps" and run.status == "finished"
    assert run.settings["pictures"] == "your images" and run.settings["batch_size"] == 4
    assert run.device.startswith("CPU") and run.duration_s > 0
    assert set(run.metrics) == {"train_loss"}
    loss = run.metrics["train_loss"]
    assert loss.column("step")[-1] == 12 and np.all(np.isfinite(loss.column("value")))
    # Epochs count pictures seen: 4 per step, 8 pictures in all.
    assert loss.column("epoch")[-1] == pytest.approx(12 * 4 / 8)
    assert run.summary["steps_done"] == 12
    # The panel's own plot and the run history hold the same losses.
    assert panel.loss_plot.data("loss")[1] == pytest.approx(loss.column("value"))

    names = [curves.table.item(r, 1).text() for r in range(curves.table.rowCount())]
    assert names == ["head · lr 0.001 · 2 epochs", run.name]
    # The table catches up on its next frame (updates are gathered ~30 times a second).
    last = f"loss {loss.column('value')[-1]:.3g}"
    qtbot.waitUntil(lambda: curves.table.item(1, 3).text().endswith(" s"), timeout=2000)
    assert curves.table.item(1, 2).text() == last
    assert curves.table.item(0, 2).text() == "70.0%"
    qtbot.waitUntil(lambda: len(curves.plot.data(run.name)[0]) == len(loss), timeout=2000)
    assert set(curves.plot.series) == {"head · lr 0.001 · 2 epochs", run.name}
    xs, ys = curves.plot.data(run.name)
    assert xs == pytest.approx(loss.column("step")) and ys == pytest.approx(loss.column("value"))

    # Validation accuracy: only the classifier has it; the diffusion run is named, not drawn.
    curves.metric_box.setCurrentIndex(curves.metric_box.findData("val_accuracy"))
    assert set(curves.plot.series) == {"head · lr 0.001 · 2 epochs"}
    assert not curves.missing_note.isHidden()
    assert run.name in curves.missing_note.text() and "accuracy" in curves.missing_note.text()
    curves.metric_box.setCurrentIndex(curves.metric_box.findData("train_loss"))
    assert curves.missing_note.isHidden() and run.name in curves.plot.series

    # Hidden like any other run.
    curves.table.item(1, 0).setCheckState(Qt.CheckState.Unchecked)
    assert runs.get(run.id).hidden and run.name not in curves.plot.series

    # Kept after a restart.
    again = {r.id: r for r in RunStore(tmp_path / "runs").load_all()}[run.id]
    assert again.kind == "diffusion" and again.status == "finished" and again.hidden
    assert np.array_equal(again.metrics["train_loss"].column("value"), loss.column("value"))


def test_a_stopped_diffusion_run_is_kept_as_stopped(lab, qtbot, tmp_path):
    runs, panel, curves = lab
    panel.source.setCurrentIndex(panel.source.findData("workspace"))
    panel.steps.setValue(100_000)
    panel.batch.setValue(4)
    assert panel.train()
    run = [r for r in runs.runs() if r.kind == "diffusion"][0]
    assert run.status == "running"
    qtbot.waitUntil(lambda: len(run.metrics.get("train_loss", ())) >= 2, timeout=30_000)
    with qtbot.waitSignal(panel.runner.finished, timeout=30_000):
        panel.stop_button.click()
    assert run.status == "stopped" and 0 < run.summary["steps_done"] < 100_000
    row = [r for r in range(curves.table.rowCount()) if curves.table.item(r, 1).text() == run.name]
    qtbot.waitUntil(lambda: "(stopped)" in curves.table.item(row[0], 3).text(), timeout=2000)
    assert RunStore(tmp_path / "runs").load(run.id).status == "stopped"


def test_closing_the_window_mid_run_keeps_the_run_as_stopped(lab, qtbot, tmp_path):
    runs, panel, _ = lab
    panel.source.setCurrentIndex(panel.source.findData("workspace"))
    panel.steps.setValue(100_000)
    panel.batch.setValue(4)
    assert panel.train()
    run = [r for r in runs.runs() if r.kind == "diffusion"][0]
    qtbot.waitUntil(lambda: len(run.metrics.get("train_loss", ())) >= 1, timeout=30_000)
    panel.shutdown()
    assert not panel.runner.running
    saved = RunStore(tmp_path / "runs").load(run.id)
    assert saved.status == "stopped" and len(saved.metrics["train_loss"]) >= 1
