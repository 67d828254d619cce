"""The trainer across processes: 2 local processes x 2 CPU devices (jax.distributed, gloo) against 1 process
x 4 devices (this pytest process), the same global batch.

- parameters and BatchNorm statistics after K steps equal (max abs difference <= 1e-5);
- each process reads a disjoint share of every global batch, together exactly the global batch, in order;
- only process 0 writes metrics.jsonl, eval.json and checkpoint metadata;
- orbax multi-process checkpoints: a 2-process run whose process 1 dies after a checkpoint (the launcher
  then stops process 0 and fails) resumes across both processes to the parameters of the uninterrupted
  run (the 1-process one: two launches instead of three keep the test short).

Run as ``python tests/train/test_multihost.py OUT WORKDIR [--resume] [--die-at STEP]`` it is the worker
each process runs (``launch/local_multiprocess.sh 2 -- python ...``).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from multihost_fixtures import launcher  # noqa: E402,F401 -- the fixture
from tiny_segmenter import tiny_build  # noqa: E402

STEPS, EVERY, DIE_AT = 4, 2, 3
DATASET, RESOLUTION, BATCH = "syn_drive_day", 32, 8


def train_config(steps: int = STEPS):
    from transel_jax.train.defaults import source_config

    c = source_config()
    c.model.name = "tiny_test"
    c.data.dataset = DATASET
    c.train.update(global_batch_size=BATCH, steps=steps, base_lr=0.01, warmup_steps=1, seed=3)
    c.checkpoint.update(every_steps=EVERY, keep=3)
    c.eval.update(split="test", batch_size=8)
    c.log_every = 1
    return c


def digest(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()[:16]


def train(workdir: str, *, resume: bool = False, die_at: int | None = None, distributed_: bool = False):
    """``transel_jax.train.run.run`` of the tests' conv-BN model (``tiny_build``: it compiles in about a second)
    on syn_drive_day at 32x32; returns (result, {step: [example digests]}).

    ``die_at``: process 1 exits (status 7) when it is about to read the batch of that step (counted from 0).
    """
    from transel_jax.data import catalog, pipeline
    from transel_jax.train import run

    config = train_config()
    config.distributed = distributed_
    info = dataclasses.replace(catalog.info(DATASET), resolution=(RESOLUTION, RESOLUTION))
    source = catalog.load(DATASET, "train", resolution=RESOLUTION)
    eval_source = pipeline.Subset(catalog.load(DATASET, "test", resolution=RESOLUTION), np.arange(8))
    seen: dict[int, list[str]] = {}
    original = pipeline.train_batches

    def recorded(*args, start_step=0, process_index=0, **kw):
        import jax

        for k, batch in enumerate(original(*args, start_step=start_step, process_index=process_index, **kw)):
            step = start_step + k
            if die_at is not None and step == die_at and jax.process_index() == 1:
                os._exit(7)
            seen[step] = [digest(im) for im in batch["image"]]
            yield batch

    pipeline.train_batches = recorded
    try:
        result = run.run(config, workdir, resume=resume, source=source, eval_source=eval_source, info=info,
                         build=tiny_build)
    finally:
        pipeline.train_batches = original
    return result, seen


def host_variables(state) -> dict[str, np.ndarray]:
    import jax

    from transel_jax.train import distributed
    from transel_jax.train.checkpoint import _path_name

    flat = jax.tree_util.tree_flatten_with_path(state.variables)[0]
    return {_path_name(p): distributed.host_value(x) for p, x in flat}


def worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("workdir")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--die-at", type=int, default=None)
    args = parser.parse_args(argv)
    import jax

    from transel_jax.train import distributed

    distributed.initialize_distributed(True)
    pid = jax.process_index()
    result, seen = train(args.workdir, resume=args.resume, die_at=args.die_at, distributed_=True)
    os.makedirs(args.out, exist_ok=True)
    np.savez(os.path.join(args.out, f"variables_{pid}.npz"), **host_variables(result.state))
    with open(os.path.join(args.out, f"batches_{pid}.json"), "w") as f:
        json.dump({"process_count": jax.process_count(), "devices": jax.device_count(),
                   "local_devices": jax.local_device_count(), "seen": seen,
                   "miou": result.eval.miou}, f)
    return 0


# ------------------------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """1 process x 4 devices (this process), the uninterrupted run."""
    import jax

    assert jax.device_count() == 4 and jax.process_count() == 1
    workdir = str(tmp_path_factory.mktemp("single"))
    result, seen = train(workdir)
    return host_variables(result.state), seen, result.eval.miou, workdir


def _worker_args(out, workdir, *extra):
    return ["--", sys.executable, os.path.abspath(__file__), str(out), str(workdir), *extra]


def _load(out, pid):
    with open(os.path.join(out, f"batches_{pid}.json")) as f:
        record = json.load(f)
    return dict(np.load(os.path.join(out, f"variables_{pid}.npz"))), record


def max_abs_diff(a: dict, b: dict) -> float:
    """max |a - b| over every array of two pytrees (nested, or flat {path: array}) of the same structure."""
    import jax

    from transel_jax.train.checkpoint import _path_name

    a, b = ({_path_name(p): np.asarray(x) for p, x in jax.tree_util.tree_flatten_with_path(t)[0]} for t in (a, b))
    assert sorted(a) == sorted(b)
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)))) for k in a)


def test_two_processes_train_as_one_and_resume(launcher, reference, tmp_path):
    from transel_jax.train.checkpoint import load_variables

    ref_vars, ref_seen, ref_miou, ref_dir = reference
    workdir, out = tmp_path / "work", tmp_path / "out"
    # process 1 dies at step 3 (after the step-2 checkpoint): the launcher stops process 0 and fails
    job = launcher(2, _worker_args(out / "first", workdir, "--die-at", str(DIE_AT)))
    assert job.returncode == 7, job.output[-4000:]
    assert "process 1 exited with status 7" in job.output
    assert not (out / "first" / "variables_0.npz").exists()
    assert sorted(os.listdir(workdir / "checkpoints")) == [str(EVERY)]
    # after EVERY steps, the 2-process checkpoint (written by both processes) against 1 process x 4 devices
    diff_2 = max_abs_diff(*(load_variables(str(d / "checkpoints"), step=EVERY)[0]
                            for d in (workdir, type(tmp_path)(ref_dir))))

    # the rerun with --resume restores step 2 on both processes and trains to the end
    job = launcher(2, _worker_args(out / "resumed", workdir, "--resume"))
    assert job.returncode == 0, job.output[-4000:]
    variables, records = zip(*(_load(out / "resumed", pid) for pid in (0, 1)))
    assert [(r["process_count"], r["devices"], r["local_devices"]) for r in records] == [(2, 4, 2)] * 2
    assert sorted(int(s) for s in records[0]["seen"]) == list(range(EVERY, STEPS))  # steps 0, 1 not redone
    # the same parameters and BatchNorm statistics on both processes, and as the uninterrupted 1 x 4 run
    assert max_abs_diff(variables[0], variables[1]) == 0.0
    assert any(k.startswith("batch_stats/") for k in ref_vars)
    diff = max_abs_diff(variables[0], ref_vars)
    print(f"\n2 proc x 2 dev (interrupted at step {DIE_AT}, resumed) vs 1 proc x 4 dev (uninterrupted): max abs "
          f"diff of params and batch_stats {diff_2:.3g} after {EVERY} steps, {diff:.3g} after {STEPS}; "
          f"2-process resume wall {job.wall_s:.1f} s")
    assert diff_2 <= 1e-5 and diff <= 1e-5
    assert records[0]["miou"] == pytest.approx(ref_miou, abs=1e-6)

    # disjoint shares of every global batch, together exactly the global batch in order (the first
    # launch's batches of steps 0..2 are checked through their result: the step-2 checkpoint above)
    for step in range(EVERY, STEPS):
        shares = [r["seen"][str(step)] for r in records]
        assert [len(s) for s in shares] == [BATCH // 2] * 2
        assert not set(shares[0]) & set(shares[1])
        assert shares[0] + shares[1] == ref_seen[step]

    # only process 0 writes: one metrics.jsonl with each step once, eval.json, checkpoint metadata
    rows = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
    assert rows[0]["run"]["process_count"] == 2 and len(rows[0]["run"]["devices"]) == 4
    assert [r["step"] for r in rows if "step" in r] == list(range(1, STEPS + 1))
    assert json.load(open(workdir / "eval.json"))["miou"] == pytest.approx(records[0]["miou"])
    assert sorted(os.listdir(workdir / "checkpoints")) == [str(s) for s in range(EVERY, STEPS + 1, EVERY)]
    for step in os.listdir(workdir / "checkpoints"):
        assert json.load(open(workdir / "checkpoints" / step / "meta" / "metadata"))["model"] == "tiny_test"


if __name__ == "__main__":
    sys.exit(worker(sys.argv[1:]))
