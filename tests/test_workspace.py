"""The image collection: classes as folders, and imports that survive whatever users bring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import make_dataset, make_image
from PIL import Image, ImageOps

# The odd-file builders live in test_images (pytest puts tests/ on sys.path, as for conftest).
from test_images import (
    BLUE,
    RED,
    WHITE,
    assert_near,
    noisy_rgb,
    write_16bit_png,
    write_animated_gif,
    write_bilevel_png,
    write_cmyk_jpeg,
    write_cut_short_jpeg,
    write_exif_rotated_jpeg,
    write_garbled_jpeg,
    write_palette_png_with_transparency,
    write_rgba_png,
)

from lab.core.training import run_to_end
from lab.core.workspace import ImportReport, Workspace, WorkspaceError, validate_class_name

UNICODE_NAME = "Mein Kätzchen  猫 фото (1).png"


def run(gen) -> tuple[list[dict], ImportReport]:
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as done:
            return events, done.value


def stored_by_stem(report: ImportReport) -> dict[str, Path]:
    return {p.stem: p for p in report.added}


def assert_clean_copy(path: Path, size: tuple[int, int]) -> Image.Image:
    """A stored copy is a plain upright RGB JPEG or PNG of the expected size."""
    img = Image.open(path)
    assert img.format in ("JPEG", "PNG"), path.name
    assert path.suffix == {"JPEG": ".jpg", "PNG": ".png"}[img.format], path.name
    assert img.mode == "RGB", f"{path.name} is {img.mode}"
    assert img.getexif().get(0x0112, 1) == 1, f"{path.name} still needs turning"
    assert "transparency" not in img.info
    assert img.size == size, path.name
    img.load()
    return img


@pytest.fixture
def mixed_bag(tmp_path) -> dict[str, Path]:
    """Good and bad files side by side, as a user's download folder would have them."""
    bag = tmp_path / "bag"
    bag.mkdir()
    files: dict[str, Path] = {}
    # good ones
    files["grey"] = bag / "grey.png"
    Image.fromarray(np.tile(np.arange(0, 256, 16, dtype=np.uint8), (8, 1)), "L").save(files["grey"])
    files["cutout"] = write_rgba_png(bag / "cutout.png")
    files["print"] = write_cmyk_jpeg(bag / "print.jpg")
    files["deep"] = write_16bit_png(bag / "deep.png", 32768)
    files["phone"] = write_exif_rotated_jpeg(bag / "phone.jpg", orientation=6)
    files["palette"] = write_palette_png_with_transparency(bag / "palette.png")
    files["blink"] = write_animated_gif(bag / "blink.gif")
    files["unicode"] = bag / UNICODE_NAME
    noisy_rgb(12, 10, seed=3).save(files["unicode"])
    files["photo"] = bag / "photo.jpg"
    noisy_rgb(40, 30, seed=4).save(files["photo"], quality=90)
    # bad ones
    files["empty"] = bag / "empty.jpg"
    files["empty"].write_bytes(b"")
    files["notes"] = bag / "notes.jpg"
    files["notes"].write_text("not a picture at all\n" * 10)
    files["cut_short"] = write_cut_short_jpeg(bag / "cut_short.jpg")
    files["garbled"] = write_garbled_jpeg(bag / "garbled.jpg")
    files["bomb"] = write_bilevel_png(bag / "bomb.png", 30000, 30000)
    return files


GOOD = ("grey", "cutout", "print", "deep", "phone", "palette", "blink", "unicode", "photo")
BAD_REASONS = {
    "empty.jpg": "empty",
    "notes.jpg": "not an image",
    "cut_short.jpg": "damaged",
    "garbled.jpg": "damaged",
    "bomb.png": "too large",
}


