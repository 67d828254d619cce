"""The loop end to end: learning, exact resume, checkpoint metadata, corrupt and foreign checkpoints."""
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tiny_segmenter import TinySegmenter, block_batch, block_batches
from transel_jax.train.checkpoint import Checkpointer, load_variables, make_meta
from transel_jax.train.evaluate import evaluate
from transel_jax.train.metrics_log import read_metrics
from transel_jax.train.trainer import train

K, B = 4, 8
CKPT = {"every_steps": 2, "keep": 3}


def hparams(steps, **kw):
    return {"global_batch_size": B, "steps": steps, "base_lr": 0.05, "schedule": "step", "warmup_steps": 1,
            "momentum": 0.9, "weight_decay": 1e-4, "seed": 0, **kw}


def init_variables():
    return TinySegmenter(K).init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)), train=False)


META = make_meta("tiny_test", K, {"note": "test"})


class Interrupted(Exception):
    pass


def interrupted_after(factory, n):
    """Like ``factory`` but the iterator raises once ``n`` batches have been consumed."""
    def wrapped(start):
        for i, batch in enumerate(factory(start)):
            if i == n:
                raise Interrupted
            yield batch
    return wrapped


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("full"))
    state = train(TinySegmenter(K, axis_name="data"), init_variables(), block_batches(7, B, num_classes=K),
                  hparams=hparams(6), ckpt=CKPT, workdir=workdir, meta=META, log_every=2)
    return workdir, jax.device_get(state)


def _interrupt(workdir: str, after: int):
    """Train 6 steps into ``workdir`` but stop after ``after``; returns the resume call."""
    model = TinySegmenter(K, axis_name="data")
    data = block_batches(7, B, num_classes=K)
    with pytest.raises(Interrupted):
        train(model, init_variables(), interrupted_after(data, after), hparams=hparams(6), ckpt=CKPT,
              workdir=workdir, meta=META, log_every=2)
    return lambda: jax.device_get(train(model, init_variables(), data, hparams=hparams(6), ckpt=CKPT,
                                        workdir=workdir, meta=META, resume=True, log_every=2))


def test_interrupted_and_resumed_equals_uninterrupted_bit_for_bit(uninterrupted, tmp_path):
    _, full = uninterrupted
    workdir = str(tmp_path)
    resume = _interrupt(workdir, 3)
    assert Checkpointer(os.path.join(workdir, "checkpoints")).steps() == [2]
    resumed = resume()
    assert int(resumed.step) == 6
    for a, b in zip(jax.tree.leaves(resumed.to_dict()), jax.tree.leaves(full.to_dict())):
        np.testing.assert_array_equal(a, b)


def test_checkpoints_record_config_model_classes_and_version(uninterrupted):
    workdir, full = uninterrupted
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"))
    assert ckpt.steps() == [2, 4, 6]  # every 2 steps, last 3 kept
    meta = ckpt.read_meta(6)
    import transel_jax
    assert meta == {"model": "tiny_test", "num_classes": K, "version": transel_jax.__version__,
                    "config": {"note": "test"}}
    variables, meta2 = load_variables(os.path.join(workdir, "checkpoints"))
    assert meta2 == meta
    for a, b in zip(jax.tree.leaves(variables), jax.tree.leaves(full.variables)):
        np.testing.assert_array_equal(a, b)
    records = read_metrics(workdir)
    assert "run" in records[0]
    steps = [r["step"] for r in records[1:]]
    assert steps == [2, 4, 6]
    assert all(r["images_per_s"] > 0 and np.isfinite(r["loss"]) for r in records[1:])


def test_fresh_run_refuses_a_workdir_with_checkpoints(uninterrupted):
    workdir, _ = uninterrupted
    with pytest.raises(ValueError, match="already holds checkpoints"):
        train(TinySegmenter(K, axis_name="data"), init_variables(), block_batches(7, B, num_classes=K),
              hparams=hparams(6), ckpt=CKPT, workdir=workdir, meta=META)


def test_class_weights_of_the_wrong_length_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="class_weights: expected 4 weights"):
        train(TinySegmenter(K, axis_name="data"), init_variables(), block_batches(7, B, num_classes=K),
              hparams=hparams(6, class_weights=[1.0, 2.0]), ckpt=CKPT, workdir=str(tmp_path), meta=META)


def test_checkpoint_of_another_architecture_or_class_count_names_both(uninterrupted):
    workdir, _ = uninterrupted
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"))
    with pytest.raises(ValueError, match=r"holds model 'tiny_test' with 4 classes, expected model "
                                         r"'hrnetv2_w18' with 4 classes"):
        ckpt.restore_latest(model_name="hrnetv2_w18", num_classes=4)
    with pytest.raises(ValueError, match=r"'tiny_test' with 4 classes, expected model 'tiny_test' with 7"):
        ckpt.restore_latest(model_name="tiny_test", num_classes=7)


