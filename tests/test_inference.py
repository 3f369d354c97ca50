"""Using a model, headless: answers, robustness changes, Grad-CAM, folders, CSV, evaluation,
export round trips, model files, and every kind of odd input."""

from __future__ import annotations

import csv
import io
import json
import warnings

import numpy as np
import pytest
import torch
from conftest import make_dataset, make_image
from PIL import Image
from test_images import (
    write_16bit_png,
    write_animated_gif,
    write_bilevel_png,
    write_cmyk_jpeg,
    write_cut_short_jpeg,
    write_exif_rotated_jpeg,
    write_palette_png_with_transparency,
    write_rgba_png,
)

from lab.core.classifier import Classifier, ModelFileError, class_difference
from lab.core.evaluation import (
    Evaluation,
    confusion_matrix,
    evaluate_images,
    relabel_image,
    remove_image,
)
from lab.core.export import export_model, run_onnx, run_torchscript
from lab.core.inference import (
    Perturbation,
    classify_file,
    classify_folder,
    classify_picture,
    csv_text,
    load_picture,
    verdict,
    write_csv,
)
from lab.core.models import build_classifier, normalize
from lab.core.saliency import feature_map, grad_cam, model_crop_box, pooled_features
from lab.core.settings import SettingsError
from lab.core.training import run_to_end
from lab.core.workspace import Workspace, WorkspaceError


def tiny_classifier(size=32, classes=("cat", "raccoon"), backbone="small_cnn", seed=0):
    torch.manual_seed(seed)
    net = build_classifier(backbone, len(classes), pretrained=False)
    return Classifier(net=net, classes=list(classes), backbone=backbone, image_size=size)


def drain(gen):
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as done:
            return events, done.value


@pytest.fixture(scope="module")
def clf():
    return tiny_classifier()


# -- the answer in words ---------------------------------------------------------------------
def test_not_sure_below_the_threshold():
    classes = ["cat", "raccoon"]
    v = verdict(np.array([0.65, 0.35]), classes)  # default threshold 0.7
    assert not v.sure and v.label == "cat"
    assert v.text == "Not sure — this may be neither a cat nor a raccoon"
    assert verdict(np.array([0.65, 0.35]), classes, threshold=0.6).text == "cat"
    assert verdict(np.array([0.2, 0.8]), classes).text == "raccoon"
    assert verdict(np.array([0.7, 0.3]), classes).sure, "exactly at the threshold counts"
    three = verdict(np.array([0.4, 0.3, 0.3]), ["apple", "cat", "owl"])
    assert three.text == "Not sure — this may be none of: apple, cat, owl"


# -- one picture ---------------------------------------------------------------------------
def test_probabilities_sum_to_one_and_file_timing(clf, tmp_path):
    path = make_image(tmp_path / "a cat ünïcode.png", 0)
    probs, ms = classify_file(clf, path)
    assert probs.shape == (2,) and probs.sum() == pytest.approx(1, abs=1e-5)
    assert 0 < ms < 10_000


def test_perturbation_changes_what_the_model_sees(clf, tmp_path):
    img = load_picture(clf, make_image(tmp_path / "c.png", 0, size=64))
    plain = run_to_end(classify_picture(clf, img))
    for p in (
        Perturbation(rotation=90),
        Perturbation(blur=3),
        Perturbation(brightness=0.3),
        Perturbation(zoom=2),
    ):
        changed = run_to_end(classify_picture(clf, img, p))
        assert changed.model_input.shape == plain.model_input.shape == (32, 32, 3)
        assert np.abs(changed.model_input.astype(int) - plain.model_input).mean() > 2, p
        assert changed.probabilities.sum() == pytest.approx(1, abs=1e-5)
    dark = run_to_end(classify_picture(clf, img, Perturbation(brightness=0.3)))
    assert dark.model_input.mean() < 0.5 * plain.model_input.mean()
    assert Perturbation().is_identity and not Perturbation(zoom=1.5).is_identity


def test_absurd_perturbations_are_refused_with_reasons():
    with pytest.raises(SettingsError) as info:
        Perturbation(rotation=720, blur=-1, brightness=float("nan")).check()
    assert set(info.value.problems) == {"rotation", "blur", "brightness"}
    assert "between -180 and 180" in info.value.problems["rotation"]


