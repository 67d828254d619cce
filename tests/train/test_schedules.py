"""Learning-rate schedules against their formulas evaluated in plain Python."""
import numpy as np
import pytest

from transel_jax.train.schedules import make_schedule


def test_step_decay_drops_tenfold_at_two_thirds():
    lr = make_schedule("step", 0.3, total_steps=90)
    got = [float(lr(s)) for s in range(90)]
    want = [0.3 if s < 60 else 0.03 for s in range(90)]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_poly_follows_one_minus_progress_to_the_point_nine():
    lr = make_schedule("poly", 0.01, total_steps=50)
    for s in (0, 1, 17, 49, 50, 70):
        want = 0.01 * (1 - min(s, 50) / 50) ** 0.9
        np.testing.assert_allclose(float(lr(s)), want, rtol=1e-5, atol=1e-12)


def test_warmup_is_linear_then_hands_over_to_the_schedule():
    lr = make_schedule("poly", 0.2, total_steps=100, warmup_steps=10)
    for s in range(10):
        np.testing.assert_allclose(float(lr(s)), 0.2 * (s + 1) / 10, rtol=1e-6)
    for s in (10, 40, 99):
        np.testing.assert_allclose(float(lr(s)), 0.2 * (1 - s / 100) ** 0.9, rtol=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="schedule"):
        make_schedule("cosine", 0.1, 10)
    with pytest.raises(ValueError, match="total_steps"):
        make_schedule("step", 0.1, 0)
    with pytest.raises(ValueError, match="base_lr"):
        make_schedule("step", -1.0, 10)
