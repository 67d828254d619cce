"""transel_jax.train."""
