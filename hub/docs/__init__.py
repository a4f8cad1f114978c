"""Reference pages generated from the code, so they cannot drift from it: ``python -m hub.docs`` (re)writes
``docs/reference/config.md`` (the configuration models), ``cli.md`` (the Typer command tree), ``http.md`` (the
OpenAPI documents of the gateway, the admin API and the schema registry) and ``asyncapi.md`` (the topics of
``config/demo.yaml``); ``python -m hub.docs --check`` exits 1 naming the pages that differ from what it would
write (``tests/unit/test_docs_reference.py`` runs the same check). Output is deterministic: no timestamps, no
absolute paths, the same bytes for the same code.
"""
