"""Bad inputs to the ensemble scorer, greedy search and `transel score`: each a clear error naming the
argument, raised before any scoring work."""
import numpy as np
import pytest

from transel_jax.cli import main
from transel_jax.ensembles import greedy_select, score_ensembles, scorer

N, n, C = 4, 40, 3
RNG = np.random.default_rng(0)
EEP = RNG.dirichlet(np.ones(C), size=(N, n)).astype(np.float32)
LABELS = RNG.integers(0, C, n)


def _cpu_string():
    return ["cpu"]


API_CASES = [
    ("base_nan", dict(metrics=("base",), base_terms=[np.nan, 1, 1, 1]), ValueError, "base_terms: expected finite"),
    ("base_inf", dict(metrics=("base",), base_terms=[np.inf, 1, 1, 1]), ValueError, "base_terms: expected finite"),
    ("base_negative", dict(metrics=("base",), base_terms=[-1.0, 1, 1, 1]), ValueError, "base_terms: expected non-negative"),
    ("base_strings", dict(metrics=("base",), base_terms=["a", "b", "c", "d"]), TypeError, "base_terms: expected a numeric"),
    ("base_length", dict(metrics=("base",), base_terms=[1.0, 2.0]), ValueError, "base_terms: expected N"),
    ("budget_zero", dict(memory_budget=0), ValueError, "memory_budget: expected an integer >= 1"),
    ("budget_negative", dict(memory_budget=-5), ValueError, "memory_budget: expected an integer >= 1"),
    ("budget_string", dict(memory_budget="1GB"), TypeError, "memory_budget: expected an integer"),
    ("pixel_chunk_negative", dict(pixel_chunk=-3), ValueError, "pixel_chunk: expected an integer >= 1"),
    ("pixel_chunk_zero", dict(pixel_chunk=0), ValueError, "pixel_chunk: expected an integer >= 1"),
    ("pixel_chunk_float", dict(pixel_chunk=64.0), TypeError, "pixel_chunk: expected an integer"),
    ("batch_zero", dict(ensemble_batch=0), ValueError, "ensemble_batch: expected an integer >= 1"),
    ("batch_negative", dict(ensemble_batch=-2), ValueError, "ensemble_batch: expected an integer >= 1"),
    ("devices_empty", dict(devices=[]), ValueError, "devices: expected at least one"),
    ("devices_strings", dict(devices=["cpu"]), TypeError, "devices: expected jax.Device"),
    ("devices_int", dict(devices=3), TypeError, "devices: expected a sequence"),
    ("ensembles_ragged", dict(ensembles=[[0, 1, 2], [0, 1]]), ValueError, "ensembles: expected an .E, S. array"),
    ("ensembles_none_string", dict(ensembles="0,1,2"), TypeError, "ensembles: expected an int"),
    ("ensembles_float", dict(ensembles=[[0.0, 1.0]]), TypeError, "ensembles: expected an integer"),
    ("metrics_unknown", dict(metrics=("e_leep", "leep")), ValueError, "metrics: expected one of"),
    ("metrics_unknown_string", dict(metrics="eleep"), ValueError, "metrics: expected one of"),
    ("metrics_number", dict(metrics=5), TypeError, "metrics: expected a metric name"),
    ("metrics_empty", dict(metrics=()), ValueError, "metrics: expected at least one"),
    ("iou_pass", dict(iou_pass="fast"), ValueError, "iou_pass: expected one of"),
    ("top_k_zero", dict(top_k=0), ValueError, "top_k: expected an integer >= 1"),
    ("size_zero", dict(size=0), ValueError, "size: expected an integer >= 1"),
    ("size_too_big", dict(size=5), ValueError, "size: expected an ensemble size S <= N"),
    ("source_names", dict(source_names=["a"]), ValueError, "source_names: expected 4 names"),
]


@pytest.mark.parametrize("case,kwargs,error,match", API_CASES, ids=[c[0] for c in API_CASES])
def test_score_ensembles_arguments(case, kwargs, error, match):
    kwargs = dict(kwargs)
    size = kwargs.pop("size", 3 if "ensembles" not in kwargs else None)
    with pytest.raises(error, match=match):
        score_ensembles(EEP, LABELS, size, progress=False, **kwargs)


def _ragged():
    return [EEP[0], EEP[1, :-1]]


INPUT_CASES = [
    ("eep_none", lambda p: (None, LABELS), TypeError, "eep: expected float"),
    ("eep_ragged_list", lambda p: (_ragged(), LABELS), ValueError, "eep: expected a list of equally shaped"),
    ("eep_int", lambda p: (EEP.astype(int), LABELS), TypeError, "eep: expected a floating-point"),
    ("eep_2d", lambda p: (EEP[0], LABELS), ValueError, "eep: expected a 3-d array"),
    ("eep_no_classes", lambda p: (EEP[:, :, :0], LABELS), ValueError, "eep: expected at least one class"),
    ("eep_no_sources", lambda p: (EEP[:0], LABELS), ValueError, "eep: expected at least one source"),
    ("eep_not_npy", lambda p: (str(p / "eep.txt"), LABELS), ValueError, "eep: expected an array, a chunked source or a path"),
    ("eep_missing_npy", lambda p: (str(p / "missing.npy"), LABELS), ValueError, "eep: expected an existing .npy"),
    ("eep_nan", lambda p: (np.where(EEP > 0.9, np.nan, EEP), LABELS), ValueError, "eep: expected finite"),
    ("eep_rows", lambda p: (EEP * 1.5, LABELS), ValueError, "eep: expected rows summing to 1"),
    ("labels_none", lambda p: (EEP, None), TypeError, "labels: expected int"),
    ("labels_float", lambda p: (EEP, LABELS + 0.5), TypeError, "labels: expected an integer"),
    ("labels_range", lambda p: (EEP, LABELS + 1), ValueError, r"labels: expected values in \[0, 2\]"),
    ("labels_length", lambda p: (EEP, LABELS[:-1]), ValueError, "labels: expected n"),
]


