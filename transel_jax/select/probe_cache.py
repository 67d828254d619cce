"""The probe cache of ``transel select``: each pool model's outputs at the target's sampled pixels, by content.

A probe is keyed by (model, target, sampling): the model's fingerprint (:attr:`PoolModel.fingerprint`,
what determines its outputs), the target digest (:func:`target_digest`: sha256 of every training
example's image and label bytes as the reader delivers them, after the label convention is applied) and
the sampling parameters (seed, pixels per image, feature pixels). The file is
``<cache>/<model name>.<key[:16]>.npz`` holding ``probs`` float32 [n, Z] and ``feats`` float32 [f, D]
(the feature subset's rows; absent when the model gives no features), written atomically
(:mod:`transel_jax.files`). So a rerun reads every probe back, a new model probes only itself, and a
model that fails half-way leaves no file (the next run probes it again). A model without a fingerprint
(an in-memory predict function) is never cached.
"""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from transel_jax.files import read_npz, write_npz


def target_digest(source) -> str:
    """sha256 hex of every example of ``source`` (image and label arrays, their shapes and dtypes)."""
    h = hashlib.sha256()
    for i in range(len(source)):
        example = source[i]
        for key in ("image", "label"):
            arr = np.ascontiguousarray(np.asarray(example[key]))
            h.update(f"{key}{arr.shape}{arr.dtype}".encode())
            h.update(arr.tobytes())
    return h.hexdigest()


def sampling_key(target: str, *, seed: int, max_per_image: int, feature_pixels: int) -> str:
    """sha256 hex of the target digest and the sampling parameters."""
    payload = {"target": target, "seed": int(seed), "max_per_image": int(max_per_image),
               "feature_pixels": int(feature_pixels), "sampler": "transel_jax.data.probe_samples v1"}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def probe_path(cache_dir: str, model, sampling: str) -> str | None:
    """Where ``model``'s probe for ``sampling`` lives, or None when the model cannot be cached."""
    if model.fingerprint is None:
        return None
    key = hashlib.sha256(f"{model.fingerprint}|{sampling}".encode()).hexdigest()
    return os.path.join(cache_dir, f"{model.name}.{key[:16]}.npz")


def load(path: str | None) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(probs, feats or None) of a cached probe, or None when there is none."""
    if path is None or not os.path.isfile(path):
        return None
    data = read_npz(path)
    return data["probs"], data.get("feats")


def store(path: str | None, probs: np.ndarray, feats: np.ndarray | None) -> None:
    if path is None:
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arrays = {"probs": np.asarray(probs, np.float32)}
    if feats is not None:
        arrays["feats"] = np.asarray(feats, np.float32)
    write_npz(path, **arrays)
