"""Adapters: a transel checkpoint, a Python callable or an in-memory predict function as a :class:`PoolModel`.

Transel checkpoint (``from_checkpoint``), first class
  ``path`` is a ``transel train`` work directory (``<path>/checkpoints/<step>/``) or its ``checkpoints/``
  directory. The newest step whose metadata reads is used (unreadable steps are skipped with a warning and
  left in place). From the metadata (:mod:`transel_jax.train.checkpoint`): the architecture (a model
  registry name), the class count and the source dataset (``meta["dataset"]``, else
  ``meta["config"]["data"]["dataset"]``). Facts, first found wins (pool-file entry, then):

  - class names: ``meta["class_names"]``, ``<workdir>/eval.json["class_names"]``, the catalog's
    ``class_names[1:]`` of the dataset (channel k = label k + 1), else ``label_1 .. label_K``;
  - normalisation mean/std of uint8 images (0..255 scale): ``meta["mean"/"std"]``, the catalog's entry of
    the SOURCE dataset, else the ImageNet statistics (123.675, 116.28, 103.53) / (58.395, 57.12, 57.375)
    with a warning (declare ``mean``/``std`` in the pool file to silence it);
  - source images: ``<workdir>/record.json["num_images"]`` (``transel run``'s pool stage), else the
    catalog's train split size (the target-subset size when the run trained on it);
  - source mIoU: ``record.json["test_miou"]``, else ``eval.json["miou"]`` (its split in ``notes``);
  - depth, params: ``record.json``, else counted from the stored array shapes (as ``models.describe``).

  Fingerprint: sha256 of the step, the metadata, the normalisation and (relative path, size, mtime_ns) of
  every file of the step directory -- a stat digest, not a hash of the bytes (a 23M-parameter checkpoint
  would cost a second per model per run). A copy that keeps times (``cp -p``, ``rsync -a``) keeps it;
  rewriting the step changes it. Probing gathers inside jit (:func:`~transel_jax.transfer.predict.predict_at_pixels`).

Python callable (``from_callable``)
  ``spec`` is ``module:function`` (an importable module) or ``path/to/file.py:function`` (relative paths
  resolve against ``base_dir``, the pool file's folder). ``function(**kwargs)`` must return
  ``(predict_fn, class_names)``: ``predict_fn(images uint8 [B, H, W, 3]) -> (probs [B, h, w, Z], feats
  [B, h', w', D] or None)`` (numpy or jax arrays; probs a softmax over the Z classes) and ``class_names`` a
  sequence of Z strings. Fingerprint: sha256 of the spec, the kwargs, the sha256 of the module's source
  file and the entry's optional ``fingerprint`` string (bump it when weights the file loads change).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import re
import sys
import types
import warnings
from typing import Callable, Sequence

import numpy as np

from transel_jax.select.model import ModelMeta, PoolModel

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def check_name(name) -> str:
    """A pool model name: a non-empty str of letters, digits and ``._+-`` (it names cache files)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name: expected letters, digits and '._+-' (starting with a letter or digit), got {name!r}")
    return name


