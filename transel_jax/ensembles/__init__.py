"""Candidate ensembles: enumeration, the batched all-ensembles scorer (arrays, memory maps or chunked
sources), greedy search, top-k."""
from transel_jax.ensembles.combinations import all_ensembles, num_ensembles, validate_ensembles
from transel_jax.ensembles.greedy import GreedyResult, greedy_select
from transel_jax.ensembles.results import EnsembleScores
from transel_jax.ensembles.scorer import DEFAULT_METRICS, ENSEMBLE_METRICS, score_ensembles
from transel_jax.ensembles.source import ArraySource, ChunkedEEP, as_source


def top_k(result: EnsembleScores, metric: str, k: int = 1):
    """The k best ensembles of ``result`` by ``metric``, int32 [k, S], best first."""
    return result.top_k(metric, k)


__all__ = [
    "ArraySource", "ChunkedEEP", "DEFAULT_METRICS", "ENSEMBLE_METRICS", "EnsembleScores", "as_source", "GreedyResult", "all_ensembles",
    "greedy_select", "num_ensembles", "score_ensembles", "top_k", "validate_ensembles",
]
