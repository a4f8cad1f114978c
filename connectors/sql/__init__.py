"""Query-based capture from any SQL database SQLAlchemy reaches (PostgreSQL, MySQL/MariaDB, SQLite, SQL
Server, Oracle, Db2 LUW, Db2 for i): snapshot by key, then poll by timestamp and/or incrementing column.

- :mod:`connectors.sql.config`: ``SqlConnectorConfig`` (pydantic, errors located at the field's path).
- :mod:`connectors.sql.types`: reflected column types -> ``Column``.
- :mod:`connectors.sql.values`: raw driver values -> envelope values; the comparisons made on them.
- :mod:`connectors.sql.queries`: the incremental, snapshot, key and head queries; the coding of bound values.
- :mod:`connectors.sql.state`: the state's shape (``make_state``/``load_state``).
- :mod:`connectors.sql.catalog`: the configured tables resolved against the catalog.
- :mod:`connectors.sql.snapshot`: a table's snapshot, in one pass or in key ranges read by worker threads.
- :mod:`connectors.sql.keystore`: the emitted keys (SQLite, in ``state_dir``) for c/u and delete reconciliation.
- :mod:`connectors.sql.connector`: ``SqlConnector``, the connector the hub runs.
"""

from typing import TYPE_CHECKING

from connectors.lazy import lazy_exports
from connectors.sql.config import SoftDelete, SqlConnectorConfig, SqlTableConfig
from connectors.sql.state import make_state

if TYPE_CHECKING:
    from connectors.sql.connector import SqlConnector

__getattr__ = lazy_exports(__name__, {"SqlConnector": "connectors.sql.connector"})

__all__ = ["SoftDelete", "SqlConnector", "SqlConnectorConfig", "SqlTableConfig", "make_state"]
