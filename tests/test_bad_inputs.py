"""The bad-input table: every case is a clear ValueError/TypeError naming its argument, raised before work.

API cases call the public function with one bad argument and check the error type and that the message
starts with (or names) the argument. CLI cases run ``transel_jax.cli.main`` and check the one-line
``transel: error: ...`` on stderr, exit status 2 and no traceback. All cases are cheap (no training, no
compile beyond the tiny metric kernels).
"""
import os
import re
import sys
import types

import numpy as np
import pytest

from transel_jax import cli
from transel_jax.data.sampling import sample_pixels
from transel_jax.evaluation import kendall_tau, mean_std, pearson, relative_top1, weighted_tau
from transel_jax.metrics import eep_stack, leep, nce
from transel_jax.train import validate
from transel_jax.train.checkpoint import Checkpointer, latest_meta, load_variables
from transel_jax.train.defaults import source_config

ROOT = os.path.dirname(os.path.dirname(__file__))
TINY_CONFIG = os.path.join(ROOT, "configs", "train_tiny.py")

GOOD_HP = {"global_batch_size": 8, "steps": 6, "base_lr": 0.05, "schedule": "step", "warmup_steps": 1,
           "momentum": 0.9, "weight_decay": 1e-4, "seed": 0, "class_weights": None,
           "freeze_backbone": False, "init_from": ""}
GOOD_CKPT = {"every_steps": 2, "keep": 3}


def hp(**kw):
    return lambda: validate.check_hparams({**GOOD_HP, **kw}, GOOD_CKPT)


def ck(**kw):
    return lambda: validate.check_hparams(GOOD_HP, {**GOOD_CKPT, **kw})


def config_with(**fields):
    """check_train_config of source_config() with dotted ``group__field`` values replaced."""
    def call():
        c = source_config()
        c.data.dataset = "syn_drive_day"
        for key, value in fields.items():
            group, _, name = key.partition("__")
            if name:
                c[group][name] = value
            else:
                c[key] = value
        validate.check_train_config(c)
    return call


RNG = np.random.default_rng(0)
PROBS = RNG.dirichlet(np.ones(3), size=10).astype(np.float32)
LABELS = RNG.integers(0, 2, 10)
MAPS = np.array([[[1, 2], [3, 0]]], np.int32)


def sample(**kw):
    args = {"seed": 0, **kw}
    labels = args.pop("labels", MAPS)
    return lambda: sample_pixels(labels, **args)


A = np.array([0.3, 0.1, 0.2, 0.5])

