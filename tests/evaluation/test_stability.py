"""The stability analysis: setups drawn as documented, values against protocols.measure loops, win and best
fractions against loops, known orderings, determinism, the heatmap."""
import itertools
import os

import numpy as np
import pytest

from transel_jax.evaluation import stability as sb
from transel_jax.evaluation.protocols import measure


def world(rng, n_targets=4, k=20, seeds=2, noise=(0.05, 0.3, 3.0)):
    """Metrics 'good', 'fair', 'noise': truth plus noise of increasing size."""
    truth = {f"t{i}": rng.random(k) for i in range(n_targets)}
    names = ("good", "fair", "noise")
    scores = {t: [{m: truth[t] + rng.normal(0, s, k) for m, s in zip(names, noise)} for _ in range(seeds)]
              for t in truth}
    return truth, scores, list(names)


def test_evaluate_setup_matches_a_protocols_loop():
    rng = np.random.default_rng(0)
    truth, scores, metrics = world(rng)
    for k in range(6):
        setup = sb.draw_setup(np.random.default_rng(k), list(truth), {t: 20 for t in truth})
        want = [np.mean([np.mean([measure(setup["measure"], truth[t][setup["pool"][t]], run[m][setup["pool"][t]])
                                  for run in scores[t]]) for t in setup["targets"]]) for m in metrics]
        np.testing.assert_allclose(sb.evaluate_setup(setup, truth, scores, metrics), want, rtol=1e-12, atol=1e-12)


def test_win_and_best_fractions_against_loops():
    v = np.random.default_rng(1).integers(0, 3, size=(40, 4)).astype(float)   # many ties
    wins, ties = sb.win_fractions(v)
    best = sb.best_fractions(v)
    for i, j in itertools.product(range(4), range(4)):
        if i != j:
            assert wins[i, j] == pytest.approx(np.mean([r[i] > r[j] for r in v]))
            assert ties[i, j] == pytest.approx(np.mean([r[i] == r[j] for r in v]))
            assert wins[i, j] + wins[j, i] + ties[i, j] == pytest.approx(1.0)
    want = np.zeros(4)
    for r in v:
        top = [i for i in range(4) if r[i] == r.max()]
        for i in top:
            want[i] += 1 / len(top) / len(v)
    np.testing.assert_allclose(best, want)
    assert best.sum() == pytest.approx(1.0)


def test_setups_follow_the_documented_draws():
    rng = np.random.default_rng(2)
    sizes = {"a": 10, "b": 30, "c": 5}
    draws = [sb.draw_setup(rng, list(sizes), sizes, min_pool=4, min_targets=2) for _ in range(300)]
    assert {len(s["targets"]) for s in draws} == {2, 3}
    assert {s["measure"] for s in draws} == set(sb.CORRELATION_MEASURES)
    for s in draws:
        for t, idx in s["pool"].items():
            assert 4 <= idx.size <= sizes[t] and np.unique(idx).size == idx.size and idx.max() < sizes[t]
    assert max(s["pool"]["b"].size for s in draws if "b" in s["pool"]) > 25     # sizes spread up to the whole pool


def test_source_level_pools_keep_only_ensembles_inside_the_drawn_sources():
    rows = np.array(list(itertools.combinations(range(8), 3)))                   # all 56 ensembles of 8 sources
    rng = np.random.default_rng(3)
    for _ in range(50):
        idx = sb._draw_pool(rng, rows.shape[0], rows, 3)
        used = np.unique(rows[idx])
        inside = np.nonzero(np.isin(rows, used).all(axis=1))[0]
        assert idx.size >= 3
        np.testing.assert_array_equal(idx, inside)                               # every ensemble of those sources


