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


def test_minibatch_fits_on_subsets_of_one_z_share_one_compiled_step_and_equal_fits_on_copies():
    """The folds of a cross-validation index one device copy of the member logits: with minibatches
    (n > batch_pixels) every fold runs the one compiled step, and each fold's head is bit for bit the head
    fitted on a copy of its pixels (the public path)."""
    from transel_jax.transfer import ensemble_head

    z, y = informative_and_noise_members(n=300)
    programs = ensemble_head._head_programs(2, 4, 0.05)
    zd, yd = jnp.asarray(z), jnp.asarray(y, jnp.int32)
    before = programs[2]._cache_size()
    for fold in range(3):
        pixels = np.flatnonzero(np.arange(300) % 3 != fold)
        shared = ensemble_head._fit(zd, yd, pixels, steps=4, learning_rate=0.05, batch_pixels=64, seed=1)[0]
        copied = fit_ensemble_head(z[pixels], y[pixels], steps=4, batch_pixels=64, seed=1)[0]["params"]
        for a, b in zip(jax.tree.leaves(shared), jax.tree.leaves(copied)):
            np.testing.assert_array_equal(np.asarray(a), b)
    # one program for the shared z, one for the copies (their z has another shape): not one per fold
    assert programs[2]._cache_size() - before <= 2


def test_bad_inputs_are_named():
    z, y = informative_and_noise_members(n=10)
    with pytest.raises(ValueError, match="class_index"):
        fit_ensemble_head(z, y + 4)
    with pytest.raises(ValueError, match="member_logits"):
        fit_ensemble_head(z[:, 0], y)
    from transel_jax.transfer.ensemble_head import cross_validate_head

    image = np.arange(10) % 5
    for bad_z, bad_y, name in ((z, y + 4, "class_index"), (z[:, 0], y, "member_logits")):
        with pytest.raises(ValueError, match=name):  # before any fold is fitted or image read
            cross_validate_head(bad_z, bad_y, image, read_images=None, num_images=5)


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
    with pytest.raises(ValueError, match="target_source: cross-validation .* got an image array"):
        train_ensemble_head([str(tmp_path / "m0"), str(tmp_path / "m1")], batch["image"], info, sample,
                            steps=1, folds=2, build=build)


@pytest.mark.parametrize("cv,kept", [({"head": 0.2, "average": 0.3}, "average"),
                                     ({"head": 0.4, "average": 0.3}, "head")])
def test_cross_validation_decides_between_the_head_and_the_plain_average(tmp_path, monkeypatch, cv, kept):
    from transel_jax.transfer import ensemble_head

    k = 4
    for i in range(2):
        save_member(str(tmp_path / f"m{i}"), seed=i, k=k)
    batch = block_batch(seed=0, step=0, batch_size=4, num_classes=k)
    images = np.clip(batch["image"] * 40 + 128, 0, 255).astype(np.uint8)
    source = [{"image": im, "label": lab} for im, lab in zip(images, batch["label"])]
    img, row, col = np.nonzero(batch["label"])
    sample = types.SimpleNamespace(image=img.astype(np.int32), row=row.astype(np.int32), col=col.astype(np.int32),
                                   labels=batch["label"][img, row, col])
    info = types.SimpleNamespace(num_classes=k, name="blocks", mean=(128,) * 3, std=(40,) * 3,
                                 resolution=images.shape[1:3])
    seen = {}

    def fake_cv(z, y, image, read_images, num_images, **kw):  # CV numerics are tested above; here the decision
        maps, labels = read_images(np.arange(num_images))
        seen.update(maps=maps, labels=labels, folds=kw["folds"])
        return {**cv, "folds": kw["folds"]}

    monkeypatch.setattr(ensemble_head, "cross_validate_head", fake_cv)
    result = train_ensemble_head([str(tmp_path / "m0"), str(tmp_path / "m1")], source, info, sample, steps=5,
                                 folds=2, build=lambda name, num_classes: TinySegmenter(num_classes))
    assert seen["folds"] == 2 and len(seen["maps"]) == 2 and seen["maps"][0].shape[0] == len(source)
    np.testing.assert_array_equal(seen["labels"], batch["label"])
    assert result.kept == kept and result.cv_miou["head"] == cv["head"]
    identity = ensemble_head.identity_head(2, k)["params"]
    chosen = result.variables["params"]
    if kept == "average":
        assert all(np.array_equal(chosen[n], identity[n]) for n in identity)
    else:
        assert chosen is result.trained["params"]
    assert not np.array_equal(result.trained["params"]["bias"], identity["bias"])  # the head did train


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


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def cv_task(seed=0, t=10, k=3):
    """Two members on t images of 4x5 pixels: member 0 informative, member 1 noise; stride = full size."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k + 1, size=(t, 4, 5))  # 0 = void
    onehot = np.eye(k)[np.clip(labels - 1, 0, k - 1)]
    maps = [(3.0 * onehot + rng.normal(size=onehot.shape)).astype(np.float32),
            (2.0 * rng.normal(size=onehot.shape)).astype(np.float32)]
    img, row, col = np.nonzero(labels)
    z = np.stack([m[img, row, col] for m in maps], axis=1)  # [n, S, K] at every non-void pixel
    return z, labels[img, row, col] - 1, img, maps, labels


def test_cross_validation_matches_a_fold_by_fold_numpy_reference():
    from transel_jax.transfer.ensemble_head import cross_validate_head
    from transel_reference import ref_miou

    z, y, img, maps, labels = cv_task()
    folds, fit = 3, dict(steps=40, learning_rate=0.05, seed=1)
    reads = []

    def read_images(idx):
        reads.append(idx.tolist())
        return [m[idx] for m in maps], labels[idx]

    got = cross_validate_head(z, y, img, read_images, labels.shape[0], folds=folds, images_per_read=2, **fit)
    assert sorted(sum(reads, [])) == list(range(labels.shape[0])) and max(map(len, reads)) == 2  # each once
    k = z.shape[2]
    head_pred = np.zeros(labels.shape, np.int64)
    for f in range(folds):
        held = np.arange(labels.shape[0]) % folds == f
        w = fit_ensemble_head(z[~held[img]], y[~held[img]], **fit)[0]["params"]
        w, b = (np.asarray(w[n], np.float64) for n in ("weight", "bias"))
        probs = np.mean([_softmax(w[s] * maps[s][held].astype(np.float64) + b[s]) for s in range(2)], axis=0)
        head_pred[held] = np.argmax(probs, -1)
    average = np.argmax(np.mean([_softmax(m.astype(np.float64)) for m in maps], axis=0), -1)
    assert got["folds"] == folds
    assert got["average"] == pytest.approx(ref_miou(labels, average, k), abs=1e-9)
    assert got["head"] == pytest.approx(ref_miou(labels, head_pred, k), abs=1e-9)
    assert got["head"] > got["average"]  # the head learns to ignore the noise member


def test_cross_validation_rejects_bad_folds_and_images():
    from transel_jax.transfer.ensemble_head import cross_validate_head

    z, y, img, maps, labels = cv_task(t=4)
    read = lambda idx: ([m[idx] for m in maps], labels[idx])  # noqa: E731
    with pytest.raises(ValueError, match="folds: expected at most the 4 training images, got 5"):
        cross_validate_head(z, y, img, read, 4, folds=5)
    with pytest.raises(ValueError, match="folds: expected an integer >= 2"):
        cross_validate_head(z, y, img, read, 4, folds=1)
    with pytest.raises(ValueError, match="image: expected int"):
        cross_validate_head(z, y, img + 4, read, 4, folds=2)
