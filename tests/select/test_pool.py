"""A user's own pool: load_pool (directories, transel run's pool stage, pool files), the checkpoint and
callable adapters, validate_model, and probing at sampled pixels (jitted fast path vs the generic path)."""
import contextlib
import json
import os
import shutil
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from transel_jax.data import catalog
from transel_jax.data.sampling import PixelSample
from transel_jax.models import describe
from transel_jax.select import ModelMeta, from_predict, load_pool, validate_model
from transel_jax.transfer.predict import predict_fn_at_pixels

from select_fixtures import ARCH, DRIVE, REEF, save_checkpoint, write_workdir


@pytest.fixture(scope="module")
def pools(tmp_path_factory):
    root = tmp_path_factory.mktemp("pools")
    train_dir = root / "trained"
    write_workdir(str(train_dir / "drive"), DRIVE, 0, 0.42)
    write_workdir(str(train_dir / "reef"), REEF, 1, 0.61)
    # transel run's pool stage: pool/<id>/ with record.json, sources.json listing the candidates only
    stage = root / "run" / "pool"
    for sid, src in (("reef_resnet_tiny_generic", "reef"), ("drive_resnet_tiny_scratch", "drive"),
                     ("generic_resnet_tiny", "drive")):
        shutil.copytree(train_dir / src, stage / sid)
    records = []
    for sid, dataset, miou in (("reef_resnet_tiny_generic", REEF, 0.55), ("drive_resnet_tiny_scratch", DRIVE, 0.35)):
        rec = {"id": sid, "dataset": dataset, "domain": "x", "architecture": ARCH, "init": "scratch", "depth": 17,
               "params": 12345, "num_images": 150, "num_classes": catalog.info(dataset).num_classes,
               "test_miou": miou, "checkpoint": os.path.join("pool", sid, "checkpoints")}
        records.append(rec)
        (stage / sid / "record.json").write_text(json.dumps(rec))
    (stage / "sources.json").write_text(json.dumps(records))
    return types.SimpleNamespace(root=root, trained=train_dir, stage=stage)


def image_source(seed=0):
    """uint8 images of two sizes (as a catalog-like source) and a pixel sample over them."""
    rng = np.random.default_rng(seed)
    images = [rng.integers(0, 256, (32, 32, 3) if i % 3 else (24, 40, 3), dtype=np.uint8) for i in range(7)]
    source = [{"image": im, "label": np.ones(im.shape[:2], np.int32)} for im in images]
    n = 80
    image = rng.integers(0, len(images), n)
    row = np.array([rng.integers(0, images[i].shape[0]) for i in image])
    col = np.array([rng.integers(0, images[i].shape[1]) for i in image])
    return source, PixelSample(image.astype(np.int32), row.astype(np.int32), col.astype(np.int32),
                               np.ones(n, np.int32))


def test_directory_of_work_directories_gives_checkpoint_facts(pools):
    models = load_pool(str(pools.trained))
    assert [m.name for m in models] == ["drive", "reef"]
    drive, reef = models
    assert (drive.kind, drive.architecture) == ("checkpoint", ARCH)
    assert drive.class_names == catalog.info(DRIVE).class_names[1:] and drive.num_classes == 9
    assert reef.class_names == catalog.info(REEF).class_names[1:]
    assert drive.meta.dataset == DRIVE and drive.meta.source_images == 2000 and drive.meta.source_miou == 0.42
    assert drive.meta.notes["normalisation"] == f"catalog {DRIVE}" and drive.meta.notes["step"] == 3
    assert drive.meta.notes["miou_split"] == "test"
    assert drive.base_terms() == (0.42, 2000, 9) and reef.base_terms() == (0.61, 800, 5)
    assert drive.origin == str(pools.trained / "drive" / "checkpoints")
    size = describe(ARCH, 9, (32, 32))  # counted from the checkpoint's array metadata
    assert (drive.meta.depth, drive.meta.params) == (size["depth"], size["params"])
    # fingerprints: hex sha256, stable across loads, distinct across models, the same via checkpoints/
    again = load_pool(str(pools.trained))
    assert [m.fingerprint for m in again] == [m.fingerprint for m in models]
    assert len(drive.fingerprint) == 64 and drive.fingerprint != reef.fingerprint
    pool_file = pools.root / "via_ckpt.json"
    pool_file.write_text(json.dumps({"models": [{"name": "d", "checkpoint": "trained/drive/checkpoints"}]}))
    (d,) = load_pool(str(pool_file))
    assert d.fingerprint == drive.fingerprint and d.meta.source_miou == 0.42
    described = drive.describe()
    assert json.loads(json.dumps(described))["source_images"] == 2000 and described["num_classes"] == 9


