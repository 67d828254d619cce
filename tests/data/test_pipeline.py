"""Input pipeline: determinism, resume, per-host shards, augmentation alignment, eval padding, target subsets."""
import dataclasses

import numpy as np
import pytest

from transel_jax.data import catalog, pipeline

PALETTE = np.array([[0, 0, 0], [250, 20, 20], [20, 250, 20], [20, 20, 250], [250, 250, 20], [20, 250, 250]],
                   np.uint8)


@dataclasses.dataclass(frozen=True)
class FakeInfo:
    mean: tuple = (10.0, 20.0, 30.0)
    std: tuple = (2.0, 4.0, 8.0)
    resolution: tuple = (16, 16)
    target_train_size: int = 5


class IndexSource:
    """Example i: image pixels all equal to (i, i // 256, 7), label all 1 + i % 4; no get_batch."""

    def __init__(self, n, size=16):
        self.n, self.size = n, size

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        image = np.zeros((self.size, self.size, 3), np.uint8)
        image[..., 0], image[..., 1], image[..., 2] = i % 256, i // 256, 7
        return {"image": image, "label": np.full((self.size, self.size), 1 + i % 4, np.uint8)}


class BlockSource:
    """Asymmetric block labels 1..5 (void border on the left), image = PALETTE[label]; sizes vary."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        h, w = 24 + 4 * i, 32 - 2 * i
        yy, xx = np.mgrid[0:h, 0:w]
        label = (1 + (3 * yy // h) + 2 * (xx > w // 3)).astype(np.uint8)
        label[:, :2] = 0
        return {"image": PALETTE[label], "label": label}


def _decode_index(batch, info):
    raw = batch["image"][:, 0, 0] * np.asarray(info.std) + np.asarray(info.mean)
    return np.rint(raw[:, 0] + 256 * raw[:, 1]).astype(int)


def _take(it, n):
    return [next(it) for _ in range(n)]


def _equal(a, b):
    return all(np.array_equal(a[k], b[k]) for k in a)


def test_same_seed_same_batches_different_seed_differs():
    info = catalog.info("syn_drive_small")
    src = catalog.load("syn_drive_small", "train")
    a = _take(pipeline.train_batches(src, info, batch_size=4, seed=3), 2)
    b = _take(pipeline.train_batches(src, info, batch_size=4, seed=3, prefetch=0), 2)
    c = _take(pipeline.train_batches(src, info, batch_size=4, seed=4), 2)
    assert all(_equal(x, y) for x, y in zip(a, b))
    assert not _equal(a[0], c[0])
    assert a[0]["image"].dtype == np.float32 and a[0]["image"].shape == (4, 64, 64, 3)
    assert a[0]["label"].dtype == np.int32 and a[0]["label"].shape == (4, 64, 64)


def test_resume_from_a_step_gives_the_same_next_batches():
    info = catalog.info("syn_indoor_scan")
    src = catalog.load("syn_indoor_scan", "train")
    fresh = _take(pipeline.train_batches(src, info, batch_size=4, seed=1), 5)
    resumed = list(pipeline.train_batches(src, info, batch_size=4, seed=1, start_step=3, num_steps=2))
    assert len(resumed) == 2
    assert _equal(resumed[0], fresh[3]) and _equal(resumed[1], fresh[4])


@pytest.mark.parametrize("hosts", [2, 4])
def test_host_shards_are_disjoint_and_cover_the_global_batch(hosts):
    info, src = FakeInfo(), IndexSource(37)
    whole = _take(pipeline.train_batches(src, info, batch_size=8, seed=0, augment=False), 3)
    shards = [_take(pipeline.train_batches(src, info, batch_size=8, seed=0, augment=False, process_index=h,
                                           process_count=hosts), 3) for h in range(hosts)]
    for step in range(3):
        ids = [_decode_index(shards[h][step], info) for h in range(hosts)]
        assert all(i.size == 8 // hosts for i in ids)
        assert len(set(np.concatenate(ids))) == 8  # disjoint
        np.testing.assert_array_equal(np.concatenate(ids), _decode_index(whole[step], info))  # covering
        for key in ("image", "label"):
            np.testing.assert_array_equal(np.concatenate([shards[h][step][key] for h in range(hosts)]),
                                          whole[step][key])


def test_one_epoch_visits_every_example_once_in_a_seeded_order():
    info, src = FakeInfo(), IndexSource(24)
    batches = list(pipeline.train_batches(src, info, batch_size=6, seed=9, num_steps=8, augment=False))
    ids = np.concatenate([_decode_index(b, info) for b in batches])
    assert sorted(ids[:24]) == list(range(24)) and sorted(ids[24:]) == list(range(24))
    assert not np.array_equal(ids[:24], np.arange(24)) and not np.array_equal(ids[:24], ids[24:])
    np.testing.assert_array_equal(ids, pipeline.example_order(9, 24, np.arange(48)))


def test_normalisation_and_unaugmented_view():
    info, src = FakeInfo(), IndexSource(5)
    batch = next(pipeline.train_batches(src, info, batch_size=5, seed=0, augment=False))
    for row, i in enumerate(_decode_index(batch, info)):
        raw = src[int(i)]
        expected = (raw["image"].astype(np.float64) - np.array(info.mean)) / np.array(info.std)
        np.testing.assert_allclose(batch["image"][row], expected, rtol=1e-6)
        np.testing.assert_array_equal(batch["label"][row], raw["label"])


def _palette_labels(image, info):
    """Label implied by each pixel's colour (nearest palette entry after un-normalising)."""
    raw = image * np.asarray(info.std) + np.asarray(info.mean)
    return np.argmin(((raw[..., None, :] - PALETTE) ** 2).sum(-1), -1)


