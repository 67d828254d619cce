"""Fine-tuning starts from exactly the source backbone and a fresh head for the target classes."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tiny_segmenter import TinySegmenter
from transel_jax.transfer import transplant_backbone


def init(k, seed, width=8):
    return jax.device_get(TinySegmenter(k, width=width).init(jax.random.PRNGKey(seed), jnp.zeros((1, 16, 16, 3))))


def perturbed_stats(variables, seed):
    """Give the source non-default BN running statistics so copying them is observable."""
    rng = np.random.default_rng(seed)
    stats = jax.tree.map(lambda a: a + rng.normal(size=a.shape).astype(a.dtype), variables["batch_stats"])
    return {**variables, "batch_stats": stats}


def test_backbone_copied_exactly_and_nothing_of_the_old_head():
    source = perturbed_stats(init(7, seed=1), seed=0)
    target = init(3, seed=2)
    out = transplant_backbone(source, target)
    for col in ("params", "batch_stats"):
        src, got = jax.tree.leaves(source[col]["backbone"]), jax.tree.leaves(out[col]["backbone"])
        assert len(src) == len(got) > 0
        for a, b in zip(src, got):
            np.testing.assert_array_equal(a, b)
    assert jax.tree.structure(out) == jax.tree.structure(target)
    for a, b in zip(jax.tree.leaves(out["params"]["head"]), jax.tree.leaves(target["params"]["head"])):
        np.testing.assert_array_equal(a, b)  # the target's fresh head, for 3 classes
    assert out["params"]["head"]["kernel"].shape[-1] == 3
    # the copy is a copy: mutating it leaves the source alone
    leaf = jax.tree.leaves(out["params"]["backbone"])[0]
    leaf += 1.0
    assert not np.array_equal(leaf, jax.tree.leaves(source["params"]["backbone"])[0])


def test_fine_tuned_model_reproduces_source_features():
    source = perturbed_stats(init(7, seed=1), seed=0)
    out = transplant_backbone(source, init(3, seed=2))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 16, 16, 3)), jnp.float32)
    _, f_src = TinySegmenter(7).apply(source, x, return_features=True)
    _, f_out = TinySegmenter(3).apply(out, x, return_features=True)
    np.testing.assert_array_equal(np.asarray(f_src), np.asarray(f_out))


def test_backbone_of_another_architecture_names_both():
    with pytest.raises(ValueError, match="backbone of 'wide' does not match the backbone of 'narrow'"):
        transplant_backbone(init(4, 0, width=16), init(4, 0, width=8), source_name="wide", target_name="narrow")
    with pytest.raises(ValueError, match="source_variables"):
        transplant_backbone({"params": {"encoder": {}}}, init(4, 0))
