"""``transel select``: a user's own pool and target: pool declaration and adapters (:mod:`.pool`,
:mod:`.adapters`, :mod:`.model`), the flow (:mod:`.flow`: plan, probe, score), its probe cache
(:mod:`.probe_cache`), its files (:mod:`.outputs`), fine-tuning the top ensembles (:mod:`.finetune`), the CLI.

>>> from transel_jax.select import load_pool, validate_model  # doctest: +SKIP
"""
from transel_jax.select.flow import Selection, SelectPlan, plan, select
from transel_jax.select.adapters import from_callable, from_checkpoint, from_predict
from transel_jax.select.model import ModelMeta, PoolModel, validate_model
from transel_jax.select.pool import load_pool

__all__ = [
    "SelectPlan",
    "Selection",
    "plan",
    "select",
    "ModelMeta",
    "PoolModel",
    "from_callable",
    "from_checkpoint",
    "from_predict",
    "load_pool",
    "validate_model",
]
