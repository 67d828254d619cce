"""A tiny run for the end-to-end test: 4 candidates (2 datasets x resnet_tiny x 2 inits), 1 target, 32x32;
the B1L baseline with B1's own architecture."""
import os

from transel_jax.config import load_config

DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "configs", "demo.py")


def get_config():
    c = load_config(DEMO)
    c.name = "tiny"
    c.data.update(resolution=32, test_images=8, eval_batch_size=8)
    c.pool.update(datasets=("syn_drive_day", "syn_underwater_reef"), architectures=("resnet_tiny",),
                  generic_steps=12, steps=8, batch_size=8, warmup_steps=2)
    c.targets.update(datasets=("syn_underwater_murky",), steps=8, batch_size=8)
    # 3 of the 4 candidates kept (1 by the metrics, 2 at random): ensembles of 2, so 3 are evaluated; the
    # selection then fine-tunes any model of the whole pool it picks that was not kept
    c.probe.update(seeds=(0, 1), max_per_image=20, feature_pixels=300, pca_dims=8, ensemble_size=2,
                   candidates=3, good_candidates=1, top_ensembles=2)
    # B1L with B1's own architecture: the mechanism runs, retraining B1 must reproduce it (compiles are cached)
    c.selection.update(head_steps=20, larger_model="resnet_tiny")
    c.influence.update(architecture="resnet_tiny", images=8)
    return c
