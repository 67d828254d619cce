"""A user's folder dataset: loading (void0 / ignore255), statistics, structural and pixel checks, the
target resolver and ``transel data check``."""
import json
import re
import sys

import numpy as np
import pytest
from PIL import Image

from transel_jax.data import catalog, folder

CLASSES = ["sky", "road", "car"]  # C = 3 real classes


def _image(seed, h, w):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _label(seed, h, w, high):
    """void0 label values in [0, high] (0 = void)."""
    return np.random.default_rng(1000 + seed).integers(0, high + 1, (h, w)).astype(np.uint8)


SIZES = {"train": [(6, 8), (5, 7), (9, 4)], "val": [(4, 4)]}


def write_folder(root, *, convention="void0", sizes=SIZES, meta=None, image_ext=".png"):
    """Write a tiny folder; returns {split: [(stem, image uint8, void0 label uint8)]} in sorted stem order.

    The same examples are written in either convention: ignore255 stores label v - 1 for v >= 1 and 255
    for void.
    """
    written = {}
    for split, shapes in sizes.items():
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        written[split] = []
        for i, (h, w) in enumerate(shapes):
            seed = {"train": 0, "val": 100, "test": 200}[split] + i
            image, label = _image(seed, h, w), _label(seed, h, w, len(CLASSES))
            stored = label if convention == "void0" else np.where(label == 0, 255, label - 1).astype(np.uint8)
            stem = f"img_{i:02d}"
            Image.fromarray(image).save(root / "images" / split / f"{stem}{image_ext}", quality=100)
            Image.fromarray(stored, mode="L").save(root / "labels" / split / f"{stem}.png")
            written[split].append((stem, image, label))
    lines = (["void"] if convention == "void0" else []) + CLASSES
    (root / "classes.txt").write_text("\n".join(lines) + "\n")
    if meta is not None:
        (root / "dataset.json").write_text(json.dumps(meta))
    return written


def test_loader_examples_equal_what_was_written(tmp_path):
    written = write_folder(tmp_path / "mydata", meta={"domain": "driving"})
    ds = folder.load_folder(tmp_path / "mydata")
    info = ds.info
    assert info.name == "mydata" and info.suite == "folder" and info.domain == "driving"
    assert info.class_names == ("void", "sky", "road", "car") and info.num_classes == 3
    assert dict(info.splits) == {"train": 3, "validation": 1}
    assert info.target_train_size == 3
    for split in ("train", "validation"):
        src = ds.split(split)
        assert len(src) == len(written["train" if split == "train" else "val"])
        for i, (stem, image, label) in enumerate(written["train" if split == "train" else "val"]):
            ex = src[i]
            assert src.stems[i] == stem
            assert ex["image"].dtype == np.uint8 and ex["image"].shape == image.shape
            np.testing.assert_array_equal(ex["image"], image)
            assert ex["label"].dtype == np.uint8
            np.testing.assert_array_equal(ex["label"], label)
    np.testing.assert_array_equal(ds.split("val")[-1]["label"], written["val"][-1][2])  # alias, negative index
    with pytest.raises(ValueError, match="split: expected one of"):
        ds.split("test")
    with pytest.raises(IndexError):
        ds.split("train")[3]


def test_ignore255_folder_yields_the_same_examples_as_void0(tmp_path):
    a = write_folder(tmp_path / "a")
    write_folder(tmp_path / "b", convention="ignore255", meta={"labels": "ignore255"})
    write_folder(tmp_path / "c", convention="ignore255")  # undeclared: the keyword declares it
    da = folder.load_folder(tmp_path / "a")
    for db in (folder.load_folder(tmp_path / "b"), folder.load_folder(tmp_path / "c", labels="ignore255")):
        assert db.info.class_names == da.info.class_names
        assert db.info.mean == da.info.mean and db.info.std == da.info.std
        for i in range(3):
            for key in ("image", "label"):
                np.testing.assert_array_equal(db.split("train")[i][key], da.split("train")[i][key])
    # the stored ignore255 values really contain 255 and 0..C-1
    raw = np.asarray(Image.open(tmp_path / "b" / "labels" / "train" / "img_00.png"))
    assert 255 in raw and raw[raw != 255].max() <= len(CLASSES) - 1
    assert (da.split("train")[0]["label"] == 0).sum() == (raw == 255).sum() == (a["train"][0][2] == 0).sum()