API_CASES = {
    # train hyper-parameters (trainer.train and transel train validate these before any work)
    "steps=0": (hp(steps=0), ValueError, "steps: expected an integer >= 1, got 0"),
    "steps=-5": (hp(steps=-5), ValueError, "steps: expected an integer >= 1, got -5"),
    "steps=2.5": (hp(steps=2.5), TypeError, "steps: expected an integer"),
    "steps='10'": (hp(steps="10"), TypeError, "steps: expected an integer"),
    "steps=True": (hp(steps=True), TypeError, "steps: expected an integer"),
    "global_batch_size=0": (hp(global_batch_size=0), ValueError, "global_batch_size: expected an integer >= 1"),
    "base_lr=nan": (hp(base_lr=float("nan")), ValueError, r"base_lr: expected a finite number in \(0, inf\)"),
    "base_lr=inf": (hp(base_lr=float("inf")), ValueError, "base_lr: expected a finite number"),
    "base_lr=0": (hp(base_lr=0.0), ValueError, "base_lr: expected a finite number"),
    "base_lr=-1": (hp(base_lr=-1.0), ValueError, "base_lr: expected a finite number"),
    "base_lr='0.1'": (hp(base_lr="0.1"), TypeError, "base_lr: expected a finite number"),
    "momentum=1.5": (hp(momentum=1.5), ValueError, r"momentum: expected a finite number in \[0, 1\)"),
    "momentum=-0.1": (hp(momentum=-0.1), ValueError, "momentum: expected a finite number"),
    "weight_decay=-1": (hp(weight_decay=-1.0), ValueError, "weight_decay: expected a finite number"),
    "weight_decay=nan": (hp(weight_decay=float("nan")), ValueError, "weight_decay: expected a finite number"),
    "warmup_steps=-1": (hp(warmup_steps=-1), ValueError, "warmup_steps: expected an integer >= 0"),
    "schedule=cosine": (hp(schedule="cosine"), ValueError, "schedule: expected one of"),
    "seed=1.5": (hp(seed=1.5), TypeError, "seed: expected an integer"),
    "class_weights=[nan, 1]": (hp(class_weights=[float("nan"), 1.0]), ValueError, r"class_weights\[0\]: expected"),
    "class_weights=[0, 0]": (hp(class_weights=[0.0, 0.0]), ValueError, "class_weights: expected at least one positive"),
    "class_weights='ab'": (hp(class_weights="ab"), TypeError, "class_weights: expected None or a list"),
    "freeze_backbone='yes'": (hp(freeze_backbone="yes"), TypeError, "freeze_backbone: expected true or false"),
    "init_from=None-like 3": (hp(init_from=3), TypeError, "init_from: expected a checkpoint directory"),
    "steps missing": (lambda: validate.check_hparams({k: v for k, v in GOOD_HP.items() if k != "steps"},
                                                     GOOD_CKPT), ValueError, "steps: expected a value"),
    "every_steps=0": (ck(every_steps=0), ValueError, "every_steps: expected an integer >= 1, got 0"),
    "every_steps=-2": (ck(every_steps=-2), ValueError, "every_steps: expected an integer >= 1"),
    "keep=0": (ck(keep=0), ValueError, "keep: expected an integer >= 1"),
    "log_every=0": (lambda: validate.check_hparams(GOOD_HP, GOOD_CKPT, log_every=0), ValueError,
                    "log_every: expected an integer >= 1"),
    # a whole transel train config
    "config model.dtype": (config_with(model__dtype="float16"), ValueError, "config.model.dtype: expected one of"),
    "config model.name": (config_with(model__name=""), ValueError, "config.model.name: expected a model name"),
    "config data.dataset": (config_with(data__dataset=""), ValueError, "config.data.dataset: expected a dataset"),
    "config eval.batch_size": (config_with(eval__batch_size=0), ValueError, "config.eval.batch_size: expected"),
    "config log_every": (config_with(log_every=-1), ValueError, "config.log_every: expected an integer >= 1"),
    "config every_steps": (config_with(checkpoint__every_steps=0), ValueError,
                           "config.checkpoint.every_steps: expected an integer >= 1, got 0"),
    "config base_lr and steps": (config_with(train__base_lr=float("nan"), train__steps=-1), ValueError,
                                 r"config.train.steps: expected .*; config.train.base_lr: expected"),
    # checkpoints
    "Checkpointer every_steps=0": (lambda: Checkpointer("/nonexistent/never/created", every_steps=0),
                                   ValueError, "every_steps: expected an integer >= 1"),
    "Checkpointer keep=0": (lambda: Checkpointer("/nonexistent/never/created", keep=0), ValueError,
                            "keep: expected an integer >= 1"),
    "load_variables missing dir": (lambda: load_variables("/nonexistent/ckpts"), ValueError,
                                   "directory: expected a checkpoint directory"),
    "latest_meta missing dir": (lambda: latest_meta("/nonexistent/ckpts"), ValueError,
                                "directory: expected a checkpoint directory"),
    # EEP, LEEP, NCE
    "leep Z=0": (lambda: leep(np.zeros((10, 0), np.float32), LABELS, 2), ValueError,
                 r"probs: expected at least one source class \(axis 1, Z >= 1\), got shape \(10, 0\)"),
    "nce Z=0": (lambda: nce(np.zeros((10, 0), np.float32), LABELS, 2), ValueError, "probs: expected at least one"),
    "leep probs=None": (lambda: leep(None, LABELS, 2), TypeError, "probs: expected an array"),
    "leep ragged list": (lambda: leep([[0.5, 0.5], [1.0]], [0, 1], 2), TypeError, "probs: expected a rectangular"),
    "leep string probs": (lambda: leep("abc", LABELS, 2), TypeError, "probs: expected an array"),
    "leep list of strings": (lambda: leep([["a", "b"]], [0], 2), TypeError, "probs: expected numbers"),
    "nce labels=None": (lambda: nce(PROBS, None, 2), TypeError, "labels: expected an array"),
    "leep labels out of range": (lambda: leep(PROBS, LABELS + 5, 2), ValueError, r"labels: expected values in \[0, 1\]"),
    "leep float labels": (lambda: leep(PROBS, LABELS.astype(float), 2), TypeError, "labels: expected an integer"),
    "leep num_classes=1": (lambda: leep(PROBS, LABELS * 0, 1), ValueError, "num_classes: expected an integer >= 2"),
    "leep rows not summing to 1": (lambda: leep(PROBS * 2, LABELS, 2), ValueError, "probs: expected rows summing"),
    "leep NaN probs": (lambda: leep(np.where(PROBS > 0.5, np.nan, PROBS), LABELS, 2), ValueError,
                       "probs: expected finite"),
    "leep n mismatch": (lambda: leep(PROBS, LABELS[:5], 2), ValueError, "labels: expected n"),
    "leep 1-d probs": (lambda: leep(PROBS[:, 0], LABELS, 2), ValueError, r"probs: expected a 2-d array \[n, Z\]"),
    "eep_stack(None)": (lambda: eep_stack(None, LABELS, 2), TypeError, "source_probs: expected a sequence"),
    "eep_stack([])": (lambda: eep_stack([], LABELS, 2), ValueError, "source_probs: expected at least one"),
    "eep_stack(str)": (lambda: eep_stack("abc", LABELS, 2), TypeError, "source_probs: expected a sequence"),
    "eep_stack second Z=0": (lambda: eep_stack([PROBS, np.zeros((10, 0), np.float32)], LABELS, 2), ValueError,
                             r"source_probs\[1\]: expected at least one source class"),
    "eep_stack ragged member": (lambda: eep_stack([PROBS, [[1.0], [0.5, 0.5]]], LABELS, 2), TypeError,
                                r"source_probs\[1\]: expected a rectangular"),
    # class-balanced pixel sampling
    "sample seed=-1": (sample(seed=-1), ValueError, "seed: expected an integer >= 0, got -1"),
    "sample seed=None": (sample(seed=None), TypeError, "seed: expected an integer >= 0, got None"),
    "sample seed=1.5": (sample(seed=1.5), TypeError, "seed: expected an integer >= 0, got 1.5"),
    "sample seed='a'": (sample(seed="a"), TypeError, "seed: expected an integer >= 0, got 'a'"),
    "sample seed=True": (sample(seed=True), TypeError, "seed: expected an integer"),
    "sample frequency nan": (sample(class_frequency=[1, 1, np.nan, 1]), ValueError,
                             "class_frequency: expected a finite positive frequency"),
    "sample frequency inf": (sample(class_frequency=[1, np.inf, 1, 1]), ValueError,
                             "class_frequency: expected a finite positive frequency"),
    "sample frequency 0": (sample(class_frequency=[1, 1, 1, 0]), ValueError, "class_frequency: expected a finite"),
    "sample frequency <0": (sample(class_frequency=[1, -2, 1, 1]), ValueError, "class_frequency: expected a finite"),
    "sample frequency str": (sample(class_frequency="abc"), TypeError, "class_frequency: expected a float array"),
    "sample frequency short": (sample(class_frequency=[1, 1]), ValueError, "class_frequency: expected an entry"),
    "sample zero-size maps": (sample(labels=np.zeros((1, 0, 4), np.int32)), ValueError,
                              r"labels\[0\]: expected a non-empty \[H, W\] label map, got shape \(0, 4\)"),
    "sample empty map in list": (sample(labels=[MAPS[0], np.zeros((3, 0), np.int32)]), ValueError,
                                 r"labels\[1\]: expected a non-empty"),
    "sample labels=None": (sample(labels=None), TypeError, "labels: expected int label maps"),
    "sample float maps": (sample(labels=MAPS.astype(np.float32)), TypeError, r"labels\[0\]: expected an integer"),
    "sample negative labels": (sample(labels=-MAPS), ValueError, r"labels\[0\]: expected labels >= 0"),
    "sample max_per_image=0": (sample(max_per_image=0), ValueError, "max_per_image: expected an integer >= 1"),
    "sample 2-d array": (sample(labels=MAPS[0]), ValueError, r"labels: expected a 3-d array \[B, H, W\]"),
    "sample no maps": (sample(labels=[]), ValueError, "labels: expected at least one label map"),
    # rank correlations
    "weighted_tau constant predicted": (lambda: weighted_tau(A, np.ones(4)), ValueError,
                                        "predicted: expected at least two distinct values"),
    "kendall_tau constant actual": (lambda: kendall_tau(np.ones(4), A), ValueError,
                                    "actual: expected at least two distinct values"),
    "pearson constant predicted": (lambda: pearson(A, np.zeros(4)), ValueError, "predicted: expected at least two"),
    "weighted_tau string": (lambda: weighted_tau("abcd", A), TypeError, "actual: expected a 1-d array of numbers"),
    "weighted_tau None": (lambda: weighted_tau(A, None), TypeError, "predicted: expected a 1-d array"),
    "weighted_tau ragged": (lambda: weighted_tau([[1, 2], [3]], A), TypeError, "actual: expected a 1-d array"),
    "weighted_tau list of str": (lambda: weighted_tau(A, ["a", "b", "c", "d"]), TypeError,
                                 "predicted: expected a 1-d array of numbers"),
    "weighted_tau length mismatch": (lambda: weighted_tau(A, A[:3]), ValueError, "predicted: expected K"),
    "weighted_tau one candidate": (lambda: weighted_tau([1.0], [1.0]), ValueError, "actual: expected at least 2"),
    "kendall_tau NaN": (lambda: kendall_tau([1.0, np.nan, 2.0], A[:3]), ValueError, "actual: expected finite"),
    "pearson if_constant str": (lambda: pearson(A, A, if_constant="0"), TypeError, "if_constant: expected None"),
    "relative_top1 best <= 0": (lambda: relative_top1([-1.0, -2.0], [1.0, 2.0]), ValueError,
                                "actual: expected a positive best value"),
    "mean_std empty": (lambda: mean_std([]), ValueError, "values: expected at least one"),
    "mean_std NaN": (lambda: mean_std([1.0, np.nan]), ValueError, "values: expected finite"),
}


