"""checks.check_probabilities against a plain float64 reference: which inputs pass, which fail, and why."""
import numpy as np
import pytest

from transel_jax import checks


def reference_problem(p, axis=-1, atol=1e-3):
    """None if p is a valid probability array along axis, else "finite" / "negative" / "sum"."""
    x = np.asarray(p, np.float64)
    if not np.isfinite(x).all():
        return "finite"
    if x.min() < 0:
        return "negative"
    if np.abs(x.sum(axis=axis) - 1.0).max() > atol:
        return "sum"
    return None


MESSAGES = {"finite": "expected finite probabilities", "negative": "expected non-negative probabilities",
            "sum": "expected rows summing to 1"}


def cases():
    rng = np.random.default_rng(0)
    for dtype in (np.float16, np.float32, np.float64):
        for axis in (-1, 0, 1):
            p = rng.dirichlet(np.ones(7), size=(5, 6))  # [5, 6, 7], rows along the last axis
            p = np.moveaxis(p, -1, axis)
            yield dtype, axis, p, None
            for defect in ("nan", "inf", "-inf", "negative", "heavy", "light"):
                q = np.array(p)
                if defect == "light":
                    q *= 0.9
                else:
                    q[2, 3, 4] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf, "negative": -0.25, "heavy": 1.5}[defect]
                yield dtype, axis, q, defect


@pytest.mark.parametrize("dtype,axis,p,defect", list(cases()),
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_check_probabilities_agrees_with_a_plain_reference(dtype, axis, p, defect):
    x = p.astype(dtype)
    want = reference_problem(x, axis)
    assert (want is None) == (defect is None)  # the cases mean what they say
    if want is None:
        checks.check_probabilities(x, "probs", axis=axis)
    else:
        with pytest.raises(ValueError, match=f"probs: {MESSAGES[want]}"):
            checks.check_probabilities(x, "probs", axis=axis)


def test_finite_values_too_large_to_sum_fail_the_row_sum_not_the_finite_check():
    x = np.full((2, 3), 3e38, np.float32)
    with pytest.raises(ValueError, match="rows summing to 1 .* got a row summing to inf"):
        checks.check_probabilities(x, "probs")
    with pytest.raises(TypeError, match="probs: expected a floating-point array"):
        checks.check_probabilities(np.ones((2, 3), np.int32), "probs")
