"""An ONNX model as a :class:`PoolModel`, run with onnxruntime (optional extra: ``pip install transel_jax[onnx]``).

The model's first input takes a batch of images, NCHW ``[B, 3, H, W]`` or NHWC ``[B, H, W, 3]`` (``layout``;
inferred from which axis has size 3 when not given). A uint8 input gets the images as they are; a float
input gets ``(x - mean) / std`` (0..255 scale; the ImageNet statistics with a warning when the pool entry
declares none). Output 0 is the class scores in the same layout, ``[B, Z, h, w]`` / ``[B, h, w, Z]``:
``output="logits"`` (default; a softmax over Z is applied) or ``"probs"``; an optional output 1 is a
feature map in the same layout. ``classes`` (the Z names) is required. The session is created when the pool
loads, so an input that is not an image batch, a static class count that disagrees with ``classes`` or a
missing runtime fails there, naming the model; a fixed input size is checked on every call.

Fingerprint: sha256 of the file's bytes, the classes, the normalisation, the layout and the output kind.
"""
from __future__ import annotations

import hashlib
import os
import warnings

import numpy as np

from transel_jax.select.adapters import IMAGENET_MEAN, IMAGENET_STD, _class_names, _sha256, _three, check_name
from transel_jax.select.model import ModelMeta, PoolModel

LAYOUTS = ("NCHW", "NHWC")
OUTPUTS = ("logits", "probs")


def from_onnx(name: str, path: str, *, classes, mean=None, std=None, layout: str | None = None,
              output: str = "logits", architecture: str = "onnx", meta: ModelMeta | None = None) -> PoolModel:
    """The ONNX file ``path`` as a :class:`PoolModel` (module docstring)."""
    check_name(name)
    if classes is None:
        raise ValueError(f"model {name!r}: an ONNX entry needs \"classes\" (the names of its output channels)")
    names = _class_names(classes, f"model {name!r}: classes")
    if output not in OUTPUTS:
        raise ValueError(f"model {name!r}: output: expected one of {list(OUTPUTS)}, got {output!r}")
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model {name!r}: ONNX file {path} not found")
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise ImportError(f"model {name!r}: ONNX models need onnxruntime: pip install 'transel_jax[onnx]'") from err
    try:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"model {name!r}: onnxruntime cannot load {path}: {type(err).__name__}: {err}") from err
    inp = session.get_inputs()[0]
    layout = _layout(name, path, inp.shape, layout)
    channel_axis = 1 if layout == "NCHW" else 3
    out0 = session.get_outputs()[0]
    z = out0.shape[channel_axis] if len(out0.shape) == 4 else None
    if len(out0.shape) != 4:
        raise ValueError(f"model {name!r}: {path}: output 0 {out0.name!r} has shape {out0.shape}, expected "
                         f"{'[B, Z, h, w]' if layout == 'NCHW' else '[B, h, w, Z]'}")
    if isinstance(z, int) and z != len(names):
        raise ValueError(f"model {name!r}: {path} outputs {z} classes, but classes lists {len(names)} names")
    uint8_input = inp.type == "tensor(uint8)"
    if not uint8_input and inp.type not in ("tensor(float)", "tensor(float16)", "tensor(double)"):
        raise ValueError(f"model {name!r}: {path}: input {inp.name!r} has type {inp.type}, expected uint8 or float")
    float_dtype = {"tensor(float16)": np.float16, "tensor(double)": np.float64}.get(inp.type, np.float32)
    if uint8_input:
        mean = std = None
        normalisation = "none (uint8 input)"
    elif mean is None and std is None:
        warnings.warn(f"model {name!r}: no mean/std declared for the float input of {path}; normalising with the "
                      "ImageNet statistics", RuntimeWarning, stacklevel=3)
        mean, std, normalisation = np.asarray(IMAGENET_MEAN), np.asarray(IMAGENET_STD), "ImageNet fallback"
    elif mean is None or std is None:
        raise ValueError(f"model {name!r}: give both mean and std, or neither")
    else:
        mean, std = _three(mean, f"model {name!r}: mean"), _three(std, f"model {name!r}: std")
        normalisation = "pool file"
    fixed = [d if isinstance(d, int) else None for d in inp.shape]
    with open(path, "rb") as f:
        file_hash = hashlib.sha256(f.read()).hexdigest()
    fingerprint = _sha256({"kind": "onnx", "file_sha256": file_hash, "classes": list(names), "layout": layout,
                           "output": output, "mean": None if mean is None else list(mean),
                           "std": None if std is None else list(std)})
    meta = meta or ModelMeta()
    meta = ModelMeta(**{**meta.to_json(), "notes": {**meta.notes, "normalisation": normalisation,
                                                      "layout": layout, "output": output}})
    n_outputs = len(session.get_outputs())

    def predict(images):
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise TypeError(f"model {name!r}: expected uint8 images [B, H, W, 3], got {images.dtype} {images.shape}")
        x = images if uint8_input else ((images.astype(np.float32) - mean) / std).astype(float_dtype)
        if layout == "NCHW":
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        for axis, (want, got) in enumerate(zip(fixed, x.shape)):
            if want is not None and want != got:
                raise ValueError(f"model {name!r}: {path} takes input {inp.name!r} of shape {inp.shape} "
                                 f"({layout}), got a batch of shape {list(x.shape)}")
        outs = session.run(None, {inp.name: x})
        scores = np.asarray(outs[0], np.float32)
        feats = np.asarray(outs[1], np.float32) if n_outputs > 1 else None
        if layout == "NCHW":
            scores = scores.transpose(0, 2, 3, 1)
            feats = None if feats is None else feats.transpose(0, 2, 3, 1)
        if output == "logits":
            e = np.exp(scores - scores.max(-1, keepdims=True))
            scores = e / e.sum(-1, keepdims=True)
        return scores, feats

    return PoolModel(name=name, class_names=names, architecture=architecture, kind="onnx", origin=path,
                     fingerprint=fingerprint, meta=meta, load=lambda: predict)


def _layout(name: str, path: str, shape, layout: str | None) -> str:
    if len(shape) != 4:
        raise ValueError(f"model {name!r}: {path}: input 0 has shape {shape}, expected an image batch "
                         "[B, 3, H, W] or [B, H, W, 3]")
    if layout is None:
        candidates = [lay for lay, axis in (("NCHW", 1), ("NHWC", 3)) if shape[axis] == 3]
        if len(candidates) != 1:
            raise ValueError(f"model {name!r}: {path}: cannot tell the layout of input shape {shape}; declare "
                             "\"layout\": \"NCHW\" or \"NHWC\"")
        layout = candidates[0]
    if layout not in LAYOUTS:
        raise ValueError(f"model {name!r}: layout: expected one of {list(LAYOUTS)}, got {layout!r}")
    axis = 1 if layout == "NCHW" else 3
    if isinstance(shape[axis], int) and shape[axis] != 3:
        raise ValueError(f"model {name!r}: {path}: input 0 has shape {shape}, expected 3 channels on axis {axis} "
                         f"({layout})")
    return layout
