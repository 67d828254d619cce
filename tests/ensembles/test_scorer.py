"""The batched all-ensembles scorer equals per-ensemble calls; chunking, ties, and input checks."""
import itertools
import math

import numpy as np
import pytest

import transel_reference as ref
from transel_jax.ensembles import all_ensembles, score_ensembles, top_k
from transel_jax.metrics import e_leep, iou_eep, ms_leep, soft_iou_eep

SINGLE = {"ms_leep": ms_leep, "e_leep": e_leep, "iou_eep": iou_eep, "soft_iou_eep": soft_iou_eep}
N, n, C = 6, 90, 4


@pytest.fixture(scope="module")
def pool():
    rng = np.random.default_rng(0)
    eep = rng.dirichlet(np.full(C, 0.4), size=(N, n)).astype(np.float32)
    labels = rng.integers(0, C, n)
    labels[:3] = 3  # make sure every class occurs
    return eep, labels


def _assert_matches_single(result, eep, labels, atol=3e-5):
    for row, members in enumerate(result.ensembles):
        for name in result.metrics:
            expected = float(SINGLE[name](eep[members], labels))
            assert result.scores[name][row] == pytest.approx(expected, abs=atol), (name, members)


def test_all_triples_equal_per_ensemble_calls(pool):
    eep, labels = pool
    result = score_ensembles(eep, labels, 3, pixel_chunk=16, progress=False)  # many chunks, padded ends
    assert result.ensembles.tolist() == [list(c) for c in itertools.combinations(range(N), 3)]
    _assert_matches_single(result, eep, labels)


def test_against_plain_reference_on_a_few_ensembles(pool):
    eep, labels = pool
    result = score_ensembles(eep, labels, 3, progress=False)
    for row in (0, 7, 19):
        expected = ref.ensemble_metrics(eep[result.ensembles[row]], labels)
        for name, value in expected.items():
            assert result.scores[name][row] == pytest.approx(value, abs=3e-5)


@pytest.mark.parametrize("size", [1, N])
def test_extreme_sizes(pool, size):
    eep, labels = pool
    result = score_ensembles(eep, labels, size, progress=False)
    assert len(result) == math.comb(N, size)
    _assert_matches_single(result, eep, labels)


def test_explicit_ensembles_in_given_order_and_vmapped_batches(pool):
    eep, labels = pool
    ens = np.array([[5, 0, 2], [1, 3, 4], [2, 1, 0]])
    result = score_ensembles(eep, labels, ensembles=ens, ensemble_batch=2, pixel_chunk=32, progress=False)
    np.testing.assert_array_equal(result.ensembles, ens)
    _assert_matches_single(result, eep, labels)


def test_member_order_does_not_matter(pool):
    eep, labels = pool
    ens = np.array([[0, 1, 2], [2, 0, 1], [1, 2, 0]])
    result = score_ensembles(eep, labels, ensembles=ens, progress=False)
    for name in result.metrics:
        np.testing.assert_allclose(result.scores[name], result.scores[name][0], atol=1e-6)


def test_pixel_permutation_does_not_matter(pool):
    eep, labels = pool
    perm = np.random.default_rng(1).permutation(n)
    a = score_ensembles(eep, labels, 2, progress=False)
    b = score_ensembles(eep[:, perm], labels[perm], 2, progress=False)
    for name in a.metrics:
        np.testing.assert_allclose(a.scores[name], b.scores[name], atol=1e-5)


def test_ties_are_resolved_exactly():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, 40)
    onehot = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (5, 40))]  # members disagree: many exact ties
    result = score_ensembles(onehot, labels, 2, pixel_chunk=8, progress=False)
    for row, members in enumerate(result.ensembles):
        expected = ref.ensemble_metrics(onehot[members], labels)
        for name in ("iou_eep", "soft_iou_eep", "e_leep"):
            assert result.scores[name][row] == pytest.approx(expected[name], abs=1e-5)


def test_e_leep_alone_uses_the_q_path_and_agrees(pool):
    eep, labels = pool
    alone = score_ensembles(eep, labels, 3, metrics=("e_leep",), pixel_chunk=8, progress=False)
    full = score_ensembles(eep, labels, 3, metrics=("e_leep", "iou_eep"), progress=False)
    np.testing.assert_allclose(alone.scores["e_leep"], full.scores["e_leep"], atol=1e-5)


def test_chunks_bound_the_working_set(pool, monkeypatch):
    eep, labels = pool
    from transel_jax.ensembles import scorer

    seen = []
    original = scorer._class_chunks

    def spy(*args):
        for cls, idx, weights in original(*args):
            seen.append((cls, idx.size, int(weights.sum())))
            yield cls, idx, weights

    monkeypatch.setattr(scorer, "_class_chunks", spy)
    score_ensembles(eep, labels, 3, metrics=("soft_iou_eep",), pixel_chunk=20, progress=False)
    counts = np.bincount(labels)
    # single-class chunks of at most 32 pixels (20 rounded up to the pruned pass's 32-pixel blocks; the
    # device holds [N, C, 32]) covering every pixel once: full chunks, plus one padded remainder per class
    assert all(size == 32 for _, size, _ in seen)
    assert [sum(real for c, _, real in seen if c == k) for k in range(C)] == counts.tolist()
    assert len(seen) == sum(math.ceil(c / 32) for c in counts)


