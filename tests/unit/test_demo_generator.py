"""The demo's change generator on freshly seeded stand-ins: each kind of change writes what it claims (with a
sub-second change timestamp), typos are real variants of the names, and the pacing makes the asked count."""

from __future__ import annotations

import random
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from hub.demo import names as names
from hub.demo import sources as demo_sources
from hub.demo import stands as demo_stands
from hub.demo.generator import KINDS, Change, ChangeGenerator, DemoSources, run
from pipelines.identity.compare import org_level
from pipelines.identity.features import org_name

MICROS = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")


@pytest.fixture()
def sources(tmp_path: Path) -> DemoSources:
    src = DemoSources(tmp_path / "legacy.db", tmp_path / "ar.db", tmp_path / "helpdesk.db")
    assert src.ar is not None and src.helpdesk is not None
    demo_sources.seed_legacy_db(src.legacy)
    demo_stands.seed_ar_db(src.ar)
    demo_stands.seed_helpdesk_db(src.helpdesk)
    return src


@pytest.fixture()
def gen(sources: DemoSources) -> Iterator[ChangeGenerator]:
    g = ChangeGenerator(sources, seed=7)
    yield g
    g.close()


def q(path: Path | None, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    assert path is not None
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def one(path: Path | None, sql: str, *args: Any) -> tuple[Any, ...]:
    rows = q(path, sql, *args)
    assert len(rows) == 1, rows
    return rows[0]


def fresh(ts: str, since: float) -> bool:
    """A change timestamp written now, with microseconds (what the SQL connector's timestamp mode needs)."""
    assert MICROS.match(ts), ts
    return ts >= time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(since - 1))


def test_credit_freeze_and_release_on_ibmi_and_in_ar(sources: DemoSources, gen: ChangeGenerator) -> None:
    seen: set[tuple[str, str]] = set()
    for _ in range(12):
        started = time.time()
        kind = "credit_freeze" if len(seen) % 2 == 0 else "credit_release"
        c = gen.make(kind)
        seen.add((c.kind, c.system))
        if c.system == "ibmi":
            status, ts = one(sources.legacy, "SELECT CRSTAT, CHGTS FROM CUSTMAST WHERE CUSNO = ?", int(c.key))
            assert status in (("F", "H") if c.kind == "credit_freeze" else ("A",)), c
        else:
            assert c.system == "ar" and c.table == "AR_CUSTOMERS"
            status, ts = one(sources.ar, "SELECT CREDIT_HOLD, LAST_UPDATE_DATE FROM AR_CUSTOMERS "
                                         "WHERE CUST_ACCOUNT_ID = ?", int(c.key))
            assert status == ("Y" if c.kind == "credit_freeze" else "N"), c
        assert fresh(ts, started)
    assert {s for _, s in seen} == {"ibmi", "ar"}


def test_inventory_moves_change_item_balances_and_keep_allocations_covered(
        sources: DemoSources, gen: ChangeGenerator) -> None:
    before = dict(((r[0], r[1]), r[2]) for r in q(sources.legacy, "SELECT ITNBR, WHSID, ONHAND FROM ITMBAL"))
    whats = set()
    for _ in range(30):
        started = time.time()
        c = gen.make("inventory_move")
        item, wh = c.key.split("|")
        ts, = one(sources.legacy, "SELECT CHGTS FROM ITMBAL WHERE TRIM(ITNBR) = ? AND WHSID = ?", item, wh)
        assert fresh(ts, started)
        whats.add(c.what.split()[0])
    after = dict(((r[0], r[1]), r[2]) for r in q(sources.legacy, "SELECT ITNBR, WHSID, ONHAND FROM ITMBAL"))
    assert after != before
    assert whats == {"goods", "cycle", "transfer"}
    assert q(sources.legacy, "SELECT * FROM ITMBAL WHERE ONHAND < ALLOC OR ONHAND < 0") == []


