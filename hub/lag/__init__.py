"""The lag monitor: consumer-group lag in messages and seconds, Burrow-style statuses, alerts, metrics."""
