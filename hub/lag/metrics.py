"""Prometheus metrics of the lag monitor (default registry), named after kafka-lag-exporter's.

``crmhub_consumergroup_status`` is Burrow's group status as a number: 0 OK, 1 WARN, 2 ERR
(``hub.lag.model.GroupStatus.code``); ``crmhub_consumergroup_partition_status`` is the partition status:
0 OK, 1 WARN, 2 REWIND, 3 STALL, 4 STOP (``hub.lag.model.Status.code``). Lag in seconds is NaN only before a
partition's first end offset was seen.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

_P = ["group", "topic", "partition"]

GROUP_LAG = Gauge("kafka_consumergroup_group_lag", "Lag in messages of a consumer group on a partition "
                  "(from the earliest offset when the group has no commit there)", _P)
GROUP_LAG_SECONDS = Gauge("kafka_consumergroup_group_lag_seconds", "Estimated lag in seconds of a consumer group "
                          "on a partition (from the time each end offset was first seen)", _P)
GROUP_OFFSET = Gauge("kafka_consumergroup_group_offset", "Last committed offset of a consumer group on a "
                     "partition (-1: no commit)", _P)
LATEST_OFFSET = Gauge("kafka_partition_latest_offset", "Latest (end) offset of a partition", ["topic", "partition"])
GROUP_MAX_LAG = Gauge("kafka_consumergroup_group_max_lag", "Largest partition lag in messages of a group", ["group"])
GROUP_MAX_LAG_SECONDS = Gauge("kafka_consumergroup_group_max_lag_seconds",
                              "Largest estimated partition lag in seconds of a group", ["group"])
GROUP_SUM_LAG = Gauge("kafka_consumergroup_group_sum_lag", "Sum of the partition lags in messages of a group",
                      ["group"])
GROUP_STATUS = Gauge("crmhub_consumergroup_status", "Burrow group status: 0 OK, 1 WARN, 2 ERR", ["group"])
PARTITION_STATUS = Gauge("crmhub_consumergroup_partition_status", "Burrow-style partition status: 0 OK, 1 WARN, "
                         "2 REWIND, 3 STALL, 4 STOP", _P)
LAG_ALERTS = Counter("crmhub_lag_alerts_total", "Lag alerts raised and cleared",
                     ["group", "measure", "severity", "event"])

PARTITION_GAUGES = (GROUP_LAG, GROUP_LAG_SECONDS, GROUP_OFFSET, PARTITION_STATUS)
GROUP_GAUGES = (GROUP_MAX_LAG, GROUP_MAX_LAG_SECONDS, GROUP_SUM_LAG, GROUP_STATUS)
