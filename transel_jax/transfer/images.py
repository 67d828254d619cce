"""Random access to normalised images from an array or a dataset source.

``ImageReader(images_or_source, info)[i]`` -> float32 [H, W, 3]. Accepted inputs:
- a float array [N, H, W, 3]: already normalised, used as is;
- a uint8 array [N, H, W, 3] or a catalog source (``src[i]["image"]`` uint8): normalised here as
  ``(x - info.mean) / info.std`` (per channel, 0..255 scale), so ``info`` is required.
"""
from __future__ import annotations

import numpy as np

from transel_jax import checks


class ImageReader:
    def __init__(self, images_or_source, info=None):
        self._array = None
        if _is_array(images_or_source):
            arr = np.asarray(images_or_source)
            checks.check_rank(arr, "images", 4, "[N, H, W, 3]")
            if arr.shape[-1] != 3:
                raise ValueError(f"images: expected 3 channels in the last axis, got shape {arr.shape}")
            self._array = arr
            needs_info = not np.issubdtype(arr.dtype, np.floating)
        else:
            if not (hasattr(images_or_source, "__len__") and hasattr(images_or_source, "__getitem__")):
                raise TypeError("images_or_source: expected an array [N, H, W, 3] or a random-access source, "
                                f"got {type(images_or_source).__name__}")
            needs_info = True
        if needs_info and info is None:
            raise ValueError("info: expected the target DatasetInfo (mean/std) to normalise uint8 images, got None")
        self._source = images_or_source
        self._mean = None if info is None else np.asarray(info.mean, np.float32)
        self._std = None if info is None else np.asarray(info.std, np.float32)

    def __len__(self) -> int:
        return len(self._array) if self._array is not None else len(self._source)

    def __getitem__(self, index: int) -> np.ndarray:
        if self._array is not None:
            image = self._array[index]
            if np.issubdtype(image.dtype, np.floating):
                return image.astype(np.float32)
        else:
            image = np.asarray(self._source[index]["image"])
        return (image.astype(np.float32) - self._mean) / self._std


def _is_array(x) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "ndim")
