"""Pixel samples of a target per probe seed, with the feature subset, as every probe uses them.

For each probe seed k, :func:`transel_jax.data.sampling.sample_pixels` draws up to ``max_per_image``
non-void pixels per image of the target's training label maps (probability proportional to 1 / class
frequency). Feature metrics are O(n^2) (PARC) or need a d x d solve per class, so they see a random subset
of at most ``feature_pixels`` of those pixels, drawn with ``numpy.random.default_rng([k, 1])``.
A source model then runs once over the union of all seeds' samples (:func:`union`), and its outputs are
split back by seed with the offsets. ``transel run`` (stage ``probe``) and ``transel select`` share this.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from transel_jax.data.sampling import PixelSample, sample_pixels


def draw_samples(labels, seeds: Sequence[int], *, max_per_image: int, feature_pixels: int
                 ) -> dict[int, tuple[PixelSample, np.ndarray]]:
    """{seed: (PixelSample, feature_rows int [f])} for the target training label maps (0 = void).

    ``labels``: int [B, H, W] or a sequence of [H_i, W_i] maps (images may differ in size).
    """
    out = {}
    for seed in seeds:
        sample = sample_pixels(labels, seed=int(seed), max_per_image=max_per_image)
        n = len(sample)
        rows = np.sort(np.random.default_rng([int(seed), 1]).choice(n, min(n, feature_pixels), replace=False))
        out[int(seed)] = (sample, rows)
    return out


def union(samples: Iterable[PixelSample]) -> tuple[PixelSample, np.ndarray]:
    """All samples concatenated, and the offsets int [len + 1] that split the union back by sample."""
    parts = list(samples)
    offsets = np.cumsum([0] + [len(s) for s in parts])
    return PixelSample(*(np.concatenate([getattr(s, f) for s in parts]) for f in PixelSample._fields)), offsets