# orbax's reader thread reports the failed read of the corrupt step once more on shutdown
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_corrupt_and_half_written_checkpoints_are_skipped_with_a_warning(uninterrupted, tmp_path):
    source, _ = uninterrupted
    directory = str(tmp_path / "checkpoints")
    shutil.copytree(os.path.join(source, "checkpoints"), directory)
    shutil.rmtree(os.path.join(directory, "6", "state", "d"))        # corrupt: array data gone
    os.makedirs(os.path.join(directory, "8", "state"))                # half-written: no metadata
    os.makedirs(os.path.join(directory, "10.orbax-checkpoint-tmp-1"))  # orbax temp dir: never listed
    ckpt = Checkpointer(directory)
    with pytest.warns(RuntimeWarning, match="unreadable") as record:
        state, meta = ckpt.restore_latest()
    assert len(record) == 2
    assert int(state["step"]) == 4
    assert ckpt.steps() == [2, 4]
    assert os.path.isdir(os.path.join(directory, "6.corrupt"))


def test_loss_decreases_and_miou_beats_chance_on_the_block_task(tmp_path):
    model = TinySegmenter(K, axis_name="data")
    hp = hparams(150, base_lr=0.1, schedule="poly", warmup_steps=5)
    state = train(model, init_variables(), block_batches(11, B, num_classes=K), hparams=hp,
                  ckpt={"every_steps": 1000, "keep": 1}, workdir=str(tmp_path), meta=META, log_every=10)
    losses = [r["loss"] for r in read_metrics(str(tmp_path))[1:]]
    assert losses[-1] < 0.5 * losses[0]
    held_out = [block_batch(seed=99, step=i, batch_size=B, num_classes=K) for i in range(4)]
    result = evaluate(TinySegmenter(K), jax.device_get(state.variables), held_out, num_classes=K)
    # chance: predicting a uniformly random class gives IoU ~ (1/4) / (1/4 + 1/4 + 1/4 - 1/16) ~ 0.14
    assert result.miou > 0.6


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_resume_past_a_corrupt_latest_checkpoint_still_ends_bit_for_bit(uninterrupted, tmp_path):
    _, full = uninterrupted
    workdir = str(tmp_path)
    resume = _interrupt(workdir, 5)
    shutil.rmtree(os.path.join(workdir, "checkpoints", "4", "state", "d"))  # the newest one is corrupt
    with pytest.warns(RuntimeWarning, match="checkpoints/4 is unreadable"):
        resumed = resume()
    for a, b in zip(jax.tree.leaves(resumed.to_dict()), jax.tree.leaves(full.to_dict())):
        np.testing.assert_array_equal(a, b)
    assert Checkpointer(os.path.join(workdir, "checkpoints")).steps() == [2, 4, 6]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_load_variables_reads_params_and_stats_as_numpy_and_skips_a_corrupt_step(uninterrupted, tmp_path):
    source, full = uninterrupted
    variables, meta = load_variables(os.path.join(source, "checkpoints"))
    assert sorted(variables) == ["batch_stats", "params"] and meta["model"] == "tiny_test"
    assert all(isinstance(a, np.ndarray) for a in jax.tree.leaves(variables))
    assert jax.tree.structure(variables) == jax.tree.structure(full.variables)
    for a, b in zip(jax.tree.leaves(variables), jax.tree.leaves(full.variables)):  # newest step: 6
        np.testing.assert_array_equal(a, b)
    directory = str(tmp_path / "checkpoints")
    shutil.copytree(os.path.join(source, "checkpoints"), directory)
    shutil.rmtree(os.path.join(directory, "6", "state", "d"))
    with pytest.warns(RuntimeWarning, match="checkpoints/6 is unreadable"):
        previous, _ = load_variables(directory)
    whole, _ = Checkpointer(directory).restore_latest()  # the whole state of step 4, read the other way
    assert int(whole["step"]) == 4
    for a, b in zip(jax.tree.leaves(previous), jax.tree.leaves({"params": whole["params"],
                                                                 "batch_stats": whole["batch_stats"]})):
        np.testing.assert_array_equal(a, b)


