"""The starter download, offline: tiny fake CIFAR archives served from file:// URLs."""

from __future__ import annotations

import hashlib
import pickle
import socket
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from torchvision.datasets import CIFAR10, CIFAR100

from lab.core import starter
from lab.core.starter import DONE_MARKER, CifarSource, DownloadError, download_starter
from lab.core.tasks import StopFlag
from lab.core.training import run_to_end

CIFAR10_NAMES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip
CIFAR100_NAMES = ["apple", "aquarium_fish", "baby", "bear", "beaver", "raccoon", "zebra"]
CAT, RACCOON = CIFAR10_NAMES.index("cat"), CIFAR100_NAMES.index("raccoon")

# Labels in each fake file. CIFAR-10: 2 cats per train batch and 3 in the test batch (13);
# CIFAR-100: 4 raccoons in train and 2 in test (6). With PER_CLASS = 12 the cats are cut
# short inside the test batch and every raccoon is taken.
CIFAR10_LABELS = {
    **{f"data_batch_{i}": [CAT, 0, 5, CAT, 9, 1] for i in range(1, 6)},
    "test_batch": [CAT, 2, CAT, 8, CAT],
}
CIFAR100_LABELS = {
    "train": [RACCOON, 0, RACCOON, 4, RACCOON, 3, RACCOON],
    "test": [6, RACCOON, RACCOON, 1],
}
PER_CLASS = 12


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