def _sha256(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


# ----------------------------------------------------------------------------------------------------- #
# transel checkpoints
# ----------------------------------------------------------------------------------------------------- #

def checkpoint_dirs(path: str, name: str) -> tuple[str, str | None]:
    """(checkpoint directory, work directory or None) of a work directory or a ``checkpoints/`` path."""
    path = os.path.abspath(os.fspath(path))
    if not os.path.exists(path):
        raise FileNotFoundError(f"model {name!r}: checkpoint path {path} does not exist")
    if os.path.isdir(os.path.join(path, "checkpoints")):
        return os.path.join(path, "checkpoints"), path
    if os.path.isdir(path) and (os.path.basename(path) == "checkpoints" or _step_dirs(path)):
        return path, os.path.dirname(path) if os.path.basename(path) == "checkpoints" else None
    raise ValueError(f"model {name!r}: {path} is neither a transel train work directory (no checkpoints/ "
                     "inside) nor a checkpoint directory (no <step>/ subdirectories)")


def _step_dirs(path: str) -> list[int]:
    return sorted(int(d) for d in os.listdir(path) if d.isdigit() and os.path.isdir(os.path.join(path, d)))


def _read_step_meta(ckpt_dir: str, name: str) -> tuple[int, dict]:
    """(step, meta) of the newest step whose metadata reads; nothing is moved or written."""
    from transel_jax.train.checkpoint import Checkpointer

    steps = _step_dirs(ckpt_dir)
    if not steps:
        raise ValueError(f"model {name!r}: no checkpoint steps in {ckpt_dir} (expected <step>/ directories "
                         "written by transel train)")
    ckpt = Checkpointer(ckpt_dir)
    try:
        for step in reversed(steps):
            try:
                return step, ckpt.read_meta(step)
            except Exception as err:  # noqa: BLE001 -- unreadable steps are skipped, as documented
                warnings.warn(f"model {name!r}: checkpoint {ckpt_dir}/{step} has unreadable metadata "
                              f"({type(err).__name__}); trying the previous step", RuntimeWarning, stacklevel=4)
    finally:
        ckpt.close()
    raise ValueError(f"model {name!r}: no readable checkpoint in {ckpt_dir} (steps {steps} all unreadable)")


def _read_json(path: str | None) -> dict:
    if path is None or not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            out = json.load(f)
    except (OSError, ValueError) as err:
        warnings.warn(f"{path}: unreadable ({err}); ignored", RuntimeWarning, stacklevel=3)
        return {}
    return out if isinstance(out, dict) else {}


def _catalog_info(dataset: str | None):
    if not dataset:
        return None
    from transel_jax.data import catalog

    try:
        return catalog.info(dataset)
    except ValueError:
        return None


def _stat_digest(step_dir: str) -> list:
    out = []
    for root, dirs, files in os.walk(step_dir):
        dirs.sort()
        for f in sorted(files):
            st = os.stat(os.path.join(root, f))
            out.append([os.path.relpath(os.path.join(root, f), step_dir), st.st_size, st.st_mtime_ns])
    return out


def from_checkpoint(name: str, path: str, *, classes: Sequence[str] | None = None, dataset: str | None = None,
                    mean=None, std=None, source_images: int | None = None, source_miou: float | None = None,
                    depth: int | None = None, params: int | None = None) -> PoolModel:
    """A transel checkpoint as a :class:`PoolModel` (module docstring); keyword facts override the recorded ones.

    Reads only metadata and small JSON files; the weights load on first predict/probe. ``dataset`` replaces
    the recorded source dataset's name, and so the catalog entry used for class names and normalisation.
    """
    from transel_jax.models import registry

    check_name(name)
    ckpt_dir, workdir = checkpoint_dirs(path, name)
    step, meta = _read_step_meta(ckpt_dir, name)
    arch, num_classes = meta.get("model"), meta.get("num_classes")
    if not isinstance(arch, str) or not isinstance(num_classes, int):
        raise ValueError(f"model {name!r}: checkpoint {ckpt_dir}/{step} metadata lacks 'model'/'num_classes' "
                         f"(got keys {sorted(meta)})")
    if arch not in registry.names():
        raise ValueError(f"model {name!r}: checkpoint {ckpt_dir}/{step} holds architecture {arch!r}, which is not "
                         f"in the model registry ({', '.join(registry.names())}); wrap it as a callable instead")
    record = _read_json(workdir and os.path.join(workdir, "record.json"))
    evaluation = _read_json(workdir and os.path.join(workdir, "eval.json"))
    dataset = dataset or meta.get("dataset") or (meta.get("config") or {}).get("data", {}).get("dataset") \
        or record.get("dataset")
    info = _catalog_info(dataset)
    notes = {"step": step, "checkpoint": ckpt_dir}
    names = _checkpoint_classes(name, num_classes, classes, meta, evaluation, info, notes)
    mean, std = _normalisation(name, mean, std, meta, info, dataset, notes)
    if source_images is None:
        source_images = record.get("num_images") or _catalog_images(info, meta)
    if source_miou is None:
        source_miou = record.get("test_miou", evaluation.get("miou"))
        if source_miou is not None:
            notes["miou_split"] = "test" if "test_miou" in record else evaluation.get("split")
    depth = depth if depth is not None else record.get("depth")
    params = params if params is not None else record.get("params")
    if depth is None or params is None:
        size = _size_from_metadata(os.path.join(ckpt_dir, str(step), "state"))
        depth, params = (size[0] if depth is None else depth), (size[1] if params is None else params)
    facts = ModelMeta(dataset=dataset, source_images=source_images,
                      source_miou=None if source_miou is None else float(source_miou),
                      depth=depth, params=params, notes=notes)
    fingerprint = _sha256({"kind": "transel-checkpoint", "step": step, "meta": meta, "mean": mean.tolist(),
                           "std": std.tolist(), "files": _stat_digest(os.path.join(ckpt_dir, str(step)))})
    state: dict = {}

    def load():
        from transel_jax.models import build
        from transel_jax.train.checkpoint import load_variables
        from transel_jax.transfer.predict import segmenter_predict_fn

        try:
            variables, _ = load_variables(ckpt_dir, step=step)
        except Exception as err:  # noqa: BLE001 -- named for the user
            raise ValueError(f"model {name!r}: checkpoint {ckpt_dir}/{step} could not be read: "
                             f"{type(err).__name__}: {err}") from err
        state["model"], state["variables"] = build(arch, num_classes), variables
        return segmenter_predict_fn(state["model"], variables, mean=mean, std=std)

    def probe_fast(images_or_source, sample, batch_size):
        from transel_jax.transfer.predict import predict_at_pixels

        if "variables" not in state:
            pool_model._predict = load()
        return predict_at_pixels(state["model"], state["variables"], images_or_source, sample,
                                 batch_size=batch_size, info=types.SimpleNamespace(mean=mean, std=std))

    pool_model = PoolModel(name=name, class_names=names, architecture=arch, kind="checkpoint", origin=ckpt_dir,
                           fingerprint=fingerprint, meta=facts, load=load, probe_fast=probe_fast,
                           release=state.clear)
    return pool_model


def _size_from_metadata(state_dir: str) -> tuple[int | None, int | None]:
    """(depth, params) as :func:`transel_jax.models.describe` counts them, from the stored array shapes only."""
    import orbax.checkpoint as ocp
    from etils import epath

    from transel_jax.models.registry import count_layers, count_params

    reader = ocp.PyTreeCheckpointHandler()
    try:
        params = reader.metadata(epath.Path(state_dir)).tree["params"]
        return count_layers(params), count_params(params)
    except Exception:  # noqa: BLE001 -- the sizes are optional facts; an unreadable state fails at load time
        return None, None
    finally:
        reader.close()


def _checkpoint_classes(name, num_classes, classes, meta, evaluation, info, notes) -> tuple[str, ...]:
    if classes is not None:
        classes = _class_names(classes, f"model {name!r}: classes")
        if len(classes) != num_classes:
            raise ValueError(f"model {name!r}: classes lists {len(classes)} names, but the checkpoint has "
                             f"{num_classes} output classes")
        notes["class_names_from"] = "pool file"
        return classes
    candidates = [("checkpoint metadata", meta.get("class_names")), ("eval.json", evaluation.get("class_names")),
                  (f"catalog {getattr(info, 'name', '')}", None if info is None else info.class_names[1:])]
    for where, names in candidates:
        if names is not None and len(names) == num_classes and all(isinstance(n, str) for n in names):
            notes["class_names_from"] = where
            return tuple(names)
    notes["class_names_from"] = "generic"
    return tuple(f"label_{k + 1}" for k in range(num_classes))


def _normalisation(name, mean, std, meta, info, dataset, notes) -> tuple[np.ndarray, np.ndarray]:
    if (mean is None) != (std is None):
        raise ValueError(f"model {name!r}: give both mean and std, or neither")
    if mean is not None:
        where = "pool file"
    elif meta.get("mean") is not None and meta.get("std") is not None:
        mean, std, where = meta["mean"], meta["std"], "checkpoint metadata"
    elif info is not None:
        mean, std, where = info.mean, info.std, f"catalog {info.name}"
    else:
        warnings.warn(f"model {name!r}: source dataset {dataset!r} is not in the catalog and the checkpoint "
                      "records no mean/std; normalising with the ImageNet statistics (declare mean/std in the "
                      "pool file)", RuntimeWarning, stacklevel=4)
        mean, std, where = IMAGENET_MEAN, IMAGENET_STD, "ImageNet fallback"
    mean, std = (_three(v, f"model {name!r}: {k}") for k, v in (("mean", mean), ("std", std)))
    if np.any(std <= 0):
        raise ValueError(f"model {name!r}: std: expected positive values, got {std.tolist()}")
    notes["normalisation"] = where
    return mean, std


def _three(value, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: expected 3 finite numbers (RGB, 0..255 scale), got {value!r}")
    return arr


def _catalog_images(info, meta) -> int | None:
    if info is None:
        return None
    data = (meta.get("config") or {}).get("data", {})
    n = int(info.splits.get(data.get("split", "train"), info.splits.get("train", 0))) or None
    if n and data.get("target_subset"):
        n = min(n, int(info.target_train_size))
    return n


# ----------------------------------------------------------------------------------------------------- #
# Python callables and in-memory predict functions
# ----------------------------------------------------------------------------------------------------- #

def _class_names(names, what: str) -> tuple[str, ...]:
    if isinstance(names, str) or not isinstance(names, Sequence) or len(names) == 0 \
            or not all(isinstance(n, str) for n in names):
        raise TypeError(f"{what}: expected a non-empty sequence of class-name strings, got {names!r:.200}")
    return tuple(names)


def from_predict(name: str, predict: Callable, class_names: Sequence[str], *, fingerprint: str | None = None,
                 architecture: str = "callable", kind: str = "callable", origin: str = "<in memory>",
                 meta: ModelMeta | None = None) -> PoolModel:
    """An in-memory protocol predict function as a :class:`PoolModel` (for the Python API).

    ``fingerprint`` should change whenever the function's outputs would; None marks it uncacheable.
    """
    check_name(name)
    if not callable(predict):
        raise TypeError(f"model {name!r}: predict: expected a callable, got {type(predict).__name__}")
    names = _class_names(class_names, f"model {name!r}: class_names")
    return PoolModel(name=name, class_names=names, architecture=architecture, kind=kind, origin=origin,
                     fingerprint=fingerprint, meta=meta or ModelMeta(), load=lambda: predict)


def import_function(spec: str, name: str, base_dir: str | None = None) -> tuple[Callable, str | None]:
    """(function, its module's source file or None) of ``module:function`` or ``path/file.py:function``."""
    if not isinstance(spec, str) or spec.count(":") < 1:
        raise ValueError(f"model {name!r}: callable: expected 'module:function' or 'path/to/file.py:function', "
                         f"got {spec!r}")
    module_part, _, func_name = spec.rpartition(":")
    if not module_part or not func_name.isidentifier():
        raise ValueError(f"model {name!r}: callable: expected 'module:function' or 'path/to/file.py:function', "
                         f"got {spec!r}")
    if module_part.endswith(".py") or os.sep in module_part or "/" in module_part:
        path = module_part if os.path.isabs(module_part) else os.path.join(base_dir or os.getcwd(), module_part)
        path = os.path.abspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"model {name!r}: callable {spec!r}: file {path} not found")
        mod_name = f"_transel_pool_{hashlib.sha256(path.encode()).hexdigest()[:16]}"
        try:
            loader_spec = importlib.util.spec_from_file_location(mod_name, path)
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[mod_name] = module
            loader_spec.loader.exec_module(module)
        except Exception as err:  # noqa: BLE001
            sys.modules.pop(mod_name, None)
            raise ValueError(f"model {name!r}: callable {spec!r}: importing {path} failed: "
                             f"{type(err).__name__}: {err}") from err
    else:
        try:
            module = importlib.import_module(module_part)
        except Exception as err:  # noqa: BLE001
            raise ValueError(f"model {name!r}: callable {spec!r}: module {module_part!r} does not import: "
                             f"{type(err).__name__}: {err}") from err
    func = getattr(module, func_name, None)
    if func is None:
        raise ValueError(f"model {name!r}: callable {spec!r}: module {module_part!r} has no attribute {func_name!r}")
    if not callable(func):
        raise TypeError(f"model {name!r}: callable {spec!r}: {func_name!r} is a {type(func).__name__}, not a function")
    file = getattr(module, "__file__", None)
    return func, file if file and os.path.isfile(file) else None


def from_callable(name: str, spec: str, *, base_dir: str | None = None, kwargs: dict | None = None,
                  version: str | None = None, classes: Sequence[str] | None = None,
                  architecture: str = "callable", meta: ModelMeta | None = None) -> PoolModel:
    """A ``module:function`` returning ``(predict_fn, class_names)`` as a :class:`PoolModel` (module docstring).

    The function is imported and called here (its class names are needed to list the pool). ``classes``,
    when given, must equal the returned class names (a declared-vs-actual check).
    """
    check_name(name)
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError(f"model {name!r}: kwargs: expected a JSON object, got {type(kwargs).__name__}")
    func, file = import_function(spec, name, base_dir)
    try:
        out = func(**(kwargs or {}))
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"model {name!r}: callable {spec!r} raised {type(err).__name__}: {err}") from err
    if not isinstance(out, (tuple, list)) or len(out) != 2 or not callable(out[0]):
        raise TypeError(f"model {name!r}: callable {spec!r}: expected it to return (predict_fn, class_names), "
                        f"got {type(out).__name__}")
    predict, names = out[0], _class_names(out[1], f"model {name!r}: class names returned by {spec!r}")
    if classes is not None and tuple(classes) != names:
        raise ValueError(f"model {name!r}: classes declares {len(classes)} names {list(classes)[:5]}..., but "
                         f"{spec!r} returned {len(names)} names {list(names)[:5]}...")
    source_hash = None
    if file is not None:
        with open(file, "rb") as f:
            source_hash = hashlib.sha256(f.read()).hexdigest()
    module_part, _, func_name = spec.rpartition(":")
    # a file is named by its base name and content hash, so moving the pool folder keeps the fingerprint
    fingerprint = _sha256({"kind": "callable", "module": os.path.basename(module_part), "function": func_name,
                           "kwargs": kwargs or {}, "source_sha256": source_hash, "version": version,
                           "classes": list(names)})
    return from_predict(name, predict, names, fingerprint=fingerprint, architecture=architecture,
                        kind="callable", origin=spec, meta=meta)
