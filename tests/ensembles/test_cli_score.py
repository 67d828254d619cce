"""`transel score` end to end on an .npz of per-source probabilities."""
import csv
import json
import math

import numpy as np
import pytest

from transel_jax.cli import main
from transel_jax.ensembles import score_ensembles
from transel_jax.metrics import eep_stack


def test_score_verb_writes_a_ranked_table(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 120)  # dataset labels: 0 = void, 1..3 classes
    probs = [rng.dirichlet(np.ones(z), size=120).astype(np.float32) for z in (3, 5, 2, 6, 4)]
    path = tmp_path / "pool.npz"
    np.savez(path, labels=labels, names=np.array(list("abcde")), base_terms=np.arange(5.0),
             **{f"probs_{i}": p for i, p in enumerate(probs)})
    out = tmp_path / "ranked.csv"
    assert main(["score", str(path), "--out", str(out), "--dataset-labels", "--no-progress"]) == 0
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == math.comb(5, 3)
    assert set(rows[0]) == {"rank", "members", "indices", "ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base"}
    keep = labels != 0
    expected = score_ensembles(np.asarray(eep_stack([p[keep] for p in probs], labels[keep] - 1, 3)),
                               labels[keep] - 1, 3, progress=False)
    best = expected.best("soft_iou_eep")
    assert rows[0]["indices"] == " ".join(map(str, best))
    assert rows[0]["members"] == ";".join("abcde"[i] for i in best)
    assert float(rows[0]["soft_iou_eep"]) == pytest.approx(expected.scores["soft_iou_eep"].max(), abs=1e-9)
    meta = json.loads(open(f"{out}.meta.json").read())
    assert meta["sources"] == 5 and meta["pixels"] == int(keep.sum()) and "versions" in meta


def test_score_verb_rejects_a_file_without_predictions(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, labels=np.zeros(3, int))
    with pytest.raises(ValueError, match="expected 'eep' or 'probs_0'"):
        main(["score", "--debug", str(path), "--out", str(tmp_path / "x.csv")])


def test_score_verb_reads_eep_from_a_memmap_and_drops_void(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 90)  # 0 = void
    eep = rng.dirichlet(np.ones(3), size=(4, 90)).astype(np.float16)
    np.save(tmp_path / "eep.npy", eep)
    np.savez(tmp_path / "in.npz", labels=labels)
    out = tmp_path / "r.csv"
    assert main(["score", "--debug", str(tmp_path / "in.npz"), "--eep", str(tmp_path / "eep.npy"), "--size", "2",
                 "--dataset-labels", "--out", str(out), "--no-progress"]) == 0
    keep = labels != 0
    expected = score_ensembles(eep[:, keep].astype(np.float32), labels[keep] - 1, 2, progress=False)
    rows = list(csv.DictReader(open(out)))
    best = expected.best("soft_iou_eep")
    assert rows[0]["indices"] == " ".join(map(str, best))
    assert float(rows[0]["soft_iou_eep"]) == pytest.approx(expected.scores["soft_iou_eep"].max(), abs=1e-9)


def test_cli_sets_one_cpu_device_per_core_before_jax_starts(monkeypatch):
    import os
    import sys
    import types

    from transel_jax.ensembles.cli import use_every_core

    monkeypatch.delenv("XLA_FLAGS", raising=False)
    fresh = types.SimpleNamespace(backends_are_initialized=lambda: False)
    monkeypatch.setitem(sys.modules, "jax._src.xla_bridge", fresh)
    use_every_core()
    assert os.environ["XLA_FLAGS"] == f"--xla_force_host_platform_device_count={os.cpu_count()}"
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=3")
    use_every_core()  # a count the user set is kept
    assert os.environ["XLA_FLAGS"] == "--xla_force_host_platform_device_count=3"


def test_library_call_on_one_cpu_device_warns_once_with_the_line_to_add(monkeypatch):
    import jax

    from transel_jax.ensembles import scorer

    monkeypatch.setattr(scorer, "_WARNED", [])
    monkeypatch.setattr(scorer.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(scorer.jax, "local_devices", lambda: jax.devices()[:1])
    rng = np.random.default_rng(2)
    eep = rng.dirichlet(np.ones(3), size=(3, 20)).astype(np.float32)
    labels = rng.integers(0, 3, 20)
    with pytest.warns(RuntimeWarning, match="xla_force_host_platform_device_count=8"):
        score_ensembles(eep, labels, 2, metrics="e_leep", progress=False)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score_ensembles(eep, labels, 2, metrics="e_leep", progress=False)  # once only


def test_no_single_device_warning_in_a_multi_process_job(monkeypatch):
    import warnings

    import jax

    from transel_jax.ensembles import scorer

    monkeypatch.setattr(scorer, "_WARNED", [])
    monkeypatch.setattr(scorer.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(scorer.jax, "local_devices", lambda: jax.devices()[:1])
    monkeypatch.setattr(scorer.jax, "process_count", lambda: 2)  # the other process has the other cores
    rng = np.random.default_rng(2)
    eep = rng.dirichlet(np.ones(3), size=(3, 20)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score_ensembles(eep, rng.integers(0, 3, 20), 2, metrics="e_leep", progress=False)