def test_import_mixed_bag_keeps_the_good_and_explains_the_bad(tmp_path, mixed_bag):
    ws = Workspace(tmp_path / "ws")
    events, report = run(ws.import_images("things", list(mixed_bag.values())))

    assert ws.classes() == ["things"]
    # every file was looked at, one progress step each
    assert [e["done"] for e in events] == list(range(1, len(mixed_bag) + 1))
    assert {e["total"] for e in events} == {len(mixed_bag)}
    assert all(e["kind"] == "import" for e in events)
    assert {e["file"] for e in events} == {p.name for p in mixed_bag.values()}

    # the bad ones are named, each with a reason that says what is wrong
    skipped = dict(report.skipped)
    assert set(skipped) == set(BAD_REASONS), report.summary()
    for name, word in BAD_REASONS.items():
        assert word in skipped[name], f"{name}: {skipped[name]!r} should say {word!r}"
    assert report.duplicates == []

    # the good ones are all there, as clean copies inside the class folder
    assert len(report.added) == len(GOOD), report.summary()
    assert sorted(ws.images("things")) == sorted(report.added)
    assert ws.count("things") == len(GOOD)
    for path in report.added:
        assert path.parent == ws.root / "things"
    by_stem = stored_by_stem(report)
    assert set(by_stem) == {mixed_bag[k].stem for k in GOOD}
    stored = {k: by_stem[mixed_bag[k].stem] for k in GOOD}

    grey = np.asarray(assert_clean_copy(stored["grey"], (16, 8)))
    assert np.array_equal(grey[..., 0], grey[..., 2]) and grey[0, 5, 0] == 80

    cutout = assert_clean_copy(stored["cutout"], (40, 20))
    assert cutout.getpixel((5, 10)) == WHITE
    assert cutout.getpixel((30, 10)) == RED

    assert_near(assert_clean_copy(stored["print"], (16, 16)).getpixel((8, 8)), RED, tol=20)

    assert_near(assert_clean_copy(stored["deep"], (16, 16)).getpixel((8, 8)), (128,) * 3, tol=1)

    phone = assert_clean_copy(stored["phone"], (30, 60))  # upright: portrait
    assert_near(phone.getpixel((26, 3)), RED, tol=40)
    assert_near(phone.getpixel((26, 56)), BLUE, tol=40)

    palette = assert_clean_copy(stored["palette"], (20, 20))
    assert palette.getpixel((2, 2)) == WHITE
    assert palette.getpixel((15, 2)) == BLUE

    assert assert_clean_copy(stored["blink"], (16, 16)).getpixel((8, 8)) == RED

    # already clean files are copied byte for byte, under their own names
    assert stored["unicode"].name == UNICODE_NAME
    assert stored["unicode"].read_bytes() == mixed_bag["unicode"].read_bytes()
    assert stored["photo"].read_bytes() == mixed_bag["photo"].read_bytes()

    # the report reads well for a person
    text = report.summary()
    assert text.startswith(f"Added {len(GOOD)} images.")
    assert "Skipped 5" in text and "notes.jpg" in text


def test_importing_the_same_files_twice_adds_nothing_new(tmp_path, mixed_bag):
    ws = Workspace(tmp_path / "ws")
    good = [mixed_bag[k] for k in GOOD]
    _, first = run(ws.import_images("things", good))
    before = {p: p.read_bytes() for p in ws.images("things")}
    assert len(first.added) == len(GOOD)

    _, second = run(ws.import_images("things", good))
    assert second.added == []
    assert sorted(second.duplicates) == sorted(p.name for p in good)
    assert second.skipped == []
    after = {p: p.read_bytes() for p in ws.images("things")}
    assert after == before, "nothing may be added, renamed or rewritten"
    assert "already there" in second.summary()


def test_same_picture_under_two_names_in_one_import_is_kept_once(tmp_path):
    a = make_image(tmp_path / "in" / "a.png", 0, seed=7)
    b = tmp_path / "in" / "copy of a.png"
    b.write_bytes(a.read_bytes())
    c = make_image(tmp_path / "in" / "other.png", 1, seed=8)
    ws = Workspace(tmp_path / "ws")
    _, report = run(ws.import_images("cat", [a, b, c]))
    assert [p.name for p in report.added] == ["a.png", "other.png"]
    assert report.duplicates == ["copy of a.png"]
    assert ws.count("cat") == 2


