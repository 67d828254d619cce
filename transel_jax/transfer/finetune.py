"""Fine-tuning a source model on a target: copy the backbone, new head for the target classes.

``transplant_backbone(source, target)`` returns the freshly initialised target variables with
``params["backbone"]`` and ``batch_stats["backbone"]`` replaced by the source's (copied exactly) and the
target's own new head (nothing of the source head survives: its shape is the source's class count).
``finetune`` runs the trainer on the target's training subset from those variables.
"""
from __future__ import annotations

import jax
import ml_collections
import numpy as np

from transel_jax.train import phases
from transel_jax.train.checkpoint import latest_meta


def _backbone_signature(variables: dict) -> dict:
    return {col: jax.tree.map(lambda a: (tuple(np.shape(a)), str(np.asarray(a).dtype)),
                              variables.get(col, {}).get("backbone", {}))
            for col in ("params", "batch_stats")}


def transplant_backbone(source_variables: dict, target_variables: dict, *, source_name: str = "source",
                        target_name: str = "target") -> dict:
    """Target variables whose backbone (params and batch_stats) is an exact copy of the source's.

    Both must follow the models interface ({"params": {"backbone", "head"}, "batch_stats": {"backbone"}})
    with identically shaped backbones; otherwise ValueError naming both models.
    """
    for name, v in (("source_variables", source_variables), ("target_variables", target_variables)):
        if "backbone" not in v.get("params", {}):
            raise ValueError(f"{name}: expected {{'params': {{'backbone': ...}}}}, got params keys "
                             f"{sorted(v.get('params', {}))}")
    src, tgt = _backbone_signature(source_variables), _backbone_signature(target_variables)
    if src != tgt:
        raise ValueError(f"source_variables: backbone of {source_name!r} does not match the backbone of "
                         f"{target_name!r} (different architecture or width)")
    out = {col: dict(target_variables.get(col, {})) for col in target_variables}
    for col in ("params", "batch_stats"):
        if "backbone" in source_variables.get(col, {}):
            out.setdefault(col, {})["backbone"] = jax.tree.map(np.array, source_variables[col]["backbone"])
    return out


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
