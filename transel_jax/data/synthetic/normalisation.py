"""Per-dataset channel mean/std of the synthetic suite (0..255 scale), as registered in the catalog.

The table below was produced by ``python -m transel_jax.data.synthetic.normalisation`` (the first 512
training images of each dataset, or all of them when fewer, seed 0, 64x64); tests re-measure it. Re-run the module after changing the renderer.
"""
from __future__ import annotations

import numpy as np

from transel_jax.data.synthetic.datasets import get
from transel_jax.data.synthetic.generate import generate

MEASURED_IMAGES = 512

# name -> (mean RGB, std RGB)
STATS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    'syn_consumer_broad': ((127.74, 123.11, 106.75), (54.41, 55.31, 68.54)),
    'syn_consumer_context': ((112.02, 131.8, 132.58), (48.89, 52.15, 72.74)),
    'syn_consumer_objects': ((127.39, 122.82, 105.36), (54.54, 57.23, 67.38)),
    'syn_drive_day': ((121.94, 128.37, 120.99), (52.12, 55.29, 68.68)),
    'syn_drive_adverse': ((92.09, 97.0, 99.18), (61.17, 62.27, 63.96)),
    'syn_drive_region': ((177.72, 154.76, 107.69), (61.56, 54.01, 49.28)),
    'syn_drive_small': ((141.63, 141.46, 129.97), (67.81, 67.57, 72.75)),
    'syn_aerial_urban': ((127.33, 129.76, 90.25), (33.37, 27.67, 21.09)),
    'syn_aerial_irrg': ((152.92, 128.47, 135.99), (51.93, 33.65, 28.77)),
    'syn_indoor_home': ((138.95, 116.87, 87.14), (47.9, 52.32, 48.49)),
    'syn_indoor_scan': ((86.6, 92.97, 106.83), (31.55, 33.08, 36.04)),
    'syn_underwater_reef': ((57.53, 124.56, 151.05), (43.3, 28.13, 23.76)),
    'syn_underwater_murky': ((46.65, 95.14, 80.22), (25.11, 19.77, 14.77)),
    'syn_virtual_drive': ((121.11, 130.49, 127.12), (57.8, 45.98, 80.53)),
    'syn_virtual_gallery': ((172.11, 167.55, 177.18), (72.72, 73.06, 63.42)),
}


def measure(name: str, num_images: int = MEASURED_IMAGES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Channel mean and std (float64 [3] each, 0..255 scale) over the first ``num_images`` training images."""
    num_images = min(num_images, get(name).splits["train"])
    images = generate(name, np.arange(num_images), seed=seed)["image"].reshape(-1, 3).astype(np.float64)
    return images.mean(0), images.std(0)


def _main() -> None:
    from tqdm import tqdm

    from transel_jax.data.synthetic.datasets import DATASETS

    lines = []
    for dataset in tqdm(DATASETS, desc="measuring mean/std"):
        mean, std = measure(dataset.name)
        lines.append(f"    {dataset.name!r}: ({tuple(round(float(v), 2) for v in mean)}, "
                     f"{tuple(round(float(v), 2) for v in std)}),")
    print("\n".join(lines))


if __name__ == "__main__":
    _main()
