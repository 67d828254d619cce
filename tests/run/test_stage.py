"""Stage framework: markers, skipping, invalidation on config change (downstream too), resume, --fresh."""
import json
import os
import re

import ml_collections
import numpy as np
import pytest

from transel_jax.run import stage as stage_module
from transel_jax.run.stage import (MARKER, RUN_MARKER, Context, Stage, code_note, prepare_run_dir, read_json,
                                   read_npz, run_stages, write_json, write_npz)


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


def stages(rec, version=1):
    return (Stage("first", rec.stage("first"), ("a",), (), lambda s: f"v={s['value']}"),
            Stage("second", rec.stage("second"), ("b",), ("first",), version=version),
            Stage("third", rec.stage("third"), (), ("second",)))


def run(tmp_path, rec, config, lines=None, version=1, **kwargs):
    ctx = Context(config=config, run_dir=str(tmp_path), print_fn=(lines.append if lines is not None else print))
    prepare_run_dir(str(tmp_path), fresh=False)
    return run_stages(stages(rec, version), ctx, seed=7, **kwargs)


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
    rec, lines = Recorder(), []
    run(tmp_path, rec, make_config())
    run(tmp_path, rec, make_config(b=3), lines)  # only "second" reads group b
    assert rec.calls == ["first", "second", "third", "second", "third"]
    assert lines[1].startswith("[2/3] second: stale (config b changed): recomputing")
    run(tmp_path, rec, make_config(a=5, b=3))
    assert rec.calls[5:] == ["first", "second", "third"]


def test_a_stage_that_runs_again_reruns_the_stages_after_it(tmp_path):
    rec = Recorder()
    run(tmp_path, rec, make_config())
    os.remove(tmp_path / "second" / MARKER)
    lines = []
    run(tmp_path, rec, make_config(), lines)
    assert rec.calls[3:] == ["second", "third"]
    assert "cached" in lines[0] and "stale (['second'] recomputed before it)" in lines[2]


def test_version_bump_recomputes_that_stage_and_everything_downstream(tmp_path):
    rec, lines = Recorder(), []
    run(tmp_path, rec, make_config())
    run(tmp_path, rec, make_config(), lines, version=2)
    assert rec.calls[3:] == ["second", "third"]
    assert "cached" in lines[0] and "stale (version 1 -> 2)" in lines[1]
    assert read_json(tmp_path / "second" / MARKER)["inputs"]["version"] == 2
    run(tmp_path, rec, make_config(), version=2)
    assert rec.calls[5:] == []
    lines = []
    run(tmp_path, rec, make_config(), lines)  # back to 1 is a change too
    assert rec.calls[5:] == ["second", "third"] and "stale (version 2 -> 1)" in lines[1]
    with pytest.raises(ValueError, match="version: expected an int >= 1"):
        Stage("x", lambda ctx: {}, (), version=0)


def test_rerun_clears_the_named_stages_and_recomputes_downstream(tmp_path):
    rec, lines = Recorder(), []
    run(tmp_path, rec, make_config())
    (tmp_path / "second" / "item_cache.json").write_text("{}")  # a per-item cache, stale like the rest
    run(tmp_path, rec, make_config(), lines, rerun=("second",))
    assert rec.calls[3:] == ["second", "third"]
    assert "cached" in lines[0] and "second: stale (--rerun): recomputing" in lines[1]
    assert not (tmp_path / "second" / "item_cache.json").exists()
    run(tmp_path, rec, make_config(), rerun=["first", "third"])
    assert rec.calls[5:] == ["first", "second", "third"]


def test_rerun_of_unknown_stages_is_refused_before_anything_runs(tmp_path):
    rec = Recorder()
    with pytest.raises(ValueError, match=r"rerun: expected stage names among \['first', 'second', 'third'\], "
                                         r"got \['nope', 'fourth'\]"):
        run(tmp_path, rec, make_config(), rerun=("first", "nope", "fourth"))
    with pytest.raises(TypeError, match="rerun"):
        run(tmp_path, rec, make_config(), rerun="second")  # a bare string is not a list of names
    assert rec.calls == []


def _identity(version, commit):
    return lambda: {"transel_jax": version, "git_commit": commit}


def test_cached_line_says_when_other_code_computed_the_stage(tmp_path, monkeypatch):
    rec = Recorder()
    old, new = "1a2b3c4" + "0" * 33, "5d6e7f8" + "1" * 33
    monkeypatch.setattr(stage_module, "provenance", lambda **kw: {"versions": {"transel_jax": "0.1.0"},
                                                                 "git_commit": old})
    run(tmp_path, rec, make_config())
    lines = []
    monkeypatch.setattr(stage_module, "code_identity", _identity("0.1.0", old))
    run(tmp_path, rec, make_config(), lines)
    wall = read_json(tmp_path / "first" / MARKER)["wall_s"]
    assert lines[0] == f"[1/3] first: cached ({wall:.1f} s when run) v=1"
    lines = []
    monkeypatch.setattr(stage_module, "code_identity", _identity("0.1.0", new))
    run(tmp_path, rec, make_config(), lines)
    assert rec.calls == ["first", "second", "third"]  # a note, not a recompute
    assert len(lines) == 3 and all("\n" not in line for line in lines)
    assert re.fullmatch(r"\[1/3\] first: cached \(\d+\.\d s when run; computed by transel_jax 0\.1\.0 @ 1a2b3c4, "
                        r"now @ 5d6e7f8: --rerun first to recompute\) v=1", lines[0]), lines[0]
    assert "--rerun third to recompute" in lines[2]


