"""Greedy forward selection."""
import numpy as np
import pytest

from transel_jax.ensembles import greedy_select, score_ensembles


def _pool(seed=0, n_sources=12, n=80, c=4):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, n)
    eep = rng.dirichlet(np.full(c, 0.5), size=(n_sources, n)).astype(np.float32)
    return eep, labels


def test_greedy_is_exact_for_a_decomposable_metric():
    eep, labels = _pool()
    exhaustive = score_ensembles(eep, labels, 3, metrics=("ms_leep",), progress=False)
    greedy = greedy_select(eep, labels, 3, metric="ms_leep", progress=False)
    assert sorted(greedy.members.tolist()) == sorted(exhaustive.best("ms_leep").tolist())
    assert greedy.scores[-1] == pytest.approx(exhaustive.scores["ms_leep"].max(), abs=1e-6)


def test_greedy_finds_the_informative_sources_in_a_large_noisy_pool():
    rng = np.random.default_rng(1)
    eep, labels = _pool(1, n_sources=60)
    good = [7, 23, 41]
    for s in good:  # informative sources: mass on the true class for most pixels
        hit = rng.random(labels.size) < 0.8
        target = np.where(hit, labels, rng.integers(0, 4, labels.size))
        eep[s] = 0.1 / 3
        eep[s, np.arange(labels.size), target] = 0.9
    result = greedy_select(eep, labels, 3, metric="soft_iou_eep", progress=False)
    assert sorted(result.members.tolist()) == good
    assert len(set(result.members.tolist())) == 3
    rescored = score_ensembles(eep, labels, ensembles=result.members[None], metrics=("soft_iou_eep",), progress=False)
    assert rescored.scores["soft_iou_eep"][0] == pytest.approx(result.scores[-1], abs=1e-6)


def test_candidates_restrict_the_pool_and_bad_sizes_fail():
    eep, labels = _pool()
    result = greedy_select(eep, labels, 2, metric="e_leep", candidates=[1, 4, 9], progress=False)
    assert set(result.members.tolist()) <= {1, 4, 9}
    with pytest.raises(ValueError, match="size: expected S <= 3 candidates"):
        greedy_select(eep, labels, 4, candidates=[1, 4, 9], progress=False)
    with pytest.raises(ValueError, match="metric: expected one of"):
        greedy_select(eep, labels, 2, metric="parc", progress=False)


@pytest.mark.parametrize("kind", ["array", "memmap"])
def test_only_the_first_round_checks_the_input_and_bad_input_still_fails(kind, tmp_path, monkeypatch):
    from transel_jax import checks

    eep, labels = _pool(2)
    if kind == "memmap":
        np.save(tmp_path / "eep.npy", eep)
        eep = str(tmp_path / "eep.npy")
    calls = []
    original = checks.check_probabilities
    monkeypatch.setattr(checks, "check_probabilities", lambda x, name, **kw: calls.append(x.shape) or original(x, name, **kw))
    one_round = score_ensembles(eep, labels, ensembles=np.arange(12)[:, None], metrics=("soft_iou_eep",),
                                progress=False)
    checked_once = len(calls)
    assert checked_once > 0
    calls.clear()
    greedy = greedy_select(eep, labels, 3, metric="soft_iou_eep", progress=False)
    assert len(calls) == checked_once  # rounds 2 and 3 read the input unchecked
    assert greedy.scores[0] == pytest.approx(one_round.scores["soft_iou_eep"].max(), abs=0)
    bad, _ = _pool(2)
    bad[3, 5, 1] = np.nan
    with pytest.raises(ValueError, match="eep"):
        greedy_select(bad, labels, 3, metric="soft_iou_eep", progress=False)
