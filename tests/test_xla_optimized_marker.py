"""tests/conftest.py compiles with XLA's optimisation turned down, except in tests marked ``xla_optimized``."""
import os

import jax
import pytest


@pytest.mark.skipif(os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"].lower() in ("0", "false"),
                    reason="JAX_DISABLE_MOST_OPTIMIZATIONS=0: the whole suite runs optimised")
def test_the_suite_compiles_with_most_optimisations_off():
    assert jax.config.read("jax_disable_most_optimizations")


@pytest.mark.xla_optimized
def test_a_marked_test_compiles_fully_optimised():
    assert not jax.config.read("jax_disable_most_optimizations")
