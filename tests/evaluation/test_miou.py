"""evaluation.miou against plain loop references: confusion, mIoU, mean IoU from sufficient statistics."""
import numpy as np
import pytest

from transel_jax.evaluation.miou import confusion, confusion_matrix, mean_iou, mean_iou_np, miou
from transel_reference import ref_miou


@pytest.fixture
def task():
    rng = np.random.default_rng(0)
    k = 3
    labels = rng.integers(0, k + 1, size=(5, 4, 6))  # 0 = void
    pred = rng.integers(0, k, size=(5, 4, 6))
    return labels, pred, k


def test_miou_matches_loop(task):
    labels, pred, k = task
    assert miou(labels, pred, k) == pytest.approx(ref_miou(labels, pred, k), abs=1e-12)
    assert confusion(labels, pred, k).sum() == np.count_nonzero(labels)


def test_jitted_confusion_equals_host_confusion_and_respects_the_mask(task):
    labels, pred, k = task
    np.testing.assert_array_equal(np.asarray(confusion_matrix(labels, pred, k)), confusion(labels, pred, k))
    valid = np.array([True, False, True, True, False])[:, None, None]
    masked = np.where(valid, labels, 0)
    np.testing.assert_array_equal(np.asarray(confusion_matrix(labels, pred, k, valid)), confusion(masked, pred, k))


def test_mean_iou_from_statistics_skips_empty_unions_in_both_backends():
    tp = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    union = np.array([[2.0, 0.0, 4.0], [0.0, 0.0, 0.0]])
    want = np.array([(0.5 + 0.5) / 2, 0.0])  # class 1 of row 0 has no union; row 1 none at all
    np.testing.assert_allclose(mean_iou_np(tp, union), want)
    np.testing.assert_allclose(np.asarray(mean_iou(tp, union)), want, rtol=1e-6)
    # a union of round-off size counts as empty only with atol; negative round-off is clipped
    np.testing.assert_allclose(mean_iou_np([[1.0, 0.0]], [[2.0, 1e-12]], atol=1e-9), [0.5])
    np.testing.assert_allclose(mean_iou_np([[1.0, 0.0]], [[2.0, -1e-12]]), [0.5])
