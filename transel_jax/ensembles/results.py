"""The result of scoring ensembles: member indices aligned with one score array per metric."""
from __future__ import annotations

import csv
import dataclasses
import json
from typing import Mapping, Sequence

import numpy as np

from transel_jax import checks


@dataclasses.dataclass(frozen=True)
class EnsembleScores:
    """Scores of E candidate ensembles.

    Attributes:
      ensembles: int32 [E, S] member (source) indices, one row per ensemble.
      scores: metric name -> float64 [E], aligned with ``ensembles`` rows. Higher is better for every
        metric.
      source_names: optional names of the N sources, used by ``members`` and ``to_csv``.
    """

    ensembles: np.ndarray
    scores: Mapping[str, np.ndarray]
    source_names: Sequence[str] | None = None

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.scores)

    def __len__(self) -> int:
        return int(self.ensembles.shape[0])

    def _metric(self, metric: str) -> np.ndarray:
        checks.check_choice(metric, "metric", self.metrics)
        return self.scores[metric]

    def order(self, metric: str) -> np.ndarray:
        """Row indices from best to worst by ``metric`` (stable: ties keep enumeration order)."""
        return np.argsort(-self._metric(metric), kind="stable")

    def top_k(self, metric: str, k: int = 1) -> np.ndarray:
        """The k best ensembles by ``metric``, int32 [k, S], best first."""
        checks.check_positive_int(k, "k")
        return self.ensembles[self.order(metric)[:k]]

    def best(self, metric: str) -> np.ndarray:
        return self.top_k(metric, 1)[0]

    def members(self, row: int) -> list[str]:
        names = self.source_names
        return [names[i] if names is not None else str(i) for i in self.ensembles[row]]

    def to_csv(self, path, rank_by: str, provenance: Mapping | None = None) -> None:
        """Write a ranked table: rank, members (';'-joined names or indices), member indices, every metric.

        ``provenance`` (how the scores were produced) goes to ``<path>.meta.json`` beside the table.
        """
        rows = self.order(rank_by)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["rank", "members", "indices", *self.metrics])
            for rank, row in enumerate(rows, start=1):
                writer.writerow([
                    rank, ";".join(self.members(row)), " ".join(map(str, self.ensembles[row])),
                    *(repr(float(self.scores[m][row])) for m in self.metrics),
                ])
        if provenance is not None:
            with open(f"{path}.meta.json", "w") as f:
                json.dump(dict(provenance, rank_by=rank_by, rows=len(rows)), f, indent=2, default=str)
