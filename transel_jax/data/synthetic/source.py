"""Random-access sources and numpy arrays over the synthetic datasets."""
from __future__ import annotations

import numpy as np

from transel_jax.checks import check_positive_int
from transel_jax.data.synthetic.datasets import get
from transel_jax.data.synthetic.generate import generate


class SyntheticSource:
    """One split of a synthetic dataset as a catalog source.

    ``len(src)`` images; ``src[i]`` is ``{"image": uint8 [R, R, 3], "label": uint8 [R, R]}``, generated on
    demand from (seed, dataset, split offset + i); ``src.get_batch(indices)`` renders many at once (faster,
    identical bytes).
    """

    def __init__(self, name: str, split: str, *, seed: int = 0, resolution: int = 64):
        self.dataset = get(name)
        self.split = split
        self.seed = check_positive_int(seed, "seed", minimum=0)
        self.resolution = check_positive_int(resolution, "resolution", minimum=8)
        self._start, self._stop = self.dataset.split_range(split)

    def __len__(self) -> int:
        return self._stop - self._start

    def __repr__(self) -> str:
        return (f"SyntheticSource({self.dataset.name!r}, {self.split!r}, seed={self.seed}, "
                f"resolution={self.resolution}, len={len(self)})")

    def _global(self, indices) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"index: expected values in [{-n}, {n - 1}], got values in [{idx.min()}, {idx.max()}]")
        return self._start + np.where(idx < 0, idx + n, idx)

    def get_batch(self, indices) -> dict:
        """{"image": uint8 [n, R, R, 3], "label": uint8 [n, R, R]} for split-local ``indices`` [n]."""
        return generate(self.dataset.name, self._global(indices), seed=self.seed, resolution=self.resolution)

    def __getitem__(self, index) -> dict:
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an integer, got {type(index).__name__}")
        batch = self.get_batch([index])
        return {key: value[0] for key, value in batch.items()}


def arrays(name: str, split: str, *, seed: int = 0, resolution: int = 64, start: int = 0,
           stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [n, R, R, 3] and labels uint8 [n, R, R] of examples ``start:stop`` of a split."""
    source = SyntheticSource(name, split, seed=seed, resolution=resolution)
    stop = len(source) if stop is None else stop
    if not 0 <= start <= stop <= len(source):
        raise ValueError(f"start, stop: expected 0 <= start <= stop <= {len(source)}, got {start}, {stop}")
    batch = source.get_batch(np.arange(start, stop))
    return batch["image"], batch["label"]