# -- Grad-CAM --------------------------------------------------------------------------------
@pytest.mark.parametrize("backbone", ["small_cnn", "efficientnet_lite0"])
def test_grad_cam_has_the_pictures_aspect_and_is_not_constant(tmp_path, backbone):
    model = tiny_classifier(size=64, backbone=backbone)
    with torch.no_grad():  # class 0 gains from every feature, class 1 loses from every one
        w = model.net.head.weight
        w[0] = w[0].abs()
        w[1] = -w[1].abs()
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 60, (80, 160, 3), dtype=np.uint8)
    arr[20:60, 70:110] = [240, 210, 40]  # one bright object, off the centre line
    img = Image.fromarray(arr)
    cam = grad_cam(model, img, 0)
    assert cam.heat.shape == (80, 160), "rows × columns of the picture"
    left, top, right, bottom = cam.box
    assert (top, bottom) == (0, 80) and right - left == 80 and left == 40, "the centre square"
    inside = cam.heat[top:bottom, left:right]
    assert not cam.empty and inside.max() > 0.9 and inside.std() > 0.02
    assert not (cam.heat[:, :left].any() or cam.heat[:, right:].any()), "not seen: zero"
    against = grad_cam(model, img, 1)
    assert against.empty and not against.heat.any(), "nothing speaks for class 1"


def test_grad_cam_uses_the_same_path_as_the_network():
    for backbone in ("small_cnn", "efficientnet_lite0"):
        net = tiny_classifier(size=64, backbone=backbone).net.eval()
        x = normalize(torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8))
        with torch.no_grad():
            direct = net(x)
            split = net.head(pooled_features(net.backbone, feature_map(net.backbone, x)))
            assert feature_map(net.backbone, x).dim() == 4
        assert torch.allclose(direct, split, atol=1e-5)


def test_crop_box_matches_the_models_centre_crop():
    assert model_crop_box(320, 240, 224) == (40, 0, 280, 240)
    assert model_crop_box(100, 300, 50) == (0, 100, 100, 200)
    assert model_crop_box(64, 64, 64) == (0, 0, 64, 64)


# -- a whole folder ----------------------------------------------------------------------------
def _odd_folder(root):
    """A CLASS/IMAGE folder with good pictures of every odd kind, and a few bad files."""
    make_dataset(root, per_class=3)
    cat, racc = root / "cat", root / "raccoon"
    write_cmyk_jpeg(cat / "cmyk.jpg")
    write_16bit_png(cat / "sixteen.png")
    write_palette_png_with_transparency(cat / "palette.png")
    write_rgba_png(racc / "rgba.png")
    Image.new("L", (40, 30), 90).save(racc / "grey.png")
    write_animated_gif(racc / "animated.gif")
    write_exif_rotated_jpeg(racc / "exif rotated.jpg")
    make_image(racc / "ünï cödé  name.png", 1, seed=7)
    bad = {
        "truncated.jpg": "damaged",
        "empty.png": "empty",
        "text.jpg": "not an image",
        "notes.txt": "not an image",
        "bomb.png": "too large",
    }
    write_cut_short_jpeg(cat / "truncated.jpg")
    (cat / "empty.png").write_bytes(b"")
    (racc / "text.jpg").write_text("hello")
    (racc / "notes.txt").write_text("hello")
    write_bilevel_png(racc / "bomb.png", 20000, 20000)
    return bad


def test_folder_with_bad_files_classifies_all_the_others(clf, tmp_path):
    root = tmp_path / "photos"
    bad = _odd_folder(root)
    events, summary = drain(classify_folder(clf, [root], batch_size=4))
    assert events[0] == {"kind": "start", "total": 19, "laid_out_by_class": True}
    rows = [r for ev in events[1:] for r in ev["rows"]]
    assert len(rows) == 19 == summary.total == summary.done
    by_name = {r.name: r for r in rows}
    for name, reason in bad.items():
        assert reason in by_name[name].error, (name, by_name[name].error)
        assert by_name[name].correct is None
    good = [r for r in rows if not r.error]
    assert len(good) == 14 and summary.failed == 5
    for r in good:
        assert r.label in clf.classes and r.probabilities.sum() == pytest.approx(1, abs=1e-5)
        assert r.true_class == ("cat" if "/cat/" in r.path else "raccoon")
        assert r.correct == (r.label == r.true_class)
        assert r.thumbnail is not None and max(r.thumbnail.shape[:2]) <= 48
    assert by_name["exif rotated.jpg"].thumbnail.shape[:2] == (48, 24), "turned upright"
    assert summary.images_per_s > 0 and not summary.stopped


def test_folder_results_match_one_by_one(clf, tmp_path):
    root = make_dataset(tmp_path / "d", per_class=5)
    events, _ = drain(classify_folder(clf, [root], batch_size=3))
    for row in (r for ev in events[1:] for r in ev["rows"]):
        one, _ = classify_file(clf, row.path)
        assert np.allclose(one, row.probabilities, atol=1e-5), "batching changes nothing"


