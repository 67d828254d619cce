"""Every problem of a run config, found before the first model trains.

:func:`problems` checks every field the stages read (the schema is :mod:`transel_jax.run.defaults`):
dataset names against the catalog, architectures against the model registry, step counts, learning
rates, batch sizes, schedules, inits, the ensemble size against the pool, the candidate counts, the probe
seeds, the selection metric. It returns all problems at once, one line each, naming the field, what was
expected and what was got. :func:`check` raises one ``ValueError`` listing them; ``transel run`` calls it
before the run directory is created, and ``transel run --dry-run`` prints them and exits 2.
It reads no dataset files (the dry run's data check does that).
"""
from __future__ import annotations

import math
import numbers

from transel_jax.run import plan

ENSEMBLE_METRICS = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base")
SCHEDULES = ("step", "poly")
DTYPES = ("float32", "bfloat16")


def _int(value, field: str, out: list[str], *, minimum: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        out.append(f"config.{field}: expected an integer >= {minimum}, got {value!r}")
        return None
    if value < minimum:
        out.append(f"config.{field}: expected an integer >= {minimum}, got {value}")
        return None
    return int(value)


def _rate(value, field: str, out: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        out.append(f"config.{field}: expected a finite learning rate > 0, got {value!r}")


def _choice(value, field: str, choices, out: list[str]) -> bool:
    if value not in choices:
        out.append(f"config.{field}: expected one of {sorted(choices)}, got {value!r}")
        return False
    return True


def _recipe(group, name: str, out: list[str]) -> None:
    """steps, batch_size, base_lr, schedule, warmup_steps, checkpoint_every of ``pool`` or ``targets``."""
    steps = _int(group.steps, f"{name}.steps", out, minimum=1)
    _int(group.batch_size, f"{name}.batch_size", out, minimum=1)
    _rate(group.base_lr, f"{name}.base_lr", out)
    _choice(group.schedule, f"{name}.schedule", SCHEDULES, out)
    warmup = _int(group.warmup_steps, f"{name}.warmup_steps", out, minimum=0)
    if steps is not None and warmup is not None and warmup >= steps:
        out.append(f"config.{name}.warmup_steps: expected fewer than {name}.steps = {steps}, got {warmup}")
    _int(group.checkpoint_every, f"{name}.checkpoint_every", out, minimum=0)


def _datasets(config, out: list[str]) -> None:
    from transel_jax.data import catalog

    known = set(catalog.names())
    fields = [("pool.datasets", config.pool.datasets), ("targets.datasets", config.targets.datasets)]
    if "generic" in config.pool.inits:
        fields.append(("pool.generic_dataset", (config.pool.generic_dataset,)))
    for field, names in fields:
        unknown = [n for n in names if n not in known]
        if unknown:
            out.append(f"config.{field}: {unknown} not in the catalog (`transel data list`, `transel real list`)")
        if len(set(names)) != len(names):
            out.append(f"config.{field}: expected distinct datasets, got {list(names)}")
    try:
        plan.check_targets(config)
    except ValueError as e:
        out.append(str(e))


def _architectures(config, out: list[str]) -> None:
    from transel_jax.models import names

    known = set(names())
    for arch in config.pool.architectures:
        _choice(arch, "pool.architectures", known, out)
    if config.selection.larger_model:
        _choice(config.selection.larger_model, "selection.larger_model", known, out)
    _choice(config.influence.architecture, "influence.architecture", set(config.pool.architectures), out)
    _choice(config.influence.init, "influence.init", set(config.pool.inits), out)
    if "generic" not in config.pool.inits:
        out.append(f"config.pool.inits: the influence study needs 'generic' (its baseline is the generic model), "
                   f"got {list(config.pool.inits)}")


def _probe(config, candidates: int | None, out: list[str]) -> None:
    p = config.probe
    seeds = list(p.seeds)
    if not seeds:
        out.append("config.probe.seeds: expected at least one seed, got none")
    for s in seeds:
        _int(s, "probe.seeds", out, minimum=0)
    if len(set(seeds)) != len(seeds):
        out.append(f"config.probe.seeds: expected distinct seeds, got {seeds}")
    _int(p.max_per_image, "probe.max_per_image", out, minimum=1)
    _int(p.feature_pixels, "probe.feature_pixels", out, minimum=2)
    _int(p.pca_dims, "probe.pca_dims", out, minimum=1)
    size = _int(p.ensemble_size, "probe.ensemble_size", out, minimum=1)
    keep = _int(p.candidates, "probe.candidates", out, minimum=0)
    _int(p.good_candidates, "probe.good_candidates", out, minimum=0)
    _int(p.top_ensembles, "probe.top_ensembles", out, minimum=1)
    if candidates is not None and size is not None and size > candidates:
        out.append(f"config.probe.ensemble_size: expected at most the {candidates} pool candidates of each "
                   f"target, got {size}")
    if keep and size is not None and keep < size:
        out.append(f"config.probe.candidates: expected 0 (all) or at least probe.ensemble_size = {size}, got {keep}")
    if keep and p.good_candidates > keep:
        out.append(f"config.probe.good_candidates: expected at most probe.candidates = {keep}, "
                   f"got {p.good_candidates}")


def problems(config) -> list[str]:
    """Every problem of ``config`` (module docstring); empty when the run can start."""
    out: list[str] = []
    _choice(config.model_dtype, "model_dtype", DTYPES, out)
    _int(config.seed, "seed", out, minimum=0)
    for init in config.pool.inits:
        _choice(init, "pool.inits", plan.INITS, out)
    try:
        specs = plan.candidate_specs(config.pool)
        candidates = min(len(plan.candidates_for(config, t, specs)) for t in config.targets.datasets) \
            if config.targets.datasets else len(specs)
    except ValueError as e:
        out.append(str(e))
        candidates = None
    _datasets(config, out)
    _architectures(config, out)
    _recipe(config.pool, "pool", out)
    _int(config.pool.generic_steps, "pool.generic_steps", out, minimum=1)
    _recipe(config.targets, "targets", out)
    _probe(config, candidates, out)
    _int(config.data.test_images, "data.test_images", out, minimum=0)
    _int(config.data.eval_batch_size, "data.eval_batch_size", out, minimum=1)
    _int(config.data.resolution, "data.resolution", out, minimum=0)
    _choice(config.selection.metric, "selection.metric", ENSEMBLE_METRICS, out)
    _int(config.selection.head_steps, "selection.head_steps", out, minimum=1)
    _rate(config.selection.head_learning_rate, "selection.head_learning_rate", out)
    if _int(config.selection.head_folds, "selection.head_folds", out, minimum=0) == 1:
        out.append("config.selection.head_folds: expected 0 (always keep the head) or an integer >= 2, got 1")
    _int(config.influence.images, "influence.images", out, minimum=2)
    return list(dict.fromkeys(out))


def check(config) -> None:
    """Raise ``ValueError`` listing every problem of ``config``; return when there is none."""
    found = problems(config)
    if found:
        raise ValueError(f"the run config has {len(found)} problem(s):\n  " + "\n  ".join(found))
