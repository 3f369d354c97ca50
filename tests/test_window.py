"""The window's classroom features: settings, shortcuts, welcome, About, freeze, status bar,
fullscreen, and the lazy start that shows the window before PyTorch has loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

from lab.core import environment, prefs
from lab.core.prefs import Preferences, PrefsError
from lab.ui.main_window import MainWindow, PendingTab
from tests.conftest import make_dataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def window(qtbot, tmp_path):
    from lab.core.features import FeatureCache
    from lab.core.workspace import Workspace

    w = MainWindow(workspace=Workspace(tmp_path / "ws"), cache=FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(w)
    yield w
    w.close()


# -- preferences -----------------------------------------------------------------------------
def test_preferences_default_leaves_one_core_for_the_window(monkeypatch):
    monkeypatch.setattr(prefs, "cpu_count", lambda: 8)
    assert Preferences().training_threads() == 7
    monkeypatch.setattr(prefs, "cpu_count", lambda: 1)
    assert Preferences().training_threads() == 1
    assert Preferences(threads=1).training_threads() == 1


def test_preferences_round_trip(tmp_path):
    path = tmp_path / "p.ini"
    chosen = Preferences(
        device="cpu",
        threads=1,
        data_dir=str(tmp_path / "d"),
        theme="dark",
        presentation=True,
        scale=2.0,
        fullscreen=True,
        welcome_done=True,
    )
    prefs.save(chosen, path)
    loaded, warnings = prefs.load(path)
    assert loaded == chosen and warnings == []


@pytest.mark.parametrize(
    "change, field",
    [
        ({"threads": 999}, "threads"),
        ({"threads": -1}, "threads"),
        ({"scale": 3.0}, "scale"),
        ({"theme": "purple"}, "theme"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_invalid_preferences_are_refused_and_nothing_is_written(tmp_path, change, field):
    path = tmp_path / "p.ini"
    prefs.save(Preferences(theme="dark"), path)
    before = path.read_bytes()
    with pytest.raises(PrefsError) as err:
        prefs.save(replace(Preferences(), **change), path)
    assert field in err.value.problems
    assert path.read_bytes() == before


def test_a_file_as_data_folder_is_refused(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    problems = Preferences(data_dir=str(a_file)).problems()
    assert "is a file, not a folder" in problems["data_dir"]


def test_damaged_preferences_fall_back_to_defaults(tmp_path):
    path = tmp_path / "p.ini"
    path.write_bytes(b"\x00\xff garbage [[[")
    loaded, warnings = prefs.load(path)
    assert loaded == Preferences() and warnings and "could not be read" in warnings[0]
    path.write_text("[ml-lab]\nthreads = lots\nscale = 7\ntheme = dark\n")
    loaded, warnings = prefs.load(path)
    assert loaded.theme == "dark" and loaded.threads == 0 and loaded.scale == 1.5
    assert len(warnings) == 2


# -- settings dialog ---------------------------------------------------------------------------
@pytest.fixture
def keep_torch_threads():
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)  # the setting is process-wide: later tests keep their speed


def test_settings_dialog_keeps_valid_choices_and_they_persist(
    window, qtbot, tmp_path, keep_torch_threads
):
    import torch

    from lab.ui.dialogs import SettingsDialog

    dialog = SettingsDialog(window.prefs, window)
    qtbot.addWidget(dialog)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.threads.setValue(1)
    dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
    dialog.scale.setCurrentIndex(dialog.scale.findData(2.0))
    dialog.data_dir.setText(str(tmp_path / "new-data"))
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    window.set_prefs(dialog.result_prefs)
    assert window.threads_label.text() == f"CPU threads for training: 1 of {prefs.cpu_count()}"
    assert torch.get_num_threads() == 1  # training uses it from now on
    saved, _ = prefs.load()
    assert (saved.device, saved.threads, saved.theme, saved.scale) == ("cpu", 1, "light", 2.0)
    assert saved.data_dir == str(tmp_path / "new-data")
    assert "next time" in window.activity_label.text()


def test_settings_dialog_refuses_a_bad_data_folder(window, qtbot, tmp_path):
    from lab.ui.dialogs import SettingsDialog

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    dialog = SettingsDialog(window.prefs, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.data_dir.setText(str(a_file))
    dialog.accept()
    assert dialog.isVisible() and dialog.result_prefs is None
    assert "is a file, not a folder" in dialog.problem.text() and dialog.problem.isVisible()
    dialog.close()


def test_gpu_choice_is_disabled_without_a_gpu(window, qtbot):
    import torch

    from lab.ui.dialogs import SettingsDialog

    dialog = SettingsDialog(window.prefs, window)
    qtbot.addWidget(dialog)
    gpu = dialog.device.model().item(dialog.device.findData("gpu"))
    assert gpu.isEnabled() == torch.cuda.is_available()


# -- help ----------------------------------------------------------------------------------------
def test_shortcuts_sheet_lists_every_menu_action_with_its_key(window, qtbot):
    from lab.ui.dialogs import ShortcutsDialog

    actions = window.actions_with_shortcuts()
    assert window.shortcuts_action.shortcut().toString() == "F1"
    assert window.presentation_action.shortcut().toString() == "F5"
    assert window.fullscreen_action.shortcut().toString() == "F11"
    dialog = ShortcutsDialog(actions, window)
    qtbot.addWidget(dialog)
    rows = dict(dialog.rows())
    for action in actions:
        text = action.text().replace("&", "")
        assert rows[text] == action.shortcut().toString(), text
        assert rows[text]
    assert "Presentation mode" in rows and "Freeze plots" in rows and "Full screen" in rows


def test_about_names_python_torch_qt_and_the_device(window, qtbot):
    import platform

    import torch
    from PySide6.QtCore import qVersion

    from lab.ui.dialogs import AboutDialog

    about = AboutDialog(window)
    qtbot.addWidget(about)
    text = about.text.text()
    assert platform.python_version() in text
    assert torch.__version__.split("+")[0] in text and qVersion() in text
    assert "Device: CPU" in text or "Device:" in text


def test_welcome_checks_the_computer_and_offers_the_first_lesson(window, qtbot, monkeypatch):
    from lab.ui.dialogs import WelcomeDialog

    dialog = WelcomeDialog(window)
    qtbot.addWidget(dialog)
    names = {f.name: f for f in dialog.findings}
    assert {"Python", "Data folder", "Free disk", "Images", "Device"} <= set(names)
    assert not names["Images"].ok and "Starter images" in names["Images"].fix
    assert names["Device"].ok and "CPU" in dialog.device_label.text()
    dialog._start()
    assert dialog.chosen == "lesson"


def test_images_check_counts_the_workspace(tmp_path):
    make_dataset(tmp_path / "ws", per_class=3)
    finding = environment.check_images(tmp_path / "ws")
    assert finding.ok and "6 images" in finding.text and "3 cat" in finding.text


def test_low_disk_gets_a_fix(monkeypatch, tmp_path):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10 << 30, 10 << 30, 100 << 20))
    finding = environment.check_disk(tmp_path)
    assert not finding.ok and "Free some space" in finding.fix


def test_show_welcome_marks_it_seen_and_opens_lesson_one(window, qtbot):
    window.lessons.open_lesson(window.lessons.lessons[3].id)
    window.show_welcome()
    dialog = window.welcome_dialog
    assert dialog.isVisible() and dialog.isModal()
    with qtbot.waitSignal(dialog.finished, timeout=2000):
        dialog._start()
    assert prefs.load()[0].welcome_done
    assert window.tabs.currentWidget() is window.lessons
    assert window.lessons.current.id == window.lessons.lessons[0].id


# -- freeze, fullscreen, status bar -----------------------------------------------------------------
def test_freeze_stops_plot_updates_and_unfreeze_shows_everything(window, qtbot):
    plot = window.classifier.view.loss_plot
    name = next(iter(plot.series))
    window.freeze_action.trigger()
    assert window.frozen and plot.frozen
    for i in range(50):
        plot.append(name, i, 1.0 / (i + 1))
    plot.redraw()
    qtbot.wait(60)
    assert len(plot.drawn(name)[0]) == 0  # nothing drawn while frozen
    assert len(plot.data(name)[0]) == 50  # but every point arrived
    window.freeze_action.trigger()
    assert not plot.frozen
    qtbot.waitUntil(lambda: len(plot.drawn(name)[0]) == 50, timeout=2000)
    assert window.freeze_action.text().replace("&", "") == "Freeze plots"


def test_fullscreen_is_remembered(window):
    window.fullscreen_action.trigger()
    assert prefs.load()[0].fullscreen
    window.fullscreen_action.trigger()
    assert not prefs.load()[0].fullscreen


def test_status_bar_shows_device_threads_and_running_work(window, qtbot):
    import time

    from lab.ui.worker import TaskRunner

    assert window.device_label.text().startswith("Device: CPU")
    assert "CPU threads for training" in window.threads_label.text()
    runner = TaskRunner(window.diffusion)
    window._watch_tasks(window.diffusion)

    def slow(stop):
        while not stop.requested:
            time.sleep(0.01)
            yield None

    runner.start(slow)
    assert window.tasks_label.text() == "Running: Diffusion"
    with qtbot.waitSignal(runner.finished, timeout=3000):
        runner.stop()
    assert window.tasks_label.text() == ""


# -- the lazy start ------------------------------------------------------------------------------
def test_lazy_window_builds_every_tab_in_the_background(qtbot, tmp_path):
    from lab.core.features import FeatureCache
    from lab.core.workspace import Workspace

    w = MainWindow(
        workspace=Workspace(tmp_path / "ws"), cache=FeatureCache(tmp_path / "c"), lazy=True
    )
    qtbot.addWidget(w)
    assert w.tab_names() == ["Lessons", "Classifier", "Embeddings", "Curves", "Diffusion", "Labs"]
    assert isinstance(w.tabs.widget(4), PendingTab)
    assert not w.load_action.isEnabled()
    w.show_tab("Diffusion")  # the user picks a tab before it is ready: it stays picked
    with qtbot.waitSignal(w.ready, timeout=60000):
        w.finish_loading()
    assert not any(isinstance(w.tabs.widget(i), PendingTab) for i in range(w.tabs.count()))
    assert w.tabs.currentWidget() is w.diffusion
    assert w.load_action.isEnabled() and w.classifier and w.embeddings and w.labs
    qtbot.waitUntil(lambda: not w.loader.running, timeout=5000)
    w.close()


def test_try_it_on_a_pending_tab_builds_it(qtbot, tmp_path):
    from lab.core.features import FeatureCache
    from lab.core.workspace import Workspace
    from lab.lessons import LESSONS

    w = MainWindow(
        workspace=Workspace(tmp_path / "ws"), cache=FeatureCache(tmp_path / "c"), lazy=True
    )
    qtbot.addWidget(w)
    lesson = next(x for x in LESSONS if any(t.tab == "Labs" for t in x.try_its))
    try_it = next(t for t in lesson.try_its if t.tab == "Labs")
    assert try_it in w.lessons.available_try_its(lesson)
    outcome = w.lessons.run_try_it(try_it)
    assert outcome is not None and w.tabs.currentWidget() is w.labs
    w.close()


def test_window_appears_before_torch_is_imported(tmp_path):
    """In a fresh process: the first window is painted with PyTorch not yet imported."""
    script = textwrap.dedent(
        """
        import json, sys
        from lab.ui.app import make_app
        app = make_app()
        from lab.ui.main_window import MainWindow
        w = MainWindow(lazy=True)
        w.show()
        app.processEvents()
        print(json.dumps({"torch": "torch" in sys.modules, "tabs": w.tab_names()}))
        w.close()
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAB_DATA_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["torch"] is False
    assert report["tabs"][0] == "Lessons" and len(report["tabs"]) == 6