def test_loose_files_have_no_true_class(clf, tmp_path):
    files = [make_image(tmp_path / f"x{i}.png", i % 2, seed=i) for i in range(3)]
    events, summary = drain(classify_folder(clf, files))
    assert not events[0]["laid_out_by_class"]
    assert all(r.true_class is None and r.correct is None for r in events[1]["rows"])


def test_stopping_a_folder_returns_what_was_done(clf, tmp_path):
    from lab.core.tasks import StopFlag

    root = make_dataset(tmp_path / "d", per_class=20)
    stop = StopFlag()
    gen = classify_folder(clf, [root], batch_size=4, stop=stop)
    next(gen)
    first = next(gen)
    stop.request()
    _, summary = drain(gen)
    assert summary.stopped and len(first["rows"]) == 4 and summary.done < 40


def test_csv_has_every_row_with_its_columns(clf, tmp_path):
    root = tmp_path / "photos"
    _odd_folder(root)
    events, _ = drain(classify_folder(clf, [root]))
    rows = [r for ev in events[1:] for r in ev["rows"]]
    path = write_csv(tmp_path / "out" / "results.csv", rows, clf.classes)
    text = path.read_bytes().decode("utf-8-sig")
    assert text == csv_text(rows, clf.classes)
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == 19
    assert list(table[0]) == [
        "file", "path", "prediction", "confidence", "true class", "correct",
        "p(cat)", "p(raccoon)", "problem",
    ]  # fmt: skip
    unicode_row = next(t for t in table if t["file"] == "ünï cödé  name.png")
    assert unicode_row["true class"] == "raccoon"
    assert unicode_row["correct"] in ("yes", "no")
    assert float(unicode_row["p(cat)"]) + float(unicode_row["p(raccoon)"]) == pytest.approx(
        1, abs=1e-5
    )
    empty = next(t for t in table if t["file"] == "empty.png")
    assert empty["prediction"] == "" and "empty" in empty["problem"]


# -- huge pictures ---------------------------------------------------------------------------
def test_12_megapixel_photo_is_shrunk_while_reading(clf, tmp_path):
    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    path = tmp_path / "big.jpg"
    Image.fromarray(small).resize((4000, 3000)).save(path, quality=85)
    img = load_picture(clf, path)
    assert max(img.size) <= clf.image_size * 2
    probs, _ = classify_file(clf, path)
    assert probs.sum() == pytest.approx(1, abs=1e-5)


# -- evaluation --------------------------------------------------------------------------------
def test_confusion_matrix_matches_a_hand_count():
    labels = [0, 0, 0, 1, 1, 2, 2, 2]
    preds = [0, 1, 0, 1, 2, 2, 2, 0]
    assert confusion_matrix(labels, preds, 3).tolist() == [[2, 1, 0], [0, 1, 1], [1, 0, 2]]
    probs = np.eye(3)[preds] * 0.8 + 0.2 / 3
    ev = Evaluation(["a", "b", "c"], [f"p{i}" for i in range(8)], np.array(labels), probs)
    assert ev.matrix.tolist() == [[2, 1, 0], [0, 1, 1], [1, 0, 2]]
    assert ev.accuracy == pytest.approx(5 / 8)
    assert ev.class_accuracy() == pytest.approx({"a": 2 / 3, "b": 1 / 2, "c": 2 / 3})
    assert ev.row_shares[1].tolist() == pytest.approx([0, 0.5, 0.5])
    assert ev.cell(0, 1) == [1] and ev.cell(2, 0) == [7] and ev.cell(2, 2) == [5, 6]
    hardest = ev.hardest(3)
    assert set(hardest) == {1, 4, 7}, "the three mistakes have the highest loss"
    assert ev.losses()[0] == pytest.approx(-np.log(0.8 + 0.2 / 3))


def test_loaded_model_is_checked_on_the_workspace_only_with_its_classes(clf, tmp_path):
    ws = Workspace(make_dataset(tmp_path / "ws", per_class=4))
    _, ev = drain(evaluate_images(clf, ws.as_image_folder()))
    assert len(ev.paths) == 8 and ev.matrix.sum() == 8
    assert ev.labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    other = tiny_classifier(classes=("apple", "pear"))
    with pytest.raises(WorkspaceError, match="apple, pear"):
        drain(evaluate_images(other, ws.as_image_folder()))
    assert class_difference(["cat", "raccoon"], ["Cat", "raccoon"]) == ""
    assert "other classes (apple, pear)" in class_difference(["apple", "pear"], ["cat", "dog"])
    assert "another order" in class_difference(["raccoon", "cat"], ["cat", "raccoon"])


