"""Config files and typed --config overrides."""
import ml_collections
import pytest

from transel_jax.config import apply_overrides, load_config


def base():
    cfg = ml_collections.ConfigDict()
    cfg.train = ml_collections.ConfigDict({"steps": 10, "base_lr": 0.01, "schedule": "step",
                                           "freeze_backbone": False, "class_weights": None})
    cfg.data = ml_collections.ConfigDict({"resolution": (16, 16)})
    return cfg


def test_overrides_keep_the_type_of_the_existing_field():
    cfg = apply_overrides(base(), ["--config.train.steps=200", "--config.train.base_lr=1e-3",
                                   "--config.train.schedule=poly", "--config.train.freeze_backbone=true",
                                   "--config.train.class_weights=[1.0, 2.0]", "--config.data.resolution=(8, 12)"])
    assert cfg.train.steps == 200 and isinstance(cfg.train.steps, int)
    assert cfg.train.base_lr == 1e-3 and isinstance(cfg.train.base_lr, float)
    assert cfg.train.schedule == "poly"
    assert cfg.train.freeze_backbone is True
    assert cfg.train.class_weights == [1.0, 2.0]
    assert cfg.data.resolution == (8, 12)


def test_space_separated_value_and_original_left_alone():
    original = base()
    cfg = apply_overrides(original, ["--config.train.steps", "7"])
    assert cfg.train.steps == 7 and original.train.steps == 10


@pytest.mark.parametrize("override, match", [
    ("--config.train.stepz=3", "stepz"),
    ("--config.trian.steps=3", "trian"),
    ("--config.train.steps=ten", "expected int"),
    ("--config.train.freeze_backbone=maybe", "bool"),
    ("--config.train.steps", "expected a value"),
])
def test_bad_overrides_are_named(override, match):
    with pytest.raises(ValueError, match=match):
        apply_overrides(base(), [override])


def test_load_config_from_a_python_file(tmp_path):
    path = tmp_path / "cfg.py"
    path.write_text("import ml_collections\n"
                    "def get_config():\n"
                    "    return ml_collections.ConfigDict({'train': {'steps': 3}})\n")
    assert load_config(str(path), ["--config.train.steps=5"]).train.steps == 5
    with pytest.raises(ValueError, match="not found"):
        load_config(str(tmp_path / "missing.py"))