class FakeCifar:
    """One fake archive on disk, and a torchvision dataset class that fetches it."""

    def __init__(self, tmp: Path, base: type, labels: dict[str, list[int]], names: list[str]):
        self.base = base
        self.images: dict[str, np.ndarray] = {}
        self.labels = labels
        work = tmp / f"src-{base.__name__}"
        top = work / base.base_folder
        top.mkdir(parents=True)
        rng = np.random.default_rng(len(names))
        label_key = "labels" if base is CIFAR10 else "fine_labels"
        md5s = {}
        for name, file_labels in labels.items():
            data = rng.integers(0, 256, (len(file_labels), 3072), dtype=np.uint8)
            self.images[name] = data
            entry = {
                "batch_label": f"fake {name}",
                label_key: list(file_labels),
                "data": data,
                "filenames": [f"{name}_{i}.png" for i in range(len(file_labels))],
            }
            if base is CIFAR100:
                entry["coarse_labels"] = [0] * len(file_labels)
            (top / name).write_bytes(pickle.dumps(entry, protocol=2))
            md5s[name] = _md5(top / name)
        meta = {base.meta["key"]: names}
        if base is CIFAR10:
            meta["num_cases_per_batch"] = 6
        else:
            meta["coarse_label_names"] = ["everything"]
        (top / base.meta["filename"]).write_bytes(pickle.dumps(meta, protocol=2))
        md5s[base.meta["filename"]] = _md5(top / base.meta["filename"])

        self.archive = work / base.filename
        with tarfile.open(self.archive, "w:gz") as tar:
            tar.add(top, arcname=base.base_folder)
        self.md5s = md5s
        self.tgz_md5 = _md5(self.archive)

    def dataset(self, **overrides) -> type:
        """A subclass of the real torchvision class pointing at the fake archive."""
        attrs = {
            "url": self.archive.as_uri(),
            "tgz_md5": self.tgz_md5,
            "train_list": [[name, self.md5s[name]] for name, _ in self.base.train_list],
            "test_list": [[name, self.md5s[name]] for name, _ in self.base.test_list],
            "meta": {**self.base.meta, "md5": self.md5s[self.base.meta["filename"]]},
        }
        attrs.update(overrides)
        return type(f"Fake{self.base.__name__}", (self.base,), attrs)

    def pictures_of(self, label: int) -> list[np.ndarray]:
        """HWC pictures with this label in the order the files hold them: train, then test."""
        order = [n for n, _ in self.base.train_list] + [n for n, _ in self.base.test_list]
        out = []
        for name in order:
            for row, target in zip(self.images[name], self.labels[name]):
                if target == label:
                    out.append(row.reshape(3, 32, 32).transpose(1, 2, 0))
        return out


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to reach the internet fails the test loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the test tried to use the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Read the archives in small pieces so a tiny file still gives many progress steps."""
    monkeypatch.setattr(starter, "CHUNK", 4096)


@pytest.fixture(scope="module")
def fakes(tmp_path_factory) -> tuple[FakeCifar, FakeCifar]:
    tmp = tmp_path_factory.mktemp("fake-cifar")
    return (
        FakeCifar(tmp, CIFAR10, CIFAR10_LABELS, CIFAR10_NAMES),
        FakeCifar(tmp, CIFAR100, CIFAR100_LABELS, CIFAR100_NAMES),
    )


def sources(fakes, cifar10: dict | None = None, cifar100: dict | None = None):
    c10, c100 = fakes
    return (
        CifarSource("cat", c10.dataset(**(cifar10 or {})), "cat"),
        CifarSource("raccoon", c100.dataset(**(cifar100 or {})), "raccoon"),
    )


def drive(gen, stop_after_download: int | None = None, stop: StopFlag | None = None):
    events = []
    while True:
        try:
            ev = next(gen)
        except StopIteration as done:
            return events, done.value
        events.append(ev)
        downloads = [e for e in events if e["kind"] == "download"]
        if stop_after_download is not None and len(downloads) == stop_after_download:
            stop.request()


def files_under(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_fake_archives_are_what_torchvision_expects(tmp_path, fakes):
    """The fakes themselves: the real torchvision classes read them (guards the other tests)."""
    c10, c100 = fakes
    for fake, label, wanted in ((c10, CAT, 13), (c100, RACCOON, 6)):
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        with tarfile.open(fake.archive) as tar:
            tar.extractall(tmp_path, **safe)
        cls = fake.dataset()
        train = cls(root=str(tmp_path), train=True, download=False)
        test = cls(root=str(tmp_path), train=False, download=False)
        assert len(fake.pictures_of(label)) == wanted
        assert train.data.shape[1:] == (32, 32, 3)
        assert list(train.targets) + list(test.targets) == [
            t for n, _ in fake.base.train_list + fake.base.test_list for t in fake.labels[n]
        ]


def test_download_makes_class_folders_of_the_right_pictures(tmp_path, fakes):
    dest, downloads = tmp_path / "starter", tmp_path / "downloads"
    events, result = drive(download_starter(dest, downloads, sources(fakes), PER_CLASS))
    assert result == dest

    # progress: byte counts that grow to the archive's size, for each archive in turn
    for fake in fakes:
        name = fake.base.filename
        steps = [e for e in events if e["kind"] == "download" and e["file"] == name]
        size = fake.archive.stat().st_size
        assert len(steps) == -(-size // 4096), "one step per chunk read"
        dones = [e["done"] for e in steps]
        assert dones == sorted(dones) and dones[-1] == size
        assert {e["total"] for e in steps} == {size}
        assert all(e["bytes_per_s"] >= 0 for e in steps)
        assert {"kind": "stage", "stage": "unpacking", "file": name} in events
    # the archives were kept, checked, for next time
    assert _md5(downloads / CIFAR10.filename) == fakes[0].tgz_md5
    assert _md5(downloads / CIFAR100.filename) == fakes[1].tgz_md5
    assert not list(downloads.glob("*.part"))

    # the pictures: exactly the cats and exactly the raccoons, pixel for pixel
    assert sorted(p.name for p in dest.iterdir() if p.is_dir()) == ["cat", "raccoon"]
    assert (dest / DONE_MARKER).is_file()
    for name, fake, label, wanted in (
        ("cat", fakes[0], CAT, PER_CLASS),
        ("raccoon", fakes[1], RACCOON, 6),
    ):
        files = sorted((dest / name).iterdir())
        assert [p.name for p in files] == [f"{name}_{i:04d}.png" for i in range(1, wanted + 1)]
        expected = fake.pictures_of(label)[:wanted]
        for path, picture in zip(files, expected):
            with Image.open(path) as img:
                assert img.format == "PNG"
                assert img.mode == "RGB"
                assert img.size == (32, 32)
                assert np.array_equal(np.asarray(img), picture), path.name


def test_second_run_returns_at_once_without_downloading(tmp_path, fakes):
    dest, downloads = tmp_path / "starter", tmp_path / "downloads"
    run_to_end(download_starter(dest, downloads, sources(fakes), PER_CLASS))
    before = {p: p.stat().st_mtime_ns for p in dest.rglob("*.png")}

    # the source is gone: any attempt to fetch would fail
    gone = {"url": (tmp_path / "gone.tar.gz").as_uri()}
    broken = sources(fakes, gone, gone)
    events, result = drive(download_starter(dest, downloads, broken, PER_CLASS))
    assert result == dest
    assert events == []
    assert {p: p.stat().st_mtime_ns for p in dest.rglob("*.png")} == before


def test_an_archive_already_downloaded_is_not_fetched_again(tmp_path, fakes):
    dest, downloads = tmp_path / "starter", tmp_path / "downloads"
    run_to_end(download_starter(dest, downloads, sources(fakes), PER_CLASS))
    first = files_under(dest)
    (dest / DONE_MARKER).unlink()
    for p in dest.rglob("*.png"):
        p.unlink()

    gone = {"url": (tmp_path / "gone.tar.gz").as_uri()}
    events, result = drive(download_starter(dest, downloads, sources(fakes, gone, gone), PER_CLASS))
    assert result == dest
    assert not [e for e in events if e["kind"] == "download"]
    assert files_under(dest) == first


def test_wrong_checksum_is_refused_and_leaves_nothing(tmp_path, fakes):
    dest, downloads = tmp_path / "starter", tmp_path / "downloads"
    bad = sources(fakes, {"tgz_md5": "0" * 32})
    with pytest.raises(DownloadError) as info:
        run_to_end(download_starter(dest, downloads, bad, PER_CLASS))
    message = str(info.value)
    assert CIFAR10.filename in message and "damaged" in message
    assert files_under(downloads) == [], "no archive and no .part file may stay behind"
    assert files_under(dest) == []


def test_damaged_file_inside_the_archive_is_refused(tmp_path, fakes):
    """The archive checks out, but a batch inside does not: torchvision's own check fails."""
    dest, downloads = tmp_path / "starter", tmp_path / "downloads"
    c10 = fakes[0]
    wrong = [[name, "0" * 32] for name, _ in CIFAR10.train_list]
    with pytest.raises(DownloadError) as info:
        run_to_end(download_starter(dest, downloads, sources(fakes, {"train_list": wrong}), 5))
    assert CIFAR10.filename in str(info.value)
    assert not (dest / DONE_MARKER).exists()
    assert not (dest / "cat").exists()
    assert _md5(downloads / CIFAR10.filename) == c10.tgz_md5