def test_relabel_and_remove_act_on_the_workspace_files(tmp_path):
    ws = Workspace(make_dataset(tmp_path / "ws", per_class=3))
    cat = ws.images("cat")[0]
    make_image(tmp_path / "ws" / "raccoon" / cat.name, 1)  # same name already there
    moved = relabel_image(ws, cat, "Raccoon")
    assert moved.parent.name == "raccoon" and moved.exists() and not cat.exists()
    assert moved.name != cat.name, "no file was overwritten"
    assert ws.count("cat") == 2 and ws.count("raccoon") == 5
    remove_image(ws, moved)
    assert not moved.exists() and ws.count("raccoon") == 4
    outside = make_image(tmp_path / "mine.png", 0)
    with pytest.raises(WorkspaceError, match="not in your image collection"):
        remove_image(ws, outside)
    assert outside.exists()
    with pytest.raises(WorkspaceError, match="no class called"):
        relabel_image(ws, ws.images("cat")[0], "dog")
    with pytest.raises(WorkspaceError, match="no longer there"):
        relabel_image(ws, moved, "cat")


# -- model files -------------------------------------------------------------------------------
def test_bad_model_files_say_what_is_wrong(clf, tmp_path):
    text = tmp_path / "notes.mlmodel"
    text.write_text("hello")
    empty = tmp_path / "empty.mlmodel"
    empty.write_bytes(b"")
    good = clf.save(tmp_path / "good.mlmodel")
    cut = tmp_path / "cut.mlmodel"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    notmodel = tmp_path / "weights.pt"
    torch.save({"weights": torch.zeros(3)}, notmodel)
    for path, words in (
        (text, "not an ML Lab model file, or it is damaged"),
        (empty, "empty"),
        (cut, "damaged"),
        (notmodel, "not an ML Lab classifier model"),
        (tmp_path / "missing.mlmodel", "does not exist"),
    ):
        with pytest.raises(ModelFileError, match=words):
            Classifier.load(path)
    again = Classifier.load(good)
    assert again.classes == clf.classes


def test_a_failed_save_leaves_the_old_file_whole(clf, tmp_path, monkeypatch):
    path = clf.save(tmp_path / "m.mlmodel")
    before = path.read_bytes()

    def crash(obj, fh, *args, **kwargs):
        fh.write(b"half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError):
        clf.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.mlmodel"], "no half-written leftovers"


# -- export round trips ------------------------------------------------------------------------
def _pictures(model, tmp_path, n=3):
    paths = [make_image(tmp_path / f"p{i}.png", i % 2, size=80, seed=i) for i in range(n)]
    return torch.stack([model.preprocess(load_picture(model, p)) for p in paths])


@pytest.mark.parametrize(
    "backbone", ["small_cnn", pytest.param("efficientnet_lite0", marks=pytest.mark.slow)]
)
def test_onnx_export_runs_in_onnxruntime_with_the_same_answers(tmp_path, backbone):
    model = tiny_classifier(size=64, backbone=backbone)
    path = tmp_path / "model.onnx"
    _, report = drain(export_model(model, path, "onnx"))
    assert report.checked_with == "onnxruntime" and report.max_difference < 1e-4
    x = _pictures(model, tmp_path)
    got = run_onnx(path, x)
    assert got.shape == (3, 2)
    assert np.allclose(got, model.predict_batch(x), atol=1e-5)
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["classes"]) == ["cat", "raccoon"] and meta["image_size"] == "64"


def test_torchscript_export_round_trip(clf, tmp_path):
    path = tmp_path / "model.pt"
    _, report = drain(export_model(clf, path, "torchscript"))
    assert report.max_difference == pytest.approx(0, abs=1e-6)
    x = _pictures(clf, tmp_path)
    assert np.allclose(run_torchscript(path, x), clf.predict_batch(x), atol=1e-6)
    files = {"ml_lab.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream
        torch.jit.load(str(path), _extra_files=files)
    assert json.loads(json.loads(files["ml_lab.json"])["classes"]) == ["cat", "raccoon"]


def test_a_failed_export_keeps_the_existing_file(clf, tmp_path, monkeypatch):
    import lab.core.export as export

    path = tmp_path / "model.onnx"
    drain(export_model(clf, path, "onnx"))
    before = path.read_bytes()
    monkeypatch.setattr(export, "onnx_bytes", lambda c: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        drain(export_model(clf, path, "onnx"))
    assert path.read_bytes() == before
