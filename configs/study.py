"""The papers' protocol on the embedded synthetic suite: every dataset in turn a target, its own models left out.

transel run --config configs/study.py                         # run directory runs/study
transel run --config configs/study.py --dry-run               # the plan: models, fine-tunes, ensembles
transel run --config configs/study.py --config.data.suite_seed=1 --workdir runs/study_seed1   # robustness
launch/local_multiprocess.sh 2 run --config configs/study.py --workdir runs/study_2p   # 2 processes, same results

On the 2-core CPU one process takes about 77 minutes of stage time and two local processes (the models,
scoring jobs and heads divided between them) 52-59 minutes, with the same results (README, The study).

Pool (000 Sec. 4.1, 002): the 14 synthetic datasets other than the generic one x 2 architectures
(hrnetv2_tiny, resnet_tiny) x 2 initialisations (generic, scratch) = 56 candidates, plus one generic model
per architecture trained on syn_consumer_broad (the stand-in for ImageNet pre-training, which is why that
dataset is neither a source nor a target, as ImageNet is neither in the papers). Every one of the 14
datasets is a target in turn (its first 150 training images, its own test split); for target T the 4 models
trained on T are left out, so each target has 52 candidates and C(52, 3) = 22,100 ensembles, all scored.
Correlation study (000 Sec. 4): per target 15 kept candidates (5 good by the ensemble metrics' votes + 10
random) -> C(15, 3) = 455 evaluated ensembles, 3 probe seeds. Selection (000 Sec. 5): on every target, the
top SoftIoU-EEP ensemble of the whole 52-model pool with its trained head vs B1 (top LEEP) and vs B1L
(hrnetv2_tiny_l, one model as large as an ensemble of three). Factors of influence (002): the 14 x 14
relative transfer gain matrix of the hrnetv2_tiny generic-init sources (diagonal left out) and the
domain distances with the four assignments.
"""
import ml_collections

from transel_jax.run.defaults import run_config

SOURCES = ("syn_aerial_irrg", "syn_aerial_urban", "syn_consumer_context", "syn_consumer_objects", "syn_drive_adverse",
           "syn_drive_day", "syn_drive_region", "syn_drive_small", "syn_indoor_home", "syn_indoor_scan",
           "syn_underwater_murky", "syn_underwater_reef", "syn_virtual_drive", "syn_virtual_gallery")


def get_config() -> ml_collections.ConfigDict:
    c = run_config()
    c.name = "study"
    # benchmarks/source_steps.py: in-domain test mIoU of syn_drive_day still rises past 600 steps
    # (hrnetv2_tiny 0.392 at 150, 0.597 at 600, 0.699 at 1200, 0.755 at 2400; resnet_tiny 0.654 at 600,
    # 0.691 at 1200, 0.717 at 2400). 600 steps (generic 1200) is the compromise with the 60-minute budget
    # on the 2-core CPU: the 58-model pool at 1200 steps alone takes about 37 of those minutes.
    c.pool.update(datasets=SOURCES, generic_steps=1200, steps=600)
    c.targets.update(datasets=SOURCES, leave_target_out=True)
    c.probe.update(candidates=15, good_candidates=5, top_ensembles=10)
    c.influence.update(images=40)
    return c
