"""Every problem of a run config is found before any work: the run refuses to start, the dry run exits 2."""
import os

import pytest

from transel_jax.config import load_config
from transel_jax.run import dryrun, pipeline, validate
from transel_jax.run.defaults import run_config

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "configs")


@pytest.mark.parametrize("path", [os.path.join(CONFIGS, "demo.py"), os.path.join(CONFIGS, "paper.py"),
                                  os.path.join(CONFIGS, "study.py"), os.path.join(HERE, "tiny_config.py")])
def test_shipped_configs_have_no_problem(path):
    assert validate.problems(load_config(path)) == []


def test_demo_config_is_the_schema_with_its_name():
    assert load_config(os.path.join(CONFIGS, "demo.py")).to_dict() == run_config().to_dict()


BAD = [
    ("pool.datasets=('nope', 'syn_drive_day')", "config.pool.datasets: ['nope'] not in the catalog"),
    ("targets.datasets=('syn_drive_day',)", "config.targets.datasets: expected datasets held out"),
    ("pool.generic_dataset=nowhere", "config.pool.generic_dataset: ['nowhere'] not in the catalog"),
    ("pool.architectures=('resnet_tiny', 'resnet_huge')", "config.pool.architectures: expected one of"),
    ("selection.larger_model=giant", "config.selection.larger_model: expected one of"),
    ("pool.steps=-3", "config.pool.steps: expected an integer >= 1, got -3"),
    ("pool.generic_steps=0", "config.pool.generic_steps: expected an integer >= 1, got 0"),
    ("targets.steps=0", "config.targets.steps: expected an integer >= 1, got 0"),
    ("targets.base_lr=nan", "config.targets.base_lr: expected a finite learning rate > 0, got nan"),
    ("pool.base_lr=-0.1", "config.pool.base_lr: expected a finite learning rate > 0"),
    ("pool.batch_size=0", "config.pool.batch_size: expected an integer >= 1, got 0"),
    ("targets.schedule=cosine", "config.targets.schedule: expected one of ['poly', 'step'], got 'cosine'"),
    ("targets.warmup_steps=60", "config.targets.warmup_steps: expected fewer than targets.steps = 60"),
    ("pool.inits=('generic', 'imagenet')", "config.pool.inits: expected one of"),
    ("probe.ensemble_size=13", "config.probe.ensemble_size: expected at most the 12 pool candidates of each target, got 13"),
    ("probe.ensemble_size=0", "config.probe.ensemble_size: expected an integer >= 1, got 0"),
    ("probe.seeds=()", "config.probe.seeds: expected at least one seed"),
    ("probe.seeds=(0, 0)", "config.probe.seeds: expected distinct seeds"),
    ("probe.seeds=(0, -1)", "config.probe.seeds: expected an integer >= 0, got -1"),
    ("probe.candidates=2", "config.probe.candidates: expected 0 (all) or at least probe.ensemble_size = 3"),
    ("probe.candidates=-1", "config.probe.candidates: expected an integer >= 0, got -1"),
    ("selection.metric=accuracy", "config.selection.metric: expected one of"),
    ("selection.head_folds=1", "config.selection.head_folds: expected 0 (always keep the head) or an integer >= 2, got 1"),
    ("selection.head_learning_rate=0.0", "config.selection.head_learning_rate: expected a finite learning rate"),
    ("influence.architecture=hrnetv2_w48", "config.influence.architecture: expected one of"),
    ("model_dtype=float16", "config.model_dtype: expected one of ['bfloat16', 'float32'], got 'float16'"),
    ("data.eval_batch_size=0", "config.data.eval_batch_size: expected an integer >= 1, got 0"),
]


@pytest.mark.parametrize("override,message", BAD, ids=[b[0].split("=")[0] for b in BAD])
def test_each_problem_is_named_with_its_field(override, message):
    config = load_config(os.path.join(CONFIGS, "demo.py"), [f"--config.{override}"])
    found = validate.problems(config)
    assert any(message in p for p in found), found


def test_all_problems_are_listed_at_once_and_the_run_starts_nothing(tmp_path):
    config = load_config(os.path.join(CONFIGS, "demo.py"),
                         ["--config.pool.steps=-3", "--config.targets.base_lr=nan", "--config.probe.ensemble_size=99"])
    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match="3 problem") as err:
        pipeline.run(config, str(run_dir))
    assert "config.pool.steps" in str(err.value) and "config.probe.ensemble_size" in str(err.value)
    assert not run_dir.exists()
    lines = []
    assert dryrun.main(config, str(run_dir), print_fn=lines.append) == dryrun.MISSING_DATA
    assert any("config.targets.base_lr" in line for line in lines)
    assert not run_dir.exists()
