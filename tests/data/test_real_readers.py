"""Every real-dataset reader on a tiny fake tree written in that dataset's original layout.

Each writer below puts a few tiny images and label files where the official download puts them, with
label pixels in the dataset's own encoding (ids, colours, segment ids, polygons, .mat), and returns the
labels we expect: the class index of a *named* class of the release's table (e.g. Cityscapes labelId 26
must become the index of "car"), void for the dataset's void/ignore encodings.
"""
import json

import numpy as np
import pytest
from PIL import Image

from transel_jax.data import catalog
from transel_jax.data.real import MissingDataError, driving
from transel_jax.data.real.classes import CLASSES

H, W = 6, 8


def _pattern(seed, k):
    """[H, W] indices into a list of k raw codes; every code occurs."""
    rng = np.random.default_rng(seed)
    p = rng.integers(0, k, size=(H, W))
    p.flat[:k] = np.arange(k)
    return p


def _save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path)


def _image(path, seed):
    _save(path, np.random.default_rng(seed).integers(0, 256, size=(H, W, 3), dtype=np.uint8))


def _ids(path, seed, codes, dtype=np.uint8):
    """Write an id-coded label PNG; return the [H, W] pattern."""
    p = _pattern(seed, len(codes))
    _save(path, np.array(codes, dtype)[p])
    return p


def _colours(path, seed, colours):
    p = _pattern(seed, len(colours))
    _save(path, np.array(colours, np.uint8)[p])
    return p


def _expect(name, pattern, names):
    """Expected labels: names[k] is a class name of ``name`` or None (void) for raw code k."""
    index = [0 if n is None else CLASSES[name].index(n) for n in names]
    return np.array(index)[pattern]


# ----------------------------------------------------------------------------------- consumer datasets


def write_ade20k(root):
    base = root / "ADEChallengeData2016"
    out = []
    splits = [("train", "training", "ADE_train_00000001"), ("validation", "validation", "ADE_val_00000001")]
    for split, sub, stem in splits:
        _image(base / "images" / sub / f"{stem}.jpg", 1)
        p = _ids(base / "annotations" / sub / f"{stem}.png", 2, [0, 13, 150, 1])
        out.append((split, stem, _expect("ade20k", p, [None, "person", "flag", "wall"])))
    return out


