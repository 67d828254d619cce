"""transel_jax.data."""
