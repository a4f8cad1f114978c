"""The demo's change generator: realistic business changes written to the legacy stand-ins at a steady rate.

Each change is what a user or a batch job of that system would do, written the way that system writes it (the
row and its change timestamp, with microseconds, in one short transaction):

=================  =================================================================================
``credit_freeze``   IBM i ``CUSTMAST.CRSTAT`` A → F / H, or Oracle AR ``CREDIT_HOLD`` N → Y
``credit_release``  the reverse (F / H → A, Y → N)
``credit_limit``    a new ``CRLIMIT`` (IBM i) or ``OVERALL_CREDIT_LIMIT`` (AR)
``inventory_move``  ``ITMBAL``: a goods receipt, a cycle-count correction, or a transfer between warehouses
``new_order``       order entry: 1-4 ``ORDLIN`` lines, their stock allocated in ``ITMBAL``, the ``ORDHDR``
``ship_order``      an open order shipped: lines and header status S, on hand and allocation reduced
``new_customer``    a new IBM i customer that then appears in AR (another spelling, VAT, phone; usually the
                    IBM i number as ``ORIG_SYSTEM_REFERENCE``) and in the helpdesk (a typo, the phone as the
                    caller gave it, a contact person; now and then only an extension: rejected to the DLQ)
``contact_change``  a helpdesk contact's person and e-mail, or an AR billing address / e-mail
``ticket``          a new helpdesk ticket (complaint with a step deadline a few minutes ahead, quote, inquiry)
                    or the next step of an open one
=================  =================================================================================

:class:`ChangeGenerator` makes one change per :meth:`~ChangeGenerator.step` (seeded: the same seed makes the
same changes on the same data); :func:`run` paces steps at a rate, in ticks, and counts what it made.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from decimal import Decimal

from hub.demo.changes import Change, CrmChanges, DemoSources
from hub.demo.sources import insert_order, price_of

KINDS = ("credit_freeze", "credit_release", "credit_limit", "inventory_move", "new_order", "ship_order",
         "new_customer", "contact_change", "ticket")
WEIGHTS: dict[str, float] = {"credit_freeze": 2, "credit_release": 2, "credit_limit": 6, "inventory_move": 32,
                             "new_order": 16, "ship_order": 10, "new_customer": 6, "contact_change": 10,
                             "ticket": 16}
MAX_OPEN_ORDERS = 60  # beyond it, new orders give way to shipments
__all__ = ["KINDS", "WEIGHTS", "Change", "ChangeGenerator", "DemoSources", "run"]


class ChangeGenerator(CrmChanges):
    """Makes realistic changes to the stand-ins; keys to change are drawn by a seeded RNG from what it knows."""

    def __init__(self, sources: DemoSources, *, seed: int | None = None,
                 weights: Mapping[str, float] | None = None) -> None:
        super().__init__(sources, random.Random(seed))
        self.weights = {k: float((weights or WEIGHTS).get(k, 0)) for k in KINDS}

    # --- choosing -----

    def possible(self, kind: str) -> bool:
        needs: dict[str, bool] = {
            "ship_order": bool(self.open_orders), "new_order": bool(self.customers and self.stock),
            "inventory_move": bool(self.stock), "new_customer": self.ar is not None and self.hd is not None,
            "contact_change": bool(self.contacts or self.accounts), "ticket": bool(self.contacts),
        }
        return needs.get(kind, bool(self.customers or self.accounts))

    def pick_kind(self) -> str:
        kinds = [k for k in KINDS if self.weights[k] > 0 and self.possible(k)]
        if len(self.open_orders) >= MAX_OPEN_ORDERS and "ship_order" in kinds:
            return "ship_order"
        return self.rng.choices(kinds, weights=[self.weights[k] for k in kinds])[0]

    def step(self) -> Change:
        """One change of a kind drawn by weight."""
        return self.make(self.pick_kind())

    def make(self, kind: str) -> Change:
        """One change of ``kind`` (see the module table), committed."""
        change = getattr(self, f"_{kind}")()
        self.made[change.kind] += 1
        return change  # type: ignore[no-any-return]

    # --- credit -----

    def _credit_freeze(self, release: bool = False) -> Change:
        """Freeze (or release) the credit of a customer whose credit is not frozen (or is): on the IBM i, or
        (4 times in 10, when AR is there) in Oracle AR. With no such customer, the opposite change."""
        kind = "credit_release" if release else "credit_freeze"
        in_ar = self.ar is not None and self.rng.random() < 0.4
        if in_ar and self.ar is not None:
            held = "'Y'" if release else "'N'"
            account = self._pick(self.ar, "AR_CUSTOMERS", "CUST_ACCOUNT_ID", f"CREDIT_HOLD = {held}", self.accounts)
            if account is not None:
                hold = "N" if release else "Y"
                self._tx(self.ar, lambda db, ts: db.execute(
                    "UPDATE AR_CUSTOMERS SET CREDIT_HOLD = ?, LAST_UPDATE_DATE = ? WHERE CUST_ACCOUNT_ID = ?",
                    (hold, ts, account)))
                return Change(kind, "ar", "AR_CUSTOMERS", str(account), f"CREDIT_HOLD -> {hold}")
        blocked = "IN ('F', 'H')" if release else "= 'A'"
        cusno = self._pick(self.ibmi, "CUSTMAST", "CUSNO", f"CRSTAT {blocked}", self.customers)
        if cusno is None:
            return self._credit_freeze(release=not release)
        status = "A" if release else self.rng.choice("FFH")
        self._tx(self.ibmi, lambda db, ts: db.execute("UPDATE CUSTMAST SET CRSTAT = ?, CHGTS = ? WHERE CUSNO = ?",
                                                      (status, ts, cusno)))
        return Change(kind, "ibmi", "CUSTMAST", str(cusno), f"CRSTAT -> {status}")

    def _credit_release(self) -> Change:
        return self._credit_freeze(release=True)

    def _credit_limit(self) -> Change:
        limit = self.rng.randrange(10, 120) * 500
        if self.ar is not None and self.accounts and self.rng.random() < 0.5:
            account = self.rng.choice(self.accounts)
            self._tx(self.ar, lambda db, ts: db.execute(
                "UPDATE AR_CUSTOMERS SET OVERALL_CREDIT_LIMIT = ?, LAST_UPDATE_DATE = ? WHERE CUST_ACCOUNT_ID = ?",
                (limit, ts, account)))
            return Change("credit_limit", "ar", "AR_CUSTOMERS", str(account), f"OVERALL_CREDIT_LIMIT -> {limit}")
        cusno = self.rng.choice(self.customers)
        self._tx(self.ibmi, lambda db, ts: db.execute("UPDATE CUSTMAST SET CRLIMIT = ?, CHGTS = ? WHERE CUSNO = ?",
                                                      (f"{limit}.00", ts, cusno)))
        return Change("credit_limit", "ibmi", "CUSTMAST", str(cusno), f"CRLIMIT -> {limit}.00")

    # --- stock and orders -----

    def _inventory_move(self) -> Change:
        item, wh = self.rng.choice(self.stock)
        others = [w for i, w in self.stock if i == item and w != wh]
        roll = self.rng.random()
        if others and roll < 0.3:
            to = self.rng.choice(others)
            qty = self.rng.randint(1, 10)

            def transfer(db: sqlite3.Connection, ts: str) -> int:
                row = db.execute("SELECT ONHAND - ALLOC FROM ITMBAL WHERE ITNBR = ? AND WHSID = ?",
                                 (item.ljust(15), wh)).fetchone()
                moved = max(0, min(qty, int(row[0])))
                for w, delta in ((wh, -moved), (to, moved)):
                    db.execute("UPDATE ITMBAL SET ONHAND = ONHAND + ?, CHGTS = ? WHERE ITNBR = ? AND WHSID = ?",
                               (delta, ts, item.ljust(15), w))
                return moved

            moved = self._tx(self.ibmi, transfer)
            return Change("inventory_move", "ibmi", "ITMBAL", f"{item}|{wh}", f"transfer {moved} to {to}")
        if roll < 0.7 and self.rng.random() < 0.5:  # receipts go where stock runs short, half of the time
            short = self.ibmi.execute("SELECT ITNBR, WHSID FROM ITMBAL ORDER BY ONHAND - ALLOC, ITNBR, WHSID "
                                      "LIMIT 5").fetchall()
            item, wh = (str(v).strip() for v in self.rng.choice(short))
        receipt = roll < 0.7
        qty = self._quantity(item) * self.rng.randint(2, 6) if receipt else self.rng.choice((-3, -2, -1, 1, 2))
        what = f"goods receipt +{qty}" if receipt else f"cycle count {qty:+d}"
        self._tx(self.ibmi, lambda db, ts: db.execute(
            "UPDATE ITMBAL SET ONHAND = MAX(ALLOC, ONHAND + ?), ONORD = MAX(0, ONORD - ?), CHGTS = ? "
            "WHERE ITNBR = ? AND WHSID = ?", (qty, max(qty, 0), ts, item.ljust(15), wh)))
        return Change("inventory_move", "ibmi", "ITMBAL", f"{item}|{wh}", what)

    def _new_order(self) -> Change:
        """Order entry: up to 4 lines of different items, each from a warehouse with stock available, in a
        quantity fitting the item's price and what is available (an order for nothing available is a quote)."""
        cusno = self.rng.choice(self.customers)
        picks = self.rng.sample(self.stock, k=min(len(self.stock), self.rng.randint(1, 4)))
        wanted = {item: (wh, self._quantity(item)) for item, wh in picks}  # one line per item
        ordno = self.next_order
        self.next_order += 1

        def enter(db: sqlite3.Connection, ts: str) -> tuple[int, Decimal]:
            lines = []
            for item, (wh, qty) in wanted.items():
                row = db.execute("SELECT ONHAND - ALLOC FROM ITMBAL WHERE ITNBR = ? AND WHSID = ?",
                                 (item.ljust(15), wh)).fetchone()
                available = int(row[0]) if row else 0
                if available > 0:
                    lines.append((item, wh, min(qty, available)))
            if not lines:  # nothing available: the customer gets a quote, nothing is allocated
                item, (wh, qty) = next(iter(wanted.items()))
                return 0, insert_order(db, ordno, cusno, [(item, wh, qty)], ts=ts, status="Q", allocate=False)
            return len(lines), insert_order(db, ordno, cusno, lines, ts=ts)

        count, total = self._tx(self.ibmi, enter)
        if count:
            self.open_orders.append(ordno)
            return Change("new_order", "ibmi", "ORDHDR", str(ordno),
                          f"customer {cusno}, {count} line(s), {total}")
        return Change("new_order", "ibmi", "ORDHDR", str(ordno), f"quote for customer {cusno}, {total}")

    def _quantity(self, item: str) -> int:
        price = price_of(item)
        choices = (1, 2, 3) if price > 400 else (1, 2, 4, 5, 10) if price > 100 else (5, 10, 20, 25, 50)
        return self.rng.choice(choices)

    def _ship_order(self) -> Change:
        ordno = self.open_orders.pop(self.rng.randrange(len(self.open_orders)))

        def ship(db: sqlite3.Connection, ts: str) -> None:
            for item, wh, qty in db.execute("SELECT ITNBR, WHSID, QTYORD FROM ORDLIN WHERE ORDNO = ?",
                                            (ordno,)).fetchall():
                db.execute("UPDATE ITMBAL SET ONHAND = MAX(0, ONHAND - ?), ALLOC = MAX(0, ALLOC - ?), CHGTS = ? "
                           "WHERE ITNBR = ? AND WHSID = ?", (qty, qty, ts, item, wh))
            db.execute("UPDATE ORDLIN SET QTYSHP = QTYORD, LINSTS = 'S', CHGTS = ? WHERE ORDNO = ?", (ts, ordno))
            db.execute("UPDATE ORDHDR SET ORDSTS = 'S', CHGTS = ? WHERE ORDNO = ?", (ts, ordno))

        self._tx(self.ibmi, ship)
        return Change("ship_order", "ibmi", "ORDHDR", str(ordno), "shipped")