def test_augmentation_keeps_image_and_label_aligned():
    info = FakeInfo(resolution=(20, 20))
    batches = list(pipeline.train_batches(BlockSource(), info, batch_size=6, seed=2, num_steps=6))
    image = np.concatenate([b["image"] for b in batches])
    label = np.concatenate([b["label"] for b in batches])
    implied = _palette_labels(image, info)
    valid = label > 0
    inner = valid.copy()  # ignore bilinear mixing at block edges: require the 3x3 neighbourhood to agree
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            inner[:, 1:-1, 1:-1] &= label[:, 1 + dy:19 + dy, 1 + dx:19 + dx] == label[:, 1:-1, 1:-1]
    inner[:, [0, -1]] = False
    inner[:, :, [0, -1]] = False
    assert inner.sum() > 1000
    assert np.mean(implied[inner] == label[inner]) > 0.99
    # the check has teeth: the same label flipped alone, or shifted alone, disagrees with the image
    assert np.mean(implied[inner] == label[:, :, ::-1][inner]) < 0.8
    assert np.mean(implied[inner] == np.roll(label, 3, axis=1)[inner]) < 0.9
    # and the augmentation really varied: both orientations occur (void border left or right) and padding
    void_left = (label[:, :, :2] == 0).mean((1, 2)) > 0.9
    void_right = (label[:, :, -2:] == 0).mean((1, 2)) > 0.9
    assert void_left.any() and void_right.any()


def test_padding_when_the_rescaled_image_is_smaller_than_the_crop():
    info = FakeInfo(resolution=(40, 40))
    src = IndexSource(3, size=16)
    batch = next(pipeline.train_batches(src, info, batch_size=3, seed=0, scale_range=(1.0, 1.0)))
    assert np.all((batch["label"] == 0).sum((1, 2)) == 40 * 40 - 16 * 16)
    np.testing.assert_array_equal(batch["image"][batch["label"] == 0], 0.0)


def test_eval_batches_single_scale_padded_and_sharded():
    info, src = FakeInfo(resolution=(16, 16)), BlockSource()
    whole = list(pipeline.eval_batches(src, info, batch_size=4))
    assert len(whole) == 2 and whole[1]["mask"].tolist() == [True, True, False, False]
    assert np.all(whole[1]["label"][2:] == 0) and np.all(whole[1]["image"][2:] == 0)
    for k, batch in enumerate(whole):
        for row in np.flatnonzero(batch["mask"]):
            ex = src[4 * k + row]
            h, w = ex["label"].shape
            scale = min(16 / h, 16 / w)
            fh, fw = round(h * scale), round(w * scale)
            assert max(fh, fw) == 16  # one side matches the resolution
            img, lab = pipeline.resize(ex["image"], ex["label"], fh, fw)
            np.testing.assert_array_equal(batch["label"][row, :fh, :fw], lab)
            assert np.all(batch["label"][row, fh:] == 0) and np.all(batch["label"][row, :, fw:] == 0)
    halves = [list(pipeline.eval_batches(src, info, batch_size=4, process_index=h, process_count=2)) for h in (0, 1)]
    assert len(halves[0]) == len(halves[1]) == 2
    for k in range(2):
        np.testing.assert_array_equal(np.concatenate([halves[h][k]["label"] for h in (0, 1)]), whole[k]["label"])
        np.testing.assert_array_equal(np.concatenate([halves[h][k]["mask"] for h in (0, 1)]), whole[k]["mask"])


def test_target_subset_is_the_first_examples_in_order():
    info = catalog.info("syn_aerial_irrg")
    src = catalog.load("syn_aerial_irrg", "train")
    subset = pipeline.target_subset(src, info)
    assert len(subset) == 150 == info.target_train_size
    for i in (0, 1, 77, 149):
        np.testing.assert_array_equal(subset[i]["image"], src[i]["image"])
    batch = subset.get_batch([3, 0])
    np.testing.assert_array_equal(batch["label"][1], src[0]["label"])
    with pytest.raises(ValueError, match="target_train_size"):
        pipeline.target_subset(IndexSource(4), FakeInfo())


def test_invalid_arguments_name_the_argument():
    info, src = FakeInfo(), IndexSource(4)
    with pytest.raises(ValueError, match="batch_size"):
        pipeline.train_batches(src, info, batch_size=6, seed=0, process_count=4)
    with pytest.raises(ValueError, match="process_index"):
        pipeline.train_batches(src, info, batch_size=4, seed=0, process_index=2, process_count=2)
    with pytest.raises(ValueError, match="scale_range"):
        pipeline.train_batches(src, info, batch_size=4, seed=0, scale_range=(2.0, 1.0))
    with pytest.raises(TypeError, match="batch_size"):
        pipeline.eval_batches(src, info, batch_size=2.0)


def test_worker_errors_reach_the_consumer():
    info = FakeInfo()
    with pytest.raises(IndexError):
        list(pipeline.eval_batches(_Broken(), info, batch_size=2))


class _Broken(IndexSource):
    def __init__(self):
        super().__init__(4)

    def __getitem__(self, i):
        if i == 3:
            raise IndexError("broken example")
        return super().__getitem__(i)


def test_data_modules_do_not_import_jax():
    import subprocess
    import sys

    code = ("import sys, transel_jax.data.pipeline, transel_jax.data.synthetic, transel_jax.data.preview, "
            "transel_jax.data.cli; print('jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
