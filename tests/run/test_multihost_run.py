"""`transel run --distributed` with 2 local processes (launch/local_multiprocess.sh) on the tiny end-to-end
config: the same results as one process, the work divided, one host's models trained on its own devices.
In the suite the 2 hosts start from the one-process run's pool stage (a cached stage, as on a rerun);
TRANSEL_MULTIHOST_RUN_TEST=1 also runs the whole study with 2 processes, pool included.

The one-process run is the session's tiny run (``tiny_single_run``: ``transel run`` in a child process with
jax's one default CPU device); each of the 2 processes gets one CPU device too, so each model is computed
exactly as the one-process run computes it, and every stored number must be equal. The 2-process run does
not start from the one-process run's persistent compilation cache: jax keys a program compiled in a
process joined to jax.distributed with other compile options than the same program in a plain process
(measured: not one key in common), so that cache would never hit. The 2 hosts share their run directory's
cache, whose keys they have in common.
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from multihost_fixtures import TINY_RUN_CONFIG, launcher  # noqa: E402,F401 -- a fixture


def run_args(run_dir) -> list[str]:
    return ["run", "--config", TINY_RUN_CONFIG, "--workdir", str(run_dir)]


TIMING_KEYS = ("provenance", "stages_s", "wall_s", "git_commit", "command", "time")


def _normalised(value, run_dir: str):
    """JSON value with the run directory replaced by ``<run>`` and times and provenance left out."""
    if isinstance(value, dict):
        return {k: _normalised(v, run_dir) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_normalised(v, run_dir) for v in value]
    if isinstance(value, str):
        return value.replace(run_dir, "<run>")
    return value


def _normalised_report(text: str, run_dir: str) -> str:
    """report.md with the run directory, the stage wall times and the provenance lines neutralised."""
    text = text.replace(run_dir, "<run>")
    text = re.sub(r"^\| (\w+) \| [0-9.]+ \|", r"| \1 | <s> |", text, flags=re.MULTILINE)
    text = re.sub(r"Total stage wall time: [0-9.]+ s", "Total stage wall time: <s>", text)
    return "\n".join(line for line in text.splitlines() if not any(f'"{k}"' in line for k in TIMING_KEYS))


def _results(run_dir) -> dict:
    """{relative path: normalised JSON, report text or {name: array}} of every stored result (not the
    checkpoints, logs, caches, markers or config files, which record times and provenance)."""
    run_dir, out = str(run_dir), {}
    for path in glob.glob(os.path.join(run_dir, "**", "*"), recursive=True):
        rel = os.path.relpath(path, run_dir)
        if ("checkpoints" in rel or ".jax_cache" in rel or not os.path.isfile(path)
                or os.path.basename(rel) in ("done.json", "started.json", "transel_run.json", "config.json")):
            continue
        if rel.endswith(".json"):
            out[rel] = _normalised(json.load(open(path)), run_dir)
        elif rel.endswith(".npz"):
            with np.load(path) as data:
                out[rel] = {k: data[k] for k in data.files}
        elif rel.endswith(".md"):
            out[rel] = _normalised_report(open(path).read(), run_dir)
    return out


def _pool_stage_file(rel: str) -> bool:
    """Whether a result path belongs to the pool stage itself (copied when the pool is reused), not to the
    B1L models the selection stage adds under pool/larger/."""
    return rel.startswith("pool/") and not rel.startswith("pool/larger/")


def _two_host_run(launcher, one, two, *, reuse_pool: bool):
    """Run the tiny config with 2 processes into ``two`` (starting from a copy of the one-process run's
    pool stage when ``reuse_pool``) and check it against the one-process run ``one``."""
    os.makedirs(two)
    if reuse_pool:  # a cached stage, as on a rerun: the 2 hosts start at the probe (the B1L models that the
        # selection stage adds to pool/larger/ left out: the 2 hosts train them)
        shutil.copytree(one / "pool", two / "pool", ignore=shutil.ignore_patterns("larger"))
    job = launcher(2, run_args(two), devices=1, timeout=500)
    assert job.returncode == 0, job.output[-4000:]
    def stage_s(run):  # the stages this test ran with 2 processes
        return sum(json.load(open(p))["wall_s"] for p in glob.glob(str(run / "*" / "done.json"))
                   if not (reuse_pool and os.path.basename(os.path.dirname(p)) == "pool"))

    single_s, two_s = stage_s(one), stage_s(two)
    print(f"\ntransel run, tiny config, stage wall time: 1 process {single_s:.1f} s, 2 processes {two_s:.1f} s "
          f"(launch to exit {job.wall_s:.1f} s{', pool stage reused' if reuse_pool else ''})")
    print("per stage (s, 1 process / 2 processes): " + ", ".join(
        f"{os.path.basename(os.path.dirname(p))} {json.load(open(p))['wall_s']:.1f} / "
        f"{json.load(open(p.replace(str(one), str(two))))['wall_s']:.1f}"
        for p in sorted(glob.glob(str(one / "*" / "done.json")), key=os.path.getmtime)))
    if reuse_pool:
        assert "[1/10] pool: cached" in job.output

    # the work was divided: each pool model and fine-tune logged by the host that trained it
    trained_by = {}
    for log in glob.glob(str(two / "**" / "metrics.jsonl"), recursive=True):
        rel = os.path.relpath(os.path.dirname(log), two)
        if reuse_pool and _pool_stage_file(rel):
            continue
        first = json.loads(open(log).readline())["run"]
        assert first["process_count"] == 1 and len(first["devices"]) == 1  # one host's own device
        trained_by[rel] = first["job"]["process_index"]
    pool = {k: v for k, v in trained_by.items() if _pool_stage_file(k)}
    assert reuse_pool or (len(pool) == 5 and set(pool.values()) == {0, 1})
    tuned = {k: v for k, v in trained_by.items() if k.startswith("finetune/")}
    assert set(tuned.values()) == {0, 1}
    markers = {os.path.basename(os.path.dirname(p)): json.load(open(p)) for p in glob.glob(str(two / "*" / "done.json"))}
    assert len(markers) == 10
    assert all(m["hosts"] == 2 for name, m in markers.items() if not (reuse_pool and name == "pool"))

    # every stored result equal to the one-process run's
    a, b = _results(one), _results(two)
    assert sorted(a) == sorted(b)
    if reuse_pool:  # copies, whose recorded paths name the other run directory
        a = {k: v for k, v in a.items() if not _pool_stage_file(k)}
    assert len(a) > 20
    worst = 0.0
    for rel in a:
        if rel.endswith(".npz"):
            assert sorted(a[rel]) == sorted(b[rel]), rel
            for k in a[rel]:
                assert a[rel][k].shape == b[rel][k].shape and a[rel][k].dtype == b[rel][k].dtype, (rel, k)
                if a[rel][k].size and np.issubdtype(a[rel][k].dtype, np.number):
                    worst = max(worst, float(np.max(np.abs(a[rel][k].astype(np.float64)
                                                           - b[rel][k].astype(np.float64)))))
                assert np.array_equal(a[rel][k], b[rel][k], equal_nan=True), (rel, k)
        else:
            assert a[rel] == b[rel], rel
    print(f"max abs difference over every stored array: {worst}")
    report = (two / "report" / "report.md").read_text()
    assert "## Verdict" in report and "## Selection" in report


def test_two_hosts_same_results_as_one_from_the_pool(launcher, tiny_single_run, tmp_path):
    """In the suite: the 2-process run from the one-process run's pool (probes, scoring, fine-tunes,
    selection heads and B1L, influence divided between the hosts; the pool's division is the same
    ``hosts.each`` and is checked by the opt-in test below)."""
    _two_host_run(launcher, type(tmp_path)(tiny_single_run[0]), tmp_path / "two", reuse_pool=True)


# Opt-in: the whole tiny study with 2 processes, pool included (~130 s on the 2-core dev box) does not fit
# the suite's time budget next to the test above. TRANSEL_MULTIHOST_RUN_TEST=1 runs it.
@pytest.mark.skipif(os.environ.get("TRANSEL_MULTIHOST_RUN_TEST", "") != "1",
                    reason="set TRANSEL_MULTIHOST_RUN_TEST=1: a 2-process tiny study with its pool (minutes on 2 cores)")
def test_two_hosts_same_results_as_one(launcher, tiny_single_run, tmp_path):
    _two_host_run(launcher, type(tmp_path)(tiny_single_run[0]), tmp_path / "two", reuse_pool=False)
