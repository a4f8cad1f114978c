"""A consumer whose polls interleave its partitions in record-time order. kafka-python hands out one partition's
fetched records before the next one's: a poll of 500 records from a consumer of several topics that are all behind
holds a single partition, and the next thousands of records too (the rest of that partition's fetch, up to
``max_partition_fetch_bytes``). For the unify stage this splits what belongs together: a customer master row is
mapped to a ``canon.customer`` and a ``canon.credit`` event with the same time, and with the two in different
batches every golden record is rebuilt twice. Kafka Streams meets the same problem by choosing, across a task's
input partitions, the record with the lowest timestamp next; :class:`TimeOrderedConsumer` does that over what it
has fetched. It takes what the client has at hand (at most ``buffer_records`` records and ``buffer_bytes`` of keys
and values), and each poll returns the earliest ``max_records`` of them by record time, taking only the next record
of each partition, so a partition's records keep their offset order. A partition never fetched yet (a worker
starting, a rebalance) is waited for, up to ``fetch_grace_s`` (polls return nothing meanwhile, as Kafka Streams
idles a task); one whose next fetch is merely on the way is not (at a low rate that wait showed as latency, and
under a backlog a batch's worth is at hand anyway), so grouping is best effort. A partition left out of the
assignment (a rebalance) loses its buffered records; one read again from an earlier offset (the group's committed
offset after a rebalance gave it back) replaces them. The consumer's position runs ahead of what the caller
received: a commit without offsets commits those after the records the caller received, never the position.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kafka import TopicPartition

from hub.kafka.clients import Consumer, KafkaSettings, Message

Partition = tuple[str, int]


def _size(m: Message) -> int:
    return len(m.key or b"") + len(m.value or b"")


def take_in_time_order(runs: Mapping[Partition, deque[Message]], n: int) -> list[Message]:
    """Pop up to ``n`` messages from the heads of ``runs`` (one partition's messages each, in offset order),
    lowest timestamp first (ties: the partition listed first); a partition's messages stay in their order."""
    heads = [(run[0].timestamp_ms, i, tp) for i, (tp, run) in enumerate(runs.items()) if run]
    heapq.heapify(heads)
    out: list[Message] = []
    while heads and len(out) < n:
        _ts, i, tp = heads[0]
        run = runs[tp]
        out.append(run.popleft())
        if run:
            heapq.heapreplace(heads, (run[0].timestamp_ms, i, tp))
        else:
            heapq.heappop(heads)
    return out


class TimeOrderedConsumer(Consumer):
    """:class:`Consumer` whose :meth:`poll` merges the partitions by record time (see the module)."""

    def __init__(self, settings: KafkaSettings, group_id: str | None, topics: Sequence[str] = (), *,
                 buffer_records: int = 10_000, buffer_bytes: int = 16 * 1024 * 1024, fetch_grace_s: float = 2.0,
                 **overrides: Any) -> None:
        super().__init__(settings, group_id, topics, **overrides)
        self.buffer_records = buffer_records
        self.buffer_bytes = buffer_bytes
        self.fetch_grace_s = fetch_grace_s
        self._runs: dict[Partition, deque[Message]] = {}
        self._unfetched_since: dict[TopicPartition, float] = {}  # assigned, not fetched yet: since when
        self._handed: dict[Partition, int] = {}  # the offset after the last message returned, by partition
        self._bytes = 0

    @property
    def buffered(self) -> int:
        return sum(map(len, self._runs.values()))

    def poll(self, timeout_ms: int = 500, max_records: int | None = None) -> list[Message]:
        n = max_records or 500
        deadline = time.monotonic() + timeout_ms / 1000
        self._fill(0 if self.buffered else timeout_ms, n)
        # a partition never fetched yet (a worker starting, a rebalance) is waited for, for up to
        # ``fetch_grace_s`` over as many polls as that takes (as Kafka Streams idles a task), or the first
        # batches would leave out what belongs beside their records
        while self.buffered and self._unfetched():
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0 or not self._fill(left_ms, n):
                break
        self._keep_assigned()  # after the client's polls, where a rebalance happens
        if self._unfetched():  # still waiting: the poll's time is spent, with nothing to hand out yet
            time.sleep(max(0.0, deadline - time.monotonic()))
            return []
        out = take_in_time_order(self._runs, n)
        for m in out:
            self._handed[(m.topic, m.partition)] = m.offset + 1
            self._bytes -= _size(m)
        return out

    def commit(self, offsets: Mapping[Partition, int] | None = None) -> None:
        """Commit ``offsets``, or the offsets after the records returned so far (not the position)."""
        super().commit(dict(self._handed) if offsets is None else offsets)

    def commit_async(self, offsets: Mapping[Partition, int] | None = None) -> None:
        super().commit_async(dict(self._handed) if offsets is None else offsets)

    def _fill(self, timeout_ms: int, n: int) -> int:
        """Buffer what the client has (waiting up to ``timeout_ms`` for the first records); how many came."""
        added, wait = 0, timeout_ms
        while self.buffered < self.buffer_records and self._bytes < self.buffer_bytes:
            got = super().poll(wait, max_records=n)  # the bounds are checked every batch's worth
            wait = 0
            if not got:
                break
            self._add(got)
            added += len(got)
        return added

    def _unfetched(self) -> bool:
        """Whether an assigned partition with nothing buffered has no high watermark yet (no fetch answered for
        it) and has been waited for less than ``fetch_grace_s``."""
        now = time.monotonic()
        since = [self._unfetched_since.setdefault(tp, now) for tp in self._consumer.assignment()
                 if not self._runs.get((tp.topic, tp.partition)) and self._consumer.highwater(tp) is None]
        return any(now - t < self.fetch_grace_s for t in since)

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._drop([(topic, partition)])
        self._handed[(topic, partition)] = offset
        super().seek(topic, partition, offset)

    def _add(self, messages: Iterable[Message]) -> None:
        for m in messages:
            tp = (m.topic, m.partition)
            run = self._runs.get(tp)
            after = run[-1].offset + 1 if run else self._handed.get(tp, 0)  # the next offset expected
            if m.offset < after:  # read again from further back: what was buffered or handed out is stale
                self._drop([tp])
            self._runs.setdefault(tp, deque()).append(m)
            self._bytes += _size(m)

    def _keep_assigned(self) -> None:
        tps = self._consumer.assignment()
        self._unfetched_since = {tp: t for tp, t in self._unfetched_since.items() if tp in tps}
        assigned = {(tp.topic, tp.partition) for tp in tps}
        self._drop([tp for tp in {*self._runs, *self._handed} if tp not in assigned])

    def _drop(self, partitions: Iterable[Partition]) -> None:
        for tp in list(partitions):
            run = self._runs.pop(tp, None)
            self._handed.pop(tp, None)
            if run:
                self._bytes -= sum(map(_size, run))
