"""The demo's Oracle AR and SQL Server helpdesk stand-ins: one SQLite file each, shaped like those servers' tables.

``ar.db`` holds ``AR_CUSTOMERS``, an Oracle receivables customer table in the style of E-Business Suite's
``HZ_PARTIES`` / ``HZ_CUST_ACCOUNTS`` / ``HZ_CUSTOMER_PROFILES`` joined: upper-case names, ``NUMBER`` /
``VARCHAR2`` types, ``CREDIT_HOLD`` 'Y'/'N', ``OVERALL_CREDIT_LIMIT``, the primary phone split into country,
area and number like ``HZ_PARTIES.PRIMARY_PHONE_*``, and ``ORIG_SYSTEM_REFERENCE`` holding the IBM i customer
number for accounts the interface created (``IBMI:104711``); accounts keyed in by hand have none. On Oracle
``LAST_UPDATE_DATE`` is a ``DATE`` (whole seconds: give such a table ``safety_delay_ms`` >= 1000); SQLite's
``DATE`` would hold no time of day, so the stand-in declares ``TIMESTAMP`` and writes microseconds.

``helpdesk.db`` holds ``Contacts`` and ``Tickets`` (``dbo.Contacts`` / ``dbo.Tickets`` on SQL Server): CamelCase
names, ``INT`` identity keys, ``NVARCHAR``, ``BIT`` (``BOOLEAN`` here) and ``ModifiedDate`` ``datetime2(7)``
(``DATETIME`` here: SQLAlchemy's SQLite dialect reads that name as a timestamp). Company names are keyed by
support agents, so some carry typos of the IBM i names.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.demo.sources import _ts

AR_DDL = """CREATE TABLE AR_CUSTOMERS (
    CUST_ACCOUNT_ID NUMBER(15) NOT NULL PRIMARY KEY, ACCOUNT_NUMBER VARCHAR2(30) NOT NULL,
    PARTY_NAME VARCHAR2(360) NOT NULL, ORIG_SYSTEM_REFERENCE VARCHAR2(240), TAX_REFERENCE VARCHAR2(50),
    PRIMARY_PHONE_COUNTRY_CODE VARCHAR2(10), PRIMARY_PHONE_AREA_CODE VARCHAR2(10), PRIMARY_PHONE_NUMBER VARCHAR2(40),
    EMAIL_ADDRESS VARCHAR2(2000), ADDRESS1 VARCHAR2(240), CITY VARCHAR2(60), POSTAL_CODE VARCHAR2(60),
    COUNTRY VARCHAR2(60), STATUS VARCHAR2(1) NOT NULL, CREDIT_HOLD VARCHAR2(1) NOT NULL,
    OVERALL_CREDIT_LIMIT NUMBER, CURRENCY_CODE VARCHAR2(15), LAST_UPDATE_DATE TIMESTAMP NOT NULL,
    LAST_UPDATED_BY NUMBER(15) NOT NULL)"""
AR_COLUMNS = ("CUST_ACCOUNT_ID", "ACCOUNT_NUMBER", "PARTY_NAME", "ORIG_SYSTEM_REFERENCE", "TAX_REFERENCE",
              "PRIMARY_PHONE_COUNTRY_CODE", "PRIMARY_PHONE_AREA_CODE", "PRIMARY_PHONE_NUMBER", "EMAIL_ADDRESS",
              "ADDRESS1", "CITY", "POSTAL_CODE", "COUNTRY", "STATUS", "CREDIT_HOLD", "OVERALL_CREDIT_LIMIT",
              "CURRENCY_CODE", "LAST_UPDATE_DATE", "LAST_UPDATED_BY")
AR_ACCOUNTS = [  # the IBM i customers as AR knows them: other spellings, VAT numbers, phones, billing mail
    (3001, "20817", "Müller GmbH", "IBMI:104711", "DE811234567", ("49", "89", "1234567"), None,
     "Landsberger Str. 112", "München", "80339", "DE", "N", "25000", "EUR"),
    (3002, "20818", "Dupont S.A.R.L.", None, "FR40123456789", ("33", "1", "44556677"), None,
     "12 Rue de la Paix", "Paris", "75002", "FR", "N", "12000", "EUR"),
    (3003, "20819", "Rossi S.p.A.", "IBMI:104713", "IT01234567890", ("39", "02", "8765432"),
     "amministrazione@rossispa.it", "Via Roma 5", "Milano", "20121", "IT", "Y", "8000", "EUR"),
    (3004, "20820", "Smith and Sons Limited", "IBMI:104714", "GB123456789", ("44", "20", "79460018"),
     "accounts@smithandsons.co.uk", "221 Baker Street", "London", "NW1 6XE", "GB", "N", "40000", "GBP"),
    (3005, "20821", "Janssen B.V.", "IBMI:104715", "NL123456789B01", ("31", "20", "5550101"), "inkoop@janssen-bv.nl",
     "Keizersgracht 100", "Amsterdam", "1015 AA", "NL", "N", "15500", "EUR"),
]
AR_USER = 1318  # FND_USER id of the AR clerk the demo writes as

CONTACTS_DDL = """CREATE TABLE Contacts (
    ContactId INT NOT NULL PRIMARY KEY, CompanyName NVARCHAR(200) NOT NULL, FirstName NVARCHAR(50),
    LastName NVARCHAR(50), Email NVARCHAR(254), Phone NVARCHAR(50), City NVARCHAR(100), CountryCode NCHAR(2),
    IsActive BOOLEAN NOT NULL, CreatedDate DATETIME NOT NULL, ModifiedDate DATETIME NOT NULL)"""
TICKETS_DDL = """CREATE TABLE Tickets (
    TicketId INT NOT NULL PRIMARY KEY, TicketNumber NVARCHAR(20) NOT NULL, ContactId INT NOT NULL,
    Category NVARCHAR(20) NOT NULL, Status NVARCHAR(30) NOT NULL, Stage NVARCHAR(50), Subject NVARCHAR(200),
    AssignedTo NVARCHAR(50), Priority TINYINT NOT NULL, CreatedDate DATETIME NOT NULL, DueDate DATETIME,
    ModifiedDate DATETIME NOT NULL)"""
CONTACTS = [  # typed by support agents: typos of the IBM i names, the phone as the caller gave it
    (7001, "Mueler GmbH", "Anna", "Berger", "a.berger@mueller-gmbh.de", "+49 (89) 123 4567", "München", "DE"),
    (7002, "Duppont SARL", "Luc", "Moreau", "l.moreau@dupont-sarl.fr", "+33 1 44 55 66 77", "Paris", "FR"),
    (7003, "Rosssi SpA", "Giulia", "Bianchi", "amministrazione@rossispa.it", "+39 02 876 5432", "Milano", "IT"),
    (7004, "Smith & Son Ltd", "Oliver", "Hughes", "accounts@smithandsons.co.uk", "020 7946 0018", "London", "GB"),
    (7005, "Jansen BV", "Sanne", "de Vries", "inkoop@janssen-bv.nl", "+31 20 555 0101", "Amsterdam", "NL"),
]
TICKETS = [  # ticket, contact, category, status, stage, subject, agent, priority, due in hours
    (9001, 7001, "Complaint", "Open", "Analysis", "Valve DN50 leaking after installation", "AGT07", 1, 48),
    (9002, 7004, "Quote", "WaitingOnCustomer", None, "Quote for 500 bearings 6204-2RS", "AGT11", 2, None),
    (9003, 7002, "Inquiry", "New", None, "Delivery date of order 500003?", "AGT03", 3, None),
]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _fresh(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    return db


def ar_row(account_id: int, number: str, name: str, ref: str | None, vat: str | None,
           phone: tuple[str, str, str] | None, email: str | None, street: str | None, city: str | None,
           postal: str | None, country: str | None, hold: str, limit: str, currency: str,
           ts: str | None = None) -> tuple[Any, ...]:
    """One AR_CUSTOMERS row in column order."""
    cc, area, local = phone or (None, None, None)
    return (account_id, number, name, ref, vat, cc, area, local, email, street, city, postal, country, "A", hold,
            limit, currency, ts or _ts(), AR_USER)


def seed_ar_db(path: Path) -> None:
    """Create (or re-create) the Oracle AR stand-in with the accounts of :data:`AR_ACCOUNTS`."""
    with _fresh(path) as db:
        db.execute(AR_DDL)
        db.execute("CREATE INDEX AR_CUSTOMERS_N1 ON AR_CUSTOMERS (LAST_UPDATE_DATE)")
        marks = ", ".join("?" * len(AR_COLUMNS))
        db.executemany(f"INSERT INTO AR_CUSTOMERS VALUES ({marks})",
                       [ar_row(*a, ts=_ts(-50)) for a in AR_ACCOUNTS])
    db.close()


def ticket_row(ticket_id: int, contact_id: int, category: str, status: str, stage: str | None, subject: str,
               agent: str | None, priority: int, due_hours: float | None, ts: str | None = None) -> tuple[Any, ...]:
    """One Tickets row in column order (``TicketNumber`` ``HD-<id>``; due ``due_hours`` after now)."""
    ts = ts or _ts()
    due = None if due_hours is None else (_now() + timedelta(hours=due_hours)).isoformat(sep=" ")
    return (ticket_id, f"HD-{ticket_id:06d}", contact_id, category, status, stage, subject, agent, priority, ts,
            due, ts)


def seed_helpdesk_db(path: Path) -> None:
    """Create (or re-create) the SQL Server helpdesk stand-in with :data:`CONTACTS` and :data:`TICKETS`."""
    with _fresh(path) as db:
        db.execute(CONTACTS_DDL)
        db.execute(TICKETS_DDL)
        db.execute("CREATE INDEX IX_Contacts_ModifiedDate ON Contacts (ModifiedDate)")
        db.execute("CREATE INDEX IX_Tickets_ModifiedDate ON Tickets (ModifiedDate)")
        ts = _ts(-40)
        db.executemany("INSERT INTO Contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                       [(*c, ts, ts) for c in CONTACTS])
        db.executemany("INSERT INTO Tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [ticket_row(*t, ts=ts) for t in TICKETS])
    db.close()


def credit_hold(path: Path, account_id: int, hold: bool) -> str:
    """AR puts an account on credit hold (``CREDIT_HOLD`` 'Y') or releases it; returns the timestamp written."""
    ts = _ts()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE AR_CUSTOMERS SET CREDIT_HOLD = ?, LAST_UPDATE_DATE = ?, LAST_UPDATED_BY = ? "
                   "WHERE CUST_ACCOUNT_ID = ?", ("Y" if hold else "N", ts, AR_USER, account_id))
    db.close()
    return ts


def open_ticket(path: Path, ticket_id: int, contact_id: int, category: str, subject: str, agent: str | None,
                due_hours: float | None = None) -> str:
    """A new helpdesk ticket (status New); returns the timestamp written."""
    ts = _ts()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO Tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   ticket_row(ticket_id, contact_id, category, "New", None, subject, agent, 2, due_hours, ts))
    db.close()
    return ts

