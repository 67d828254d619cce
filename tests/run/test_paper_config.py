"""`transel run --config configs/paper.py` on real-dataset files: the fake trees of tests/data in each
dataset's original layout, prepared with `transel real prepare`, run end to end with command-line overrides
that make it tiny (a pool of KITTI and CamVid, Cityscapes as the generic dataset, SUIM as the target,
resnet_tiny, no B1L, a few steps). Real datasets keep their catalog resolution (paper.py's data.resolution = 0):
the fake images are a few pixels wide, so the crops are mostly padding and the numbers mean nothing; what
is checked is that every stage runs on the real path and its outputs are consistent and finite.

The run is opt-in (TRANSEL_SLOW_TESTS=1): at the catalog resolutions (512 x 1024, 713 x 713) the run takes about
110 s of wall time and 170 s of CPU time on the 2-core development machine, over the suite's budget; most
of it is the cold compiles of one model per class count (33, 32, 8) and the full-size crops.

    TRANSEL_SLOW_TESTS=1 python -m pytest -q tests/run/test_paper_config.py
"""
import glob
import importlib.util
import json
import os

import numpy as np
import pytest

from transel_jax import cli
from transel_jax.data import catalog
from transel_jax.data.real import driving
from transel_jax.run import pipeline
from transel_jax.run.stage import MARKER, read_npz

from result_checks import json_numbers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PAPER = os.path.join(ROOT, "configs", "paper.py")
slow = pytest.mark.skipif(os.environ.get("TRANSEL_SLOW_TESTS") != "1",
                          reason="slow (about 110 s): set TRANSEL_SLOW_TESTS=1 to run")
# cityscapes (generic) and kitti share the 33 Cityscapes labels, so their models share compiled programs
POOL, GENERIC, TARGET = ("kitti", "camvid"), "cityscapes", "suim"


