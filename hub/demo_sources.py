"""Stand-ins for the legacy systems the demo captures from, and the changes it makes to them.

- ``legacy.db`` (SQLite) shaped like an IBM i customer master (``CUSTMAST``) and order header (``ORDHDR``),
  with the short upper-case names, CHAR padding, packed-decimal-sized amounts and change timestamps those
  files have.
- ``drop/`` a folder where an AS/400 job drops EBCDIC (cp037) fixed-length customer exports described by
  the COBOL copybook ``config/demo/custexp.cpy``.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from connectors.codecs.encode import packed, text, zoned

CUSTOMERS = [
    (104711, "MUELLER GMBH", "A", Decimal("25000.00"), "DE", "AGT07"),
    (104712, "DUPONT SARL", "A", Decimal("12000.00"), "FR", "AGT03"),
    (104713, "ROSSI SPA", "H", Decimal("8000.00"), "IT", "AGT03"),
    (104714, "SMITH & SONS LTD", "A", Decimal("40000.00"), "GB", "AGT11"),
    (104715, "JANSSEN BV", "A", Decimal("15500.00"), "NL", "AGT07"),
]


def _ts(offset_s: float = 0.0) -> str:
    """A timestamp as the IBM i stores it: local clock, microseconds, no zone (UTC here, like SQLite's clock)."""
    return (datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=offset_s)).isoformat(sep=" ")


def seed_legacy_db(path: Path) -> None:
    """Create (or re-create) the customer master and order header with a few rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("""CREATE TABLE CUSTMAST (
            CUSNO NUMERIC(7,0) NOT NULL PRIMARY KEY, CUSNAM CHAR(30) NOT NULL, CRSTAT CHAR(1) NOT NULL,
            CRLIMIT DECIMAL(11,2) NOT NULL, CNTRY CHAR(2) NOT NULL, AGENT CHAR(5), CHGTS TIMESTAMP NOT NULL)""")
        db.execute("""CREATE TABLE ORDHDR (
            ORDNO INTEGER NOT NULL PRIMARY KEY, CUSNO NUMERIC(7,0) NOT NULL, ORDSTS CHAR(1) NOT NULL,
            ORDAMT DECIMAL(11,2) NOT NULL, ORDDAT DATE NOT NULL)""")
        db.executemany("INSERT INTO CUSTMAST VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(n, name.ljust(30), st, str(lim), c, a, _ts(-60)) for n, name, st, lim, c, a in CUSTOMERS])
        db.executemany("INSERT INTO ORDHDR VALUES (?, ?, ?, ?, ?)",
                       [(500001, 104711, "O", "1250.40", "2026-11-20"), (500002, 104714, "O", "980.00", "2026-11-21")])


def freeze_credit(path: Path, cusno: int) -> str:
    """The IBM i side freezes a customer's credit (CRSTAT A → F); returns the change timestamp written."""
    ts = _ts()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE CUSTMAST SET CRSTAT = 'F', CHGTS = ? WHERE CUSNO = ?", (ts, cusno))
    return ts


def new_order(path: Path, ordno: int, cusno: int, amount: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO ORDHDR VALUES (?, ?, 'O', ?, ?)", (ordno, cusno, amount, _ts()[:10]))


def export_record(cusno: int, name: str, balance: Decimal, overdue_days: int, phones: list[str]) -> bytes:
    """One 80-byte record of the copybook ``config/demo/custexp.cpy`` in cp037."""
    phone_bytes = b"".join(text(p, 15) for p in [*phones, "", ""][:2])
    return (zoned(cusno, 7, signed=False) + text(name, 30) + packed(balance, 11, 2)
            + zoned(overdue_days, 3) + phone_bytes + text("", 4))


def drop_export(folder: Path, name: str, records: list[bytes]) -> Path:
    """Write an export file the way a share receives it: the data, then a ``.done`` marker."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(b"".join(records))
    (folder / (name + ".done")).write_text("")
    return target
