"""Initial-load benchmark: ``crmhub load`` of two legacy customer tables, end to end, through the real CLI.

Target: initial load of 10,000 records from two sources in under 20 s. Customers from
:func:`bench.identity_data.generate` (about 1.7 records each, trimmed to ``--records``) are flattened as legacy
systems hold them (first address, up to two phones, first e-mail) into an IBM i style ``CUSTMAST`` (ibmi.db:
upper-case CHAR columns, blanks for missing values, birth date YYYYMMDD with 0 for none, status codes) and an
Oracle style ``CUSTOMERS`` (oracle.db: own column names, nulls, ISO dates, national id, ``IBMI_CUSNO`` = the
xref to the IBM i customer). One mapping YAML per table maps them back onto the canonical customer (kind, names,
birth date, address, phones, e-mail, national/tax id, xrefs, account, credit, agent); national phone numbers get
the calling code of the row's country (an expression) before the ``phone`` transform. A hub config with two
``kind: sql`` connectors and an SQLite store is loaded in process (``crmhub load -c hub.yaml``); measured: wall
time around the invoke (connectors, mapping, rules, unify, store, outbox) and the load's own seconds. Rejected
records are counted by rule from the store's outbox (a few generated e-mail typos are not addresses at all).
Raw baseline in the same run: both tables read with ``sqlite3`` and inserted as JSON into a fresh table; ratio =
load records/s / raw records/s.

Usage: ``.venv/bin/python bench/bench_load.py [--records 10000] [--seed 11]``
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import typer.testing

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hub.cli
from bench.identity_data import Row, generate
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands)

TARGET_RECORDS, TARGET_SECONDS = 10_000, 20.0
IDD = "pattern: '^\\s*00', repl: '+'"  # 0049 30 ... -> +49 30 ...
IBMI_COLUMNS = ("CUSNO INTEGER PRIMARY KEY, ACTSTS CHAR(1), TITLE CHAR(10), GIVNAM CHAR(30), MIDNAM CHAR(30), "
                "FAMNAM CHAR(30), ORGNAM CHAR(50), BIRTHD NUMERIC(8,0), STREET CHAR(50), CITY CHAR(30), "
                "POSTCD CHAR(10), CNTRY CHAR(2), PHONE1 CHAR(20), PHONE2 CHAR(20), EMAIL CHAR(60), TAXID CHAR(20), "
                "CRSTAT CHAR(1), CRLIMIT DECIMAL(11,2), AGENT CHAR(10)")
ORACLE_COLUMNS = ("CUSTOMER_ID INTEGER PRIMARY KEY, PARTY_TYPE VARCHAR2(12), SALUTATION VARCHAR2(10), FIRST_NAME "
                  "VARCHAR2(60), MIDDLE_NAME VARCHAR2(60), LAST_NAME VARCHAR2(60), COMPANY_NAME VARCHAR2(100), "
                  "DATE_OF_BIRTH DATE, ADDRESS_LINE1 VARCHAR2(100), CITY VARCHAR2(60), POSTAL_CODE VARCHAR2(12), "
                  "COUNTRY_CODE VARCHAR2(2), PHONE VARCHAR2(30), MOBILE VARCHAR2(30), EMAIL VARCHAR2(100), NATIONAL_ID "
                  "VARCHAR2(30), VAT_NUMBER VARCHAR2(30), ACCOUNT_STATUS VARCHAR2(10), CREDIT_STATUS VARCHAR2(10), "
                  "CREDIT_LIMIT NUMBER(12,2), ACCOUNT_MANAGER VARCHAR2(20), IBMI_CUSNO NUMBER(7)")


def phone_field(kind: str, col: str, country: str) -> str:
    """A phones element: national numbers get ``+<calling code of the row's country>``, ``00`` becomes ``+``."""
    calling = " else ".join(f"'{code}' if {country} == '{c}'" for c, code in (("DE", 49), ("FR", 33), ("IT", 39),
                                                                               ("GB", 44))) + " else ''"
    expr = (f"None if is_null({col}) else {col} if startswith(trim({col}), '+') or startswith(trim({col}), '00') "
            f"else concat('+', {calling}, ' ', {col})")
    return f"{{type: {kind}, number: {{expr: \"{expr}\", transforms: [{{regex_replace: {{{IDD}}}}}, phone]}}}}"


