"""Identity resolution, the pure part: match features, blocking keys, pairwise scoring and its metrics.

The unify pipeline computes :func:`features` once per source record (the store keeps them as JSON), looks up
candidates sharing one of its :func:`block_keys`, and :func:`score` s each candidate pair under a
:class:`MatchConfig`; ``link`` decisions join clusters, ``review`` ones are kept for a person to decide.
"""

from pipelines.identity.blocking import block_keys
from pipelines.identity.config import DEFAULT_WEIGHTS, MatchConfig
from pipelines.identity.features import FEATURES_VERSION, Features, features
from pipelines.identity.metrics import PRF, pairwise_prf
from pipelines.identity.scoring import Decision, MatchScore, cannot_reach, explain, score, vetoed

__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURES_VERSION",
    "PRF",
    "Decision",
    "Features",
    "MatchConfig",
    "MatchScore",
    "block_keys",
    "cannot_reach",
    "explain",
    "features",
    "pairwise_prf",
    "score",
    "vetoed",
]