def test_run_pool_stage_directory_is_a_pool_as_it_is(pools):
    models = load_pool(str(pools.stage))
    # sources.json order; the generic pre-training model beside them is not a candidate
    assert [m.name for m in models] == ["reef_resnet_tiny_generic", "drive_resnet_tiny_scratch"]
    reef, drive = models
    assert reef.meta.source_images == 150 and reef.meta.source_miou == 0.55  # record.json wins over eval.json
    assert (reef.meta.depth, reef.meta.params) == (17, 12345) and reef.num_classes == 5
    assert drive.class_names == catalog.info(DRIVE).class_names[1:]


def test_fingerprint_follows_the_checkpoint_step_not_the_folder(pools, tmp_path):
    (base,) = [m for m in load_pool(str(pools.trained)) if m.name == "drive"]
    shutil.copytree(pools.trained / "drive", tmp_path / "pool" / "drive")  # copy2 keeps sizes and mtimes
    (copy,) = load_pool(str(tmp_path / "pool"))
    assert copy.fingerprint == base.fingerprint
    save_checkpoint(tmp_path / "pool" / "drive" / "checkpoints", DRIVE, seed=5, step=4)  # a newer step
    (newer,) = load_pool(str(tmp_path / "pool"))
    assert newer.meta.notes["step"] == 4 and newer.fingerprint != base.fingerprint
    pool_file = tmp_path / "norm.json"
    pool_file.write_text(json.dumps({"models": [{"name": "d", "checkpoint": str(pools.trained / "drive"),
                                                 "mean": [0, 0, 0], "std": [1, 1, 1]}]}))
    (renormed,) = load_pool(str(pool_file))  # normalisation changes the outputs, so the fingerprint
    assert renormed.fingerprint != base.fingerprint and renormed.meta.notes["normalisation"] == "pool file"


def test_dataset_outside_the_catalog_falls_back_to_imagenet_statistics(pools, tmp_path):
    pool_file = tmp_path / "p.json"
    pool_file.write_text(json.dumps({"models": [{"name": "d", "checkpoint": str(pools.trained / "drive"),
                                                 "dataset": "my_own_data", "source_images": 77}]}))
    with pytest.warns(RuntimeWarning, match="ImageNet"):
        (m,) = load_pool(str(pool_file))
    assert m.meta.notes["normalisation"] == "ImageNet fallback" and m.meta.dataset == "my_own_data"
    assert m.meta.notes["class_names_from"] == "eval.json" and m.meta.source_images == 77


CALLABLE = '''
import jax, jax.numpy as jnp, numpy as np
from transel_jax.data import catalog
from transel_jax.models import build, describe
from transel_jax.train.checkpoint import load_variables

def make(checkpoint, dataset):
    """The same model written by hand: numpy normalisation, plain apply, softmax."""
    info = catalog.info(dataset)
    variables, meta = load_variables(checkpoint)
    model = build(meta["model"], meta["num_classes"])
    forward = jax.jit(lambda v, x: model.apply(v, x, train=False, return_features=True))
    mean, std = np.asarray(info.mean, np.float32), np.asarray(info.std, np.float32)

    def predict(images):
        logits, feats = forward(variables, (images.astype(np.float32) - mean) / std)
        return jax.nn.softmax(logits, axis=-1), feats          # jax arrays are fine

    return predict, list(info.class_names[1:])
'''


