"""What a run trains: the source pool (dataset x architecture x initialisation) and the targets.

A source model is identified by ``"<dataset>.<architecture>.<init>"``, e.g.
``"syn_drive_day.hrnetv2_tiny.generic"``. Two initialisation schemes stand in for the papers' supervised
vs self-supervised ImageNet weights:

- ``"generic"``: the backbone starts from a *generic* model of the same architecture trained on the
  broad dataset ``pool.generic_dataset`` (the stand-in for ImageNet pre-training);
- ``"scratch"``: random initialisation (``model.init``).

The generic models themselves (one per architecture, id ``"<generic_dataset>.<architecture>.pretrain"``)
are not candidates; they are the transfer-gain baseline of the factors-of-influence study (002 Eq. 2).

Two protocols for targets:

- held-out targets (``targets.leave_target_out = False``, the demo): the targets are datasets the pool
  does not train on, and every candidate is a candidate for every target;
- leave one out (``targets.leave_target_out = True``, 000 Sec. 4.1: "68 minus the 4 trained on the
  target"): every target may also be a pool dataset; for target T the candidates are the pool's models not trained
  on T (:func:`candidates_for`). The generic dataset plays ImageNet's role: it is neither a source
  dataset nor a target.
"""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from transel_jax import checks

INITS = ("generic", "scratch")
PRETRAIN = "pretrain"


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    dataset: str
    architecture: str
    init: str  # "generic" | "scratch" | "pretrain"

    @property
    def id(self) -> str:
        return f"{self.dataset}.{self.architecture}.{self.init}"


def pretrain_specs(pool) -> list[SourceSpec]:
    """The generic model of every architecture that some ``generic`` candidate starts from."""
    if "generic" not in pool.inits:
        return []
    return [SourceSpec(pool.generic_dataset, arch, PRETRAIN) for arch in pool.architectures]


def candidate_specs(pool) -> list[SourceSpec]:
    """Every candidate source model: product of ``pool.datasets``, ``pool.architectures``, ``pool.inits``
    (in that nesting order)."""
    for init in pool.inits:
        checks.check_choice(init, "config.pool.inits", INITS)
    if not pool.datasets or not pool.architectures or not pool.inits:
        raise ValueError("config.pool: expected at least one dataset, architecture and init, got "
                         f"{len(pool.datasets)}, {len(pool.architectures)}, {len(pool.inits)}")
    if "generic" in pool.inits and pool.generic_dataset in pool.datasets:
        raise ValueError(f"config.pool.datasets: the generic dataset {pool.generic_dataset!r} is the "
                         "pre-training set, expected it not to be a source dataset as well")
    return [SourceSpec(d, a, i) for d, a, i in itertools.product(pool.datasets, pool.architectures, pool.inits)]


def check_targets(config) -> list[str]:
    """Targets must be held out from pre-training, and from the pool unless ``targets.leave_target_out``."""
    targets = list(config.targets.datasets)
    if not targets:
        raise ValueError("config.targets.datasets: expected at least one target dataset, got none")
    leave_out = config.targets.leave_target_out
    used = {config.pool.generic_dataset} | (set() if leave_out else set(config.pool.datasets))
    clash = sorted(used & set(targets))
    if clash:
        why = ("the generic (pre-training) dataset" if leave_out else
               "datasets the pool also trains on (set targets.leave_target_out to leave them out per target)")
        raise ValueError(f"config.targets.datasets: expected datasets held out from the pool, got {clash}: {why}")
    return targets


def candidates_for(config, target: str, sources) -> np.ndarray:
    """int [N_T] indices (into ``sources``, the pool records or specs with a ``dataset``) of ``target``'s
    candidates: all of them, or with ``targets.leave_target_out`` those not trained on ``target``."""
    datasets = [s["dataset"] if isinstance(s, dict) else s.dataset for s in sources]
    if not config.targets.leave_target_out:
        return np.arange(len(datasets))
    return np.array([i for i, d in enumerate(datasets) if d != target], np.int64)