def test_same_name_different_picture_gets_a_free_name(tmp_path):
    first = make_image(tmp_path / "one" / "pic.png", 0, seed=1)
    second = make_image(tmp_path / "two" / "pic.png", 0, seed=2)
    ws = Workspace(tmp_path / "ws")
    run(ws.import_images("cat", [first]))
    _, report = run(ws.import_images("cat", [second]))
    assert [p.name for p in report.added] == ["pic_2.png"]
    assert (ws.root / "cat" / "pic.png").read_bytes() == first.read_bytes()
    assert (ws.root / "cat" / "pic_2.png").read_bytes() == second.read_bytes()


def test_import_a_folder_reports_non_image_files(tmp_path):
    src = tmp_path / "holiday"
    make_image(src / "a.png", 0, seed=1)
    make_image(src / "deeper" / "b.jpg", 1, seed=2)
    (src / "readme.txt").write_text("photos from the trip")
    (src / "Thumbs.db").write_bytes(b"\x00" * 10)  # clutter nobody needs to hear about
    (src / ".hidden.png").write_bytes(b"")
    ws = Workspace(tmp_path / "ws")
    _, report = run(ws.import_images("trip", [src, tmp_path / "missing.png"]))
    assert sorted(p.name for p in report.added) == ["a.png", "b.jpg"]
    assert dict(report.skipped) == {
        "readme.txt": "not an image file",
        "missing.png": "the file does not exist",
    }


def test_large_photo_is_stored_smaller(tmp_path):
    yy, xx = np.mgrid[0:1800, 0:2400]
    arr = np.stack([xx % 256, yy % 256, (xx + yy) % 256], axis=-1).astype(np.uint8)
    Image.fromarray(arr, "RGB").save(tmp_path / "big.jpg", quality=85)
    ws = Workspace(tmp_path / "ws")
    _, report = run(ws.import_images("big", [tmp_path / "big.jpg"]))
    (stored,) = report.added
    with Image.open(stored) as img:
        assert max(img.size) == 1024
        assert abs(img.size[0] / img.size[1] - 4 / 3) < 0.01


# -- classes ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("", "name"),
        ("   ", "name"),
        ("cats/dogs", "cannot contain"),
        ("cats\\dogs", "cannot contain"),
        ("what?", "cannot contain"),
        ("..", "dot"),
        (".hidden", "dot"),
        ("x" * 61, "60"),
    ],
)
def test_bad_class_names_are_refused_with_a_reason(tmp_path, name, word):
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(WorkspaceError) as info:
        ws.add_class(name)
    assert word in str(info.value)
    assert ws.classes() == []
    assert list(ws.root.iterdir()) == [], "nothing may be created"


def test_class_name_is_trimmed():
    assert validate_class_name("  red panda ") == "red panda"
    assert validate_class_name("Ünïcode 猫") == "Ünïcode 猫"


def test_add_class_refuses_duplicates_whatever_the_case(tmp_path):
    ws = Workspace(tmp_path / "ws")
    assert ws.add_class(" cat ") == "cat"
    assert ws.classes() == ["cat"]
    for again in ("cat", "Cat", "CAT "):
        with pytest.raises(WorkspaceError, match="already a class called"):
            ws.add_class(again)
    assert ws.classes() == ["cat"]


def test_rename_class_keeps_its_images(tmp_path):
    ws = Workspace(tmp_path / "ws")
    run(ws.import_images("cat", [make_image(tmp_path / "a.png", 0)]))
    assert ws.rename_class("cat", "kitten") == "kitten"
    assert ws.classes() == ["kitten"]
    assert ws.count("kitten") == 1
    assert ws.count("cat") == 0
    assert ws.rename_class("kitten", "Kitten") == "Kitten"  # a change of case is allowed
    assert ws.classes() == ["Kitten"]


