"""transfer.predictions against plain numpy float64 references: every ensemble's test mIoU, the ensemble
head's, and stored stride logits that upsample to the model's own predictions."""
import itertools

import jax
import numpy as np
import pytest

from transel_jax.data import catalog, pipeline, synthetic
from transel_jax.models import build, random_variables
from transel_jax.transfer import predictions as predict
from transel_jax.transfer.predictions import ensemble_mious, head_miou
from transel_reference import ref_miou


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture
def task():
    rng = np.random.default_rng(0)
    k = 3
    logits = [rng.normal(size=(5, 4, 6, k)).astype(np.float16) for _ in range(4)]
    labels = rng.integers(0, k + 1, size=(5, 4, 6))  # 0 = void
    return logits, labels, k


def test_ensemble_mious_match_averaged_member_predictions(task):
    logits, labels, k = task
    members = np.array(list(itertools.combinations(range(4), 3)))
    got = ensemble_mious(logits, labels, members, images_per_chunk=2, progress=False)  # 5 images: padded chunk
    for row, m in zip(got, members):
        avg = np.mean([softmax(logits[s].astype(np.float64)) for s in m], axis=0)
        assert row == pytest.approx(ref_miou(labels, np.argmax(avg, -1), k), abs=1e-9)


def test_head_miou_with_identity_head_is_the_plain_average_and_weights_matter(task):
    logits, labels, k = task
    members = [logits[0], logits[2]]
    identity = {"weight": np.ones((2, k), np.float32), "bias": np.zeros((2, k), np.float32)}
    avg = np.mean([softmax(z.astype(np.float64)) for z in members], axis=0)
    assert head_miou(identity, members, labels, images_per_chunk=2) == pytest.approx(
        ref_miou(labels, np.argmax(avg, -1), k), abs=1e-9)
    skewed = {"weight": np.array([[1.0] * k, [0.0] * k], np.float32),
              "bias": np.array([[0.0] * k, [0.0, 0.0, 50.0]], np.float32)}  # member 2 always votes class 2
    p = 0.5 * softmax(members[0].astype(np.float64)) + 0.5 * softmax(np.array([0.0, 0.0, 50.0]))
    assert head_miou(skewed, members, labels) == pytest.approx(ref_miou(labels, np.argmax(p, -1), k), abs=1e-9)


def test_stored_stride_logits_upsample_to_the_models_own_predictions():
    name = "syn_underwater_murky"
    info = synthetic.dataset_info(name, 32)
    model = build("resnet_tiny", info.num_classes)
    variables = random_variables(model, (1, *info.resolution, 3), seed=3)
    full_split = catalog.load(name, "test", seed=0, resolution=32)
    source = pipeline.Subset(full_split, np.arange(5))
    logits, labels = predict.test_logits(model, variables, source, info, batch_size=4)
    h, w = info.resolution
    assert labels.shape == (5, h, w) and logits.dtype == np.float16
    assert logits.shape[0] == 5 and logits.shape[1] < h and logits.shape[2] < w  # stored at the stride
    batch = next(iter(pipeline.eval_batches(source, info, batch_size=8)))
    images = jax.numpy.asarray(batch["image"][batch["mask"]])
    full = np.asarray(model.apply(variables, images, train=False))
    low = np.asarray(model.apply(variables, images, train=False, upsample=False))
    np.testing.assert_allclose(np.asarray(predict.upsample(low, (h, w))), full, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(logits.astype(np.float32), low, rtol=1e-3, atol=1e-3)  # float16 rounding only
    # float16 storage: the stored stride logits round the float32 ones, and their upsampled argmax is the
    # model's almost everywhere (ties broken by the rounding aside)
    agree = np.mean(predict.class_predictions(logits, (h, w), images_per_chunk=2) == np.argmax(full, -1))
    assert agree > 0.99


def test_disagreement_counts_differing_argmax_over_non_void_pixels(task):
    logits, labels, k = task
    got = predict.disagreement(logits[:3], labels, images_per_chunk=2)
    preds = [np.argmax(z.astype(np.float64), -1) for z in logits[:3]]  # same grid: upsampling is the identity
    keep = labels > 0
    for i in range(3):
        for j in range(3):
            want = 0.0 if i == j else float(np.mean(preds[i][keep] != preds[j][keep]))
            assert got[i, j] == pytest.approx(want, abs=1e-12)
