"""A user's own target dataset: a folder of images and label maps.

Layout::

    DIR/images/<split>/<stem>.png|.jpg|.jpeg   RGB images (grayscale, palette and RGBA are converted to RGB;
                                               EXIF orientation is not applied: pixels as stored)
    DIR/labels/<split>/<stem>.png              single-channel label maps (PNG mode L or P, or 16-bit I;16/I),
                                               same stem and same size as the image
    DIR/classes.txt                            class names, one per line (UTF-8), see the conventions below
    DIR/dataset.json                           optional, every key optional:
        {"labels": "void0" | "ignore255",      the label convention (default "void0")
         "domain": "driving",                  one of transel_jax.data.catalog.DOMAINS or "custom" (default)
         "mean": [r, g, b], "std": [r, g, b],  per-channel normalisation on the 0..255 scale
         "resolution": [height, width]}        training crop size

Splits: ``train`` is required; ``val`` (or ``validation``, an alias; not both) and ``test`` are optional.
Other directories under ``images/`` and ``labels/`` are ignored (``transel data check`` lists them). The
loader names the splits as the catalog does: ``"train"``, ``"validation"``, ``"test"`` (``"val"`` is
accepted as an alias of ``"validation"``). Files whose names start with ``.`` are ignored; examples are in
sorted stem order. Images may differ in size from each other (not from their label map).

Label conventions (declared, never guessed: ``dataset.json`` ``"labels"``, overridden by the ``labels=``
keyword of :func:`load_folder` / :func:`check_folder` or ``transel data check --labels``):

- ``"void0"`` (default, the catalog's convention): label 0 is void (ignored by losses, metrics and pixel
  sampling), 1..C are the classes; ``classes.txt`` has C + 1 lines, line k names label k (line 0 names
  void, whatever it says). Valid values: 0..C.
- ``"ignore255"`` (mmsegmentation / torchvision style): labels 0..C-1 are the classes, 255 is ignore;
  ``classes.txt`` has C lines, line k names class index k (no void line); C <= 255. Valid values: 0..C-1
  and 255. Use it too when label 0 is a real class you want segmented (e.g. "background").

Whatever the folder's convention, every example this module returns uses the catalog's: 0 = void,
1..C = classes (``ignore255`` maps v -> v + 1 and 255 -> 0), and ``info.class_names[0] == "void"``.

Statistics: ``mean``/``std`` not given in ``dataset.json`` are computed over every pixel of every train
image (each pixel weighs the same, so larger images weigh more), per RGB channel on the 0..255 scale, std
the population one (ddof 0), from exact integer sums; this decodes the whole train split once at load time
(give them in ``dataset.json`` to skip it). ``resolution`` not given is the median train image size: the
median height and the median width, each rounded to the nearest integer (from image headers only).
``info.target_train_size`` is the number of train images: the whole train split is the target set.

Checks: :func:`load_folder` runs the cheap structural checks at once (``classes.txt`` present and well
formed, ``dataset.json`` keys and values, ``train`` present, no empty split, every image paired with a
label map and vice versa, label maps PNG) and raises one ``ValueError`` listing every problem with its
file. Pixel-level problems (unreadable files, label values outside the declared classes, image/label size
mismatch) surface when an example is read (``ValueError`` naming the file); :func:`check_folder`
(``transel data check DIR [--labels ignore255]``) reads every image and label map up front, reports all
problems with the per-split counts and the class histogram, and exits 0 when clean, 2 otherwise.

Targets by name or folder: :func:`resolve_target` takes a folder path or a catalog name (synthetic or real)
and returns a :class:`Target` with ``.info`` and ``.split(name)``; catalog datasets have the splits of their
``info.splits`` (``"train"``, ``"validation"``, ``"test"``), folders those present among the same three.

This module never imports jax.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from transel_jax.data import catalog

LABEL_CONVENTIONS = ("void0", "ignore255")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
LABEL_SUFFIX = ".png"
LABEL_MODES = ("L", "P", "I;16", "I;16L", "I;16B", "I")
SPLITS = ("train", "validation", "test")
# canonical split name -> directory names accepted for it (at most one may exist)
SPLIT_DIRS = {"train": ("train",), "validation": ("val", "validation"), "test": ("test",)}
SPLIT_ALIASES = {"val": "validation"}
DATASET_JSON_KEYS = ("labels", "domain", "mean", "std", "resolution")
SUITE = "folder"
_SHOW = 5  # names shown per problem before "... and N more"


# ------------------------------------------------------------------------------------------ sources


class FolderSource:
    """One split of a folder dataset as a catalog source.

    ``len(src)`` examples in sorted stem order; ``src[i]`` is ``{"image": uint8 [H, W, 3], "label": [H, W]}``
    read lazily with Pillow, the label in the catalog convention (0 = void, 1..C), uint8 when C + 1 <= 256
    else int32. Reading raises ``ValueError`` naming the file for an unreadable file, a label value outside
    the declared classes or an image/label size mismatch. ``stems``, ``image_paths``, ``label_paths`` list
    the files.
    """

    def __init__(self, image_paths: Sequence[Path], label_paths: Sequence[Path], convention: str,
                 num_classes: int):
        if len(image_paths) != len(label_paths):
            raise ValueError(f"label_paths: expected {len(image_paths)} paths (one per image), "
                             f"got {len(label_paths)}")
        if convention not in LABEL_CONVENTIONS:
            raise ValueError(f"convention: expected one of {LABEL_CONVENTIONS}, got {convention!r}")
        self.image_paths = tuple(Path(p) for p in image_paths)
        self.label_paths = tuple(Path(p) for p in label_paths)
        self.stems = tuple(p.stem for p in self.image_paths)
        self.convention = convention
        self.num_classes = num_classes

    def __len__(self) -> int:
        return len(self.image_paths)

    def __repr__(self) -> str:
        where = self.image_paths[0].parent if self.image_paths else "?"
        return f"FolderSource({str(where)!r}, labels={self.convention!r}, len={len(self)})"

    def __getitem__(self, index) -> dict:
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an integer, got {type(index).__name__}")
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index: expected a value in [{-n}, {n - 1}], got {index}")
        index = int(index) % n
        image = read_image(self.image_paths[index])
        raw = read_label_map(self.label_paths[index])
        if raw.shape != image.shape[:2]:
            raise ValueError(f"{self.label_paths[index]}: expected the size of its image "
                             f"{_size(image.shape)} (HxW), got {_size(raw.shape)}")
        label, bad = to_catalog_labels(raw, self.convention, self.num_classes)
        if bad.size:
            raise ValueError(f"{self.label_paths[index]}: "
                             f"{_bad_values_message(bad, self.convention, self.num_classes)}")
        return {"image": image, "label": label}


class FileProblem(ValueError):
    """A file that cannot be used: ``str(e) == f"{path}: {reason}"``; ``kind`` is ``"unreadable"`` or
    ``"mode"`` (a label map that is not single-channel)."""

    def __init__(self, path, reason: str, kind: str = "unreadable"):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.kind = Path(path), reason, kind


_DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def read_image(path) -> np.ndarray:
    """The image at ``path`` as uint8 [H, W, 3] (any Pillow mode converted to RGB); FileProblem naming it."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except _DECODE_ERRORS as e:
        raise FileProblem(path, f"unreadable image ({type(e).__name__}: {e})") from e