RULES = """    rules:
      - {rule: check, name: named, expr: "not is_null(family_name) or not is_null(org_name)"}
      - {rule: allowed, field: credit_status, values: [OK, HOLD, FROZEN]}
      - {rule: range, field: credit_limit, min: 0}
"""
IBMI_MAPPING = f"""# IBM i customer master, blank-padded CHAR columns (blank = no value), BIRTHD YYYYMMDD (0 = none)
source: ibmi
table: CUSTMAST
key: [CUSNO]
targets:
  - entity: customer
    fields:
      kind: {{expr: "'person' if is_null(ORGNAM) else 'organisation'"}}
      title: {{from: TITLE, transforms: &text [trim, {{null_if: [""]}}]}}
      given_name: {{from: GIVNAM, transforms: &name [collapse_spaces, title, {{null_if: [""]}}]}}
      middle_name: {{from: MIDNAM, transforms: *name}}
      family_name: {{from: FAMNAM, transforms: *name}}
      org_name: {{from: ORGNAM, transforms: *text}}
      birth_date: {{from: BIRTHD, transforms: [yyyymmdd]}}
      addresses:
        - {{type: main, line1: {{from: STREET, transforms: *text}}, city: {{from: CITY, transforms: *text}},
           postal_code: {{from: POSTCD, transforms: *text}}, country: {{from: CNTRY, transforms: [country]}}}}
      phones:
        - {phone_field("main", "PHONE1", "CNTRY")}
        - {phone_field("other", "PHONE2", "CNTRY")}
      emails: [{{type: main, address: {{from: EMAIL, transforms: [email]}}}}]
      tax_id: {{from: TAXID, transforms: *text}}
      account_status: {{from: ACTSTS, transforms: [trim, {{code: {{A: ACTIVE, I: INACTIVE, C: CLOSED}}}}]}}
      credit_status: {{from: CRSTAT, transforms: [trim, {{code: {{A: OK, H: HOLD, F: FROZEN}}}}]}}
      credit_limit: {{from: CRLIMIT, transforms: [number]}}
      owning_agent: {{from: AGENT, transforms: [trim, lower, {{null_if: [""]}}]}}
{RULES}"""
ORACLE_MAPPING = f"""# Oracle AR customers: nullable columns, ISO dates, IBMI_CUSNO = IBM i customer number if known
source: oracle
table: CUSTOMERS
key: [CUSTOMER_ID]
targets:
  - entity: customer
    fields:
      kind: {{from: PARTY_TYPE, transforms: [{{code: {{PERSON: person, ORGANIZATION: organisation}}}}]}}
      title: {{from: SALUTATION, transforms: &text [trim, {{null_if: [""]}}]}}
      given_name: {{from: FIRST_NAME, transforms: *text}}
      middle_name: {{from: MIDDLE_NAME, transforms: *text}}
      family_name: {{from: LAST_NAME, transforms: *text}}
      org_name: {{from: COMPANY_NAME, transforms: *text}}
      birth_date: {{from: DATE_OF_BIRTH, transforms: [date]}}
      addresses:
        - {{type: main, line1: {{from: ADDRESS_LINE1, transforms: *text}}, city: {{from: CITY, transforms: *text}},
           postal_code: {{from: POSTAL_CODE, transforms: *text}},
           country: {{from: COUNTRY_CODE, transforms: [country]}}}}
      phones:
        - {phone_field("main", "PHONE", "COUNTRY_CODE")}
        - {phone_field("mobile", "MOBILE", "COUNTRY_CODE")}
      emails: [{{type: main, address: {{from: EMAIL, transforms: [email]}}}}]
      national_id: {{from: NATIONAL_ID, transforms: *text}}
      tax_id: {{from: VAT_NUMBER, transforms: *text}}
      account_status: {{from: ACCOUNT_STATUS, transforms: *text}}
      credit_status: {{from: CREDIT_STATUS, transforms: *text}}
      credit_limit: {{from: CREDIT_LIMIT, transforms: [number]}}
      owning_agent: {{from: ACCOUNT_MANAGER, transforms: *text}}
      xrefs: [{{source: ibmi, key: {{from: IBMI_CUSNO, transforms: [string]}}}}]
{RULES}"""


