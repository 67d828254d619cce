"""transel_jax.transfer."""
