"""The IBM i stand-in the demo captures from, its EBCDIC export drop folder, and the changes made to them.

``legacy.db`` (SQLite) is shaped like the files of an IBM i order-entry ERP (Infor XA / BPCS style): short
upper-case names, CHAR columns padded with blanks, DECIMAL sizes of packed fields, and a change timestamp
``CHGTS`` stamped by the application on every write (microseconds, as Db2 for i TIMESTAMP holds them):

- ``CUSTMAST`` customer master: CUSNO NUMERIC(7,0), CUSNAM CHAR(30), CRSTAT CHAR(1) A/H/F (active, hold,
  frozen), CRLIMIT DECIMAL(11,2), CNTRY CHAR(2), AGENT CHAR(5), CHGTS.
- ``ORDHDR`` order header: ORDNO, CUSNO, ORDSTS CHAR(1) O/S/C/Q, ORDAMT DECIMAL(11,2), ORDDAT DATE, CHGTS (the
  order-entry program stamps the header whenever one of its lines changes, too).
- ``ORDLIN`` order lines: ORDNO, LINNO NUMERIC(3,0), ITNBR CHAR(15), WHSID CHAR(3), QTYORD / QTYSHP
  DECIMAL(11,3), UNITPR DECIMAL(11,4), LINAMT DECIMAL(11,2), LINSTS CHAR(1), CHGTS.
- ``ITMBAL`` item balance per warehouse: ITNBR CHAR(15), WHSID CHAR(3), ONHAND / ALLOC / ONORD DECIMAL(11,3),
  CHGTS.
- ``ORDHDRV`` an SQL view (``CREATE VIEW CRMLIB.ORDHDRV``, what an IBM i team creates for an extract): each
  order header with its first :data:`VIEW_LINES` lines side by side (``L1ITNBR``, ``L1QTY``, ...). The canonical
  order carries its lines in one record and a mapping maps one row, so the hub captures this view for orders.

``drop/`` is a folder where an AS/400 job drops EBCDIC (cp037) fixed-length customer exports described by the
COBOL copybook ``config/demo/custexp.cpy``.
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
WAREHOUSES = ("MUC", "LYS", "RTM")  # Munich, Lyon, Rotterdam
ITEMS = [  # item number, unit price, stock per warehouse (None: not stocked there)
    ("VLV-DN50-PN16", Decimal("212.6000"), (40, 12, None)),
    ("GSK-DN50-EPDM", Decimal("20.0000"), (500, 240, 300)),
    ("FLG-DN50-S235", Decimal("35.5000"), (120, None, 80)),
    ("PMP-200-HP", Decimal("1890.0000"), (6, 2, 3)),
    ("BRG-6204-2RS", Decimal("7.0000"), (900, 400, 650)),
    ("MTR-1K5-4P", Decimal("415.0000"), (14, None, 9)),
    ("SEN-PT100-A", Decimal("48.9000"), (75, 30, None)),
    ("CBL-4X15-50M", Decimal("129.0000"), (22, 18, 25)),
]
ORDERS = [  # order, customer, order date, lines (item, warehouse, quantity)
    (500001, 104711, "2026-11-20", [("VLV-DN50-PN16", "MUC", 4), ("GSK-DN50-EPDM", "MUC", 20)]),
    (500002, 104714, "2026-11-21", [("BRG-6204-2RS", "RTM", 140)]),
]
VIEW_LINES = 5
LINE_VIEW_COLUMNS = (("LINNO", "LINNO"), ("ITNBR", "ITNBR"), ("WHSID", "WHSID"), ("QTY", "QTYORD"),
                     ("AMT", "LINAMT"))


def _ts(offset_s: float = 0.0) -> str:
    """A timestamp as the IBM i stores it: local clock, microseconds, no zone (UTC here, like SQLite's clock)."""
    return (datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=offset_s)).isoformat(sep=" ")


def price_of(item: str) -> Decimal:
    return next(p for i, p, _ in ITEMS if i == item)


def order_view_sql(lines: int = VIEW_LINES) -> str:
    """``ORDHDRV``: the header with its first ``lines`` lines as columns ``L<n><name>`` (LEFT JOINs by LINNO)."""
    cols = ", ".join(f"l{n}.{src} AS L{n}{name}" for n in range(1, lines + 1) for name, src in LINE_VIEW_COLUMNS)
    joins = " ".join(f"LEFT JOIN ORDLIN l{n} ON l{n}.ORDNO = h.ORDNO AND l{n}.LINNO = {n}"
                     for n in range(1, lines + 1))
    return (f"CREATE VIEW ORDHDRV AS SELECT h.ORDNO, h.CUSNO, h.ORDSTS, h.ORDAMT, h.ORDDAT, h.CHGTS, {cols} "
            f"FROM ORDHDR h {joins}")


