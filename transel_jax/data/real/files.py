"""Reading the datasets' original files: a random-access source, image decoding, missing-file errors.

Nothing here downloads anything. When a file or folder is absent the error names the missing path, the
layout the reader expects and where the dataset can be obtained.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

ENV_ROOT = "TRANSEL_REAL_DATA"
"""Environment variable naming the folder that holds one sub-folder per dataset (``$TRANSEL_REAL_DATA/cityscapes``)."""


class MissingDataError(FileNotFoundError):
    """A dataset file or folder is not where the documented layout puts it."""


def default_root(name: str) -> Path:
    """``$TRANSEL_REAL_DATA/<name>`` (default ``~/transel_data/<name>``)."""
    return Path(os.environ.get(ENV_ROOT, "~/transel_data")).expanduser() / name


def missing(path: Path, name: str, layout: str, url: str) -> MissingDataError:
    """The error raised when ``path`` is absent: names it, the expected layout, and where to get the data."""
    return MissingDataError(
        f"{name}: expected {path} to exist, but it does not.\n"
        f"Expected layout under the dataset root:\n{layout.rstrip()}\n"
        f"Download the dataset yourself from {url} and extract it there (transel never downloads), "
        f"or pass root=... / set ${ENV_ROOT}."
    )


def require(path: Path, name: str, layout: str, url: str) -> Path:
    """Return ``path`` if it exists, else raise :class:`MissingDataError`."""
    if not path.exists():
        raise missing(path, name, layout, url)
    return path


def read_list(path: Path) -> list[str]:
    """Non-empty, stripped lines of a text file (split lists)."""
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


_OPEN_LOCK = threading.Lock()


def open_image(path_or_file):
    """``PIL.Image.open`` without Pillow's decompression-bomb limit, for the aerial mosaics (~20k px a side).

    Pillow checks the limit only while opening; the lock keeps the temporary change invisible to other
    threads (e.g. a prefetching pipeline thread opening another image).
    """
    from PIL import Image

    with _OPEN_LOCK:
        old, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(path_or_file)
        finally:
            Image.MAX_IMAGE_PIXELS = old


def read_array(path: Path) -> np.ndarray:
    """Decoded pixels as stored: uint8 [H, W] for index/grey PNGs, [H, W, 3|4] for RGB(A), int32 for 16 bit."""
    with open_image(path) as im:
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):
            return np.asarray(im, dtype=np.int32)
        if im.mode not in ("P", "L", "RGB", "RGBA"):
            im = im.convert("RGB")
        return np.asarray(im)


def read_rgb(path: Path) -> np.ndarray:
    """uint8 [H, W, 3] image (grey and palette images are expanded to RGB)."""
    with open_image(path) as im:
        return np.asarray(im.convert("RGB"))


@functools.lru_cache(maxsize=2)
def read_cached(path: Path, rgb: bool) -> np.ndarray:
    """:func:`read_rgb`/:func:`read_array` remembering the last two files (tiles cut into many patches)."""
    arr = read_rgb(path) if rgb else read_array(path)
    arr.setflags(write=False)
    return arr


@dataclasses.dataclass(frozen=True)
class FileSource:
    """Random-access source over a dataset's original files.

    ``source[i]`` is ``{"image": uint8 [H, W, 3], "label": uint8 [H, W]}`` with 0 = void and 1..C the
    classes of the dataset's table; ``source.keys[i]`` names example ``i`` (a file stem or patch id).
    Examples are in :func:`example_order` (a fixed hash order of the ids), which is also the order of the
    prepared TFDS dataset, so "the first N training examples" mean the same images on both paths.

    Attributes:
      name: dataset name.
      keys: one id per example, in order.
      examples: one record per example (a :class:`Pair`), passed to ``decode``.
      decode: the :class:`Decoder`: record -> {"image", "label"}.
    """

    name: str
    keys: tuple[str, ...]
    examples: Sequence[Any]
    decode: "Decoder"

    def __post_init__(self):
        if len(self.keys) != len(self.examples):
            raise ValueError(f"keys: expected {len(self.examples)} ids, got {len(self.keys)}")

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict:
        example = self.decode(self.examples[self._check(index)])
        return {"image": example["image"], "label": example["label"]}

    def encoded(self, index: int) -> dict:
        """Example ``index`` for storage: {"image": encoded bytes, "label": uint8 [H, W]}."""
        return self.decode.encoded(self.examples[self._check(index)])

    def _check(self, index) -> int:
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an integer, got {type(index).__name__}")
        n = len(self.examples)
        if not -n <= index < n:
            raise IndexError(f"index: expected a value in [{-n}, {n}), got {index}")
        return int(index) % n


@dataclasses.dataclass(frozen=True)
class Pair:
    """One example on disk: an image file, its label file, and optionally the window of a patch."""

    image: Path
    label: Path
    window: Any = None  # patches.Window or None
    extra: Any = None  # per-example data a label map needs (e.g. COCO segment -> class)


@dataclasses.dataclass(frozen=True)
class Decoder:
    """Decode a :class:`Pair`: image uint8 [H, W, 3] and ``label_fn(raw_label, pair)`` uint8 [H, W].

    ``image_fn`` (optional) post-processes the decoded image (e.g. ISPRS false-colour channels);
    ``crop_label`` cuts a label larger than its image down to the image's size (some SUIM masks);
    ``read_label`` (optional) replaces :func:`read_array` for label files that are not images.
    Patches (``pair.window`` set) read their tile through a small cache and cut the window first.
    """

    label_fn: Callable[[np.ndarray, Pair], np.ndarray]
    image_fn: Callable[[np.ndarray], np.ndarray] | None = None
    read_label: Callable[[Path], np.ndarray] | None = None
    crop_label: bool = False  # crop a label larger than its image to the image (SUIM)

    def __call__(self, pair: Pair) -> dict:
        if pair.window is None:
            image, raw = read_rgb(pair.image), (self.read_label or read_array)(pair.label)
        else:
            image = pair.window.cut(read_cached(pair.image, True))
            raw = pair.window.cut(read_cached(pair.label, False))
        if self.image_fn is not None:
            image = self.image_fn(image)
        if self.crop_label:
            raw = raw[: image.shape[0], : image.shape[1]]
        label = self.label_fn(raw, pair)
        if label.shape != image.shape[:2]:
            raise ValueError(
                f"label: expected the image's size {image.shape[:2]} for {pair.label}, got {label.shape}"
            )
        return {"image": np.ascontiguousarray(image), "label": label}

    def encoded(self, pair: Pair) -> dict:
        """{"image": encoded bytes, "label": uint8 [H, W]} for storage.

        The image bytes are the original file when the image is used as stored (so a JPEG stays the
        same JPEG, bit for bit); patches and converted images are re-encoded as lossless PNG. Decoding the
        bytes with :func:`decode_image` gives exactly ``self(pair)["image"]``.
        """
        example = self(pair)
        if pair.window is None and self.image_fn is None:
            data = Path(pair.image).read_bytes()
        else:
            data = encode_png(example["image"])
        return {"image": data, "label": example["label"]}


def iter_encoded(source: FileSource, spill_dir: Path):
    """Yield ``(key, source.encoded(i))`` for i = 0, 1, ... (the source's order), reading each tile once.

    Patches of one aerial tile are scattered over the hash order, and decoding a tile (up to ~20k px a
    side) per patch would be slow, so for patch sources the examples are first encoded tile by tile and
    spilled to ``spill_dir`` (image bytes + label ``.npy``), then read back in order. Other sources are
    encoded directly in order.
    """
    if not any(pair.window is not None for pair in source.examples):
        for i in range(len(source)):
            yield source.keys[i], source.encoded(i)
        return
    spill_dir = Path(spill_dir)
    spill_dir.mkdir(parents=True, exist_ok=True)

    def by_tile(i):
        pair = source.examples[i]
        return str(pair.image), pair.window.top, pair.window.left

    for i in sorted(range(len(source)), key=by_tile):
        example = source.encoded(i)
        (spill_dir / f"{i}.img").write_bytes(example["image"])
        np.save(spill_dir / f"{i}.npy", example["label"])
    for i in range(len(source)):
        image, label = (spill_dir / f"{i}.img").read_bytes(), np.load(spill_dir / f"{i}.npy")
        (spill_dir / f"{i}.img").unlink()
        (spill_dir / f"{i}.npy").unlink()
        yield source.keys[i], {"image": image, "label": label}


def encode_png(image: np.ndarray) -> bytes:
    """Lossless PNG bytes of a uint8 [H, W, 3] image."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_image(data: bytes) -> np.ndarray:
    """uint8 [H, W, 3] from encoded image bytes, converted to RGB exactly as :func:`read_rgb` does."""
    import io

    with open_image(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


@dataclasses.dataclass(frozen=True)
class Reader:
    """How to read one dataset from its original layout.

    Attributes:
      name: dataset name.
      url: where users obtain the data.
      layout: the expected files under the dataset root (shown in missing-file errors).
      open_fn: ``open_fn(reader, root, split) -> FileSource``.
    """

    name: str
    url: str
    layout: str
    open_fn: Callable[["Reader", Path, str], FileSource]

    def __call__(self, root: Path | str, split: str) -> FileSource:
        root = Path(root).expanduser()
        self.need(root)
        return self.open_fn(self, root, split)

    def need(self, path: Path) -> Path:
        """``path`` if it exists, else :class:`MissingDataError` naming it and the layout."""
        return require(path, self.name, self.layout, self.url)

    def first(self, *candidates: Path) -> Path:
        """The first existing path among ``candidates`` (alternative spellings of one folder)."""
        for path in candidates:
            if path.exists():
                return path
        raise missing(candidates[0], self.name, self.layout, self.url)

    def glob(self, folder: Path, pattern: str) -> list[Path]:
        """Sorted files matching ``pattern`` (recursive with ``**``) in ``folder``; error if there are none."""
        files = sorted(self.need(folder).glob(pattern))
        if not files:
            raise missing(folder / pattern, self.name, self.layout, self.url)
        return files

    def source(self, keys: Sequence[str], pairs: Sequence[Pair], decoder: Decoder) -> FileSource:
        """A :class:`FileSource` with the examples in :func:`example_order`."""
        order = example_order(self.name, keys)
        return FileSource(self.name, tuple(keys[i] for i in order), tuple(pairs[i] for i in order), decoder)


def example_order(name: str, keys: Sequence[str]) -> list[int]:
    """Positions of ``keys`` sorted by SHA-256 of ``"<name>/<key>"``: a fixed pseudo-random order.

    File listings put the frames of one video, city or scene next to each other; like TFDS's key-hash
    shuffle, ordering by a hash of the example id spreads them, so "the first N training examples" (the
    small target subset) sample the whole split. The order depends only on the ids, not on the file system.
    """
    if len(set(keys)) != len(keys):
        raise ValueError(f"keys: expected unique example ids for {name!r}, got {len(keys) - len(set(keys))} repeated")
    digests = [hashlib.sha256(f"{name}/{key}".encode()).digest() for key in keys]
    return sorted(range(len(keys)), key=digests.__getitem__)