def run(generator: ChangeGenerator, rate: float, stop: threading.Event, *, seconds: float | None = None,
        tick_s: float = 0.02, on_change: Callable[[Change], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None) -> Counter[str]:
    """Make ``rate`` changes a second until ``stop`` is set (or ``seconds`` passed): each tick makes the changes
    that are due by then, so the count stays on schedule when single changes take longer. A failed change is
    reported to ``on_error`` (the loop goes on) or raised. Returns the count per kind."""
    made: Counter[str] = Counter()
    if rate <= 0:
        return made
    start = time.monotonic()
    done = 0
    while not stop.is_set():
        now = time.monotonic()
        if seconds is not None and now - start >= seconds:
            break
        due = int((now - start) * rate) + 1
        while done < due and not stop.is_set():
            done += 1
            try:
                change = generator.step()
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(exc)
                continue
            made[change.kind] += 1
            if on_change is not None:
                on_change(change)
        wait = start + done / rate - time.monotonic()
        stop.wait(max(tick_s, wait) if wait > 0 else 0)
    return made


def main(argv: list[str] | None = None) -> int:
    """The generator as a process of its own (``crmhub demo --processes``): ``python -m hub.demo.generator
    --legacy DB [--ar DB] [--helpdesk DB] --rate R [--seed S]`` until SIGTERM / SIGINT; what it made is counted
    in ``crmhub_demo_changes_total`` (with ``PROMETHEUS_MULTIPROC_DIR`` set, the demo reads it from there)."""
    import argparse
    import signal
    import sys
    from pathlib import Path

    from hub.metrics import DEMO_CHANGE_ERRORS, DEMO_CHANGES

    parser = argparse.ArgumentParser(prog="python -m hub.demo.generator", description=main.__doc__)
    parser.add_argument("--legacy", type=Path, required=True)
    parser.add_argument("--ar", type=Path)
    parser.add_argument("--helpdesk", type=Path)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    def failed(exc: BaseException) -> None:
        DEMO_CHANGE_ERRORS.inc()
        print(f"generator: a change failed ({type(exc).__name__}: {exc}); going on", file=sys.stderr, flush=True)

    generator = ChangeGenerator(DemoSources(args.legacy, args.ar, args.helpdesk), seed=args.seed)
    try:
        run(generator, args.rate, stop, on_change=lambda c: DEMO_CHANGES.labels(c.kind).inc(), on_error=failed)
    finally:
        generator.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
