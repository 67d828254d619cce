"""`transel real list|check|prepare` on a tiny SUIM tree."""
import argparse

import numpy as np
from PIL import Image

from transel_jax.data.real import cli


def _run(argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.main(parser.parse_args(argv))


def _write_suim(root):
    for folder in ("train_val", "TEST"):
        (root / folder / "images").mkdir(parents=True)
        (root / folder / "masks").mkdir(parents=True)
        Image.fromarray(np.zeros((3, 4, 3), np.uint8)).save(root / folder / "images" / "a_.jpg")
        mask = np.zeros((3, 4, 3), np.uint8)
        mask[0, 0] = (255, 255, 0)
        Image.fromarray(mask).save(root / folder / "masks" / "a_.bmp")


def test_list_prints_every_dataset(capsys):
    assert _run(["list"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert len(rows) == 17 and rows[0].split()[:3] == ["ade20k", "consumer", "151"]


def test_check_and_prepare(tmp_path, capsys):
    _write_suim(tmp_path / "suim")
    assert _run(["check", "suim", "--root", str(tmp_path / "suim")]) == 0
    out = capsys.readouterr().out
    assert "suim/train: 1 examples" in out and "'FV: Fish and vertebrates'" in out and "'void'" in out
    assert _run(["prepare", "suim", "--root", str(tmp_path / "suim"), "--data-dir", str(tmp_path / "tfds")]) == 0
    assert list((tmp_path / "tfds" / "transel_real" / "suim").glob("*/*.array_record-*"))