def test_mean_std_and_resolution_against_numpy(tmp_path):
    sizes = {"train": [(6, 8), (5, 7), (9, 4), (7, 7)]}
    written = write_folder(tmp_path / "d", sizes=sizes)
    info = folder.load_folder(tmp_path / "d").info
    pixels = np.concatenate([img.reshape(-1, 3).astype(np.float64) for _, img, _ in written["train"]])
    np.testing.assert_allclose(info.mean, pixels.mean(0), rtol=1e-12)
    np.testing.assert_allclose(info.std, pixels.std(0), rtol=1e-10)
    assert info.resolution == (7, 7)  # median heights (5,6,7,9) -> 6.5 -> 7, widths (4,7,7,8) -> 7
    given = folder.load_folder(tmp_path / "d", labels="void0")
    assert given.info.resolution == (7, 7)
    (tmp_path / "d" / "dataset.json").write_text(json.dumps({"mean": [1, 2, 3], "std": [4, 5, 6],
                                                             "resolution": [32, 48]}))
    info = folder.load_folder(tmp_path / "d").info
    assert info.mean == (1.0, 2.0, 3.0) and info.std == (4.0, 5.0, 6.0) and info.resolution == (32, 48)


def test_grayscale_jpeg_and_16bit_labels(tmp_path):
    root = tmp_path / "g"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    gray = _image(0, 5, 6)[..., 0]
    Image.fromarray(gray, mode="L").save(root / "images" / "train" / "a.png")
    Image.fromarray(_image(1, 5, 6)).save(root / "images" / "train" / "b.JPG")
    lab = np.array([[0, 1, 2, 3, 3, 0]] * 5, np.uint16)
    Image.fromarray(lab).save(root / "labels" / "train" / "a.png")  # 16-bit
    Image.fromarray(lab.astype(np.uint8), mode="L").convert("P").save(root / "labels" / "train" / "b.png")
    (root / "classes.txt").write_text("void\n" + "\n".join(CLASSES))
    src = folder.load_folder(root).split("train")
    assert src.stems == ("a", "b")
    np.testing.assert_array_equal(src[0]["image"], np.repeat(gray[..., None], 3, axis=2))
    assert src[1]["image"].shape == (5, 6, 3)
    for i in range(2):
        np.testing.assert_array_equal(src[i]["label"], lab)


# ------------------------------------------------------------------------------ bad folders


