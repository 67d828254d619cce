"""transel_jax.ensembles."""
