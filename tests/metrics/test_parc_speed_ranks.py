"""Issue 15 item 5: host (numpy) ranking for PARC/RSA gives exactly the jnp ranks and scores."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import rankdata as scipy_rankdata

from transel_jax.metrics import rdm
from transel_jax.metrics.parc import parc, rsa, use_host_ranks

RNG = np.random.default_rng(0)
N = 60
FEATS = np.round(RNG.normal(size=(N, 5)), 1).astype(np.float32)  # rounded: many tied dissimilarities
LABELS = RNG.integers(0, 4, N).astype(np.int32)
REFERENCE = RNG.normal(size=(N, 3)).astype(np.float32)


def test_host_ranks_equal_jnp_ranks_bit_for_bit():
    values = np.round(RNG.normal(size=3000), 1).astype(np.float32)
    values[:7], values[7:15] = -0.0, 0.0  # signed zeros tie
    host = rdm.rankdata_host(values)
    assert host.dtype == np.float32
    assert np.array_equal(host, np.asarray(rdm.rankdata(jnp.asarray(values))))
    np.testing.assert_array_equal(host, scipy_rankdata(values))  # average ties, float64 reference


@pytest.mark.xla_optimized
def test_host_and_jnp_paths_give_identical_scores():
    cases = [  # parc_vectors shares rsa's host path (_host_spearman)
        lambda host: parc(FEATS, LABELS, 4, host_rank=host),
        lambda host: rsa(FEATS, REFERENCE, host_rank=host),
    ]
    for case in cases:
        assert float(case(True)) == float(case(False))


def test_default_ranks_on_host_only_for_concrete_inputs_on_cpu():
    assert use_host_ranks(None, FEATS) == (jax.default_backend() == "cpu")
    assert use_host_ranks(True, jnp.asarray(FEATS)) and not use_host_ranks(False, FEATS)
    traced = jax.jit(lambda f: jnp.asarray(use_host_ranks(True, f)))(FEATS)
    assert not bool(traced)  # a tracer can never be ranked on the host (parc under jit: the jnp path)