def test_new_order_writes_lines_allocations_and_header_and_the_view_shows_them(
        sources: DemoSources, gen: ChangeGenerator) -> None:
    alloc_before = {(r[0].strip(), r[1]): r[2] for r in q(sources.legacy, "SELECT ITNBR, WHSID, ALLOC FROM ITMBAL")}
    c = gen.make("new_order")
    ordno = int(c.key)
    status, amount, hts = one(sources.legacy, "SELECT ORDSTS, ORDAMT, CHGTS FROM ORDHDR WHERE ORDNO = ?", ordno)
    lines = q(sources.legacy, "SELECT LINNO, TRIM(ITNBR), WHSID, QTYORD, LINAMT, CHGTS FROM ORDLIN WHERE ORDNO = ? "
                              "ORDER BY LINNO", ordno)
    assert 1 <= len(lines) <= 4 and [n for n, *_ in lines] == list(range(1, len(lines) + 1))
    assert status == "O" and round(sum(line[4] for line in lines), 2) == round(amount, 2)
    assert {line[5] for line in lines} == {hts}  # the header is stamped with its lines
    for _, item, wh, qty, _, _ in lines:
        alloc = one(sources.legacy, "SELECT ALLOC FROM ITMBAL WHERE TRIM(ITNBR) = ? AND WHSID = ?", item, wh)[0]
        assert alloc == alloc_before[(item, wh)] + qty
    view = one(sources.legacy, "SELECT L1ITNBR, L1QTY, CHGTS FROM ORDHDRV WHERE ORDNO = ?", ordno)
    assert (view[0].strip(), view[1], view[2]) == (lines[0][1], lines[0][3], hts)
    shipped = gen.make("ship_order")
    sts, = one(sources.legacy, "SELECT ORDSTS FROM ORDHDR WHERE ORDNO = ?", int(shipped.key))
    assert sts == "S"
    assert {r[0] for r in q(sources.legacy, "SELECT LINSTS FROM ORDLIN WHERE ORDNO = ?", int(shipped.key))} == {"S"}


def test_new_customer_appears_on_ibmi_in_ar_and_in_the_helpdesk_with_a_typo(
        sources: DemoSources, gen: ChangeGenerator) -> None:
    for _ in range(8):
        c = gen.make("new_customer")
        name, country = one(sources.legacy, "SELECT CUSNAM, CNTRY FROM CUSTMAST WHERE CUSNO = ?", int(c.key))
        assert len(name) == 30 and name == name.upper()  # CHAR(30) padded, as the IBM i holds it
        account = one(sources.ar, "SELECT PARTY_NAME, ORIG_SYSTEM_REFERENCE, TAX_REFERENCE, COUNTRY, "
                                  "PRIMARY_PHONE_NUMBER FROM AR_CUSTOMERS ORDER BY CUST_ACCOUNT_ID DESC LIMIT 1")
        contact = one(sources.helpdesk, "SELECT CompanyName, Phone, Email FROM Contacts "
                                        "ORDER BY ContactId DESC LIMIT 1")
        assert account[1] in (None, f"IBMI:{c.key}")
        assert account[2].startswith(country) and account[3] == country
        assert org_level(org_name(name), org_name(account[0])) in ("exact", "fuzzy")
        assert contact[0] != name.strip() and fuzz.ratio(org_name(contact[0]), org_name(name)) >= 80
        if not contact[1].startswith("ext. "):  # now and then the agent typed only the extension
            assert contact[1].replace(" ", "").replace("(", "").replace(")", "").endswith(account[4])
        assert repr(contact[0]) in c.what


def test_contact_changes_and_tickets(sources: DemoSources, gen: ChangeGenerator) -> None:
    systems = set()
    for _ in range(10):
        started = time.time()
        c = gen.make("contact_change")
        systems.add(c.system)
        if c.system == "helpdesk":
            first, email, ts = one(sources.helpdesk, "SELECT FirstName, Email, ModifiedDate FROM Contacts "
                                                     "WHERE ContactId = ?", int(c.key))
            assert first in c.what and "@" in email
        else:
            street, ts = one(sources.ar, "SELECT ADDRESS1, LAST_UPDATE_DATE FROM AR_CUSTOMERS "
                                         "WHERE CUST_ACCOUNT_ID = ?", int(c.key))
            assert street in c.what
        assert fresh(ts, started)
    assert systems == {"helpdesk", "ar"}
    steps = 0
    for _ in range(15):
        c = gen.make("ticket")
        cat, status, due = one(sources.helpdesk, "SELECT Category, Status, DueDate FROM Tickets WHERE TicketId = ?",
                               int(c.key))
        if c.what.startswith("new "):
            assert status == "New" and (due is not None) == (cat == "Complaint")
        else:  # the next step of an open ticket
            steps += 1
            assert c.what.split(" -> ")[1].split(",")[0] == status
    assert 0 < steps < 15


