"""The pruned IoU pass gives the dense pass's statistics exactly: random, flat, peaked inputs and ties."""
import numpy as np
import pytest

from transel_jax.ensembles import score_ensembles, scorer

N, n, C = 6, 200, 5


def _pool(kind, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, C, n)
    if kind == "random":
        eep = rng.dirichlet(np.ones(C), size=(N, n))
    elif kind == "flat":  # near-uniform rows: almost nothing can be certified
        eep = np.full((N, n, C), 1.0 / C) + rng.normal(0, 1e-6, (N, n, C))
    elif kind in ("peaked", "mixed"):  # trained-model-like: the predicted class boosted by 3-7
        logits = rng.standard_normal((N, n, C))
        hit = rng.random((N, n)) < 0.7
        pred = np.where(hit, labels, rng.integers(0, C, (N, n)))
        np.put_along_axis(logits, pred[..., None], rng.uniform(3, 7, (N, n, 1)), axis=2)
        eep = np.exp(logits)
        if kind == "mixed":  # a fifth of the pixels near-uniform in every source
            flat = rng.random(n) < 0.2
            eep[:, flat] = 1.0 + rng.normal(0, 1e-6, (N, int(flat.sum()), C))
    else:  # "ties": one-hot members that disagree, and duplicated sources
        eep = np.eye(C)[rng.integers(0, C, (N, n))]
        eep[3] = eep[0]
    eep = eep / eep.sum(-1, keepdims=True)
    return eep.astype(np.float32), labels


@pytest.mark.parametrize("kind", ["random", "flat", "peaked", "mixed", "ties"])
@pytest.mark.parametrize("top_k", [1, 2])
def test_pruned_equals_dense(kind, top_k, monkeypatch):
    eep, labels = _pool(kind)
    items = []
    original = scorer._dense_pixels

    def spy(chunk, cls, weights, members, rows, blocks, bits, *args):
        items.append(int(np.unpackbits(bits.astype("<u4").view(np.uint8)).sum()))
        return original(chunk, cls, weights, members, rows, blocks, bits, *args)

    monkeypatch.setattr(scorer, "_dense_pixels", spy)
    kw = dict(progress=False, pixel_chunk=64)
    dense = score_ensembles(eep, labels, 3, iou_pass="dense", **kw)
    pruned = score_ensembles(eep, labels, 3, iou_pass="pruned", top_k=top_k, **kw)
    for name in dense.metrics:
        np.testing.assert_allclose(pruned.scores[name], dense.scores[name], rtol=1e-6, atol=2e-6, err_msg=name)
    total = len(dense) * n  # (ensemble, pixel) pairs
    sent = sum(items)  # uncertified pixels sent to the dense fallback
    if kind == "peaked":  # (almost) every pixel certified: few or none go to the dense fallback
        assert sent < 0.05 * total
    if kind == "mixed":  # both paths contribute (a fifth of the pixels are flat in every source)
        assert 0.15 * total < sent < 0.95 * total
    if kind == "flat":  # near-ties are not certified
        assert sent > 0.5 * total
    if kind == "ties":  # every exactly tied (ensemble, pixel) goes to the fallback
        e = dense.ensembles
        x = eep[e[:, 0]] + eep[e[:, 1]] + eep[e[:, 2]]  # float32 sums in member order, as the engine takes them
        tied = int(((x == x.max(axis=-1, keepdims=True)).sum(axis=-1) > 1).sum())
        assert 0 < tied <= sent


@pytest.mark.xla_optimized
def test_pruned_hard_counts_are_identical():
    """IoU-EEP from integer counts: pruned and dense agree to the last bit of the final score."""
    eep, labels = _pool("peaked", seed=3)
    a = score_ensembles(eep, labels, 2, metrics="iou_eep", iou_pass="dense", progress=False)
    b = score_ensembles(eep, labels, 2, metrics="iou_eep", iou_pass="pruned", progress=False)
    np.testing.assert_array_equal(a.scores["iou_eep"], b.scores["iou_eep"])


