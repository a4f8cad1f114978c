"""Golden records, credit, orders, inventory and the outbox: reads and writes over one transaction."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, func, select, update

from pipelines.store.raw import forget, in_params, jdump, jload, memo, raw, ref_chunks
from pipelines.store.tables import golden, inventory, orders


@dataclass(slots=True)
class GoldenRow:
    golden_id: str
    seq: int
    status: str
    merged_into: str | None
    data: dict[str, Any] | None
    lineage: dict[str, Any]
    members: list[dict[str, Any]]
    version: int
    created_ms: int
    updated_ms: int


_GOLDEN = ("SELECT golden_id, seq, status, merged_into, data, lineage, members, version, created_ms, updated_ms "
           "FROM golden ")


def _golden(r: Any) -> GoldenRow:
    return GoldenRow(r[0], r[1], r[2], r[3], jload(r[4]), jload(r[5]) or {}, jload(r[6]) or [], r[7], r[8], r[9])


def get_golden(conn: Connection, golden_ids: Collection[str]) -> dict[str, GoldenRow]:
    if not golden_ids:
        return {}
    marks, params = in_params("g", list(golden_ids))
    return {r[0]: _golden(r) for r in raw(conn).rows(_GOLDEN + f"WHERE golden_id IN ({marks})", params)}


def resolve_golden_id(conn: Connection, golden_id: str) -> GoldenRow | None:
    """The golden record, following ``merged_into`` to the survivor."""
    seen: set[str] = set()
    current = golden_id
    while current not in seen:
        seen.add(current)
        row = get_golden(conn, [current]).get(current)
        if row is None or row.merged_into is None:
            return row
        current = row.merged_into
    return None


def new_golden_id(conn: Connection) -> tuple[str, int]:
    db = raw(conn)
    row = db.one("SELECT value FROM counter WHERE name = 'golden'")
    if row is None:
        db.run("INSERT INTO counter (name, value) VALUES ('golden', 1)")
        seq = 1
    else:
        seq = int(row[0]) + 1
        db.run("UPDATE counter SET value = :v WHERE name = 'golden'", {"v": seq})
    return f"G{seq:09d}", seq


_GOLDEN_INSERT = ("INSERT INTO golden (golden_id, seq, status, merged_into, data, lineage, members, version, "
                  "created_ms, updated_ms) VALUES (:g, :seq, :st, :m, :d, :l, :mem, :v, :c, :u)")
_GOLDEN_UPDATE = ("UPDATE golden SET seq = :seq, status = :st, merged_into = :m, data = :d, lineage = :l, "
                  "members = :mem, version = :v, created_ms = :c, updated_ms = :u WHERE golden_id = :g")


def save_golden(conn: Connection, row: GoldenRow, *, is_new: bool) -> None:
    save_goldens(conn, [(row, is_new)])


def save_goldens(conn: Connection, rows: Iterable[tuple[GoldenRow, bool]]) -> None:
    """Insert (``is_new``) or update each golden record: one statement for the new, one for the others."""
    new: list[dict[str, Any]] = []
    old: list[dict[str, Any]] = []
    for row, is_new in rows:
        (new if is_new else old).append(
            {"g": row.golden_id, "seq": row.seq, "st": row.status, "m": row.merged_into, "d": jdump(row.data),
             "l": jdump(row.lineage), "mem": jdump(row.members), "v": row.version, "c": row.created_ms,
             "u": row.updated_ms})
    raw(conn).many(_GOLDEN_INSERT, new)
    raw(conn).many(_GOLDEN_UPDATE, old)


def count_golden(conn: Connection, status: str = "active") -> int:
    return int(conn.execute(select(func.count()).select_from(golden).where(golden.c.status == status)).scalar() or 0)


def iter_golden(conn: Connection, status: str = "active", batch: int = 1000) -> Iterable[GoldenRow]:
    last = ""
    while True:
        q = (select(golden).where(golden.c.status == status, golden.c.golden_id > last)
             .order_by(golden.c.golden_id).limit(batch))
        rows = [GoldenRow(**r._mapping) for r in conn.execute(q)]
        if not rows:
            return
        yield from rows
        last = rows[-1].golden_id


# --- credit, orders, inventory --------------------------------------------------------------------------------------

def credit_for(conn: Connection, refs: Collection[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    db = raw(conn)
    if not memo(conn, "credit", lambda: db.one("SELECT source FROM credit LIMIT 1") is not None):
        return out
    for source, keys in ref_chunks(refs):
        marks, params = in_params("k", keys)
        q = ("SELECT customer_key, table_name, data, version, source_ts_ms FROM credit "
             f"WHERE source = :s AND customer_key IN ({marks})")
        for key, table, data, version, ts in db.rows(q, {**params, "s": source}):
            out[(source, key)] = {"source": source, "customer_key": key, "table_name": table, "data": jload(data),
                                  "version": version, "source_ts_ms": ts}
    return out


def credit_versions(conn: Connection, refs: Collection[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """The stored credit version of each ref that has one (one query per source and 500 refs)."""
    out: dict[tuple[str, str], str | None] = {}
    db = raw(conn)
    for source, keys in ref_chunks(refs):
        marks, params = in_params("k", keys)
        q = f"SELECT customer_key, version FROM credit WHERE source = :s AND customer_key IN ({marks})"
        out.update(((source, key), version) for key, version in db.rows(q, {**params, "s": source}))
    return out


def save_credit(conn: Connection, source: str, key: str, table: str, data: Mapping[str, Any] | None,
                version: str, source_ts_ms: int, *, stored: str | None) -> bool:
    """Store (or with ``data`` None, remove) one customer's credit; False if the stored version is newer.
    ``stored``: the stored version as :func:`credit_versions` read it (None: no row)."""
    db = raw(conn)
    where = {"s": source, "k": key}
    if stored is not None and stored >= version:
        return False
    forget(conn, "credit")
    if stored is not None and data is not None:
        db.run("UPDATE credit SET table_name = :t, data = :d, version = :v, source_ts_ms = :ts "
               "WHERE source = :s AND customer_key = :k", {**where, "t": table, "d": jdump(dict(data)), "v": version,
                                                           "ts": source_ts_ms})
        return True
    if stored is not None:
        db.run("DELETE FROM credit WHERE source = :s AND customer_key = :k", where)
    if data is not None:
        db.run("INSERT INTO credit (source, customer_key, table_name, data, version, source_ts_ms) "
               "VALUES (:s, :k, :t, :d, :v, :ts)", {**where, "t": table, "d": jdump(dict(data)), "v": version,
                                                   "ts": source_ts_ms})
    return True


def _versioned_upsert(conn: Connection, table: Any, where: Mapping[str, Any], version: str,
                      values: Mapping[str, Any]) -> bool:
    """Insert or update the row of ``table`` at ``where`` unless its stored version is newer (plain SQL on the
    hot path; column names come from this module, values are parameters, JSON columns go as text)."""
    db = raw(conn)
    cond = " AND ".join(f"{c} = :w_{c}" for c in where)
    params = {f"w_{c}": v for c, v in where.items()}
    row = db.one(f"SELECT version FROM {table.name} WHERE {cond}", params)
    if row is not None and row[0] >= version:
        return False
    cols = {**values, "version": version}
    params.update({f"v_{c}": jdump(v) if isinstance(v, dict) else v for c, v in cols.items()})
    if row is None:
        names = [*where, *cols]
        marks = [f":w_{c}" for c in where] + [f":v_{c}" for c in cols]
        db.run(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(marks)})", params)
    else:
        sets = ", ".join(f"{c} = :v_{c}" for c in cols)
        db.run(f"UPDATE {table.name} SET {sets} WHERE {cond}", params)
    return True


def save_order(conn: Connection, source: str, key: str, data: Mapping[str, Any] | None, version: str,
               open_statuses: Collection[str], previous: Mapping[str, Any] | None = None) -> bool:
    body = data if data is not None else previous
    if body is None:
        body = {"order_number": key, "customer_key": "", "status": "DELETED"}
    values = {"order_number": str(body["order_number"]),
              "customer_source": body.get("customer_source") or source,
              "customer_key": str(body.get("customer_key") or ""), "status": str(body.get("status")),
              "is_open": data is not None and str(body.get("status")) in open_statuses,
              "data": dict(body), "deleted": data is None}
    return _versioned_upsert(conn, orders, {"source": source, "source_key": key}, version, values)


def customer_rows(conn: Connection, table: Table, refs: Collection[tuple[str, str]],
                  only_open: bool) -> list[dict[str, Any]]:
    """The live rows of ``table`` (orders, cases: keyed by ``customer_source``/``customer_key``, with ``is_open``)
    that belong to the customer records ``refs``."""
    out: list[dict[str, Any]] = []
    for source, key in refs:
        q = select(table).where(table.c.customer_source == source, table.c.customer_key == key,
                                table.c.deleted.is_(False))
        if only_open:
            q = q.where(table.c.is_open.is_(True))
        out.extend(dict(r._mapping) for r in conn.execute(q))
    return out


def orders_for(conn: Connection, refs: Collection[tuple[str, str]], only_open: bool = True) -> list[dict[str, Any]]:
    return customer_rows(conn, orders, refs, only_open)


def save_inventory(conn: Connection, source: str, key: str, data: Mapping[str, Any] | None, version: str) -> bool:
    if data is None:
        row = conn.execute(select(inventory.c.item, inventory.c.warehouse, inventory.c.version).where(
            inventory.c.source == source, inventory.c.source_key == key)).first()
        if row is None or row.version >= version:
            return False
        conn.execute(update(inventory).where(inventory.c.item == row.item, inventory.c.warehouse == row.warehouse)
                     .values(deleted=True, version=version))
        return True
    where = {"item": str(data["item"]), "warehouse": str(data["warehouse"])}
    values = {"source": source, "source_key": key, "data": dict(data), "deleted": False}
    return _versioned_upsert(conn, inventory, where, version, values)


def inventory_for(conn: Connection, items: Collection[str]) -> list[dict[str, Any]]:
    if not items:
        return []
    q = select(inventory).where(inventory.c.item.in_(list(items)), inventory.c.deleted.is_(False))
    return [dict(r._mapping) for r in conn.execute(q.order_by(inventory.c.item, inventory.c.warehouse))]


def golden_of_refs(conn: Connection, refs: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for source, keys in ref_chunks(refs):
        marks, params = in_params("k", keys)
        q = f"SELECT source_key, golden_id FROM source_record WHERE source = :s AND source_key IN ({marks})"
        out.update(((source, key), gid) for key, gid in raw(conn).rows(q, {**params, "s": source}) if gid)
    return out


# --- history and alerts (what the output topics carried, for the gateway) ------------------------------------------

def log_changes(conn: Connection, changes: Iterable[Mapping[str, Any]]) -> None:
    raw(conn).many("INSERT INTO change_log (golden_id, version, ts_ms, kind, body) VALUES (:g, :v, :ts, :k, :b)",
                   [{"g": c["golden_id"], "v": c["version"], "ts": c["ts_ms"], "k": c["kind"], "b": jdump(c)}
                    for c in changes])


def history(conn: Connection, golden_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``limit`` changes of one golden record, newest first."""
    rows = raw(conn).rows("SELECT body FROM change_log WHERE golden_id = :g ORDER BY version DESC LIMIT :n",
                          {"g": golden_id, "n": limit})
    return [jload(r[0]) for r in rows]


