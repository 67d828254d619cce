"""`transel run` end to end on a tiny config: every stage, every table and figure, every number finite;
a rerun recomputes nothing, and a stage whose marker is gone is recomputed alone."""
import glob
import json
import os
import re

import numpy as np
import pytest

from transel_jax import cli
from transel_jax.run import pipeline
from transel_jax.run.stage import MARKER, read_npz

from result_checks import json_numbers

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "tiny_config.py")


@pytest.fixture(scope="module")
def run_dir(tiny_single_run):
    """The session's tiny study (``transel run`` with one CPU device) (tests/run/conftest.py), shared with the multi-host run test."""
    path, lines = tiny_single_run
    n = len(pipeline.STAGES)
    assert [line.split(":")[0] for line in lines] == [f"[{i}/{n}] {s.name}" for i, s in
                                                      enumerate(pipeline.STAGES, start=1)]
    return path


def test_every_stage_marked_and_every_result_number_finite(run_dir):
    for stage in pipeline.STAGES:
        marker = json.load(open(os.path.join(run_dir, stage.name, MARKER)))
        assert marker["wall_s"] > 0 and marker["line"]
    results = [p for p in glob.glob(os.path.join(run_dir, "**", "*.json"), recursive=True)
               if "checkpoints" not in p and not p.endswith("config.json")]
    assert len(results) > 20
    for path in results:
        values = list(json_numbers(json.load(open(path))))
        assert all(np.isfinite(values)), path
    arrays = glob.glob(os.path.join(run_dir, "**", "*.npz"), recursive=True)
    for path in arrays:
        for name, a in read_npz(path).items():
            if np.issubdtype(a.dtype, np.floating):
                assert np.all(np.isfinite(a)), (path, name)


def test_tables_and_figures(run_dir):
    report = os.path.join(run_dir, "report", "report.md")
    text = open(report).read()
    for heading in ("## Verdict", "## Ensemble transferability", "## Single-model", "## Selection",
                    "## Factors of influence", "## Statistics", "## Source pool", "## How this was produced"):
        assert heading in text
    assert not re.search(r"\bnan\b|\binf\b", text, re.IGNORECASE)
    figures = sorted(os.path.basename(p) for p in glob.glob(os.path.join(run_dir, "report", "figures", "*.png")))
    assert figures == ["domain_distance.png", "scatter_syn_underwater_murky.png", "selection_gains.png",
                       "stability.png", "transfer_gain.png", "weighted_tau_ensembles.png", "weighted_tau_single.png",
                       "winning_sources.png"]
    summary = json.load(open(os.path.join(run_dir, "report", "summary.json")))
    assert set(summary["ensemble"]["weighted_tau"]) == {"ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base"}
    stats = summary["statistics"]
    assert {"nleep", "transrate", "shrinkage_h_score"} <= set(stats["correlation"]["single"]["weighted_tau"])
    assert "influence" not in stats  # 2 (target, source) pairs: too few for a rank correlation
    assert {v["verdict"] for v in stats["verdicts"]} <= {"holds", "contradicted", "undecided", "not measured"}
    assert set(summary["stability"]["best_fraction"]) == {"ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base"}
    assert "diagnostics" in json.load(open(os.path.join(run_dir, "selection", "results.json")))["syn_underwater_murky"]
    ens = json.load(open(os.path.join(run_dir, "evaluate", "ensemble.json")))
    assert set(ens["weighted_tau"]["mean"]) == {"ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base"}
    actual = read_npz(os.path.join(run_dir, "actual", "syn_underwater_murky.npz"))
    kept = json.load(open(os.path.join(run_dir, "candidates", "kept.json")))["syn_underwater_murky"]
    assert len(kept) == 3 and actual["candidates"].shape == (3,) and actual["single"].shape == (3,)
    assert actual["ensembles"].shape == (3, 2) and np.all((actual["miou"] > 0) & (actual["miou"] <= 1))
    assert set(actual["ensembles"].ravel()) == set(actual["candidates"])
    tuned = sorted(os.path.basename(os.path.dirname(p)) for p in
                   glob.glob(os.path.join(run_dir, "finetune", "syn_underwater_murky", "*", "record.json")))
    selection = json.load(open(os.path.join(run_dir, "selection", "results.json")))["syn_underwater_murky"]
    # the finetune stage tunes the kept candidates; selection and influence add what they need from the pool
    assert set(kept) | set(selection["members"]) | {selection["b1"]} <= set(tuned)
    assert "syn_consumer_broad.resnet_tiny.pretrain" in tuned  # the influence baseline
    assert set(selection["gain"]) == {"b1", "average", "best_member", "worst_member", "b1l"}
    assert selection["b1l"] == selection["b1"]  # same dataset, init and (in this config) architecture
    assert selection["miou"]["b1l"] == pytest.approx(selection["miou"]["b1"], abs=1e-6)  # training is deterministic
    assert "B1L" in text
    # the head is kept only where it beats the plain average in 5-fold cross-validation on training images
    head, miou = selection["head"], selection["miou"]
    assert head["cv_miou"]["folds"] == 5
    assert head["kept"] == ("head" if head["cv_miou"]["head"] > head["cv_miou"]["average"] else "average")
    assert miou["selected"] == (head["test_miou"] if head["kept"] == "head" else miou["average"])
    sources = json.load(open(os.path.join(run_dir, "pool", "sources.json")))
    assert [s["id"] for s in sources] == ["syn_drive_day.resnet_tiny.generic", "syn_drive_day.resnet_tiny.scratch",
                                          "syn_underwater_reef.resnet_tiny.generic",
                                          "syn_underwater_reef.resnet_tiny.scratch"]


def test_rerun_through_the_cli_recomputes_only_what_is_missing(run_dir, capsys):
    os.remove(os.path.join(run_dir, "report", MARKER))
    argv = ["run", "--config", CONFIG, "--workdir", run_dir]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    n = len(pipeline.STAGES)
    assert out.count(": cached") == n - 1 and f"[{n}/{n}] report: done" in out
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.count(": cached") == n


def test_rerun_selection_refits_the_heads_and_trains_no_model(run_dir, tmp_path, capsys):
    """B1L models live in pool/larger/ and their fine-tunes in finetune/larger/, beside the models they are
    trained like: recomputing the selection stage (in a copy of the run) finds them, and every other model,
    trained."""
    import shutil

    run = str(tmp_path / "run")
    shutil.copytree(run_dir, run)
    records = sorted(glob.glob(os.path.join(run, "pool", "larger", "*", "record.json"))
                     + glob.glob(os.path.join(run, "finetune", "larger", "*", "*", "record.json")))
    assert len(records) >= 2 and not os.path.exists(os.path.join(run, "selection", "b1l"))
    models = glob.glob(os.path.join(run, "**", "record.json"), recursive=True)
    before = {p: os.path.getmtime(p) for p in models}
    result = json.load(open(os.path.join(run, "selection", "results.json")))
    assert cli.main(["run", "--config", CONFIG, "--workdir", run, "--rerun", "selection"]) == 0
    assert "selection: done" in capsys.readouterr().out
    assert {p: os.path.getmtime(p) for p in models} == before  # no model trained or fine-tuned again
    assert sorted(glob.glob(os.path.join(run, "**", "record.json"), recursive=True)) == sorted(models)
    again = json.load(open(os.path.join(run, "selection", "results.json")))
    assert again["syn_underwater_murky"]["b1l"] == result["syn_underwater_murky"]["b1l"]
    assert again["syn_underwater_murky"]["miou"]["b1l"] == result["syn_underwater_murky"]["miou"]["b1l"]
