"""Files are safe: saves are atomic, a full or read-only disk gives a plain message and leaves
the old file as it was, and a damaged file or cache entry is reported or recomputed."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_dataset, make_image

import lab.core.files as files
from lab.core.classifier import Classifier, ModelFileError
from lab.core.features import FeatureCache, extract_features
from lab.core.files import SaveError, atomic_write_bytes
from lab.core.models import SCRATCH_BACKBONE, build_classifier
from lab.core.runs import RunRecord, RunStore, RunStoreError
from lab.core.training import run_to_end
from lab.core.workspace import Workspace, WorkspaceError

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def _classifier(seed: int = 0) -> Classifier:
    torch.manual_seed(seed)
    net = build_classifier(SCRATCH_BACKBONE, 2, pretrained=False)
    return Classifier(net=net, classes=["cat", "raccoon"], backbone=SCRATCH_BACKBONE, image_size=32)


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.part")]


class _FullDisk:
    """A file that takes the first `room` bytes, then fails like a full disk (ENOSPC)."""

    def __init__(self, fh, room: int) -> None:
        self.fh, self.room = fh, room

    def write(self, data) -> int:
        data = bytes(data)
        if len(data) > self.room:
            self.fh.write(data[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


@pytest.fixture
def full_disk(monkeypatch):
    real = os.fdopen
    monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: _FullDisk(real(fd, mode), 100))


@pytest.fixture
def no_permission(monkeypatch):
    """Writing into any folder is refused (EACCES), as in a read-only data folder."""

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)


# -- atomic_write itself -------------------------------------------------------------------
def test_a_new_file_gets_the_usual_permissions_and_an_old_one_keeps_its_own(tmp_path):
    path = tmp_path / "a.bin"
    atomic_write_bytes(path, b"one")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~files.UMASK
    normal = tmp_path / "normal.bin"
    normal.write_bytes(b"x")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(normal.stat().st_mode)
    path.chmod(0o640)
    atomic_write_bytes(path, b"two")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_bytes() == b"two"


def test_a_full_disk_leaves_the_old_file_and_no_partial_file(tmp_path, full_disk):
    path = tmp_path / "keep.bin"
    path.write_bytes(b"old contents")
    with pytest.raises(SaveError) as info:
        atomic_write_bytes(path, bytes(1000))
    assert str(info.value).startswith("The disk is full: could not save keep.bin.")
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, OSError)
    assert path.read_bytes() == b"old contents"
    assert _leftovers(tmp_path) == []


def test_a_read_only_folder_gives_a_plain_message(tmp_path, no_permission):
    with pytest.raises(SaveError, match=r"ML Lab cannot write to .*: could not save x\.bin"):
        atomic_write_bytes(tmp_path / "x.bin", b"data")
    assert not (tmp_path / "x.bin").exists()


@pytest.mark.skipif(ROOT, reason="root ignores folder permissions")
def test_a_really_read_only_folder_gives_a_plain_message(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "m.bin").write_bytes(b"old")
    folder.chmod(0o500)
    try:
        with pytest.raises(SaveError, match="ML Lab cannot write to"):
            atomic_write_bytes(folder / "m.bin", b"new")
        assert (folder / "m.bin").read_bytes() == b"old"
    finally:
        folder.chmod(0o700)


# -- models --------------------------------------------------------------------------------
def test_saving_a_model_on_a_full_disk_keeps_the_old_model_file(tmp_path, monkeypatch):
    path = _classifier(0).save(tmp_path / "m.mlmodel")
    before = path.read_bytes()
    real = os.fdopen
    monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: _FullDisk(real(fd, mode), 4096))
    with pytest.raises(SaveError, match="The disk is full: could not save m.mlmodel"):
        _classifier(1).save(path)
    assert path.read_bytes() == before and _leftovers(tmp_path) == []
    Classifier.load(path)  # still a good model


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.99])
def test_a_truncated_model_file_is_refused_with_its_name(tmp_path, keep):
    data = _classifier().save(tmp_path / "good.mlmodel").read_bytes()
    bad = tmp_path / "cut.mlmodel"
    bad.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError, match="cut.mlmodel"):
        Classifier.load(bad)


def test_loading_a_truncated_model_in_the_tab_keeps_the_current_model(qtbot, tmp_path):
    from lab.ui.main_window import MainWindow

    w = MainWindow(workspace=Workspace(tmp_path / "ws"), cache=FeatureCache(tmp_path / "cache"))
    qtbot.addWidget(w)
    tab = w.classifier
    current = _classifier(3)
    tab.use_model(current, "made for the test")
    data = current.save(tmp_path / "good.mlmodel").read_bytes()
    bad = tmp_path / "half.mlmodel"
    bad.write_bytes(data[: len(data) // 2])
    with qtbot.waitSignal(tab.model_runner.finished, timeout=20000):
        tab.load_model(bad)
    assert tab.model is current
    assert "half.mlmodel" in tab.model_notice.text
    w.close()


# -- run history -----------------------------------------------------------------------------
def _saved_run(store: RunStore, name: str) -> RunRecord:
    run = RunRecord.new(name, "classifier", {"mode": "head"})
    for i in range(5):
        run.series("loss").append(i, i / 5, i * 0.1, 1.0 / (i + 1))
    run.status = "finished"
    store.save(run)
    return run


def test_damaged_runs_are_skipped_with_a_note_and_the_others_load(tmp_path):
    store = RunStore(tmp_path / "runs")
    good = _saved_run(store, "good")
    cut = _saved_run(store, "cut")
    garbled = _saved_run(store, "garbled")
    wrong = _saved_run(store, "wrong")
    npz = store._dir(cut.id) / "metrics.npz"
    npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    (store._dir(garbled.id) / "run.json").write_bytes(b"\x00\xff{not json")
    (store._dir(wrong.id) / "run.json").write_text('["a list, not a run"]')
    runs = RunStore(tmp_path / "runs").load_all()
    assert [r.name for r in runs] == ["good"]
    assert np.allclose(runs[0].series("loss").column("value"), good.series("loss").column("value"))
    again = RunStore(tmp_path / "runs")
    again.load_all()
    assert len(again.problems) == 3
    for run in (cut, garbled, wrong):
        assert any(run.id in p and "damaged and was skipped" in p for p in again.problems)


def test_saving_a_run_on_a_full_disk_says_so(tmp_path, full_disk):
    store = RunStore(tmp_path / "runs")
    run = RunRecord.new("full", "classifier", {})
    run.series("loss").append(1, 0.1, 0.0, 0.5)
    with pytest.raises(RunStoreError, match="Could not save the run 'full': the disk is full"):
        store.save(run)
    assert _leftovers(tmp_path) == []


# -- settings ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe garbage \x01\x02" * 50,
        b"[lessons]\ndone=@Variant(\\0\\0\\0\\x7f\\0\\0)\n",
        b"",
    ],
    ids=["binary", "bad-variant", "empty"],
)
def test_a_corrupt_settings_file_falls_back_to_defaults(qapp, tmp_path, content):
    from PySide6.QtCore import QSettings

    from lab.ui.lessons.progress import LessonProgress

    path = tmp_path / "settings.ini"
    path.write_bytes(content)
    progress = LessonProgress(QSettings(str(path), QSettings.Format.IniFormat), known=["a", "b"])
    assert progress.done == set() and progress.last == ""
    progress.set_done("a")
    again = LessonProgress(QSettings(str(path), QSettings.Format.IniFormat), known=["a", "b"])
    assert again.done == {"a"}


# -- the feature cache ---------------------------------------------------------------------
class _CountingNet(torch.nn.Module):
    """A tiny stand-in backbone: the mean colour of the picture, repeated."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += len(x)
        return x.mean(dim=(2, 3)).repeat(1, 2)