def read_label_map(path) -> np.ndarray:
    """The raw values of the single-channel label map at ``path``: [H, W] uint8 (L, P), uint16 (I;16) or
    int32 (I). FileProblem naming the file when unreadable or not single-channel."""
    try:
        with Image.open(path) as im:
            mode = im.mode
            if mode in LABEL_MODES:
                return np.asarray(im)
    except _DECODE_ERRORS as e:
        raise FileProblem(path, f"unreadable label map ({type(e).__name__}: {e})") from e
    raise FileProblem(path, f"expected a single-channel label map (PNG mode L, P, I;16 or I), got mode {mode}",
                      kind="mode")


def to_catalog_labels(raw: np.ndarray, convention: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Map raw label values [H, W] of ``convention`` with C = ``num_classes`` classes to the catalog's.

    Returns ``(label, bad)``: ``label`` [H, W] with 0 = void and 1..C (uint8 when C + 1 <= 256, else int32;
    invalid pixels become 0) and ``bad`` the sorted distinct invalid raw values (int64 [k], empty when none).
    ``void0``: valid 0..C, unchanged. ``ignore255``: valid 0..C-1 -> 1..C and 255 -> 0.
    """
    raw = np.asarray(raw)
    if convention == "void0":
        valid = (raw >= 0) & (raw <= num_classes)
        out = np.where(valid, raw, 0)
    elif convention == "ignore255":
        valid = ((raw >= 0) & (raw < num_classes)) | (raw == 255)
        out = np.where(valid & (raw != 255), raw.astype(np.int64) + 1, 0)
    else:
        raise ValueError(f"labels: expected one of {LABEL_CONVENTIONS}, got {convention!r}")
    bad = np.unique(raw[~valid]).astype(np.int64) if not valid.all() else np.zeros(0, np.int64)
    return out.astype(np.uint8 if num_classes + 1 <= 256 else np.int32), bad


def _bad_values_message(bad, convention: str, num_classes: int) -> str:
    allowed = f"0..{num_classes}" if convention == "void0" else f"0..{num_classes - 1} and 255"
    shown = ", ".join(str(int(v)) for v in bad[:10]) + (", ..." if len(bad) > 10 else "")
    msg = (f"expected label values in {allowed} ({convention}, {num_classes} classes in classes.txt), "
           f"got {shown}")
    if convention == "void0" and 255 in bad:
        msg += '; declare "labels": "ignore255" in dataset.json if 255 means ignore'
    return msg


def _size(shape) -> str:
    return f"{shape[0]}x{shape[1]}"


# -------------------------------------------------------------------------------------- structure


@dataclasses.dataclass
class _Layout:
    """What the cheap structural scan found; ``problems`` empty means loadable."""

    root: Path
    convention: str | None = None
    convention_source: str = "default"
    class_lines: tuple[str, ...] | None = None
    meta: dict = dataclasses.field(default_factory=dict)
    # canonical split -> (directory name, stems, image paths, label paths), paired files only
    splits: dict = dataclasses.field(default_factory=dict)
    problems: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    @property
    def num_classes(self) -> int | None:
        if self.class_lines is None or self.convention is None:
            return None
        return len(self.class_lines) - (1 if self.convention == "void0" else 0)

    def class_names(self) -> tuple[str, ...]:
        rest = self.class_lines[1:] if self.convention == "void0" else self.class_lines
        return ("void",) + tuple(rest)


def _listing(names: Sequence[str], total: int | None = None) -> str:
    total = len(names) if total is None else total
    shown = ", ".join(names[:_SHOW])
    return shown + (f", ... and {total - _SHOW} more" if total > _SHOW else "")


def _read_dataset_json(path: Path, layout: _Layout) -> None:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        layout.problems.append(f"{path}: unreadable JSON ({type(e).__name__}: {e})")
        return
    if not isinstance(meta, dict):
        layout.problems.append(f"{path}: expected a JSON object, got {type(meta).__name__}")
        return
    unknown = sorted(set(meta) - set(DATASET_JSON_KEYS))
    if unknown:
        layout.problems.append(f"{path}: unknown key(s) {unknown}, expected keys among {list(DATASET_JSON_KEYS)}")
    checks: dict[str, Callable[[Any], str | None]] = {
        "labels": lambda v: None if v in LABEL_CONVENTIONS else f"one of {list(LABEL_CONVENTIONS)}",
        "domain": lambda v: None if v in catalog.DOMAINS + (catalog.CUSTOM_DOMAIN,)
        else f"one of {list(catalog.DOMAINS + (catalog.CUSTOM_DOMAIN,))}",
        "mean": lambda v: None if _numbers(v, 3) and all(0 <= x <= 255 for x in v)
        else "3 numbers in [0, 255] (0..255 scale)",
        "std": lambda v: None if _numbers(v, 3) and all(0 < x <= 255 for x in v)
        else "3 numbers in (0, 255] (0..255 scale)",
        "resolution": lambda v: None if _numbers(v, 2) and all(isinstance(x, int) and x > 0 for x in v)
        else "[height, width], 2 positive integers",
    }
    for key, check in checks.items():
        if key in meta:
            want = check(meta[key])
            if want:
                layout.problems.append(f"{path}: \"{key}\": expected {want}, got {meta[key]!r}")
            else:
                layout.meta[key] = meta[key]


def _numbers(v, n: int) -> bool:
    return (isinstance(v, list) and len(v) == n
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x) for x in v))


def _read_classes(path: Path, layout: _Layout) -> None:
    if not path.is_file():
        layout.problems.append(f"{path}: missing (one class name per line; line k names label k)")
        return
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        layout.problems.append(f"{path}: unreadable ({type(e).__name__}: {e})")
        return
    lines = [line.strip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        layout.problems.append(f"{path}: empty, expected one class name per line")
        return
    blank = [i + 1 for i, line in enumerate(lines) if not line]
    if blank:
        layout.problems.append(f"{path}: blank line(s) {blank} (1-based); every line names a label")
    seen, dupes = set(), []
    for line in lines:
        if line and line in seen and line not in dupes:
            dupes.append(line)
        seen.add(line)
    if dupes:
        layout.problems.append(f"{path}: duplicate class name(s) {dupes}")
    conv = layout.convention
    if conv == "void0" and len(lines) < 2:
        layout.problems.append(f"{path}: expected line 0 naming void and at least one class (void0), got "
                               f"{len(lines)} line")
    elif conv == "ignore255" and len(lines) > 255:
        layout.problems.append(f"{path}: expected at most 255 classes with ignore255 (255 is ignore), got "
                               f"{len(lines)}")
    else:  # the class count is usable (blank lines or duplicates are reported but do not change it)
        layout.class_lines = tuple(lines)
    if conv == "ignore255" and "void" in (line.lower() for line in lines):
        layout.problems.append(f"{path}: line {[name.lower() for name in lines].index('void')} is 'void', but with "
                               f"ignore255 there is no void line (line k names class index k, 255 is ignore): "
                               f"remove it, or use void0")


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".") and p.is_file())


def _scan_split(layout: _Layout, split: str, dirname: str) -> None:
    images_dir, labels_dir = layout.root / "images" / dirname, layout.root / "labels" / dirname
    images, labels, other = {}, {}, []
    dup_images = []
    for p in _files(images_dir) if images_dir.is_dir() else []:
        if p.suffix.lower() in IMAGE_SUFFIXES:
            if p.stem in images:
                dup_images.append(f"{images[p.stem].name}/{p.name}")
            images[p.stem] = p
        else:
            other.append(f"images/{dirname}/{p.name}")
    non_png = []
    for p in _files(labels_dir) if labels_dir.is_dir() else []:
        if p.suffix.lower() == LABEL_SUFFIX:
            labels[p.stem] = p
        elif p.suffix.lower() in IMAGE_SUFFIXES:
            non_png.append(p.name)
        else:
            other.append(f"labels/{dirname}/{p.name}")
    where = f"{split} (images/{dirname}, labels/{dirname})"
    if other:
        layout.notes.append(f"{split}: {len(other)} ignored file(s) that are not images: {_listing(other)}")
    if dup_images:
        layout.problems.append(f"{where}: {len(dup_images)} stem(s) with more than one image: {_listing(dup_images)}")
    if non_png:
        layout.problems.append(f"{where}: {len(non_png)} label map(s) not PNG (label maps must be lossless PNG): "
                               f"{_listing(non_png)}")
    if not images and not labels:
        layout.problems.append(f"{where}: empty split (no images, no label maps)")
        return
    if not labels_dir.is_dir():
        layout.problems.append(f"{layout.root / 'labels' / dirname}: missing, {len(images)} image(s) in "
                               f"images/{dirname} have no label map")
        return
    if not images_dir.is_dir():
        layout.problems.append(f"{layout.root / 'images' / dirname}: missing, {len(labels)} label map(s) in "
                               f"labels/{dirname} have no image")
        return
    no_label = sorted(images[s].name for s in set(images) - set(labels))
    no_image = sorted(labels[s].name for s in set(labels) - set(images))
    if no_label:
        layout.problems.append(f"{where}: {len(no_label)} image(s) without a label map: {_listing(no_label)}")
    if no_image:
        layout.problems.append(f"{where}: {len(no_image)} label map(s) without an image: {_listing(no_image)}")
    stems = sorted(set(images) & set(labels))
    layout.splits[split] = (dirname, tuple(stems), tuple(images[s] for s in stems), tuple(labels[s] for s in stems))


def _scan(path, labels: str | None) -> _Layout:
    """Cheap structural scan (directory listings, classes.txt, dataset.json): no image is opened."""
    root = Path(path).expanduser()
    layout = _Layout(root=root)
    if labels is not None and labels not in LABEL_CONVENTIONS:
        raise ValueError(f"labels: expected one of {LABEL_CONVENTIONS} or None, got {labels!r}")
    if not root.is_dir():
        layout.problems.append(f"{root}: not a directory (expected images/, labels/ and classes.txt inside)")
        return layout
    if (root / "dataset.json").is_file():
        _read_dataset_json(root / "dataset.json", layout)
    if labels is not None:
        layout.convention, layout.convention_source = labels, "labels= argument"
    elif "labels" in layout.meta:
        layout.convention, layout.convention_source = layout.meta["labels"], "dataset.json"
    else:
        layout.convention = "void0"
    _read_classes(root / "classes.txt", layout)
    for sub in ("images", "labels"):
        if not (root / sub).is_dir():
            layout.problems.append(f"{root / sub}: missing directory (expected {sub}/train/ inside)")
    if any(not (root / sub).is_dir() for sub in ("images", "labels")):
        return layout
    present = {p.name for sub in ("images", "labels") for p in (root / sub).iterdir()
               if p.is_dir() and not p.name.startswith(".")}
    known = {d for dirs in SPLIT_DIRS.values() for d in dirs}
    if present - known:
        layout.notes.append(f"ignored split director(ies) {sorted(present - known)}; splits are "
                            f"train, val (or validation) and test")
    for split, dirs in SPLIT_DIRS.items():
        found = [d for d in dirs if d in present]
        if len(found) > 1:
            layout.problems.append(f"{root}: both {found[0]}/ and {found[1]}/ present; use one name for the "
                                   f"{split} split")
            continue
        if found:
            _scan_split(layout, split, found[0])
        elif split == "train":
            layout.problems.append(f"{root / 'images' / 'train'}: missing, the train split is required")
    return layout


# ---------------------------------------------------------------------------------------- loading


class FolderDataset:
    """A loaded folder dataset. ``info``: :class:`catalog.DatasetInfo` (name = folder name, suite
    ``"folder"``, splits among ``"train"``, ``"validation"``, ``"test"``); ``split(name)`` ->
    :class:`FolderSource`; ``path``: the folder; ``labels``: the folder's declared convention."""

    def __init__(self, path: Path, info: catalog.DatasetInfo, labels: str, sources: Mapping[str, FolderSource]):
        self.path, self.info, self.labels = path, info, labels
        self._sources = dict(sources)

    def split(self, name: str) -> FolderSource:
        name = SPLIT_ALIASES.get(name, name)
        if name not in self._sources:
            raise ValueError(f"split: expected one of {sorted(self._sources)} for folder {str(self.path)!r}, "
                             f"got {name!r}")
        return self._sources[name]

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.info.splits.items())
        return f"FolderDataset({str(self.path)!r}, labels={self.labels!r}, {self.info.num_classes} classes, {sizes})"


