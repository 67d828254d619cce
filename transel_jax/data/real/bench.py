"""Throughput of the real-dataset readers: ``python -m transel_jax.data.real.bench``.

Writes stand-in files of the real datasets' sizes and encodings into a temporary folder (random pixels,
so PNG/zlib compress worse than on real photos), then times, per dataset layout:

* ``direct``: ``catalog.load(name, split, root=...)[i]`` for every example (decode + label map);
* ``prepare``: building ``transel_real/<name>`` as array_record (includes the direct reads);
* ``prepared``: ``tfds.data_source`` random access to the built split.

Prints a markdown table of examples/s and on-disk sizes.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from transel_jax.data import catalog


def _save(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _smooth_image(rng, h, w):
    """A photo-like image: low-frequency colour field plus mild noise (compresses like real images)."""
    small = rng.integers(0, 256, size=(h // 64 + 2, w // 64 + 2, 3)).astype(np.float32)
    big = np.kron(small, np.ones((64, 64, 1), np.float32))[:h, :w]
    return np.clip(big + rng.normal(0, 8, size=big.shape), 0, 255).astype(np.uint8)


def _blocky_label(rng, h, w, values):
    """Piecewise-constant labels in 32 px blocks drawn from ``values``."""
    blocks = rng.integers(0, len(values), size=(h // 32 + 1, w // 32 + 1))
    return np.asarray(values)[np.kron(blocks, np.ones((32, 32), int))[:h, :w]]


def write_cityscapes(root: Path, n: int, rng) -> None:
    for i in range(n + 1):
        sub = "train" if i < n else "val"
        key = f"bench_{i:06d}_000019"
        _save(root / "leftImg8bit" / sub / "bench" / f"{key}_leftImg8bit.png", _smooth_image(rng, 1024, 2048))
        _save(root / "gtFine" / sub / "bench" / f"{key}_gtFine_labelIds.png",
              _blocky_label(rng, 1024, 2048, np.arange(34, dtype=np.uint8)))


def write_ade20k(root: Path, n: int, rng) -> None:
    base = root / "ADEChallengeData2016"
    for i in range(n + 1):
        sub, stem = ("training", f"ADE_train_{i:08d}") if i < n else ("validation", "ADE_val_00000001")
        _save(base / "images" / sub / f"{stem}.jpg", _smooth_image(rng, 512, 683))
        _save(base / "annotations" / sub / f"{stem}.png", _blocky_label(rng, 512, 683, np.arange(151, dtype=np.uint8)))


def write_isprs(root: Path, n: int, rng) -> None:
    colours = np.array([(255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0), (255, 0, 0)], np.uint8)
    for i in range(n):
        stem = f"top_potsdam_2_{10 + i}"
        _save(root / "potsdam" / "2_Ortho_RGB" / f"{stem}_RGB.tif", _smooth_image(rng, 6000, 6000))
        labels = colours[_blocky_label(rng, 6000, 6000, np.arange(6))]
        _save(root / "potsdam" / "5_Labels_all" / f"{stem}_label.tif", labels)
    _save(root / "vaihingen" / "top" / "top_mosaic_09cm_area1.tif", _smooth_image(rng, 800, 800))
    labels = colours[_blocky_label(rng, 800, 800, np.arange(6))]
    _save(root / "vaihingen" / "ground_truth" / "top_mosaic_09cm_area1.tif", labels)


CASES = {  # name -> (writer, number of train files (+1 validation file), what a file is)
    "cityscapes": (write_cityscapes, 8, "1024x2048 PNG + labelIds PNG"),
    "ade20k": (write_ade20k, 32, "512x683 JPEG + id PNG"),
    "isprs": (write_isprs, 1, "6000x6000 TIFF tile -> 100 patches 800x800"),
}


def _folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def _time_reads(source, desc: str) -> float:
    start = time.perf_counter()
    for i in tqdm(range(len(source)), desc=desc, leave=False):
        source[i]["label"].sum()
    return len(source) / (time.perf_counter() - start)


def run_case(name: str, workdir: Path, seed: int = 0) -> dict:
    from transel_jax.data.real import tfds_builder

    writer, n, what = CASES[name]
    root, data_dir = workdir / name, workdir / "tfds"
    writer(root, n, np.random.default_rng(seed))
    direct = catalog.load(name, "train", root=root)
    direct_rate = _time_reads(direct, f"{name} direct")
    total = len(direct) + len(catalog.load(name, "validation", root=root))
    start = time.perf_counter()
    tfds_builder.prepare(name, root=root, data_dir=data_dir)
    prepare_rate = total / (time.perf_counter() - start)
    prepared = catalog.load(name, "train", prepared_dir=data_dir)
    prepared_rate = _time_reads(prepared, f"{name} prepared")
    return {
        "dataset": name, "files": what, "examples": len(direct), "direct/s": direct_rate,
        "prepare/s": prepare_rate, "prepared/s": prepared_rate,
        "original MB": _folder_mb(root), "array_record MB": _folder_mb(data_dir / "transel_real" / name),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=list(CASES), choices=list(CASES))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            rows.append(run_case(name, Path(tmp)))
    print("Produced by `python -m transel_jax.data.real.bench` on stand-in files (random smooth pixels).")
    cols = ["dataset", "files", "examples", "direct/s", "prepare/s", "prepared/s", "original MB", "array_record MB"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        cells = [f"{r[c]:.1f}" if isinstance(r[c], float) else str(r[c]) for c in cols]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
