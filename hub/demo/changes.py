"""What the demo's change generator writes besides IBM i credit, stock and orders: new customers across the
IBM i, Oracle AR and the SQL Server helpdesk, contact changes and helpdesk tickets (``hub/demo/generator.py``
has the table of every kind), on top of the connections and keys every kind draws from (:class:`StandIns`)."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.demo import names as names
from hub.demo.sources import ITEMS, _ts
from hub.demo.stands import AR_COLUMNS, ar_row, ticket_row

COMPLAINT_STEPS = ("Received", "Analysis", "Corrective action", "Credit note")
AGENTS = ("AGT03", "AGT07", "AGT11", "AGT14")
BAD_PHONE_SHARE = 0.02  # helpdesk agents sometimes type just the extension: the contact goes to the DLQ

@dataclass(frozen=True)
class DemoSources:
    """The stand-in databases the generator writes to (``ar`` / ``helpdesk`` None when not configured)."""

    legacy: Path
    ar: Path | None = None
    helpdesk: Path | None = None


@dataclass(frozen=True)
class Change:
    kind: str
    system: str  # ibmi | ar | helpdesk
    table: str  # the main table written
    key: str
    what: str


def _connect(path: Path) -> sqlite3.Connection:
    """A connection for explicit BEGIN/COMMIT per change, usable from the thread the generator runs in (one
    thread at a time uses it)."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class StandIns:
    """Connections to the stand-ins and what a generator knows of them (keys to draw from, next numbers)."""

    def __init__(self, sources: DemoSources, rng: random.Random) -> None:
        self.rng = rng
        self.ibmi = _connect(sources.legacy)
        self.ar = _connect(sources.ar) if sources.ar else None
        self.hd = _connect(sources.helpdesk) if sources.helpdesk else None
        self.customers = self._ints(self.ibmi, "SELECT CUSNO FROM CUSTMAST")
        self.stock = [(str(r[0]).strip(), str(r[1]).strip())
                      for r in self.ibmi.execute("SELECT ITNBR, WHSID FROM ITMBAL ORDER BY ITNBR, WHSID")]
        self.open_orders = self._ints(self.ibmi, "SELECT ORDNO FROM ORDHDR WHERE ORDSTS = 'O'")
        self.next_order = max(self._ints(self.ibmi, "SELECT ORDNO FROM ORDHDR") or [500000]) + 1
        self.accounts = self._ints(self.ar, "SELECT CUST_ACCOUNT_ID FROM AR_CUSTOMERS") if self.ar else []
        self.contacts = self._ints(self.hd, "SELECT ContactId FROM Contacts") if self.hd else []
        self.tickets = self._ints(self.hd, "SELECT TicketId FROM Tickets WHERE Status NOT IN ('Resolved', "
                                           "'Closed', 'Cancelled')") if self.hd else []
        self.next_ticket = max(self._ints(self.hd, "SELECT TicketId FROM Tickets") or [9000]) + 1 if self.hd else 0
        self.names = {str(r[0]).strip() for r in self.ibmi.execute("SELECT CUSNAM FROM CUSTMAST")}
        self.made: Counter[str] = Counter()

    @staticmethod
    def _ints(db: sqlite3.Connection | None, sql: str) -> list[int]:
        return sorted(int(r[0]) for r in db.execute(sql)) if db is not None else []

    def _pick(self, db: sqlite3.Connection, table: str, key: str, where: str, keys: list[int]) -> int | None:
        """A key of a ``table`` row matching ``where``: the first at or after a random one of ``keys``, else the
        lowest (a seek on the key, where reading every matching row would grow with the table)."""
        if not keys:
            return None
        start = self.rng.choice(keys)
        for bound, args in ((f" AND {key} >= ?", (start,)), ("", ())):
            row = db.execute(f"SELECT {key} FROM {table} WHERE {where}{bound} ORDER BY {key} LIMIT 1", args).fetchone()
            if row is not None:
                return int(row[0])
        return None

    def close(self) -> None:
        for db in (self.ibmi, self.ar, self.hd):
            if db is not None:
                db.close()

    def _tx(self, db: sqlite3.Connection, work: Callable[[sqlite3.Connection, str], Any]) -> Any:
        """``work(db, ts)`` in one transaction, every row it writes stamped ``ts`` (now, microseconds)."""
        db.execute("BEGIN IMMEDIATE")
        try:
            out = work(db, _ts())
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return out