def _features(paths, cache, net):
    return run_to_end(extract_features(paths, "fake", lambda: net, 16, cache, 6))


@pytest.mark.parametrize("damage", ["truncate", "flip-a-bit", "empty", "old-npy"])
def test_a_damaged_cache_entry_is_detected_and_recomputed(tmp_path, damage):
    paths = [make_image(tmp_path / f"img{i}.png", i % 2, seed=i) for i in range(3)]
    cache = FeatureCache(tmp_path / "cache")
    net = _CountingNet()
    first, _, _ = _features(paths, cache, net)
    assert net.calls == 3
    entry = cache._file(cache.key(paths[1], "fake", 16))
    data = bytearray(entry.read_bytes())
    if damage == "truncate":
        entry.write_bytes(bytes(data[: len(data) - 3]))
    elif damage == "flip-a-bit":
        data[-2] ^= 0x10  # one bit of one number: a plain .npy would hand it back silently
        entry.write_bytes(bytes(data))
    elif damage == "empty":
        entry.write_bytes(b"")
    else:
        import io

        buf = io.BytesIO()
        np.save(buf, np.ones(6, dtype=np.float32))
        entry.write_bytes(buf.getvalue())
    cache2 = FeatureCache(tmp_path / "cache")
    net2 = _CountingNet()
    second, _, failed = _features(paths, cache2, net2)
    assert not failed
    assert net2.calls == 1, "only the damaged entry is recomputed"
    assert cache2.damaged == 1 and cache2.hits == 2
    assert np.array_equal(first, second)
    assert cache2.get(cache2.key(paths[1], "fake", 16), 6) is not None, "and stored again"


