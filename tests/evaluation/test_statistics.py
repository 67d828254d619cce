"""Bootstrap intervals, paired comparisons, sign and permutation tests against plain references and on
simulated data with known truth; verdicts; summarize's JSON; the papers' numbers."""
import json
import math

import numpy as np
import pytest
import scipy.stats

from transel_jax.evaluation import paper_figures as pf
from transel_jax.evaluation import statistics as st


# ----------------------------------------------------------------------------------------- references
def loop_two_level_bootstrap(rows, n_boot, rng):
    """Plain loops: draw targets with replacement, then each drawn target's seeds with replacement."""
    out = []
    for _ in range(n_boot):
        means = []
        for _ in range(len(rows)):
            r = rows[rng.integers(len(rows))]
            means.append(np.mean([r[rng.integers(len(r))] for _ in range(len(r))]))
        out.append(np.mean(means))
    return np.array(out)


def sign_test_reference(wins, losses):
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail) if wins != losses else 1.0


def ragged(rng, n_targets=6):
    return {f"t{i}": rng.normal(0.5 + 0.1 * i, 0.05, size=int(rng.integers(2, 6))) for i in range(n_targets)}


# ---------------------------------------------------------------------------------------- bootstrap
def test_estimate_is_the_mean_of_per_target_means_and_replicates_match_the_two_stage_moments():
    rng = np.random.default_rng(0)
    values = {f"t{i}": rng.normal(0.5 + 0.05 * i, 0.2, size=int(rng.integers(2, 6))) for i in range(6)}
    rows = list(values.values())
    res = st.bootstrap_mean(values, n_boot=20000, seed=1)
    assert res["estimate"] == pytest.approx(np.mean([np.mean(r) for r in rows]))
    assert res["per_target"] == pytest.approx({t: float(np.mean(r)) for t, r in values.items()})
    # two-stage bootstrap moments: E* = mean of target means; Var* = (var_t(m_t) + mean_t(s_t^2 / R_t)) / T
    means = np.array([r.mean() for r in rows])
    var = (means.var() + np.mean([r.var() / r.size for r in rows])) / len(rows)
    reps = st.bootstrap_replicates(rows, n_boot=20000, seed=1)
    assert reps.mean() == pytest.approx(means.mean(), abs=4 * math.sqrt(var / 20000))
    assert reps.var() == pytest.approx(var, rel=0.05)
    assert abs(means.var() / len(rows) / var - 1) > 0.15           # the seed level matters here: not resampling it fails


def test_vectorised_bootstrap_agrees_with_a_plain_loop():
    rng = np.random.default_rng(3)
    rows = list(ragged(rng, 5).values())
    fast = st.bootstrap_replicates(rows, n_boot=4000, seed=0)
    slow = loop_two_level_bootstrap(rows, 4000, np.random.default_rng(99))
    assert np.quantile(fast, [0.025, 0.5, 0.975]) == pytest.approx(np.quantile(slow, [0.025, 0.5, 0.975]), abs=0.012)
    assert fast.std() == pytest.approx(slow.std(), rel=0.08)


def test_interval_covers_the_true_mean_at_about_the_nominal_rate():
    rng = np.random.default_rng(12)
    mu, covered, runs = 0.4, 0, 200
    for k in range(runs):
        effects = rng.normal(mu, 0.15, size=15)                      # targets x 5 probe seeds
        data = effects[:, None] + rng.normal(0, 0.05, size=(15, 5))
        lo, hi = st.bootstrap_mean(data, n_boot=1000, seed=k)["ci"]
        covered += lo <= mu <= hi
    assert 0.88 <= covered / runs <= 0.995


def test_same_seed_same_interval_other_seed_other_interval():
    values = ragged(np.random.default_rng(4))
    a = st.bootstrap_mean(values, n_boot=500, seed=7)
    assert a == st.bootstrap_mean(values, n_boot=500, seed=7)
    assert a["ci"] != st.bootstrap_mean(values, n_boot=500, seed=8)["ci"]


def test_array_layouts_and_single_seed():
    data = np.arange(12.0).reshape(4, 3)
    res = st.bootstrap_mean(data, n_boot=200)
    assert res["n_targets"] == 4 and res["n_seeds"] == 12 and res["estimate"] == pytest.approx(5.5)
    assert st.bootstrap_mean([1.0, 2.0, 3.0], n_boot=200)["n_seeds"] == 3


