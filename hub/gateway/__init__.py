"""The HTTP gateway for CRM front ends: REST look-ups over the golden-record store, with tokens, roles, field
policies and an audit log (``app.py``, ``auth.py``, ``policy.py``, ``tokens.py``, ``audit.py`` with its batching
writer ``audit_writer.py``, ``reads.py`` for the store's read connections, ``search.py``); the live stream and
webhooks mount into the same app with the same auth (``require(group)``).

Nothing is imported here, so ``hub.config`` can use ``hub.gateway.settings`` without pulling in FastAPI.
"""
