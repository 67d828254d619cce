"""Factors-of-influence analysis: relative transfer gains and domain distances."""
from transel_jax.analysis.domain_distance import ASSIGNMENTS, distance_matrix, domain_distance, pool_features
from transel_jax.analysis.transfer_gain import relative_transfer_gain

__all__ = ["ASSIGNMENTS", "distance_matrix", "domain_distance", "pool_features", "relative_transfer_gain"]