def load_folder(path, *, labels: str | None = None, progress: bool = False) -> FolderDataset:
    """Load the folder dataset at ``path`` (layout and conventions in the module docstring).

    Args:
      path: the dataset folder.
      labels: ``"void0"`` or ``"ignore255"``, overriding ``dataset.json``; None: ``dataset.json``'s
        ``"labels"``, else ``"void0"``.
      progress: show a progress bar while computing mean/std (only when ``dataset.json`` lacks them).
    Returns:
      a :class:`FolderDataset`. Raises ``ValueError`` listing every structural problem with its file.
    """
    layout = _scan(path, labels)
    if layout.problems:
        raise ValueError(f"{layout.root}: not a loadable folder dataset:\n  " + "\n  ".join(layout.problems))
    sources = {split: FolderSource(images, labs, layout.convention, layout.num_classes)
               for split, (_, _, images, labs) in layout.splits.items()}
    train = sources["train"]
    meta = layout.meta
    if "mean" in meta and "std" in meta:
        mean, std = tuple(map(float, meta["mean"])), tuple(map(float, meta["std"]))
    else:
        m, s = image_stats(train.image_paths, progress=progress)
        mean = tuple(map(float, meta.get("mean", m)))
        std = tuple(map(float, meta.get("std", s)))
    resolution = tuple(meta["resolution"]) if "resolution" in meta else median_size(train.image_paths)
    root = layout.root.resolve()
    info = catalog.DatasetInfo(
        name=root.name, domain=meta.get("domain", catalog.CUSTOM_DOMAIN), class_names=layout.class_names(),
        splits={split: len(src) for split, src in sources.items()}, mean=mean, std=std,
        resolution=(int(resolution[0]), int(resolution[1])), target_train_size=len(train), suite=SUITE,
        description=f"folder dataset at {root} ({layout.convention} labels)")
    return FolderDataset(root, info, layout.convention, sources)


