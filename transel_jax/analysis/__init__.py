"""transel_jax.analysis."""
