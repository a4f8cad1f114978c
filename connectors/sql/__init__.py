"""Query-based capture from any SQL database SQLAlchemy reaches (PostgreSQL, MySQL/MariaDB, SQLite, SQL
Server, Oracle, Db2 LUW, Db2 for i): snapshot by key, then poll by timestamp and/or incrementing column.

- :mod:`connectors.sql.config`: ``SqlConnectorConfig`` (pydantic, errors located at the field's path).
- :mod:`connectors.sql.types`: reflected column types -> ``Column``; raw driver values -> envelope values.
- :mod:`connectors.sql.queries`: the incremental, snapshot, key and head queries; the state's shape.
- :mod:`connectors.sql.connector`: ``SqlConnector``, the connector the hub runs.
"""

from connectors.sql.config import SoftDelete, SqlConnectorConfig, SqlTableConfig
from connectors.sql.connector import SqlConnector
from connectors.sql.queries import make_state

__all__ = ["SoftDelete", "SqlConnector", "SqlConnectorConfig", "SqlTableConfig", "make_state"]
