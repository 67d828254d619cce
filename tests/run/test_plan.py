"""The run's plan: candidate enumeration, held-out targets, configs that load, dataset views."""
import os

import pytest

from transel_jax.config import load_config
from transel_jax.run import datasets, plan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def demo():
    return load_config(os.path.join(ROOT, "configs", "demo.py"))


def test_candidates_are_the_product_and_generic_models_one_per_architecture():
    pool = demo().pool
    specs = plan.candidate_specs(pool)
    assert len(specs) == len(pool.datasets) * len(pool.architectures) * len(pool.inits)
    assert len({s.id for s in specs}) == len(specs)
    assert specs[0].id == f"{pool.datasets[0]}.{pool.architectures[0]}.{pool.inits[0]}"
    assert [s.id for s in plan.pretrain_specs(pool)] == [f"{pool.generic_dataset}.{a}.pretrain"
                                                         for a in pool.architectures]
    pool.inits = ("scratch",)
    assert plan.pretrain_specs(pool) == []


def test_bad_pools_and_targets_are_refused_by_name():
    config = demo()
    config.pool.inits = ("imagenet",)
    with pytest.raises(ValueError, match="config.pool.inits"):
        plan.candidate_specs(config.pool)
    config = demo()
    config.pool.datasets = config.pool.datasets + (config.pool.generic_dataset,)
    with pytest.raises(ValueError, match="generic dataset"):
        plan.candidate_specs(config.pool)
    config = demo()
    config.targets.datasets = (config.pool.datasets[0],)
    with pytest.raises(ValueError, match="held out from the pool"):
        plan.check_targets(config)


def test_demo_targets_are_held_out_and_from_several_domains():
    config = demo()
    targets = plan.check_targets(config)
    assert len({datasets.info(config, t).domain for t in targets}) == len(targets) >= 3


def test_paper_config_describes_the_real_setup():
    config = load_config(os.path.join(ROOT, "configs", "paper.py"))
    assert set(config.pool.architectures) == {"hrnetv2_w28", "resnet23m"}
    assert len(plan.candidate_specs(config.pool)) == 60 and plan.check_targets(config) == ["camvid"]


def test_synthetic_views_follow_the_run_resolution():
    config = demo()
    config.data.resolution = 32
    assert datasets.info(config, "syn_drive_day").resolution == (32, 32)
    test = datasets.split(config, "syn_drive_day", "test", limit=5)
    assert len(test) == 5 and test[0]["image"].shape == (32, 32, 3)
    assert datasets.train_images(config, "syn_drive_day") == 2000
