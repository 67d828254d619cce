"""EEP, LEEP and NCE against the plain float64 references in tests/transel_reference.py."""
import jax
import numpy as np
import pytest

import transel_reference as ref
from transel_jax.metrics import eep, eep_stack, leep, nce


def _random(seed, n=40, z=6, c=4):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(z, 0.7), size=n).astype(np.float32)
    labels = rng.integers(0, c, n)
    return probs, labels


@pytest.mark.parametrize("seed,z,c", [(0, 6, 4), (1, 3, 5), (2, 9, 2)])
def test_eep_matches_reference(seed, z, c):
    probs, labels = _random(seed, z=z, c=c)
    got = np.asarray(eep(probs, labels, c))
    np.testing.assert_allclose(got, ref.eep(probs, labels, c), atol=2e-6)
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-5)


def test_never_predicted_source_class_and_absent_target_class():
    probs, labels = _random(3, z=5, c=4)
    probs[:, 2] = 0.0  # source class 2 is never predicted
    probs /= probs.sum(1, keepdims=True)
    labels[labels == 3] = 0  # target class 3 is absent from the sample
    for fn, r in ((leep, ref.leep), (nce, ref.nce)):
        got = float(fn(probs, labels, 4))
        assert np.isfinite(got)
        assert got == pytest.approx(r(probs, labels, 4), abs=2e-5)
    assert np.all(np.isfinite(np.asarray(eep(probs, labels, 4))))


@pytest.mark.parametrize("seed", [0, 1])
def test_leep_and_nce_match_reference(seed):
    probs, labels = _random(seed)
    assert float(leep(probs, labels, 4)) == pytest.approx(ref.leep(probs, labels, 4), abs=2e-5)
    assert float(nce(probs, labels, 4)) == pytest.approx(ref.nce(probs, labels, 4), abs=2e-5)


def test_limits():
    labels = np.repeat(np.arange(4), 5)
    # A source whose classes are the target classes, predicted perfectly: LEEP = NCE = 0.
    onehot = np.eye(4, dtype=np.float32)[labels]
    assert float(leep(onehot, labels, 4)) == pytest.approx(0.0, abs=1e-6)
    assert float(nce(onehot, labels, 4)) == pytest.approx(0.0, abs=1e-6)
    # An uninformative source on balanced labels: the EEP is the label marginal, LEEP = log(1/C).
    uniform = np.full((20, 7), 1 / 7, np.float32)
    assert float(leep(uniform, labels, 4)) == pytest.approx(np.log(1 / 4), abs=1e-6)


def test_permuting_pixels_and_source_classes_leaves_leep_unchanged():
    probs, labels = _random(4)
    perm = np.random.default_rng(0).permutation(len(labels))
    zperm = np.random.default_rng(1).permutation(probs.shape[1])
    base = float(leep(probs, labels, 4))
    assert float(leep(probs[perm], labels[perm], 4)) == pytest.approx(base, abs=1e-6)
    assert float(leep(probs[:, zperm], labels, 4)) == pytest.approx(base, abs=1e-6)


def test_jittable_inside_user_code():
    probs, labels = _random(5)
    jitted = jax.jit(leep, static_argnums=2)
    assert float(jitted(probs, labels, 4)) == pytest.approx(ref.leep(probs, labels, 4), abs=2e-5)


def test_eep_stack_handles_different_label_spaces():
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 3, 30)
    sources = [rng.dirichlet(np.ones(z), size=30).astype(np.float32) for z in (2, 5, 9)]
    stacked = np.asarray(eep_stack(sources, labels, 3))
    assert stacked.shape == (3, 30, 3)
    for s, p in enumerate(sources):
        np.testing.assert_allclose(stacked[s], ref.eep(p, labels, 3), atol=2e-6)


@pytest.mark.parametrize("mutate,match", [
    (lambda p, y: (p[:-1], y), "labels: expected n"),
    (lambda p, y: (p, np.where(y == 0, 4, y)), r"labels: expected values in \[0, 3\]"),
    (lambda p, y: (p, y - 1), r"labels: expected values in \[0, 3\]"),
    (lambda p, y: (np.where(np.arange(p.shape[1]) == 0, -0.1, p), y), "non-negative"),
    (lambda p, y: (np.where(np.arange(p.shape[1]) == 0, np.nan, p), y), "finite"),
    (lambda p, y: (p * 1.5, y), "summing to 1"),
    (lambda p, y: (p[:0], y[:0]), "at least one"),
    (lambda p, y: (p[None], y), "2-d array"),
])
def test_bad_input_names_the_argument(mutate, match):
    probs, labels = _random(7)
    p, y = mutate(probs, labels)
    with pytest.raises(ValueError, match=match):
        leep(p, y, 4)


def test_bad_num_classes_and_label_dtype():
    probs, labels = _random(8)
    with pytest.raises(ValueError, match="num_classes"):
        eep(probs, labels, 1)
    with pytest.raises(TypeError, match="labels: expected an integer"):
        eep(probs, labels.astype(np.float32), 4)


def test_python_lists_are_accepted_like_arrays():
    probs, labels = _random(4, n=12, z=3, c=3)
    for fn in (leep, nce):
        assert float(fn(probs.tolist(), labels.tolist(), 3)) == pytest.approx(float(fn(probs, labels, 3)))
    np.testing.assert_allclose(np.asarray(eep_stack([probs.tolist()], labels.tolist(), 3))[0],
                               np.asarray(eep(probs, labels, 3)), atol=1e-6)
