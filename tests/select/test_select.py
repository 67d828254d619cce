"""transel select end to end on a tiny folder dataset: the ranking is the engine's on the same probes, reruns
probe nothing, a new model probes alone, the two label conventions agree, fine-tuning exports an ensemble
that reloads and predicts what it predicted in-process, and every bad input is a clear error up front."""
import csv
import json
import os
import shutil

import numpy as np
import pytest

from select_fixtures import write_folder, write_workdir
from transel_jax import cli
from transel_jax.data import catalog
from transel_jax.ensembles import score_ensembles
from transel_jax.metrics import eep_stack
from transel_jax.select import flow, load_pool, select

TARGET = "syn_drive_small"
SOURCES = ("syn_drive_day", "syn_underwater_reef", "syn_aerial_urban", "syn_indoor_home")
SAMPLING = dict(max_per_image=40, feature_pixels=150, batch_size=4)

CALLABLE = '''
import numpy as np

def make(num_classes=4, seed=0):
    """A fixed random linear map of the pixels' colours: a model from outside transel."""
    w = np.random.default_rng(seed).normal(size=(3, num_classes)).astype(np.float32)

    def predict(images):
        z = (images.astype(np.float32) / 255.0) @ w
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True), None

    return predict, [f"c{k}" for k in range(num_classes)]
'''


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("select")
    for i, d in enumerate(SOURCES):
        write_workdir(str(root / "pool" / f"m{i}"), d, i, 0.3 + 0.1 * i)
    train = catalog.load(TARGET, "train", seed=0, resolution=32)
    test = catalog.load(TARGET, "test", seed=0, resolution=32)
    write_folder(str(root / "target"), TARGET, {"train": (train, 8), "test": (test, 4)})
    write_folder(str(root / "target255"), TARGET, {"train": (train, 8)}, convention="ignore255")
    (root / "outside.py").write_text(CALLABLE)
    pool_file = root / "pool.json"
    pool_file.write_text(json.dumps({"models": [
        *({"name": f"m{i}", "checkpoint": str(root / "pool" / f"m{i}")} for i in range(len(SOURCES))),
        {"name": "outside", "callable": "outside.py:make"}]}))
    return root


def _csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_ranking_is_the_engines_on_the_same_probes_and_a_rerun_probes_nothing(world):
    out = str(world / "out")
    sel = select(str(world / "pool.json"), str(world / "target"), size=3, out=out, progress=False, **SAMPLING)
    assert sel.probes.probed == ["m0", "m1", "m2", "m3", "outside"] and len(sel.scores) == 10
    assert "base" not in sel.scores.metrics  # the callable has no source mIoU / image count
    # independent recomputation from the cached probes
    y = sel.probes.sample.class_index
    cached = sorted(os.listdir(os.path.join(out, "cache")))
    assert len(cached) == 5
    probs = [np.load(os.path.join(out, "cache", next(c for c in cached if c.startswith(f"{n}."))))["probs"]
             for n in sel.names]
    ref = score_ensembles(np.asarray(eep_stack(probs, y, 10)), y, 3, metrics=sel.scores.metrics, progress=False)
    rows = _csv(os.path.join(out, "ranking.csv"))
    order = ref.order("soft_iou_eep")
    assert [r["members"] for r in rows] == [";".join(sel.names[i] for i in ref.ensembles[j]) for j in order]
    for r, j in zip(rows, order):
        for m in ref.metrics:
            assert float(r[m]) == pytest.approx(ref.scores[m][j], rel=1e-9, abs=1e-12)
    singles = _csv(os.path.join(out, "singles.csv"))
    assert [s["name"] for s in singles] == sel.names and singles[4]["logme"] == ""  # no features
    md = open(os.path.join(out, "selection.md")).read()
    assert "Top 10 ensembles" in md and "score_distribution.png" in md and os.path.isfile(os.path.join(out, "score_distribution.png"))
    assert json.load(open(os.path.join(out, "selection.json")))["probed"] == sel.probes.probed
    again = select(str(world / "pool.json"), str(world / "target"), size=3, out=out, progress=False, **SAMPLING)
    assert again.probes.probed == []
    np.testing.assert_array_equal(again.scores.scores["e_leep"], sel.scores.scores["e_leep"])