@pytest.mark.parametrize("call, kind, match", list(API_CASES.values()), ids=list(API_CASES))
def test_api_bad_input_is_a_clear_error_naming_the_argument(call, kind, match):
    with pytest.raises(kind, match=match):
        call()


CLI_CASES = {
    "train every_steps=0": (["--config.checkpoint.every_steps=0"], "config.checkpoint.every_steps: expected an "
                                                                  "integer >= 1, got 0"),
    "train base_lr=nan": (["--config.train.base_lr=nan"], r"config.train.base_lr: expected a finite number"),
    "train steps=-5": (["--config.train.steps=-5"], "config.train.steps: expected an integer >= 1, got -5"),
    "train batch 0": (["--config.train.global_batch_size=0"], "config.train.global_batch_size: expected"),
    "train keep=0": (["--config.checkpoint.keep=0"], "config.checkpoint.keep: expected an integer >= 1"),
    "train dtype": (["--config.model.dtype=float16"], "config.model.dtype: expected one of"),
    "train schedule": (["--config.train.schedule=cosine"], "config.train.schedule: expected one of"),
    "train momentum": (["--config.train.momentum=1.0"], "config.train.momentum: expected a finite number"),
    "train log_every": (["--config.log_every=0"], "config.log_every: expected an integer >= 1"),
    "train two problems": (["--config.train.steps=0", "--config.checkpoint.every_steps=0"],
                           "config.train.steps: .*; config.checkpoint.every_steps: "),
}


