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


def _verdict(i, verdict, estimate):
    return {"id": i, "claim": f"claim {i}", "source": "000", "verdict": verdict, "estimate": estimate,
            "ci": [estimate - 0.1, estimate + 0.1]}


def test_compare_block_puts_two_seeds_verdicts_side_by_side(tmp_path):
    a = {"suite_seed": 0, "provenance": {"git_commit": "1111111aaa"},
         "statistics": {"verdicts": [_verdict("x", "holds", 0.5), _verdict("y", "undecided", 0.05),
                                     _verdict("only_a", "holds", 0.3)]}}
    b = {"suite_seed": 1, "provenance": {"git_commit": "1111111aaa"},
         "statistics": {"verdicts": [_verdict("x", "holds", 0.4), _verdict("y", "contradicted", -0.2)]}}
    block = sm.compare_block([a, b], "study-seeds")
    rows = [line for line in block.splitlines() if line.startswith("| claim ")]
    assert rows[0].startswith("| claim | suite seed 0 | suite seed 1 | same verdict |")
    x = next(line for line in block.splitlines() if line.startswith("| claim x |"))
    y = next(line for line in block.splitlines() if line.startswith("| claim y |"))
    assert x.endswith("| yes |") and "holds (+0.500, [+0.40, +0.60])" in x and "holds (+0.400" in x
    assert y.endswith("| no |") and "contradicted (-0.200" in y
    assert "only_a" not in block and "1111111" in block  # only claims both runs measured
    paths = []
    for k, s in enumerate((a, b)):
        paths.append(tmp_path / f"s{k}.json")
        paths[-1].write_text(json.dumps(s))
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{block}\n")
    assert sm.main([str(paths[0]), "--compare", str(paths[1]), "--name", "study-seeds", "--check", str(readme)]) == 0
    readme.write_text(f"intro\n{block.replace('| yes |', '| no |')}\n")
    assert sm.main([str(paths[0]), "--compare", str(paths[1]), "--name", "study-seeds", "--check", str(readme)]) == 1


def test_compare_block_of_runs_sharing_a_seed_names_their_processor_and_commit():
    v = {"verdicts": [_verdict("x", "holds", 0.5)]}
    a = {"suite_seed": 0, "provenance": {"git_commit": "2222222bbb", "processor": "CPU A"}, "statistics": v}
    b = {"suite_seed": 0, "provenance": {"git_commit": "3333333ccc"}, "statistics": v}  # an older summary
    head = sm.compare_block([a, b], "study-machines").splitlines()[1]
    assert head == ("| claim | suite seed 0, CPU A, 2222222 | suite seed 0, processor not recorded, 3333333 "
                    "| same verdict |")


def test_block_tables_of_the_statistics():
    s = json.loads(json.dumps(sm.summary(data())))
    comp = {"estimate": 0.125, "ci": [0.05, 0.2], "wins": 3, "ties": 1, "losses": 0, "sign_test_p": 0.25}
    gain = {"estimate": 4.0, "ci": [-1.0, 9.0], "median": 3.5, "wins": 2, "ties": 0, "losses": 1, "sign_test_p": 1.0}
    tau = {"estimate": 0.3, "ci": [0.1, 0.5], "p_value": 0.012, "n_pairs": 42}
    s["statistics"] = {"comparisons": {"ensemble": {"weighted_tau": {"soft_iou_eep - base": comp}}},
                       "selection": {"b1": gain}, "influence": {"emd": tau}}
    s["stability"] = {"metrics": ["e_leep", "base"], "n_setups": 10, "best_fraction": {"e_leep": 0.9, "base": 0.1},
                      "beats": {"e_leep": {"base": 0.8}, "base": {"e_leep": 0.2}}}
    s["selection_diagnostics"] = {"t1": {"gain_over_best_member": -1.0, "disagreement": 0.05,
                                         "head_gain_over_average": 0.5, "best_member_margin": 0.1},
                                  "t2": {"gain_over_best_member": 2.0, "disagreement": 0.25,
                                         "head_gain_over_average": -3.0, "best_member_margin": 0.0,
                                         "head_kept": "average"}}
    block = sm.readme_block(s, "demo")
    assert "| soft_iou_eep - base | +0.125 | [+0.05, +0.20] | 3 / 1 / 0 | 0.25 |" in block
    assert "| b1 | +4.0% | [-1.0, +9.0] | +3.5% | 2 / 0 / 1 | 1 |" in block
    assert "| emd | +0.300 | [+0.10, +0.50] | 0.012 | 42 |" in block
    assert "| E-LEEP | 0.90 | - | 0.80 |" in block and "| BASE | 0.10 | 0.20 | - |" in block
    assert "| t1 | -1.0% | 0.050 | +0.5% | head | +0.100 |" in block  # summaries before head_folds: the head
    assert "| t2 | +2.0% | 0.250 | -3.0% | average | +0.000 |" in block
    assert sm.check(f"x\n{block}\n", s, "demo") == []