def test_rename_class_rules(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.add_class("cat")
    ws.add_class("raccoon")
    with pytest.raises(WorkspaceError, match="already a class called"):
        ws.rename_class("cat", "raccoon")
    with pytest.raises(WorkspaceError, match="already a class called"):
        ws.rename_class("cat", "RACCOON")
    with pytest.raises(WorkspaceError, match="no class called"):
        ws.rename_class("dog", "wolf")
    with pytest.raises(WorkspaceError, match="cannot contain"):
        ws.rename_class("cat", "c/at")
    with pytest.raises(WorkspaceError, match="needs a name"):
        ws.rename_class("cat", " ")
    assert ws.classes() == ["cat", "raccoon"]


def test_delete_class(tmp_path):
    ws = Workspace(tmp_path / "ws")
    run(ws.import_images("cat", [make_image(tmp_path / "a.png", 0)]))
    ws.add_class("raccoon")
    outside = make_image(tmp_path / "keep.png", 1)
    with pytest.raises(WorkspaceError, match="no class called"):
        ws.delete_class("dog")
    for sneaky in ("", ".", "..", "../ws"):
        with pytest.raises(WorkspaceError):
            ws.delete_class(sneaky)
    ws.delete_class("cat")
    assert ws.classes() == ["raccoon"]
    assert not (ws.root / "cat").exists()
    assert outside.exists()
    assert ws.root.is_dir()


# -- importing a CLASS/IMAGE folder -------------------------------------------------------------
def test_import_tree_makes_a_class_per_folder(tmp_path):
    src = make_dataset(tmp_path / "photos", per_class=3, size=24)
    (src / "cat" / "notes.txt").write_text("these are cats")
    (src / "loose.png").write_bytes((src / "cat" / "cat_000.png").read_bytes())  # not in a class
    ws = Workspace(tmp_path / "ws")
    events, report = run(ws.import_tree(src))
    assert ws.classes() == ["cat", "raccoon"]
    assert ws.count("cat") == 3 and ws.count("raccoon") == 3
    assert len(report.added) == 6
    assert report.skipped == [("notes.txt", "not an image file")]
    assert [e["done"] for e in events] == list(range(1, 7))
    assert {e["total"] for e in events} == {6}
    for name in ("cat", "raccoon"):
        for i in range(3):
            stored = ws.root / name / f"{name}_{i:03d}.png"
            assert stored.read_bytes() == (src / name / stored.name).read_bytes()

    # a second import of the same tree adds nothing
    _, again = run(ws.import_tree(src))
    assert again.added == [] and len(again.duplicates) == 6
    assert ws.count("cat") == 3


def test_import_tree_joins_an_existing_class_whatever_the_case(tmp_path):
    src = tmp_path / "photos"
    make_image(src / "Cat" / "new.png", 0, seed=11)
    ws = Workspace(tmp_path / "ws")
    run(ws.import_images("cat", [make_image(tmp_path / "old.png", 0, seed=10)]))
    _, report = run(ws.import_tree(src))
    assert [p.name for p in report.added] == ["new.png"]
    assert ws.classes() == ["cat"], "'Cat' and 'cat' are the same class"
    assert ws.count("cat") == 2


def test_import_tree_needs_class_folders(tmp_path):
    flat = tmp_path / "flat"
    make_image(flat / "a.png", 0)
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match="no sub-folders"):
        run_to_end(ws.import_tree(flat))
    with pytest.raises(WorkspaceError, match="not a folder"):
        run_to_end(ws.import_tree(tmp_path / "nowhere"))
    assert ws.classes() == []


def test_import_tree_with_bad_files_still_imports_the_rest(tmp_path):
    src = tmp_path / "photos"
    make_image(src / "cat" / "ok.png", 0)
    (src / "cat" / "empty.jpg").write_bytes(b"")
    (src / "raccoon").mkdir()
    write_cut_short_jpeg(src / "raccoon" / "broken.jpg")
    make_image(src / "raccoon" / "fine.jpg", 1)
    ws = Workspace(tmp_path / "ws")
    report = run_to_end(ws.import_tree(src))
    assert sorted(p.name for p in report.added) == ["fine.jpg", "ok.png"]
    skipped = dict(report.skipped)
    assert "empty" in skipped["empty.jpg"]
    assert "damaged" in skipped["broken.jpg"]
    # what was stored trains: every copy opens as upright RGB
    for name in ws.classes():
        for p in ws.images(name):
            with Image.open(p) as img:
                assert ImageOps.exif_transpose(img).mode == "RGB"
