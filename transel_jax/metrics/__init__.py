"""transel_jax.metrics."""