def records(n: int, seed: int) -> list[Row]:
    """Exactly ``n`` generated records (enough customers drawn, the shuffled list trimmed)."""
    entities, rows = n * 10 // 17 + 10, generate(n * 10 // 17 + 10, seed)
    while len(rows) < n:
        entities, rows = entities + entities // 10 + 10, generate(entities + entities // 10 + 10, seed)
    return rows[:n]


def flatten(rec: dict[str, Any]) -> dict[str, Any]:
    """The canonical customer as one flat row: first address, up to two phones (by type), first e-mail."""
    address = (rec.get("addresses") or [{}])[0]
    phones, emails = rec.get("phones") or [], rec.get("emails") or []
    by_type = {p["type"]: p["number"] for p in phones}
    return {**{k: rec.get(k) for k in ("kind", "title", "given_name", "middle_name", "family_name", "org_name",
                                        "birth_date", "national_id", "tax_id", "account_status", "credit_status",
                                        "credit_limit", "owning_agent")},
            "street": address.get("line1"), "city": address.get("city"), "postal": address.get("postal_code"),
            "country": address.get("country"), "phone1": phones[0]["number"] if phones else None,
            "phone2": phones[1]["number"] if len(phones) > 1 else None, "landline": by_type.get("main"),
            "mobile": by_type.get("mobile"), "email": emails[0]["address"] if emails else None,
            "xref": next((int(x["key"]) for x in rec.get("xrefs") or [] if x["source"] == "ibmi"), None)}


def ibmi_row(key: str, f: dict[str, Any]) -> tuple[Any, ...]:
    """CHAR columns are blank, never null; codes, postal codes, phones, ids and the agent in upper case."""
    text = {k: "" if v is None else str(v) for k, v in f.items()}
    up = {k: v.upper() for k, v in text.items()}
    dob = int(f["birth_date"].strftime("%Y%m%d")) if f["birth_date"] else 0
    credit = {"OK": "A", "HOLD": "H", "FROZEN": "F"}[f["credit_status"]]
    return (int(key), up["account_status"][:1], up["title"],
            *(text[k] for k in ("given_name", "middle_name", "family_name", "org_name")), dob, text["street"],
            text["city"], *(up[k] for k in ("postal", "country", "phone1", "phone2")), text["email"], up["tax_id"],
            credit, text["credit_limit"], up["owning_agent"])


def oracle_row(key: str, f: dict[str, Any]) -> tuple[Any, ...]:
    party = "ORGANIZATION" if f["kind"] == "organisation" else "PERSON"
    dob = f["birth_date"].isoformat() if f["birth_date"] else None
    return (int(key.removeprefix("C-")), party, f["title"], f["given_name"], f["middle_name"], f["family_name"],
            f["org_name"], dob, f["street"], f["city"], f["postal"], f["country"], f["landline"], f["mobile"],
            f["email"], f["national_id"], f["tax_id"], f["account_status"], f["credit_status"],
            str(f["credit_limit"]), f["owning_agent"], f["xref"])