def test_code_note_names_what_differs_and_only_what_is_known():
    marker = {"provenance": {"versions": {"transel_jax": "0.1.0"}, "git_commit": "a" * 40}}
    assert code_note(marker, {"transel_jax": "0.1.0", "git_commit": "a" * 40}) == ""
    assert code_note(marker, {"transel_jax": "0.2.0", "git_commit": "b" * 40}) == \
        "transel_jax 0.1.0 @ aaaaaaa, now 0.2.0 @ bbbbbbb"
    assert code_note(marker, {"transel_jax": "0.2.0", "git_commit": None}) == \
        "transel_jax 0.1.0 @ aaaaaaa, now 0.2.0 (no git commit)"
    unknown = {"provenance": {"versions": {"transel_jax": "0.1.0"}}}  # written before commits were recorded
    assert code_note(unknown, {"transel_jax": "0.1.0", "git_commit": "b" * 40}) == ""


def digest_stages(rec):
    """up (group a) -> pick (content-addressed, group b: keeps b.y % 2) -> fit (after pick only) and
    join (after up and pick)."""
    def pick(ctx):
        rec.calls.append("pick")
        return {"kept": ctx.config.b.y % 2, "call": len(rec.calls)}

    return (Stage("up", rec.stage("up"), ("a",)),
            Stage("pick", pick, ("b",), ("up",), digest=lambda summary: summary["kept"]),
            Stage("fit", rec.stage("fit"), (), ("pick",)),
            Stage("join", rec.stage("join"), (), ("up", "pick")))


def run_digest(tmp_path, rec, config, lines=None, **kwargs):
    ctx = Context(config=config, run_dir=str(tmp_path), print_fn=(lines.append if lines is not None else print))
    return run_stages(digest_stages(rec), ctx, **kwargs)


def test_content_addressed_stage_same_digest_keeps_downstream_cached(tmp_path):
    rec, lines = Recorder(), []
    run_digest(tmp_path, rec, make_config(b=2))
    assert rec.calls == ["up", "pick", "fit", "join"]
    run_digest(tmp_path, rec, make_config(b=4), lines)  # pick recomputes, keeps 4 % 2 == 2 % 2
    assert rec.calls[4:] == ["pick"]
    assert "pick: stale (config b changed)" in lines[1] and "pick: done" in lines[2]
    assert lines[3].startswith("[3/4] fit: cached") and lines[4].startswith("[4/4] join: cached")
    run_digest(tmp_path, rec, make_config(b=4), rerun=("pick",))  # --rerun of it alone: same digest
    assert rec.calls[5:] == ["pick"]


def test_content_addressed_stage_new_digest_recomputes_downstream(tmp_path):
    rec, lines = Recorder(), []
    run_digest(tmp_path, rec, make_config(b=2))
    run_digest(tmp_path, rec, make_config(b=3), lines)  # 3 % 2 != 2 % 2
    assert rec.calls[4:] == ["pick", "fit", "join"]
    assert "fit: stale (pick changed)" in lines[3]
    fit = read_json(tmp_path / "fit" / MARKER)
    assert fit["inputs"]["after"]["pick"] == read_json(tmp_path / "pick" / MARKER)["digest"]
    assert fit["inputs"]["after"]["pick"].startswith("digest:")


def test_upstream_change_through_a_content_addressed_stage(tmp_path):
    rec = Recorder()
    run_digest(tmp_path, rec, make_config(a=1, b=2))
    run_digest(tmp_path, rec, make_config(a=5, b=2))  # up recomputes -> pick recomputes, same digest
    # fit reads only pick: cached; join reads up too, which was recomputed
    assert rec.calls[4:] == ["up", "pick", "join"]


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


def test_interrupted_stage_restarts_when_its_inputs_changed(tmp_path):
    rec = Recorder()

    def partial(ctx):  # writes one work item, then is interrupted
        write_json(os.path.join(ctx.dir("second"), "item0.json"), {"b": ctx.config.b.y})
        raise KeyboardInterrupt

    def run_with(second, config, lines=None):
        chain = (stages(rec)[0], Stage("second", second, ("b",), ("first",)))
        ctx = Context(config=config, run_dir=str(tmp_path), print_fn=lines.append if lines is not None else print)
        return run_stages(chain, ctx)

    with pytest.raises(KeyboardInterrupt):
        run_with(partial, make_config(b=2))
    lines = []
    run_with(rec.stage("second"), make_config(b=3), lines)  # other inputs: the item of b=2 is stale
    assert not (tmp_path / "second" / "item0.json").exists()
    assert "second: stale (config b changed): recomputing" in lines[1]
    with pytest.raises(KeyboardInterrupt):
        run_with(partial, make_config(a=1, b=4))
    run_with(rec.stage("second"), make_config(a=2, b=4))  # first recomputed: second's leftovers are stale
    assert not (tmp_path / "second" / "item0.json").exists()
    assert rec.calls == ["first", "second", "first", "second"]


def test_fresh_clears_run_directories_only(tmp_path):
    rec = Recorder()
    run(tmp_path, rec, make_config())
    (tmp_path / ".jax_cache").mkdir()
    (tmp_path / ".jax_cache" / "program").write_text("compiled")
    prepare_run_dir(str(tmp_path), fresh=True)
    assert sorted(os.listdir(tmp_path)) == [".jax_cache", RUN_MARKER]  # the compilation cache is kept
    assert (tmp_path / ".jax_cache" / "program").read_text() == "compiled"
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