@pytest.mark.parametrize("case,make,error,match", INPUT_CASES, ids=[c[0] for c in INPUT_CASES])
def test_score_ensembles_inputs(case, make, error, match, tmp_path):
    (tmp_path / "eep.txt").write_text("not an array")
    eep, labels = make(tmp_path)
    with pytest.raises(error, match=match):
        score_ensembles(eep, labels, 2, progress=False)


GREEDY_CASES = [
    ("candidates_empty", dict(candidates=[]), ValueError, "candidates: expected a non-empty"),
    ("candidates_range", dict(candidates=[0, 9]), ValueError, "candidates: expected values in"),
    ("size_zero", dict(size=0), ValueError, "size: expected an integer >= 1"),
    ("metric", dict(metric="parc"), ValueError, "metric: expected one of"),
]


@pytest.mark.parametrize("case,kwargs,error,match", GREEDY_CASES, ids=[c[0] for c in GREEDY_CASES])
def test_greedy_arguments(case, kwargs, error, match):
    with pytest.raises(error, match=match):
        greedy_select(EEP, LABELS, progress=False, **kwargs)


def test_greedy_without_eep():
    with pytest.raises(TypeError, match="eep: expected float"):
        greedy_select(None, LABELS, 2, progress=False)


def test_a_bare_metric_name_is_one_metric():
    result = score_ensembles(EEP, LABELS, 2, metrics="e_leep", progress=False)
    assert result.metrics == ("e_leep",)


# --- `transel score` ---------------------------------------------------------------------------------

def _npz(path, **arrays):
    data = dict(labels=LABELS + 1, eep=EEP)
    data.update(arrays)
    np.savez(path, **{k: v for k, v in data.items() if v is not None})
    return str(path)


def _write_probs_x(p):
    return _npz(p / "in.npz", eep=None, probs_0=EEP[0], probs_x=EEP[1])


CLI_CASES = [
    ("not_npz", lambda p: ((p / "in.npz").write_text("x"), [str(p / "in.npz")])[1], ValueError, "input: expected an .npz"),
    ("probs_x", lambda p: [_write_probs_x(p)], ValueError, "input: expected keys probs_0"),
    ("all_void", lambda p: [_npz(p / "in.npz", labels=np.zeros(n, int)), "--dataset-labels"], ValueError,
     "labels: expected at least one non-void"),
    ("float_labels", lambda p: [_npz(p / "in.npz", labels=LABELS + 0.7)], ValueError, "labels: expected integer class"),
    ("nan_base", lambda p: [_npz(p / "in.npz", base_terms=np.array([np.nan, 1, 1, 1]))], ValueError,
     "base_terms: expected finite"),
    ("budget_negative", lambda p: [_npz(p / "in.npz"), "--memory-budget-mb", "-1"], ValueError,
     "--memory-budget-mb: expected an integer >= 1"),
    ("budget_zero", lambda p: [_npz(p / "in.npz"), "--memory-budget-mb", "0"], ValueError,
     "--memory-budget-mb: expected an integer >= 1"),
    ("size_zero", lambda p: [_npz(p / "in.npz"), "--size", "0"], ValueError, "--size: expected an integer >= 1"),
    ("metrics", lambda p: [_npz(p / "in.npz"), "--metrics", "e_leep,bogus"], ValueError, "--metrics: expected one of"),
    ("rank_by", lambda p: [_npz(p / "in.npz"), "--metrics", "e_leep"], ValueError, "--rank-by: expected one of"),
    ("eep_shape", lambda p: [_npz(p / "in.npz", eep=None), "--eep", (np.save(p / "e.npy", EEP[:, :-1]), str(p / "e.npy"))[1]],
     ValueError, "--eep: expected an .N, n, C. array"),
    ("eep_key_shape", lambda p: [_npz(p / "in.npz", eep=EEP[:, :-1])], ValueError, "input: expected 'eep' of shape"),
]


@pytest.mark.parametrize("case,make,error,match", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_score_verb_inputs(case, make, error, match, tmp_path, monkeypatch):
    monkeypatch.setattr(scorer, "score_ensembles", _no_scoring)
    argv = make(tmp_path)
    with pytest.raises(error, match=match):
        main(["score", "--debug", *argv, "--out", str(tmp_path / "out.csv"), "--no-progress"])


def _no_scoring(*args, **kwargs):
    raise AssertionError("scoring started before the inputs were checked")


@pytest.mark.parametrize("where", ["missing_folder", "directory"])
def test_score_verb_out_is_checked_before_scoring(where, tmp_path, monkeypatch):
    monkeypatch.setattr(scorer, "score_ensembles", _no_scoring)
    out = tmp_path / "nope" / "out.csv" if where == "missing_folder" else tmp_path
    with pytest.raises(ValueError, match="--out: expected"):
        main(["score", "--debug", _npz(tmp_path / "in.npz"), "--out", str(out)])


def test_score_verb_error_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["score", _npz(tmp_path / "in.npz"), "--out", str(tmp_path / "o.csv"), "--memory-budget-mb", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("transel: error: --memory-budget-mb") and "Traceback" not in "".join(err)
