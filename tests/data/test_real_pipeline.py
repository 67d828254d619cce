"""A real-dataset source flows through the input pipeline (sizes differ per image, labels stay in range)."""
import numpy as np
import pytest
from PIL import Image

from transel_jax.data import catalog

pipeline = pytest.importorskip("transel_jax.data.pipeline")


def _write_camvid(root, sizes):
    colours = np.array([(0, 0, 0), (128, 64, 128), (64, 0, 128)], np.uint8)  # void, Road, Car
    rng = np.random.default_rng(0)
    stems = [f"0001TP_{i:06d}" for i in range(len(sizes))]
    for stem, (h, w) in zip(stems, sizes):
        for folder, arr in (("701_StillsRaw_full", rng.integers(0, 256, (h, w, 3), dtype=np.uint8)),
                            ("LabeledApproved_full", colours[rng.integers(0, 3, (h, w))])):
            (root / folder).mkdir(parents=True, exist_ok=True)
            name = f"{stem}.png" if folder.startswith("701") else f"{stem}_L.png"
            Image.fromarray(arr).save(root / folder / name)
    (root / "train.txt").write_text("\n".join(stems) + "\n")
    (root / "val.txt").write_text(stems[0] + "\n")


def test_camvid_source_through_train_and_eval_batches(tmp_path):
    _write_camvid(tmp_path, [(36, 48), (40, 30), (24, 64)])
    info = catalog.info("camvid")
    src = catalog.load("camvid", "train", root=tmp_path)
    (batch,) = list(pipeline.train_batches(src, info, batch_size=2, seed=0, num_steps=1))
    assert batch["image"].shape == (2, *info.resolution, 3) and batch["image"].dtype == np.float32
    labels = batch["label"]
    assert labels.shape == (2, *info.resolution) and set(np.unique(labels)) <= {0, 18, 6}  # void, Road, Car
    (evaluated,) = list(pipeline.eval_batches(catalog.load("camvid", "validation", root=tmp_path), info, batch_size=2))
    assert evaluated["mask"].tolist() == [True, False]