def test_adding_a_model_probes_only_that_model(world, tmp_path):
    pool = tmp_path / "pool"
    shutil.copytree(world / "pool", pool)
    out = str(tmp_path / "out")
    first = select(str(pool), str(world / "target"), size=2, out=out, progress=False, **SAMPLING)
    assert len(first.probes.probed) == 4 and "base" in first.scores.metrics
    write_workdir(str(pool / "m9"), "syn_aerial_urban", 9, 0.5)
    second = select(str(pool), str(world / "target"), size=2, out=out, progress=False, **SAMPLING)
    assert second.probes.probed == ["m9"] and len(second.scores) == 10


def test_ignore255_folder_gives_the_same_sample_and_scores_as_void0(world):
    a = select(str(world / "pool"), str(world / "target"), size=2, progress=False, **SAMPLING)
    b = select(str(world / "pool"), str(world / "target255"), size=2, progress=False, **SAMPLING)
    for field in ("image", "row", "col", "labels"):
        np.testing.assert_array_equal(getattr(a.probes.sample, field), getattr(b.probes.sample, field))
    for m in a.scores.metrics:
        np.testing.assert_array_equal(a.scores.scores[m], b.scores.scores[m])


def test_finetune_top_exports_an_ensemble_that_reloads_and_predicts_the_same(world, tmp_path):
    import transel_jax as tj
    from transel_jax.models import EnsembleSegmenter, build, ensemble_variables
    from transel_jax.train.checkpoint import load_variables

    out = str(tmp_path / "out")
    sel = select(str(world / "pool"), str(world / "target"), size=2, out=out, progress=False, **SAMPLING)
    rep = sel.finetune(1, steps=2, head_steps=5, batch_size=4, progress=False)
    assert rep.eval_split == "test" and 0 <= rep.best["head_miou"] <= 1 and rep.b1["name"] in sel.names
    assert rep.best["members"] == sel.top(1)[0]["members"]
    ens = tj.load_ensemble(rep.exported)
    images = np.stack([catalog.load(TARGET, "test", seed=0, resolution=32)[i]["image"] for i in range(2)])
    got = ens.predict(images)
    # in-process: the fine-tuned members and the head as trained, applied directly
    members = [load_variables(os.path.join(out, "finetune", n, "checkpoints")) for n in rep.best["members"]]
    head = np.load(os.path.join(rep.exported, "head.npz"))
    model = EnsembleSegmenter(tuple(build(meta["model"], 10) for _, meta in members), 10)
    variables = ensemble_variables([v for v, _ in members], {"params": {"weight": head["weight"], "bias": head["bias"]}}, 10)
    info = sel.plan.target.info
    x = (images.astype(np.float32) - np.asarray(info.mean, np.float32)) / np.asarray(info.std, np.float32)
    want = np.exp(np.asarray(model.apply(variables, x)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert got.shape == (2, 32, 32, 10) and np.allclose(got.sum(-1), 1, atol=1e-5)
    assert set(np.unique(ens.predict_labels(images))) <= set(range(1, 11))
    assert rep.best["head_nll"][1] < rep.best["head_nll"][0]  # the head trained
    # and was kept only if it beat the plain average in cross-validation; otherwise the identity is exported
    cv = rep.best["head_cv_miou"]
    assert rep.best["head_kept"] == ("head" if cv["head"] > cv["average"] else "average") and cv["folds"] == 5
    if rep.best["head_kept"] == "average":
        assert np.all(head["weight"] == 1) and np.all(head["bias"] == 0)


def _bad_world(world, tmp_path):
    (tmp_path / "empty_pool").mkdir()
    (tmp_path / "afile").write_text("x")
    no_train = tmp_path / "no_train"
    shutil.copytree(world / "target", no_train)
    shutil.rmtree(no_train / "images" / "train")
    shutil.rmtree(no_train / "labels" / "train")
    return tmp_path


BAD = [
    ("size too large", dict(size=5), ValueError, "size: expected S <= 4"),
    ("size zero", dict(size=0), ValueError, "size: expected an integer >= 1"),
    ("rank_by unknown", dict(rank_by="accuracy"), ValueError, "rank_by: expected one of"),
    ("max_per_image", dict(max_per_image=0), ValueError, "max_per_image: expected an integer >= 1"),
    ("seed", dict(seed=-1), ValueError, "seed: expected an integer >= 0"),
    ("empty pool", dict(pool="empty_pool"), ValueError, "the pool is empty"),
    ("missing pool", dict(pool="nowhere"), FileNotFoundError, "does not exist"),
    ("no train split", dict(target="no_train"), ValueError, "train"),
    ("unknown target", dict(target="not_a_dataset"), ValueError, "spec: expected a folder dataset path"),
    ("out is a file", dict(out="afile"), ValueError, "out: expected a folder, got the existing file"),
]


@pytest.mark.parametrize("case,change,error,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_error_before_any_model_runs(world, tmp_path, case, change, error, message):
    base = _bad_world(world, tmp_path)
    kwargs = dict(pool=str(world / "pool"), target=str(world / "target"), size=2, out=None)
    for key in ("pool", "target", "out"):
        if key in change:
            value = change.pop(key)
            kwargs[key] = str(base / value) if (base / value).exists() or key == "pool" else value
    kwargs.update(change)
    with pytest.raises(error, match=message):
        select(kwargs.pop("pool"), kwargs.pop("target"), progress=False, **{**SAMPLING, **kwargs})


def test_rank_by_base_needs_every_sources_terms_and_callables_cannot_be_finetuned(world):
    with pytest.raises(ValueError, match=r"rank_by: .*BASE needs every source's mIoU"):
        flow.plan(str(world / "pool.json"), str(world / "target"), rank_by="base")
    outside = [m for m in load_pool(str(world / "pool.json")) if m.name == "outside"]
    sel = select(outside, str(world / "target"), size=1, progress=False, **SAMPLING)
    with pytest.raises(ValueError, match=r"only transel checkpoints can be fine-tuned, got \['outside'\]"):
        sel.finetune(1, workdir=str(world / "ft_never"))


def test_cli_dry_run_lists_pool_target_and_ensembles_and_writes_nothing(world, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["select", "--pool", str(world / "pool"), "--target", str(world / "target"), "--out", str(out),
                     "--size", "2", "--dry-run"])
    text = capsys.readouterr().out
    assert code == 0 and "pool: 4 models" in text and "C(4, 2) = 6, all enumerated" in text
    assert "10 classes" in text and "train 8, test 4" in text
    assert not (out / "ranking.csv").exists()
    code = cli.main(["select", "--pool", str(world / "pool"), "--target", str(world / "target"), "--out", str(out),
                     "--size", "7"])
    assert code == 2 and "size: expected S <= 4" in capsys.readouterr().err


def test_progress_false_hides_the_inner_bars_too(world, tmp_path, capsys):
    select(str(world / "pool"), str(world / "target"), size=2, out=str(tmp_path / "shown"), **SAMPLING)
    err = capsys.readouterr().err
    assert "probe" in err and "predict" in err  # the per-model forward bars, drawn by the library
    select(str(world / "pool"), str(world / "target"), size=2, out=str(tmp_path / "hidden"), progress=False,
           **SAMPLING)
    err = capsys.readouterr().err
    assert "predict" not in err and "probe" not in err and "%|" not in err


def test_a_pool_of_two_writes_well_formed_tables(world, tmp_path):
    """Fewer than 3 models: the single-model table has as many rank columns as models, every row as many
    cells as its header, a metric a model cannot be scored by (the callable has no features) shows "-"."""
    pool = tmp_path / "pool.json"
    pool.write_text(json.dumps({"models": [{"name": "m0", "checkpoint": str(world / "pool" / "m0")},
                                           {"name": "outside", "callable": str(world / "outside.py") + ":make"}]}))
    out = str(tmp_path / "out")
    select(str(pool), str(world / "target"), size=2, out=out, progress=False, **SAMPLING)
    md = open(os.path.join(out, "selection.md")).read()
    assert "all C(2, 2) = 1 ensemble scored" in md and "## Top 1 ensemble\n" in md
    tables, current = [], None
    for line in md.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                tables.append(current)
            current.append(line.count("|") - 1)
        else:
            current = None
    assert len(tables) == 2 and all(len(set(t)) == 1 for t in tables), tables
    singles = md.split("## Top single models")[1]
    assert "| metric | best | 2nd |\n" in singles and "3rd" not in singles
    logme = next(line for line in singles.splitlines() if line.startswith("| logme |"))
    assert logme.startswith("| logme | m0 (") and logme.endswith("| - |")
