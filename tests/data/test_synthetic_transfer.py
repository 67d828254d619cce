"""The suite has a real domain gap: a pixel probe fitted on one driving dataset does worse on other domains.

The probe is a float64 ridge regression onto one-hot *concepts* (so label spaces do not interfere) from
per-pixel colour and local texture statistics; no network, no jax.
"""
import numpy as np

from transel_jax.data.synthetic.concepts import ID
from transel_jax.data.synthetic.generate import generate

STREET = np.array(sorted(ID[c] for c in ("sky", "road", "sidewalk", "building", "vegetation", "terrain", "car",
                                         "person")))


def _box(a, r):
    """Mean over (2r+1)^2 windows, edges replicated: float64 [B, H, W]."""
    k = 2 * r + 1
    c = np.pad(np.pad(a, ((0, 0), (r, r), (r, r)), mode="edge").cumsum(1).cumsum(2), ((0, 0), (1, 0), (1, 0)))
    return (c[:, k:, k:] - c[:, :-k, k:] - c[:, k:, :-k] + c[:, :-k, :-k]) / k ** 2


def _features(images, texture):
    x = images.astype(np.float64) / 255.0
    lum = x.mean(-1)
    high = lum - _box(lum, 1)
    f = [x[..., 0], x[..., 1], x[..., 2]]
    if texture:
        f += [np.sqrt(np.maximum(_box(high ** 2, 1), 0)), np.sqrt(np.maximum(_box(high ** 2, 3), 0)),
              _box(np.abs(high), 3)]
    f = np.stack(f, -1)
    return np.concatenate([f, f ** 2, np.ones(f.shape[:-1] + (1,))], -1)


def _pixels(name, indices, keep, texture):
    out = generate(name, indices, concepts=True)
    features, concept = _features(out["image"], texture), out["concept"]
    m = np.isin(concept, keep)
    return features[m], np.searchsorted(keep, concept[m])


def _fit(name, keep, texture=True):
    x, y = _pixels(name, np.arange(48), keep, texture)
    return np.linalg.solve(x.T @ x + 1e-3 * np.eye(x.shape[1]), x.T @ np.eye(keep.size)[y])


def _accuracy(w, name, indices, keep, texture=True):
    x, y = _pixels(name, indices, keep, texture)
    return float(np.mean(np.argmax(x @ w, -1) == y))


def test_pixel_probe_transfers_worse_across_domains_and_sub_styles():
    w = _fit("syn_drive_day", STREET)
    held_out = np.arange(100, 148)
    same = _accuracy(w, "syn_drive_day", held_out, STREET)
    for other in ("syn_drive_region", "syn_drive_adverse", "syn_virtual_drive", "syn_consumer_context"):
        assert _accuracy(w, other, held_out, STREET) < same - 0.05, other


def test_texture_separates_concepts_that_share_a_colour():
    keep = np.array(sorted((ID["road"], ID["sidewalk"])))  # same grey in the driving styles
    held_out = np.arange(2000, 2048)
    colour_only = _accuracy(_fit("syn_drive_day", keep, texture=False), "syn_drive_day", held_out, keep, False)
    with_texture = _accuracy(_fit("syn_drive_day", keep), "syn_drive_day", held_out, keep)
    assert colour_only < 0.85
    assert with_texture > colour_only + 0.01
