"""Result files written atomically (temporary file + rename), so a crash never leaves a half-written one.

Used by ``transel run``'s stages and ``transel select``'s probe cache: a reader sees either the previous
file or the complete new one, which is what lets an interrupted job resume by checking what exists.
"""
from __future__ import annotations

import json
import os

import numpy as np


def write_json(path: str, obj) -> None:
    """Write ``obj`` as JSON atomically; numpy scalars and arrays become numbers and lists."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=False, default=_default)
    os.replace(tmp, path)


def read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_npz(path: str, **arrays) -> None:
    """``np.savez`` atomically; ``path`` ends in ``.npz``."""
    if not str(path).endswith(".npz"):
        raise ValueError(f"path: expected a file name ending in .npz, got {str(path)!r}")
    tmp = f"{str(path)[:-4]}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def read_npz(path: str) -> dict:
    """{name: array} of an ``.npz`` written by :func:`write_npz` (no pickled objects)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
