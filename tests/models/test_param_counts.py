"""Parameter counts and depths against a hand count of the written architectures (no model init needed).

The reference below is plain integer arithmetic over the layer lists in the docstrings of
transel_jax/models/hrnet.py and resnet.py (bias-free convs, BatchNorm = scale + bias, a 1x1 head with bias);
``jax.eval_shape`` gives the Flax models' counts without allocating them. Each reference returns
``(params, layers_with_weights)``.
"""
import pytest

from transel_jax import models


def conv(cin, cout, k):
    return k * k * cin * cout, 1


def bn(c):
    return 2 * c, 0


def total(*parts):
    return sum(p for p, _ in parts), sum(n for _, n in parts)


def bottleneck(cin, planes):
    out = 4 * planes
    parts = [conv(cin, planes, 1), bn(planes), conv(planes, planes, 3), bn(planes), conv(planes, out, 1), bn(out)]
    if cin != out:
        parts += [conv(cin, out, 1), bn(out)]
    return total(*parts)


def basic(c):
    return total(conv(c, c, 3), bn(c), conv(c, c, 3), bn(c))


def hrnet(width, stem=64, planes=64, stage1_blocks=4, modules=(1, 4, 3), blocks=4, num_classes=20):
    parts = [conv(3, stem, 3), bn(stem), conv(stem, stem, 3), bn(stem)]
    cin = stem
    for _ in range(stage1_blocks):
        parts.append(bottleneck(cin, planes))
        cin = 4 * planes
    prev = [cin]
    for n, num_modules in zip((2, 3, 4), modules):
        ch = [width * 2**i for i in range(n)]
        for i, c in enumerate(ch):  # transition
            if i < len(prev):
                if prev[i] != c:
                    parts += [conv(prev[i], c, 3), bn(c)]
            else:
                parts += [conv(prev[-1], c, 3), bn(c)]
        for _ in range(num_modules):
            parts += [basic(c) for c in ch for _ in range(blocks)]
            for i in range(n):  # fuse: output i from input j
                for j in range(n):
                    if j > i:
                        parts += [conv(ch[j], ch[i], 1), bn(ch[i])]
                    for k in range(i - j):
                        cout = ch[i] if k == i - j - 1 else ch[j]
                        parts += [conv(ch[j], cout, 3), bn(cout)]
        prev = ch
    parts.append((15 * width * num_classes + num_classes, 1))
    return total(*parts)


