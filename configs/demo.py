"""The embedded default: the papers' studies on the synthetic suite, on a CPU in minutes.

transel run --config configs/demo.py                 # run directory runs/demo
transel run --config configs/demo.py --fresh         # start over
transel run --config configs/demo.py --config.probe.seeds="(0, 1)"

Source pool: 3 source datasets from different domains x 2 architectures (hrnetv2_tiny, resnet_tiny) x
2 initialisations ("generic": backbone from a model trained on the broad consumer dataset, the stand-in
for ImageNet pre-training; "scratch": random init) = 12 candidates, 220 ensembles of 3. Targets: three
held-out datasets of other domains (150 training images each); every candidate is fine-tuned on each
(probe.candidates = 0). The selection's B1L is hrnetv2_tiny_l (HRNetV2 C=10: about 3x the mean parameter
count of the tiny candidates). Images are 64 x 64.

These are the schema's own values (every field is documented in transel_jax/run/defaults.py).
"""
import ml_collections

from transel_jax.run.defaults import run_config


def get_config() -> ml_collections.ConfigDict:
    c = run_config()
    c.name = "demo"
    return c
