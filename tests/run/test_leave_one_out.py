"""Leave-one-out targets (000 Sec. 4.1): a target's own models are never its candidates, anywhere."""
import os

import numpy as np
import pytest

from transel_jax.config import load_config
from transel_jax.run import candidates, dryrun, influence, plan

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "configs")


def study():
    return load_config(os.path.join(CONFIGS, "study.py"))


def test_each_target_leaves_out_exactly_its_own_four_models():
    config = study()
    specs = plan.candidate_specs(config.pool)
    for target in config.targets.datasets:
        allowed = plan.candidates_for(config, target, specs)
        assert len(allowed) == len(specs) - 4
        assert all(specs[i].dataset != target for i in allowed)
        assert sorted(set(range(len(specs))) - set(allowed.tolist())) == [
            i for i, s in enumerate(specs) if s.dataset == target]
    demo = load_config(os.path.join(CONFIGS, "demo.py"))
    np.testing.assert_array_equal(plan.candidates_for(demo, "syn_drive_small", plan.candidate_specs(demo.pool)),
                                  np.arange(12))


def test_targets_inside_the_pool_need_the_flag_and_the_generic_dataset_is_never_a_target():
    config = study()
    config.targets.leave_target_out = False
    with pytest.raises(ValueError, match="set targets.leave_target_out"):
        plan.check_targets(config)
    config = study()
    config.targets.datasets = ("syn_consumer_broad",)
    with pytest.raises(ValueError, match="the generic"):
        plan.check_targets(config)


def test_study_dry_run_counts_the_per_target_pool():
    w = dryrun.work(study())
    assert (w.generic, w.candidates, w.per_target, w.kept) == (2, 56, 52, 15)
    assert w.scored == 22100 and w.evaluated == 455 and len(w.targets) == 14


def test_candidates_are_chosen_among_the_allowed_sources_only():
    rng = np.random.default_rng(0)
    n, allowed = 10, np.array([0, 2, 3, 5, 6, 8, 9])
    ensembles = np.array([[a, b, c] for a in allowed for b in allowed for c in allowed if a < b < c])
    scores = {m: rng.random(len(ensembles)) for m in candidates.GOOD_FROM}
    for seed in range(5):
        kept = candidates.choose(scores, ensembles, n, keep=5, good=2, top=3, seed=seed, allowed=allowed)
        assert len(kept) == 5 and set(kept) <= set(allowed.tolist())
    # without allowed (the held-out protocol) the choice is the one of the whole pool, as before
    full = np.array(list(__import__("itertools").combinations(range(n), 3)))
    s2 = {m: rng.random(len(full)) for m in candidates.GOOD_FROM}
    np.testing.assert_array_equal(candidates.choose(s2, full, n, keep=4, good=1, top=2, seed=3),
                                  candidates.choose(s2, full, n, keep=4, good=1, top=2, seed=3,
                                                    allowed=np.arange(n)))
    assert len(candidates.choose(scores, ensembles, n, keep=0, good=2, top=3, seed=0, allowed=allowed)) == 7


def test_influence_tau_ignores_the_left_out_diagonal():
    rng = np.random.default_rng(1)
    gain = rng.normal(size=(4, 4))
    distance = -gain + 0.01 * rng.normal(size=(4, 4))  # nearer source, larger gain: tau = 1 off the diagonal
    np.fill_diagonal(gain, np.nan)
    distance[np.diag_indices(4)] = 100.0  # would spoil the ranking if it were counted
    tau = influence._tau(gain, distance)
    assert tau["pooled"] == pytest.approx(1.0) and tau["per_target_mean"] == pytest.approx(1.0)
