"""The run's own numerics against plain numpy float64 references: ensemble mIoU, head mIoU, test mIoU,
pixel-sample unions, the evaluation study."""
import itertools

import numpy as np
import pytest
import scipy.stats

from transel_jax.data.sampling import sample_pixels
from transel_jax.run import evaluate, probe
from transel_jax.run.actual import ensemble_mious
from transel_jax.run.predict import confusion, miou
from transel_jax.run.selection import head_miou


def ref_miou(labels, pred, k):
    """Loop reference: IoU per class over non-void pixels, mean over classes with a non-zero union."""
    ious = []
    y = labels.ravel()
    p = pred.ravel()
    for c in range(k):
        tp = fp = fn = 0
        for yi, pi in zip(y, p):
            if yi == 0:
                continue
            tp += (yi - 1 == c) and (pi == c)
            fp += (yi - 1 != c) and (pi == c)
            fn += (yi - 1 == c) and (pi != c)
        if tp + fp + fn:
            ious.append(tp / (tp + fp + fn))
    return float(np.mean(ious))


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


def test_miou_matches_loop(task):
    logits, labels, k = task
    pred = np.argmax(logits[0], -1)
    assert miou(labels, pred, k) == pytest.approx(ref_miou(labels, pred, k), abs=1e-12)
    assert confusion(labels, pred, k).sum() == np.count_nonzero(labels)


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


def test_probe_samples_split_back_exactly_and_feature_rows_are_a_subset():
    labels = np.random.default_rng(1).integers(0, 4, size=(6, 8, 8)).astype(np.int32)
    samples = probe.draw_samples(labels, (0, 3), max_per_image=10, feature_pixels=25)
    both, offsets = probe.union(s for s, _ in samples.values())
    for k, (seed, (sample, rows)) in enumerate(samples.items()):
        ref = sample_pixels(labels, seed=seed, max_per_image=10)
        np.testing.assert_array_equal(sample.labels, ref.labels)
        np.testing.assert_array_equal(both.row[offsets[k]:offsets[k + 1]], ref.row)
        assert len(rows) == 25 and len(np.unique(rows)) == 25 and rows.max() < len(sample)
    assert not np.array_equal(samples[0][0].row, samples[3][0].row)


def test_study_matches_scipy_and_constant_scores_count_as_zero():
    rng = np.random.default_rng(2)
    truth = {"t1": rng.random(10), "t2": rng.random(10)}
    scores = {t: [{"good": truth[t] + 0.1 * rng.random(10), "flat": np.ones(10)} for _ in range(3)] for t in truth}
    table = evaluate.study(truth, scores, ("good", "flat"))
    for t in truth:
        taus = [scipy.stats.weightedtau(truth[t], s["good"]).statistic for s in scores[t]]
        assert table["weighted_tau"][t]["good"][0] == pytest.approx(np.mean(taus))
        assert table["weighted_tau"][t]["good"][1] == pytest.approx(np.std(taus))
        assert table["kendall_tau"][t]["flat"] == (0.0, 0.0)
    means = [table["pearson"][t]["good"][0] for t in truth]
    assert table["pearson"]["mean"]["good"][0] == pytest.approx(np.mean(means))
    assert 0 < table["relative_top1"]["mean"]["good"][0] <= 1
