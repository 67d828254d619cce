"""Random-access generation: image ``i`` of dataset ``d`` is a pure function of ``(seed, d, i)``.

The key of an image is the first 8 bytes of ``blake2b(f"transel-synthetic/{seed}/{name}/{i}")``; it seeds
a ``numpy.random.Generator`` (PCG64) that draws the image's row of uniforms (scene kind, layout, appearance,
instance tints, colour jitter). Rendering is vectorised over a batch but elementwise per image, so
``generate(name, [i])`` equals row ``k`` of ``generate(name, idx)`` whenever ``idx[k] == i`` (tested for every
dataset): whether a parameter column is read may depend on the dataset's style, never on the other images.
"""
from __future__ import annotations

import hashlib

import numpy as np

from transel_jax.checks import check_positive_int
from transel_jax.data.synthetic import render
from transel_jax.data.synthetic.datasets import SyntheticDataset, get
from transel_jax.data.synthetic.layouts import SCENES

MAX_RESOLUTION = 512
_PIXELS_PER_CHUNK = 1 << 18  # bounds the renderer's working memory (~40 MB of float32 temporaries)


def image_key(seed: int, name: str, index: int) -> int:
    """64-bit key of image ``index`` of dataset ``name`` under suite seed ``seed``."""
    digest = hashlib.blake2b(f"transel-synthetic/{seed}/{name}/{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def image_uniforms(seed: int, name: str, indices) -> np.ndarray:
    """float64 [n, 1 + render.NUM_UNIFORMS]: column 0 picks the scene, the rest drive the renderer."""
    return np.stack([np.random.default_rng(image_key(seed, name, int(i))).random(1 + render.NUM_UNIFORMS)
                     for i in indices]) if len(indices) else np.zeros((0, 1 + render.NUM_UNIFORMS))


def scene_of(dataset: SyntheticDataset, pick: np.ndarray) -> np.ndarray:
    """int [n]: index into ``dataset.scenes`` chosen by the uniforms ``pick`` [n]."""
    bounds = np.cumsum([p for _, p in dataset.scenes])[:-1]
    return np.searchsorted(bounds, pick, side="right")


def generate(name: str, indices, *, seed: int = 0, resolution: int = 64, concepts: bool = False) -> dict:
    """Images and labels of dataset ``name`` at dataset-wide ``indices`` (train, then validation, then test).

    Returns:
      {"image": uint8 [n, R, R, 3], "label": uint8 [n, R, R] (0 = void, 1..C classes)} and, with
      ``concepts=True``, "concept": uint8 [n, R, R] indices into :data:`concepts.CONCEPTS`.
    """
    dataset = get(name)
    resolution = check_positive_int(resolution, "resolution", minimum=8)
    if resolution > MAX_RESOLUTION:
        raise ValueError(f"resolution: expected at most {MAX_RESOLUTION}, got {resolution}")
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= dataset.size):
        raise ValueError(f"indices: expected values in [0, {dataset.size - 1}] for {name!r}, "
                         f"got values in [{idx.min()}, {idx.max()}]")
    u = image_uniforms(seed, name, idx)
    scene = scene_of(dataset, u[:, 0])
    image = np.empty((idx.size, resolution, resolution, 3), np.uint8)
    concept = np.empty((idx.size, resolution, resolution), np.uint8)
    chunk = max(1, _PIXELS_PER_CHUNK // (resolution * resolution))
    for k, (scene_name, _) in enumerate(dataset.scenes):
        layout, fill = SCENES[scene_name]
        rows = np.flatnonzero(scene == k)
        for start in range(0, rows.size, chunk):
            part = rows[start:start + chunk]
            image[part], concept[part] = render.render(layout, fill, dataset.style, u[part, 1:], resolution)
    out = {"image": image, "label": labels_from_concepts(dataset, concept)}
    if concepts:
        out["concept"] = concept
    return out


def labels_from_concepts(dataset: SyntheticDataset, concept: np.ndarray) -> np.ndarray:
    """uint8 [n, H, W] dataset labels; with ``boundary_void``, pixels whose right or lower neighbour has another
    label become void."""
    label = dataset.label_of_concept[concept]
    if dataset.boundary_void:
        edge = np.zeros(label.shape, bool)
        edge[:, :-1, :] |= label[:, :-1, :] != label[:, 1:, :]
        edge[:, :, :-1] |= label[:, :, :-1] != label[:, :, 1:]
        label = np.where(edge, 0, label).astype(np.uint8)
    return label