# ---------------------------------------------------------------------------------------- paired
def test_paired_comparison_against_loops_and_scipy():
    rng = np.random.default_rng(5)
    a = {f"t{i}": rng.random(3) for i in range(7)}
    b = {t: v + rng.normal(0.02, 0.1, 3) for t, v in a.items()}
    b["t0"] = a["t0"].copy()                                        # a tie
    res = st.paired_comparison(a, b, n_boot=1000, seed=0)
    diffs = {t: float(np.mean(a[t] - b[t])) for t in a}
    assert res["per_target"] == pytest.approx(diffs)
    assert res["mean_diff"] == pytest.approx(np.mean(list(diffs.values())))
    wins = sum(d > 0 for d in diffs.values())
    losses = sum(d < 0 for d in diffs.values())
    assert (res["wins"], res["ties"], res["losses"]) == (wins, 1, losses)
    assert res["sign_test_p"] == pytest.approx(scipy.stats.binomtest(wins, wins + losses).pvalue)
    assert res["sign_test_p"] == pytest.approx(sign_test_reference(wins, losses))
    # paired = the two-level bootstrap of the differences with the same seed
    assert res["ci"] == st.bootstrap_mean({t: a[t] - b[t] for t in a}, n_boot=1000, seed=0)["ci"]


def test_pairing_removes_shared_target_effects():
    rng = np.random.default_rng(6)
    effects = rng.normal(0, 0.3, size=(10, 1))                      # big target effects shared by both
    a = effects + 0.05 + rng.normal(0, 0.01, (10, 4))
    b = effects + rng.normal(0, 0.01, (10, 4))
    paired = st.paired_comparison(a, b, n_boot=2000)
    width_paired = paired["ci"][1] - paired["ci"][0]
    width_a = np.subtract(*st.bootstrap_mean(a, n_boot=2000)["ci"][::-1])
    assert paired["ci"][0] > 0 and width_paired < 0.2 * width_a
    assert st.verdict(paired["ci"], +1) == "holds"


# --------------------------------------------------------------------------------------- selection
def test_relative_gains_and_gain_summary_against_references():
    sel = {"a": 0.6, "b": 0.5, "c": 0.45, "d": 0.7}
    base = {"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.6}
    gains = st.relative_gains(sel, base)
    assert gains == pytest.approx({t: 100 * (sel[t] / base[t] - 1) for t in sel})
    g = st.gain_summary(gains, n_boot=500)
    assert g["mean_gain"] == pytest.approx(np.mean(list(gains.values())))
    assert (g["wins"], g["ties"], g["losses"]) == (2, 1, 1)
    assert g["sign_test_p"] == pytest.approx(sign_test_reference(2, 1))
    out = st.selection_gains(sel, {"b1": base, "same": sel}, n_boot=500)
    assert out["same"]["estimate"] == 0 and out["same"]["sign_test_p"] == 1.0
    assert out["b1"]["estimate"] == pytest.approx(g["estimate"])


def test_sign_test_of_all_wins_is_exact():
    g = st.gain_summary(np.linspace(1, 5, 15), n_boot=500)
    assert g["sign_test_p"] == pytest.approx(2 / 2 ** 15)
    assert g["sign_test_p"] == pytest.approx(sign_test_reference(15, 0))


def test_gain_interval_covers_at_about_the_nominal_rate():
    rng = np.random.default_rng(8)
    hits = 0
    for k in range(200):
        lo, hi = st.gain_summary(rng.normal(2.0, 3.0, 15), n_boot=1000, seed=k)["ci"]
        hits += lo <= 2.0 <= hi
    assert 0.87 <= hits / 200 <= 0.99


# --------------------------------------------------------------------------------------- influence
def test_influence_tau_matches_scipy_and_excludes_pairs():
    rng = np.random.default_rng(9)
    r = rng.normal(size=(5, 6))
    d = -r + rng.normal(0, 0.8, size=(5, 6))
    d[1, 2] = np.nan
    include = np.ones((5, 6), bool)
    include[0, 0] = False
    res = st.influence_tau(r, d, include=include, n_perm=199, n_boot=200)
    keep = include & np.isfinite(d)
    assert res["n_pairs"] == keep.sum() == 28
    assert res["tau"] == pytest.approx(scipy.stats.kendalltau(-d[keep], r[keep]).statistic)
    assert res["ci"][0] <= res["tau"] <= res["ci"][1]


def test_block_bootstrap_tau_equals_scipy_on_the_repeated_data():
    rng = np.random.default_rng(10)
    x = np.round(rng.normal(size=12), 1)                             # some ties
    y = np.round(x + rng.normal(size=12), 1)
    rows = np.repeat(np.arange(4), 3)
    w = rng.integers(0, 4, size=(6, 4))
    w[0] = [1, 1, 1, 1]
    got = st._weighted_taus(x, y, rows, w)
    for b in range(6):
        take = np.concatenate([np.tile(np.nonzero(rows == k)[0], w[b, k]) for k in range(4)])
        want = scipy.stats.kendalltau(x[take], y[take]).statistic
        assert got[b] == pytest.approx(want, nan_ok=True)


def test_permutation_p_value_small_when_perfectly_ordered_and_uniform_when_shuffled():
    r = np.arange(20.0).reshape(4, 5)
    perfect = st.influence_tau(r, -r, n_perm=999, n_boot=200)
    assert perfect["tau"] == pytest.approx(1.0) and perfect["p_value"] == pytest.approx(1 / 1000)
    assert st.verdict(perfect["ci"], +1) == "holds"
    rng = np.random.default_rng(11)
    ps = np.array([st.influence_tau(rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), n_perm=199, n_boot=100,
                                    seed=k)["p_value"] for k in range(150)])
    assert 0.01 <= np.mean(ps < 0.1) <= 0.2
    assert scipy.stats.kstest(ps, "uniform").pvalue > 0.01