def test_fast_path_generic_path_and_a_wrapping_callable_agree(pools, tmp_path):
    (tmp_path / "wrap.py").write_text(CALLABLE)
    ckpt = str(pools.trained / "drive" / "checkpoints")
    pool_file = tmp_path / "pool.json"
    pool_file.write_text(json.dumps({"models": [
        {"name": "drive", "checkpoint": str(pools.trained / "drive")},
        {"name": "wrapped", "callable": "wrap.py:make", "kwargs": {"checkpoint": ckpt, "dataset": DRIVE},
         "source_images": 2000, "source_miou": 0.42, "dataset": DRIVE}]}))
    drive, wrapped = load_pool(str(pool_file))
    assert wrapped.kind == "callable" and wrapped.class_names == drive.class_names
    assert wrapped.base_terms() == drive.base_terms() and len(wrapped.fingerprint) == 64
    source, sample = image_source()
    for m in (drive, wrapped):
        assert validate_model(m, source[0]["image"][None]) == {"probs_shape": (24, 40, 9),
                                                               "feats_shape": (3, 5, 32)}
    fast_p, fast_f = drive.probe(source, sample, batch_size=3)
    slow_p, slow_f = drive.probe(source, sample, batch_size=3, fast=False)
    call_p, call_f = wrapped.probe(source, sample, batch_size=2)
    assert fast_p.shape == (80, 9) and fast_f.shape == (80, 32) and fast_p.dtype == np.float32
    np.testing.assert_allclose(fast_p.sum(-1), 1, atol=1e-5)
    assert fast_p.std(0).max() > 1e-3 and fast_p.max() < 0.99  # varies over pixels, not saturated
    for p, f in ((slow_p, slow_f), (call_p, call_f)):
        np.testing.assert_allclose(p, fast_p, atol=2e-5)
        np.testing.assert_allclose(f, fast_f, atol=1e-5 * np.abs(fast_f).max(), rtol=1e-4)
    # a uint8 array works as a source; float arrays are refused (the model normalises itself)
    stacked = np.stack([s["image"] for s in source if s["image"].shape == (32, 32, 3)])
    keep = np.isin(sample.image, [1, 2, 4, 5])
    sub = PixelSample(np.searchsorted([1, 2, 4, 5], sample.image[keep]).astype(np.int32), sample.row[keep],
                      sample.col[keep], sample.labels[keep])
    np.testing.assert_allclose(drive.probe(stacked, sub, batch_size=4)[0], fast_p[keep], atol=2e-5)
    with pytest.raises(TypeError, match="uint8"):
        drive.probe(stacked.astype(np.float32), sub, batch_size=4)
    drive.release()
    np.testing.assert_allclose(drive.probe(source, sample, batch_size=3)[0], fast_p, atol=1e-6)


