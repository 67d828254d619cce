"""Checkpoint integrity: per-array sha256 recorded at save, verified on every restore."""
import os
import shutil

import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest

from multihost_fixtures import one_device_env
from transel_jax.train.checkpoint import Checkpointer, NonFiniteStateError, load_variables
from transel_jax.train.state import TrainState

META = {"model": "tiny_test", "num_classes": 2}


def _state(step: int, seed: int) -> TrainState:
    """A state whose params are one 64 KiB array of random (incompressible) floats."""
    rng = np.random.default_rng(seed)
    return TrainState(step=jnp.asarray(step, jnp.int32),
                      params={"w": jnp.asarray(rng.normal(size=(64, 256)), jnp.float32)},
                      batch_stats={"mean": jnp.zeros(3)}, opt_state={"mu": jnp.ones(3)},
                      rng=jnp.zeros(2, jnp.uint32))


def _flip_middle_of_largest_data_file(step_dir: str) -> None:
    """XOR 64 bytes in the middle of the step's largest array-data file, its size unchanged."""
    files = [os.path.join(root, f) for root, _, names in os.walk(os.path.join(step_dir, "state"))
             for f in names if os.path.basename(root) == "d"]
    path = max(files, key=os.path.getsize)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(size // 2 - 32)
        old = f.read(64)
        f.seek(size // 2 - 32)
        f.write(bytes(b ^ 0x5A for b in old))
    assert os.path.getsize(path) == size


@pytest.fixture
def two_steps(tmp_path):
    directory = str(tmp_path / "checkpoints")
    ckpt = Checkpointer(directory, every_steps=1)
    ckpt.save(1, _state(1, 0), META)
    ckpt.save(2, _state(2, 1), META)
    ckpt.close()
    return directory


@pytest.mark.parametrize("read", ["restore_latest", "load_variables"])
def test_bytes_overwritten_in_place_are_detected_and_the_step_skipped(two_steps, tmp_path, read):
    _flip_middle_of_largest_data_file(os.path.join(two_steps, "2"))
    raw = ocp.StandardCheckpointer().restore(os.path.join(two_steps, "2", "state"))  # orbax alone: silent
    assert not np.array_equal(raw["params"]["w"], np.asarray(_state(2, 1).params["w"]))
    with pytest.warns(RuntimeWarning, match=r"checkpoints/2 is unreadable \(CorruptCheckpointError: .*array "
                                            r"'params/w' does not match the sha256"):
        if read == "restore_latest":
            got, meta = Checkpointer(two_steps).restore_latest()
        else:
            got, meta = load_variables(two_steps)
    np.testing.assert_array_equal(got["params"]["w"], np.asarray(_state(1, 0).params["w"]))  # step 1's
    assert meta == META and os.path.isdir(os.path.join(two_steps, "2.corrupt"))


def test_an_explicit_corrupt_step_is_an_error_naming_the_array(two_steps):
    _flip_middle_of_largest_data_file(os.path.join(two_steps, "2"))
    with pytest.raises(ValueError, match=r"checkpoints/2: array 'params/w' does not match"):
        load_variables(two_steps, step=2)


def test_a_step_without_checksums_is_read_with_a_warning(two_steps):
    shutil.rmtree(os.path.join(two_steps, "2", "checksums"))  # as written before checksums existed
    with pytest.warns(RuntimeWarning, match="no recorded checksums"):
        variables, _ = load_variables(two_steps)
    np.testing.assert_array_equal(variables["params"]["w"], np.asarray(_state(2, 1).params["w"]))


def test_a_non_finite_state_is_never_written(tmp_path):
    ckpt = Checkpointer(str(tmp_path / "checkpoints"), every_steps=1)
    state = _state(3, 0)
    bad = state.replace(params={"w": state.params["w"].at[5, 7].set(jnp.nan)})
    with pytest.raises(NonFiniteStateError, match=r"step 3: array 'params/w' holds 1 NaN/inf"):
        ckpt.save(3, bad, META)
    assert ckpt.steps() == []
    assert ckpt.save(4, state, META) and ckpt.steps() == [4]


@pytest.mark.parametrize("kw, match", [({"every_steps": 0}, "every_steps: expected an integer >= 1, got 0"),
                                       ({"keep": -1}, "keep: expected an integer >= 1, got -1"),
                                       ({"every_steps": 2.5}, "every_steps: expected an integer >= 1, got 2.5")])
def test_bad_checkpointer_options_are_named(tmp_path, kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Checkpointer(str(tmp_path), **kw)


def test_a_checkpoint_saved_on_4_devices_restores_without_a_target_on_1(tmp_path):
    """Raw restore (no target state) on another device count gives host arrays; it must not mistake the
    step for a corrupt one and move it aside."""
    import subprocess
    import sys

    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    mesh = Mesh(np.array(jax.devices()[:4]), ("data",))
    state = _state(3, 2)
    state = state.replace(params={"w": jax.device_put(state.params["w"], NamedSharding(mesh, P("data")))})
    directory = str(tmp_path / "checkpoints")
    ckpt = Checkpointer(directory, every_steps=1)
    ckpt.save(3, state, META)
    ckpt.close()
    np.save(tmp_path / "w.npy", np.asarray(state.params["w"]))
    code = ("import warnings, sys, numpy as np; warnings.simplefilter('error', RuntimeWarning)\n"
            "from transel_jax.train.checkpoint import Checkpointer\n"
            f"tree, meta = Checkpointer({directory!r}).restore_latest()\n"
            f"assert meta['model'] == 'tiny_test' and int(tree['step']) == 3, meta\n"
            f"assert np.array_equal(np.asarray(tree['params']['w']), np.load({str(tmp_path / 'w.npy')!r}))\n"
            "print('ok')\n")
    env = one_device_env()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:]
    assert sorted(os.listdir(directory)) == ["3"]  # nothing moved aside
