"""How stable is "metric A beats metric B"? Many experimental setups drawn from results already computed.

After Agostinelli, Pandy, Uijlings, Mensink, Ferrari, "How stable are transferability metrics
evaluations?", ECCV 2022. That paper defines an experimental setup by three components, the evaluation
measure E, the target dataset T and the source pool S (its released code, google-research
``stable_transfer/transferability/results_analysis``, indexes experiments by exactly these three), shows
that changing one component often flips which metric wins, and proposes to aggregate over many setups:
how often one metric beats another, and a *setup stability* score, the mean Kendall tau between the
metrics' scores in two setups that differ in one component only.

What we follow, from the candidates' scores and actual mIoU that ``transel run`` has already computed (no
new fine-tuning): a setup (:func:`draw_setup`) is

- **E**: one of the correlation measures (default weighted Kendall tau, Kendall tau, Pearson), uniform;
- **T**: a random subset of the targets, its size uniform in ``[min_targets, T]`` (the issue asks for
  subsets of targets; with ``min_targets = max_targets = 1`` every setup has one target, as in the paper);
- **S**: per drawn target, a random sub-pool: without ``members``, a random subset of the target's
  evaluated candidates, its size uniform in ``[min_pool, K]``; with ``members`` (the member source indices
  of every evaluated ensemble), a random subset of the target's source models, its size uniform over the
  sizes that can leave ``min_pool`` ensembles, and the candidates are the evaluated ensembles whose members
  all lie in it (the paper varies the source pool; this is that variation for ensembles).

A metric's value in a setup is the mean over the setup's targets of the measure between its scores and the
actual mIoU on the sub-pool, averaged over probe seeds (or, with ``probe_seeds="draw"``, at one probe seed
per target drawn with the setup; a constant side counts as 0, as in
:func:`transel_jax.evaluation.protocols.measure`). The sampling distributions above (uniform sizes) are
our choice; the paper enumerates a large grid of setups. Setup stability (:func:`stability` with
``connected=True``) is estimated on connected pairs: each drawn setup is paired with a copy in which one
component is redrawn, and the score is the mean Kendall tau between the metrics' values in the two.

>>> rng = np.random.default_rng(0)
>>> truth = {t: rng.random(12) for t in "abc"}
>>> scores = {t: [{"good": truth[t] + 0.2 * rng.random(12), "noise": rng.random(12)}] for t in truth}
>>> s = stability(truth, scores, ["good", "noise"], n_setups=50, seed=0)
>>> s["win_fraction"][0][1] > 0.9, s["best_fraction"]["good"] > 0.9
(True, True)
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import scipy.stats

from transel_jax import checks

CORRELATION_MEASURES = ("weighted_tau", "kendall_tau", "pearson")
COMPONENTS = ("measure", "targets", "pool")


# ----------------------------------------------------------------------------------------------- inputs
def _check_inputs(truth, scores, metrics, members, min_pool: int) -> tuple[list, dict, dict, dict]:
    if not isinstance(truth, Mapping) or not truth:
        raise ValueError("truth: expected a non-empty {target: float [K] actual mIoU} mapping")
    if not isinstance(scores, Mapping) or set(scores) != set(truth):
        raise ValueError(f"scores: expected {{target: [ {{metric: float [K]}} per seed ]}} for the targets of truth "
                         f"{sorted(truth)}, got {sorted(scores) if isinstance(scores, Mapping) else type(scores).__name__}")
    metrics = list(metrics)
    if len(metrics) < 2 or len(set(metrics)) != len(metrics):
        raise ValueError(f"metrics: expected at least 2 distinct metric names, got {metrics}")
    tr, sc, mem = {}, {}, {}
    for t in truth:
        a = np.asarray(truth[t], np.float64)
        checks.check_rank(a, f"truth[{t!r}]", 1, "[K]")
        checks.check_finite(a, f"truth[{t!r}]")
        if a.shape[0] < min_pool:
            raise ValueError(f"truth[{t!r}]: expected at least min_pool = {min_pool} candidates, got {a.shape[0]}")
        runs = scores[t]
        if isinstance(runs, Mapping) or not isinstance(runs, Sequence) or not runs:
            raise ValueError(f"scores[{t!r}]: expected a non-empty list of {{metric: float [K]}}, one per probe seed")
        per_seed = []
        for r, run in enumerate(runs):
            row = {}
            for m in metrics:
                if m not in run:
                    raise ValueError(f"scores[{t!r}][{r}]: expected metric {m!r}, got {sorted(run)}")
                v = np.asarray(run[m], np.float64)
                checks.check_rank(v, f"scores[{t!r}][{r}][{m!r}]", 1, "[K]")
                checks.check_dim(f"scores[{t!r}][{r}][{m!r}]", "K (candidates, matching truth)", v.shape[0], a.shape[0])
                checks.check_finite(v, f"scores[{t!r}][{r}][{m!r}]")
                row[m] = v
            per_seed.append(row)
        tr[t], sc[t] = a, per_seed
        if members is not None:
            if t not in members:
                raise ValueError(f"members: expected an entry for target {t!r}")
            e = np.asarray(members[t])
            checks.check_rank(e, f"members[{t!r}]", 2, "[K, S]")
            checks.check_integer(e, f"members[{t!r}]")
            checks.check_dim(f"members[{t!r}]", "K (candidates, matching truth)", e.shape[0], a.shape[0])
            mem[t] = e
    return metrics, tr, sc, mem


# ------------------------------------------------------------------------------------------------ draws
def _pool_sizes(rows: np.ndarray, min_pool: int) -> tuple[np.ndarray, int]:
    """(the target's source ids, the smallest sub-pool size that can hold min_pool ensembles)."""
    sources = np.unique(rows)
    size = rows.shape[1]
    smallest = next((m for m in range(size, sources.size + 1) if math.comb(m, size) >= min_pool), sources.size)
    return sources, smallest


def _draw_pool(rng: np.random.Generator, k: int, rows: np.ndarray | None, min_pool: int, tries: int = 100) -> np.ndarray:
    """int [k'] candidate indices of one random sub-pool (module docstring)."""
    if rows is None:
        size = int(rng.integers(min_pool, k + 1))
        return np.sort(rng.choice(k, size, replace=False))
    sources, smallest = _pool_sizes(rows, min_pool)
    for _ in range(tries):
        m = int(rng.integers(smallest, sources.size + 1))
        keep = rng.choice(sources, m, replace=False)
        inside = np.nonzero(np.isin(rows, keep).all(axis=1))[0]
        if inside.size >= min_pool:
            return inside
    return np.arange(k)                                  # the evaluated ensembles are too sparse: whole pool


def draw_setup(rng: np.random.Generator, targets: Sequence[str], sizes: Mapping[str, int], *,
               measures: Sequence[str] = CORRELATION_MEASURES, min_targets: int = 1, max_targets: int | None = None,
               min_pool: int = 3, members: Mapping | None = None, n_seeds: Mapping[str, int] | None = None) -> dict:
    """One experimental setup: {"measure", "targets": [names], "pool": {target: int [k'] candidate indices}},
    plus "seed": {target: probe seed index} when ``n_seeds`` ({target: number of probe seeds}) is given."""
    hi = len(targets) if max_targets is None else max_targets
    n = int(rng.integers(min_targets, hi + 1))
    chosen = [targets[i] for i in np.sort(rng.choice(len(targets), n, replace=False))]
    meas = measures[int(rng.integers(len(measures)))]
    pool = {t: _draw_pool(rng, sizes[t], None if not members else members[t], min_pool) for t in chosen}
    setup = {"measure": meas, "targets": chosen, "pool": pool}
    if n_seeds is not None:
        setup["seed"] = {t: int(rng.integers(n_seeds[t])) for t in chosen}
    return setup


def _measure(name: str, a: np.ndarray, p: np.ndarray) -> float:
    """:func:`.protocols.measure` without re-validating (inputs were checked once): 0 for a constant side."""
    if np.ptp(a) == 0 or np.ptp(p) == 0:
        return 0.0
    if name == "weighted_tau":
        return float(scipy.stats.weightedtau(a, p).statistic)
    if name == "kendall_tau":
        return float(scipy.stats.kendalltau(a, p).statistic)
    return float(np.corrcoef(a, p)[0, 1])


def evaluate_setup(setup: dict, truth: Mapping, scores: Mapping, metrics: Sequence[str]) -> np.ndarray:
    """float [M]: each metric's mean over the setup's targets of the setup's measure on the sub-pool,
    averaged over the probe seeds of ``scores`` (or at the one seed ``setup["seed"]`` when present)."""
    out = np.zeros(len(metrics))
    for t in setup["targets"]:
        idx = setup["pool"][t]
        a = truth[t][idx]
        runs = scores[t] if setup.get("seed") is None else [scores[t][setup["seed"][t]]]
        for j, m in enumerate(metrics):
            out[j] += np.mean([_measure(setup["measure"], a, run[m][idx]) for run in runs])
    return out / len(setup["targets"])


# ---------------------------------------------------------------------------------------------- summary
def win_fractions(values) -> tuple[np.ndarray, np.ndarray]:
    """(wins [M, M], ties [M, M]) from per-setup values [n_setups, M]: wins[i, j] = fraction of setups in
    which metric i's value is strictly larger than metric j's; the diagonals are NaN.

    >>> w, t = win_fractions([[0.5, 0.1], [0.2, 0.2], [0.1, 0.3]])
    >>> w.round(3).tolist(), float(t[0, 1])
    ([[nan, 0.333], [0.333, nan]], 0.3333333333333333)
    """
    v = np.asarray(values, np.float64)
    checks.check_rank(v, "values", 2, "[setups, metrics]")
    checks.check_nonempty(v, "values", what="setups")
    wins = (v[:, :, None] > v[:, None, :]).mean(0)
    ties = (v[:, :, None] == v[:, None, :]).mean(0)
    np.fill_diagonal(wins, np.nan)
    np.fill_diagonal(ties, np.nan)
    return wins, ties


def best_fractions(values) -> np.ndarray:
    """float [M]: the fraction of setups in which each metric is the best (a tie for best shares 1 equally).

    >>> best_fractions([[0.5, 0.1], [0.2, 0.2], [0.1, 0.3]]).tolist()
    [0.5, 0.5]
    """
    v = np.asarray(values, np.float64)
    checks.check_rank(v, "values", 2, "[setups, metrics]")
    top = v == v.max(axis=1, keepdims=True)
    return (top / top.sum(axis=1, keepdims=True)).mean(0)


def _matrix_json(m: np.ndarray) -> list:
    return [[None if not np.isfinite(x) else float(x) for x in row] for row in m]


def _kendall_or_nan(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(scipy.stats.kendalltau(a, b).statistic)


def stability(truth: Mapping[str, Sequence[float]], scores: Mapping[str, Sequence[Mapping]], metrics: Sequence[str], *,
              members: Mapping | None = None, n_setups: int = 1000, measures: Sequence[str] = CORRELATION_MEASURES,
              min_pool: int = 3, min_targets: int = 1, max_targets: int | None = None, probe_seeds: str = "mean", connected: bool = False,
              keep_values: bool = False, seed: int = 0) -> dict:
    """Draw ``n_setups`` experimental setups and count which metric wins (module docstring).

    Args:
      truth: {target: float [K] actual mIoU of the evaluated candidates}.
      scores: {target: [ {metric: float [K]} per probe seed ]} (as :func:`.protocols.study` takes).
      metrics: the M >= 2 metric names to compare.
      members: optional {target: int [K, S] member source indices of every evaluated ensemble}: sub-pools
        are then drawn over source models instead of candidates.
      n_setups: setups to draw; measures: the evaluation measures E to draw from; min_pool: the fewest
        candidates in a sub-pool (>= 3); min_targets/max_targets: the sizes of the target subsets.
      probe_seeds: "mean" (a metric's value averages its probe seeds) or "draw" (each setup draws one probe
        seed per target, as a single-run experiment would; about R times cheaper).
      connected: also estimate the setup stability of each component (3 more setups per setup).
      keep_values: also return the per-setup values [n_setups][M] and measures.
      seed: the one seed of every draw (numpy default_rng).
    Returns:
      {"metrics", "n_setups", "measures", "pool_level" ("candidates" | "sources"), "min_pool", "targets",
       "min_targets", "max_targets", "seed",
       "win_fraction": [M][M] row beats column (diagonal None), "tie_fraction": [M][M],
       "beats": {a: {b: fraction of setups a > b}}, "best_fraction": {metric: fraction best},
       "best_fraction_by_measure": {measure: {metric: fraction}}, "mean_value": {metric: mean over setups},
       "setup_stability": {component: mean Kendall tau over connected pairs} (only when connected),
       "values", "setup_measures" (only when keep_values)}.
    """
    checks.check_positive_int(min_pool, "min_pool", 3)
    checks.check_choice(probe_seeds, "probe_seeds", ("mean", "draw"))
    checks.check_positive_int(n_setups, "n_setups", 1)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed: expected an integer seed, got {seed!r}")
    measures = tuple(measures)
    if not measures:
        raise ValueError("measures: expected at least one correlation measure")
    for m in measures:
        checks.check_choice(m, "measures", CORRELATION_MEASURES)
    metrics, tr, sc, mem = _check_inputs(truth, scores, metrics, members, min_pool)
    targets = list(tr)
    checks.check_positive_int(min_targets, "min_targets", 1)
    hi = len(targets) if max_targets is None else checks.check_positive_int(max_targets, "max_targets", min_targets)
    if min_targets > len(targets) or hi > len(targets):
        raise ValueError(f"max_targets: expected min_targets <= max_targets <= {len(targets)} targets, "
                         f"got {min_targets}..{hi}")
    sizes = {t: tr[t].shape[0] for t in targets}
    kw = {"measures": measures, "min_targets": min_targets, "max_targets": hi, "min_pool": min_pool,
          "members": mem or None, "n_seeds": {t: len(sc[t]) for t in targets} if probe_seeds == "draw" else None}
    rng = np.random.default_rng(seed)
    setups = [draw_setup(rng, targets, sizes, **kw) for _ in range(n_setups)]
    values = np.stack([evaluate_setup(s, tr, sc, metrics) for s in setups])
    wins, ties = win_fractions(values)
    best = best_fractions(values)
    used = [s["measure"] for s in setups]
    by_measure = {e: dict(zip(metrics, map(float, best_fractions(values[[u == e for u in used]]))))
                  for e in measures if e in used}
    out = {"metrics": metrics, "n_setups": int(n_setups), "measures": list(measures),
           "pool_level": "sources" if mem else "candidates", "min_pool": int(min_pool), "targets": targets,
           "min_targets": int(min_targets), "max_targets": int(hi), "probe_seeds": probe_seeds, "seed": int(seed),
           "win_fraction": _matrix_json(wins), "tie_fraction": _matrix_json(ties),
           "beats": {a: {b: float(wins[i, j]) for j, b in enumerate(metrics) if j != i} for i, a in enumerate(metrics)},
           "best_fraction": dict(zip(metrics, map(float, best))), "best_fraction_by_measure": by_measure,
           "mean_value": dict(zip(metrics, map(float, values.mean(0))))}
    if connected:
        ss = {}
        for comp in COMPONENTS:
            taus = []
            for k, s in enumerate(setups):
                if comp == "measure":
                    other = {**s, "measure": measures[int(rng.integers(len(measures)))]}
                elif comp == "pool":
                    other = {**s, "pool": {t: _draw_pool(rng, sizes[t], mem.get(t), min_pool) for t in s["targets"]}}
                else:                                    # new targets (with their own pools), same measure
                    other = {**draw_setup(rng, targets, sizes, **kw), "measure": s["measure"]}
                taus.append(_kendall_or_nan(values[k], evaluate_setup(other, tr, sc, metrics)))
            finite = [x for x in taus if np.isfinite(x)]
            ss[comp] = float(np.mean(finite)) if finite else None
        out["setup_stability"] = ss
    if keep_values:
        out["values"] = values.tolist()
        out["setup_measures"] = used
    return out