def test_generic_path_interpolates_low_resolution_probs_and_takes_the_feature_cell():
    rng = np.random.default_rng(3)
    calls = []

    def predict(images):  # probs at H/2 x W/2 depending on the image, feats at H/4 x W/4
        calls.append(images.shape)
        x = images.astype(np.float32)
        low = x.reshape(x.shape[0], x.shape[1] // 2, 2, x.shape[2] // 2, 2, 3).mean((2, 4)) / 40
        z = np.concatenate([low, -low[..., :1]], -1)
        e = np.exp(z - z.max(-1, keepdims=True))
        feats = x.reshape(x.shape[0], x.shape[1] // 4, 4, x.shape[2] // 4, 4, 3)[:, :, 0, :, 0]
        return e / e.sum(-1, keepdims=True), feats

    images = [rng.integers(0, 256, (16, 24, 3) if i < 3 else (8, 8, 3), dtype=np.uint8) for i in range(5)]
    source = [{"image": im} for im in images]
    idx = rng.integers(0, 5, 50)
    rows = np.array([rng.integers(0, images[i].shape[0]) for i in idx])
    cols = np.array([rng.integers(0, images[i].shape[1]) for i in idx])
    sample = PixelSample(idx.astype(np.int32), rows.astype(np.int32), cols.astype(np.int32), np.ones(50, np.int32))
    probs, feats = predict_fn_at_pixels(predict, source, sample, batch_size=2, name="toy")
    want_p, want_f = [], []
    for i, r, c in zip(idx, rows, cols):
        p, f = predict(images[i][None])
        H, W = images[i].shape[:2]
        want_p.append(np.asarray(jax.image.resize(jnp.asarray(p[0]), (H, W, 4), "bilinear"))[r, c])
        want_f.append(f[0, r * f.shape[1] // H, c * f.shape[2] // W])
    np.testing.assert_allclose(probs, np.array(want_p), atol=1e-5)
    np.testing.assert_allclose(feats, np.array(want_f))
    np.testing.assert_allclose(probs.sum(-1), 1, atol=1e-5)
    assert {s[0] for s in calls[:3]} == {2}  # short batches padded to batch_size
    no_feats, none = predict_fn_at_pixels(lambda x: (predict(x)[0], None), source, sample, batch_size=4)
    assert none is None
    np.testing.assert_allclose(no_feats, probs, atol=1e-6)


def _softmax_fn(z=3, size=None, feats=True):
    def predict(images):
        b, h, w, _ = images.shape
        h, w = size or (h, w)
        p = np.full((b, h, w, z), 1.0 / z, np.float32)
        return p, np.ones((b, h // 2 or 1, w // 2 or 1, 4), np.float32) if feats else None
    return predict


def _fail(images):
    raise RuntimeError("boom inside the model")


BAD_PREDICTS = [
    ("wrong class count", _softmax_fn(z=4), "4 classes in the last axis, but the model declares 3"),
    ("logits", lambda x: (np.full(x.shape[:3] + (3,), 2.0, np.float32), None), r"in \[0, 1\]"),
    ("not summing to 1", lambda x: (np.full(x.shape[:3] + (3,), 0.2, np.float32), None), "summing to 1"),
    ("rank 3 probs", lambda x: (np.full(x.shape[:3], 1.0, np.float32), None), r"expected probs \[2, h, w, 3\]"),
    ("batch mismatch", lambda x: (np.full((1,) + x.shape[1:3] + (3,), 1 / 3, np.float32), None), "probs"),
    ("integer probs", lambda x: (np.ones(x.shape[:3] + (3,), np.int32), None), "floating probs"),
    ("NaN", lambda x: (np.full(x.shape[:3] + (3,), np.nan, np.float32), None), "NaN"),
    ("single array", lambda x: np.full(x.shape[:3] + (3,), 1 / 3, np.float32), r"\(probs, feats or None\)"),
    ("rank 2 feats", lambda x: (np.full(x.shape[:3] + (3,), 1 / 3, np.float32), np.ones((2, 4))), "feats"),
    ("raises", _fail, "predict failed .* RuntimeError: boom"),
]


@pytest.mark.parametrize("case,predict,message", BAD_PREDICTS, ids=[c[0] for c in BAD_PREDICTS])
def test_validate_model_names_the_model_and_the_problem(case, predict, message):
    model = from_predict("mine", predict, ["a", "b", "c"])
    with pytest.raises(ValueError, match="model 'mine'") as err:
        validate_model(model, np.zeros((2, 8, 8, 3), np.uint8))
    assert err.match(message)


def test_validate_model_accepts_low_resolution_outputs_and_checks_its_input():
    model = from_predict("ok", _softmax_fn(size=(2, 3)), ["a", "b", "c"], fingerprint="v1",
                         meta=ModelMeta(source_images=10, source_miou=0.5))
    assert validate_model(model, np.zeros((1, 8, 12, 3), np.uint8)) == {"probs_shape": (2, 3, 3),
                                                                         "feats_shape": (1, 1, 4)}
    assert model.base_terms() == (0.5, 10, 3)
    with pytest.raises(ValueError, match="example_images"):
        validate_model(model, np.zeros((1, 8, 12, 3), np.float32))
    with pytest.raises(ValueError, match="model 'ok': probs have 4 classes in this batch, 3 in an earlier one"):
        calls = iter([3, 4])
        odd = from_predict("ok", lambda x: _softmax_fn(z=next(calls))(x), ["a", "b", "c"])
        odd.probe([{"image": np.zeros((8, 8, 3), np.uint8)}] * 2,
                  PixelSample(*(np.array([0, 1], np.int32),) * 3, np.ones(2, np.int32)), batch_size=1)


def _corrupt_meta(ckpt_dir):
    step_dir = os.path.join(ckpt_dir, "3")
    for root, _, files in os.walk(os.path.join(step_dir, "meta")):
        for f in files:
            with open(os.path.join(root, f), "w") as fh:
                fh.write("{not json")


BAD_FILES = {
    "wrap_ok.py": "def make():\n    return (lambda x: x), ['a', 'b']\n",
    "raises_on_import.py": "raise ImportError('missing dependency foo')\n",
    "bad_return.py": "def make():\n    return 42\n",
}
BAD_POOLS = [
    ("empty models", {"models": []}, ValueError, "empty"),
    ("top-level key", {"models": [{"name": "a", "callable": "wrap_ok.py:make"}], "modles": 1}, ValueError,
     r"unknown key\(s\) \['modles'\]"),
    ("entry key", {"models": [{"name": "a", "callable": "wrap_ok.py:make", "classs": []}]}, ValueError,
     r"models\[0\] \('a'\): unknown key\(s\) \['classs'\]"),
    ("duplicate names", {"models": [{"name": "a", "callable": "wrap_ok.py:make"},
                                    {"name": "a", "callable": "wrap_ok.py:make"}]}, ValueError,
     r"duplicate model names \['a'\]"),
    ("two kinds", {"models": [{"name": "a", "callable": "wrap_ok.py:make", "checkpoint": "x"}]}, ValueError,
     "exactly one of"),
    ("no name", {"models": [{"callable": "wrap_ok.py:make"}]}, ValueError, r"models\[0\]: missing \"name\""),
    ("bad name", {"models": [{"name": "a/b", "callable": "wrap_ok.py:make"}]}, ValueError, "name: expected"),
    ("missing checkpoint", {"models": [{"name": "a", "checkpoint": "nowhere"}]}, FileNotFoundError,
     "model 'a': checkpoint path .*nowhere does not exist"),
    ("no steps", {"models": [{"name": "a", "checkpoint": "empty_ckpt/checkpoints"}]}, ValueError,
     "model 'a': no checkpoint steps"),
    ("unreadable meta", {"models": [{"name": "a", "checkpoint": "corrupt"}]}, ValueError,
     "model 'a': no readable checkpoint"),
    ("not a workdir", {"models": [{"name": "a", "checkpoint": "."}]}, ValueError, "neither a transel train"),
    ("module does not import", {"models": [{"name": "a", "callable": "no_such_module_xyz:make"}]}, ValueError,
     "model 'a': callable 'no_such_module_xyz:make': module 'no_such_module_xyz' does not import"),
    ("file missing", {"models": [{"name": "a", "callable": "gone.py:make"}]}, FileNotFoundError, "gone.py not found"),
    ("import raises", {"models": [{"name": "a", "callable": "raises_on_import.py:make"}]}, ValueError,
     "importing .*raises_on_import.py failed: ImportError: missing dependency foo"),
    ("no function", {"models": [{"name": "a", "callable": "wrap_ok.py:build"}]}, ValueError, "no attribute 'build'"),
    ("bad spec", {"models": [{"name": "a", "callable": "wrap_ok.py"}]}, ValueError, "module:function"),
    ("wrong return", {"models": [{"name": "a", "callable": "bad_return.py:make"}]}, TypeError,
     r"return \(predict_fn, class_names\)"),
    ("declared classes differ", {"models": [{"name": "a", "callable": "wrap_ok.py:make", "classes": ["a"]}]},
     ValueError, "declares 1 names"),
    ("checkpoint classes count", {"models": [{"name": "a", "checkpoint": "ok", "classes": ["x"]}]}, ValueError,
     "lists 1 names, but the checkpoint has 9"),
    ("miou range", {"models": [{"name": "a", "callable": "wrap_ok.py:make", "source_miou": 1.5}]}, ValueError,
     r"source_miou: expected a number in \[0, 1\]"),
    ("images type", {"models": [{"name": "a", "callable": "wrap_ok.py:make", "source_images": "10"}]}, ValueError,
     "source_images: expected an integer"),
    ("bad mean", {"models": [{"name": "a", "checkpoint": "ok", "mean": [1, 2], "std": [1, 1, 1]}]}, ValueError,
     "model 'a': mean: expected 3 finite numbers"),
    ("not json", "{models: }", ValueError, "not valid JSON"),
]


@pytest.fixture(scope="module")
def bad_pool_dir(pools):
    d = pools.root / "bad"
    d.mkdir()
    for name, text in BAD_FILES.items():
        (d / name).write_text(text)
    (d / "empty_ckpt" / "checkpoints").mkdir(parents=True)
    shutil.copytree(pools.trained / "drive", d / "corrupt")
    _corrupt_meta(str(d / "corrupt" / "checkpoints"))
    shutil.copytree(pools.trained / "drive", d / "ok")
    return d


@pytest.mark.parametrize("case,spec,error,message", BAD_POOLS, ids=[c[0] for c in BAD_POOLS])
def test_bad_pool_files_raise_clear_errors(bad_pool_dir, case, spec, error, message):
    path = bad_pool_dir / f"{case.replace(' ', '_')}.json"
    path.write_text(spec if isinstance(spec, str) else json.dumps(spec))
    warns = pytest.warns(RuntimeWarning) if case == "unreadable meta" else contextlib.nullcontext()
    with warns, pytest.raises(error, match=message):
        load_pool(str(path))


def test_bad_pool_directories_and_unreadable_weights(pools, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_pool(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="the pool is empty"):
        load_pool(str(tmp_path / "empty"))
    shutil.copytree(pools.trained / "drive", tmp_path / "mixed" / "drive")
    (tmp_path / "mixed" / "notes").mkdir()
    with pytest.raises(ValueError, match=r"subdirectories \['notes'\] are not transel train work directories"):
        load_pool(str(tmp_path / "mixed"))
    with pytest.raises(ValueError, match="single transel train work directory"):
        load_pool(str(tmp_path / "mixed" / "drive"))
    with pytest.raises(TypeError, match="pool"):
        load_pool(3)
    # metadata reads, the weights do not: the pool lists, validate_model names the model before any probe
    shutil.rmtree(tmp_path / "mixed" / "notes")
    state_dir = tmp_path / "mixed" / "drive" / "checkpoints" / "3" / "state"
    for root, _, files in os.walk(state_dir):
        for f in files:
            if not f.startswith("_"):
                with open(os.path.join(root, f), "wb") as fh:
                    fh.write(b"garbage")
    (m,) = load_pool(str(tmp_path / "mixed"))
    with pytest.raises(ValueError, match="model 'drive'.*could not be read"):
        validate_model(m, np.zeros((1, 32, 32, 3), np.uint8))


ONNX_W = np.array([[1.0, -0.5, 0.2], [0.3, 0.8, -0.6], [-0.7, 0.1, 0.9], [0.2, 0.2, 0.2]], np.float32)
ONNX_B = np.array([0.1, -0.2, 0.0, 0.3], np.float32)


def write_onnx(path, *, channels=3, size=("H", "W")):
    """images float [N, channels, H, W] -> logits [N, 4, H, W] (1x1 conv), feats [N, channels, H/2, W/2] (avg pool)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    w = np.zeros((4, channels, 1, 1), np.float32)
    w[:, :3, 0, 0] = ONNX_W
    graph = helper.make_graph(
        [helper.make_node("Conv", ["images", "w", "b"], ["logits"]),
         helper.make_node("AveragePool", ["images"], ["feats"], kernel_shape=[2, 2], strides=[2, 2])],
        "tiny", [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", channels, *size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 4, *size]),
         helper.make_tensor_value_info("feats", TensorProto.FLOAT, None)],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel()),
         helper.make_tensor("b", TensorProto.FLOAT, [4], ONNX_B)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_onnx_model_joins_the_pool(tmp_path):
    pytest.importorskip("onnxruntime")
    write_onnx(tmp_path / "tiny.onnx")
    mean, std = [100.0, 110.0, 120.0], [50.0, 60.0, 70.0]
    (tmp_path / "pool.json").write_text(json.dumps({"models": [
        {"name": "tiny", "onnx": "tiny.onnx", "classes": ["a", "b", "c", "d"], "mean": mean, "std": std,
         "source_images": 50, "source_miou": 0.3}]}))
    (m,) = load_pool(str(tmp_path / "pool.json"))
    assert (m.kind, m.architecture, m.num_classes, m.base_terms()) == ("onnx", "onnx", 4, (0.3, 50, 4))
    assert m.meta.notes["layout"] == "NCHW" and len(m.fingerprint) == 64
    source, sample = image_source(1)
    assert validate_model(m, source[0]["image"][None]) == {"probs_shape": (24, 40, 4), "feats_shape": (12, 20, 3)}
    probs, feats = m.probe(source, sample, batch_size=3)
    want_p, want_f = [], []
    for i, r, c in zip(sample.image, sample.row, sample.col):
        x = (source[i]["image"].astype(np.float64) - mean) / std
        z = x[r, c] @ ONNX_W.T + ONNX_B
        want_p.append(np.exp(z - z.max()) / np.exp(z - z.max()).sum())
        want_f.append(x[2 * (r // 2):2 * (r // 2) + 2, 2 * (c // 2):2 * (c // 2) + 2].mean((0, 1)))
    np.testing.assert_allclose(probs, np.array(want_p), atol=1e-5)
    np.testing.assert_allclose(feats, np.array(want_f), atol=1e-5)


def test_onnx_mismatches_are_named(tmp_path):
    pytest.importorskip("onnxruntime")
    write_onnx(tmp_path / "tiny.onnx")
    write_onnx(tmp_path / "four.onnx", channels=4)
    write_onnx(tmp_path / "fixed.onnx", size=(16, 16))

    def pool(**entry):
        (tmp_path / "p.json").write_text(json.dumps({"models": [{"name": "m", "mean": [0] * 3, "std": [1] * 3,
                                                                 **entry}]}))
        return load_pool(str(tmp_path / "p.json"))

    with pytest.raises(ValueError, match="model 'm': .*tiny.onnx outputs 4 classes, but classes lists 3"):
        pool(onnx="tiny.onnx", classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="needs \"classes\""):
        pool(onnx="tiny.onnx")
    with pytest.raises(ValueError, match="cannot tell the layout"):
        pool(onnx="four.onnx", classes=list("abcd"))
    with pytest.raises(ValueError, match="expected 3 channels on axis 1"):
        pool(onnx="four.onnx", classes=list("abcd"), layout="NCHW")
    with pytest.raises(FileNotFoundError, match="gone.onnx not found"):
        pool(onnx="gone.onnx", classes=list("abcd"))
    (fixed,) = pool(onnx="fixed.onnx", classes=list("abcd"))
    assert validate_model(fixed, np.zeros((1, 16, 16, 3), np.uint8))["probs_shape"] == (16, 16, 4)
    with pytest.raises(ValueError, match=r"model 'm'.*takes input 'images' of shape \['N', 3, 16, 16\]"):
        validate_model(fixed, np.zeros((1, 24, 16, 3), np.uint8))
