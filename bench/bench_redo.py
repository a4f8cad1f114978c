"""SQL_REDO statements parsed per second on one core, next to a raw baseline measured in the same run.

Statements are mixed insert/update/delete (40/40/20) of a 20-column table, written as LogMiner writes them
(NUMBER as quoted text, TO_DATE/TO_TIMESTAMP, a doubled quote, NULL/IS NULL, ROWID in the where clause).
The baseline is ``str.split(", ")`` plus ``str.split(" and ")`` of the same statements (no values decoded):
the ratio says how far the full scanner is from merely cutting the text up. A second line parses the same
statements in the shapes LogMiner also writes: updates and deletes with a table alias (``a."COL_01"``) and the
customer names split by ``||`` (``'Customer ' || '123 O''Neil'``). A third parses them with every
``TO_TIMESTAMP`` in Oracle's default NLS_TIMESTAMP_FORMAT (``'22-SEP-20 12.09.37.123456 AM'``), the format-model
path taken when the session's ISO formats are not in effect.

    .venv/bin/python bench/bench_redo.py [--statements 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from connectors.oracle_logminer.redo import parse_redo

COLUMNS = [f"COL_{i:02d}" for i in range(20)]


def _lit(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        if value.microsecond:
            return f"TO_TIMESTAMP('{value:%Y-%m-%d %H:%M:%S.%f}')"
        return f"TO_DATE('{value:%Y-%m-%d %H:%M:%S}', 'YYYY-MM-DD HH24:MI:SS')"
    if isinstance(value, int | float):
        return f"'{value}'"
    return "'" + str(value).replace("'", "''") + "'"


def _row(rnd: random.Random, ident: int) -> dict[str, Any]:
    base = datetime(2024, 1, 1)
    row: dict[str, Any] = {"COL_00": ident}
    for i, name in enumerate(COLUMNS[1:], start=1):
        kind = i % 5
        if rnd.random() < 0.1:
            row[name] = None
        elif kind == 0:
            row[name] = round(rnd.uniform(-1e6, 1e6), 2)
        elif kind == 1:
            row[name] = f"Customer {rnd.randint(1, 10**6)} O'Neil"
        elif kind == 2:
            row[name] = base + timedelta(seconds=rnd.randint(0, 10**8))
        elif kind == 3:
            row[name] = base + timedelta(microseconds=rnd.randint(1, 10**14))
        else:
            row[name] = rnd.randint(0, 10**9)
    return row


def statements(count: int, seed: int = 1) -> list[str]:
    rnd = random.Random(seed)
    out: list[str] = []
    table = '"CRM"."CUSTOMERS"'
    for n in range(count):
        row = _row(rnd, n)
        pick = rnd.random()
        where = " and ".join(f'"{c}" IS NULL' if v is None else f'"{c}" = {_lit(v)}' for c, v in row.items())
        if pick < 0.4:
            cols = ",".join(f'"{c}"' for c in row)
            out.append(f"insert into {table}({cols}) values ({','.join(_lit(v) for v in row.values())});")
        elif pick < 0.8:
            new = _row(rnd, n)
            sets = ", ".join(f'"{c}" = {_lit(new[c])}' for c in rnd.sample(COLUMNS[1:], 3))
            out.append(f"update {table} set {sets} where {where} and ROWID = 'AAAR3sAAEAAAACXAAA';")
        else:
            out.append(f"delete from {table} where {where} and ROWID = 'AAAR3sAAEAAAACXAAA';")
    return out


def aliased(stmts: list[str]) -> list[str]:
    """``stmts`` with a table alias in updates and deletes and ``||`` inside the customer names."""
    out = []
    for s in stmts:
        if not s.startswith("insert"):
            s = s.replace('"CRM"."CUSTOMERS" ', '"CRM"."CUSTOMERS" a ').replace(' "COL_', ' a."COL_')
        out.append(s.replace("'Customer ", "'Customer ' || '"))
    return out


_TIMESTAMP = re.compile(r"TO_TIMESTAMP\('([^']*)'\)")


def _nls_default(match: re.Match[str]) -> str:
    when = datetime.fromisoformat(match.group(1))
    return "TO_TIMESTAMP('" + f"{when:%d-%b-%y %I.%M.%S.%f %p}".upper() + "')"


def nls_default(stmts: list[str]) -> list[str]:
    """``stmts`` with their timestamps in Oracle's default ``DD-MON-RR HH.MI.SSXFF AM``."""
    return [_TIMESTAMP.sub(_nls_default, s) for s in stmts]


def _raw(sql: str) -> int:
    return len(sql.split(", ")) + len(sql.split(" and "))


def _rate(func: Callable[[str], Any], stmts: list[str], rounds: int) -> tuple[float, float]:
    """Best statements/s over ``rounds``: by wall clock, and by this process's CPU time (less sensitive to
    other processes sharing the core)."""
    wall = cpu = 0.0
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for s in stmts:
            func(s)
        wall = max(wall, len(stmts) / (time.perf_counter() - start))
        cpu = max(cpu, len(stmts) / max(time.process_time() - start_cpu, 1e-9))
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    stmts = statements(args.statements)
    size = sum(map(len, stmts)) / len(stmts)
    crmhub, crmhub_cpu = _rate(parse_redo, stmts, args.rounds)
    shaped, shaped_cpu = _rate(parse_redo, aliased(stmts), args.rounds)
    nls, nls_cpu = _rate(parse_redo, nls_default(stmts), args.rounds)
    raw, raw_cpu = _rate(_raw, stmts, args.rounds)
    print(f"{len(stmts)} statements, {size:.0f} chars on average, best of {args.rounds} rounds, one core")
    print(f"{'':18} {'wall':>14} {'CPU time':>14}   statements/s")
    print(f"crmhub parse_redo  {crmhub:14,.0f} {crmhub_cpu:14,.0f}   (target >= 30,000)")
    print(f"  aliases and ||   {shaped:14,.0f} {shaped_cpu:14,.0f}")
    print(f"  default NLS ts   {nls:14,.0f} {nls_cpu:14,.0f}")
    print(f"raw str.split      {raw:14,.0f} {raw_cpu:14,.0f}")
    print(f"ratio crmhub/raw   {crmhub / raw:14.3f} {crmhub_cpu / raw_cpu:14.3f}")

if __name__ == "__main__":
    main()