@pytest.mark.xla_optimized
@pytest.mark.parametrize("kind", ["peaked", "mixed", "ties"])
def test_pair_table_and_gather_lookups_give_the_same_statistics_bit_for_bit(kind, monkeypatch):
    """The pair table holds the same float32 values the gather reads, summed in the same order."""
    from transel_jax.ensembles import pruned

    eep, labels = _pool(kind, seed=5)
    kw = dict(progress=False, pixel_chunk=64, iou_pass="pruned", top_k=2)
    assert pruned.use_pair_table(N, 2, 64)
    table = score_ensembles(eep, labels, 3, **kw)
    monkeypatch.setattr(pruned, "PAIR_TABLE_BYTES", 0)  # too small for any table: the gather path
    assert not pruned.use_pair_table(N, 2, 64)
    gather = score_ensembles(eep, labels, 3, **kw)
    for name in table.metrics:
        np.testing.assert_array_equal(table.scores[name], gather.scores[name], err_msg=name)


@pytest.mark.parametrize("probe", [7, 512])  # a sample of the 20 ensembles / all of them
def test_auto_decides_per_class_from_a_sample_of_ensembles(probe, monkeypatch):
    """Classes of peaked pixels go to the pruned pass, classes of flat pixels to the dense pass, and the
    scores equal the dense pass's."""
    monkeypatch.setattr(scorer, "_PROBE_ENSEMBLES", probe)
    rng = np.random.default_rng(7)
    num_classes, num_pixels = scorer.PRUNED_MIN_CLASSES, 640
    labels = rng.integers(0, num_classes, num_pixels)
    logits = rng.standard_normal((N, num_pixels, num_classes))
    np.put_along_axis(logits, labels[None, :, None].repeat(N, 0), 8.0, axis=2)  # every source right, confident
    eep = np.exp(logits)
    flat = labels >= num_classes // 2  # the upper half of the classes: near-uniform rows
    eep[:, flat] = 1.0 + rng.normal(0, 1e-6, (N, int(flat.sum()), num_classes))
    eep = (eep / eep.sum(-1, keepdims=True)).astype(np.float32)
    shares, fallback = [], []
    share = scorer._uncertified_share
    monkeypatch.setattr(scorer, "_uncertified_share", lambda bits, w: shares.append(share(bits, w)) or shares[-1])
    dense_pixels = scorer._dense_pixels
    monkeypatch.setattr(scorer, "_dense_pixels", lambda *a: fallback.append(a[1]) or dense_pixels(*a))
    kw = dict(progress=False, pixel_chunk=64)
    auto = score_ensembles(eep, labels, 3, iou_pass="auto", **kw)
    dense = score_ensembles(eep, labels, 3, iou_pass="dense", **kw)
    for name in dense.metrics:
        np.testing.assert_allclose(auto.scores[name], dense.scores[name], rtol=1e-6, atol=2e-6, err_msg=name)
    assert len(shares) == len(np.unique(labels))  # one probe per class (on its first chunk)
    low = [s for s in shares if s <= scorer.DENSE_SWITCH]
    assert len(low) == len(np.unique(labels[~flat]))
    assert all(s > 0.5 for s in shares if s > scorer.DENSE_SWITCH)  # the flat chunks: nothing certified
    assert all(cls < num_classes // 2 for cls in fallback)  # no flat chunk went through the pruned pass


def test_fallback_in_slices_of_pairs_and_calls_of_items(monkeypatch):
    """A flat pool leaves (almost) every pixel uncertified: with 3 pairs unpacked at a time and 256 items
    per call, the fallback runs in many pieces, and still gives the dense pass's statistics."""
    monkeypatch.setattr(scorer, "_PAIRS", 3)
    monkeypatch.setattr(scorer, "_ITEMS", 256)
    eep, labels = _pool("flat", seed=2)
    kw = dict(progress=False, pixel_chunk=64)
    dense = score_ensembles(eep, labels, 3, iou_pass="dense", **kw)
    pruned = score_ensembles(eep, labels, 3, iou_pass="pruned", **kw)
    for name in dense.metrics:
        np.testing.assert_allclose(pruned.scores[name], dense.scores[name], rtol=1e-6, atol=2e-6, err_msg=name)
