"""Tiny transel checkpoints and folder datasets for the select tests, written directly (no training)."""
import json
import os
import types

import jax
import numpy as np
from PIL import Image

from transel_jax.data import catalog
from transel_jax.models import build
from transel_jax.train.checkpoint import Checkpointer, make_meta
from transel_jax.train.init import init_model

ARCH = "resnet_tiny"
DRIVE, REEF = "syn_drive_day", "syn_underwater_reef"


def save_checkpoint(ckpt_dir, dataset, seed, step=3, **meta_extra):
    """A transel train checkpoint written directly (initial weights perturbed, BN variances scaled)."""
    info = catalog.info(dataset)
    variables = init_model(build(ARCH, info.num_classes), (32, 32), jax.random.PRNGKey(seed))
    rng = np.random.default_rng(seed)
    batch_stats = jax.tree_util.tree_map_with_path(
        lambda path, a: (np.asarray(a) * (rng.uniform(0.5, 1.5, np.shape(a)) if path[-1].key == "var" else 1))
        .astype(np.float32), variables["batch_stats"])
    # the head (and some BN scales) start at zero: perturb every parameter so outputs vary over pixels
    params = jax.tree.map(lambda a: (np.asarray(a) + rng.normal(0, 0.05, np.shape(a))).astype(np.float32),
                          variables["params"])
    tree = {"step": np.int32(step), "params": params, "batch_stats": batch_stats,
            "rng": np.zeros(2, np.uint32)}
    ckpt = Checkpointer(str(ckpt_dir))
    config = {"model": {"name": ARCH}, "data": {"dataset": dataset, "split": "train", "target_subset": False}}
    ckpt.save(step, types.SimpleNamespace(to_dict=lambda: tree), make_meta(ARCH, info.num_classes, config,
                                                                             dataset=dataset, **meta_extra),
              force=True)
    ckpt.close()


def write_workdir(path, dataset, seed, miou):
    save_checkpoint(os.path.join(path, "checkpoints"), dataset, seed)
    with open(os.path.join(path, "eval.json"), "w") as f:
        json.dump({"dataset": dataset, "split": "test", "miou": miou,
                   "class_names": list(catalog.info(dataset).class_names[1:])}, f)


def write_folder(root, source, splits, *, convention="void0"):
    """A folder dataset in the select layout from catalog sources: {split: (source, count)}.

    ``convention`` "ignore255" writes labels as 0..C-1 with 255 = void (and declares it in dataset.json).
    """
    info = None
    for split, (src, count) in splits.items():
        os.makedirs(os.path.join(root, "images", split), exist_ok=True)
        os.makedirs(os.path.join(root, "labels", split), exist_ok=True)
        for i in range(count):
            ex = src[i]
            label = np.asarray(ex["label"]).astype(np.int32)
            if convention == "ignore255":
                label = np.where(label == 0, 255, label - 1)
            Image.fromarray(np.asarray(ex["image"], np.uint8)).save(os.path.join(root, "images", split, f"{i:04d}.png"))
            Image.fromarray(label.astype(np.uint8)).save(os.path.join(root, "labels", split, f"{i:04d}.png"))
    info = catalog.info(source)
    names = list(info.class_names) if convention == "void0" else list(info.class_names[1:])
    with open(os.path.join(root, "classes.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    if convention != "void0":
        with open(os.path.join(root, "dataset.json"), "w") as f:
            json.dump({"labels": convention}, f)
    return root
