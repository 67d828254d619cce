"""The dataset catalog: one interface for the embedded synthetic suite and the 17 real datasets.

Every dataset is described by a :class:`DatasetInfo` and registered with a loader. A loader returns a
random-access *source* for one split: ``len(source)`` examples, ``source[i]`` a dict with
``"image"`` uint8 [H, W, 3] and ``"label"`` int32/uint8 [H, W] where 0 is void and 1..C are classes
(``class_names[k]`` names label ``k``; ``class_names[0] == "void"``).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Protocol, Sequence

DOMAINS = ("consumer", "driving", "aerial", "indoor", "underwater", "synthetic")
# The domain of a user's own dataset (transel_jax.data.folder) that declares none. Not one of the catalog's
# appearance domains above, so code that iterates DOMAINS (tables, domain studies) is unaffected.
CUSTOM_DOMAIN = "custom"


class Source(Protocol):
    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Mapping[str, Any]: ...


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Static facts about one segmentation dataset.

    Attributes:
      name: catalog key, e.g. ``"cityscapes"`` or ``"syn_driving_day"``.
      domain: one of :data:`DOMAINS`, or :data:`CUSTOM_DOMAIN` for a user's folder dataset.
      class_names: names of labels 0..C; ``class_names[0]`` is ``"void"``.
      splits: split name -> number of images, e.g. ``{"train": 2975, "validation": 500}``.
      mean, std: per-channel normalisation on the 0..255 scale.
      resolution: training crop (height, width).
      target_train_size: size of the small target training subset (first examples of ``train``):
        150, or 1000 for COCO and ADE20K.
      suite: ``"synthetic"``, ``"real"``, or ``"folder"`` for a user's folder dataset (never registered).
      description: where the data comes from / how to obtain it.
    """

    name: str
    domain: str
    class_names: tuple[str, ...]
    splits: Mapping[str, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resolution: tuple[int, int]
    target_train_size: int = 150
    suite: str = "real"
    description: str = ""

    def __post_init__(self):
        if self.domain not in DOMAINS + (CUSTOM_DOMAIN,):
            raise ValueError(f"domain: expected one of {DOMAINS + (CUSTOM_DOMAIN,)}, got {self.domain!r}")
        if not self.class_names or self.class_names[0] != "void":
            raise ValueError(f"class_names: expected 'void' at index 0, got {self.class_names[:1]}")

    @property
    def num_classes(self) -> int:
        """Number of real classes C (labels 1..C), void excluded."""
        return len(self.class_names) - 1

    @property
    def num_labels(self) -> int:
        """Number of label values including void (C + 1), the count the FoI release quotes."""
        return len(self.class_names)


Loader = Callable[..., Source]  # loader(split: str, **kwargs) -> Source

_REGISTRY: dict[str, tuple[DatasetInfo, Loader]] = {}


def register(info: DatasetInfo, loader: Loader) -> None:
    """Add a dataset to the catalog (re-registering the same name replaces it)."""
    _REGISTRY[info.name] = (info, loader)


def info(name: str) -> DatasetInfo:
    _ensure_loaded()
    if name not in _REGISTRY:
        raise ValueError(f"dataset: expected one of {sorted(_REGISTRY)}, got {name!r}")
    return _REGISTRY[name][0]


def load(name: str, split: str, **kwargs) -> Source:
    """Random-access source of ``split`` of dataset ``name``; kwargs go to its loader (e.g. data_dir)."""
    meta = info(name)
    if split not in meta.splits:
        raise ValueError(f"split: expected one of {sorted(meta.splits)} for {name!r}, got {split!r}")
    return _REGISTRY[name][1](split, **kwargs)


def names(suite: str | None = None, domain: str | None = None) -> list[str]:
    _ensure_loaded()
    return sorted(
        n for n, (i, _) in _REGISTRY.items()
        if (suite is None or i.suite == suite) and (domain is None or i.domain == domain)
    )


def _ensure_loaded() -> None:
    """Import the modules that register datasets (they call :func:`register` at import time)."""
    import importlib

    for mod in _REGISTERING_MODULES:
        importlib.import_module(mod)


# Modules whose import registers datasets. Data modules add themselves here.
_REGISTERING_MODULES: Sequence[str] = ("transel_jax.data.real", "transel_jax.data.synthetic")
