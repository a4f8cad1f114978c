"""The producer's partitioner: the one partition of a one-partition topic without hashing, kafka-python's
murmur2 answer (the Java client's) for every other topic."""

from __future__ import annotations

from kafka.partitioner import DefaultPartitioner

from hub.kafka.producer import OnePartitionFirst


class Cluster:
    def __init__(self, partitions: dict[str, set[int]]) -> None:
        self.partitions = partitions

    def topics(self) -> set[str]:
        return set(self.partitions)

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return self.partitions.get(topic)

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self.partitions.get(topic, set())


def test_a_one_partition_topic_needs_no_hash_and_others_hash_as_before() -> None:
    cluster = Cluster({"customer.unified": {0}, "canon.customer": {0, 1, 2}, "moved": {4}})
    ours, default = OnePartitionFirst(), DefaultPartitioner()
    keys = [f"ibmi/{n:07d}".encode() for n in range(200)]
    for key in keys:
        assert ours.partition("customer.unified", None, key, None, None, cluster) == 0
        assert ours.partition("moved", None, key, None, None, cluster) == 4
    spread = [ours.partition("canon.customer", None, key, None, None, cluster) for key in keys]
    assert spread == [default.partition("canon.customer", None, key, None, None, cluster) for key in keys]
    assert set(spread) == {0, 1, 2}
