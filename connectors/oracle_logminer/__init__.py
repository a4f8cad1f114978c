"""Oracle change capture (``kind: oracle-logminer``): LogMiner over SCN windows, or ORA_ROWSCN polling.

- :mod:`.config`: ``OracleLogminerConfig`` (pydantic, errors at the field's path).
- :mod:`.sql`: the SQL sent to Oracle (LogMiner session, V$LOGMNR_CONTENTS, catalog, flashback snapshot).
- :mod:`.session`: DBAPI access behind a pluggable connection factory; one LogMiner session per window.
- :mod:`.redo` / :mod:`.literals` / :mod:`.quotes`: the pure SQL_REDO scanner, Oracle literal decoders, and
  the opt-in repair of unescaped quotes.
- :mod:`.charset`: Oracle character sets as Python codecs (HEXTORAW text).
- :mod:`.txbuffer`: transaction buffering by XID, emission at commit, and the position model.
- :mod:`.catalog` / :mod:`.events`: column metadata and typed change events.
- :mod:`.rowscn`: ``mode: rowscn`` on top of the SQL connector.
- :mod:`.connector`: ``OracleLogminerConnector``, the connector the hub runs.

Not built: LOB content (LOB_WRITE redo: CLOB/BLOB columns carry ``EMPTY_CLOB()``/their inline value only),
DDL handling (a schema change is seen through the runner's periodic ``describe``), RAC thread merging beyond
adding every thread's logs, and the uncommitted-redo flush race at the window's upper end (see
docs/connectors/oracle-logminer.md).
"""

from typing import TYPE_CHECKING

from connectors.lazy import lazy_exports
from connectors.oracle_logminer.config import OracleLogminerConfig, OracleTable

if TYPE_CHECKING:
    from connectors.oracle_logminer.connector import OracleLogminerConnector

__getattr__ = lazy_exports(__name__, {"OracleLogminerConnector": "connectors.oracle_logminer.connector"})

__all__ = ["OracleLogminerConfig", "OracleLogminerConnector", "OracleTable"]
