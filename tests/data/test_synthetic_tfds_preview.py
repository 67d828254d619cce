"""The synthetic TFDS builder (array_record, read back with tfds.data_source), preview grids and the CLI verb."""
import argparse

import numpy as np
import pytest
from PIL import Image

from transel_jax.data import catalog, preview, synthetic
from transel_jax.data import cli as data_cli


def test_tiny_array_record_build_reads_back_the_same_bytes(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    from transel_jax.data.synthetic.tfds_builder import SyntheticConfig, SyntheticSuite

    config = SyntheticConfig(dataset="syn_underwater_murky", name="murky_tiny", resolution=16, max_examples=3, seed=4)
    SyntheticSuite(config=config, data_dir=str(tmp_path), file_format="array_record").download_and_prepare()
    sources = tfds.data_source("synthetic_suite/murky_tiny", data_dir=str(tmp_path))
    assert set(sources) == {"train", "validation", "test"}
    for split, records in sources.items():
        direct = synthetic.SyntheticSource("syn_underwater_murky", split, seed=4, resolution=16)
        assert len(records) == 3
        for i in range(3):
            np.testing.assert_array_equal(records[i]["image"], direct[i]["image"])
            np.testing.assert_array_equal(records[i]["label"], direct[i]["label"])


def test_overlay_colours_and_void():
    colours = preview.label_colours(6)
    assert colours.shape == (6, 3) and np.all(colours[0] == 0)
    assert len({tuple(c) for c in colours}) == 6
    image = np.full((2, 2, 3), 200, np.uint8)
    label = np.array([[0, 1], [2, 1]])
    out = preview.overlay(image, label, colours)
    assert np.all(out[0, 0] == 0)
    np.testing.assert_array_equal(out[0, 1], ((200 + colours[1].astype(int)) * 0.5).astype(np.uint8))


def _run(argv):
    parser = argparse.ArgumentParser()
    data_cli.add_arguments(parser)
    return data_cli.main(parser.parse_args(argv))


def test_cli_preview_writes_a_grid_of_image_and_overlay_tiles(tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert _run(["preview", "syn_drive_small", "--out", str(out), "--n", "2", "--tile", "32"]) == 0
    grid = np.asarray(Image.open(out))
    assert grid.shape == (32, preview._MARGIN + 4 * 32, 3)
    first = catalog.load("syn_drive_small", "train")[0]["image"]
    tile = grid[:, preview._MARGIN:preview._MARGIN + 32]
    expected = np.asarray(Image.fromarray(first).resize((32, 32), Image.BILINEAR))
    np.testing.assert_array_equal(tile, expected)
    assert "wrote" in capsys.readouterr().out


def test_cli_list_and_unknown_target(capsys):
    assert _run(["list", "--suite", "synthetic"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(synthetic.DATASETS) and all("synthetic" in line for line in lines)
    with pytest.raises(ValueError, match="dataset"):
        preview.resolve("no_such_dataset")
    assert preview.resolve("synthetic") == catalog.names(suite="synthetic")
