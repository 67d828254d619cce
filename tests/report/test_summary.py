"""summary.json and the README block quoted from it: the check fails on any stale number."""
import json

import numpy as np

from transel_jax.report import summary as sm


def data():
    wt = {"t1": {"ms_leep": [0.5, 0.1], "base": [0.2, 0.0]}, "t2": {"ms_leep": [0.7, 0.0], "base": [0.4, 0.1]},
          "mean": {"ms_leep": [0.6, 0.1], "base": [0.3, 0.1]}}
    sel = {"t1": {"gain": {"b1": 5.0, "best_member": -1.0}}, "t2": {"gain": {"b1": 1.0, "best_member": 2.0}}}
    return {"config": {"name": "demo", "seed": 0, "data": {"suite_seed": 0}}, "scatter": {"t1": {}, "t2": {}},
            "seeds": [0, 1], "ensemble_eval": {"weighted_tau": wt}, "single_eval": {"weighted_tau": wt},
            "stages": [{"name": "pool", "wall_s": 60.04}, {"name": "report", "wall_s": 1.0}],
            "provenance": {"git_commit": "abcdef0123"}, "selection": sel, "baselines": ["b1", "best_member"],
            "influence": {"tau": {"emd": {"pooled": 0.25, "per_target_mean": 0.1}}}}


def test_summary_numbers_and_block(tmp_path):
    s = json.loads(json.dumps(sm.summary(data())))  # JSON-able
    assert s["ensemble"]["weighted_tau"]["ms_leep"] == [0.6, 0.1]
    assert s["selection_gain_mean"] == {"b1": 3.0, "best_member": 0.5}
    assert s["selection_below_best_member"] == ["t1"] and s["stages_s"]["pool"] == 60.0
    block = sm.readme_block(s, "demo")
    assert "+0.600 ± 0.100" in block and "vs b1 +3.0%" in block and "emd +0.25" in block and "abcdef0" in block
    readme = f"# x\n\nintro\n{block}\n\nmore\n"
    assert sm.check(readme, s, "demo") == []
    stale = readme.replace("+0.600", "+0.601")
    assert sm.check(stale, s, "demo") and sm.check("no block", s, "demo")
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(s))
    (tmp_path / "README.md").write_text(stale)
    assert sm.main([str(path), "--check", str(tmp_path / "README.md")]) == 1
    (tmp_path / "README.md").write_text(readme)
    assert sm.main([str(path), "--check", str(tmp_path / "README.md")]) == 0
    assert np.isclose(sum(s["stages_s"].values()), 61.0)


def test_left_out_cells_are_blank_in_tables_and_heatmaps(tmp_path):
    from transel_jax.report import figures, tables

    gain = [[float("nan"), 1.5], [-2.0, None]]
    text = tables.matrix_table(gain, ["a", "b"], ["a", "b"], "{:+.1f}")
    assert "nan" not in text.lower() and "| a | - | +1.5 |" in text and "| b | -2.0 | - |" in text
    path = figures.heatmap(gain, ["a", "b"], ["a", "b"], str(tmp_path / "g.png"), "gain", cmap="RdBu")
    assert (tmp_path / "g.png").stat().st_size > 0 and path.endswith("g.png")