def dilated_resnet(stem=64, planes=(64, 128, 256, 512), units=(3, 4, 6, 3), trim=4, atrous=192, rates=5,
                   num_classes=20):
    parts = [conv(3, stem, 7), bn(stem)]
    cin = stem
    for s, (p, u) in enumerate(zip(planes, units)):
        layers = 3 * u - (trim if s == len(units) - 1 else 0)
        for _ in range(layers // 3):
            parts.append(bottleneck(cin, p))
            cin = 4 * p
        if layers % 3 >= 1:
            parts += [conv(cin, p, 1), bn(p)]
            cin = p
        if layers % 3 == 2:
            parts += [conv(p, p, 3), bn(p)]
    parts += [conv(cin, atrous, 3) for _ in range(rates)] + [bn(atrous) for _ in range(rates)]
    parts.append((atrous * num_classes + num_classes, 1))
    return total(*parts)


REFERENCE = {
    "hrnetv2_w18": lambda: hrnet(18),
    "hrnetv2_w28": lambda: hrnet(28),
    "hrnetv2_w48": lambda: hrnet(48),
    "resnet23m": lambda: dilated_resnet(),
    "hrnetv2_tiny": lambda: hrnet(4, stem=16, planes=8, stage1_blocks=1, modules=(1, 1, 1), blocks=1),
    "resnet_tiny": lambda: dilated_resnet(stem=16, planes=(8, 16, 32, 64), units=(1, 1, 1, 2), atrous=32),
    "hrnetv2_tiny_l": lambda: hrnet(10, stem=16, planes=8, stage1_blocks=1, modules=(1, 1, 1), blocks=1),
}


@pytest.fixture(scope="module")
def described():
    return {name: models.describe(name, 20) for name in models.names()}


def test_every_registered_model_has_a_reference():
    assert sorted(REFERENCE) == sorted(models.names())


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_params_and_depth_match_the_hand_count(described, name):
    params, depth = REFERENCE[name]()
    assert described[name]["params"] == params
    assert described[name]["depth"] == depth
    assert described[name]["head_params"] == (described[name]["feature_channels"] + 1) * 20


def test_sizes_match_the_papers(described):
    w28 = described["hrnetv2_w28"]["params"]
    assert 22e6 <= w28 <= 24e6  # papers/000: "HRNetV2-W28 (23M parameters)"
    assert abs(described["resnet23m"]["params"] - w28) <= 0.10 * w28  # "same number of parameters"
    assert 65e6 <= described["hrnetv2_w48"]["params"] <= 69e6  # HRNet paper: 65.9M incl. a 720x720 conv
    assert described["resnet23m"]["depth"] == 55  # ResNet-50's 53 convs - 4 trimmed + 5 atrous + head


@pytest.mark.parametrize("name, channels, stride", [
    ("hrnetv2_w18", 270, 4), ("hrnetv2_w28", 420, 4), ("hrnetv2_w48", 720, 4), ("resnet23m", 192, 8),
])
def test_output_shapes_at_512(described, name, channels, stride):
    d = described[name]
    assert d["feature_channels"] == channels and d["output_stride"] == stride
    assert d["logits_shape"] == (1, 512, 512, 20)
    assert d["features_shape"] == (1, 512 // stride, 512 // stride, channels)


def test_describe_odd_input_size_rounds_up():
    d = models.describe("hrnetv2_tiny", 3, input_size=(65, 97))
    assert d["logits_shape"] == (1, 65, 97, 3)
    assert d["features_shape"] == (1, 17, 25, 60)  # ceil(65/4), ceil(97/4), 15 * 4
    d = models.describe("resnet_tiny", 3, input_size=(65, 97))
    assert d["features_shape"] == (1, 9, 13, 32)  # ceil(65/8), ceil(97/8)


def test_overrides_change_the_architecture():
    d = models.describe("hrnetv2_tiny", 20, width=8)
    assert d["feature_channels"] == 120
    assert d["params"] == hrnet(8, stem=16, planes=8, stage1_blocks=1, modules=(1, 1, 1), blocks=1)[0]


def test_list_overrides_are_stored_as_tuples_so_the_module_stays_hashable():
    model = models.build("resnet_tiny", 5, atrous_rates=[1, 2], units=[1, 1, 1, 2])
    assert model.backbone.atrous_rates == (1, 2) and model.backbone.units == (1, 1, 1, 2)
    assert hash(model) == hash(models.build("resnet_tiny", 5, atrous_rates=(1, 2)))  # jax.jit(model.apply) hashes it
    assert models.build("hrnetv2_tiny", 5, modules_per_stage=[1, 1, 1]).backbone.modules_per_stage == (1, 1, 1)


@pytest.mark.parametrize("num_classes", [5, 14])
def test_tiny_l_has_the_capacity_of_an_ensemble_of_three_tiny_models(num_classes):
    """The demo's B1L (papers/000 Sec. 5.2: one model with the parameters of an ensemble of 3): within
    10% of 3x the mean size of the two tiny architectures, and as deep as hrnetv2_tiny (only wider)."""
    size = {n: models.describe(n, num_classes, input_size=(64, 64))
            for n in ("hrnetv2_tiny", "resnet_tiny", "hrnetv2_tiny_l")}
    ensemble = 3 * (size["hrnetv2_tiny"]["params"] + size["resnet_tiny"]["params"]) / 2
    assert abs(size["hrnetv2_tiny_l"]["params"] / ensemble - 1) <= 0.10
    assert size["hrnetv2_tiny_l"]["depth"] == size["hrnetv2_tiny"]["depth"]
    assert size["hrnetv2_tiny_l"]["feature_channels"] == 150
