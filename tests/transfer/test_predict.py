"""predict_at_pixels against full-image forward passes indexed in numpy."""
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tiny_segmenter import TinySegmenter
from transel_jax.transfer import predict_at_pixels

K = 5


@pytest.fixture(scope="module")
def setup():
    model = TinySegmenter(K)
    variables = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)), train=False)
    rng = np.random.default_rng(0)
    # a source of uint8 images of two sizes, normalised with info.mean/std
    images = [rng.integers(0, 256, size=(16, 16, 3) if i % 3 else (12, 20, 3), dtype=np.uint8) for i in range(7)]
    source = [{"image": im, "label": np.zeros(im.shape[:2], np.int32)} for im in images]
    info = types.SimpleNamespace(mean=(120.0, 110.0, 100.0), std=(60.0, 50.0, 55.0), name="toy")
    n = 60
    image = rng.integers(0, 7, n)
    row = np.array([rng.integers(0, images[i].shape[0]) for i in image])
    col = np.array([rng.integers(0, images[i].shape[1]) for i in image])
    sample = types.SimpleNamespace(image=image.astype(np.int32), row=row.astype(np.int32),
                                   col=col.astype(np.int32), labels=np.ones(n, np.int32))
    return model, variables, source, info, sample


def reference(model, variables, source, info, sample):
    """One forward pass per image (float64 normalisation), then plain indexing and a float64 softmax."""
    outputs = {}
    for i in np.unique(sample.image):
        x = (source[i]["image"].astype(np.float64) - np.array(info.mean)) / np.array(info.std)
        logits, f = model.apply(variables, jnp.asarray(x[None], jnp.float32), return_features=True)
        outputs[i] = (np.asarray(logits[0], np.float64), np.asarray(f[0]))
    probs, feats = [], []
    for i, r, c in zip(sample.image, sample.row, sample.col):
        logits, f = outputs[i]
        z = logits[r, c]
        probs.append(np.exp(z - z.max()) / np.exp(z - z.max()).sum())
        (H, W), (h, w) = logits.shape[:2], f.shape[:2]
        feats.append(f[r * h // H, c * w // W])
    return np.array(probs), np.array(feats)


def test_matches_per_image_forward_passes_for_mixed_sizes_and_ragged_batches(setup):
    model, variables, source, info, sample = setup
    probs, feats = predict_at_pixels(model, variables, source, sample, batch_size=3, info=info)
    want_p, want_f = reference(model, variables, source, info, sample)
    assert probs.shape == (60, K) and probs.dtype == np.float32
    assert feats.shape == (60, 8) and feats.dtype == np.float32
    np.testing.assert_allclose(probs, want_p, atol=1e-5)
    np.testing.assert_allclose(feats, want_f, atol=1e-5)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)


def test_float_image_array_is_used_as_is(setup):
    model, variables, source, info, sample = setup
    keep = np.isin(sample.image, [1, 2, 4, 5])  # the 16x16 images
    images = np.stack([(s["image"] - np.array(info.mean)) / np.array(info.std) for s in source
                       if s["image"].shape[0] == 16]).astype(np.float32)
    remap = {1: 0, 2: 1, 4: 2, 5: 3}
    sub = type(sample)(image=np.array([remap[i] for i in sample.image[keep]], np.int32),
                       row=sample.row[keep], col=sample.col[keep], labels=sample.labels[keep])
    probs, _ = predict_at_pixels(model, variables, images, sub, batch_size=4)
    full, _ = predict_at_pixels(model, variables, source, sample, batch_size=2, info=info)
    np.testing.assert_allclose(probs, full[keep], atol=1e-5)


def test_bad_inputs_are_named(setup):
    model, variables, source, info, sample = setup
    with pytest.raises(ValueError, match="info"):
        predict_at_pixels(model, variables, source, sample, batch_size=2)
    bad = type(sample)(image=sample.image + 7, row=sample.row, col=sample.col, labels=sample.labels)
    with pytest.raises(ValueError, match="sample.image"):
        predict_at_pixels(model, variables, source, bad, batch_size=2, info=info)
    bad = type(sample)(image=sample.image, row=sample.row + 30, col=sample.col, labels=sample.labels)
    with pytest.raises(ValueError, match="sample.row/col"):
        predict_at_pixels(model, variables, source, bad, batch_size=2, info=info)
    with pytest.raises(TypeError, match="batch_size"):
        predict_at_pixels(model, variables, source, sample, batch_size=2.0, info=info)
