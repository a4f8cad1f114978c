"""A learned match model: the weights, thresholds and term frequencies ``crmhub unify train`` estimates.

The model is a JSON file the config names (``pipelines.unify.match.model``). Its weights replace the default
weight of each ``<field>.<level>`` they name (weights set in the config still win); its thresholds replace the
default ``link`` and ``review`` unless the config sets them. Term frequencies make agreement on a common value
weigh less than agreement on a rare one: the exact-agreement weight of a field is adjusted by
``log2(u_exact / frequency of the value)`` (Splink's term-frequency adjustment), clipped to ``±tf_clip``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

MODEL_FORMAT = "crmhub-match-model"
MODEL_VERSION = 1
TF_FIELDS = ("given", "family")  # fields whose exact agreement is adjusted by the value's frequency


@dataclass(frozen=True)
class TermFrequencies:
    """How often each value of one field occurs: ``counts`` of the values seen twice or more among ``records``
    records; ``u_exact`` is the chance that two random records agree exactly on the field."""

    records: int
    u_exact: float
    counts: dict[str, int]

    def adjustment(self, value: str, clip: float) -> float:
        """log2(u_exact / frequency of ``value``), within ``±clip``; a value not counted occurred once."""
        if not value or self.records <= 0 or self.u_exact <= 0:
            return 0.0
        frequency = self.counts.get(value, 1) / self.records
        return max(-clip, min(clip, math.log2(self.u_exact / frequency)))


@dataclass(frozen=True)
class MatchModel:
    weights: dict[str, float]
    link: float | None = None
    review: float | None = None
    tf: dict[str, TermFrequencies] = field(default_factory=dict)
    tf_clip: float = 3.0
    info: dict[str, Any] = field(default_factory=dict)  # how it was trained: m, u, lambda, pair counts

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT, "version": MODEL_VERSION, "weights": self.weights, "link": self.link,
            "review": self.review, "tf_clip": self.tf_clip,
            "tf": {name: {"records": t.records, "u_exact": t.u_exact, "counts": t.counts}
                   for name, t in self.tf.items()},
            "info": self.info,
        }


class ModelError(ValueError):
    """The model file cannot be read or is not a crmhub match model."""


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelError(f"{what} is not a finite number")
    return float(value)


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ModelError(f"{what} is not an object")
    return value


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelError(f"{what} is not a count")
    return value


def model_from_json(data: Mapping[str, Any]) -> MatchModel:
    if data.get("format") != MODEL_FORMAT:
        raise ModelError(f"not a crmhub match model (format is not '{MODEL_FORMAT}')")
    if data.get("version") != MODEL_VERSION:
        raise ModelError(f"unsupported model version {data.get('version')!r} (this crmhub reads {MODEL_VERSION})")
    weights = {str(k): _number(v, f"weight '{k}'") for k, v in _object(data.get("weights"), "weights").items()}
    tf: dict[str, TermFrequencies] = {}
    for name, t in _object(data.get("tf"), "tf").items():
        t = _object(t, f"tf.{name}")
        counts = {str(k): _count(v, f"tf.{name}.counts['{k}']")
                  for k, v in _object(t.get("counts"), f"tf.{name}.counts").items()}
        tf[str(name)] = TermFrequencies(_count(t.get("records", 0), f"tf.{name}.records"),
                                        _number(t.get("u_exact", 0.0), f"tf.{name}.u_exact"), counts)
    link, review = data.get("link"), data.get("review")
    return MatchModel(weights, None if link is None else _number(link, "link"),
                      None if review is None else _number(review, "review"), tf,
                      _number(data.get("tf_clip", 3.0), "tf_clip"), dict(data.get("info") or {}))


def load_model(path: str | Path) -> MatchModel:
    """Read a model file; :class:`ModelError` says what is wrong with it. A file read before and unchanged
    since (same size and modification time) is not read again: validating a config and scoring with it both
    load the model."""
    try:
        stat = Path(path).stat()
    except OSError as exc:
        raise ModelError(f"cannot read match model '{path}': {exc.strerror or exc}") from None
    return _load_model(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load_model(path: str, _mtime_ns: int, _size: int) -> MatchModel:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"cannot read match model '{path}': {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"match model '{path}' is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise ModelError(f"match model '{path}' is not a JSON object")
    return model_from_json(data)


def save_model(model: MatchModel, path: str | Path) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(model.to_json(), indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(target)