def test_every_kind_is_drawn_and_the_same_seed_makes_the_same_changes(tmp_path: Path) -> None:
    runs: list[list[Change]] = []
    for n in (1, 2):
        folder = tmp_path / str(n)
        src = DemoSources(folder / "legacy.db", folder / "ar.db", folder / "helpdesk.db")
        demo_sources.seed_legacy_db(src.legacy)
        demo_stands.seed_ar_db(folder / "ar.db")
        demo_stands.seed_helpdesk_db(folder / "helpdesk.db")
        g = ChangeGenerator(src, seed=11)
        try:
            runs.append([g.step() for _ in range(300)])
        finally:
            g.close()
    assert runs[0] == runs[1]
    assert {c.kind for c in runs[0]} == set(KINDS)


def test_a_credit_change_finds_the_one_customer_in_the_other_state_wherever_it_is(
        sources: DemoSources, gen: ChangeGenerator) -> None:
    lowest = min(gen.customers)
    db = sqlite3.connect(sources.legacy)
    with db:
        db.execute("UPDATE CUSTMAST SET CRSTAT = 'F'")
        db.execute("UPDATE CUSTMAST SET CRSTAT = 'A' WHERE CUSNO = ?", (lowest,))
    db.close()
    # from any random start the seek finds it: at or after the start, else wrapping around to the lowest key
    picks = {gen._pick(gen.ibmi, "CUSTMAST", "CUSNO", "CRSTAT = 'A'", gen.customers) for _ in range(20)}
    assert picks == {lowest}
    assert gen._pick(gen.ibmi, "CUSTMAST", "CUSNO", "CRSTAT = 'X'", gen.customers) is None


def test_thousands_of_new_companies_do_not_share_a_name() -> None:
    rng = random.Random(5)
    taken: set[str] = set()
    for _ in range(3000):  # 50 s of new customers at 1,000 changes/s
        taken.add(names.ibmi_name(names.company(rng, taken).name))
    assert len(taken) == 3000


def test_typos_are_real_variants_of_the_name() -> None:
    rng = random.Random(3)
    linked = 0
    for _ in range(500):
        name = names.company(rng).name
        typed = names.typo(name, rng)
        assert typed != name
        a, b = names.fold_accents(name).casefold(), names.fold_accents(typed).casefold()
        stem_a, stem_b = org_name(name), org_name(typed)
        # one slip: a letter doubled, dropped or swapped, an accent lost, or the legal form written another way
        assert min(OSA.distance(name, typed), OSA.distance(a, b)) <= 1 or stem_a == stem_b, (name, typed)
        linked += org_level(stem_a, stem_b) in ("exact", "fuzzy")
    assert linked >= 490  # what the matcher still reads as the same name (a swap in a short word may not be)
    assert names.typo("Mueller GmbH", random.Random(1)) != "Mueller GmbH"


def test_rate_control_makes_about_the_asked_count(gen: ChangeGenerator) -> None:
    stop = threading.Event()
    started = time.monotonic()
    made = run(gen, 60.0, stop, seconds=1.5)
    elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 2.5
    assert 80 <= sum(made.values()) <= 95  # 90 asked
    stop.set()
    assert run(gen, 60.0, stop, seconds=5.0) == {}  # a set stop event ends it at once
    assert run(gen, 0.0, threading.Event()) == {}


def test_failed_changes_are_reported_and_the_loop_goes_on(gen: ChangeGenerator) -> None:
    errors: list[BaseException] = []
    calls = {"n": 0}
    real = gen.step

    def flaky() -> Change:
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise sqlite3.OperationalError("database is locked")
        return real()

    gen.step = flaky  # type: ignore[method-assign]
    made = run(gen, 100.0, threading.Event(), seconds=0.3, on_error=errors.append)
    assert errors and all(isinstance(e, sqlite3.OperationalError) for e in errors)
    assert sum(made.values()) + len(errors) == calls["n"]