def write_pvoc(root):
    base = root / "VOCdevkit" / "VOC2012"
    out = []
    for split, listed, stem in [("train", "train.txt", "2007_000032"), ("validation", "val.txt", "2007_000033")]:
        (base / "ImageSets" / "Segmentation").mkdir(parents=True, exist_ok=True)
        (base / "ImageSets" / "Segmentation" / listed).write_text(stem + "\n")
        _image(base / "JPEGImages" / f"{stem}.jpg", 3)
        p = _pattern(4, 4)
        index = np.array([0, 15, 255, 1], np.uint8)[p]
        png = Image.fromarray(index, mode="P")
        png.putpalette([v for i in range(256) for v in (i, 255 - i, i // 2)])
        (base / "SegmentationClass").mkdir(parents=True, exist_ok=True)
        png.save(base / "SegmentationClass" / f"{stem}.png")
        out.append((split, stem, _expect("pvoc", p, [None, "person", None, "aeroplane"])))
    return out


def write_pcontext(root):
    from scipy.io import savemat

    names = list(CLASSES["pcontext"][1:])
    full = ["accordion", "air conditioner"] + names[::-1]  # ids 1.. in an order unlike ours
    (root / "labels.txt").parent.mkdir(parents=True, exist_ok=True)
    (root / "labels.txt").write_text("".join(f"{i}: {n}\n" for i, n in enumerate(full, start=1)))
    ident = {n: i for i, n in enumerate(full, start=1)}
    out = []
    for split, listed, stem in [("train", "train.txt", "2008_000002"), ("validation", "val.txt", "2008_000003")]:
        (root / listed).write_text(stem + "\n")
        _image(root / "VOCdevkit" / "VOC2010" / "JPEGImages" / f"{stem}.jpg", 5)
        p = _pattern(6, 4)
        label_map = np.array([ident["cat"], ident["accordion"], 0, ident["wood"]], np.uint16)[p]
        (root / "trainval").mkdir(exist_ok=True)
        savemat(root / "trainval" / f"{stem}.mat", {"LabelMap": label_map})
        out.append((split, stem, _expect("pcontext", p, ["cat", None, None, "wood"])))
    return out


def write_coco(root):
    categories = [{"id": 1, "name": "person"}, {"id": 184, "name": "tree-merged"}, {"id": 3, "name": "car"}]
    out = []
    for split, year in [("train", "train2017"), ("validation", "val2017")]:
        stem = "000000000009" if split == "train" else "000000000139"
        _image(root / year / f"{stem}.jpg", 7)
        segments = [0, 5, 300, 70000]  # 0 = unlabelled; 70000 is in the PNG but not in segments_info
        p = _pattern(8, 4)
        seg = np.array(segments)[p]
        rgb = np.stack([seg % 256, (seg // 256) % 256, seg // 65536], -1).astype(np.uint8)
        _save(root / "annotations" / f"panoptic_{year}" / f"{stem}.png", rgb)
        info = [{"id": 5, "category_id": 1}, {"id": 300, "category_id": 184}]
        annotation = {"file_name": f"{stem}.png", "image_id": int(stem), "segments_info": info}
        data = {"categories": categories, "annotations": [annotation]}
        (root / "annotations" / f"panoptic_{year}.json").write_text(json.dumps(data))
        out.append((split, stem, _expect("coco", p, [None, "person", "tree-merged", None])))
    return out


# ------------------------------------------------------------------------------------ driving datasets

# Cityscapes labelIds: 0 unlabeled, 3 out of roi (void); 7 road, 26 car, 1 ego vehicle, 33 bicycle.
_CS_IDS = [0, 3, 7, 26, 1, 33]
_CS_NAMES = [None, None, "road", "car", "ego vehicle", "bicycle"]


def write_cityscapes(root):
    out = []
    for split, sub, city in [("train", "train", "aachen"), ("validation", "val", "frankfurt")]:
        key = f"{city}_000000_000019"
        _image(root / "leftImg8bit" / sub / city / f"{key}_leftImg8bit.png", 9)
        p = _ids(root / "gtFine" / sub / city / f"{key}_gtFine_labelIds.png", 10, _CS_IDS)
        out.append((split, key, _expect("cityscapes", p, _CS_NAMES)))
    return out


def write_kitti(root):
    out = []
    for i in range(3):
        stem = f"{i:06d}_10"
        _image(root / "training" / "image_2" / f"{stem}.png", 11 + i)
        p = _ids(root / "training" / "semantic" / f"{stem}.png", 20 + i, _CS_IDS)
        out.append(("train" if i < 2 else "validation", stem, _expect("kitti", p, _CS_NAMES)))
    return out


def write_camvid(root):
    colours = [(0, 0, 0), (128, 64, 128), (64, 0, 128), (192, 192, 128), (1, 2, 3)]
    names = [None, "Road", "Car", "Column_Pole", None]
    out = []
    for split, listed, stem in [("train", "train.txt", "0001TP_006690"), ("validation", "val.txt", "Seq05VD_f00000")]:
        (root / listed).parent.mkdir(parents=True, exist_ok=True)
        (root / listed).write_text(f"/SegNet/CamVid/{split}/{stem}.png /SegNet/CamVid/{split}annot/{stem}.png\n")
        _image(root / "701_StillsRaw_full" / f"{stem}.png", 30)
        p = _colours(root / "LabeledApproved_full" / f"{stem}_L.png", 31, colours)
        out.append((split, stem, _expect("camvid", p, names)))
    return out


def write_idd(root):
    base = root / "IDD_Segmentation"
    out = []
    for split, sub in [("train", "train"), ("validation", "val")]:
        _image(base / "leftImg8bit" / sub / "201" / "frame0029_leftImg8bit.png", 32)
        objects = [
            {"label": "road", "polygon": [[0, 0], [7, 0], [7, 5], [0, 5]], "deleted": 0},
            {"label": "car", "polygon": [[0, 0], [3, 0], [3, 2], [0, 2]], "deleted": 0},
            {"label": "out of roi", "polygon": [[5, 4], [7, 4], [7, 5], [5, 5]], "deleted": 0},
            {"label": "sky", "polygon": [[0, 3], [7, 3], [7, 5], [0, 5]], "deleted": 1},
        ]
        path = base / "gtFine" / sub / "201" / "frame0029_gtFine_polygons.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"imgHeight": H, "imgWidth": W, "objects": objects}))
        want = np.full((H, W), CLASSES["idd"].index("road"))
        want[0:3, 0:4] = CLASSES["idd"].index("car")  # PIL fills polygon outlines, so rows 0..2, cols 0..3
        want[4:6, 5:8] = 0
        out.append((split, "201/frame0029", want))
    return out


def write_bdd(root):
    out = []
    for split, sub, stem in [("train", "train", "0004a4c0-d4dff0ad"), ("validation", "val", "7d06fefd-f7be05a6")]:
        _image(root / "images" / "10k" / sub / f"{stem}.jpg", 33)
        p = _ids(root / "labels" / "sem_seg" / "masks" / sub / f"{stem}.png", 34, [255, 0, 13, 18])
        out.append((split, stem, _expect("bdd", p, [None, "road", "car", "bicycle"])))
    return out


def write_mapillary(root):
    out = []
    for split, sub, stem in [("train", "training", "-0HHRFs8Kd0fM0i"), ("validation", "validation", "0aB1cD2eF3gH4iJ")]:
        _image(root / sub / "images" / f"{stem}.jpg", 35)
        p = _ids(root / sub / "labels" / f"{stem}.png", 36, [65, 55, 13, 0, 64])
        out.append((split, stem, _expect("mapillary", p, [None, "Car", "Road", "Bird", "Ego Vehicle"])))
    return out


# ------------------------------------------------------------------------------------- aerial datasets

_ISPRS_COLOURS = [(255, 255, 255), (0, 0, 255), (255, 255, 0), (255, 0, 0), (0, 0, 0)]
_ISPRS_NAMES = ["impervious_surfaces", "building", "car", "clutter", None]


def _isprs_tile(image_path, label_path, seed, height, width):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    pattern = rng.integers(0, len(_ISPRS_COLOURS), size=(height, width))
    _save(image_path, image)
    _save(label_path, np.array(_ISPRS_COLOURS, np.uint8)[pattern])
    return image, _expect("isprs", pattern, _ISPRS_NAMES)


def write_isprs(root):
    pots = root / "potsdam"
    image, want = _isprs_tile(pots / "2_Ortho_RGB" / "top_potsdam_2_10_RGB.tif",
                              pots / "5_Labels_all" / "top_potsdam_2_10_label.tif", 40, 1000, 900)
    out = []
    for top, left in [(0, 0), (0, 100), (200, 0), (200, 100)]:
        out.append(("train", f"top_potsdam_2_10_{top}_{left}", want[top:top + 800, left:left + 800]))
    vai = root / "vaihingen"
    _, want = _isprs_tile(vai / "top" / "top_mosaic_09cm_area1.tif",
                          vai / "ground_truth" / "top_mosaic_09cm_area1.tif", 41, 7, 9)
    out.append(("validation", "top_mosaic_09cm_area1_0_0", want))
    return out


def write_isaid(root):
    colours = [(0, 0, 0), (0, 0, 63), (0, 127, 255), (0, 100, 155), (9, 9, 9)]
    names = [None, "ship", "plane", "Harbor", None]
    out = []
    for split, sub in [("train", "train"), ("validation", "val")]:
        for stem in ("P0000", "P1527"):  # P1527 is skipped, as by the iSAID devkit
            _image(root / sub / "images" / f"{stem}.png", 42)
            p = _colours(root / sub / "Semantic_masks" / "images" / f"{stem}_instance_color_RGB.png", 43, colours)
        out.append((split, "P1527_0_0", None))
        out.append((split, "P0000_0_0", _expect("isaid", p, names)))
    return out


# ------------------------------------------------------------------------------------- indoor datasets


def write_sunrgbd(root):
    out = []
    splits = [("train", "SUNRGBD-train_images", "img-005051"), ("validation", "SUNRGBD-test_images", "img-000001")]
    for split, folder, stem in splits:
        _image(root / folder / f"{stem}.jpg", 50)
        p = _ids(root / "sunrgbd_train_test_labels" / f"{stem}.png", 51, [0, 5, 37, 1])
        out.append((split, stem, _expect("sunrgbd", p, [None, "chair", "bag", "wall"])))
    return out


def write_scannet(root):
    root.mkdir(parents=True, exist_ok=True)
    rows = ["id\traw_category\tnyu40id", "1\twall\t1", "3\tchair\t5", "40\tbag\t37", "1163\tstick\t40", "13\tunknown\t"]
    (root / "scannetv2-labels.combined.tsv").write_text("\n".join(rows) + "\n")
    (root / "scannetv2_train.txt").write_text("scene0000_00\n")
    (root / "scannetv2_val.txt").write_text("scene0011_00\n")
    out = []
    for split, scene in [("train", "scene0000_00"), ("validation", "scene0011_00")]:
        frames = root / "scannet_frames_25k" / scene
        _image(frames / "color" / "000100.jpg", 52)
        p = _pattern(53, 6)
        raw = np.array([0, 3, 1163, 1, 999, 13], np.uint16)[p]
        (frames / "label").mkdir(parents=True, exist_ok=True)
        Image.fromarray(raw).save(frames / "label" / "000100.png")
        out.append((split, f"{scene}/000100", _expect("scannet", p, [None, "chair", "otherprop", "wall", None, None])))
    return out


# ------------------------------------------------------------------------------ underwater, synthetic


def write_suim(root):
    # Noisy BMP colours, as in the release: thresholding at 128 must recover the palette colour.
    colours = [(3, 0, 10), (250, 3, 0), (255, 250, 2), (200, 200, 200)]
    names = [None, "RO: Robots/instruments", "FV: Fish and vertebrates", "SR: Sand/sea-floor (& rocks)"]
    out = []
    for split, folder, stem in [("train", "train_val", "d_r_122_"), ("validation", "TEST", "d_r_47_")]:
        _image(root / folder / "images" / f"{stem}.jpg", 60)
        p = _pattern(61, len(colours))
        big = np.zeros((H + 2, W + 3, 3), np.uint8)  # a mask larger than its image: cropped to the image
        big[:H, :W] = np.array(colours, np.uint8)[p]
        _save(root / folder / "masks" / f"{stem}.bmp", big)
        out.append((split, stem, _expect("suim", p, names)))
    return out


def write_vkitti2(root):
    colours = [(0, 0, 0), (100, 60, 100), (255, 127, 80), (90, 200, 255)]
    names = [None, "Road", "Car", "Sky"]
    out = []
    scenes = [("train", s) for s in ("Scene01", "Scene02", "Scene06", "Scene20")] + [("validation", "Scene18")]
    for split, scene in scenes:  # every drive must be present: a missing one is an error
        frames = root / scene / "clone" / "frames"
        _image(frames / "rgb" / "Camera_0" / "rgb_00000.jpg", 70)
        p = _colours(frames / "classSegmentation" / "Camera_0" / "classgt_00000.png", 71, colours)
        out.append((split, f"{scene}/clone/Camera_0/00000", _expect("vkitti2", p, names)))
    return out


def write_vgallery(root):
    colours = [(0, 0, 0), (128, 0, 0), (0, 255, 0), (255, 127, 80)]
    names = [None, "Painting", "Human", "Wall"]
    out = []
    for split, folder in [("train", "training"), ("validation", "testing")]:
        frames = root / folder / "gallery_light1_loop1" / "frames"
        _image(frames / "rgb" / "camera_0" / "rgb_00220.jpg", 80)
        p = _colours(frames / "classsegmentation" / "camera_0" / "classgt_00220.png", 81, colours)
        out.append((split, "gallery_light1_loop1/camera_0/00220", _expect("vgallery", p, names)))
    return out


WRITERS = {name[len("write_"):]: fn for name, fn in globals().items() if name.startswith("write_")}


def test_every_real_dataset_has_a_fake_tree():
    assert sorted(WRITERS) == catalog.names(suite="real") and len(WRITERS) == 17


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_reader_maps_labels(name, tmp_path, monkeypatch):
    monkeypatch.setattr(driving, "KITTI_TRAIN_SIZE", 2)
    root = tmp_path / name
    checks = WRITERS[name](root)
    meta = catalog.info(name)
    for split in ("train", "validation"):
        src = catalog.load(name, split, root=root)
        expected = {key: want for s, key, want in checks if s == split}
        assert set(src.keys) == {k for k, w in expected.items() if w is not None}
        for i, key in enumerate(src.keys):
            example = src[i]
            image, label = example["image"], example["label"]
            assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3
            assert label.dtype == np.uint8 and label.shape == image.shape[:2]
            np.testing.assert_array_equal(label, expected[key], err_msg=f"{name} {split} {key}")
            assert 0 in label and label.max() <= meta.num_classes


def test_kitti_split_is_first_150_by_name(tmp_path):
    root = tmp_path / "kitti"
    for i in range(3):
        _image(root / "training" / "image_2" / f"{i:06d}_10.png", i)
        _ids(root / "training" / "semantic" / f"{i:06d}_10.png", i, [7])
    assert sorted(catalog.load("kitti", "train", root=root).keys) == ["000000_10", "000001_10", "000002_10"]
    assert len(catalog.load("kitti", "validation", root=root)) == 0


def test_isprs_images_share_false_colour_space(tmp_path):
    """Potsdam RGB and Vaihingen IRRG both become (R, G, floor((R + G) / 2))."""
    root = tmp_path / "isprs"
    write_isprs(root)
    potsdam = np.asarray(Image.open(root / "potsdam" / "2_Ortho_RGB" / "top_potsdam_2_10_RGB.tif"))
    vaihingen = np.asarray(Image.open(root / "vaihingen" / "top" / "top_mosaic_09cm_area1.tif"))
    train, val = catalog.load("isprs", "train", root=root), catalog.load("isprs", "validation", root=root)
    got = train[train.keys.index("top_potsdam_2_10_200_100")]["image"]
    r, g = potsdam[200:1000, 100:900, 0].astype(int), potsdam[200:1000, 100:900, 1].astype(int)
    np.testing.assert_array_equal(got, np.stack([r, g, (r + g) // 2], -1))
    r, g = vaihingen[..., 1].astype(int), vaihingen[..., 2].astype(int)
    np.testing.assert_array_equal(val[0]["image"], np.stack([r, g, (r + g) // 2], -1))


def test_pcontext_names_missing_from_labels_txt(tmp_path):
    root = tmp_path / "pcontext"
    write_pcontext(root)
    lines = (root / "labels.txt").read_text().splitlines()
    (root / "labels.txt").write_text("\n".join(l for l in lines if not l.endswith(": cat")) + "\n")
    with pytest.raises(ValueError, match=r"missing \['cat'\]"):
        catalog.load("pcontext", "train", root=root)


def test_source_index_validation(tmp_path):
    write_suim(tmp_path / "suim")
    src = catalog.load("suim", "train", root=tmp_path / "suim")
    np.testing.assert_array_equal(src[-1]["label"], src[0]["label"])
    with pytest.raises(IndexError, match=r"index: expected a value in \[-1, 1\), got 1"):
        src[1]
    with pytest.raises(TypeError, match="index: expected an integer"):
        src[0.5]


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_missing_files_name_path_and_layout(name, tmp_path):
    layout_first_line = catalog.info(name).description.split("\n")[1]
    absent = tmp_path / "absent"
    with pytest.raises(MissingDataError) as err:
        catalog.load(name, "train", root=absent)
    assert str(absent) in str(err.value) and layout_first_line in str(err.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MissingDataError) as err:
        catalog.load(name, "train", root=empty)
    message = str(err.value)
    assert f"{name}: expected {empty}/" in message and layout_first_line in message
    assert "never downloads" in message


def test_missing_label_file_is_named(tmp_path):
    root = tmp_path / "cityscapes"
    write_cityscapes(root)
    label = root / "gtFine" / "train" / "aachen" / "aachen_000000_000019_gtFine_labelIds.png"
    label.unlink()
    src = catalog.load("cityscapes", "train", root=root)
    with pytest.raises(FileNotFoundError, match="aachen_000000_000019_gtFine_labelIds.png"):
        src[0]


def test_default_root_from_environment(tmp_path, monkeypatch):
    write_sunrgbd(tmp_path / "sunrgbd")
    monkeypatch.setenv("TRANSEL_REAL_DATA", str(tmp_path))
    assert catalog.load("sunrgbd", "validation").keys == ("img-000001",)


def test_scannet_labels_are_nyu40_without_the_tsv(tmp_path):
    root = tmp_path / "scannet"
    write_scannet(root)
    (root / "scannetv2-labels.combined.tsv").unlink()
    frames = root / "scannet_frames_25k" / "scene0000_00"
    p = _pattern(3, 4)
    Image.fromarray(np.array([0, 5, 40, 41], np.uint16)[p]).save(frames / "label" / "000100.png")
    got = catalog.load("scannet", "train", root=root)[0]["label"]
    np.testing.assert_array_equal(got, _expect("scannet", p, [None, "chair", "otherprop", None]))


def test_alternative_folder_spellings(tmp_path):
    suim = tmp_path / "suim"
    write_suim(suim)
    (suim / "TEST").rename(suim / "test")
    assert catalog.load("suim", "validation", root=suim).keys == ("d_r_47_",)
    mapillary = tmp_path / "mapillary"
    write_mapillary(mapillary)
    (mapillary / "validation" / "v1.2").mkdir()
    (mapillary / "validation" / "labels").rename(mapillary / "validation" / "v1.2" / "labels")
    assert len(catalog.load("mapillary", "validation", root=mapillary)[0]["label"]) == H


def test_large_tiles_open_without_pillow_bomb_limit(tmp_path, monkeypatch):
    import warnings

    from transel_jax.data.real.files import read_rgb

    path = tmp_path / "tile.png"
    _save(path, np.zeros((30, 40, 3), np.uint8))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 1200 pixels is "over twice the limit" here
    with pytest.raises(Image.DecompressionBombError):
        Image.open(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_rgb(path).shape == (30, 40, 3)
    assert Image.MAX_IMAGE_PIXELS == 100  # restored for everybody else


def test_coco_category_outside_the_class_list_is_an_error(tmp_path):
    root = tmp_path / "coco"
    write_coco(root)
    path = root / "annotations" / "panoptic_val2017.json"
    data = json.loads(path.read_text())
    data["categories"].append({"id": 250, "name": "unicorn"})
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"coco: expected panoptic categories .* got unknown \['unicorn'\]"):
        catalog.load("coco", "validation", root=root)
