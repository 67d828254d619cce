"""The schema of a ``transel run`` config: every group and field, with its meaning and unit.

``run_config()`` returns the complete config with the embedded default's values (the synthetic suite on a
CPU in minutes); ``configs/demo.py`` and ``configs/paper.py`` are overrides of it, and
``--config.group.field=value`` on the command line overrides a field (typed by the field it replaces; a
field that does not exist fails with the list of valid fields, :func:`transel_jax.config.set_field`).
Stages read fields directly: there are no defaults anywhere else.

Groups:

- top level: ``name`` (report title, default run directory ``runs/<name>``), ``seed`` (every training
  run's seed), ``model_dtype`` (compute dtype of every model: "float32" | "bfloat16").
- ``data``: how the run reads datasets (not the trainer's ``data`` group, which names one dataset and
  split: the run builds that per model). ``suite_seed`` (generation seed of the synthetic suite),
  ``resolution`` (synthetic images are R x R pixels; real datasets keep their catalog resolution; 0 =
  the catalog's), ``data_dir`` (prepared TFDS files of real datasets; "" = original files under
  ``$TRANSEL_REAL_DATA``), ``test_split`` (the split every test mIoU is measured on), ``test_images``
  (its first images used, 0 = all), ``eval_batch_size`` (images per forward pass when predicting).
- ``pool``: the source models, trained once per run. ``datasets`` x ``architectures`` x ``inits``
  ("generic": backbone from the generic model; "scratch": random) are the candidates;
  ``generic_dataset`` (broad pre-training set, the stand-in for ImageNet) trains one generic model per
  architecture for ``generic_steps`` steps; candidates train ``steps`` steps with global batch
  ``batch_size``, SGD learning rate ``base_lr``, ``schedule`` ("step" | "poly"), ``warmup_steps``,
  a checkpoint every ``checkpoint_every`` steps (0 = only at the end).
- ``targets``: the held-out targets and their fine-tuning recipe. ``datasets`` (each fine-tunes on its
  small training subset: 150 images, 1000 for COCO/ADE20K), ``steps``, ``batch_size``, ``base_lr``,
  ``schedule``, ``warmup_steps``, ``freeze_backbone`` (train the head only), ``checkpoint_every``;
  ``leave_target_out``: False = the targets are held out from the pool by dataset; True = any pool
  dataset may be a target, and target T's candidates leave out the models trained on T (000 Sec. 4.1;
  :mod:`transel_jax.run.plan`).
- ``probe``: what is scored. ``seeds`` (one class-balanced pixel sample per seed), ``max_per_image``
  (sampled pixels per image), ``feature_pixels`` (pixels per seed the feature metrics see: PARC is
  O(n^2)), ``pca_dims`` (features are PCA-reduced to this many dimensions), ``ensemble_size`` (S, members
  per ensemble), ``candidates`` (the correlation study's fine-tuned candidates per target, 0 = the whole
  pool), ``good_candidates`` (of those, the ones most frequent in each ensemble metric's
  ``top_ensembles`` top-ranked ensembles; the rest are drawn at random: 000 Sec. 4.1).
- ``selection``: the 000 Sec. 5 study. ``metric`` (ensemble metric that selects), ``head_steps`` and
  ``head_learning_rate`` (Adam on the ensemble head), ``head_folds`` (k > 1: keep the head only if it
  beats the plain average in k-fold cross-validation on the training images; 0: always keep it, as 000
  Sec. 5.1), ``larger_model`` (architecture of B1L, one model the size of an ensemble; "" = no B1L).
- ``influence``: factors of influence (002). ``architecture`` and ``init`` of the source models whose
  transfer gains are measured, ``images`` (training images per dataset pooled for domain distance).
"""
from __future__ import annotations

import ml_collections


def run_config() -> ml_collections.ConfigDict:
    """The complete run config with the embedded default's values (module docstring)."""
    c = ml_collections.ConfigDict()
    c.name = "demo"
    c.seed = 0
    c.model_dtype = "float32"
    c.data = ml_collections.ConfigDict({
        "suite_seed": 0,
        "resolution": 64,        # pixels (synthetic: R x R); 0 = catalog resolution
        "data_dir": "",
        "test_split": "test",
        "test_images": 60,       # 0 = the whole split
        "eval_batch_size": 8,
    })
    c.pool = ml_collections.ConfigDict({
        "datasets": ("syn_drive_day", "syn_aerial_urban", "syn_indoor_home"),
        "architectures": ("hrnetv2_tiny", "resnet_tiny"),
        "inits": ("generic", "scratch"),
        "generic_dataset": "syn_consumer_broad",
        "generic_steps": 150,    # optimiser steps
        "steps": 100,            # optimiser steps
        "batch_size": 8,         # global batch, images
        "base_lr": 0.05,
        "schedule": "step",      # "step": x0.1 at 2/3 of the steps; "poly": power 0.9
        "warmup_steps": 10,
        "checkpoint_every": 0,   # steps; 0 = only at the end
    })
    c.targets = ml_collections.ConfigDict({
        "datasets": ("syn_drive_small", "syn_aerial_irrg", "syn_indoor_scan"),
        "steps": 60,
        "batch_size": 8,
        "base_lr": 0.02,
        "schedule": "poly",
        "warmup_steps": 0,
        "freeze_backbone": False,
        "checkpoint_every": 0,
        "leave_target_out": False,
    })
    c.probe = ml_collections.ConfigDict({
        "seeds": (0, 1, 2),
        "max_per_image": 100,    # pixels
        "feature_pixels": 1500,  # pixels per seed
        "pca_dims": 32,
        "ensemble_size": 3,
        "candidates": 0,         # 0 = the whole pool
        "good_candidates": 5,
        "top_ensembles": 10,
    })
    c.selection = ml_collections.ConfigDict({
        "metric": "soft_iou_eep",
        "head_steps": 200,
        "head_learning_rate": 0.05,
        "head_folds": 5,
        "larger_model": "hrnetv2_tiny_l",   # "" = no B1L
    })
    c.influence = ml_collections.ConfigDict({
        "architecture": "hrnetv2_tiny",
        "init": "generic",
        "images": 60,
    })
    return c
