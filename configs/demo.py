"""The embedded default: the papers' studies on the synthetic suite, on a CPU in minutes.

transel run --config configs/demo.py                 # run directory runs/demo
transel run --config configs/demo.py --fresh         # start over
transel run --config configs/demo.py --config.probe.seeds="(0, 1)"

Source pool: 3 source datasets from different domains x 2 architectures (hrnetv2_tiny, resnet_tiny) x
2 initialisations ("generic": backbone from a model trained on the broad consumer dataset, the stand-in
for ImageNet pre-training; "scratch": random init) = 12 candidates, 220 ensembles of 3. Targets: three
held-out datasets of other domains (150 training images each); every candidate is fine-tuned on each
(probe.candidates = 0). The selection's B1L is hrnetv2_tiny_l. Images are 64 x 64.
"""
import ml_collections


def get_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.name = "demo"
    c.seed = 0
    c.model_dtype = "float32"
    c.data = ml_collections.ConfigDict({
        "suite_seed": 0,        # the synthetic suite's generation seed
        "resolution": 64,       # synthetic images are R x R (real datasets keep their catalog resolution)
        "data_dir": "",         # real datasets: where their files are
        "test_split": "test",
        "test_images": 60,      # first images of the test split used for every test mIoU (0 = all)
        "eval_batch_size": 8,
    })
    c.pool = ml_collections.ConfigDict({
        "datasets": ("syn_drive_day", "syn_aerial_urban", "syn_indoor_home"),
        "architectures": ("hrnetv2_tiny", "resnet_tiny"),
        "inits": ("generic", "scratch"),
        "generic_dataset": "syn_consumer_broad",
        "generic_steps": 150,
        "steps": 100,
        "batch_size": 8,
        "base_lr": 0.05,
        "schedule": "step",
        "warmup_steps": 10,
        "checkpoint_every": 0,  # 0: only at the end
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
    })
    c.probe = ml_collections.ConfigDict({
        "seeds": (0, 1, 2),
        "max_per_image": 100,
        "feature_pixels": 1500,
        "pca_dims": 32,
        "ensemble_size": 3,
        # the correlation study's candidates per target (000 Sec. 4.1 keeps 15 of 64): 0 = the whole pool;
        # else the `good_candidates` most frequent in each ensemble metric's `top_ensembles` top-ranked
        # ensembles, plus random ones (transel_jax/run/candidates.py)
        "candidates": 0,
        "good_candidates": 5,
        "top_ensembles": 10,
    })
    c.selection = ml_collections.ConfigDict({
        "metric": "soft_iou_eep",
        "head_steps": 200,
        "head_learning_rate": 0.05,
        # B1L (000 Sec. 5.2): B1's dataset and init with one model as large as an ensemble of 3 tiny ones
        # (hrnetv2_tiny_l, HRNetV2 C=10: about 3x their mean parameter count); "" = no B1L
        "larger_model": "hrnetv2_tiny_l",
    })
    c.influence = ml_collections.ConfigDict({
        "architecture": "hrnetv2_tiny",
        "init": "generic",
        "images": 60,
    })
    return c
