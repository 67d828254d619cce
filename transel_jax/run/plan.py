"""What a run trains: the source pool (dataset x architecture x initialisation) and the targets.

A source model is identified by ``"<dataset>.<architecture>.<init>"``, e.g.
``"syn_drive_day.hrnetv2_tiny.generic"``. Two initialisation schemes stand in for the papers' supervised
vs self-supervised ImageNet weights:

- ``"generic"``: the backbone starts from a *generic* model of the same architecture trained on the
  broad dataset ``pool.generic_dataset`` (the stand-in for ImageNet pre-training);
- ``"scratch"``: random initialisation (``model.init``).

The generic models themselves (one per architecture, id ``"<generic_dataset>.<architecture>.pretrain"``)
are not candidates; they are the transfer-gain baseline of the factors-of-influence study (002 Eq. 2).
"""
from __future__ import annotations

import dataclasses
import itertools

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
    """Targets must be held out from the pool (and from pre-training) by dataset."""
    targets = list(config.targets.datasets)
    if not targets:
        raise ValueError("config.targets.datasets: expected at least one target dataset, got none")
    used = set(config.pool.datasets) | {config.pool.generic_dataset}
    clash = sorted(used & set(targets))
    if clash:
        raise ValueError(f"config.targets.datasets: expected datasets held out from the pool, got {clash} "
                         "which the pool also trains on")
    return targets
