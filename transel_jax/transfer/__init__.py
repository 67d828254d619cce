"""Transfer: source outputs at sampled pixels, fine-tuning, ensemble heads, stored test predictions.

Modules: :mod:`.predict` (softmax and features at a pixel sample), :mod:`.finetune` (a source's backbone +
a new head trained on the target), :mod:`.ensemble_head` (000 Sec. 5.1 heads on frozen members),
:mod:`.predictions` (test-set logits stored at the output stride; test mIoU of a model, of every ensemble
of a set of members, of an ensemble with its head), :mod:`.image_features` (pooled image vectors), :mod:`.ensemble_export` (an ensemble with its head saved as
one folder, loaded in one call).

>>> from transel_jax.transfer import predict_at_pixels, finetune, train_ensemble_head  # doctest: +SKIP
"""
from transel_jax.train.init import transplant_backbone
from transel_jax.transfer.ensemble_head import fit_ensemble_head, member_logits_at_pixels, train_ensemble_head
from transel_jax.transfer.finetune import finetune
from transel_jax.transfer.image_features import image_vectors
from transel_jax.transfer.predict import (outputs_at_pixels, predict_at_pixels, predict_fn_at_pixels,
                                          segmenter_predict_fn)
from transel_jax.transfer.predictions import class_predictions, ensemble_mious, head_miou, test_logits, upsample

__all__ = [
    "class_predictions",
    "ensemble_mious",
    "finetune",
    "fit_ensemble_head",
    "head_miou",
    "image_vectors",
    "member_logits_at_pixels",
    "outputs_at_pixels",
    "predict_at_pixels",
    "predict_fn_at_pixels",
    "segmenter_predict_fn",
    "test_logits",
    "train_ensemble_head",
    "transplant_backbone",
    "upsample",
]