def test_every_menu_action_has_a_shortcut_and_a_tooltip(window):
    actions = window.actions_with_shortcuts()
    assert len(actions) >= 15
    for action in actions:
        name = action.text().replace("&", "")
        assert not action.shortcut().isEmpty(), name
        assert action.toolTip() and action.toolTip() != name, name
    for action in window.toolbar.actions():
        assert action.isSeparator() or action in actions


def test_go_to_actions_switch_tabs_with_ctrl_and_a_number(window):
    for number, action in enumerate(window.go_actions, start=1):
        assert action.shortcut().toString() == f"Ctrl+{number}"
        action.trigger()
        assert window.tabs.currentIndex() == number - 1


def test_freeze_holds_a_live_map_and_catches_up(window):
    import numpy as np

    scatter = window.embeddings.images.map
    scatter.set_groups(np.array([0, 0, 1, 1]), ["cat", "raccoon"])
    scatter.set_positions(np.zeros((4, 2)))
    window.set_frozen(True)
    moved = np.arange(8, dtype=float).reshape(4, 2)
    scatter.set_positions(moved)  # a t-SNE step arrives while frozen
    assert np.allclose(scatter.xy, 0)
    window.set_frozen(False)
    assert np.allclose(scatter.xy, moved)


def test_freeze_holds_the_gan_map(window):
    import numpy as np

    gan = window.labs.panels["gan"]
    ev = {
        "step": 5,
        "d_loss": 0.7,
        "g_loss": 0.7,
        "distance": 0.5,
        "fake": np.ones((10, 2)),
        "grid": np.zeros((8, 8)),
    }
    gan.first_distance = None  # as when Train starts
    window.set_frozen(True)
    gan._on_progress(ev)
    x, _ = gan.fake_item.getData()
    assert x is None or len(x) == 0
    assert gan.loss_plot.data("generator")[0] == [5.0]  # the data still arrived
    window.set_frozen(False)
    x, _ = gan.fake_item.getData()
    assert len(x) == 10


def test_current_preferences_follow_every_save(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_CONFIG_DIR", str(tmp_path))
    for device in ("cpu", "auto", "cpu", "gpu"):
        prefs.save(Preferences(device=device))
        assert prefs.current().device == device


def test_ctrl_c_in_the_terminal_closes_the_window_cleanly(tmp_path):
    import signal
    import time

    (tmp_path / "preferences.ini").write_text("[ml-lab]\nwelcome_done = True\n")
    env = dict(
        os.environ, QT_QPA_PLATFORM="offscreen", LAB_DATA_DIR=str(tmp_path), LAB_STARTUP_TRACE="1"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for line in proc.stdout:  # wait until the window has painted
            if line.startswith("first_window"):
                break
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
