"""TFDS array_record build of real datasets from fake trees, read back with tfds.data_source."""
import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from transel_jax.data import catalog
from transel_jax.data.real import MissingDataError, tfds_builder
from transel_jax.data.real.files import decode_image


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def write_suim(root, n_train, n_test=2, seed=0):
    """SUIM layout with tiny PNG-lossless content where it matters (the masks) and varied sizes."""
    rng = np.random.default_rng(seed)
    colours = np.array([(0, 0, 0), (255, 0, 0), (255, 255, 0), (255, 255, 255)], np.uint8)
    for folder, n in (("train_val", n_train), ("TEST", n_test)):
        for i in range(n):
            h, w = 3 + i % 3, 4 + i % 2
            _save(root / folder / "images" / f"f_r_{i:04d}_.jpg", rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
            _save(root / folder / "masks" / f"f_r_{i:04d}_.bmp", colours[rng.integers(0, 4, (h, w))])


def write_cityscapes(root, seed=1):
    rng = np.random.default_rng(seed)
    for sub, city, n in (("train", "aachen", 3), ("val", "lindau", 2)):
        for i in range(n):
            key = f"{city}_{i:06d}_000019"
            image, label = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8), rng.integers(0, 34, (5, 7), dtype=np.uint8)
            _save(root / "leftImg8bit" / sub / city / f"{key}_leftImg8bit.png", image)
            _save(root / "gtFine" / sub / city / f"{key}_gtFine_labelIds.png", label)


def write_isaid(root, seed=2):
    """Tiles whose images are stored as re-encoded PNG patches (the non-verbatim path)."""
    rng = np.random.default_rng(seed)
    colours = np.array([(0, 0, 0), (0, 0, 63), (0, 127, 255)], np.uint8)
    for sub in ("train", "val"):
        for stem in ("P0001", "P0002"):
            _save(root / sub / "images" / f"{stem}.png", rng.integers(0, 256, (9, 11, 3), dtype=np.uint8))
            mask = colours[rng.integers(0, 3, (9, 11))]
            _save(root / sub / "Semantic_masks" / "images" / f"{stem}_instance_color_RGB.png", mask)


@pytest.mark.parametrize(
    "name,writer", [("suim", lambda r: write_suim(r, 4)), ("cityscapes", write_cityscapes), ("isaid", write_isaid)]
)
def test_array_record_build_reads_back_identically(name, writer, tmp_path):
    root, data_dir = tmp_path / name, tmp_path / "tfds"
    writer(root)
    built = tfds_builder.prepare(name, root=root, data_dir=data_dir)
    assert list(built.glob("*.array_record-*")), "expected array_record files"
    for split in ("train", "validation"):
        direct = catalog.load(name, split, root=root)
        prepared = catalog.load(name, split, prepared_dir=data_dir)
        raw = tfds.data_source(f"transel_real/{name}", split=split, data_dir=str(data_dir), download=False)
        assert len(direct) == len(prepared) == len(raw) > 0
        for i in range(len(direct)):
            want = direct[i]
            np.testing.assert_array_equal(prepared[i]["image"], want["image"])
            np.testing.assert_array_equal(decode_image(raw[i]["image"]), want["image"])
            for got in (prepared[i], raw[i]):
                np.testing.assert_array_equal(np.asarray(got["label"]), want["label"])
                assert np.asarray(got["label"]).dtype == np.uint8
            if name == "suim":  # a JPEG used as stored is kept bit for bit, not re-encoded
                jpeg = root / ("train_val" if split == "train" else "TEST") / "images" / f"{direct.keys[i]}.jpg"
                assert raw[i]["image"] == jpeg.read_bytes()
    meta = tfds.builder(f"transel_real/{name}", data_dir=str(data_dir)).info.metadata
    assert meta["class_names"] == list(catalog.info(name).class_names)