def _corrupt(root, what):
    tr = root / "images" / "train"
    if what == "unpaired":
        (root / "labels" / "train" / "img_01.png").unlink()
        Image.fromarray(np.zeros((3, 3), np.uint8)).save(root / "labels" / "val" / "orphan.png")
    elif what == "no_train":
        for sub in ("images", "labels"):
            for p in (root / sub / "train").iterdir():
                p.unlink()
            (root / sub / "train").rmdir()
    elif what == "no_labels_dir":
        for p in sorted((root / "labels").rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        (root / "labels").rmdir()
    elif what == "no_classes":
        (root / "classes.txt").unlink()
    elif what == "empty_classes":
        (root / "classes.txt").write_text("\n\n")
    elif what == "json_key":
        (root / "dataset.json").write_text(json.dumps({"label": "ignore255"}))
    elif what == "json_value":
        (root / "dataset.json").write_text(json.dumps({"labels": "ignore0"}))
    elif what == "json_syntax":
        (root / "dataset.json").write_text("{labels: void0")
    elif what == "empty_split":
        (root / "images" / "test").mkdir()
        (root / "labels" / "test").mkdir()
    elif what == "jpeg_label":
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(root / "labels" / "val" / "img_00.jpg")
    # pixel-level problems (found when reading / by check_folder)
    elif what == "value_255":
        lab = np.asarray(Image.open(root / "labels" / "train" / "img_01.png")).copy()
        lab[0, 0] = 255
        Image.fromarray(lab).save(root / "labels" / "train" / "img_01.png")
    elif what == "value_4":
        lab = np.asarray(Image.open(root / "labels" / "train" / "img_01.png")).copy()
        lab[0, 0] = 4
        Image.fromarray(lab).save(root / "labels" / "train" / "img_01.png")
    elif what == "unreadable":
        (tr / "img_01.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not a png")
    elif what == "size":
        Image.fromarray(np.zeros((3, 3), np.uint8)).save(root / "labels" / "train" / "img_01.png")
    elif what == "rgb_label":
        Image.fromarray(np.zeros((5, 7, 3), np.uint8)).save(root / "labels" / "train" / "img_01.png")


STRUCTURAL = [
    ("unpaired", [r"train .*1 image\(s\) without a label map: img_01.png",
                  r"validation \(images/val, labels/val\): 1 label map\(s\) without an image: orphan.png"]),
    ("no_train", [r"images/train: missing, the train split is required"]),
    ("no_labels_dir", [r"/labels: missing directory"]),
    ("no_classes", [r"classes.txt: missing"]),
    ("empty_classes", [r"classes.txt: empty"]),
    ("json_key", [r"dataset.json: unknown key\(s\) \['label'\]"]),
    ("json_value", [r"dataset.json: \"labels\": expected one of \['void0', 'ignore255'\], got 'ignore0'"]),
    ("json_syntax", [r"dataset.json: unreadable JSON"]),
    ("empty_split", [r"test .*empty split"]),
    ("jpeg_label", [r"label map\(s\) not PNG .*img_00.jpg"]),
]
# (what, error when the example is read, problem line of check_folder)
PIXEL = [
    ("value_255", r"img_01.png: expected label values in 0..3 \(void0, 3 classes in classes.txt\), got 255; "
                  r"declare \"labels\": \"ignore255\" in dataset.json if 255 means ignore",
     r"train: 1 label map\(s\) with values outside the classes: img_01.png \[255\]; .*got 255; declare"),
    ("value_4", r"img_01.png: expected label values in 0..3 .*got 4$",
     r"train: 1 label map\(s\) with values outside the classes: img_01.png \[4\]; .*got 4$"),
    ("unreadable", r"images/train/img_01.png: unreadable image",
     r"train: 1 unreadable file\(s\): images/train/img_01.png \("),
    ("size", r"img_01.png: expected the size of its image 5x7 \(HxW\), got 3x3",
     r"train: 1 image/label size mismatch\(es\) \(HxW\): img_01 \(image 5x7, label 3x3\)"),
    ("rgb_label", r"img_01.png: expected a single-channel label map .*got mode RGB",
     r"train: 1 label map\(s\) not single-channel: labels/train/img_01.png \(expected a single-channel"),
]
# statistics given, so that loading opens no image and every pixel problem shows when an example is read
GIVEN = {"mean": [100, 100, 100], "std": [50, 50, 50], "resolution": [8, 8]}


@pytest.mark.parametrize("what,patterns", STRUCTURAL, ids=[w for w, _ in STRUCTURAL])
def test_structural_problems_raise_at_load_and_are_reported(tmp_path, what, patterns):
    write_folder(tmp_path / "x")
    _corrupt(tmp_path / "x", what)
    with pytest.raises(ValueError) as err:
        folder.load_folder(tmp_path / "x")
    report = folder.check_folder(tmp_path / "x", progress=False)
    assert not report.ok
    for pattern in patterns:
        assert any(re.search(pattern, line) for line in str(err.value).splitlines()), str(err.value)
        assert any(re.search(pattern, p) for p in report.problems), report.problems


@pytest.mark.parametrize("what,on_read,in_report", PIXEL, ids=[w for w, _, _ in PIXEL])
def test_pixel_problems_raise_on_read_and_are_reported(tmp_path, what, on_read, in_report):
    write_folder(tmp_path / "x", meta=GIVEN)
    _corrupt(tmp_path / "x", what)
    src = folder.load_folder(tmp_path / "x").split("train")
    assert src[0]["label"].shape == (6, 8) and src[2]["label"].shape == (9, 4)  # the others still read
    with pytest.raises(ValueError) as err:
        src[1]
    assert re.search(on_read, str(err.value)), str(err.value)
    report = folder.check_folder(tmp_path / "x", progress=False)
    assert len(report.problems) == 1, report.problems
    assert re.search(in_report, report.problems[0]), report.problems


def test_unreadable_image_fails_the_statistics_pass_naming_the_file(tmp_path):
    write_folder(tmp_path / "x")
    _corrupt(tmp_path / "x", "unreadable")
    with pytest.raises(ValueError, match=r"img_01.png: unreadable image"):
        folder.load_folder(tmp_path / "x")


def test_size_mismatch_on_read_names_both_sizes(tmp_path):
    write_folder(tmp_path / "x")
    _corrupt(tmp_path / "x", "size")
    with pytest.raises(ValueError, match=r"img_01.png: expected the size of its image 5x7 \(HxW\), got 3x3"):
        folder.load_folder(tmp_path / "x").split("train")[1]


def test_ignore255_rejects_values_between_classes_and_255(tmp_path):
    write_folder(tmp_path / "x", convention="ignore255", meta={"labels": "ignore255"})
    _corrupt(tmp_path / "x", "value_4")  # 4 > C - 1 = 2 and not 255
    report = folder.check_folder(tmp_path / "x", progress=False)
    assert len(report.problems) == 1 and "0..2 and 255" in report.problems[0] and "got 4" in report.problems[0]
    assert "declare" not in report.problems[0]


def test_missing_folder(tmp_path):
    with pytest.raises(ValueError, match=r"nowhere: not a directory"):
        folder.load_folder(tmp_path / "nowhere")
    report = folder.check_folder(tmp_path / "nowhere", progress=False)
    assert not report.ok and report.counts == {} and "not a directory" in report.problems[0]


def test_check_shows_a_progress_bar(tmp_path, capsys):
    write_folder(tmp_path / "p")
    assert folder.check_folder(tmp_path / "p").ok
    assert "checking train" in capsys.readouterr().err


def test_labels_argument_is_validated(tmp_path):
    write_folder(tmp_path / "x")
    with pytest.raises(ValueError, match=r"labels: expected one of \('void0', 'ignore255'\) or None, got 'void'"):
        folder.load_folder(tmp_path / "x", labels="void")


# ------------------------------------------------------------------------------ check report


def test_check_histogram_counts_every_pixel(tmp_path):
    written = write_folder(tmp_path / "h")
    report = folder.check_folder(tmp_path / "h", progress=False)
    assert report.ok and report.problems == []
    assert report.counts == {"train": 3, "validation": 1}
    for split, key in (("train", "train"), ("validation", "val")):
        expect = np.bincount(np.concatenate([lab.ravel() for _, _, lab in written[key]]), minlength=4)
        np.testing.assert_array_equal(report.histogram[split], expect)


def test_check_histogram_excludes_invalid_pixels(tmp_path):
    written = write_folder(tmp_path / "h")
    _corrupt(tmp_path / "h", "value_255")
    report = folder.check_folder(tmp_path / "h", progress=False)
    labels = [lab.copy() for _, _, lab in written["train"]]
    labels[1][0, 0] = 255
    expect = np.bincount(np.concatenate([lab.ravel() for lab in labels]), minlength=256)[:4]
    np.testing.assert_array_equal(report.histogram["train"], expect)


# ------------------------------------------------------------------------------ resolver


def test_resolve_target_catalog_name_and_folder(tmp_path):
    assert "syn_drive_small" in catalog.names()
    t = folder.resolve_target("syn_drive_small", resolution=16)
    assert t.kind == "catalog" and t.info == catalog.info("syn_drive_small")
    val = t.split("val")
    assert len(val) == catalog.info("syn_drive_small").splits["validation"]
    ref = catalog.load("syn_drive_small", "validation", resolution=16)[0]
    np.testing.assert_array_equal(val[0]["image"], ref["image"])
    with pytest.raises(TypeError, match="labels: only for folder targets"):
        folder.resolve_target("syn_drive_small", labels="ignore255")

    written = write_folder(tmp_path / "mine")
    t = folder.resolve_target(str(tmp_path / "mine"))
    assert t.kind == "folder" and t.info.name == "mine" and t.info.splits == {"train": 3, "validation": 1}
    np.testing.assert_array_equal(t.split("train")[2]["label"], written["train"][2][2])
    assert folder.resolve_target(tmp_path / "mine").info == t.info
    with pytest.raises(ValueError, match="split: expected one of"):
        t.split("test")
    with pytest.raises(TypeError, match="seed: unexpected keyword for folder target"):
        folder.resolve_target(tmp_path / "mine", seed=0)
    with pytest.raises(ValueError, match="expected a folder dataset path or a catalog dataset name"):
        folder.resolve_target("no_such_dataset_or_dir")


def test_resolve_target_ambiguous_bare_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_folder(tmp_path / "syn_drive_small")
    with pytest.raises(ValueError, match="both a catalog dataset and a directory"):
        folder.resolve_target("syn_drive_small")
    assert folder.resolve_target("./syn_drive_small").kind == "folder"


# ------------------------------------------------------------------------------ CLI


def test_cli_check_return_codes_and_histogram(tmp_path, capsys):
    from transel_jax.cli import main

    written = write_folder(tmp_path / "ok")
    assert main(["data", "check", str(tmp_path / "ok"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "labels void0 (default), 3 classes" in out and "splits: train 3, validation 1" in out
    road = sum(int((lab == 2).sum()) for _, _, lab in written["train"])
    void = sum(int((lab == 0).sum()) for _, _, lab in written["train"])
    lines = out.splitlines()
    road_line = next(line for line in lines if line.split()[:2] == ["2", "road"])
    void_line = next(line for line in lines if line.split()[:2] == ["-", "void"])
    assert int(road_line.split()[2]) == road and int(void_line.split()[2]) == void
    assert "ok: no problems found" in out

    write_folder(tmp_path / "bad")
    _corrupt(tmp_path / "bad", "value_255")
    assert main(["data", "check", str(tmp_path / "bad"), "--no-progress"]) == 2
    out = capsys.readouterr().out
    assert "1 problem(s):" in out and "ignore255" in out
    # a void0 classes.txt read as ignore255: its 'void' line would become a class
    assert main(["data", "check", str(tmp_path / "bad"), "--labels", "ignore255", "--no-progress"]) == 2
    assert "line 0 is 'void', but with ignore255 there is no void line" in capsys.readouterr().out
    # an undeclared ignore255 folder: 255 is out of range in void0 (with the hint), clean once declared
    write_folder(tmp_path / "i255", convention="ignore255")
    assert main(["data", "check", str(tmp_path / "i255"), "--no-progress"]) == 2
    assert 'got 255; declare "labels": "ignore255"' in capsys.readouterr().out
    assert main(["data", "check", str(tmp_path / "i255"), "--labels", "ignore255", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "labels ignore255 (labels= argument), 3 classes" in out and "ok: no problems found" in out
    void_line = next(line for line in out.splitlines() if line.split()[:2] == ["-", "void"])
    assert int(void_line.split()[2]) == void  # 255 counted as void, the same pixels as in the void0 folder


def test_folder_module_does_not_import_jax():
    import subprocess

    code = "import sys, transel_jax.data.folder; print('jax' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_check_notes_a_void_line_that_looks_like_a_class(tmp_path):
    write_folder(tmp_path / "n")
    (tmp_path / "n" / "classes.txt").write_text("background\n" + "\n".join(CLASSES) + "\n")
    report = folder.check_folder(tmp_path / "n", progress=False)
    assert report.ok and report.class_names == ("void", "sky", "road", "car")
    assert any("line 0 ('background') is taken as void" in note for note in report.notes), report.notes
