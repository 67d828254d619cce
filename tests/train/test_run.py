"""End to end with the real data pipeline and synthetic suite: `transel train` with hrnetv2_tiny, and
source training then fine-tuning (tiny test model) through `run` and `finetune`."""
import json
import os

import jax
import numpy as np
import pytest

from tiny_segmenter import tiny_build
from transel_jax import cli
from transel_jax.data import catalog, pipeline
from transel_jax.train import run
from transel_jax.train.checkpoint import load_variables
from transel_jax.train.defaults import finetune_config, source_config
from transel_jax.train.metrics_log import read_metrics
from transel_jax.transfer import finetune

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def test_cli_trains_with_overrides_and_records_them(tmp_path, monkeypatch):
    workdir = str(tmp_path)
    # resnet_tiny instead of the config's hrnetv2_tiny: its train step compiles in a third of the time
    argv = ["train", "--config", os.path.join(ROOT, "configs", "train_tiny.py"), "--workdir", workdir,
            "--config.train.steps=1", "--config.train.global_batch_size=4", "--config.eval.split=",
            "--config.data.dataset", "syn_underwater_murky", "--config.log_every=1",
            "--config.model.name=resnet_tiny"]
    monkeypatch.setattr(cli, "VERBS", {"train": cli.VERBS["train"]})  # independent of the other verbs
    assert cli.main(argv) == 0
    saved = json.load(open(os.path.join(workdir, "config.json")))
    assert saved["config"]["train"]["steps"] == 1 and saved["config"]["data"]["dataset"] == "syn_underwater_murky"
    assert saved["config"]["model"]["name"] == "resnet_tiny"
    variables, meta = load_variables(os.path.join(workdir, "checkpoints"))
    assert meta["model"] == "resnet_tiny" and meta["num_classes"] == 4
    assert meta["config"]["train"]["global_batch_size"] == 4
    records = read_metrics(workdir)
    assert [r["step"] for r in records[1:]] == [1] and np.isfinite(records[1]["loss"])
    assert set(variables["params"]) == {"backbone", "head"}
    with pytest.raises(SystemExit):
        cli.main(["train", "--config", "x.py", "--workdir", workdir, "--bogus"])


def test_source_training_then_finetune_on_another_synthetic_dataset(tmp_path):
    config = source_config()
    config.model.name = "tiny_test"
    config.data.dataset = "syn_underwater_murky"
    config.train.update(steps=2, global_batch_size=4)
    config.eval.split = ""
    run.run(config, str(tmp_path / "source"), build=tiny_build)
    source_ckpt = str(tmp_path / "source" / "checkpoints")
    source_vars, _ = load_variables(source_ckpt)

    target = "syn_indoor_scan"
    info = catalog.info(target)
    eval_source = pipeline.Subset(catalog.load(target, "validation"), np.arange(8))
    ft = finetune_config()
    ft.train.update(steps=2, global_batch_size=4)
    ft.eval.batch_size = 4
    result = finetune(source_ckpt, target, workdir=str(tmp_path / "ft"), config=ft, freeze_backbone=True,
                      eval_source=eval_source, build=tiny_build)
    final = jax.device_get(result.state)
    # frozen backbone: still exactly the source's after training; the head is new, for the target classes
    for col in ("params", "batch_stats"):
        for a, b in zip(jax.tree.leaves(getattr(final, col)["backbone"]),
                        jax.tree.leaves(source_vars[col]["backbone"])):
            np.testing.assert_array_equal(a, b)
    assert final.params["head"]["kernel"].shape[-1] == info.num_classes
    _, meta = load_variables(str(tmp_path / "ft" / "checkpoints"))
    assert meta["config"]["train"]["init_from"] == source_ckpt and meta["config"]["data"]["target_subset"]
    report = json.load(open(tmp_path / "ft" / "eval.json"))
    with pytest.raises(ValueError, match="holds model 'tiny_test', expected model 'hrnetv2_tiny'"):
        ft.model.name, ft.train.init_from, ft.data.dataset = "hrnetv2_tiny", source_ckpt, target
        run.run(ft, str(tmp_path / "ft2"), eval_source=eval_source)
    assert report["dataset"] == target and 0.0 <= report["miou"] <= 1.0
    assert report["num_pixels"] == int(result.eval.confusion.sum()) > 0
    assert "produced_by" in report
