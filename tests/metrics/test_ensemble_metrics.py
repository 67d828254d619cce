"""MS-LEEP, E-LEEP, IoU-EEP, SoftIoU-EEP and BASE for one ensemble, against plain references."""
import numpy as np
import pytest

import transel_reference as ref
from transel_jax.metrics import base, base_terms, e_leep, eep_stack, iou_eep, leep, ms_leep, soft_iou_eep

FUNCS = {"ms_leep": ms_leep, "e_leep": e_leep, "iou_eep": iou_eep, "soft_iou_eep": soft_iou_eep}


def _members(seed, s=3, n=60, c=4, alpha=0.5):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.full(c, alpha), size=(s, n)).astype(np.float32), rng.integers(0, c, n)


def _check(members, labels):
    expected = ref.ensemble_metrics(members, labels)
    for name, fn in FUNCS.items():
        assert float(fn(members, labels)) == pytest.approx(expected[name], abs=3e-5), name


@pytest.mark.parametrize("seed,s,c", [(0, 3, 4), (1, 1, 5), (2, 5, 2), (3, 2, 7)])
def test_random_ensembles_match_reference(seed, s, c):
    _check(*_members(seed, s=s, c=c))


def test_edge_cases_match_reference():
    members, labels = _members(10, c=5)
    labels[labels == 4] = 0  # a class absent from the sample
    members[:, :, 2] = 0.0  # zero probabilities everywhere for one class
    members[0, :5] = np.eye(5, dtype=np.float32)[(labels[:5] + 1) % 5]  # confidently wrong pixels
    members /= members.sum(-1, keepdims=True)
    _check(members, labels)
    # one pixel per class
    one_each, _ = _members(11, n=4, c=4)
    _check(one_each, np.arange(4))


def test_ties_are_split_evenly():
    labels = np.array([0, 1, 2, 0, 1, 2])
    eye = np.eye(3, dtype=np.float32)
    members = np.stack([eye[[0, 1, 2, 1, 2, 0]], eye[[1, 1, 2, 0, 2, 0]]])  # two members disagree often
    _check(members, labels)


def test_ms_leep_is_the_sum_of_member_leeps_and_s1_e_leep_is_leep():
    rng = np.random.default_rng(12)
    labels = rng.integers(0, 4, 50)
    sources = [rng.dirichlet(np.ones(z), size=50).astype(np.float32) for z in (3, 6, 8)]
    members = np.asarray(eep_stack(sources, labels, 4))
    total = sum(float(leep(p, labels, 4)) for p in sources)
    assert float(ms_leep(members, labels)) == pytest.approx(total, abs=1e-5)
    for s, p in enumerate(sources):
        assert float(e_leep(members[s:s + 1], labels)) == pytest.approx(float(leep(p, labels, 4)), abs=1e-5)


def test_iou_eep_is_miou_of_the_ensemble_argmax():
    members, labels = _members(13, c=6)
    pred = members.astype(np.float64).mean(0).argmax(-1)
    assert float(iou_eep(members, labels)) == pytest.approx(ref.miou_of_prediction(pred, labels, 6), abs=1e-6)


def test_perfect_and_uniform_predictions():
    labels = np.repeat(np.arange(4), 3)
    perfect = np.stack([np.eye(4, dtype=np.float32)[labels]] * 3)
    assert float(ms_leep(perfect, labels)) == pytest.approx(0.0, abs=1e-6)
    assert float(e_leep(perfect, labels)) == pytest.approx(0.0, abs=1e-6)
    assert float(iou_eep(perfect, labels)) == pytest.approx(1.0)
    assert float(soft_iou_eep(perfect, labels)) == pytest.approx(1.0)
    uniform = np.full((3, 12, 4), 0.25, np.float32)
    assert float(e_leep(uniform, labels)) == pytest.approx(np.log(0.25), abs=1e-6)
    assert float(ms_leep(uniform, labels)) == pytest.approx(3 * np.log(0.25), abs=1e-5)


def test_invariant_to_pixel_and_member_permutations():
    members, labels = _members(14, s=4, c=5)
    perm = np.random.default_rng(0).permutation(labels.size)
    for name, fn in FUNCS.items():
        base_value = float(fn(members, labels))
        assert float(fn(members[:, perm], labels[perm])) == pytest.approx(base_value, abs=1e-5), name
        assert float(fn(members[::-1], labels)) == pytest.approx(base_value, abs=1e-5), name


def test_zero_probability_for_the_true_class_stays_finite():
    labels = np.array([0, 1])
    members = np.array([[[0.0, 1.0], [1.0, 0.0]]], np.float32)  # always wrong, probability 0 on truth
    for fn in FUNCS.values():
        assert np.isfinite(float(fn(members, labels)))
    assert float(soft_iou_eep(members, labels)) == pytest.approx(0.0)


def test_base_is_the_sum_of_p_n_c():
    miou, images, classes = [0.5, 0.7, 0.2], [100, 2000, 150], [20, 8, 33]
    assert base(miou, images, classes) == pytest.approx(sum(p * n * c for p, n, c in zip(miou, images, classes)))
    np.testing.assert_allclose(base_terms(miou, images, classes), [1000.0, 11200.0, 990.0])
    with pytest.raises(ValueError, match="num_images: expected N"):
        base_terms(miou, images[:2], classes)
    with pytest.raises(ValueError, match="source_miou: expected non-negative"):
        base_terms([-0.1, 0.7, 0.2], images, classes)


@pytest.mark.parametrize("mutate,match", [
    (lambda m, y: (m[:, :-1], y), "labels: expected n"),
    (lambda m, y: (m, y + 1), r"labels: expected values in \[0, 3\]"),
    (lambda m, y: (m * 2, y), "summing to 1"),
    (lambda m, y: (np.where(m > 0.5, np.nan, m), y), "finite"),
    (lambda m, y: (m[0], y), "3-d array"),
    (lambda m, y: (m[:, :0], y[:0]), "at least one"),
])
def test_bad_input(mutate, match):
    members, labels = _members(15)
    m, y = mutate(members, labels)
    for fn in FUNCS.values():
        with pytest.raises(ValueError, match=match):
            fn(m, y)


@pytest.mark.parametrize("c", [8, 13, 14, 16])
def test_one_tie_rule_with_the_batched_engine_on_near_uniform_rows(c):
    """Near-uniform rows (noise 1e-6): the single-ensemble functions and the batched engine decide every
    near-tie the same way (on the members' float32 sum), so they agree on every ensemble."""
    from transel_jax.ensembles import score_ensembles

    rng = np.random.default_rng(c)
    eep = (np.full((7, 13, c), 1.0 / c) + rng.normal(0, 1e-6, (7, 13, c))).astype(np.float32)
    eep /= eep.sum(-1, keepdims=True)
    labels = rng.integers(0, c, 13)
    result = score_ensembles(eep, labels, 3, metrics=("iou_eep", "soft_iou_eep", "e_leep"), progress=False)
    for row, members in enumerate(result.ensembles):
        for name, fn in (("iou_eep", iou_eep), ("soft_iou_eep", soft_iou_eep), ("e_leep", e_leep)):
            assert result.scores[name][row] == pytest.approx(float(fn(eep[members], labels)), abs=1e-6), (name, members)
