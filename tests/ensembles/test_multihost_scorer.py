"""``score_ensembles`` on a mesh of every device of 2 local processes (2 x 2 CPU devices, jax.distributed
with gloo): the ensembles split over all 4 devices, each process holding the pixel chunks, every process
returns exactly the single-process result (this pytest process: 1 x 4 devices).

Run as ``python tests/ensembles/test_multihost_scorer.py OUT`` it is the worker each process runs.
"""
from __future__ import annotations

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from multihost_fixtures import launcher  # noqa: E402,F401 -- the fixture

# C = 40 classes: "auto" considers the pruned pass (>= PRUNED_MIN_CLASSES); "dense" forces the other
PASSES = ("auto", "dense")


def inputs():
    rng = np.random.default_rng(7)
    n, num_sources, num_classes = 600, 6, 40
    labels = rng.integers(0, num_classes, n)
    logits = rng.normal(size=(num_sources, n, num_classes)) * 2.0
    logits[:, np.arange(n), labels] += rng.uniform(0, 3, size=(num_sources, 1))  # some sources better
    eep = np.exp(logits - logits.max(-1, keepdims=True))
    eep = (eep / eep.sum(-1, keepdims=True)).astype(np.float32)
    terms = rng.uniform(0.5, 2.0, num_sources)
    return eep, labels, terms


def score(devices, iou_pass: str) -> dict[str, np.ndarray]:
    from transel_jax.ensembles.scorer import ENSEMBLE_METRICS, score_ensembles

    eep, labels, terms = inputs()
    result = score_ensembles(eep, labels, size=3, metrics=ENSEMBLE_METRICS, base_terms=terms, devices=devices,
                             progress=False, iou_pass=iou_pass, pixel_chunk=64)
    return {"ensembles": result.ensembles, **result.scores}


def worker(out: str) -> int:
    import jax

    from transel_jax.train import distributed

    distributed.initialize_distributed(True)
    assert jax.process_count() == 2 and jax.device_count() == 4
    os.makedirs(out, exist_ok=True)
    arrays = {}
    for iou_pass in PASSES:
        arrays.update({f"{iou_pass}/{k}": v for k, v in score(jax.devices(), iou_pass).items()})
    np.savez(os.path.join(out, f"scores_{jax.process_index()}.npz"), **arrays)
    return 0


def test_scorer_across_two_processes_equals_one(launcher, tmp_path):
    import jax

    job = launcher(2, ["--", sys.executable, os.path.abspath(__file__), str(tmp_path)], devices=2)
    assert job.returncode == 0, job.output[-4000:]
    got = [dict(np.load(tmp_path / f"scores_{pid}.npz")) for pid in (0, 1)]
    worst = 0.0
    for iou_pass in PASSES:
        want = score(jax.devices(), iou_pass)  # 1 process x 4 devices
        assert want["ensembles"].shape == (20, 3)
        for k, v in want.items():
            for g in got:
                worst = max(worst, float(np.max(np.abs(g[f"{iou_pass}/{k}"] - v))))
                np.testing.assert_array_equal(g[f"{iou_pass}/{k}"], v, err_msg=f"{iou_pass}/{k}")
    print(f"\nscorer, 2 processes x 2 devices vs 1 x 4: max abs difference {worst} ({job.wall_s:.1f} s)")


if __name__ == "__main__":
    sys.exit(worker(sys.argv[1]))
