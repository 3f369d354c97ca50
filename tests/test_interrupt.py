"""Every long task is safe to interrupt: close the window, switch tabs, or start another task
while it runs, in the real window. No exception, no Qt warning, no thread left behind, and the
app itself exits within 2 s of the window closing (checked in a separate process)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from conftest import make_dataset, make_image

from lab.core.classifier import Classifier
from lab.core.embeddings.image_embeddings import EmbeddingSource
from lab.core.features import FeatureCache
from lab.core.models import SmallCNN, build_classifier
from lab.core.settings import TrainSettings
from lab.core.workspace import Workspace
from lab.ui.main_window import MainWindow
from lab.ui.worker import TaskRunner

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


def tiny_source() -> EmbeddingSource:
    torch.manual_seed(0)
    net = SmallCNN().eval()
    return EmbeddingSource(
        key="pretrained", label="tiny", cache_name="tiny-interrupt", image_size=32, dim=256,
        build=lambda: net,
    )  # fmt: skip


def slow_classifier() -> Classifier:
    """A full-size network at full size: a few images a second, so a folder takes a while."""
    torch.manual_seed(1)
    net = build_classifier("small_cnn", 2, pretrained=False).eval()
    return Classifier(net, ["cat", "raccoon"], "small_cnn", 448, settings={"mode": "scratch"})


# -- the tasks: how to start each one in the window, and which runner carries it -------------
@dataclass
class Task:
    name: str
    runner: Callable[[MainWindow], TaskRunner]
    start: Callable[[MainWindow, dict], object]
    # Started mid-run for "another task": by default the same action again.
    another: Callable[[MainWindow, dict], object] | None = None
    # Which progress event counts as "mid-run" (default: any).
    mid_run: Callable[[dict], bool] = field(default=lambda ev: True)


_sizes = iter(range(96, 512, 8))  # sizes whose features are not cached yet


def _train(mode: str, fresh_features: bool = False):
    def start(w: MainWindow, env: dict) -> bool:
        tab = w.classifier
        w.show_tab("Classifier")
        tab.pages.setCurrentIndex(0)
        size = next(_sizes) if fresh_features else (64 if mode == "scratch" else 32)
        settings = TrainSettings.for_mode(mode, epochs=1000, image_size=size, batch_size=2)
        tab.form.set_settings(settings)
        return tab.start_training()

    return start


def _train_then_classify_folder(w: MainWindow, env: dict) -> None:
    # The Train button is disabled while training: the other task in this tab is a folder.
    assert not w.classifier.start_training()
    w.classifier.batch.start([env["ws"]])


def _batch(w: MainWindow, env: dict) -> bool:
    w.show_tab("Classifier")
    w.classifier.pages.setCurrentWidget(w.classifier.batch)
    return w.classifier.batch.start([env["ws"], env["import_src"]])


def _tsne(w: MainWindow, env: dict) -> bool:
    w.show_tab("Embeddings")
    panel = w.embeddings.images
    panel.sources["pretrained"] = env["tiny_source"]
    panel.embedders.pop("pretrained", None)
    panel.source_box.setCurrentIndex(panel.source_box.findData("pretrained"))
    panel.method_box.setCurrentIndex(panel.method_box.findData("tsne"))
    panel.iterations.setValue(panel.iterations.maximum())
    return panel.compute()


def _reverse(w: MainWindow, env: dict) -> bool:
    w.show_tab("Diffusion")
    panel = w.diffusion.reverse
    w.diffusion.show_page(panel)
    panel.sampler.setCurrentIndex(panel.sampler.findData("ddpm"))
    panel.seed.setValue(panel.seed.value() + 1)  # never a cached trajectory
    return panel.generate()


def _diffusion_train(w: MainWindow, env: dict) -> bool:
    w.show_tab("Diffusion")
    panel = w.diffusion.training
    w.diffusion.show_page(panel)
    panel.refresh_sources()
    panel.source.setCurrentIndex(panel.source.findData("workspace"))
    panel.steps.setValue(100_000)
    return panel.train()


def _toy(w: MainWindow, env: dict) -> bool:
    w.show_tab("Diffusion")
    w.diffusion.show_page(w.diffusion.toy)
    return w.diffusion.toy.train()


def _lab(key: str, **kwargs):
    def start(w: MainWindow, env: dict):
        w.show_tab("Labs")
        panel = w.labs.show_lab(key)
        if key in ("memorize", "gan"):
            return panel.train(**kwargs)
        if key == "forgetting":
            panel.epochs.setValue(panel.epochs.maximum())
        return panel.run()

    return start


def _import(w: MainWindow, env: dict) -> None:
    w.show_tab("Classifier")
    w.classifier.data.import_tree(env["import_src"])


TASKS = [
    Task("train-head", lambda w: w.classifier.runner, _train("head"), _train_then_classify_folder),
    Task("train-finetune", lambda w: w.classifier.runner, _train("finetune")),
    Task("train-scratch", lambda w: w.classifier.runner, _train("scratch")),
    Task(
        "feature-caching",
        lambda w: w.classifier.runner,
        _train("head", fresh_features=True),
        mid_run=lambda ev: ev.get("stage") == "features",
    ),
    Task("classify-folder", lambda w: w.classifier.batch.runner, _batch),
    Task("import-images", lambda w: w.classifier.data.runner, _import),
    Task("tsne", lambda w: w.embeddings.images.runner, _tsne),
    Task("diffusion-generate", lambda w: w.diffusion.reverse.runner, _reverse),
    Task("diffusion-train", lambda w: w.diffusion.training.runner, _diffusion_train),
    Task("diffusion-2d", lambda w: w.diffusion.toy.runner, _toy),
    Task("lab-memorize", lambda w: w.labs.panels["memorize"].runner, _lab("memorize", steps=10**6)),
    Task("lab-forgetting", lambda w: w.labs.panels["forgetting"].runner, _lab("forgetting")),
    Task("lab-clustering", lambda w: w.labs.panels["clustering"].runner, _lab("clustering")),
    Task("lab-gan", lambda w: w.labs.panels["gan"].runner, _lab("gan", steps=10**6)),
]


# -- one window for the whole module (building it takes seconds) ----------------------------
@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("interrupt")
    ws = make_dataset(tmp / "ws", per_class=20, size=48)
    src = tmp / "import"
    for i in range(300):
        make_image(src / ("cat", "raccoon")[i % 2] / f"new_{i:03d}.png", i % 2, 24, seed=9000 + i)
    return {"tmp": tmp, "ws": ws, "import_src": src, "tiny_source": tiny_source()}


@pytest.fixture(scope="module")
def window(qapp, env):
    from lab.core.runtime import preload_models

    preload_models()  # as the app does while the user looks at the window
    w = MainWindow(workspace=Workspace(env["ws"]), cache=FeatureCache(env["tmp"] / "cache"))
    w.classifier.use_model(slow_classifier(), "a test model")
    w.show()
    yield w
    w.close()
    w.deleteLater()


def _runners(w: MainWindow) -> list[TaskRunner]:
    return w.findChildren(TaskRunner)


def _quiet(qtbot, w: MainWindow, timeout_ms: int = 5000) -> None:
    """Stop every task in the window and wait until each has wound up."""
    for r in _runners(w):
        r.stop()
    qtbot.waitUntil(lambda: not any(r.running for r in _runners(w)), timeout=timeout_ms)


def _cycle_pages(qtbot, w: MainWindow) -> None:
    """Visit every tab and every page inside it, as a curious student would."""
    for i in range(w.tabs.count()):
        w.tabs.setCurrentIndex(i)
        qtbot.wait(10)
    for pages in (w.classifier.pages, w.diffusion.pages):
        for i in range(pages.count()):
            pages.setCurrentIndex(i)
            qtbot.wait(10)
    for key in w.labs.panels:
        w.labs.show_lab(key)
    qtbot.wait(10)


def _workspace_files(ws: Path) -> set[Path]:
    return {p for p in ws.rglob("*") if p.is_file()}


@pytest.mark.parametrize("how", ["close", "switch", "another"])
@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_interrupting_a_running_task(task: Task, how: str, window, env, qtbot, qtlog):
    w = window
    w.show()
    _quiet(qtbot, w)
    threads_before = {t for t in threading.enumerate() if t.is_alive()}
    files_before = _workspace_files(env["ws"])
    runner = task.runner(w)
    errors: list[str] = []
    events: list[dict] = []
    for r in _runners(w):
        r.error.connect(errors.append)
    runner.progress.connect(events.append)
    results: list = []
    runner.result.connect(results.append)
    try:
        assert task.start(w, env) is not False, f"{task.name} refused to start"
        qtbot.waitUntil(lambda: any(task.mid_run(ev) for ev in events), timeout=30_000)
        assert runner.running, f"{task.name} ended before it could be interrupted"

        if how == "close":
            t0 = time.monotonic()
            w.close()
            assert time.monotonic() - t0 < 2.0, "closing the window took more than 2 s"
            assert not any(r.running for r in _runners(w))
        elif how == "switch":
            _cycle_pages(qtbot, w)
            _cycle_pages(qtbot, w)
            # Still going, or (a short task on a quiet machine) ended with its result.
            assert runner.running or results, "switching tabs stopped the task"
        else:
            events.clear()
            (task.another or task.start)(w, env)
            qtbot.wait(200)  # let the new task and the cancelled one overlap
        _quiet(qtbot, w)
    finally:
        for r in _runners(w):
            r.error.disconnect(errors.append)
        runner.progress.disconnect(events.append)
        runner.result.disconnect(results.append)
        _quiet(qtbot, w)
        w.hide()  # stops the animations that play a finished result
        if task.name == "import-images":  # put the workspace back for the other tasks
            for p in _workspace_files(env["ws"]) - files_before:
                p.unlink()
            w.classifier.data.refresh()
    assert errors == []
    warnings = [r.message for r in qtlog.records if "QThread" in r.message or "thread" in r.message]
    assert warnings == []
    threads_after = {t for t in threading.enumerate() if t.is_alive()}
    assert threads_after <= threads_before | {threading.current_thread()}


# -- the real app exits within 2 s of its window closing -----------------------------------
EXIT_SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from PySide6.QtCore import QTimer
    import lab.ui.main_window as main_window
    import test_interrupt as t

    env = {{"tiny_source": t.tiny_source()}}
    task = {{x.name: x for x in t.TASKS}}[{task!r}]

    class Window(main_window.MainWindow):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.ready.connect(lambda: QTimer.singleShot(0, self._go))

        def _go(self):
            env["ws"] = self.classifier.workspace.root
            task.start(self, env)
            QTimer.singleShot(1000, self._leave)

        def _leave(self):
            running = task.runner(self).running
            print("running", running, flush=True)
            print("closing", time.monotonic(), flush=True)
            self.close()

    main_window.MainWindow = Window
    from lab.cli import main
    sys.exit(main([]))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["train-head", "diffusion-generate", "tsne"])
def test_the_app_exits_within_2_s_of_closing_mid_task(task, tmp_path):
    data = tmp_path / "data"
    make_dataset(data / "images", per_class=20, size=48)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAB_DATA_DIR=str(data))
    script = EXIT_SCRIPT.format(tests=str(TESTS), task=task)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=120)
    ended = time.monotonic()
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    assert proc.returncode == 0, err[-2000:]
    assert lines.get("running") == "True", f"{task} was not running when the window closed"
    exit_s = ended - float(lines["closing"])
    print(f"{task}: the app was gone {exit_s:.2f} s after its window closed")
    assert exit_s < 2.0
    assert "Destroyed while thread" not in err
    assert "Traceback" not in err
