"""transel_jax.evaluation."""