def test_a_full_disk_only_costs_the_cache_speed(tmp_path, full_disk):
    paths = [make_image(tmp_path / f"img{i}.png", i % 2, seed=i) for i in range(2)]
    cache = FeatureCache(tmp_path / "cache")
    feats, _, failed = _features(paths, cache, _CountingNet())
    assert not failed and np.isfinite(feats).all()
    assert _leftovers(tmp_path) == []


# -- workspace imports and exports ------------------------------------------------------------
def test_importing_onto_a_full_disk_stops_with_a_plain_message(tmp_path, full_disk):
    src = make_dataset(tmp_path / "src", per_class=3)
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match="The disk is full: could not save"):
        run_to_end(ws.import_images("cat", sorted((src / "cat").iterdir())))
    assert ws.count("cat") == 0 and _leftovers(tmp_path / "ws") == []


def test_importing_into_a_read_only_folder_stops_with_a_plain_message(tmp_path, monkeypatch):
    src = make_dataset(tmp_path / "src", per_class=3)
    ws = Workspace(tmp_path / "ws")
    first = run_to_end(ws.import_images("cat", [sorted((src / "cat").iterdir())[0]]))
    assert len(first.added) == 1

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    with pytest.raises(WorkspaceError, match="ML Lab cannot write to .*cat"):
        run_to_end(ws.import_images("cat", sorted((src / "cat").iterdir())[1:]))
    assert ws.count("cat") == 1


def test_a_csv_export_on_a_full_disk_keeps_the_old_file(tmp_path, full_disk):
    from lab.core.inference import BatchRow, write_csv

    path = tmp_path / "results.csv"
    path.write_text("old results\n")
    rows = [
        BatchRow(
            path=str(tmp_path / f"x{i}.png"),
            name=f"x{i}.png",
            label="cat",
            confidence=0.9,
            probabilities=np.array([0.9, 0.1]),
        )
        for i in range(40)
    ]
    with pytest.raises(SaveError, match="The disk is full: could not save results.csv"):
        write_csv(path, rows, ["cat", "raccoon"])
    assert path.read_text() == "old results\n" and _leftovers(tmp_path) == []


def test_a_model_export_on_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    from lab.core.export import export_model

    path = tmp_path / "model.pt"
    path.write_bytes(b"old export")
    real = os.fdopen
    monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: _FullDisk(real(fd, mode), 1000))
    with pytest.raises(SaveError, match="The disk is full: could not save model.pt"):
        run_to_end(export_model(_classifier(), path, "torchscript"))
    assert path.read_bytes() == b"old export" and _leftovers(tmp_path) == []
