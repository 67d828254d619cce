"""`transel run --dry-run`: the plan agrees with what a run then does, counts the work, finds missing data,
exits 2 on missing data, and writes nothing."""
import dataclasses
import importlib.util
import itertools
import os

import ml_collections
import pytest

from transel_jax import cli
from transel_jax.config import load_config
from transel_jax.data import catalog
from transel_jax.run import dryrun
from transel_jax.run.stage import Context, Stage, run_stages, walk

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PAPER = os.path.join(ROOT, "configs", "paper.py")
TINY = os.path.join(HERE, "tiny_config.py")


def tree(path):
    """Every file and folder under ``path`` with its modification time."""
    out = {}
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(folder, name)
            out[full] = os.stat(full).st_mtime_ns
    return out


def dry(capsys, *argv):
    status = cli.main(["run", *argv, "--dry-run"])
    return status, capsys.readouterr().out


def test_paper_config_without_data_names_every_real_dataset_missing(tmp_path, capsys):
    data_dir, run_dir = tmp_path / "empty", tmp_path / "run"
    data_dir.mkdir()
    status, out = dry(capsys, "--config", PAPER, "--workdir", str(run_dir), f"--config.data.data_dir={data_dir}")
    assert status == 2
    missing = {line.split()[1] for line in out.splitlines() if line.strip().startswith("MISSING")}
    assert missing == set(catalog.names(suite="real")) and len(missing) == 17
    for name in missing:  # where it was looked for and what prepares it
        assert os.path.join(str(data_dir), "transel_real", name) in out
        assert f"transel real prepare {name} " in out
    assert "pool models to train: 62 (2 generic + 60 candidates)" in out
    assert sorted(tree(tmp_path)) == [str(data_dir)]  # no run directory, nothing written


def test_paper_work_counts_match_the_config():
    config = load_config(PAPER)
    w = dryrun.work(config)
    datasets, archs, inits = config.pool.datasets, config.pool.architectures, config.pool.inits
    assert (w.generic, w.candidates) == (len(archs), len(datasets) * len(archs) * len(inits)) == (2, 60)
    keep = config.probe.get("candidates", 0)
    assert w.kept == (keep if 0 < keep < w.candidates else w.candidates)
    size = config.probe.ensemble_size
    assert w.scored == sum(1 for _ in itertools.combinations(range(w.candidates), size))
    assert w.evaluated == sum(1 for _ in itertools.combinations(range(w.kept), size))
    assert w.targets == tuple(config.targets.datasets) and w.probe_seeds == tuple(config.probe.seeds)


def test_candidates_zero_keeps_the_whole_pool():
    config = load_config(PAPER, ["--config.probe.ensemble_size=2"])
    config.probe.candidates = 0  # set whether or not the config has the field yet
    w = dryrun.work(config)
    assert w.kept == w.candidates == 60 and w.scored == w.evaluated == 60 * 59 // 2 and w.extra_at_most == 0


def test_prepared_data_is_found_present(tmp_path):
    spec = importlib.util.spec_from_file_location("real_tfds_trees", os.path.join(ROOT, "tests", "data",
                                                                                   "test_real_tfds.py"))
    trees = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trees)
    from transel_jax.data.real import tfds_builder

    trees.write_suim(tmp_path / "suim", n_train=3, n_test=2)  # a fake SUIM tree, prepared from local files
    tfds_builder.prepare("suim", root=tmp_path / "suim", data_dir=tmp_path / "tfds")
    checks = {c.name: c for c in dryrun.check_data(load_config(PAPER, [f"--config.data.data_dir={tmp_path / 'tfds'}"]))}
    assert checks["suim"].problem is None and checks["suim"].named_by == ("pool.datasets",)
    assert all(c.problem and c.files_missing for name, c in checks.items() if name != "suim")
    assert len(checks) == 17


def test_tiny_config_plan_exits_0_and_writes_nothing(tmp_path, capsys):
    run_dir = tmp_path / "run"
    status, out = dry(capsys, "--config", TINY, "--workdir", str(run_dir), "--rerun", "finetune")
    assert status == 0
    from transel_jax.run.pipeline import STAGES

    stage_lines = [line.strip() for line in out.splitlines() if line.startswith("  [")]
    assert [line.split(":")[0] for line in stage_lines] == [f"[{i}/{len(STAGES)}] {s.name}"
                                                            for i, s in enumerate(STAGES, start=1)]
    assert all(line.endswith("will run") for line in stage_lines)
    index = [s.name for s in STAGES].index("finetune") + 1
    assert f"[{index}/{len(STAGES)}] finetune: stale (--rerun): will run" in out
    assert "MISSING" not in out and "0 missing" in out
    assert list(tmp_path.iterdir()) == []


