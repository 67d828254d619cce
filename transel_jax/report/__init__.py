"""transel_jax.report."""