def _test_module(name):
    """A module of tests/data by file (its fake-tree writers), without registering it as a test module."""
    spec = importlib.util.spec_from_file_location(f"_fake_trees_{name}", os.path.join(ROOT, "tests", "data",
                                                                                        f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _overrides(data_dir):
    return [
        f"--config.data.data_dir={data_dir}", "--config.data.eval_batch_size=4",  # paper.py's bfloat16 kept
        f"--config.pool.datasets={POOL!r}", "--config.pool.architectures=('resnet_tiny',)",
        "--config.pool.generic_steps=3", "--config.pool.steps=2", "--config.pool.batch_size=4",
        "--config.pool.checkpoint_every=0",
        f"--config.targets.datasets=({TARGET!r},)", "--config.targets.steps=2", "--config.targets.batch_size=4",
        "--config.targets.checkpoint_every=0",
        "--config.probe.seeds=(0, 1)", "--config.probe.max_per_image=20", "--config.probe.feature_pixels=300",
        "--config.probe.pca_dims=8", "--config.probe.ensemble_size=2", "--config.probe.candidates=3",
        "--config.probe.good_candidates=1", "--config.probe.top_ensembles=2",
        f"--config.pool.generic_dataset={GENERIC}", "--config.selection.head_steps=5", "--config.selection.larger_model=",
        "--config.influence.architecture=resnet_tiny", "--config.influence.images=2",
    ]


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    """(run_dir, data_dir): the fake trees prepared through the CLI, a dry run that finds them, then the run."""
    readers, tfds_trees = _test_module("test_real_readers"), _test_module("test_real_tfds")
    writers = {"cityscapes": tfds_trees.write_cityscapes, "kitti": readers.write_kitti,
               "camvid": readers.write_camvid,
               "suim": lambda root: tfds_trees.write_suim(root, n_train=catalog.info(TARGET).target_train_size)}
    base = tmp_path_factory.mktemp("paper")
    data_dir, run_dir = base / "tfds", base / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(driving, "KITTI_TRAIN_SIZE", 2)  # the fake KITTI tree has 3 images: 2 train, 1 validation
        for name, write in writers.items():
            write(base / "raw" / name)
            argv = ["real", "prepare", name, "--root", str(base / "raw" / name), "--data-dir", str(data_dir)]
            assert cli.main(argv) == 0
    argv = ["run", "--config", PAPER, "--workdir", str(run_dir), *_overrides(data_dir)]
    assert cli.main([*argv, "--dry-run"]) == 0  # every dataset the config names is found
    assert not run_dir.exists()
    assert cli.main(argv) == 0
    return str(run_dir), str(data_dir)


@slow
def test_every_stage_ran_and_every_number_is_finite(paper_run):
    run_dir, _ = paper_run
    for stage in pipeline.STAGES:
        marker = json.load(open(os.path.join(run_dir, stage.name, MARKER)))
        assert marker["wall_s"] > 0 and marker["line"], stage.name
    for path in glob.glob(os.path.join(run_dir, "**", "*.json"), recursive=True):
        if "checkpoints" not in path:
            assert all(np.isfinite(list(json_numbers(json.load(open(path)))))), path
    for path in glob.glob(os.path.join(run_dir, "**", "*.npz"), recursive=True):
        for name, a in read_npz(path).items():
            if np.issubdtype(a.dtype, np.floating):
                assert np.all(np.isfinite(a)), (path, name)
    text = open(os.path.join(run_dir, "report", "report.md")).read()
    for heading in ("## Ensemble transferability", "## Selection", "## Factors of influence", "## Source pool"):
        assert heading in text
    assert os.path.isfile(os.path.join(run_dir, "report", "figures", f"scatter_{TARGET}.png"))


@slow
def test_pool_records_carry_the_real_datasets_facts(paper_run):
    run_dir, _ = paper_run
    sources = json.load(open(os.path.join(run_dir, "pool", "sources.json")))
    assert [s["id"] for s in sources] == [f"{d}.resnet_tiny.{i}" for d in POOL for i in ("generic", "scratch")]
    for s in sources:  # BASE's N_s and C_s are the catalog's, not the fake tree's
        info = catalog.info(s["dataset"])
        assert (s["num_images"], s["num_classes"], s["domain"]) == (info.splits["train"], info.num_classes,
                                                                     info.domain)
        assert 0.0 <= s["test_miou"] <= 1.0


@slow
def test_probe_samples_address_the_targets_own_differently_sized_images(paper_run):
    """Sampled (image, row, col) index each prepared training image at its own size and carry its label."""
    run_dir, data_dir = paper_run
    train = catalog.load(TARGET, "train", prepared_dir=data_dir)
    labels = [np.asarray(train[i]["label"]) for i in range(catalog.info(TARGET).target_train_size)]
    assert len({m.shape for m in labels}) > 1
    samples = read_npz(os.path.join(run_dir, "probe", TARGET, "samples.npz"))
    for seed in (0, 1):
        image, row, col = samples[f"image_{seed}"], samples[f"row_{seed}"], samples[f"col_{seed}"]
        want = [labels[i][r, c] for i, r, c in zip(image, row, col)]
        np.testing.assert_array_equal(samples[f"labels_{seed}"], want)
        assert np.all(samples[f"labels_{seed}"] > 0)


@slow
def test_test_predictions_are_at_the_catalog_resolution(paper_run):
    run_dir, _ = paper_run
    info = catalog.info(TARGET)
    labels = read_npz(os.path.join(run_dir, "finetune", TARGET, "test_labels.npz"))["labels"]
    assert labels.shape == (2, *info.resolution)  # the fake tree's 2 test images, fitted to the catalog size


def test_real_target_subset_trains_example_by_example(tmp_path):
    """A target subset of a real source (no get_batch, images of different sizes) yields training batches;
    a synthetic subset keeps its source's batch read. Fast: the direct reader, no TFDS, no model."""
    from transel_jax.data import pipeline as data_pipeline

    _test_module("test_real_tfds").write_suim(tmp_path, n_train=150)
    info = catalog.info(TARGET)
    subset = data_pipeline.target_subset(catalog.load(TARGET, "train", root=tmp_path), info)
    assert not hasattr(subset, "get_batch")
    (batch,) = data_pipeline.train_batches(subset, info, batch_size=4, seed=0, num_steps=1)
    assert batch["image"].shape == (4, *info.resolution, 3) and batch["label"].max() <= info.num_classes
    synthetic = data_pipeline.target_subset(catalog.load("syn_aerial_irrg", "train"), catalog.info("syn_aerial_irrg"))
    np.testing.assert_array_equal(synthetic.get_batch([2])["label"][0], synthetic[2]["label"])


def test_prepare_names_an_empty_split_before_tfds(tmp_path):
    """The fake KITTI tree has 3 images, all in the train split at KITTI's real 150/50 cut: the empty
    validation split is named (TFDS would fail with "No examples were yielded")."""
    from transel_jax.data.real import MissingDataError, tfds_builder

    _test_module("test_real_readers").write_kitti(tmp_path / "kitti")
    with pytest.raises(MissingDataError, match=r"kitti: expected examples of the 'validation' split under .*kitti"):
        tfds_builder.prepare("kitti", root=tmp_path / "kitti", data_dir=tmp_path / "tfds")
    assert not (tmp_path / "tfds").exists()
