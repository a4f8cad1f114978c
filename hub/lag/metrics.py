"""Prometheus metrics of the lag monitor (default registry), named and labelled after kafka-lag-exporter's.

Every metric carries ``cluster_name`` (``lag.cluster_name``); the per-partition ones also the owning member's
``member_host``, ``consumer_id`` (member id) and ``client_id`` (empty while the partition is assigned to no
member). ``crmhub_consumergroup_status`` is Burrow's group status as a number: 0 OK, 1 WARN, 2 ERR
(``hub.lag.model.GroupStatus.code``); ``crmhub_consumergroup_partition_status`` is the partition status:
0 OK, 1 WARN, 2 REWIND, 3 STALL, 4 STOP (``hub.lag.model.Status.code``). Lag in seconds is NaN only before a
partition's first end offset was seen.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

_P = ["cluster_name", "group", "topic", "partition", "member_host", "consumer_id", "client_id"]
_G = ["cluster_name", "group"]
_TP = ["cluster_name", "topic", "partition"]

GROUP_LAG = Gauge("kafka_consumergroup_group_lag", "Lag in messages of a consumer group on a partition "
                  "(from the earliest offset when the group has no commit there)", _P)
GROUP_LAG_SECONDS = Gauge("kafka_consumergroup_group_lag_seconds", "Estimated lag in seconds of a consumer group "
                          "on a partition (from the time each end offset was first seen)", _P)
GROUP_OFFSET = Gauge("kafka_consumergroup_group_offset", "Last committed offset of a consumer group on a "
                     "partition (-1: no commit)", _P)
LATEST_OFFSET = Gauge("kafka_partition_latest_offset", "Latest (end) offset of a partition", _TP)
EARLIEST_OFFSET = Gauge("kafka_partition_earliest_offset", "Earliest offset still on the log of a partition", _TP)
GROUP_MAX_LAG = Gauge("kafka_consumergroup_group_max_lag", "Largest partition lag in messages of a group", _G)
GROUP_MAX_LAG_SECONDS = Gauge("kafka_consumergroup_group_max_lag_seconds",
                              "Largest estimated partition lag in seconds of a group", _G)
GROUP_SUM_LAG = Gauge("kafka_consumergroup_group_sum_lag", "Sum of the partition lags in messages of a group", _G)
GROUP_TOPIC_SUM_LAG = Gauge("kafka_consumergroup_group_topic_sum_lag",
                            "Sum of the partition lags in messages of a group on one topic", [*_G, "topic"])
POLL_TIME_MS = Gauge("kafka_consumergroup_poll_time_ms", "Time the last poll of the cluster's offsets took, in ms",
                     ["cluster_name"])
GROUP_STATUS = Gauge("crmhub_consumergroup_status", "Burrow group status: 0 OK, 1 WARN, 2 ERR", _G)
PARTITION_STATUS = Gauge("crmhub_consumergroup_partition_status", "Burrow-style partition status: 0 OK, 1 WARN, "
                         "2 REWIND, 3 STALL, 4 STOP", _P)
LAG_ALERTS = Counter("crmhub_lag_alerts_total", "Lag alerts raised and cleared",
                     ["group", "measure", "severity", "event"])

ALL_GAUGES = (GROUP_LAG, GROUP_LAG_SECONDS, GROUP_OFFSET, PARTITION_STATUS, LATEST_OFFSET, EARLIEST_OFFSET,
              GROUP_MAX_LAG, GROUP_MAX_LAG_SECONDS, GROUP_SUM_LAG, GROUP_TOPIC_SUM_LAG, GROUP_STATUS, POLL_TIME_MS)
