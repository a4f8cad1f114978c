"""Exporting golden records: CSV (one row per member source record) and JSON Lines (one record per line)."""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from sqlalchemy import Connection

from pipelines.store import views

CSV_COLUMNS = ["golden_id", "source", "source_key", "table", "version", "kind", "title", "given_name",
               "middle_name", "family_name", "org_name", "birth_date", "email", "phone", "line1", "postal_code",
               "city", "country", "national_id", "tax_id", "account_status", "credit_status", "credit_limit",
               "owning_agent"]


def _first(items: Any, key: str) -> Any:
    return items[0].get(key) if items else None


def csv_rows(row: views.GoldenRow) -> list[dict[str, Any]]:
    data = row.data or {}
    flat = {k: data.get(k) for k in CSV_COLUMNS if k in data and not isinstance(data.get(k), list)}
    flat.update(email=_first(data.get("emails"), "address"), phone=_first(data.get("phones"), "number"),
                line1=_first(data.get("addresses"), "line1"), postal_code=_first(data.get("addresses"), "postal_code"),
                city=_first(data.get("addresses"), "city"), country=_first(data.get("addresses"), "country"))
    return [{"golden_id": row.golden_id, "source": m["source"], "source_key": m["source_key"], "table": m["table"],
             "version": row.version, **flat} for m in row.members]


def export_csv(conn: Connection, out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in views.iter_golden(conn):
        writer.writerows(csv_rows(row))
        count += 1
    return count


def export_jsonl(conn: Connection, out: TextIO) -> int:
    count = 0
    for row in views.iter_golden(conn):
        out.write(json.dumps({"golden_id": row.golden_id, "version": row.version, "customer": row.data,
                              "lineage": row.lineage, "members": row.members}, sort_keys=True, default=str))
        out.write("\n")
        count += 1
    return count
