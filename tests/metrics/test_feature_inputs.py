"""Bad inputs to every feature metric raise ValueError/TypeError naming the argument, outside jit."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from transel_jax.metrics import features as fm

RNG = np.random.default_rng(0)
FEATS = RNG.normal(size=(12, 4)).astype(np.float32)
LABELS = (np.arange(12) % 3).astype(np.int32)

LABELLED = {
    "h_score": fm.h_score,
    "logme": fm.logme,
    "gbc": fm.gbc,
    "parc": fm.parc,
    "nn1_loo_accuracy": fm.nn1_loo_accuracy,
    "logistic_probe_accuracy": lambda f, y, c: fm.logistic_probe_accuracy(f, y, c, seed=0),
    "fit_logistic": fm.fit_logistic,
}


def _nan_feats():
    feats = FEATS.copy()
    feats[3, 1] = np.nan
    return feats


BAD_LABELLED = {
    "labels-length": (lambda: (FEATS, LABELS[:-1], 3), ValueError, "labels"),
    "label-too-large": (lambda: (FEATS, np.where(LABELS == 2, 3, LABELS), 3), ValueError, "labels"),
    "label-negative": (lambda: (FEATS, np.where(LABELS == 2, -1, LABELS), 3), ValueError, "labels"),
    "float-labels": (lambda: (FEATS, LABELS.astype(np.float32), 3), TypeError, "labels"),
    "nan-feats": (lambda: (_nan_feats(), LABELS, 3), ValueError, "feats"),
    "empty": (lambda: (FEATS[:0], LABELS[:0], 3), ValueError, "feats"),
    "feats-rank": (lambda: (FEATS[:, 0], LABELS, 3), ValueError, "feats"),
    "int-feats": (lambda: (FEATS.astype(np.int32), LABELS, 3), TypeError, "feats"),
    "num-classes": (lambda: (FEATS, LABELS, 0), ValueError, "num_classes"),
}


@pytest.mark.parametrize("case", sorted(BAD_LABELLED))
@pytest.mark.parametrize("metric", sorted(LABELLED))
def test_labelled_metrics_reject_bad_inputs(metric, case):
    make, error, name = BAD_LABELLED[case]
    with pytest.raises(error, match=name):
        LABELLED[metric](*make())


@pytest.mark.parametrize("metric", [fm.rsa, fm.dds])
def test_reference_metrics_reject_bad_inputs(metric):
    with pytest.raises(ValueError, match="reference"):
        metric(FEATS, FEATS[:-1])
    with pytest.raises(ValueError, match="reference"):
        metric(FEATS, np.full_like(FEATS, np.nan))
    with pytest.raises(ValueError, match="feats"):
        metric(FEATS[:0], FEATS[:0])


def test_parc_vectors_rejects_bad_inputs():
    with pytest.raises(ValueError, match="label_vectors"):
        fm.parc_vectors(FEATS, np.ones((11, 3), np.float32))
    with pytest.raises(TypeError, match="label_vectors"):
        fm.parc_vectors(FEATS, np.ones((12, 3), np.int32))


def test_metric_specific_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        fm.parc(FEATS, np.zeros(12, np.int32), 1)
    with pytest.raises(ValueError, match="covariance"):
        fm.gbc(FEATS, LABELS, 3, covariance="full")
    with pytest.raises(ValueError, match="feats"):
        fm.nn1_loo_accuracy(FEATS[:1], LABELS[:1], 3)  # a single sample has no neighbour
    with pytest.raises(TypeError, match="seed"):
        fm.logistic_probe_accuracy(FEATS, LABELS, 3, seed="zero")
    with pytest.raises(ValueError, match="dims"):
        fm.pca_reduce(FEATS, 0)
    with pytest.raises(ValueError, match="feats"):
        fm.pca_reduce(_nan_feats(), 2)
    with pytest.raises(ValueError, match="source_size"):
        fm.heuristic_score(np.array([10, 20]), np.array([100]), 5)
    with pytest.raises(ValueError, match="source_size"):
        fm.heuristic_score(np.array([10, 20]), np.array([100, 0]), 5)
    with pytest.raises(ValueError, match="depth"):
        fm.depth_calibrate(np.ones((2, 3), np.float32), np.array([10, 20]))
    with pytest.raises(ValueError, match="scores"):
        fm.depth_calibrate(np.array([1.0, np.nan]), np.array([10, 20]))


def test_usable_inside_user_jit_and_vmap():
    """Under a user's transformation only static checks run; the values match the eager call."""
    stacked = jnp.stack([FEATS, 2.0 * FEATS + 1.0])
    got = jax.jit(jax.vmap(lambda f: fm.parc(f, LABELS, 3)))(stacked)
    np.testing.assert_allclose(np.asarray(got), float(fm.parc(FEATS, LABELS, 3)), atol=1e-5)
    with pytest.raises(ValueError, match="labels"):
        jax.jit(lambda f: fm.h_score(f, LABELS[:-1], 3))(FEATS)
