"""File-drop connector: export files on Windows shares and AS/400 flat-file exports -> change events.

- ``config``: the settings models (``FileDropConnector``, ``Feed``, ``CsvOptions``, ``CsvColumn``).
- ``formats``: record model and the CSV / fixed-width text readers; ``ebcdic``: copybook-described records.
- ``diff``: delta files and snapshot diffs -> changes; the per-feed previous-snapshot store.
- ``connector``: ``FileDropSource``, the ``Connector`` that watches the folder; ``state``: its state and where it
  stands for source lag.
"""

from typing import TYPE_CHECKING

from connectors.filedrop.config import CsvColumn, CsvOptions, Feed, FileDropConnector
from connectors.lazy import lazy_exports

if TYPE_CHECKING:
    from connectors.filedrop.connector import FileDropSource, make_state

__getattr__ = lazy_exports(__name__, {"FileDropSource": "connectors.filedrop.connector",
                                      "make_state": "connectors.filedrop.connector"})

__all__ = ["CsvColumn", "CsvOptions", "Feed", "FileDropConnector", "FileDropSource", "make_state"]
