"""transel_jax.models."""
