"""Declaring a pool: ``load_pool(spec) -> list[PoolModel]`` from a directory or a pool file.

``spec`` is one of

- a directory whose subdirectories are ``transel train`` work directories (each with ``checkpoints/``);
  models are named by their subdirectory and listed in name order. Hidden subdirectories (``.x``) are
  ignored; any other subdirectory without ``checkpoints/`` is an error. ``transel run``'s pool stage
  directory (``<run>/pool/``) is such a directory; when it holds ``sources.json`` the models are the
  candidates listed there, in that order (the generic pre-training models beside them are not candidates).
- a JSON pool file::

      {"models": [
         {"name": "drive", "checkpoint": "runs/a/pool/drive_resnet"},
         {"name": "mine", "callable": "my_models.py:build", "kwargs": {"width": 8}},
         {"name": "other", "onnx": "other.onnx", "classes": ["road", "car"], "mean": [...], "std": [...]}
      ], "description": "optional text"}

  Every entry has a ``name`` and exactly one of ``checkpoint`` (work or checkpoint directory),
  ``callable`` (``module:function`` or ``file.py:function``; see :mod:`.adapters`) and ``onnx`` (file).
  Optional per entry: ``dataset``, ``source_images``, ``source_miou``, ``depth``, ``params`` (override
  what a checkpoint records), ``classes`` (for checkpoints: replaces the recorded names; for callables:
  checked against the returned names; required for ONNX), ``architecture`` (callable/onnx),
  ``mean``/``std`` (checkpoint, onnx), ``kwargs`` and ``fingerprint`` (callable), ``layout`` and ``output``
  (onnx; see :mod:`.onnx_adapter`). Relative paths resolve
  against the pool file's folder. Unknown keys are errors.
- an already parsed pool-file dict (relative paths against the working directory), or a list of
  :class:`PoolModel` (checked for unique names).

Errors (before any weights are read): empty pool, missing paths, unreadable checkpoints, callables that do
not import, duplicate names, unknown keys, wrong value types -- each naming the file and the entry.
"""
from __future__ import annotations

import json
import numbers
import os

from transel_jax.select import adapters
from transel_jax.select.model import ModelMeta, PoolModel

KINDS = ("checkpoint", "callable", "onnx")
COMMON_KEYS = ("name", "dataset", "source_images", "source_miou", "depth", "params", "classes")
KIND_KEYS = {"checkpoint": ("mean", "std"), "callable": ("architecture", "kwargs", "fingerprint"),
             "onnx": ("architecture", "mean", "std", "layout", "output")}
TOP_KEYS = ("models", "description")


def load_pool(spec) -> list[PoolModel]:
    """The pool declared by ``spec`` (module docstring), in pool order; no weights are loaded."""
    if isinstance(spec, (list, tuple)):
        models = list(spec)
        for i, m in enumerate(models):
            if not isinstance(m, PoolModel):
                raise TypeError(f"pool[{i}]: expected a PoolModel, got {type(m).__name__}")
        where = "pool"
    elif isinstance(spec, dict):
        models, where = _from_pool_dict(spec, os.getcwd(), "pool dict"), "pool dict"
    elif isinstance(spec, (str, os.PathLike)):
        path = os.path.abspath(os.fspath(spec))
        if os.path.isdir(path):
            models, where = _from_directory(path), f"pool directory {path}"
        elif os.path.isfile(path):
            models, where = _from_pool_file(path), f"pool file {path}"
        else:
            raise FileNotFoundError(f"pool: {path} does not exist (expected a directory of transel train work "
                                    "directories or a JSON pool file)")
    else:
        raise TypeError(f"pool: expected a directory, a pool file, a dict or a list of PoolModel, got "
                        f"{type(spec).__name__}")
    if not models:
        raise ValueError(f"{where}: the pool is empty")
    _check_unique([m.name for m in models], where)
    return models


def _check_unique(names, where: str) -> None:
    seen, dup = set(), []
    for n in names:
        if n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    if dup:
        raise ValueError(f"{where}: duplicate model names {dup}")


