"""The headless commands, run as a user would from a terminal."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import make_image


def _lab(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "lab", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_train_then_predict_on_a_made_up_dataset(tiny_dataset, tmp_path):
    model = tmp_path / "out" / "tiny.mlmodel"
    proc = _lab(
        "train",
        "--data",
        tiny_dataset,
        "--out",
        model,
        "--mode",
        "scratch",
        "--epochs",
        "8",
        "--image-size",
        "32",
        "--seed",
        "1",
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert any("epoch 8" in line for line in lines), "progress is printed"
    summary = json.loads(lines[-1])
    for key in ("val_accuracy", "val_loss", "seconds", "images", "mode"):
        assert key in summary
    assert summary["mode"] == "scratch" and summary["images"] == 24
    assert summary["val_accuracy"] > 0.7
    assert model.is_file()

    new = [make_image(tmp_path / "new" / f"p{i}.png", i % 2, seed=900 + i) for i in range(4)]
    broken = tmp_path / "new" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    proc = _lab("predict", "--model", model, new[0], tmp_path / "new")
    assert proc.returncode == 2, "one file failed"
    rows = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert len(rows) == 1 + 5
    errors = [r for r in rows if "error" in r]
    assert [r["path"] for r in errors] == [str(broken)]
    assert "damaged" in errors[0]["error"] or "not an image" in errors[0]["error"]
    good = [r for r in rows if "error" not in r]
    assert len(good) == 5
    for r in good:
        assert set(r["probabilities"]) == {"cat", "raccoon"}
        assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
        assert r["label"] == max(r["probabilities"], key=r["probabilities"].get)
    right = sum(
        r["label"] == ("cat" if int(r["path"][-5]) % 2 == 0 else "raccoon")
        for r in good
        if "/p" in r["path"]
    )
    assert right >= 3

    ok = _lab("predict", "--model", model, new[1])
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["path"] == str(new[1])


def test_train_refuses_bad_settings_and_folders(tmp_path, tiny_dataset):
    proc = _lab("train", "--data", tiny_dataset, "--out", tmp_path / "m", "--epochs", "0")
    assert proc.returncode == 1 and "epochs" in proc.stderr
    proc = _lab("train", "--data", tmp_path / "nowhere", "--out", tmp_path / "m")
    assert proc.returncode == 1 and "not a folder" in proc.stderr


def test_predict_explains_a_bad_model_file(tmp_path):
    fake = tmp_path / "fake.mlmodel"
    fake.write_text("hello")
    img = make_image(tmp_path / "x.png", 0)
    proc = _lab("predict", "--model", fake, img)
    assert proc.returncode == 1
    assert "not an ML Lab model" in proc.stderr