def write_sources(rows: list[Row], folder: Path) -> Path:
    """ibmi.db, oracle.db, the two mappings and hub.yaml in ``folder``; returns the config's path."""
    for db, table, columns, make, source in (("ibmi.db", "CUSTMAST", IBMI_COLUMNS, ibmi_row, "ibmi"),
                                             ("oracle.db", "CUSTOMERS", ORACLE_COLUMNS, oracle_row, "oracle")):
        data = [make(key, flatten(rec)) for src, key, rec, _eid in rows if src == source]
        with sqlite3.connect(folder / db) as conn:
            conn.execute(f"CREATE TABLE {table} ({columns})")
            conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(data[0]))})", data)
        conn.close()
    (folder / "maps").mkdir()
    (folder / "maps" / "ibmi.CUSTMAST.yaml").write_text(IBMI_MAPPING)
    (folder / "maps" / "oracle.CUSTOMERS.yaml").write_text(ORACLE_MAPPING)
    text = "connectors:\n"
    for name, table, column in (("ibmi", "CUSTMAST", "CUSNO"), ("oracle", "CUSTOMERS", "CUSTOMER_ID")):
        text += (f"  - {{kind: sql, name: {name}, url: 'sqlite:///{folder / name}.db', state_dir: "
                 f"'{folder / name}-state', tables: [{{name: {table}, mode: incrementing, "
                 f"incrementing_column: {column}}}]}}\n")
    text += (f"pipelines:\n  mappings: ['{folder / 'maps'}']\n  store: {{url: 'sqlite:///{folder / 'store.db'}'}}\n"
             "  unify: {survivorship: {default: source_priority, source_priority: [ibmi, oracle]}}\n")
    (folder / "hub.yaml").write_text(text)
    return folder / "hub.yaml"


def raw_baseline(folder: Path) -> tuple[int, float]:
    """Both source tables read with sqlite3 and inserted as JSON into a fresh table: (rows, seconds)."""
    started = time.perf_counter()
    out = sqlite3.connect(folder / "raw.db")
    out.execute("CREATE TABLE r (source TEXT, key TEXT, data TEXT, PRIMARY KEY (source, key))")
    n = 0
    for db, table, source in (("ibmi.db", "CUSTMAST", "ibmi"), ("oracle.db", "CUSTOMERS", "oracle")):
        src = sqlite3.connect(folder / db)
        src.row_factory = sqlite3.Row
        rows = [dict(r) for r in src.execute(f"SELECT * FROM {table} ORDER BY 1")]
        src.close()
        with out:
            out.executemany("INSERT INTO r VALUES (?, ?, ?)",
                            [(source, str(next(iter(r.values()))), json.dumps(r)) for r in rows])
        n += len(rows)
    out.close()
    return n, time.perf_counter() - started


def rejects_by_rule(store: Path) -> Counter[str]:
    conn = sqlite3.connect(store)
    values = [json.loads(v) for (v,) in conn.execute("SELECT value FROM outbox WHERE topic LIKE 'dlq.%'")]
    conn.close()
    return Counter(f"{v.get('rule', 'dead row')} {v.get('field') or ''}".strip() for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=TARGET_RECORDS, help="source records in both tables")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rows = records(args.records, args.seed)
    per_source = Counter(r[0] for r in rows)
    with tempfile.TemporaryDirectory() as tmp:
        config = write_sources(rows, folder := Path(tmp))
        print(f"load: {len(rows):,} records ({per_source['ibmi']:,} ibmi CUSTMAST, {per_source['oracle']:,} "
              f"oracle CUSTOMERS; {len({r[3] for r in rows}):,} true customers) through `crmhub load`")
        runner = typer.testing.CliRunner()
        started = time.perf_counter()
        result = runner.invoke(hub.cli.app, ["load", "-c", str(config)])
        wall = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        line = next(x for x in result.output.splitlines() if x.startswith("│"))
        loaded, canonical, golden, merges, dlq, seconds = (c.strip() for c in line.strip("│").split("│")[:6])
        rejects = rejects_by_rule(folder / "store.db")
        raw_n, raw_seconds = raw_baseline(folder)
    rate, raw_rate = len(rows) / wall, raw_n / raw_seconds
    print(f"  records {loaded}  canonical {canonical}  golden records {golden}  merges {merges}  DLQ {dlq}")
    print("  rejected by rule: " + (", ".join(f"{rule} {n}" for rule, n in rejects.most_common()) or "none"))
    print(f"  wall {wall:.2f} s (the load's own {seconds} s): {rate:,.0f} records/s")
    print(f"  raw sqlite3 read + JSON insert of the same rows: {raw_rate:,.0f} records/s ({raw_seconds:.3f} s); "
          f"ratio {rate / raw_rate:.4f}")
    met = int(loaded) >= TARGET_RECORDS and wall < TARGET_SECONDS
    print(f"target: {TARGET_RECORDS:,} records in under {TARGET_SECONDS:.0f} s: {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