def _from_directory(path: str) -> list[PoolModel]:
    sources = os.path.join(path, "sources.json")
    if os.path.isfile(sources):
        with open(sources, encoding="utf-8") as f:
            records = json.load(f)
        if not isinstance(records, list) or not all(isinstance(r, dict) and "id" in r for r in records):
            raise ValueError(f"{sources}: expected a list of source records with an 'id' (transel run pool stage)")
        if not records:
            raise ValueError(f"pool directory {path}: sources.json lists no source models; the pool is empty")
        return [adapters.from_checkpoint(r["id"], os.path.join(path, r["id"])) for r in records]
    if os.path.isdir(os.path.join(path, "checkpoints")):
        raise ValueError(f"pool directory {path}: this is a single transel train work directory; a pool is a "
                         "directory of them (or a pool file listing it)")
    subdirs = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)) and not d.startswith("."))
    if not subdirs:
        raise ValueError(f"pool directory {path}: the pool is empty (expected subdirectories that are transel "
                         "train work directories)")
    not_workdirs = [d for d in subdirs if not os.path.isdir(os.path.join(path, d, "checkpoints"))]
    if not_workdirs:
        raise ValueError(f"pool directory {path}: subdirectories {not_workdirs[:5]} are not transel train work "
                         "directories (no checkpoints/ inside)")
    return [adapters.from_checkpoint(d, os.path.join(path, d)) for d in subdirs]


def _from_pool_file(path: str) -> list[PoolModel]:
    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
    except ValueError as err:
        raise ValueError(f"pool file {path}: not valid JSON ({err})") from err
    return _from_pool_dict(spec, os.path.dirname(path), f"pool file {path}")


def _from_pool_dict(spec, base_dir: str, where: str) -> list[PoolModel]:
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: expected a JSON object {{\"models\": [...]}}, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(TOP_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected some of {list(TOP_KEYS)}")
    entries = spec.get("models")
    if not isinstance(entries, list):
        raise ValueError(f"{where}: expected \"models\": a list of entries, got {type(entries).__name__}")
    if not entries:
        raise ValueError(f"{where}: \"models\" is empty; the pool is empty")
    names = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: models[{i}]: expected an object, got {type(entry).__name__}")
        if "name" not in entry:
            raise ValueError(f"{where}: models[{i}]: missing \"name\"")
        names.append(entry["name"])
    _check_unique(names, where)
    return [_entry(entry, base_dir, f"{where}: models[{i}] ({entry['name']!r})") for i, entry in enumerate(entries)]


def _entry(entry: dict, base_dir: str, where: str) -> PoolModel:
    kinds = [k for k in KINDS if k in entry]
    if len(kinds) != 1:
        raise ValueError(f"{where}: expected exactly one of {list(KINDS)}, got {kinds or 'none'}")
    kind = kinds[0]
    allowed = COMMON_KEYS + (kind,) + KIND_KEYS[kind]
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; a {kind} entry takes {list(allowed)}")
    name = entry["name"]
    try:
        adapters.check_name(name)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    facts = _facts(entry, where)
    resolve = lambda p: p if os.path.isabs(p) else os.path.join(base_dir, p)  # noqa: E731
    if kind == "checkpoint":
        _check_str(entry, "checkpoint", where)
        return adapters.from_checkpoint(name, resolve(entry["checkpoint"]), classes=entry.get("classes"),
                                        mean=entry.get("mean"), std=entry.get("std"), **facts)
    if kind == "callable":
        _check_str(entry, "callable", where)
        meta = ModelMeta(**facts, notes={})
        return adapters.from_callable(name, entry["callable"], base_dir=base_dir, kwargs=entry.get("kwargs"),
                                      version=entry.get("fingerprint"), classes=entry.get("classes"),
                                      architecture=entry.get("architecture", "callable"), meta=meta)
    _check_str(entry, "onnx", where)
    from transel_jax.select import onnx_adapter

    return onnx_adapter.from_onnx(name, resolve(entry["onnx"]), classes=entry.get("classes"),
                                  mean=entry.get("mean"), std=entry.get("std"), layout=entry.get("layout"),
                                  output=entry.get("output", "logits"), architecture=entry.get("architecture", "onnx"),
                                  meta=ModelMeta(**facts, notes={}))


def _check_str(entry: dict, key: str, where: str) -> None:
    if not isinstance(entry[key], str) or not entry[key]:
        raise ValueError(f"{where}: {key}: expected a non-empty string, got {entry[key]!r}")


def _facts(entry: dict, where: str) -> dict:
    """The optional facts of an entry, type-checked: dataset, source_images, source_miou, depth, params."""
    out = {}
    if "dataset" in entry:
        if not isinstance(entry["dataset"], str):
            raise ValueError(f"{where}: dataset: expected a string, got {entry['dataset']!r}")
        out["dataset"] = entry["dataset"]
    for key, low in (("source_images", 1), ("depth", 1), ("params", 1)):
        if key in entry:
            v = entry[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{where}: {key}: expected an integer >= {low}, got {v!r}")
            out[key] = v
    if "source_miou" in entry:
        v = entry["source_miou"]
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 <= v <= 1:
            raise ValueError(f"{where}: source_miou: expected a number in [0, 1], got {v!r}")
        out["source_miou"] = float(v)
    return out
