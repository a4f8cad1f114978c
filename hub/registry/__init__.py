"""The schema registry: crmhub serves a Confluent-compatible one and talks to any such registry.

- ``compat``: the seven Confluent compatibility modes over ``avro.compatibility`` (pure).
- ``store``: subjects, versions, ids and levels, persisted in the compacted ``_schemas`` topic.
- ``server``: the Confluent REST API (FastAPI) over a store behind a guard (``hub/web/guard.py``: tokens,
  request checks), ``serve_in_thread`` (uvicorn's logs through the masking handler), ``run_registry``.
- ``client``: an HTTP client for any Confluent-compatible registry URL, with caches.
- ``serde``: Avro in the Confluent wire format (``schemas.wire``), subjects by TopicNameStrategy.
"""
