"""Fine-tuning a source model on a target: copy the backbone, new head for the target classes.

``finetune`` runs the trainer on the target's training subset, starting from the source's backbone
(:func:`transel_jax.train.init.transplant_backbone`: params and BatchNorm statistics copied exactly) and a
new head for the target's classes.
"""
from __future__ import annotations

import ml_collections

from transel_jax.train import phases
from transel_jax.train.checkpoint import latest_meta


def finetune(source_checkpoint: str, target: str, *, workdir: str,
             config: ml_collections.ConfigDict | None = None, freeze_backbone: bool | None = None,
             resume: bool = False, source=None, eval_source=None, build=None, info=None):
    """Fine-tune the model in ``source_checkpoint`` on the target dataset ``target``.

    The architecture is the checkpoint's; the head is re-initialised for the target's classes; training
    uses the target's small training subset (``info.target_train_size`` images) and the ``train`` group
    of ``config`` (default :func:`transel_jax.train.defaults.finetune_config`).

    Args:
      source_checkpoint: a source run's checkpoint directory (``<workdir>/checkpoints``).
      target: catalog name of the target dataset.
      workdir: run directory of the fine-tune.
      config: full run config; ``model.name``, ``data.dataset``, ``data.target_subset`` and
        ``train.init_from`` are set here.
      freeze_backbone: overrides ``config.train.freeze_backbone`` when given.
      source, eval_source: optional random-access sources replacing the catalog's train/eval splits.
      build: replaces ``transel_jax.models.build`` (same signature) for models outside the registry.
      info: replaces the catalog's DatasetInfo of ``target`` (e.g. another resolution).

    Returns:
      the :class:`transel_jax.train.run.RunResult` of the fine-tune.
    """
    from transel_jax.train import defaults, run

    with phases.phase("restore"):
        meta = latest_meta(source_checkpoint)
    config = defaults.finetune_config() if config is None else ml_collections.ConfigDict(config.to_dict())
    config.model.name = meta["model"]
    config.data.dataset = target
    config.data.target_subset = True
    config.train.init_from = str(source_checkpoint)
    if freeze_backbone is not None:
        config.train.freeze_backbone = bool(freeze_backbone)
    return run.run(config, workdir, resume=resume, source=source, eval_source=eval_source, build=build,
                   info=info)