def _train_argv(tmp_path, extra):
    return ["train", "--config", TINY_CONFIG, "--workdir", str(tmp_path / "w")] + list(extra)


@pytest.fixture
def only_train(monkeypatch):
    monkeypatch.setattr(cli, "VERBS", {"train": cli.VERBS["train"]})  # independent of the other verbs
    monkeypatch.delenv("TRANSEL_DEBUG", raising=False)


def _one_error_line(capsys, match):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines and lines[0].startswith("transel: error: "), err
    assert "Traceback" not in err and len(lines) <= 2, err  # the message and at most one hint line
    assert re.search(match, lines[0]), lines[0]
    return lines


@pytest.mark.parametrize("extra, match", list(CLI_CASES.values()), ids=list(CLI_CASES))
def test_cli_bad_train_config_is_one_line_exit_2_before_any_work(tmp_path, capsys, only_train, extra, match):
    assert cli.main(_train_argv(tmp_path, extra)) == 2
    _one_error_line(capsys, match)
    assert not os.path.exists(tmp_path / "w")  # refused before the workdir is even created


def test_cli_missing_config_file_and_bad_override_are_one_line(tmp_path, capsys, only_train):
    argv = ["train", "--config", str(tmp_path / "nope.py"), "--workdir", str(tmp_path / "w")]
    assert cli.main(argv) == 2
    _one_error_line(capsys, r"path: expected an existing Python config file")
    assert cli.main(_train_argv(tmp_path, ["--config.train.no_such_field=1"])) == 2
    _one_error_line(capsys, "no_such_field")


