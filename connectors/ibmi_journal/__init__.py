"""IBM i (Db2 for i) journal connector: ``QSYS2.DISPLAY_JOURNAL`` over ODBC or ibm_db, commit-ordered.

- :mod:`connectors.ibmi_journal.config`: ``IbmiJournalConfig`` (``kind: ibmi-journal``).
- :mod:`connectors.ibmi_journal.ccsids`: the EBCDIC CCSIDs Python lacks (277 ... 871, 1141-1149).
- :mod:`connectors.ibmi_journal.layout`: SYSCOLUMNS -> compiled record-image decoder (pure).
- :mod:`connectors.ibmi_journal.entries`: DISPLAY_JOURNAL rows, positions, receiver chain (pure).
- :mod:`connectors.ibmi_journal.txn`: commit-ordered assembly, UB/UP pairing, rollbacks (pure).
- :mod:`connectors.ibmi_journal.queries`: the SQL issued.
- :mod:`connectors.ibmi_journal.connector`: ``IbmiJournalConnector``, run by the hub.
"""

from typing import TYPE_CHECKING

from connectors.ibmi_journal.config import IbmiJournalConfig, IbmiTableConfig
from connectors.ibmi_journal.state import make_state
from connectors.lazy import lazy_exports

if TYPE_CHECKING:
    from connectors.ibmi_journal.connector import IbmiJournalConnector

__getattr__ = lazy_exports(__name__, {"IbmiJournalConnector": "connectors.ibmi_journal.connector"})

__all__ = ["IbmiJournalConfig", "IbmiJournalConnector", "IbmiTableConfig", "make_state"]