def image_stats(paths: Sequence[Path], *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and population std (float64 [3], 0..255 scale) over every pixel of the images."""
    total = np.zeros(3, np.int64)
    squares = np.zeros(3, np.int64)
    count = 0
    for p in _progress(paths, progress, "image statistics"):
        pixels = read_image(p).reshape(-1, 3)
        total += pixels.sum(0, dtype=np.int64)
        squares += np.square(pixels, dtype=np.uint32).sum(0, dtype=np.int64)
        count += pixels.shape[0]
    if count == 0:
        raise ValueError("paths: expected at least one image with pixels, got none")
    mean = total / count
    var = np.maximum(squares / count - mean * mean, 0.0)
    return mean, np.sqrt(var)


def median_size(paths: Sequence[Path]) -> tuple[int, int]:
    """(median height, median width) of the images, each rounded to the nearest integer (headers only)."""
    sizes = []
    for p in paths:
        try:
            with Image.open(p) as im:
                w, h = im.size
        except _DECODE_ERRORS as e:
            raise FileProblem(p, f"unreadable image ({type(e).__name__}: {e})") from e
        sizes.append((h, w))
    h, w = np.median(np.asarray(sizes, np.float64), axis=0)
    return int(np.floor(h + 0.5)), int(np.floor(w + 0.5))


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="img", leave=False)


# --------------------------------------------------------------------------------------- checking


@dataclasses.dataclass
class CheckReport:
    """Result of :func:`check_folder`.

    Attributes:
      path: the folder.
      labels: the convention checked against, ``labels_source`` where it came from.
      class_names: catalog-convention names (``[0] == "void"``), empty when classes.txt is unusable.
      counts: split -> number of paired examples.
      histogram: split -> int64 [C + 1] pixel count per catalog label (index 0 = void; invalid values not
        counted), over the label maps that could be read.
      problems: one line per problem (with file names, first few and counts); ``ok`` when empty.
      notes: things worth knowing that are not errors (ignored files, the void line's name).
    """

    path: Path
    labels: str
    labels_source: str
    class_names: tuple[str, ...]
    counts: dict
    histogram: dict
    problems: list
    notes: list

    @property
    def ok(self) -> bool:
        return not self.problems

    def format(self) -> str:
        """Human-readable report: counts, class histogram, notes, problems."""
        out = [f"{self.path}: labels {self.labels} ({self.labels_source}), "
               f"{max(len(self.class_names) - 1, 0)} classes"]
        out.append("splits: " + (", ".join(f"{k} {v}" for k, v in self.counts.items()) or "none"))
        if self.class_names and self.histogram:
            splits = list(self.histogram)
            width = max(len(n) for n in self.class_names) + 2
            out.append("pixels per class:")
            out.append(" " * (width + 6) + "".join(f"{s:>14s}" for s in splits))
            for k, name in enumerate(self.class_names):
                label = f"{k:4d}  {name}" if k else "   -  void"
                out.append(f"{label:<{width + 6}s}" + "".join(f"{int(self.histogram[s][k]):>14d}" for s in splits))
        out += [f"note: {n}" for n in self.notes]
        if self.problems:
            out.append(f"{len(self.problems)} problem(s):")
            out += [f"  - {p}" for p in self.problems]
        else:
            out.append("ok: no problems found")
        return "\n".join(out)


def check_folder(path, *, labels: str | None = None, progress: bool = True) -> CheckReport:
    """Check the folder dataset at ``path`` fully: the structural checks of :func:`load_folder`, then every
    image and label map decoded (unreadable files, label mode, values outside the declared classes,
    image/label size mismatch) and the class histogram counted. Slow: reads every file once (progress
    bar on stderr when ``progress``). Never raises for a problem of the data; see :class:`CheckReport`.
    """
    layout = _scan(path, labels)
    num_classes = layout.num_classes
    usable_classes = num_classes is not None
    class_names = layout.class_names() if usable_classes else ()
    if usable_classes and layout.convention == "void0" and layout.class_lines[0].lower() not in ("void", "ignore"):
        layout.notes.append(f"classes.txt line 0 ({layout.class_lines[0]!r}) is taken as void (void0); declare "
                            f"\"labels\": \"ignore255\" if label 0 is a real class")
    problems = list(layout.problems)
    counts, histogram = {}, {}
    for split, (_, stems, images, labs) in layout.splits.items():
        counts[split] = len(stems)
        hist = np.zeros(len(class_names), np.int64) if usable_classes else None
        unreadable, mismatch, bad_values, bad_modes = [], [], [], []
        for image_path, label_path in _progress(list(zip(images, labs)), progress, f"checking {split}"):
            try:
                with Image.open(image_path) as im:
                    im.load()
                    image_size = (im.size[1], im.size[0])
            except _DECODE_ERRORS as e:
                unreadable.append(f"images/{image_path.parent.name}/{image_path.name} ({type(e).__name__}: {e})")
                image_size = None
            try:
                raw = read_label_map(label_path)
            except FileProblem as e:
                (bad_modes if e.kind == "mode" else unreadable).append(
                    f"labels/{label_path.parent.name}/{label_path.name} ({e.reason})")
                continue
            if image_size is not None and raw.shape != image_size:
                mismatch.append(f"{image_path.stem} (image {_size(image_size)}, label {_size(raw.shape)})")
            if usable_classes:
                label, bad = to_catalog_labels(raw, layout.convention, num_classes)
                hist += np.bincount(label.ravel(), minlength=len(class_names))[: len(class_names)]
                if bad.size:
                    bad_values.append((label_path.name, bad))
                    hist[0] -= int(np.isin(raw, bad).sum())  # invalid pixels were mapped to 0: uncount them
        where = f"{split}"
        if unreadable:
            problems.append(f"{where}: {len(unreadable)} unreadable file(s): {_listing(unreadable)}")
        if bad_modes:
            problems.append(f"{where}: {len(bad_modes)} label map(s) not single-channel: {_listing(bad_modes)}")
        if mismatch:
            problems.append(f"{where}: {len(mismatch)} image/label size mismatch(es) (HxW): {_listing(mismatch)}")
        if bad_values:
            values = np.unique(np.concatenate([b for _, b in bad_values]))
            files = [f"{name} {[int(v) for v in b[:5]]}" for name, b in bad_values]
            problems.append(f"{where}: {len(bad_values)} label map(s) with values outside the classes: "
                            f"{_listing(files)}; {_bad_values_message(values, layout.convention, num_classes)}")
        if hist is not None:
            histogram[split] = hist
    if usable_classes and "train" in histogram:
        missing = [class_names[k] for k in range(1, len(class_names)) if histogram["train"][k] == 0]
        if missing:
            layout.notes.append(f"{len(missing)} class(es) with no pixels in train: {_listing(missing)}")
    return CheckReport(path=layout.root, labels=layout.convention, labels_source=layout.convention_source,
                       class_names=class_names, counts=counts, histogram=histogram, problems=problems,
                       notes=list(layout.notes))


# -------------------------------------------------------------------------------- target resolver


@dataclasses.dataclass(frozen=True)
class Target:
    """A target dataset, from a folder or the catalog. ``kind``: ``"folder"`` or ``"catalog"``; ``info``:
    its :class:`catalog.DatasetInfo`; ``split(name)``: a random-access source of split ``name`` (one of
    ``info.splits``; ``"val"`` is an alias of ``"validation"``)."""

    spec: str
    kind: str
    info: catalog.DatasetInfo
    _loader: Callable[[str], Any] = dataclasses.field(repr=False)

    def split(self, name: str):
        if name not in self.info.splits:
            name = SPLIT_ALIASES.get(name, name)
        if name not in self.info.splits:
            raise ValueError(f"split: expected one of {sorted(self.info.splits)} for target {self.spec!r}, "
                             f"got {name!r}")
        return self._loader(name)


def resolve_target(spec, **kwargs) -> Target:
    """The target named by ``spec``: a folder dataset path or a catalog dataset name.

    A ``pathlib.Path``, or a string that is an absolute path, contains a path separator or starts with
    ``.`` or ``~``, is a folder; any other string is a catalog name if the catalog has it, else a folder if
    such a directory exists. A bare name that is both is refused as ambiguous (write ``./NAME`` for the
    folder). kwargs: for a folder ``labels`` (and ``progress``) of :func:`load_folder`; for a catalog
    dataset those of its loader (e.g. ``data_dir`` for real datasets, ``seed``/``resolution`` for
    synthetic ones), passed to :func:`catalog.load` on every ``split`` call.
    """
    if isinstance(spec, os.PathLike):
        return _folder_target(Path(spec), kwargs)
    if not isinstance(spec, str) or not spec:
        raise TypeError(f"spec: expected a folder path or a catalog dataset name, got {spec!r}")
    explicit = os.path.isabs(spec) or os.sep in spec or "/" in spec or spec.startswith((".", "~"))
    if explicit:
        return _folder_target(Path(spec), kwargs)
    names = catalog.names()
    is_dir = Path(spec).is_dir()
    if spec in names and is_dir:
        raise ValueError(f"spec: {spec!r} is both a catalog dataset and a directory here; write ./{spec} for the "
                         f"folder")
    if spec in names:
        if "labels" in kwargs:
            raise TypeError(f"labels: only for folder targets, got labels= with catalog dataset {spec!r}")
        info = catalog.info(spec)
        return Target(spec, "catalog", info, lambda split: catalog.load(spec, split, **kwargs))
    if is_dir:
        return _folder_target(Path(spec), kwargs)
    raise ValueError(f"spec: expected a folder dataset path or a catalog dataset name (one of {names}), got "
                     f"{spec!r}")


def _folder_target(path: Path, kwargs) -> Target:
    unknown = sorted(set(kwargs) - {"labels", "progress"})
    if unknown:
        raise TypeError(f"{unknown[0]}: unexpected keyword for folder target {str(path)!r} (expected labels, "
                        f"progress)")
    dataset = load_folder(path, **kwargs)
    return Target(str(path), "folder", dataset.info, dataset.split)