def test_within_target_permutation_ignores_a_between_target_effect():
    rng = np.random.default_rng(13)
    level = np.arange(6.0)[:, None]                                  # far targets gain little from everything
    d = level + rng.normal(0, 0.1, (6, 6))
    r = -10 * level + rng.normal(0, 1, (6, 6))                       # no association within a target
    pooled = st.influence_tau(r, d, permute="pooled", n_perm=499, n_boot=100)
    within = st.influence_tau(r, d, permute="within_targets", n_perm=499, n_boot=100)
    assert pooled["tau"] == within["tau"] > 0.5
    assert pooled["p_value"] < 0.01 and within["p_value"] > 0.05


def test_alternative_greater_is_one_sided():
    r = np.arange(20.0).reshape(4, 5)
    assert st.influence_tau(r, r, alternative="greater", n_perm=199, n_boot=100)["p_value"] == 1.0
    assert st.influence_tau(r, r, n_perm=199, n_boot=100)["p_value"] == pytest.approx(1 / 200)


def test_self_pairs():
    np.testing.assert_array_equal(st.self_pairs(["a", "b"], ["b", "a", "c"]), [[True, False, True], [False, True, True]])


# ----------------------------------------------------------------------------------------- verdicts
@pytest.mark.parametrize("ci,direction,want", [
    ([0.1, 0.3], 1, "holds"), ([-0.3, -0.1], 1, "contradicted"), ([-0.1, 0.1], 1, "undecided"),
    ([-0.3, -0.1], -1, "holds"), ([0.1, 0.3], "less", "contradicted"), ([0.0, 0.2], "greater", "undecided"),
])
def test_verdict_table(ci, direction, want):
    assert st.verdict(ci, direction) == want


def test_verdict_rejects_bad_input():
    with pytest.raises(ValueError, match="direction"):
        st.verdict([0, 1], 2)
    with pytest.raises(ValueError, match="ci: expected finite lo <= hi"):
        st.verdict([1, 0], 1)
    with pytest.raises(ValueError, match="ci: expected two numbers"):
        st.verdict(None, 1)


# ---------------------------------------------------------------------------------------- summarize
METRICS = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base")
SINGLE = ("leep", "parc", "leep+depth", "parc+depth")


def fake_inputs(rng):
    targets = [f"t{i}" for i in range(5)]
    corr = {"ensemble": {m: {mm: {t: list(rng.normal(0.6 - 0.3 * (mm == "base"), 0.05, 3)) for t in targets}
                             for mm in METRICS} for m in ("weighted_tau", "kendall_tau", "pearson")},
            "single": {"pearson": {mm: {t: list(rng.normal(0.5, 0.1, 3)) for t in targets} for mm in SINGLE}}}
    selection = {b: {t: float(rng.normal(3.0, 1.0)) for t in targets} for b in ("b1", "average", "best_member")}
    names = [f"d{i}" for i in range(5)]
    gain = rng.normal(size=(5, 5))
    influence = {"gain": gain.tolist(), "targets": names, "sources": names,
                 "distance": {a: (-gain + rng.normal(0, 1, (5, 5))).tolist()
                              for a in ("emd", "target_to_source", "source_to_target", "symmetric")}}
    return corr, selection, influence


def test_summarize_is_json_complete_and_deterministic():
    corr, selection, influence = fake_inputs(np.random.default_rng(14))
    out = st.summarize(corr, selection=selection, influence=influence, n_boot=300, n_perm=199, seed=3)
    json.dumps(out, allow_nan=False)
    assert out == st.summarize(corr, selection=selection, influence=influence, n_boot=300, n_perm=199, seed=3)
    assert set(out) == {"settings", "correlation", "comparisons", "selection", "influence", "verdicts"}
    assert set(out["correlation"]["ensemble"]["weighted_tau"]) == set(METRICS)
    assert "soft_iou_eep - e_leep" in out["comparisons"]["ensemble"]["pearson"]
    assert "parc+depth - leep+depth" in out["comparisons"]["single"]["pearson"]
    assert out["influence"]["emd"]["n_pairs"] == 20                  # the 5 self pairs are left out
    rows = {v["id"]: v for v in out["verdicts"]}
    assert rows["selection_beats_b1l"]["verdict"] == "not measured"   # no B1L in this run
    assert rows["selection_beats_b1"]["verdict"] == "holds"
    assert rows["soft_iou_eep_beats_base"]["verdict"] == "holds"
    assert {v["verdict"] for v in out["verdicts"]} <= {*st.VERDICTS, "not measured"}
    wt = out["correlation"]["ensemble"]["weighted_tau"]["e_leep"]
    assert wt == st.bootstrap_mean(corr["ensemble"]["weighted_tau"]["e_leep"], n_boot=300, seed=3)