def test_missing_url_is_a_download_error(tmp_path, fakes):
    dest, downloads = tmp_path / "starter", tmp_path / "downloads"
    missing = sources(fakes, {"url": (tmp_path / "no-such-archive.tar.gz").as_uri()})
    with pytest.raises(DownloadError) as info:
        run_to_end(download_starter(dest, downloads, missing, PER_CLASS))
    message = str(info.value)
    assert "Could not download" in message and CIFAR10.filename in message
    assert files_under(downloads) == []
    assert not (dest / DONE_MARKER).exists()


def test_missing_label_is_a_download_error(tmp_path, fakes):
    dest, downloads = tmp_path / "starter", tmp_path / "downloads"
    c10 = fakes[0]
    odd = (CifarSource("unicorn", c10.dataset(), "unicorn"),)
    with pytest.raises(DownloadError, match="no class called 'unicorn'"):
        run_to_end(download_starter(dest, downloads, odd, PER_CLASS))
    assert not (dest / DONE_MARKER).exists()


def test_stop_during_download_returns_none_and_leaves_no_half_archive(tmp_path, fakes):
    dest, downloads = tmp_path / "starter", tmp_path / "downloads"
    stop = StopFlag()
    gen = download_starter(dest, downloads, sources(fakes), PER_CLASS, stop=stop)
    events, result = drive(gen, stop_after_download=3, stop=stop)
    assert result is None
    steps = [e for e in events if e["kind"] == "download"]
    assert len(steps) == 3, "no more reading after the stop"
    assert steps[-1]["done"] < fakes[0].archive.stat().st_size, "it stopped part-way"
    assert files_under(downloads) == [], "no half-written archive may stay behind"
    assert files_under(dest) == []

    # and a fresh start afterwards gets everything
    events, result = drive(download_starter(dest, downloads, sources(fakes), PER_CLASS))
    assert result == dest
    assert len(list((dest / "cat").glob("*.png"))) == PER_CLASS


def test_stop_between_archives_returns_none_and_is_not_marked_done(tmp_path, fakes):
    dest, downloads = tmp_path / "starter", tmp_path / "downloads"
    stop = StopFlag()
    gen = download_starter(dest, downloads, sources(fakes), PER_CLASS, stop=stop)
    events = []
    with pytest.raises(StopIteration) as done:
        while True:
            ev = next(gen)
            events.append(ev)
            if ev["kind"] == "stage":  # the first archive is in and being unpacked
                stop.request()
    assert done.value.value is None
    assert not [e for e in events if e["file"] == CIFAR100.filename], "the second never starts"
    assert not (dest / DONE_MARKER).exists(), "a stopped run must not count as finished"
    assert not (downloads / CIFAR100.filename).exists()
    assert not list(downloads.glob("*.part"))

    # the next run finishes the job, reusing the first archive
    events, result = drive(download_starter(dest, downloads, sources(fakes), PER_CLASS))
    assert result == dest
    fetched = {e["file"] for e in events if e["kind"] == "download"}
    assert fetched == {CIFAR100.filename}
    assert len(list((dest / "cat").glob("*.png"))) == PER_CLASS
    assert len(list((dest / "raccoon").glob("*.png"))) == 6