def test_a_clearly_better_metric_wins_and_exchangeable_metrics_split():
    rng = np.random.default_rng(4)
    truth, scores, metrics = world(rng, k=25)
    res = sb.stability(truth, scores, metrics, n_setups=150, seed=0)
    assert res["beats"]["good"]["noise"] > 0.95 and res["beats"]["good"]["fair"] > 0.8
    assert res["best_fraction"]["good"] > 0.8
    assert sum(res["best_fraction"].values()) == pytest.approx(1.0)
    # two metrics of the same quality: about half the setups each
    twin = {t: [{"x": r["fair"], "y": truth[t] + rng.normal(0, 0.3, 25)} for r in runs] for t, runs in scores.items()}
    split = sb.stability(truth, twin, ["x", "y"], n_setups=150, seed=1)
    assert 0.3 < split["beats"]["x"]["y"] < 0.7


def test_determinism_seeds_and_json():
    import json
    truth, scores, metrics = world(np.random.default_rng(5))
    a = sb.stability(truth, scores, metrics, n_setups=30, seed=3, keep_values=True)
    assert a == sb.stability(truth, scores, metrics, n_setups=30, seed=3, keep_values=True)
    assert a["values"] != sb.stability(truth, scores, metrics, n_setups=30, seed=4, keep_values=True)["values"]
    json.dumps(a, allow_nan=False)
    w, _ = sb.win_fractions(a["values"])
    assert a["win_fraction"][0][1] == pytest.approx(w[0, 1]) and a["win_fraction"][0][0] is None


def test_drawn_probe_seeds_and_setup_stability():
    truth, scores, metrics = world(np.random.default_rng(6), seeds=3)
    res = sb.stability(truth, scores, metrics, n_setups=40, probe_seeds="draw", connected=True, seed=0)
    assert res["probe_seeds"] == "draw"
    ss = res["setup_stability"]
    assert set(ss) == set(sb.COMPONENTS)
    assert all(0.6 < ss[c] <= 1.0 for c in ss)                                   # a clear ordering is stable
    one = sb.stability(truth, scores, metrics, n_setups=20, min_targets=1, max_targets=1, seed=0, keep_values=True)
    assert one["max_targets"] == 1


@pytest.mark.parametrize("kwargs,match", [
    ({"metrics": ["good"]}, "metrics: expected at least 2"),
    ({"min_pool": 2}, "min_pool"),
    ({"measures": ("relative_top1",)}, "measures"),
    ({"max_targets": 9}, "max_targets"),
    ({"probe_seeds": "first"}, "probe_seeds"),
])
def test_bad_options_name_the_argument(kwargs, match):
    truth, scores, metrics = world(np.random.default_rng(7))
    args = {"metrics": metrics, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        sb.stability(truth, scores, args.pop("metrics"), n_setups=2, **args)


def test_bad_inputs_name_the_argument():
    truth, scores, metrics = world(np.random.default_rng(8))
    with pytest.raises(ValueError, match=r"truth\['t0'\]: expected at least min_pool"):
        sb.stability({**truth, "t0": truth["t0"][:2]}, scores, metrics, n_setups=2)
    bad = {**scores, "t1": [{**scores["t1"][0], "fair": scores["t1"][0]["fair"][:5]}]}
    with pytest.raises(ValueError, match=r"scores\['t1'\]\[0\]\['fair'\]: expected K"):
        sb.stability(truth, bad, metrics, n_setups=2)
    with pytest.raises(ValueError, match=r"members\['t0'\]: expected a 2-d array"):
        sb.stability(truth, scores, metrics, members={t: np.zeros(20, int) for t in truth}, n_setups=2)


def test_stability_heatmap_writes_a_png(tmp_path):
    from transel_jax.report.figures import stability_heatmap
    truth, scores, metrics = world(np.random.default_rng(9))
    res = sb.stability(truth, scores, metrics, n_setups=10)
    path = stability_heatmap(res["win_fraction"], res["metrics"], str(tmp_path / "s.png"), res["best_fraction"])
    assert os.path.getsize(path) > 1000
    with pytest.raises(ValueError, match="win_fraction: expected shape"):
        stability_heatmap([[None]], metrics, str(tmp_path / "x.png"))
