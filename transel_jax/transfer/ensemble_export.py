"""An ensemble of fine-tuned members with its trained head, saved as one folder and loaded in one call.

Layout of an exported ensemble ``DIR``::

    DIR/ensemble.json          members (name, architecture, checkpoint subfolder), class names (0 = void),
                               normalisation mean/std (0..255 scale), how it was produced
    DIR/head.npz               the head's ``weight`` and ``bias`` float32 [S, C] (000 Sec. 5.1)
    DIR/members/<i>/           member i's fine-tuned checkpoint (a ``transel train`` checkpoints folder)

``predict`` gives float32 [B, H, W, C] probabilities (channel c = label c + 1), ``predict_labels`` int32
[B, H, W] labels in 1..C.

>>> from transel_jax.transfer.ensemble_export import load_ensemble   # doctest: +SKIP
>>> ens = load_ensemble("sel/ensemble")                              # doctest: +SKIP
>>> probs = ens.predict(images_uint8)        # doctest: +SKIP
>>> labels = ens.predict_labels(images_uint8)  # doctest: +SKIP
"""
from __future__ import annotations

import os
import shutil
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from transel_jax.files import read_json, read_npz, write_json, write_npz

FORMAT = "transel_jax ensemble v1"


def export_ensemble(path: str, member_checkpoints: Sequence[str], head_params: dict, *, class_names,
                    mean, std, names: Sequence[str] | None = None, extra: dict | None = None) -> str:
    """Write the ensemble folder ``path`` (module docstring) and return it; a folder already there is replaced.

    Args:
      member_checkpoints: S checkpoint folders of members fine-tuned on one target (same classes).
      head_params: {"weight", "bias"} float [S, C].
      class_names: the target's C + 1 names, ``class_names[0] == "void"``.
      mean, std: the target's normalisation (0..255 scale) the members were fine-tuned with.
      names: member names (default ``member0``...); extra: JSON-able provenance.
    """
    from transel_jax.train.checkpoint import latest_meta

    weight = np.asarray(head_params["weight"], np.float32)
    bias = np.asarray(head_params["bias"], np.float32)
    s, c = len(member_checkpoints), len(class_names) - 1
    if weight.shape != (s, c) or bias.shape != (s, c):
        raise ValueError(f"head_params: expected weight and bias of shape ({s}, {c}), got {weight.shape} and "
                         f"{bias.shape}")
    names = list(names) if names is not None else [f"member{i}" for i in range(s)]
    tmp = f"{path}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "members"))
    members = []
    for i, (name, ckpt) in enumerate(zip(names, member_checkpoints)):
        meta = latest_meta(ckpt)
        if meta["num_classes"] != c:
            raise ValueError(f"member_checkpoints: {ckpt} has {meta['num_classes']} classes, expected {c}")
        shutil.copytree(ckpt, os.path.join(tmp, "members", str(i)))
        members.append({"name": name, "architecture": meta["model"], "checkpoint": f"members/{i}"})
    write_npz(os.path.join(tmp, "head.npz"), weight=weight, bias=bias)
    write_json(os.path.join(tmp, "ensemble.json"),
               {"format": FORMAT, "members": members, "class_names": list(class_names),
                "mean": [float(v) for v in np.reshape(mean, 3)], "std": [float(v) for v in np.reshape(std, 3)],
                **(extra or {})})
    shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)
    return path


class EnsemblePredictor:
    """A loaded ensemble: frozen members + head (:class:`transel_jax.models.EnsembleSegmenter`).

    Attributes: ``class_names`` (C + 1, 0 = void), ``member_names``, ``model``, ``variables``.
    """

    def __init__(self, model, variables, class_names, member_names, mean, std):
        self.model, self.variables = model, variables
        self.class_names = tuple(class_names)
        self.member_names = list(member_names)
        self._mean = np.asarray(mean, np.float32)
        self._std = np.asarray(std, np.float32)
        self._apply = jax.jit(lambda v, x: jnp.exp(model.apply(v, x, train=False)))

    @property
    def num_classes(self) -> int:
        return len(self.class_names) - 1

    def predict(self, images) -> np.ndarray:
        """float32 [B, H, W, C] ensemble probabilities of uint8 images [B, H, W, 3] (channel c = label c + 1)."""
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(f"images: expected uint8 [B, H, W, 3], got {images.dtype} {images.shape}")
        x = (images.astype(np.float32) - self._mean) / self._std
        return np.asarray(self._apply(self.variables, x), np.float32)

    def predict_labels(self, images) -> np.ndarray:
        """int32 [B, H, W] predicted dataset labels 1..C (never 0 = void)."""
        return np.argmax(self.predict(images), axis=-1).astype(np.int32) + 1


def load_ensemble(path: str) -> EnsemblePredictor:
    """Load an exported ensemble folder (module docstring) for prediction."""
    from transel_jax.models import EnsembleSegmenter, build, ensemble_variables
    from transel_jax.train.checkpoint import load_variables

    spec_path = os.path.join(path, "ensemble.json")
    if not os.path.isfile(spec_path):
        raise FileNotFoundError(f"path: {path} is not an exported ensemble (no ensemble.json)")
    spec = read_json(spec_path)
    if spec.get("format") != FORMAT:
        raise ValueError(f"path: {spec_path} has format {spec.get('format')!r}, expected {FORMAT!r}")
    c = len(spec["class_names"]) - 1
    models, variables = [], []
    for m in spec["members"]:
        v, meta = load_variables(os.path.join(path, m["checkpoint"]))
        models.append(build(meta["model"], meta["num_classes"]))
        variables.append(v)
    head = read_npz(os.path.join(path, "head.npz"))
    model = EnsembleSegmenter(tuple(models), c)
    all_vars = ensemble_variables(variables, {"params": {"weight": head["weight"], "bias": head["bias"]}}, c)
    return EnsemblePredictor(model, all_vars, spec["class_names"], [m["name"] for m in spec["members"]],
                             spec["mean"], spec["std"])