def _fake_verb(monkeypatch, error: BaseException):
    module = types.ModuleType("transel_fake_verb")
    module.add_arguments = lambda parser: None

    def main(args):
        raise error
    module.main = main
    monkeypatch.setitem(sys.modules, "transel_fake_verb", module)
    monkeypatch.setattr(cli, "VERBS", {"fake": ("transel_fake_verb", "raises")})
    monkeypatch.delenv("TRANSEL_DEBUG", raising=False)


@pytest.mark.parametrize("error, status, match", [
    (ValueError("out: expected a path\nin an existing folder"), 2, r"^transel: error: out: expected a path in an"),
    (TypeError("metrics: expected names"), 2, r"^transel: error: metrics: expected names$"),
    (FileNotFoundError(2, "No such file or directory", "/x/y.npz"), 2,
     r"^transel: error: No such file or directory: /x/y.npz$"),
    (FloatingPointError("training diverged at step 5"), 1, r"^transel: error: training diverged at step 5$"),
])
def test_cli_errors_are_one_line_and_debug_shows_the_traceback(monkeypatch, capsys, error, status, match):
    _fake_verb(monkeypatch, error)
    assert cli.main(["fake"]) == status
    lines = _one_error_line(capsys, match)
    assert (len(lines) == 2) == isinstance(error, FileNotFoundError)  # a hint only where one helps
    with pytest.raises(type(error)):
        cli.main(["--debug", "fake"])
    with pytest.raises(type(error)):
        cli.main(["fake", "--debug"])
    monkeypatch.setenv("TRANSEL_DEBUG", "1")
    with pytest.raises(type(error)):
        cli.main(["fake"])

