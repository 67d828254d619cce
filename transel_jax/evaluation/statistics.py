"""Confidence intervals, paired comparisons, sign and permutation tests for the papers' studies.

Pure numpy/scipy (no jax): the inputs are the small tables that ``transel run`` has already computed.

**Two-level bootstrap** (:func:`bootstrap_mean`). A per-(target, probe seed) measure ``v[t][r]`` (e.g. the
weighted tau of one metric on target t with probe seed r) is summarised by the mean over targets of the
per-target mean over seeds, ``mean_t mean_r v[t][r]`` (the ``"mean"`` row of
:func:`transel_jax.evaluation.protocols.study`). Each of the ``n_boot`` replicates resamples

1. T targets with replacement out of the T targets, then
2. for every drawn target, its R_t seeds with replacement out of its own R_t seeds,

and recomputes the same statistic (the two-stage bootstrap of Davison & Hinkley 1997, Sec. 3.8). The
95% interval is the percentile interval of the replicates. Resampling both levels is slightly
conservative (it counts seed noise twice: once inside the target means, once again); with few targets
the target level dominates, which is the variation a user cares about: another target, another answer.
Paired comparisons (:func:`paired_comparison`) bootstrap the per-(target, seed) difference ``a - b``,
i.e. the same resampled targets and seeds for both metrics. Targets may have different seed counts.

**Selection gains** (:func:`gain_summary`): one value per target; the same bootstrap with one "seed"
each is the ordinary bootstrap over targets; an exact two-sided sign test (``scipy.stats.binomtest``,
p = 1/2, ties dropped) asks whether wins and losses are equally likely.

**Influence** (:func:`influence_tau`): Kendall tau-b between ``-D[T][S]`` (nearer is larger) and the gains
``r[T][S]``, pooled over the included (T, S) pairs as 002 Sec. 5 does. Its permutation p-value permutes
the gains *within each target* (row) by default: each target keeps its own gains, only which source they
belong to is shuffled, so a between-target effect (a target with large distances that gains little from
everything) cannot make the test significant on its own; ``permute="pooled"`` shuffles all pairs. The
p-value is ``(1 + #{perm: |tau_perm| >= |tau|}) / (1 + n_perm)`` (two-sided; ``alternative="greater"``
counts ``tau_perm >= tau``). Its bootstrap interval resamples targets (rows) with replacement.

**Verdicts** (:func:`verdict`): a paper claim with direction +1 (the quantity should be > 0) or -1 holds
when the interval excludes 0 on that side, is contradicted when it excludes 0 on the other side, and is
undecided otherwise.

Every returned dict is JSON-able (floats, ints, strings, lists; undefined values are ``None``) and carries
``"estimate"`` and ``"ci"``, so :func:`summarize` and the verdicts address any of them the same way.

>>> r = bootstrap_mean({"a": [0.5, 0.7], "b": [0.6, 0.6], "c": [0.2, 0.4]}, n_boot=2000, seed=0)
>>> round(r["estimate"], 3), r["n_targets"], r["ci"][0] < r["estimate"] < r["ci"][1]
(0.5, 3, True)
>>> verdict([0.01, 0.2], +1), verdict([-0.3, -0.1], +1), verdict([-0.1, 0.2], -1)
('holds', 'contradicted', 'undecided')
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import scipy.stats

from transel_jax import checks

DEFAULT_BOOT = 10_000
DEFAULT_PERM = 10_000
VERDICTS = ("holds", "contradicted", "undecided")
PERMUTE = ("within_targets", "pooled")
ALTERNATIVES = ("two-sided", "greater")


# ----------------------------------------------------------------------------------------------- inputs
def _check_options(n_boot: int, level: float, seed) -> None:
    checks.check_positive_int(n_boot, "n_boot", 100)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.5 <= level < 1:
        raise ValueError(f"level: expected a confidence level in [0.5, 1), got {level!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed: expected an integer seed, got {seed!r}")


def _float_vector(x, name: str) -> np.ndarray:
    if x is None or isinstance(x, (str, bytes, Mapping)):
        raise TypeError(f"{name}: expected a sequence of numbers, got {type(x).__name__}")
    try:
        v = np.asarray(x, np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a sequence of numbers, got a {type(x).__name__} that is not one") from None
    if v.ndim == 0:
        v = v[None]
    checks.check_rank(v, name, 1, "[seeds]")
    checks.check_nonempty(v, name, what="values")
    checks.check_finite(v, name)
    return v


def two_level(values, name: str = "values") -> tuple[list[str], list[np.ndarray]]:
    """(target names, per-target float arrays of per-seed values) from any accepted layout.

    ``values``: ``{target: [value per seed]}`` (seed counts may differ; a scalar counts as one seed), or an
    array ``[T, R]`` (T targets x R seeds; targets named "0".."T-1"), or ``[T]`` (one seed each).

    >>> two_level({"a": [1, 2], "b": 3.0})
    (['a', 'b'], [array([1., 2.]), array([3.])])
    """
    if isinstance(values, Mapping):
        if not values:
            raise ValueError(f"{name}: expected at least one target, got an empty mapping")
        names = [str(t) for t in values]
        rows = [_float_vector(v, f"{name}[{t!r}]") for t, v in values.items()]
        return names, rows
    if values is None or isinstance(values, (str, bytes)):
        raise TypeError(f"{name}: expected {{target: [value per seed]}} or an array [T, R], got {type(values).__name__}")
    try:
        arr = np.asarray(values, np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected {{target: [value per seed]}} or an array [T, R]; a ragged list "
                        "needs the mapping form") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    checks.check_rank(arr, name, 2, "[targets, seeds]")
    checks.check_nonempty(arr, name, what="targets")
    checks.check_nonempty(arr, name, axis=1, what="seeds")
    checks.check_finite(arr, name)
    return [str(i) for i in range(arr.shape[0])], list(arr)


def _padded(rows: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    counts = np.array([r.shape[0] for r in rows], np.int64)
    out = np.zeros((len(rows), int(counts.max())))
    for i, r in enumerate(rows):
        out[i, : r.shape[0]] = r
    return out, counts


def _jsonable_ci(lo: float, hi: float) -> list:
    return [float(lo), float(hi)]


# --------------------------------------------------------------------------------------- the bootstrap
def bootstrap_replicates(rows: Sequence[np.ndarray], *, n_boot: int = DEFAULT_BOOT, seed: int = 0,
                         chunk_elements: int = 4_000_000) -> np.ndarray:
    """float [n_boot] two-level bootstrap replicates of mean_t mean_r rows[t][r] (module docstring).

    Vectorised over replicates in chunks of about ``chunk_elements`` resampled values (memory bound);
    the chunk size depends only on the input's shape, so the same seed gives the same replicates.
    """
    padded, counts = _padded(rows)
    n_t, width = padded.shape
    rng = np.random.default_rng(seed)
    per_chunk = max(1, chunk_elements // (n_t * width))
    out = np.empty(n_boot)
    cols = np.arange(width)
    for start in range(0, n_boot, per_chunk):
        b = min(per_chunk, n_boot - start)
        t = rng.integers(0, n_t, size=(b, n_t))                                  # level 1: targets
        n = counts[t]                                                            # [b, T] their seed counts
        r = np.floor(rng.random((b, n_t, width)) * n[..., None]).astype(np.int64)  # level 2: seeds
        v = padded[t[..., None], r]
        v = np.where(cols < n[..., None], v, 0.0)
        out[start:start + b] = (v.sum(-1) / n).mean(-1)
    return out


def _percentile(reps: np.ndarray, level: float) -> list:
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    return _jsonable_ci(lo, hi)


def bootstrap_mean(values, *, n_boot: int = DEFAULT_BOOT, level: float = 0.95, seed: int = 0) -> dict:
    """Mean over targets of per-target mean over seeds, with a two-level percentile bootstrap interval.

    Args:
      values: ``{target: [value per seed]}`` or ``[T, R]`` (see :func:`two_level`).
    Returns:
      {"estimate", "ci": [lo, hi], "level", "n_boot", "n_targets", "n_seeds" (total values),
       "per_target": {target: mean over its seeds}, "std_targets" (population std of the per-target means)}.
    """
    _check_options(n_boot, level, seed)
    names, rows = two_level(values)
    means = np.array([r.mean() for r in rows])
    reps = bootstrap_replicates(rows, n_boot=n_boot, seed=seed)
    return {"estimate": float(means.mean()), "ci": _percentile(reps, level), "level": float(level),
            "n_boot": int(n_boot), "n_targets": len(rows), "n_seeds": int(sum(r.size for r in rows)),
            "per_target": {t: float(m) for t, m in zip(names, means)}, "std_targets": float(means.std())}


def _sign_test(wins: int, losses: int) -> float:
    n = wins + losses
    return 1.0 if n == 0 else float(scipy.stats.binomtest(wins, n, 0.5, alternative="two-sided").pvalue)


def _win_counts(diffs: np.ndarray, tie_tol: float) -> dict:
    return {"wins": int(np.sum(diffs > tie_tol)), "ties": int(np.sum(np.abs(diffs) <= tie_tol)),
            "losses": int(np.sum(diffs < -tie_tol))}


def _check_tie_tol(tie_tol) -> float:
    if isinstance(tie_tol, bool) or not isinstance(tie_tol, (int, float)) or not tie_tol >= 0 or not math.isfinite(tie_tol):
        raise ValueError(f"tie_tol: expected a finite number >= 0, got {tie_tol!r}")
    return float(tie_tol)


def paired_comparison(a, b, *, n_boot: int = DEFAULT_BOOT, level: float = 0.95, seed: int = 0,
                      tie_tol: float = 0.0) -> dict:
    """Metric a against metric b on the same targets and probe seeds (paired).

    Args:
      a, b: per-(target, seed) values in the same layout (same targets, same seed counts), see :func:`two_level`.
      tie_tol: per-target mean differences within +-tie_tol count as ties.
    Returns:
      {"estimate" (= "mean_diff", mean_t mean_r (a - b)), "ci" (two-level bootstrap of the difference),
       "mean_a", "mean_b", "wins", "ties", "losses" (targets whose mean over seeds is higher / equal /
       lower for a), "sign_test_p" (exact two-sided, ties dropped), "n_targets", "level", "n_boot",
       "per_target": {target: mean difference}}.

    >>> c = paired_comparison({"x": [0.6, 0.7], "y": [0.5, 0.5]}, {"x": [0.5, 0.5], "y": [0.5, 0.5]}, n_boot=500)
    >>> round(c["mean_diff"], 3), c["wins"], c["ties"], c["losses"]
    (0.075, 1, 1, 0)
    """
    _check_options(n_boot, level, seed)
    tol = _check_tie_tol(tie_tol)
    names_a, rows_a = two_level(a, "a")
    names_b, rows_b = two_level(b, "b")
    if names_a != names_b:
        raise ValueError(f"b: expected the targets of a {names_a}, got {names_b}")
    for t, ra, rb in zip(names_a, rows_a, rows_b):
        checks.check_dim(f"b[{t!r}]", "seeds (matching a)", rb.shape[0], ra.shape[0])
    diffs = [ra - rb for ra, rb in zip(rows_a, rows_b)]
    per_target = np.array([d.mean() for d in diffs])
    reps = bootstrap_replicates(diffs, n_boot=n_boot, seed=seed)
    est = float(per_target.mean())
    return {"estimate": est, "mean_diff": est, "ci": _percentile(reps, level),
            "mean_a": float(np.mean([r.mean() for r in rows_a])), "mean_b": float(np.mean([r.mean() for r in rows_b])),
            **_win_counts(per_target, tol), "sign_test_p": _sign_test(int(np.sum(per_target > tol)),
                                                                    int(np.sum(per_target < -tol))),
            "n_targets": len(diffs), "level": float(level), "n_boot": int(n_boot),
            "per_target": {t: float(d) for t, d in zip(names_a, per_target)}}


# ------------------------------------------------------------------------------------------- selection
def relative_gains(selected, baseline, name: str = "baseline") -> dict:
    """{target: 100 * (selected[t] / baseline[t] - 1)} (000 Sec. 5: relative mIoU gain in %).

    >>> relative_gains({"a": 0.55}, {"a": 0.5})
    {'a': 10.000000000000009}
    """
    if not isinstance(selected, Mapping) or not isinstance(baseline, Mapping):
        raise TypeError("selected, baseline: expected {target: mIoU} mappings")
    if set(selected) != set(baseline):
        raise ValueError(f"{name}: expected the targets of selected {sorted(selected)}, got {sorted(baseline)}")
    out = {}
    for t in selected:
        s, b = float(selected[t]), float(baseline[t])
        if not (math.isfinite(s) and math.isfinite(b)) or b <= 0:
            raise ValueError(f"{name}[{t!r}]: expected a finite positive mIoU (and a finite selected one), "
                             f"got baseline {b:g}, selected {s:g}")
        out[str(t)] = 100.0 * (s / b - 1.0)
    return out


def gain_summary(gains, *, n_boot: int = DEFAULT_BOOT, level: float = 0.95, seed: int = 0,
                 tie_tol: float = 0.0) -> dict:
    """Mean relative gain over targets with a bootstrap interval over targets and an exact sign test.

    Args:
      gains: ``{target: gain in %}`` or ``[T]``, one value per target (e.g. 100 * (sel / base - 1)).
    Returns:
      {"estimate" (= "mean_gain"), "ci", "median", "wins" (gain > tie_tol), "ties", "losses",
       "sign_test_p" (exact two-sided binomial test of wins vs losses, ties dropped), "n_targets",
       "level", "n_boot", "per_target"}.

    >>> g = gain_summary({"a": 3.0, "b": 5.0, "c": -1.0, "d": 2.0}, n_boot=1000)
    >>> g["estimate"], g["wins"], g["losses"], round(g["sign_test_p"], 3)
    (2.25, 3, 1, 0.625)
    """
    _check_options(n_boot, level, seed)
    tol = _check_tie_tol(tie_tol)
    if isinstance(gains, Mapping):
        names = [str(t) for t in gains]
        g = _float_vector([gains[t] for t in gains], "gains") if gains else None
        if g is None:
            raise ValueError("gains: expected at least one target, got an empty mapping")
    else:
        g = _float_vector(gains, "gains")
        names = [str(i) for i in range(g.size)]
    reps = bootstrap_replicates([v[None] for v in g], n_boot=n_boot, seed=seed)
    counts = _win_counts(g, tol)
    est = float(g.mean())
    return {"estimate": est, "mean_gain": est, "ci": _percentile(reps, level), "median": float(np.median(g)),
            **counts, "sign_test_p": _sign_test(counts["wins"], counts["losses"]), "n_targets": int(g.size),
            "level": float(level), "n_boot": int(n_boot), "per_target": dict(zip(names, map(float, g)))}


def selection_gains(selected, baselines: Mapping[str, Mapping], **kwargs) -> dict:
    """{baseline: :func:`gain_summary` of relative_gains(selected, baselines[baseline])}.

    Args:
      selected: {target: mIoU of the selected ensemble (with its head)}.
      baselines: {baseline name (b1, b1l, average, best_member, worst_member): {target: mIoU}}.
    """
    if not isinstance(baselines, Mapping) or not baselines:
        raise ValueError("baselines: expected a non-empty {baseline: {target: mIoU}} mapping")
    return {b: gain_summary(relative_gains(selected, m, f"baselines[{b!r}]"), **kwargs) for b, m in baselines.items()}


# ------------------------------------------------------------------------------------------- influence
def _matrix(x, name: str) -> np.ndarray:
    try:
        m = np.asarray(x, np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a numeric matrix [T, S]") from None
    checks.check_rank(m, name, 2, "[targets, sources]")
    return m


def _tau_b_parts(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """(sign(x_i - x_j) over the pairs i < j, tau-b denominator sqrt((n0 - n1)(n0 - n2)))."""
    i, j = np.triu_indices(x.size, 1)
    sx = np.sign(x[i] - x[j])
    sy = np.sign(y[i] - y[j])
    return sx, float(np.sqrt(np.count_nonzero(sx) * np.count_nonzero(sy)))


def _perm_taus(x: np.ndarray, y: np.ndarray, rows: np.ndarray, *, permute: str, n_perm: int,
               rng: np.random.Generator, chunk_elements: int = 2_000_000) -> np.ndarray:
    """float [n_perm] Kendall tau-b of (x, y permuted) (within ``rows`` or pooled)."""
    n = x.size
    i, j = np.triu_indices(n, 1)
    sx, denom = _tau_b_parts(x, y)
    sx = sx.astype(np.float32)                          # signs and rank differences are exact in float32
    y = scipy.stats.rankdata(y).astype(np.float32)      # ranks: same signs of differences as y
    out = np.empty(n_perm)
    per_chunk = max(1, chunk_elements // max(1, i.size))
    for start in range(0, n_perm, per_chunk):
        c = min(per_chunk, n_perm - start)
        keys = rng.random((c, n))
        if permute == "within_targets":
            keys = keys + 2.0 * rows[None, :]           # rows sorted ascending: blocks stay in place
        yp = y[np.argsort(keys, axis=1, kind="stable")]
        out[start:start + c] = (np.sign(yp[:, i] - yp[:, j]) @ sx).astype(np.float64) / denom
    return out


def _weighted_taus(x: np.ndarray, y: np.ndarray, rows: np.ndarray, w: np.ndarray) -> np.ndarray:
    """float [B] pooled tau-b of the data in which row k's observations appear w[b, k] times.

    Exact without materialising the resampled data: the ordered-pair sums of sign products and of untied
    pairs over the resampled data are w^T C w with C their row-block sums (two copies of one observation
    form a pair tied on both sides, as scipy.stats.kendalltau counts it on the repeated data).
    """
    _, inverse = np.unique(rows, return_inverse=True)
    onehot = np.zeros((int(inverse.max()) + 1, x.size))
    onehot[inverse, np.arange(x.size)] = 1.0
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    blocks = [onehot @ m @ onehot.T for m in (sx * sy, (sx != 0).astype(float), (sy != 0).astype(float))]
    w = np.asarray(w, np.float64)
    num, ux, uy = (np.einsum("bt,tu,bu->b", w, c, w) for c in blocks)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / np.sqrt(ux * uy)


def _boot_taus(x: np.ndarray, y: np.ndarray, rows: np.ndarray, *, n_boot: int,
               rng: np.random.Generator) -> np.ndarray:
    """float [n_boot] pooled tau-b with the targets (rows) resampled with replacement."""
    k = np.unique(rows).size
    return _weighted_taus(x, y, rows, rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot))


def influence_tau(gains, distance, *, include=None, permute: str = "within_targets",
                  alternative: str = "two-sided", n_perm: int = DEFAULT_PERM, n_boot: int = DEFAULT_BOOT,
                  level: float = 0.95, seed: int = 0) -> dict:
    """Kendall tau-b between -distance and gains over the (target, source) pairs, with tests.

    Args:
      gains: r [T, S], relative transfer gain of source S on target T (002 Eq. 2).
      distance: D [T, S] for one assignment variant (002 Eq. 1, Tab. 10).
      include: optional bool [T, S], the pairs to use (e.g. False where the source is the target's own
        dataset); pairs where either matrix is NaN are always left out.
      permute: "within_targets" (shuffle each target's gains over its sources) or "pooled".
      alternative: "two-sided" (|tau_perm| >= |tau|) or "greater" (tau_perm >= tau: nearer, larger gain).
    Returns:
      {"estimate" (= "tau"), "ci" (percentile bootstrap over targets), "p_value", "permute", "alternative",
       "n_perm", "n_boot", "level", "n_pairs", "n_targets"}.

    >>> d = [[1., 2., 3.], [4., 5., 6.]]
    >>> r = [[6., 5., 4.], [3., 2., 1.]]
    >>> t = influence_tau(r, d, n_perm=200, n_boot=200)
    >>> round(t["tau"], 6), t["n_pairs"]
    (1.0, 6)
    """
    checks.check_choice(permute, "permute", PERMUTE)
    checks.check_choice(alternative, "alternative", ALTERNATIVES)
    checks.check_positive_int(n_perm, "n_perm", 99)
    _check_options(n_boot, level, seed)
    r = _matrix(gains, "gains")
    d = _matrix(distance, "distance")
    if d.shape != r.shape:
        raise ValueError(f"distance: expected shape {r.shape} (matching gains [T, S]), got {d.shape}")
    keep = np.isfinite(r) & np.isfinite(d)
    if include is not None:
        inc = np.asarray(include)
        if inc.dtype != bool or inc.shape != r.shape:
            raise ValueError(f"include: expected a bool array of shape {r.shape}, got {inc.dtype} {inc.shape}")
        keep &= inc
    rows = np.nonzero(keep)[0]
    x, y = -d[keep], r[keep]                           # row-major: rows ascending
    if x.size < 3:
        raise ValueError(f"gains: expected at least 3 included (target, source) pairs, got {x.size}")
    for arr, name in ((x, "distance"), (y, "gains")):
        if np.ptp(arr) == 0:
            raise ValueError(f"{name}: expected at least two distinct values over the included pairs (Kendall tau "
                             "with a constant side is undefined)")
    tau = float(scipy.stats.kendalltau(x, y).statistic)
    rng = np.random.default_rng(seed)
    perms = _perm_taus(x, y, rows, permute=permute, n_perm=n_perm, rng=rng)
    eps = 1e-12                                        # float slack: a permutation equal to tau counts
    hits = np.abs(perms) >= abs(tau) - eps if alternative == "two-sided" else perms >= tau - eps
    boots = _boot_taus(x, y, rows, n_boot=n_boot, rng=rng)
    boots = boots[np.isfinite(boots)]
    ci = _percentile(boots, level) if boots.size else [None, None]
    return {"estimate": tau, "tau": tau, "ci": ci, "p_value": float((1 + hits.sum()) / (1 + n_perm)),
            "permute": permute, "alternative": alternative, "n_perm": int(n_perm), "n_boot": int(n_boot),
            "level": float(level), "n_pairs": int(x.size), "n_targets": int(np.unique(rows).size)}


def self_pairs(targets: Sequence[str], sources: Sequence[str]) -> np.ndarray:
    """bool [T, S], False where the source dataset is the target itself (an ``include`` for influence_tau).

    >>> self_pairs(["a", "b"], ["a", "c"]).tolist()
    [[False, True], [True, True]]
    """
    return np.array([[str(t) != str(s) for s in sources] for t in targets], bool)


# ---------------------------------------------------------------------------------------------- verdict
def _direction(direction) -> int:
    if direction in (1, "greater", "+"):
        return 1
    if direction in (-1, "less", "-"):
        return -1
    raise ValueError(f"direction: expected +1/'greater' or -1/'less', got {direction!r}")


def verdict(ci, direction=+1) -> str:
    """"holds" when ``ci`` excludes 0 on the paper's side, "contradicted" on the other side, else "undecided".

    Args:
      ci: [lo, hi] a confidence interval of the quantity the claim is about (e.g. a mean difference).
      direction: +1 (or "greater") when the paper says the quantity is > 0, -1 (or "less") for < 0.
    """
    sign = _direction(direction)
    try:
        lo, hi = (float(v) for v in ci)
    except (TypeError, ValueError):
        raise ValueError(f"ci: expected two numbers [lo, hi], got {ci!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"ci: expected finite lo <= hi, got [{lo}, {hi}]")
    if (sign > 0 and lo > 0) or (sign < 0 and hi < 0):
        return "holds"
    if (sign > 0 and hi < 0) or (sign < 0 and lo > 0):
        return "contradicted"
    return "undecided"


def lookup(summary: Mapping, path: Sequence[str]):
    """summary[path[0]][path[1]]...; None when a key is missing."""
    node = summary
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def verdicts(summary: Mapping, claims: Sequence[Mapping]) -> list[dict]:
    """One row per claim: {"id", "claim", "source", "path", "direction", "estimate", "ci", "verdict"}.

    A claim is a mapping with "id", "claim" (text), "source" (where the paper says it), "path" (keys into
    ``summary`` to an entry with "estimate" and "ci") and "direction" (+1/-1). A claim whose entry is not
    in ``summary`` (a study that was not run) gets verdict "not measured".
    """
    out = []
    for c in claims:
        for key in ("id", "claim", "source", "path", "direction"):
            if key not in c:
                raise ValueError(f"claims: expected every claim to have {key!r}, got keys {sorted(c)}")
        entry = lookup(summary, c["path"])
        measured = isinstance(entry, Mapping) and entry.get("ci") is not None and None not in entry["ci"]
        out.append({"id": c["id"], "claim": c["claim"], "source": c["source"], "path": list(c["path"]),
                    "direction": _direction(c["direction"]),
                    "estimate": entry.get("estimate") if measured else None,
                    "ci": list(entry["ci"]) if measured else None,
                    "verdict": verdict(entry["ci"], c["direction"]) if measured else "not measured"})
    return out


# -------------------------------------------------------------------------------------------- summarize
def per_seed_measures(truth: Mapping[str, Sequence[float]], scores: Mapping[str, Sequence[Mapping]],
                      metrics: Sequence[str], measures: Sequence[str] | None = None) -> dict:
    """{measure: {metric: {target: [value per seed]}}}: the per-(target, seed) input of :func:`summarize`.

    Args and conventions as :func:`transel_jax.evaluation.protocols.study` (a constant side counts as 0).
    """
    from transel_jax.evaluation.protocols import MEASURES, measure

    measures = MEASURES if measures is None else tuple(measures)
    for m in measures:
        checks.check_choice(m, "measures", MEASURES)
    if set(truth) != set(scores):
        raise ValueError(f"scores: expected the targets of truth {sorted(truth)}, got {sorted(scores)}")
    return {name: {m: {str(t): [measure(name, truth[t], s[m]) for s in scores[t]] for t in truth} for m in metrics}
            for name in measures}


def default_comparisons(metrics: Sequence[str]) -> list[tuple[str, str]]:
    """The issue's paired comparisons among the metrics present: soft_iou_eep against each other ensemble
    metric, every ensemble metric against base, and parc+depth against every other +depth metric.

    >>> default_comparisons(["e_leep", "soft_iou_eep", "base"])
    [('soft_iou_eep', 'e_leep'), ('soft_iou_eep', 'base'), ('e_leep', 'base')]
    """
    ms = list(metrics)
    pairs = []
    if "soft_iou_eep" in ms:
        pairs += [("soft_iou_eep", m) for m in ("ms_leep", "e_leep", "iou_eep", "base") if m in ms]
    if "base" in ms:
        pairs += [(m, "base") for m in ("ms_leep", "e_leep", "iou_eep") if m in ms]
    if "parc+depth" in ms:
        pairs += [("parc+depth", m) for m in ms if m.endswith("+depth") and m != "parc+depth"]
    return pairs


def summarize(correlation: Mapping | None = None, *, comparisons: Mapping | None = None,
              selection: Mapping | None = None, influence: Mapping | None = None,
              claims: Sequence[Mapping] | None = None, n_boot: int = DEFAULT_BOOT, n_perm: int = DEFAULT_PERM,
              level: float = 0.95, seed: int = 0) -> dict:
    """The content of ``summary.json``: every statistic of the studies that were run, and the verdicts.

    Args:
      correlation: {study ("ensemble", "single"): {measure: {metric: {target: [value per seed]}}}}
        (:func:`per_seed_measures` builds one study's block).
      comparisons: {study: [(metric_a, metric_b), ...]}; default :func:`default_comparisons` of each study's
        metrics. Every comparison is made for every measure of the study.
      selection: {baseline: {target: relative gain in %}} (e.g. b1, b1l, average, best_member, worst_member).
      influence: {"gain": r [T][S], "distance": {assignment: D [T][S]}, optional "targets" and "sources"
        (names: pairs of a target with its own dataset are left out), optional "include" bool [T][S]}.
      claims: the paper claims to judge; default
        :data:`transel_jax.evaluation.paper_figures.CLAIMS`.
      n_boot, n_perm, level, seed: bootstrap replicates, permutations, interval level, the one seed (every
        statistic draws from its own generator seeded with ``seed``, so adding one changes no other).
    Returns:
      {"settings": {...}, "correlation": {study: {measure: {metric: bootstrap_mean}}},
       "comparisons": {study: {measure: {"a - b": paired_comparison}}},
       "selection": {baseline: gain_summary}, "influence": {assignment: influence_tau},
       "verdicts": [verdict rows]} (sections of studies not given are absent).
    """
    _check_options(n_boot, level, seed)
    checks.check_positive_int(n_perm, "n_perm", 99)
    opts = {"n_boot": n_boot, "level": level, "seed": seed}
    out: dict = {"settings": {
        "n_boot": int(n_boot), "n_perm": int(n_perm), "level": float(level), "seed": int(seed),
        "ci": "percentile bootstrap; correlation and comparisons: two-level (targets, then probe seeds within "
              "each drawn target, with replacement); selection and influence: over targets",
        "sign_test": "exact two-sided binomial test of wins vs losses over targets, ties dropped",
        "influence_p": "Kendall tau-b of (-D, r) over (target, source) pairs; permutation of the gains within "
                       "each target, two-sided",
    }}
    if correlation is not None:
        if not isinstance(correlation, Mapping):
            raise TypeError("correlation: expected {study: {measure: {metric: {target: [value per seed]}}}}")
        out["correlation"], out["comparisons"] = {}, {}
        for study, block in correlation.items():
            out["correlation"][study] = {meas: {m: bootstrap_mean(v, **opts) for m, v in per_metric.items()}
                                         for meas, per_metric in block.items()}
            metrics = sorted({m for per_metric in block.values() for m in per_metric}, key=str)
            pairs = default_comparisons(metrics) if comparisons is None or study not in comparisons \
                else [tuple(p) for p in comparisons[study]]
            out["comparisons"][study] = {}
            for meas, per_metric in block.items():
                row = {}
                for a, b in pairs:
                    for m in (a, b):
                        if m not in per_metric:
                            raise ValueError(f"comparisons[{study!r}]: metric {m!r} is not in correlation[{study!r}]"
                                             f"[{meas!r}] (has {sorted(per_metric)})")
                    row[f"{a} - {b}"] = paired_comparison(per_metric[a], per_metric[b], **opts)
                out["comparisons"][study][meas] = row
    if selection is not None:
        if not isinstance(selection, Mapping):
            raise TypeError("selection: expected {baseline: {target: gain in %}}")
        out["selection"] = {b: gain_summary(g, **opts) for b, g in selection.items()}
    if influence is not None:
        if not isinstance(influence, Mapping) or "gain" not in influence or "distance" not in influence:
            raise ValueError("influence: expected {'gain': [T][S], 'distance': {assignment: [T][S]}, ...}")
        include = influence.get("include")
        if include is None and "targets" in influence and "sources" in influence:
            include = self_pairs(influence["targets"], influence["sources"])
        include = None if include is None else np.asarray(include, bool)
        out["influence"] = {a: influence_tau(influence["gain"], d, include=include, n_perm=n_perm, **opts)
                            for a, d in influence["distance"].items()}
    if claims is None:
        from transel_jax.evaluation.paper_figures import CLAIMS as claims
    out["verdicts"] = verdicts(out, claims)
    return out
