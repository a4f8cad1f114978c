"""Reading a kafka-python group member's heartbeat state, for the consumer's stall check
(:meth:`hub.kafka.clients.Consumer.stall_reason`): a pure function of the coordinator object, tested without a
broker.
"""

from __future__ import annotations

from typing import Any

#: A member that holds no partitions and has had no heartbeat answer this long, stable or not, is taken for a
#: group join that will not complete (seen after a join that raced the client's first metadata: the rejoin that
#: follows never finished and the broker expired the member). A join waiting for slow members can last long
#: too, so this is well above the stable-member limit; with no partitions, a new consumer loses nothing. (Pipeline
#: consumers now subscribe so that this race cannot happen; the check stays as the safety net.)
JOIN_STUCK_S = 60.0


def heartbeat_silence(coordinator: Any, now: float, *, stable_only: bool = True,
                      at_least: float | None = None) -> float | None:
    """Seconds a group member has gone without a heartbeat answer, when that is longer than three heartbeat
    intervals (at least 10 s, at most the session timeout) or than ``at_least``; None otherwise or when the
    client does not expose what this reads (kafka-python's coordinator internals). ``stable_only``: count only
    for a member that believes it is stable (a rebalancing member does not heartbeat)."""
    beat = getattr(coordinator, "heartbeat", None)
    stable = getattr(coordinator, "stable", None)
    if beat is None or stable is None or (stable_only and not stable()):
        return None
    try:
        interval_s = beat.config["heartbeat_interval_ms"] / 1000
        session_s = beat.config["session_timeout_ms"] / 1000
        silent = now - max(beat.last_receive, beat.last_reset)
    except (AttributeError, KeyError, TypeError):
        return None
    limit = min(session_s, max(10.0, 3 * interval_s)) if at_least is None else at_least
    return silent if silent > limit else None
