"""The SPMD step: 4 devices == 1 device, synchronized BatchNorm, void pixels, batch-size checks."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

from tiny_segmenter import TinySegmenter, block_batch
from transel_jax.train import distributed
from transel_jax.train.optim import make_optimizer
from transel_jax.train.schedules import make_schedule
from transel_jax.train.state import create_state
from transel_jax.train.step import make_train_step

K, B = 4, 8


@pytest.fixture(scope="module")
def model():
    return TinySegmenter(K, axis_name="data")


@pytest.fixture(scope="module")
def tx():
    return make_optimizer(make_schedule("constant", 0.1, 10), momentum=0.9, weight_decay=1e-3)


@pytest.fixture(scope="module")
def init_state(model, tx):
    images = jnp.zeros((1, 16, 16, 3))
    variables = TinySegmenter(K).init(jax.random.PRNGKey(0), images, train=False)
    return jax.device_get(create_state(variables, tx, jax.random.PRNGKey(1)))  # host copy: steps donate


def uneven_void_batch(step):
    """A block batch whose devices (2 examples each on 4 devices) hold very different void counts."""
    batch = block_batch(seed=3, step=step, batch_size=B, num_classes=K)
    batch["label"][:2, :12] = 0  # the first device's shard is mostly void
    return batch


def run_steps(model, tx, state, mesh, n_steps=2):
    step = make_train_step(model, tx, mesh, global_batch_size=B)
    state = distributed.replicate(state, mesh)
    losses = []
    for i in range(n_steps):
        state, metrics = step(state, distributed.shard_batch(uneven_void_batch(i), mesh))
        losses.append(float(metrics["loss"]))
    return jax.device_get(state), losses


def test_four_devices_equal_one_device_on_the_same_global_batch(model, tx, init_state):
    assert jax.device_count() == 4
    four, loss4 = run_steps(model, tx, init_state, distributed.make_mesh())
    one, loss1 = run_steps(model, tx, init_state, distributed.make_mesh(jax.devices()[:1]))
    np.testing.assert_allclose(loss4, loss1, rtol=1e-5)
    for name in ("params", "batch_stats", "opt_state"):
        a, b = jax.tree.leaves(getattr(four, name)), jax.tree.leaves(getattr(one, name))
        assert len(a) == len(b) > 0
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, atol=1e-5, rtol=1e-5, err_msg=name)
    # and the step really changed the parameters and statistics
    moved = [np.abs(x - y).max() for x, y in zip(jax.tree.leaves(four.params),
                                                   jax.tree.leaves(init_state.params))]
    assert min(moved) > 0
    assert int(four.step) == 2


def _bn_stats_per_device(model, variables, images, mesh):
    """Batch statistics each device computes in train mode, stacked [n_dev, ...]."""
    def per_device(v, x):
        _, upd = model.apply(v, x, train=True, mutable=["batch_stats"])
        return jax.tree.map(lambda a: a[None], upd["batch_stats"])
    fn = jax.shard_map(per_device, mesh=mesh, in_specs=(P(), P("data")), out_specs=P("data"),
                       check_vma=False)
    return jax.device_get(jax.jit(fn)(variables, images))


def test_synchronized_batchnorm_equals_global_batch_statistics(init_state):
    mesh = distributed.make_mesh()
    batch = block_batch(seed=5, step=0, batch_size=B, num_classes=K)
    images = batch["image"] * np.linspace(0.2, 3.0, B)[:, None, None, None]  # devices see different scales
    images = images.astype(np.float32)
    variables = {"params": init_state.params, "batch_stats": init_state.batch_stats}
    local = _bn_stats_per_device(TinySegmenter(K), variables, images, mesh)
    synced = _bn_stats_per_device(TinySegmenter(K, axis_name="data"), variables, images, mesh)
    _, upd = TinySegmenter(K).apply(variables, images, train=True, mutable=["batch_stats"])
    global_stats = jax.device_get(upd["batch_stats"])
    for loc, syn, glob in zip(jax.tree.leaves(local), jax.tree.leaves(synced), jax.tree.leaves(global_stats)):
        assert loc.shape[0] == 4
        assert np.abs(loc[0] - loc[3]).max() > 1e-3  # unsynchronized: devices disagree
        for d in range(4):
            np.testing.assert_allclose(syn[d], glob, rtol=1e-5, atol=1e-6)


def test_void_pixels_contribute_no_gradient(model, tx, init_state):
    mesh = distributed.make_mesh()
    state = distributed.replicate(init_state, mesh)
    batch = block_batch(seed=1, step=0, batch_size=B, num_classes=K)
    batch["label"][:] = 0
    step = make_train_step(model, tx, mesh, global_batch_size=B)
    _, metrics = step(state, distributed.shard_batch(batch, mesh))
    assert float(metrics["grad_norm"]) == 0.0
    assert float(metrics["loss"]) == 0.0


def test_batch_not_dividing_across_devices_is_rejected_before_compiling(model, tx):
    mesh = distributed.make_mesh()
    with pytest.raises(ValueError, match="global_batch_size.*4 devices.*got 6"):
        make_train_step(model, tx, mesh, global_batch_size=6)


def test_step_rejects_a_batch_of_the_wrong_size(model, tx, init_state):
    mesh = distributed.make_mesh()
    step = make_train_step(model, tx, mesh, global_batch_size=B)
    batch = block_batch(seed=1, step=0, batch_size=4, num_classes=K)
    with pytest.raises(ValueError, match="global batch of 8 examples, got 4"):
        step(distributed.replicate(init_state, mesh), distributed.shard_batch(batch, mesh))


def test_frozen_backbone_changes_only_the_head(model, init_state):
    mesh = distributed.make_mesh()
    tx = make_optimizer(make_schedule("constant", 0.1, 10), weight_decay=1e-3, freeze_backbone=True)
    state = jax.device_get(create_state({"params": init_state.params, "batch_stats": init_state.batch_stats},
                                        tx, jax.random.PRNGKey(0)))
    step = make_train_step(model, tx, mesh, global_batch_size=B, freeze_backbone=True)
    new, _ = step(distributed.replicate(state, mesh),
                  distributed.shard_batch(block_batch(seed=2, step=0, batch_size=B, num_classes=K), mesh))
    new = jax.device_get(new)
    for a, b in zip(jax.tree.leaves(new.params["backbone"]), jax.tree.leaves(init_state.params["backbone"])):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(jax.tree.leaves(new.batch_stats), jax.tree.leaves(init_state.batch_stats)):
        np.testing.assert_array_equal(a, b)
    assert np.abs(new.params["head"]["kernel"] - init_state.params["head"]["kernel"]).max() > 0


def test_bfloat16_compute_keeps_float32_master_weights(tx, init_state):
    mesh = distributed.make_mesh()
    model = TinySegmenter(K, axis_name="data", dtype=jnp.bfloat16)
    step = make_train_step(model, tx, mesh, global_batch_size=B)
    batch = block_batch(seed=4, step=0, batch_size=B, num_classes=K)
    new, metrics = step(distributed.replicate(init_state, mesh), distributed.shard_batch(batch, mesh))
    new = jax.device_get(new)
    assert all(x.dtype == np.float32 for x in jax.tree.leaves(new.params))
    # same loss as float32 up to bfloat16 rounding, and a small float32 update was not rounded away
    _, metrics32 = make_train_step(TinySegmenter(K, axis_name="data"), tx, mesh, global_batch_size=B)(
        distributed.replicate(init_state, mesh), distributed.shard_batch(batch, mesh))
    np.testing.assert_allclose(float(metrics["loss"]), float(metrics32["loss"]), rtol=3e-2)
    delta = np.abs(new.params["head"]["bias"] - init_state.params["head"]["bias"])
    assert 0 < delta.max() < 1.0