def seed_legacy_db(path: Path) -> None:
    """Create (or re-create) the IBM i files with a few rows (WAL journal: readers never block the writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("""CREATE TABLE CUSTMAST (
            CUSNO NUMERIC(7,0) NOT NULL PRIMARY KEY, CUSNAM CHAR(30) NOT NULL, CRSTAT CHAR(1) NOT NULL,
            CRLIMIT DECIMAL(11,2) NOT NULL, CNTRY CHAR(2) NOT NULL, AGENT CHAR(5), CHGTS TIMESTAMP NOT NULL)""")
        db.execute("""CREATE TABLE ORDHDR (
            ORDNO INTEGER NOT NULL PRIMARY KEY, CUSNO NUMERIC(7,0) NOT NULL, ORDSTS CHAR(1) NOT NULL,
            ORDAMT DECIMAL(11,2) NOT NULL, ORDDAT DATE NOT NULL, CHGTS TIMESTAMP NOT NULL)""")
        db.execute("""CREATE TABLE ORDLIN (
            ORDNO INTEGER NOT NULL, LINNO NUMERIC(3,0) NOT NULL, ITNBR CHAR(15) NOT NULL, WHSID CHAR(3) NOT NULL,
            QTYORD DECIMAL(11,3) NOT NULL, QTYSHP DECIMAL(11,3) NOT NULL, UNITPR DECIMAL(11,4) NOT NULL,
            LINAMT DECIMAL(11,2) NOT NULL, LINSTS CHAR(1) NOT NULL, CHGTS TIMESTAMP NOT NULL,
            PRIMARY KEY (ORDNO, LINNO))""")
        db.execute("""CREATE TABLE ITMBAL (
            ITNBR CHAR(15) NOT NULL, WHSID CHAR(3) NOT NULL, ONHAND DECIMAL(11,3) NOT NULL,
            ALLOC DECIMAL(11,3) NOT NULL, ONORD DECIMAL(11,3) NOT NULL, CHGTS TIMESTAMP NOT NULL,
            PRIMARY KEY (ITNBR, WHSID))""")
        for table, column in (("CUSTMAST", "CHGTS"), ("ORDHDR", "CHGTS"), ("ITMBAL", "CHGTS")):
            db.execute(f"CREATE INDEX {table}_{column} ON {table} ({column})")
        db.execute(order_view_sql())
        db.executemany("INSERT INTO CUSTMAST VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(n, name.ljust(30), st, str(lim), c, a, _ts(-60)) for n, name, st, lim, c, a in CUSTOMERS])
        db.executemany("INSERT INTO ITMBAL VALUES (?, ?, ?, 0, 0, ?)",
                       [(item.ljust(15), wh, str(qty), _ts(-60)) for item, _, stock in ITEMS
                        for wh, qty in zip(WAREHOUSES, stock, strict=True) if qty is not None])
        for ordno, cusno, day, lines in ORDERS:
            insert_order(db, ordno, cusno, lines, order_date=day, ts=_ts(-60))


def insert_order(db: sqlite3.Connection, ordno: int, cusno: int, lines: list[tuple[str, str, int]], *,
                 order_date: str | None = None, ts: str | None = None, status: str = "O",
                 allocate: bool = True) -> Decimal:
    """One order as order entry writes it: the lines, their stock allocated in ITMBAL (unless not
    ``allocate``: a quote), the header with the total; all stamped ``ts``. Returns the order amount."""
    ts = ts or _ts()
    total = Decimal("0.00")
    for n, (item, wh, qty) in enumerate(lines, start=1):
        price = price_of(item)
        amount = (price * qty).quantize(Decimal("0.01"))
        total += amount
        db.execute("INSERT INTO ORDLIN VALUES (?, ?, ?, ?, ?, '0.000', ?, ?, ?, ?)",
                   (ordno, n, item.ljust(15), wh, f"{qty}.000", str(price), str(amount), status, ts))
        if allocate:
            db.execute("UPDATE ITMBAL SET ALLOC = ALLOC + ?, CHGTS = ? WHERE ITNBR = ? AND WHSID = ?",
                       (qty, ts, item.ljust(15), wh))
    db.execute("INSERT INTO ORDHDR VALUES (?, ?, ?, ?, ?, ?)",
               (ordno, cusno, status, str(total), order_date or ts[:10], ts))
    return total


def freeze_credit(path: Path, cusno: int) -> str:
    """The IBM i side freezes a customer's credit (CRSTAT A → F); returns the change timestamp written."""
    ts = _ts()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE CUSTMAST SET CRSTAT = 'F', CHGTS = ? WHERE CUSNO = ?", (ts, cusno))
    return ts


def new_order(path: Path, ordno: int, cusno: int, amount: str,
              lines: list[tuple[str, str, int]] | None = None) -> str:
    """A new order: with ``lines`` through order entry (lines, allocations, header; ``amount`` is then their
    total), else a bare header of ``amount``. Returns the change timestamp written."""
    ts = _ts()
    with sqlite3.connect(path) as db:
        if lines:
            insert_order(db, ordno, cusno, lines, ts=ts)
        else:
            db.execute("INSERT INTO ORDHDR VALUES (?, ?, 'O', ?, ?, ?)", (ordno, cusno, amount, ts[:10], ts))
    return ts


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
