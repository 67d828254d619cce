"""Label-encoding maps and patch geometry of the real-dataset readers, against plain loop references."""
import numpy as np
import pytest

from transel_jax.data.real import labelmaps
from transel_jax.data.real.files import example_order
from transel_jax.data.real.patches import patch_grid, patch_starts


def test_apply_table_matches_loop_and_voids_out_of_range():
    rng = np.random.default_rng(0)
    ids = rng.integers(-3, 40, size=(7, 9))
    mapping = {2: 5, 7: 1, 30: 3}
    table = labelmaps.id_table(mapping, size=32)
    got = labelmaps.apply_table(ids, table)
    want = np.array([[mapping.get(int(v), 0) for v in row] for row in ids])
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.uint8


def test_shifted_table():
    table = labelmaps.shifted_table(66, void_ids=(65,))
    assert table[0] == 1 and table[64] == 65 and table[65] == 0
    assert labelmaps.apply_table(np.array([[255, 65, 12]]), table).tolist() == [[0, 0, 13]]


def test_colour_to_label_matches_loop():
    rng = np.random.default_rng(1)
    palette = {(255, 0, 0): 1, (0, 255, 0): 2, (10, 20, 30): 3}
    colours = np.array(list(palette) + [(1, 2, 3), (0, 0, 0)], np.uint8)
    rgb = colours[rng.integers(0, len(colours), size=(5, 6))]
    got = labelmaps.colour_to_label(rgb, palette)
    want = np.array([[palette.get(tuple(int(c) for c in px), 0) for px in row] for row in rgb])
    np.testing.assert_array_equal(got, want)


def test_binarize_then_colour():
    rgb = np.array([[[250, 3, 0], [127, 128, 255]]], np.uint8)
    assert labelmaps.binarize_rgb(rgb).tolist() == [[[255, 0, 0], [0, 255, 255]]]


def test_panoptic_segments():
    rgb = np.array([[[5, 0, 0], [44, 1, 0], [0, 0, 0], [1, 0, 2]]], np.uint8)
    ids = labelmaps.panoptic_ids(rgb)
    assert ids.tolist() == [[5, 300, 0, 1 + 2 * 65536]]
    assert labelmaps.segments_to_label(ids, {5: 7, 300: 2}).tolist() == [[7, 2, 0, 0]]


def test_table_rejects_2d_input_shape():
    with pytest.raises(ValueError, match=r"ids: expected a 2-d"):
        labelmaps.apply_table(np.zeros((2, 2, 3), int), labelmaps.id_table({1: 1}))


def test_patch_starts_example_and_properties():
    assert patch_starts(1500) == [0, 600, 700]
    assert patch_starts(800) == [0]
    assert patch_starts(300) == [0]
    for length in (801, 1400, 1401, 6000, 2494):
        starts = patch_starts(length)
        assert starts[0] == 0 and starts[-1] == length - 800
        assert all(0 < b - a <= 600 for a, b in zip(starts, starts[1:]))  # overlap >= 200, strictly advancing
        covered = np.zeros(length, bool)
        for s in starts:
            covered[s:s + 800] = True
        assert covered.all()
    assert len(patch_starts(6000)) == 10  # a Potsdam tile gives 10 x 10 patches


def test_patch_grid_row_major_and_small_tiles():
    grid = patch_grid(1000, 900)
    assert [(w.top, w.left) for w in grid] == [(0, 0), (0, 100), (200, 0), (200, 100)]
    assert {(w.height, w.width) for w in grid} == {(800, 800)}
    (small,) = patch_grid(10, 12)
    assert (small.height, small.width) == (10, 12)
    with pytest.raises(ValueError, match="patch geometry"):
        patch_starts(100, size=800, overlap=800)


def test_example_order_is_a_fixed_spread_permutation():
    keys = [f"seqA_{i:04d}" for i in range(100)] + [f"seqB_{i:04d}" for i in range(100)]
    order = example_order("camvid", keys)
    assert sorted(order) == list(range(200)) and order != list(range(200))
    shuffled = list(np.random.default_rng(0).permutation(keys))
    assert [shuffled[i] for i in example_order("camvid", shuffled)] == [keys[i] for i in order]  # listing-independent
    first = [keys[i] for i in order[:50]]
    assert 10 <= sum(k.startswith("seqA") for k in first) <= 40  # both sequences in the first 50
    assert example_order("kitti", keys) != order  # each dataset has its own order
    with pytest.raises(ValueError, match="keys: expected unique example ids"):
        example_order("camvid", ["a", "a"])
