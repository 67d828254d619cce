"""Stage framework: markers, skipping, invalidation on config change (downstream too), resume, --fresh."""
import json
import os

import ml_collections
import numpy as np
import pytest

from transel_jax.run.stage import (MARKER, RUN_MARKER, Context, Stage, prepare_run_dir, read_npz, run_stages,
                                   write_json, write_npz)


def make_config(a=1, b=2):
    return ml_collections.ConfigDict({"a": {"x": a}, "b": {"y": b}})


class Recorder:
    """Stage functions that count their calls and write an output file."""

    def __init__(self):
        self.calls = []

    def stage(self, name):
        def fn(ctx):
            self.calls.append(name)
            with open(os.path.join(ctx.dir(name), "out.txt"), "w") as f:
                f.write(name)
            return {"value": len(self.calls)}
        return fn


def stages(rec):
    return (Stage("first", rec.stage("first"), ("a",), (), lambda s: f"v={s['value']}"),
            Stage("second", rec.stage("second"), ("b",), ("first",)),
            Stage("third", rec.stage("third"), (), ("second",)))


def run(tmp_path, rec, config, lines=None):
    ctx = Context(config=config, run_dir=str(tmp_path), print_fn=(lines.append if lines is not None else print))
    prepare_run_dir(str(tmp_path), fresh=False)
    return run_stages(stages(rec), ctx, seed=7)


def test_markers_record_fingerprint_seed_time_and_versions(tmp_path):
    rec, lines = Recorder(), []
    markers = run(tmp_path, rec, make_config(), lines)
    assert rec.calls == ["first", "second", "third"]
    marker = json.load(open(tmp_path / "first" / MARKER))
    assert marker["seed"] == 7 and marker["wall_s"] >= 0 and marker["summary"] == {"value": 1}
    assert marker["line"] == "v=1" and "jax" in marker["provenance"]["versions"]
    assert len(marker["fingerprint"]) == 64 and markers["first"]["fingerprint"] == marker["fingerprint"]
    assert lines[0].startswith("[1/3] first: done in") and lines[0].endswith("v=1")


def test_rerun_skips_finished_stages(tmp_path):
    rec = Recorder()
    run(tmp_path, rec, make_config())
    lines = []
    run(tmp_path, rec, make_config(), lines)
    assert rec.calls == ["first", "second", "third"]  # nothing recomputed
    assert all("cached" in line for line in lines)


def test_config_change_recomputes_that_stage_and_everything_downstream(tmp_path):
    rec = Recorder()
    run(tmp_path, rec, make_config())
    run(tmp_path, rec, make_config(b=3))  # only "second" reads group b
    assert rec.calls == ["first", "second", "third", "second", "third"]
    run(tmp_path, rec, make_config(a=5, b=3))
    assert rec.calls[5:] == ["first", "second", "third"]


def test_a_stage_that_runs_again_reruns_the_stages_after_it(tmp_path):
    rec = Recorder()
    run(tmp_path, rec, make_config())
    os.remove(tmp_path / "second" / MARKER)
    lines = []
    run(tmp_path, rec, make_config(), lines)
    assert rec.calls[3:] == ["second", "third"]
    assert "cached" in lines[0] and "['second'] were recomputed" in lines[2]


def test_interrupted_stage_resumes_without_losing_finished_items(tmp_path):
    calls = []

    def flaky(ctx):
        done = os.path.join(ctx.dir("work"), "item0.json")
        if not os.path.exists(done):
            write_json(done, {"item": 0})
            calls.append("item0")
            raise KeyboardInterrupt  # interrupted after the first item
        calls.append("item1")
        return {}

    ctx = Context(config=make_config(), run_dir=str(tmp_path), print_fn=lambda s: None)
    with pytest.raises(KeyboardInterrupt):
        run_stages((Stage("work", flaky, ()),), ctx)
    assert not os.path.exists(tmp_path / "work" / MARKER)
    run_stages((Stage("work", flaky, ()),), ctx)
    assert calls == ["item0", "item1"] and os.path.exists(tmp_path / "work" / MARKER)


def test_fresh_clears_run_directories_only(tmp_path):
    rec = Recorder()
    run(tmp_path, rec, make_config())
    prepare_run_dir(str(tmp_path), fresh=True)
    assert sorted(os.listdir(tmp_path)) == [RUN_MARKER]
    other = tmp_path / "not_a_run"
    other.mkdir()
    (other / "precious.txt").write_text("x")
    with pytest.raises(ValueError, match="clears only run directories"):
        prepare_run_dir(str(other), fresh=True)
    assert (other / "precious.txt").exists()


def test_bad_stage_lists_and_missing_config_groups_are_refused(tmp_path):
    ctx = Context(config=make_config(), run_dir=str(tmp_path))
    noop = lambda ctx: {}  # noqa: E731
    with pytest.raises(ValueError, match="not earlier stages"):
        run_stages((Stage("b", noop, (), ("a",)), Stage("a", noop, ())), ctx)
    with pytest.raises(ValueError, match="unique names"):
        run_stages((Stage("a", noop, ()), Stage("a", noop, ())), ctx)
    with pytest.raises(ValueError, match="missing \\['zzz'\\]"):
        run_stages((Stage("a", noop, ("zzz",)),), ctx)
    with pytest.raises(ValueError, match="until"):
        run_stages((Stage("a", noop, ()),), ctx, until="nope")


def test_npz_round_trip_is_atomic(tmp_path):
    path = str(tmp_path / "x.npz")
    write_npz(path, a=np.arange(3), b=np.ones((2, 2), np.float16))
    got = read_npz(path)
    np.testing.assert_array_equal(got["a"], np.arange(3))
    assert got["b"].dtype == np.float16 and os.listdir(tmp_path) == ["x.npz"]
