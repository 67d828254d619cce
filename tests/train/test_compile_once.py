"""Per-model overhead: the train step, the eval step and the init are traced once per architecture,
class count and recipe, not once per model or twice per run.

A model's ``__call__`` runs in Python only while jax traces it, so counting its calls counts traces.
"""
import collections

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tiny_segmenter import TinySegmenter, block_batch, block_batches
from transel_jax import models
from transel_jax.train import distributed, phases
from transel_jax.train.checkpoint import make_meta
from transel_jax.train.evaluate import evaluate
from transel_jax.train.init import init_model
from transel_jax.train.trainer import train

K, B = 3, 4
TRACES = collections.Counter()


class CountingSegmenter(TinySegmenter):
    """TinySegmenter counting its traces per mode in TRACES[(width, train)]."""

    def __call__(self, images, train: bool = False, return_features: bool = False):
        TRACES[(self.width, train)] += 1
        return super().__call__(images, train, return_features)


def hparams(steps):
    return {"global_batch_size": B, "steps": steps, "base_lr": 0.05, "schedule": "poly", "warmup_steps": 0,
            "momentum": 0.9, "weight_decay": 1e-4, "seed": 0}


def run(width, steps, workdir, mesh):
    model = CountingSegmenter(K, width=width, axis_name="data")
    variables = TinySegmenter(K, width=width).init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)))
    return train(model, variables, block_batches(1, B, num_classes=K), hparams=hparams(steps),
                 ckpt={"every_steps": 100, "keep": 1}, workdir=str(workdir), meta=make_meta("tiny", K),
                 log_every=2, mesh=mesh)


@pytest.mark.parametrize("devices", [1, 4])
def test_train_step_traced_once_per_architecture_and_recipe(tmp_path, devices):
    mesh = distributed.make_mesh(jax.devices()[:devices])
    width = 3 + devices  # a width of its own per case: nothing traced by another test
    phases.reset()
    run(width, 3, tmp_path / "a", mesh)
    spent = phases.totals()
    assert {"state", "compile", "steps", "data", "checkpoint"} <= set(spent)
    assert spent["compile"] > 0 and spent["checkpoint"] > 0
    # once, also on one device, where the initial state must already carry the step's output sharding
    assert TRACES[(width, True)] == 1
    run(width, 3, tmp_path / "b", mesh)  # another model, equal architecture and recipe
    assert TRACES[(width, True)] == 1
    run(width, 4, tmp_path / "c", mesh)  # another schedule length: another step
    assert TRACES[(width, True)] == 2


def test_eval_step_traced_once_for_equal_models():
    model = CountingSegmenter(K, width=9)
    variables = TinySegmenter(K, width=9).init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)))
    batches = [block_batch(seed=0, step=i, batch_size=B, num_classes=K) for i in range(2)]
    first = evaluate(model, variables, batches, num_classes=K)
    second = evaluate(CountingSegmenter(K, width=9), variables, batches, num_classes=K)
    assert TRACES[(9, False)] == 1
    np.testing.assert_array_equal(first.confusion, second.confusion)


def test_init_equals_the_plain_compiled_init_bit_for_bit():
    """The split init (backbone once per architecture, head per class count) gives exactly the variables
    of ``model.init`` compiled the same way (CPU: no backend optimisation), for two class counts."""
    key = jax.random.PRNGKey(5)
    images = jnp.zeros((1, 32, 32, 3), jnp.float32)
    options = {"xla_backend_optimization_level": 0} if jax.default_backend() == "cpu" else None
    for num_classes in (3, 4):
        model = models.build("resnet_tiny", num_classes, axis_name="data")
        plain = jax.jit(lambda k: model.init(k, images, train=False)).lower(key).compile(compiler_options=options)
        want = jax.device_get(plain(key))
        got = init_model(model, (32, 32), key)
        assert jax.tree.structure(got) == jax.tree.structure(want)
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_relieve_drops_compiled_programs_only_near_the_map_limit(monkeypatch):
    import jax
    import jax.numpy as jnp

    from transel_jax.train import memo

    f = jax.jit(lambda x: jnp.tanh(x) * 2.0)
    f(jnp.ones(5)).block_until_ready()
    assert f._cache_size() == 1
    count = memo.map_count()
    assert count is not None and count > 10  # Linux: /proc/self/maps
    monkeypatch.setattr(memo, "map_limit", lambda: 10 * count)
    assert memo.relieve() is False and f._cache_size() == 1  # far below the limit: nothing dropped
    monkeypatch.setattr(memo, "map_limit", lambda: count)
    assert memo.relieve() is True and f._cache_size() == 0  # above half the limit: every program dropped
    np.testing.assert_array_equal(np.asarray(f(jnp.ones(5))), np.tanh(np.ones(5, np.float32)) * 2.0)
