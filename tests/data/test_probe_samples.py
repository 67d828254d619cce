"""Probe pixel samples: a union over seeds splits back exactly; feature rows are a subset."""
import numpy as np

from transel_jax.data.sampling import sample_pixels
from transel_jax.data import probe_samples as probe


def test_probe_samples_split_back_exactly_and_feature_rows_are_a_subset():
    labels = np.random.default_rng(1).integers(0, 4, size=(6, 8, 8)).astype(np.int32)
    samples = probe.draw_samples(labels, (0, 3), max_per_image=10, feature_pixels=25)
    both, offsets = probe.union(s for s, _ in samples.values())
    for k, (seed, (sample, rows)) in enumerate(samples.items()):
        ref = sample_pixels(labels, seed=seed, max_per_image=10)
        np.testing.assert_array_equal(sample.labels, ref.labels)
        np.testing.assert_array_equal(both.row[offsets[k]:offsets[k + 1]], ref.row)
        assert len(rows) == 25 and len(np.unique(rows)) == 25 and rows.max() < len(sample)
    assert not np.array_equal(samples[0][0].row, samples[3][0].row)
