"""``lag.allowed_lag`` in the config reaches the monitor's statuses; ``crmhub lag --allowed-lag`` overrides it."""

from __future__ import annotations

from hub.config import validate_config_text
from hub.kafka.clients import KafkaSettings
from hub.lag.collector import LagCollector


def test_the_configured_allowed_lag_is_the_monitors_unless_given() -> None:
    cfg = validate_config_text("lag: {allowed_lag: 3}")
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:1")
    assert LagCollector(settings, cfg.lag).allowed_lag == 3
    assert LagCollector(settings, cfg.lag, allowed_lag=0).allowed_lag == 0
    assert LagCollector(settings, validate_config_text("").lag).allowed_lag == 0
