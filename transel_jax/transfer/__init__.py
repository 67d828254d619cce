"""Transfer: prediction at sampled pixels, fine-tuning source models, training ensemble heads.

>>> from transel_jax.transfer import predict_at_pixels, finetune, train_ensemble_head  # doctest: +SKIP
"""
from transel_jax.transfer.ensemble_head import fit_ensemble_head, member_logits_at_pixels, train_ensemble_head
from transel_jax.transfer.ensemble_model import EnsembleSegmenter, ensemble_variables
from transel_jax.transfer.finetune import finetune, transplant_backbone
from transel_jax.transfer.predict import outputs_at_pixels, predict_at_pixels

__all__ = [
    "EnsembleSegmenter",
    "ensemble_variables",
    "finetune",
    "fit_ensemble_head",
    "member_logits_at_pixels",
    "outputs_at_pixels",
    "predict_at_pixels",
    "train_ensemble_head",
    "transplant_backbone",
]