def test_sharding_over_devices_gives_the_same_scores(pool):
    import jax

    eep, labels = pool
    assert len(jax.devices()) == 4  # tests/conftest.py forces 4 CPU devices
    one = score_ensembles(eep, labels, 3, devices=jax.devices()[:1], progress=False)
    four = score_ensembles(eep, labels, 3, progress=False)  # 20 ensembles over 4 devices
    three = score_ensembles(eep, labels, 3, devices=jax.devices()[:3], progress=False)  # uneven split
    for name in one.metrics:
        np.testing.assert_allclose(four.scores[name], one.scores[name], atol=1e-6)
        np.testing.assert_allclose(three.scores[name], one.scores[name], atol=1e-6)
    alone = score_ensembles(eep, labels, 3, metrics=("e_leep",), devices=jax.devices()[:3], progress=False)
    np.testing.assert_allclose(alone.scores["e_leep"], one.scores["e_leep"], atol=1e-5)


def test_memory_budget_limits_the_pixel_chunk(pool):
    eep, labels = pool
    from transel_jax.ensembles.scorer import Plan

    plan = Plan.make(64, 20, memory_budget=64 << 20, platform="gpu")
    assert 8 * 64 * 20 * plan.pixel_chunk <= 64 << 20
    assert 16 * 20 * plan.pixel_chunk * plan.batch <= (64 << 20) // 2 + 16 * 20 * plan.pixel_chunk
    small = score_ensembles(eep, labels, 3, memory_budget=8 * N * C * 4, metrics=("iou_eep",), progress=False)
    big = score_ensembles(eep, labels, 3, metrics=("iou_eep",), progress=False)
    np.testing.assert_allclose(small.scores["iou_eep"], big.scores["iou_eep"], atol=1e-6)


def test_base_and_top_k(pool):
    eep, labels = pool
    terms = np.arange(1.0, N + 1)
    result = score_ensembles(eep, labels, 3, metrics=("base", "e_leep"), base_terms=terms, progress=False)
    np.testing.assert_allclose(result.scores["base"], terms[result.ensembles].sum(1))
    np.testing.assert_array_equal(top_k(result, "base", 1)[0], [3, 4, 5])
    best = top_k(result, "e_leep", 4)
    scores = [float(e_leep(eep[m], labels)) for m in best]
    assert scores == sorted(scores, reverse=True)
    assert max(scores) == pytest.approx(result.scores["e_leep"].max(), abs=1e-6)


def test_csv_table_is_ranked_and_records_provenance(pool, tmp_path):
    eep, labels = pool
    names = [f"src{i}" for i in range(N)]
    result = score_ensembles(eep, labels, 2, source_names=names, progress=False)
    path = tmp_path / "ranked.csv"
    result.to_csv(path, rank_by="soft_iou_eep", provenance={"seed": 0})
    lines = path.read_text().splitlines()
    assert lines[0].split(",")[:3] == ["rank", "members", "indices"]
    col = lines[0].split(",").index("soft_iou_eep")
    values = [float(line.split(",")[col]) for line in lines[1:]]
    assert len(values) == math.comb(N, 2) and values == sorted(values, reverse=True)
    assert lines[1].split(",")[1].count("src") == 2
    assert '"seed": 0' in (tmp_path / "ranked.csv.meta.json").read_text()


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(size=7), ValueError, "size: expected an ensemble size S <= N = 6"),
    (dict(ensembles=[[0, 1, 1]]), ValueError, "ensembles: expected distinct members"),
    (dict(ensembles=[[0, 1, 6]]), ValueError, r"ensembles: expected values in \[0, 5\]"),
    (dict(ensembles=np.zeros((0, 3), int)), ValueError, "ensembles: expected at least one"),
    (dict(ensembles=[[0, 1]], size=3), ValueError, "size: expected 2"),
    (dict(metrics=("leep",)), ValueError, "metrics: expected one of"),
    (dict(metrics=("base",)), ValueError, "base_terms: expected"),
    (dict(source_names=["a"]), ValueError, "source_names: expected 6 names"),
])
def test_bad_arguments(pool, kwargs, error, match):
    eep, labels = pool
    with pytest.raises(error, match=match):
        score_ensembles(eep, labels, progress=False, **kwargs)


@pytest.mark.parametrize("mutate,match", [
    (lambda e, y: (e[:, :-1], y), "labels: expected n"),
    (lambda e, y: (e, y + 1), r"labels: expected values in \[0, 3\]"),
    (lambda e, y: (e * 1.1, y), "summing to 1"),
    (lambda e, y: (np.where(e > 0.9, np.nan, e), y), "finite"),
    (lambda e, y: (-e, y), "non-negative"),
    (lambda e, y: (e[:, :0], y[:0]), "at least one pixel"),
    (lambda e, y: (e[0], y), "3-d array"),
])
def test_bad_inputs(pool, mutate, match):
    e, y = mutate(*pool)
    with pytest.raises(ValueError, match=match):
        score_ensembles(e, y, progress=False)


def test_all_ensembles_counts():
    assert all_ensembles(64, 3).shape == (41664, 3)
    assert len({tuple(r) for r in all_ensembles(9, 4)}) == math.comb(9, 4)
