"""Report rendering from plain data: tables, verdicts (both ways), every figure written as a PNG."""
import os

import numpy as np
import pytest
from PIL import Image

from transel_jax.report import render, write_report
from transel_jax.report.markdown import verdicts
from transel_jax.report.tables import markdown_table, matrix_table, measure_table

ENS = ["ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base"]
SINGLE = ["leep", "parc", "leep+depth"]


def block(metrics, targets, value):
    rows = {t: {m: (value(m), 0.01) for m in metrics} for t in targets}
    rows["mean"] = {m: (value(m), 0.0) for m in metrics}
    return rows


def make_data(base_tau=0.1, gain_b1=3.0):
    rng = np.random.default_rng(0)
    targets = ["syn_a", "syn_b"]
    tau = lambda m: base_tau if m == "base" else 0.4  # noqa: E731
    ens_eval = {k: block(ENS, targets, tau) for k in ("weighted_tau", "kendall_tau", "pearson", "relative_top1")}
    single_eval = {k: block(SINGLE, targets, lambda m: 0.2) for k in ("weighted_tau", "relative_top1")}
    sources = [{"id": f"s{i}", "domain": "driving", "architecture": "resnet_tiny", "init": "scratch", "depth": 10,
                "params": 1234, "num_images": 100, "num_classes": 5, "test_miou": 0.5} for i in range(4)]
    gains = {"b1": gain_b1, "average": 1.0, "best_member": 0.5, "worst_member": 9.0}
    selection = {t: {"members": ["s0", "s1", "s2"], "b1": "s1", "gain": gains,
                     "miou": {"selected": 0.5, "b1": 0.48, "average": 0.49, "best_member": 0.495,
                              "worst_member": 0.4}} for t in targets}
    return {
        "title": "test run", "run_dir": "/tmp/x", "config": {"name": "t"}, "seeds": [0, 1],
        "provenance": {"versions": {"jax": "x"}}, "stages": [{"name": "pool", "wall_s": 1.5, "line": "ok"}],
        "sources": sources, "ensemble_metrics": ENS, "single_metrics": SINGLE,
        "ensemble_eval": ens_eval, "single_eval": single_eval,
        "scatter": {t: {"actual": rng.random(4), "scores": {m: rng.random(4) for m in ENS},
                        "wtau": {m: 0.3 for m in ENS}} for t in targets},
        "winning": {"sources": [s["id"] for s in sources], "top_k": 4, "counts": {t: [3, 3, 3, 3] for t in targets}},
        "selection": selection, "baselines": list(gains),
        "influence": {"targets": targets, "sources": ["d1", "d2", "d3"], "architecture": "resnet_tiny",
                      "init": "generic", "gain": rng.normal(size=(2, 3)) * 10,
                      "distance": {"target_to_source": rng.random((2, 3))},
                      "tau": {"emd": {"pooled": 0.1, "per_target_mean": 0.2},
                              "target_to_source": {"pooled": 0.3, "per_target_mean": 0.4}}},
    }


def test_write_report_produces_every_figure_and_table(tmp_path):
    out = write_report(make_data(), str(tmp_path))
    text = open(out["report"]).read()
    names = sorted(os.path.basename(p) for p in out["figures"])
    assert names == sorted(["scatter_syn_a.png", "scatter_syn_b.png", "weighted_tau_ensembles.png",
                            "weighted_tau_single.png", "winning_sources.png", "selection_gains.png",
                            "transfer_gain.png", "domain_distance.png"])
    for path in out["figures"]:
        with Image.open(path) as im:
            assert im.format == "PNG" and im.size[0] > 100
        assert os.path.relpath(path, tmp_path) in text  # every figure is linked from the report
    for heading in ("## Verdict", "## Ensemble transferability", "## Single-model", "## Selection",
                    "## Factors of influence", "## Source pool", "## How this was produced"):
        assert heading in text
    assert "| **mean** | +0.400 ± 0.000 |" in text


def test_verdicts_say_plainly_when_ensemble_metrics_or_selection_lose():
    good = verdicts(make_data(base_tau=0.1, gain_b1=3.0))
    assert "every ensemble metric beats BASE" in good[0] and "beats B1" in good[1]
    bad = verdicts(make_data(base_tau=0.9, gain_b1=-2.0))
    assert "did not all beat BASE" in bad[0] and "does not beat" in bad[1]
    assert len(good) == 2  # no B1L in this data, and the ensemble beats its best member on both targets


def test_verdicts_name_b1l_below_b1_and_targets_below_their_best_member():
    data = make_data()
    data["baselines"].append("b1l")
    for t, r in data["selection"].items():
        r["miou"]["b1l"] = 0.40  # B1 is 0.48
        r["gain"] = {**r["gain"], "b1l": 100 * (0.5 / 0.40 - 1)}
    data["selection"]["syn_b"]["gain"]["best_member"] = -4.0
    lines = verdicts(data)
    assert "+25.00%" in lines[2] and "0.400 is **below** B1's 0.480" in lines[2]
    assert "below its own best member** on syn_b -4.0%" in lines[3] and "syn_a" not in lines[3]


def test_tables_shape_and_errors():
    assert markdown_table(["a", "b"], [[1, 2]]).splitlines() == ["| a | b |", "|---|---|", "| 1 | 2 |"]
    with pytest.raises(ValueError, match="rows\\[0\\]: expected 2 cells"):
        markdown_table(["a", "b"], [[1]])
    table = measure_table({"t": {"m": (0.5, 0.1)}, "mean": {"m": (0.5, 0.0)}}, ["m"])
    assert table.splitlines()[2] == "| t | +0.500 ± 0.100 |"
    assert matrix_table([[1.0, -2.0]], ["t"], ["s1", "s2"], "{:+.1f}").splitlines()[2] == "| t | +1.0 | -2.0 |"


def test_render_without_optional_studies():
    data = make_data()
    data["selection"], data["influence"] = None, None
    text = render(data, {"weighted_tau_ensembles": "w.png", "weighted_tau_single": "s.png",
                         "winning_sources": "x.png", "scatter_syn_a": "a.png", "scatter_syn_b": "b.png"})
    assert "## Selection" not in text and "## Factors of influence" not in text
