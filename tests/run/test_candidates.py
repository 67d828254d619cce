"""The correlation study's candidate subsampling (000 Sec. 4.1): good ones by the metrics' votes, the rest
at random; and matching evaluated ensembles to their rows in the whole-pool scores."""
import itertools

import numpy as np
import pytest

from transel_jax.run.candidates import GOOD_FROM, choose
from transel_jax.run.evaluate import ensemble_rows


def _scores(num_sources, size, seed):
    ensembles = np.array(list(itertools.combinations(range(num_sources), size)))
    rng = np.random.default_rng(seed)
    return ensembles, {m: rng.normal(size=len(ensembles)) for m in GOOD_FROM}


def _votes(ensembles, scores, num_sources, top):
    """Plain reference: how often each source occurs in each metric's top-`top` ensembles."""
    votes = [0] * num_sources
    for metric in GOOD_FROM:
        ranked = sorted(range(len(ensembles)), key=lambda r: (-scores[metric][r], r))
        for row in ranked[:top]:
            for s in ensembles[row]:
                votes[s] += 1
    return votes


def test_keep_zero_or_at_least_the_pool_keeps_everything():
    ensembles, scores = _scores(6, 3, 0)
    for keep in (0, 6, 9):
        assert choose(scores, ensembles, 6, keep=keep, good=2, top=3, seed=0).tolist() == list(range(6))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_most_voted_sources_are_kept_and_the_rest_drawn(seed):
    n, keep, good, top = 12, 7, 3, 4
    ensembles, scores = _scores(n, 3, seed)
    kept = choose(scores, ensembles, n, keep=keep, good=good, top=top, seed=(seed, 5))
    assert kept.tolist() == sorted(set(kept.tolist())) and len(kept) == keep and 0 <= kept.min() <= kept.max() < n
    votes = _votes(ensembles, scores, n, top)
    threshold = sorted(votes, reverse=True)[good - 1]
    strictly_above = [s for s in range(n) if votes[s] > threshold]
    assert set(strictly_above) <= set(kept.tolist())  # every source with more votes than the good-th is kept
    assert sum(votes[s] >= threshold for s in kept) >= good
    again = choose(scores, ensembles, n, keep=keep, good=good, top=top, seed=(seed, 5))
    assert np.array_equal(kept, again)  # same seed, same choice


def test_a_dominant_ensemble_is_kept_and_random_picks_depend_on_the_seed():
    n = 10
    ensembles, scores = _scores(n, 3, 7)
    star = int(np.flatnonzero((ensembles == [2, 5, 8]).all(axis=1))[0])
    for metric in GOOD_FROM:
        scores[metric][star] = 100.0
    picks = [choose(scores, ensembles, n, keep=5, good=3, top=1, seed=s) for s in range(8)]
    assert all({2, 5, 8} <= set(p.tolist()) for p in picks)
    assert len({tuple(p.tolist()) for p in picks}) > 1  # the two random ones vary with the seed


def test_bad_arguments_are_named():
    ensembles, scores = _scores(5, 2, 0)
    with pytest.raises(ValueError, match="good"):
        choose(scores, ensembles, 5, keep=3, good=4, top=2, seed=0)
    with pytest.raises(ValueError, match="top"):
        choose(scores, ensembles, 5, keep=3, good=1, top=-1, seed=0)


def test_ensemble_rows_match_member_sets_in_any_order():
    scored = np.array(list(itertools.combinations(range(6), 3)))
    evaluated = scored[[4, 0, 17]][:, ::-1]  # reversed member order
    assert ensemble_rows(scored, evaluated).tolist() == [4, 0, 17]
    with pytest.raises(ValueError, match="evaluated"):
        ensemble_rows(scored[:3], evaluated)