def test_per_seed_measures_match_protocols():
    from transel_jax.evaluation.protocols import measure
    rng = np.random.default_rng(15)
    truth = {"a": rng.random(8), "b": rng.random(8)}
    scores = {t: [{"m": truth[t] + rng.random(8), "flat": np.ones(8)} for _ in range(2)] for t in truth}
    got = st.per_seed_measures(truth, scores, ["m", "flat"])
    for t in truth:
        assert got["weighted_tau"]["m"][t] == [scipy.stats.weightedtau(truth[t], s["m"]).statistic for s in scores[t]]
        assert got["pearson"]["flat"][t] == [0.0, 0.0]
        assert got["relative_top1"]["m"][t] == [measure("relative_top1", truth[t], s["m"]) for s in scores[t]]


# -------------------------------------------------------------------------------------------- inputs
@pytest.mark.parametrize("call,match", [
    (lambda: st.bootstrap_mean({}), "values: expected at least one target"),
    (lambda: st.bootstrap_mean({"a": [1.0, np.nan]}), r"values\['a'\]: expected finite values"),
    (lambda: st.bootstrap_mean([[1.0]], level=0.3), "level"),
    (lambda: st.bootstrap_mean([[1.0]], n_boot=10), "n_boot"),
    (lambda: st.paired_comparison({"a": [1, 2]}, {"b": [1, 2]}), "b: expected the targets of a"),
    (lambda: st.paired_comparison({"a": [1, 2]}, {"a": [1]}), r"b\['a'\]: expected seeds"),
    (lambda: st.relative_gains({"a": 0.5}, {"a": 0.0}), r"baseline\['a'\]: expected a finite positive mIoU"),
    (lambda: st.influence_tau(np.ones((2, 3)), np.ones((3, 2))), "distance: expected shape"),
    (lambda: st.influence_tau(np.ones((2, 3)), np.arange(6.0).reshape(2, 3)), "gains: expected at least two distinct"),
    (lambda: st.influence_tau(np.eye(2), np.eye(2), permute="rows"), "permute"),
    (lambda: st.influence_tau(np.eye(2), np.eye(2), include=np.ones((2, 2))), "include: expected a bool"),
    (lambda: st.summarize({"ensemble": {"pearson": {"a": [[1.0]]}}}, comparisons={"ensemble": [("a", "z")]},
                          n_boot=100), r"comparisons\['ensemble'\]: metric 'z'"),
])
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ----------------------------------------------------------------------------------- paper figures
def test_paper_numbers_are_those_of_the_papers():
    want = {"000.wtau.soft_iou_eep": 0.693, "000.wtau.ms_leep": 0.662, "000.wtau.e_leep": 0.657,
            "000.wtau.iou_eep": 0.609, "000.wtau.base": 0.490, "000.gain.b1": 6.0, "000.gain.b1l": 2.5,
            "000.gain.best_member": 4.6, "002.tau.eq1": 0.40, "002.tau.target_to_source": 0.42,
            "002.tau.emd": 0.20, "002.tau.source_to_target": 0.06, "002.tau.symmetric": 0.27,
            "003.pearson.parc+depth": 0.703}
    assert {k: pf.PAPER[k]["value"] for k in want} == want
    for p in pf.PAPER.values():
        assert p["source"].startswith(p["paper"]) or p["source"].startswith("001")


def test_side_by_side_finds_every_entry_of_a_full_summary():
    corr, selection, influence = fake_inputs(np.random.default_rng(16))
    selection = {**selection, "b1l": selection["b1"], "worst_member": selection["b1"]}
    out = st.summarize(corr, selection=selection, influence=influence, n_boot=200, n_perm=99)
    rows = pf.side_by_side(out)
    assert [r["id"] for r in rows] == list(pf.PAPER)
    for r in rows:
        measured = pf.PAPER[r["id"]]["path"] is not None
        assert (r["ours"] is not None) == measured, r["id"]
        assert (r["ci"] is not None) == measured
    assert {r["id"]: r["ours"] for r in rows}["000.gain.b1"] == out["selection"]["b1"]["estimate"]
    assert all(v["verdict"] != "not measured" for v in out["verdicts"])
    assert all(st.lookup(out, c["path"]) is not None for c in pf.CLAIMS)