def test_target_subset_same_images_on_both_paths(tmp_path):
    pipeline = pytest.importorskip("transel_jax.data.pipeline")
    root, data_dir = tmp_path / "suim", tmp_path / "tfds"
    write_suim(root, n_train=153)
    tfds_builder.prepare("suim", root=root, data_dir=data_dir)
    info = catalog.info("suim")
    direct = catalog.load("suim", "train", root=root)
    prepared = catalog.load("suim", "train", prepared_dir=data_dir)
    sub_direct, sub_prepared = pipeline.target_subset(direct, info), pipeline.target_subset(prepared, info)
    assert len(sub_direct) == len(sub_prepared) == info.target_train_size == 150
    assert sorted(direct.keys[:150]) != sorted(direct.keys)[:150]  # a spread sample, not the first files by name
    for i in range(150):  # the same images, in the same order, on both paths
        np.testing.assert_array_equal(sub_prepared[i]["label"], direct[i]["label"])
        np.testing.assert_array_equal(sub_prepared[i]["image"], sub_direct[i]["image"])


def test_prepare_fails_on_missing_files_before_tfds(tmp_path, monkeypatch):
    def no_tfds(*args, **kwargs):
        raise AssertionError("TFDS must not be reached when files are missing")

    monkeypatch.setattr(tfds_builder.TranselReal, "download_and_prepare", no_tfds)
    (tmp_path / "bdd" / "images").mkdir(parents=True)
    with pytest.raises(MissingDataError, match=r"bdd: expected .*images/10k/train"):
        tfds_builder.prepare("bdd", root=tmp_path / "bdd", data_dir=tmp_path / "tfds")


def test_prepared_source_of_unbuilt_dataset_names_the_folder(tmp_path):
    with pytest.raises(MissingDataError, match=r"coco: expected a prepared dataset under .*transel_real/coco"):
        catalog.load("coco", "train", prepared_dir=tmp_path / "nothing")


def test_unknown_names_and_splits():
    with pytest.raises(ValueError, match=r"name: expected one of .*got 'nope'"):
        tfds_builder.prepare("nope", root=".", data_dir=".")
    with pytest.raises(ValueError, match=r"split: expected one of \['train', 'validation'\] for 'suim', got 'test'"):
        catalog.load("suim", "test")


def test_patches_are_encoded_tile_by_tile_but_yielded_in_order(tmp_path, monkeypatch):
    from transel_jax.data.real import files

    rng = np.random.default_rng(3)
    colours = np.array([(0, 0, 0), (0, 0, 63)], np.uint8)
    for stem in ("P0001", "P0002"):
        image = rng.integers(0, 256, (1000, 900, 3), dtype=np.uint8)
        _save(tmp_path / "isaid" / "train" / "images" / f"{stem}.png", image)
        mask = colours[rng.integers(0, 2, (1000, 900))]
        _save(tmp_path / "isaid" / "train" / "Semantic_masks" / "images" / f"{stem}_instance_color_RGB.png", mask)
    source = catalog.load("isaid", "train", root=tmp_path / "isaid")
    tiles = [str(p.image) for p in source.examples]
    assert len(source) == 8 and any(a != b for a, b in zip(tiles, tiles[1:]))  # tiles interleave in hash order

    decoded = []
    real_read_rgb = files.read_rgb
    monkeypatch.setattr(files, "read_rgb", lambda path: decoded.append(str(path)) or real_read_rgb(path))
    files.read_cached.cache_clear()
    spilled = list(files.iter_encoded(source, tmp_path / "spill"))
    assert sorted(decoded) == sorted(set(tiles))  # each tile decoded once
    assert [key for key, _ in spilled] == list(source.keys)
    for i, (_, example) in enumerate(spilled):
        np.testing.assert_array_equal(decode_image(example["image"]), source[i]["image"])
        np.testing.assert_array_equal(example["label"], source[i]["label"])
    assert not list((tmp_path / "spill").iterdir())  # spill files are removed as they are consumed
