"""Class-balanced pixel sampling."""
import numpy as np
import pytest

from transel_jax.data.sampling import label_counts, sample_pixels


def _maps(seed=0, b=4, h=40, w=50):
    rng = np.random.default_rng(seed)
    return rng.choice(5, size=(b, h, w), p=[0.1, 0.6, 0.2, 0.08, 0.02]).astype(np.int32)


def test_deterministic_for_a_seed_and_different_across_seeds():
    maps = _maps()
    a = sample_pixels(maps, seed=3, max_per_image=300)
    b = sample_pixels(maps, seed=3, max_per_image=300)
    c = sample_pixels(maps, seed=4, max_per_image=300)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a.row * 1000 + a.col, c.row * 1000 + c.col)


def test_no_void_no_repeats_and_labels_match_maps():
    maps = _maps()
    s = sample_pixels(maps, seed=0, max_per_image=300)
    assert s.labels.min() >= 1
    np.testing.assert_array_equal(maps[s.image, s.row, s.col], s.labels)
    np.testing.assert_array_equal(s.gather(maps), s.labels)
    np.testing.assert_array_equal(s.class_index, s.labels - 1)
    keys = s.image.astype(np.int64) * 10**6 + s.row * 1000 + s.col
    assert np.unique(keys).size == keys.size
    assert np.all(np.bincount(s.image) == 300)


def test_takes_every_pixel_when_an_image_has_few_and_accepts_varied_sizes():
    small = np.zeros((6, 7), np.int32)
    small[2, 3] = small[4, 1] = 2
    big = _maps(1, b=1)[0]
    s = sample_pixels([small, big], seed=0, max_per_image=100)
    assert np.sum(s.image == 0) == 2 and np.sum(s.image == 1) == 100


def test_one_image_sample_does_not_depend_on_the_others():
    maps = _maps()
    freq = label_counts(maps)
    whole = sample_pixels(maps, seed=5, max_per_image=200, class_frequency=freq)
    alone = sample_pixels(maps[:2], seed=5, max_per_image=200, class_frequency=freq)
    keep = whole.image < 2
    np.testing.assert_array_equal(whole.row[keep], alone.row)


def test_inverse_frequency_balances_classes():
    # one image: class 1 covers 90% of the pixels, class 2 10%; inverse-frequency weights give each
    # class the same total weight, so a 1-pixel draw picks either class with probability 1/2.
    label = np.ones((20, 20), np.int32)
    label[:2] = 2
    picks = [sample_pixels(label[None], seed=s, max_per_image=1).labels[0] for s in range(2000)]
    share = np.mean(np.asarray(picks) == 2)
    assert abs(share - 0.5) < 0.05  # binomial std is ~0.011
    # larger draws: the rare class is strongly over-represented relative to its 10% area
    s = sample_pixels(np.stack([label] * 5), seed=0, max_per_image=60)
    assert np.mean(s.labels == 2) > 0.3


@pytest.mark.parametrize("labels,kwargs,match", [
    (np.zeros((4, 4), np.int32), {}, "labels: expected a 3-d array"),
    (np.zeros((0, 4, 4), np.int32), {}, "at least one label map"),
    (np.full((1, 4, 4), -1), {}, "labels\\[0\\]: expected labels >= 0"),
    (np.ones((1, 4, 4), np.float32), {}, "expected an integer"),
    (np.ones((1, 4, 4), np.int32), {"max_per_image": 0}, "max_per_image"),
    (np.full((1, 4, 4), 3, np.int32), {"class_frequency": np.ones(2)}, "class_frequency: expected an entry"),
    (np.full((1, 4, 4), 1, np.int32), {"class_frequency": np.zeros(2)}, "positive frequency"),
])
def test_bad_input(labels, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        sample_pixels(labels, seed=0, **kwargs)


@pytest.mark.parametrize("bad", [np.nan, np.inf, 0.0, -3.0])
def test_a_present_class_needs_a_finite_positive_frequency(bad):
    labels = np.array([[[1, 2], [3, 0]]], np.int32)
    with pytest.raises(ValueError, match=r"class_frequency: expected a finite positive frequency .* for class 2"):
        sample_pixels(labels, seed=0, class_frequency=[1.0, 1.0, bad, 1.0])
    # an absent class may have any frequency: it is never sampled
    got = sample_pixels(labels, seed=0, class_frequency=[1.0, 1.0, 1.0, 1.0, bad])
    assert sorted(got.labels.tolist()) == [1, 2, 3]