def log_alerts(conn: Connection, alerts: Iterable[Mapping[str, Any]]) -> None:
    """Keep alerts by id (a re-fired alert with the same id replaces the stored one)."""
    db = raw(conn)
    for a in alerts:
        db.run("DELETE FROM alert_log WHERE alert_id = :i", {"i": a["alert_id"]})
        db.run("INSERT INTO alert_log (alert_id, golden_id, agent, rule, severity, ts_ms, body) "
               "VALUES (:i, :g, :a, :r, :s, :ts, :b)",
               {"i": a["alert_id"], "g": a.get("golden_id"), "a": a.get("agent"), "r": a["rule"],
                "s": a["severity"], "ts": a["ts_ms"], "b": jdump(dict(a))})


def alerts_for(conn: Connection, *, golden_ids: Collection[str] = (), agent: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
    """Alerts of some golden records and/or of one agent, newest first."""
    where: list[str] = []
    params: dict[str, Any] = {"n": limit}
    if golden_ids:
        marks, gp = in_params("g", list(golden_ids))
        where.append(f"golden_id IN ({marks})")
        params.update(gp)
    if agent is not None:
        where.append("agent = :a")
        params["a"] = agent
    cond = " OR ".join(where) if where else "1 = 1"
    rows = raw(conn).rows(f"SELECT body FROM alert_log WHERE {cond} ORDER BY ts_ms DESC, alert_id LIMIT :n", params)
    return [jload(r[0]) for r in rows]


# --- outbox -----------------------------------------------------------------------------------------------------------

def add_outbox(conn: Connection, records: Iterable[tuple[str, str | None, Any]]) -> int:
    """Append to the outbox; returns the id of the last row written (0 when ``records`` is empty)."""
    rows = [{"t": t, "k": k, "v": jdump(v)} for t, k, v in records]
    if not rows:
        return 0
    db = raw(conn)
    db.many("INSERT INTO outbox (topic, key, value) VALUES (:t, :k, :v)", rows)
    last = db.one("SELECT MAX(id) FROM outbox")
    return int(last[0]) if last and last[0] is not None else 0


def read_outbox(conn: Connection, limit: int = 5000) -> list[tuple[int, str, str | None, Any]]:
    rows = raw(conn).rows("SELECT id, topic, key, value FROM outbox ORDER BY id LIMIT :n", {"n": limit})
    return [(i, t, k, jload(v)) for i, t, k, v in rows]


def outbox_empty(conn: Connection) -> bool:
    return raw(conn).one("SELECT id FROM outbox LIMIT 1") is None


def outbox_outside(conn: Connection, own: tuple[int, int]) -> bool:
    """Whether the outbox holds a row outside ids ``own`` (first, last): rows another writer or a crash left."""
    low, high = raw(conn).one("SELECT MIN(id), MAX(id) FROM outbox") or (None, None)
    return low is not None and (int(low) < own[0] or int(high) > own[1])


def delete_outbox(conn: Connection, up_to_id: int, from_id: int | None = None) -> None:
    """Delete the outbox rows up to ``up_to_id`` (only those from ``from_id`` on, if given)."""
    if from_id is None:
        raw(conn).run("DELETE FROM outbox WHERE id <= :hi", {"hi": up_to_id})
    else:
        raw(conn).run("DELETE FROM outbox WHERE id <= :hi AND id >= :lo", {"hi": up_to_id, "lo": from_id})