def test_unknown_rerun_stage_is_refused(tmp_path, capsys):
    code = cli.main(["run", "--config", TINY, "--workdir", str(tmp_path / "r"), "--rerun", "nope", "--dry-run"])
    assert code == 2
    assert "rerun: expected stage names among" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------ the plan predicts the run


def toy_stages(calls):
    """up (group a) -> pick (content-addressed, keeps b.y % 2) -> fit (after pick) and join (after up, pick)."""
    def stage(name, value=None):
        def fn(ctx):
            calls.append(name)
            return {"kept": value(ctx.config)} if value else {}
        return fn

    return (Stage("up", stage("up"), ("a",)),
            Stage("pick", stage("pick", lambda c: c.b.y % 2), ("b",), ("up",), digest=lambda s: s["kept"]),
            Stage("fit", stage("fit"), (), ("pick",)),
            Stage("join", stage("join"), (), ("up", "pick")))


def config(a, b):
    return ml_collections.ConfigDict({"a": {"x": a}, "b": {"y": b}})


@pytest.mark.parametrize("change,rerun,expect", [
    ((1, 2), (), {"up": "cached", "pick": "cached", "fit": "cached", "join": "cached"}),
    ((1, 4), (), {"up": "cached", "pick": "stale", "fit": "pending", "join": "pending"}),  # same digest
    ((1, 3), (), {"up": "cached", "pick": "stale", "fit": "pending", "join": "pending"}),  # new digest
    ((5, 2), (), {"up": "stale", "pick": "stale", "fit": "pending", "join": "stale"}),
    ((1, 2), ("fit",), {"up": "cached", "pick": "cached", "fit": "stale", "join": "cached"}),
])
def test_dry_plan_predicts_what_the_run_does(tmp_path, change, rerun, expect):
    calls = []
    run_stages(toy_stages(calls), Context(config=config(1, 2), run_dir=str(tmp_path), print_fn=lambda s: None))
    before = tree(tmp_path)
    steps = list(walk(toy_stages(calls), config(*change), str(tmp_path), lambda step: None, rerun=rerun))
    assert tree(tmp_path) == before and len(calls) == 4  # the plan ran and wrote nothing
    assert {s.stage.name: s.decision.action for s in steps} == expect
    del calls[:]
    run_stages(toy_stages(calls), Context(config=config(*change), run_dir=str(tmp_path), print_fn=lambda s: None),
               rerun=rerun)
    for name, action in expect.items():
        if action == "cached":
            assert name not in calls
        elif action in ("run", "stale"):
            assert name in calls
    # a pending stage runs exactly when the digest it waits for changed (b.y odd here)
    pending = {name for name, action in expect.items() if action == "pending"}
    assert pending & set(calls) == (pending if change[1] % 2 else set())


def test_a_stage_stale_whatever_the_awaited_digest_is_called_stale(tmp_path):
    calls = []
    stages = toy_stages(calls)
    run_stages(stages, Context(config=config(1, 2), run_dir=str(tmp_path), print_fn=lambda s: None))
    bumped = stages[:2] + (dataclasses.replace(stages[2], version=2),) + stages[3:]
    steps = list(walk(bumped, config(1, 4), str(tmp_path), lambda s: None))
    assert [s.decision.action for s in steps] == ["cached", "stale", "stale", "pending"]
    assert steps[2].decision.why == "version 1 -> 2"


def test_stage_lines_of_each_action(tmp_path):
    calls = []
    run_stages(toy_stages(calls), Context(config=config(1, 2), run_dir=str(tmp_path), print_fn=lambda s: None))
    os.remove(tmp_path / "join" / "done.json")  # as if interrupted
    lines = [dryrun.stage_line(s) for s in walk(toy_stages(calls), config(1, 3), str(tmp_path), lambda s: None)]
    assert lines[0].startswith("[1/4] up: cached (")
    assert lines[1] == "[2/4] pick: stale (config b changed): will run"
    assert lines[2] == "[3/4] fit: pending (runs unless pick reproduces its digest)"
    assert lines[3] == "[4/4] join: pending (runs unless pick reproduces its digest)"
    lines = [dryrun.stage_line(s) for s in walk(toy_stages(calls), config(1, 2), str(tmp_path), lambda s: None)]
    assert lines[3] == "[4/4] join: will run (resuming an interrupted attempt)"
    lines = [dryrun.stage_line(s) for s in walk(toy_stages(calls), config(2, 3), str(tmp_path), lambda s: None,
                                                rerun=("up",))]
    assert lines[1] == "[2/4] pick: stale (['up'] recomputed before it): will run"
    assert lines[2] == "[3/4] fit: pending (runs unless pick reproduces its digest)"
    assert lines[3] == "[4/4] join: stale (['up'] recomputed before it): will run"
    os.remove(tmp_path / "join" / "started.json")
    lines = [dryrun.stage_line(s) for s in walk(toy_stages(calls), config(1, 2), str(tmp_path), lambda s: None)]
    assert lines[3] == "[4/4] join: will run"
