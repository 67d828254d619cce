"""Relative transfer gain (Factors of Influence, Eq. 2).

    r(T | S) = (m(T | S) / m(T | baseline) - 1) * 100

m is the target metric after fine-tuning from source S (mIoU for segmentation); the baseline is the
community default (ILSVRC'12 weights in the paper; on the embedded suite, the generic-init or
from-scratch model). For metrics where lower is better (depth error) r is multiplied by -1.
"""
from __future__ import annotations

import numpy as np

from transel_jax import checks


def relative_transfer_gain(metric, baseline, *, lower_is_better: bool = False) -> np.ndarray:
    """Relative gain in percent, float64 with the broadcast shape of ``metric`` and ``baseline``.

    ``metric`` is typically [T, S] (targets x sources) and ``baseline`` [T, 1] or [T] broadcast per row:
    pass ``baseline[:, None]`` for a per-target baseline.
    """
    m = np.asarray(metric, np.float64)
    b = np.asarray(baseline, np.float64)
    checks.check_finite(m, "metric")
    checks.check_finite(b, "baseline")
    if np.any(b <= 0):
        raise ValueError(f"baseline: expected positive baseline performance, got minimum {b.min():g}")
    gain = (m / b - 1.0) * 100.0
    return -gain if lower_is_better else gain
