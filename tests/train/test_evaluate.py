"""Confusion matrix and mIoU against numpy loops; accumulation across the 4 devices and padding masks."""
import jax.numpy as jnp
import numpy as np
import pytest

from tiny_segmenter import TinySegmenter, block_batch
from transel_jax.train.evaluate import confusion_matrix, evaluate, iou_from_confusion

K = 4


def reference_confusion(labels, preds, k):
    cm = np.zeros((k, k), np.int64)
    for y, p in zip(labels.ravel(), preds.ravel()):
        if y > 0:
            cm[y - 1, p] += 1
    return cm


def reference_miou(cm):
    ious = []
    for c in range(cm.shape[0]):
        tp = cm[c, c]
        fp = cm[:, c].sum() - tp
        fn = cm[c, :].sum() - tp
        if tp + fp + fn > 0:
            ious.append(tp / (tp + fp + fn))
    return float(np.mean(ious))


def test_confusion_matrix_ignores_void_and_matches_loop():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, K + 1, size=(3, 7, 5))
    preds = rng.integers(0, K, size=(3, 7, 5))
    got = np.asarray(confusion_matrix(jnp.asarray(labels), jnp.asarray(preds), K))
    np.testing.assert_array_equal(got, reference_confusion(labels, preds, K))


def test_iou_skips_classes_with_empty_union():
    cm = np.array([[5, 1, 0], [2, 3, 0], [0, 0, 0]])
    miou, iou = iou_from_confusion(cm)
    assert np.isnan(iou[2])
    np.testing.assert_allclose(iou[:2], [5 / 8, 3 / 6])
    np.testing.assert_allclose(miou, reference_miou(cm))


def test_evaluate_accumulates_over_devices_and_respects_padding_mask():
    import jax

    model = TinySegmenter(K)
    variables = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)), train=False)
    batches = [block_batch(seed=9, step=i, batch_size=8, num_classes=K) for i in range(2)]
    batches[1]["mask"] = np.arange(8) < 5  # last batch: 3 padding examples
    result = evaluate(model, variables, batches, num_classes=K)
    cm = np.zeros((K, K), np.int64)
    for b in batches:
        keep = b.get("mask", np.ones(8, bool))
        preds = np.asarray(model.apply(variables, b["image"][keep])).argmax(-1)
        cm += reference_confusion(b["label"][keep], preds, K)
    np.testing.assert_array_equal(result.confusion, cm)
    np.testing.assert_allclose(result.miou, reference_miou(cm))
    assert result.num_pixels == int((batches[0]["label"] > 0).sum() + (batches[1]["label"][:5] > 0).sum())


def test_evaluate_rejects_batches_not_dividing_across_devices():
    import jax

    model = TinySegmenter(K)
    variables = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)), train=False)
    with pytest.raises(ValueError, match="eval batch size"):
        evaluate(model, variables, [block_batch(seed=0, step=0, batch_size=6, num_classes=K)], num_classes=K)
