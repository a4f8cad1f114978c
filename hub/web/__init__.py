"""What every HTTP surface of crmhub (gateway, admin API, schema registry) shares before a route runs: who is
calling (``access``), the checks on the request itself and the headers of every answer (``guard``), their
settings (``settings``), and what limits where a webhook may be delivered (``targets``).

Nothing here imports FastAPI routes or the servers: the gateway, the admin API and the registry each install
:class:`hub.web.guard.HttpGuard` with the :class:`hub.web.access.Access` their caller built from the config.
"""