class CrmChanges(StandIns):
    """Changes to customers, contacts and tickets (each returns the :class:`Change` it made)."""

    def _new_customer(self) -> Change:
        assert self.ar is not None and self.hd is not None
        co = names.company(self.rng, self.names)
        cusno = max(self.customers) + 1 if self.customers else 200001
        ibmi_name = names.ibmi_name(co.name)
        agent = self.rng.choice(AGENTS)
        limit = self.rng.randrange(4, 80) * 500
        self._tx(self.ibmi, lambda db, ts: db.execute(
            "INSERT INTO CUSTMAST VALUES (?, ?, 'A', ?, ?, ?, ?)",
            (cusno, ibmi_name.ljust(30), f"{limit}.00", co.country, agent, ts)))
        self.customers.append(cusno)
        self.names.add(ibmi_name)
        account = max(self.accounts) + 1 if self.accounts else 3001
        ref = f"IBMI:{cusno}" if self.rng.random() < 0.8 else None
        billing = f"accounts@{co.domain}"
        row = ar_row(account, str(20000 + account % 10000), names.ar_spelling(co.name, self.rng), ref, co.vat,
                     co.phone, billing, co.street, co.city, co.postal, co.country, "N", str(limit), co.currency)
        marks = ", ".join("?" * len(AR_COLUMNS))
        self._tx(self.ar, lambda db, ts: db.execute(f"INSERT INTO AR_CUSTOMERS VALUES ({marks})",
                                                    (*row[:-2], ts, row[-1])))
        self.accounts.append(account)
        contact = max(self.contacts) + 1 if self.contacts else 7001
        typed = names.typo(co.name, self.rng)
        first, last, email = names.person(self.rng, co.domain)
        phone = names.phone_text(co.phone, self.rng.choice(("intl", "idd", "brackets")))
        if self.rng.random() < BAD_PHONE_SHARE:
            phone = f"ext. {co.phone[2][-3:]}"  # not a phone number: the mapping rejects the contact
        self._tx(self.hd, lambda db, ts: db.execute(
            "INSERT INTO Contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            (contact, typed, first, last, email, phone, co.city, co.country, ts, ts)))
        self.contacts.append(contact)
        return Change("new_customer", "ibmi", "CUSTMAST", str(cusno),
                      f"{ibmi_name.strip()}; AR {account} {'with' if ref else 'without'} IBM i reference; "
                      f"helpdesk {contact} as {typed!r}" + (f", phone {phone!r}" if phone.startswith("ext") else ""))

    def _contact_change(self) -> Change:
        if self.hd is not None and self.contacts and (self.ar is None or self.rng.random() < 0.6):
            contact = self.rng.choice(self.contacts)
            row = self.hd.execute("SELECT Email FROM Contacts WHERE ContactId = ?", (contact,)).fetchone()
            domain = str(row[0]).rpartition("@")[2] if row and row[0] else "example.com"
            first, last, email = names.person(self.rng, domain)
            self._tx(self.hd, lambda db, ts: db.execute(
                "UPDATE Contacts SET FirstName = ?, LastName = ?, Email = ?, ModifiedDate = ? WHERE ContactId = ?",
                (first, last, email, ts, contact)))
            return Change("contact_change", "helpdesk", "Contacts", str(contact), f"new contact {first} {last}")
        assert self.ar is not None
        account = self.rng.choice(self.accounts)
        country = self.ar.execute("SELECT COUNTRY FROM AR_CUSTOMERS WHERE CUST_ACCOUNT_ID = ?", (account,)).fetchone()
        street = names.street(self.rng, str(country[0]) if country and country[0] else "DE")
        self._tx(self.ar, lambda db, ts: db.execute(
            "UPDATE AR_CUSTOMERS SET ADDRESS1 = ?, LAST_UPDATE_DATE = ? WHERE CUST_ACCOUNT_ID = ?",
            (street, ts, account)))
        return Change("contact_change", "ar", "AR_CUSTOMERS", str(account), f"billing address {street}")

    def _ticket(self) -> Change:
        assert self.hd is not None
        if self.tickets and self.rng.random() < 0.45:
            return self._ticket_step()
        ticket = self.next_ticket
        self.next_ticket += 1
        contact = self.rng.choice(self.contacts)
        category = self.rng.choice(("Complaint", "Quote", "Inquiry", "Inquiry"))
        item = self.rng.choice(ITEMS)[0]
        subject = {"Complaint": f"{item} damaged on delivery", "Quote": f"Quote for {item}",
                   "Inquiry": f"Lead time of {item}?"}[category]
        due = self.rng.uniform(2, 10) / 60 if category == "Complaint" else None  # hours: minutes from now
        stage = COMPLAINT_STEPS[0] if category == "Complaint" else None
        row = ticket_row(ticket, contact, category, "New", stage, subject, self.rng.choice(AGENTS), 2, due)
        self._tx(self.hd, lambda db, ts: db.execute("INSERT INTO Tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                                    (*row[:9], ts, row[10], ts)))
        self.tickets.append(ticket)
        return Change("ticket", "helpdesk", "Tickets", str(ticket), f"new {category.lower()}: {subject}")

    def _ticket_step(self) -> Change:
        assert self.hd is not None
        ticket = self.rng.choice(self.tickets)
        category, status, stage = self.hd.execute(
            "SELECT Category, Status, Stage FROM Tickets WHERE TicketId = ?", (ticket,)).fetchone()
        flow = {"New": "Open", "Open": "WaitingOnCustomer", "WaitingOnCustomer": "Resolved", "Resolved": "Closed"}
        new_stage, due = stage, None
        if category == "Complaint" and stage in COMPLAINT_STEPS[:-1]:
            new_status = "Open"
            new_stage = COMPLAINT_STEPS[COMPLAINT_STEPS.index(stage) + 1]
            due = _due_soon(self.rng)
        else:
            new_status = flow.get(status, "Closed")
        if new_status in ("Resolved", "Closed"):
            self.tickets.remove(ticket)
        self._tx(self.hd, lambda db, ts: db.execute(
            "UPDATE Tickets SET Status = ?, Stage = ?, DueDate = COALESCE(?, DueDate), ModifiedDate = ? "
            "WHERE TicketId = ?", (new_status, new_stage, due, ts, ticket)))
        return Change("ticket", "helpdesk", "Tickets", str(ticket),
                      f"{status} -> {new_status}" + (f", step {new_stage}" if new_stage != stage else ""))


def _due_soon(rng: random.Random) -> str:
    """A complaint step's deadline: a few minutes from now (the demo wants to see it pass)."""
    return _ts(rng.uniform(120, 600))
