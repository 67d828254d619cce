"""The evaluation study against scipy, constant scores as "no ranking information", ensemble row lookup."""
import numpy as np
import pytest
import scipy.stats

from transel_jax.evaluation import protocols as evaluate


def test_study_matches_scipy_and_constant_scores_count_as_zero():
    rng = np.random.default_rng(2)
    truth = {"t1": rng.random(10), "t2": rng.random(10)}
    scores = {t: [{"good": truth[t] + 0.1 * rng.random(10), "flat": np.ones(10)} for _ in range(3)] for t in truth}
    table = evaluate.study(truth, scores, ("good", "flat"))
    for t in truth:
        taus = [scipy.stats.weightedtau(truth[t], s["good"]).statistic for s in scores[t]]
        assert table["weighted_tau"][t]["good"][0] == pytest.approx(np.mean(taus))
        assert table["weighted_tau"][t]["good"][1] == pytest.approx(np.std(taus))
        assert table["kendall_tau"][t]["flat"] == (0.0, 0.0)
    means = [table["pearson"][t]["good"][0] for t in truth]
    assert table["pearson"]["mean"]["good"][0] == pytest.approx(np.mean(means))
    assert 0 < table["relative_top1"]["mean"]["good"][0] <= 1


def test_ensemble_rows_ignore_member_order_and_name_an_unscored_ensemble():
    scored = np.array([[0, 1, 2], [0, 1, 3], [1, 2, 3]])
    np.testing.assert_array_equal(evaluate.ensemble_rows(scored, [[3, 2, 1], [1, 0, 2]]), [2, 0])
    with pytest.raises(ValueError, match=r"evaluated: ensemble \[0, 2, 3\] was not scored"):
        evaluate.ensemble_rows(scored, [[0, 2, 3]])
