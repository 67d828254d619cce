"""Ensemble head training on cached member scores: NLL reference, learning, member caching."""
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tiny_segmenter import TinySegmenter, block_batch
from transel_jax.train.checkpoint import Checkpointer, make_meta
from transel_jax.train.optim import make_optimizer
from transel_jax.train.schedules import make_schedule
from transel_jax.train.state import create_state
from transel_jax.transfer import fit_ensemble_head, predict_at_pixels, train_ensemble_head


def reference_nll(z, y, w=None, b=None):
    z = np.asarray(z, np.float64)
    n, s, k = z.shape
    w = np.ones((s, k)) if w is None else np.asarray(w, np.float64)
    b = np.zeros((s, k)) if b is None else np.asarray(b, np.float64)
    total = 0.0
    for i in range(n):
        p = 0.0
        for m in range(s):
            a = w[m] * z[i, m] + b[m]
            e = np.exp(a - a.max())
            p += e[y[i]] / e.sum() / s
        total -= np.log(p)
    return total / n


def informative_and_noise_members(n=400, k=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    good = 2.0 * np.eye(k)[y] + rng.normal(size=(n, k))
    noise = 3.0 * rng.normal(size=(n, k))
    return np.stack([good, noise], axis=1).astype(np.float32), y


def test_head_learns_to_trust_the_informative_member():
    z, y = informative_and_noise_members()
    variables, losses, initial, final = fit_ensemble_head(z, y, steps=200, learning_rate=0.05)
    np.testing.assert_allclose(initial, reference_nll(z, y), rtol=1e-5)  # init = plain average
    w, b = variables["params"]["weight"], variables["params"]["bias"]
    assert w.shape == b.shape == (2, 4)
    np.testing.assert_allclose(final, reference_nll(z, y, w, b), rtol=1e-5)
    assert final < initial - 0.1
    assert losses[-1] < losses[0]
    assert np.mean(w[0]) > np.mean(np.abs(w[1]))  # the good member gets the larger weights


def test_minibatches_are_deterministic_in_the_seed():
    z, y = informative_and_noise_members(n=300)
    a = fit_ensemble_head(z, y, steps=5, batch_pixels=64, seed=3)[0]
    b = fit_ensemble_head(z, y, steps=5, batch_pixels=64, seed=3)[0]
    for x1, x2 in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x1, x2)


def test_bad_inputs_are_named():
    z, y = informative_and_noise_members(n=10)
    with pytest.raises(ValueError, match="class_index"):
        fit_ensemble_head(z, y + 4)
    with pytest.raises(ValueError, match="member_logits"):
        fit_ensemble_head(z[:, 0], y)


def save_member(directory, seed, k):
    model = TinySegmenter(k)
    variables = model.init(jax.random.PRNGKey(seed), jnp.zeros((1, 16, 16, 3)))
    tx = make_optimizer(make_schedule("constant", 0.1, 1))
    ckpt = Checkpointer(directory)
    ckpt.save(1, create_state(variables, tx, jax.random.PRNGKey(0)), make_meta("tiny_test", k), force=True)
    ckpt.close()
    return model, variables


def test_train_from_member_checkpoints_caches_member_logits(tmp_path):
    k = 4
    members = [save_member(str(tmp_path / f"m{i}"), seed=i, k=k) for i in range(2)]
    batch = block_batch(seed=0, step=0, batch_size=4, num_classes=k)
    rng = np.random.default_rng(1)
    img, row, col = np.nonzero(batch["label"])
    pick = rng.choice(len(img), 200, replace=False)
    sample = types.SimpleNamespace(image=img[pick].astype(np.int32), row=row[pick].astype(np.int32),
                                   col=col[pick].astype(np.int32), labels=batch["label"][img[pick], row[pick], col[pick]])
    info = types.SimpleNamespace(num_classes=k, name="blocks", mean=(0, 0, 0), std=(1, 1, 1))
    build = lambda name, num_classes: TinySegmenter(num_classes)  # noqa: E731
    result = train_ensemble_head([str(tmp_path / "m0"), str(tmp_path / "m1")], batch["image"], info, sample,
                                 steps=30, build=build)
    # the cached scores are the members' own logits at those pixels: the initial NLL is the average's
    probs = [predict_at_pixels(m, v, batch["image"], sample, batch_size=4)[0] for m, v in members]
    avg = np.mean(probs, axis=0)
    want = -np.mean(np.log(avg[np.arange(200), sample.labels - 1]))
    np.testing.assert_allclose(result.initial_nll, want, rtol=1e-5)
    assert result.final_nll < result.initial_nll
    assert result.members == [str(tmp_path / "m0"), str(tmp_path / "m1")]
    with pytest.raises(ValueError, match="has 4 classes, expected the 5 classes"):
        train_ensemble_head([str(tmp_path / "m0")], batch["image"],
                            types.SimpleNamespace(num_classes=5, name="x", mean=(0,) * 3, std=(1,) * 3),
                            sample, steps=1, build=build)


def test_ensemble_segmenter_predicts_the_heads_argmax_and_evaluates():
    from transel_jax.train.evaluate import evaluate
    from transel_jax.models import EnsembleSegmenter, ensemble_variables

    k = 4
    members = [TinySegmenter(k), TinySegmenter(k)]
    member_vars = [m.init(jax.random.PRNGKey(s), jnp.zeros((1, 16, 16, 3))) for s, m in enumerate(members)]
    rng = np.random.default_rng(0)
    head = {"params": {"weight": rng.uniform(0.5, 2, (2, k)).astype(np.float32),
                       "bias": rng.normal(size=(2, k)).astype(np.float32)}}
    model = EnsembleSegmenter(tuple(members), k)
    variables = ensemble_variables(member_vars, head, k)
    batch = block_batch(seed=3, step=0, batch_size=4, num_classes=k)
    log_p = np.asarray(model.apply(variables, batch["image"]))
    # float64 reference: (1/S) sum_s softmax(w[s] * z_s + b[s])
    want = 0.0
    for s, (m, v) in enumerate(zip(members, member_vars)):
        w, b = head["params"]["weight"][s], head["params"]["bias"][s]
        a = np.asarray(m.apply(v, batch["image"]), np.float64) * w + b
        e = np.exp(a - a.max(-1, keepdims=True))
        want = want + e / e.sum(-1, keepdims=True) / 2
    np.testing.assert_allclose(np.exp(log_p), want, atol=1e-5)
    result = evaluate(model, variables, [batch], num_classes=k)
    labels, pred = batch["label"], want.argmax(-1)
    keep = labels > 0
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (labels[keep] - 1, pred[keep]), 1)
    np.testing.assert_array_equal(result.confusion, cm)
    with pytest.raises(ValueError, match="head_variables"):
        ensemble_variables(member_vars, head, k + 1)