def test_nan_in_a_batch_stops_training_naming_the_step_and_last_checkpoint(tmp_path):
    from transel_jax.train.loop import NonFiniteLossError

    def poisoned(start):
        for i, batch in enumerate(block_batches(7, B, num_classes=K)(start), start):
            if i == 4:  # the 5th step
                batch["image"][0, 0, 0, 0] = np.nan
            yield batch

    workdir = str(tmp_path)
    with pytest.raises(NonFiniteLossError, match=r"step 5: non-finite loss = nan.*last good checkpoint "
                                                 r"is step 4 in .*checkpoints"):
        train(TinySegmenter(K, axis_name="data"), init_variables(), poisoned, hparams=hparams(6), ckpt=CKPT,
              workdir=workdir, meta=META, log_every=1)
    assert Checkpointer(os.path.join(workdir, "checkpoints")).steps() == [2, 4]  # no NaN state saved
    rows = read_metrics(workdir)[1:]
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and all(np.isfinite(r["loss"]) for r in rows)


def test_resume_logs_every_step_once(tmp_path):
    """Logged every step, checkpointed every 2: steps 3 is redone after resuming from 2, logged once."""
    workdir = str(tmp_path)
    model, data = TinySegmenter(K, axis_name="data"), block_batches(7, B, num_classes=K)
    with pytest.raises(Interrupted):
        train(model, init_variables(), interrupted_after(data, 3), hparams=hparams(4), ckpt=CKPT,
              workdir=workdir, meta=META, log_every=1)
    assert [r["step"] for r in read_metrics(workdir)[1:]] == [1, 2, 3]
    train(model, init_variables(), data, hparams=hparams(4), ckpt=CKPT, workdir=workdir, meta=META,
          resume=True, log_every=1)
    records = read_metrics(workdir)
    assert "run" in records[0] and [r["step"] for r in records[1:]] == [1, 2, 3, 4]


@pytest.mark.parametrize("hp, ck, match", [
    ({"steps": 0}, {}, r"^steps: expected an integer >= 1, got 0"),
    ({"base_lr": float("nan")}, {}, r"^base_lr: expected a finite number in \(0, inf\), got nan"),
    ({"base_lr": -0.1}, {}, r"^base_lr: expected a finite number"),
    ({"momentum": 1.0}, {}, r"^momentum: expected a finite number in \[0, 1\)"),
    ({"schedule": "cosine"}, {}, r"^schedule: expected one of \['step', 'poly', 'constant'\], got 'cosine'"),
    ({}, {"every_steps": 0}, r"^every_steps: expected an integer >= 1, got 0"),
    ({}, {"keep": 0}, r"^keep: expected an integer >= 1, got 0"),
])
def test_bad_hyper_parameters_are_named_before_anything_runs(tmp_path, hp, ck, match):
    def never(start):
        raise AssertionError("no batch may be read before the hyper-parameters are validated")

    with pytest.raises(ValueError, match=match):
        train(TinySegmenter(K, axis_name="data"), None, never, hparams={**hparams(6), **hp},
              ckpt={**CKPT, **ck}, workdir=str(tmp_path), meta=META)
    assert not os.path.exists(os.path.join(str(tmp_path), "checkpoints"))


def test_model_devices_sets_the_default_mesh_and_a_one_device_model_matches_an_explicit_mesh(tmp_path):
    from transel_jax.train import distributed

    assert len(jax.devices()) == 4 and distributed.make_mesh().devices.size == 4  # the tests' 4 CPU devices
    with distributed.one_cpu_device_per_model() as chosen:  # on CPU: the first local device only
        assert chosen == jax.local_devices()[:1] and distributed.make_mesh().devices.size == 1
        with distributed.model_devices(jax.devices()[:2]):
            assert distributed.make_mesh().devices.size == 2
        assert distributed.make_mesh().devices.size == 1  # the outer block's devices come back
        inside = train(TinySegmenter(K, axis_name="data"), init_variables(), block_batches(7, B, num_classes=K),
                       hparams=hparams(3), ckpt=CKPT, workdir=str(tmp_path / "inside"), meta=META)
    assert distributed.make_mesh().devices.size == 4
    explicit = train(TinySegmenter(K, axis_name="data"), init_variables(), block_batches(7, B, num_classes=K),
                     hparams=hparams(3), ckpt=CKPT, workdir=str(tmp_path / "explicit"), meta=META,
                     mesh=distributed.make_mesh(jax.devices()[:1]))
    spread = train(TinySegmenter(K, axis_name="data"), init_variables(), block_batches(7, B, num_classes=K),
                   hparams=hparams(3), ckpt=CKPT, workdir=str(tmp_path / "spread"), meta=META)
    a, b, c = (jax.tree_util.tree_leaves(jax.device_get(s.params)) for s in (inside, explicit, spread))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(np.allclose(x, z, atol=1e-4) for x, z in zip(a, c))  # 4-way data parallel: same model, other rounding
    with pytest.raises(ValueError, match="devices_"):
        with distributed.model_devices([]):
            pass
