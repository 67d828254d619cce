"""One pool entry, whatever produced it: :class:`PoolModel`, its facts (:class:`ModelMeta`), and
:func:`validate_model`, the protocol check run on a tiny batch before any long work.

The predict protocol (``docs``: DESIGN.md, "A user's own target and pool")::

    predict(images uint8 [B, H, W, 3]) -> (probs float32 [B, h, w, Z], feats float32 [B, h', w', D] or None)

``probs`` is a distribution over the model's own Z source classes (channel k is named by
``class_names[k]``); numpy or jax arrays are accepted. The adapters (:mod:`.adapters`) turn a transel
checkpoint, a Python ``module:function`` or an ONNX file into a :class:`PoolModel`.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class ModelMeta:
    """What is known about a pool model's source training; None where unknown.

    Attributes:
      dataset: the source dataset's name (a catalog name for transel checkpoints trained on one).
      source_images: number of source training images (N_s of BASE).
      source_miou: source test mIoU in [0, 1] (P_s of BASE).
      depth, params: layers with weights and trainable parameters (the +depth calibration of 003).
      notes: JSON-able provenance, e.g. ``{"step": 12, "normalisation": "catalog syn_drive_day",
        "miou_split": "test"}`` for a checkpoint.
    """

    dataset: str | None = None
    source_images: int | None = None
    source_miou: float | None = None
    depth: int | None = None
    params: int | None = None
    notes: dict = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


class PoolModel:
    """A named source model behind the predict protocol (module docstring).

    Attributes:
      name: unique within its pool; safe as a file name (letters, digits, ``._+-``).
      class_names: tuple of Z names; ``class_names[k]`` names output channel k (for a transel checkpoint
        channel k is its dataset's label k + 1, so these are the dataset's class names without void).
      architecture: the registry model name of a transel checkpoint, else ``"callable"`` / ``"onnx"``
        (or what the pool entry declares).
      kind: ``"checkpoint"``, ``"callable"`` or ``"onnx"``.
      origin: where it came from: the checkpoint directory, ``module:function``, or the ONNX file.
      fingerprint: hex digest of what determines its outputs (see :mod:`.adapters` per kind); a probe
        cache keys on it. None for an in-memory predict function given without one (do not cache).
      meta: :class:`ModelMeta`.

    The weights are loaded on first use (:meth:`predict` or :meth:`probe`) and kept until :meth:`release`.
    """

    def __init__(self, *, name: str, class_names, architecture: str, kind: str, origin: str,
                 fingerprint: str | None, meta: ModelMeta, load: Callable[[], Callable],
                 probe_fast: Callable | None = None, release: Callable[[], None] | None = None):
        self.name = name
        self.class_names = tuple(class_names)
        self.architecture = architecture
        self.kind = kind
        self.origin = origin
        self.fingerprint = fingerprint
        self.meta = meta
        self._load = load
        self._probe_fast = probe_fast
        self._release = release
        self._predict = None

    @property
    def num_classes(self) -> int:
        """Z, the size of the source label space."""
        return len(self.class_names)

    def predict(self, images) -> tuple[np.ndarray, np.ndarray | None]:
        """The protocol: uint8 images [B, H, W, 3] -> (probs float32 [B, h, w, Z], feats [B, h', w', D] or None)."""
        out = self._predict_fn()(images)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise ValueError(f"model {self.name!r}: predict must return (probs, feats or None), got "
                             f"{type(out).__name__}")
        return _float32(out[0]), None if out[1] is None else _float32(out[1])

    def probe(self, images_or_source, sample, *, batch_size: int, fast: bool = True
              ) -> tuple[np.ndarray, np.ndarray | None]:
        """(probs float32 [n, Z], feats float32 [n, D] or None) at a pixel sample of uint8 target images.

        Args:
          images_or_source: uint8 images [N, H, W, 3] or a random-access source (``src[i]["image"]`` uint8).
          sample: a ``PixelSample`` (image, row, col: int [n]); rows of the outputs follow its order.
          batch_size: images per forward pass.
          fast: for transel checkpoints, gather inside jit
            (:func:`transel_jax.transfer.predict.predict_at_pixels`); False (and every other kind) runs the
            generic path :func:`transel_jax.transfer.predict.predict_fn_at_pixels` over :meth:`predict`.
            Both give the same values to float32 tolerance.
        """
        from transel_jax.transfer.predict import predict_fn_at_pixels

        if hasattr(images_or_source, "dtype") and np.asarray(images_or_source).dtype != np.uint8:
            raise TypeError(f"images_or_source: expected uint8 images (model {self.name!r} normalises them "
                            f"itself), got dtype {np.asarray(images_or_source).dtype}")
        if fast and self._probe_fast is not None:
            probs, feats = self._probe_fast(images_or_source, sample, batch_size)
        else:
            probs, feats = predict_fn_at_pixels(self.predict, images_or_source, sample, batch_size=batch_size,
                                                name=self.name, desc=f"probe {self.name}")
        if probs.shape[-1] != self.num_classes:
            raise ValueError(f"model {self.name!r}: probs have {probs.shape[-1]} classes, but the model declares "
                             f"{self.num_classes} class names")
        return probs, feats

    def _predict_fn(self) -> Callable:
        if self._predict is None:
            self._predict = self._load()
        return self._predict

    def release(self) -> None:
        """Drop the loaded weights (the next predict/probe loads them again)."""
        self._predict = None
        if self._release is not None:
            self._release()

    def base_terms(self) -> tuple[float, int, int] | None:
        """(P_s, N_s, C_s) of BASE = sum_s P_s N_s C_s, or None when the mIoU or image count is unknown."""
        if self.meta.source_miou is None or self.meta.source_images is None:
            return None
        return float(self.meta.source_miou), int(self.meta.source_images), self.num_classes

    def describe(self) -> dict:
        """JSON-able summary (a dry-run listing, provenance)."""
        return {"name": self.name, "architecture": self.architecture, "kind": self.kind, "origin": self.origin,
                "num_classes": self.num_classes, "class_names": list(self.class_names),
                "fingerprint": self.fingerprint, **self.meta.to_json()}

    def __repr__(self) -> str:
        return (f"PoolModel(name={self.name!r}, kind={self.kind!r}, architecture={self.architecture!r}, "
                f"classes={self.num_classes}, origin={self.origin!r})")


def validate_model(model: PoolModel, example_images) -> dict:
    """Run ``model.predict`` once on a tiny batch and check the protocol; ValueError naming the model.

    Checks: predict returns ``(probs, feats or None)``; probs floating [B, h, w, Z] with B the batch size,
    finite, in [0, 1], summing to 1 over the last axis (tolerance 1e-3), Z == len(class_names); feats None
    or floating finite [B, h', w', D]. Any exception inside predict is re-raised as ValueError naming the
    model (the original chained).

    Args:
      model: a :class:`PoolModel`.
      example_images: uint8 [B, H, W, 3], e.g. the first target image ``[None]``.

    Returns:
      ``{"probs_shape": (h, w, Z), "feats_shape": (h', w', D) or None}`` for one image of that size.
    """
    images = np.asarray(example_images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8 or min(images.shape) == 0:
        raise ValueError(f"example_images: expected uint8 [B, H, W, 3], got {images.dtype} {images.shape}")
    where = f"model {model.name!r} ({model.kind} {model.origin})"
    try:
        out = model._predict_fn()(images)
    except Exception as err:  # noqa: BLE001 -- any failure of the user's model becomes one clear error
        raise ValueError(f"{where}: predict failed on a uint8 batch of shape {images.shape}: "
                         f"{type(err).__name__}: {err}") from err
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise ValueError(f"{where}: predict must return (probs, feats or None), got {type(out).__name__}")
    probs = _array(out[0], where, "probs")
    B = images.shape[0]
    if probs.ndim != 4 or probs.shape[0] != B or min(probs.shape) == 0:
        raise ValueError(f"{where}: expected probs [{B}, h, w, {model.num_classes}], got shape {probs.shape}")
    if probs.shape[-1] != model.num_classes:
        raise ValueError(f"{where}: probs have {probs.shape[-1]} classes in the last axis, but the model declares "
                         f"{model.num_classes} class names")
    _finite(probs, where, "probs")
    lo, hi = float(probs.min()), float(probs.max())
    if lo < 0 or hi > 1 + 1e-6:
        raise ValueError(f"{where}: expected probs in [0, 1], got values in [{lo:g}, {hi:g}] (logits instead of "
                         "a softmax?)")
    sums = probs.sum(-1, dtype=np.float64)
    worst = float(np.max(np.abs(sums - 1)))
    if worst > 1e-3:
        raise ValueError(f"{where}: expected probs summing to 1 over the last axis, got a pixel summing to "
                         f"{float(sums.flat[np.argmax(np.abs(sums - 1))]):.6g}")
    feats_shape = None
    if out[1] is not None:
        feats = _array(out[1], where, "feats")
        if feats.ndim != 4 or feats.shape[0] != B or min(feats.shape) == 0:
            raise ValueError(f"{where}: expected feats [{B}, h', w', D] or None, got shape {feats.shape}")
        _finite(feats, where, "feats")
        feats_shape = tuple(int(d) for d in feats.shape[1:])
    return {"probs_shape": tuple(int(d) for d in probs.shape[1:]), "feats_shape": feats_shape}


def _array(x: Any, where: str, what: str) -> np.ndarray:
    arr = np.asarray(x)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{where}: expected floating {what}, got dtype {arr.dtype}")
    return arr


def _finite(arr: np.ndarray, where: str, what: str) -> None:
    bad = int(np.sum(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"{where}: expected finite {what}, got {bad} NaN/inf values")


def _float32(x) -> np.ndarray:
    """numpy array; floating ones as float32 (others are left for the protocol checks to reject)."""
    arr = np.asarray(x)
    return arr.astype(np.float32, copy=False) if np.issubdtype(arr.dtype, np.floating) else arr
