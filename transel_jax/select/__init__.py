"""``transel select``: a user's own pool and target (pool declaration, adapters; the flow builds on them).

>>> from transel_jax.select import load_pool, validate_model  # doctest: +SKIP
"""
from transel_jax.select.adapters import from_callable, from_checkpoint, from_predict
from transel_jax.select.model import ModelMeta, PoolModel, validate_model
from transel_jax.select.pool import load_pool

__all__ = [
    "ModelMeta",
    "PoolModel",
    "from_callable",
    "from_checkpoint",
    "from_predict",
    "load_pool",
    "validate_model",
]
