"""The unify step: canonical events in, golden records, field-level changes and alerts out.

:class:`Unifier` applies a batch of canonical events in one store transaction and writes what must be
published (``customer.unified``, ``customer.changes``, ``customer.alerts``) to the store's outbox in that same
transaction; :meth:`Unifier.flush` hands the outbox to a ``publish`` callable (the hub's Kafka producer) and
deletes it once that returned, i.e. once Kafka acknowledged. :meth:`Unifier.process` does both under the
store's writer lock, so outputs of one golden record are published in version order even with several
workers. :meth:`Unifier.stage` is the step of a pipelined caller that holds the writer lock across batches and
waits for their acknowledgements itself (``hub/runtime/unify_worker.py``): in one transaction it deletes the
outbox rows already acknowledged, applies the batch and writes its outputs, and tells rows a crash or another
writer left apart from the caller's own rows still in flight. Events carry versions from source positions; a
version not newer than the stored one is skipped, so replaying a topic leaves store and topics unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from pipelines.store import records as rec
from pipelines.store import views
from pipelines.store.cases import save_case
from pipelines.store.engine import Store
from pipelines.store.raw import jdump
from pipelines.survivorship import Member, diff, survival_plan, survive
from pipelines.unify.batch import ApplyStats, Batch, OutRecord, Publish, Written, inherit_causes
from pipelines.unify.config import UnifyConfig
from pipelines.unify.resolver import Reclustered, record_block_keys, resolve_many, stored_features
from schemas.canonical import DELETE, CanonicalEvent, nulled_text, record_json
from schemas.unified import ALERTS_TOPIC, CHANGES_TOPIC, UNIFIED_TOPIC

__all__ = ["ApplyStats", "OutRecord", "Publish", "Unifier"]
CREDIT_FIELDS = {"status": "credit_status", "limit": "credit_limit", "reason": "credit_reason"}


class Unifier:
    def __init__(self, store: Store, cfg: UnifyConfig | None = None, *, alerts: Any | None = None,
                 timers: Callable[[Connection], Any] | None = None, now_ms: Callable[[], int] | None = None) -> None:
        self.store = store
        self.cfg = cfg or UnifyConfig()
        self.alerts = alerts
        self.timers = timers
        self.now_ms = now_ms or (lambda: int(time.time() * 1000))
        self._plan = survival_plan(self.cfg.survivorship)

    # --- the loop's entry points -----------------------------------------------------------------------------------

    def process(self, events: Sequence[CanonicalEvent], publish: Publish) -> ApplyStats:
        """Publish any outbox left by a crash, apply ``events``, publish their outputs (under the writer lock).

        The outputs are published from memory: under the lock, with the outbox flushed first, what the batch
        wrote to the outbox is all it holds, so only deleting it has to wait for ``publish``; a crash before
        that leaves it to the next flush, as before."""
        with self.store.exclusive():
            stats, written = self._apply(events)
            if written.leftover:  # an earlier batch's records first, then this one's, in outbox order
                self.flush(publish)
            elif written.out:
                publish(written.out)
                # Just this batch's rows, written in one statement; if their ids had gaps, the rows left over
                # would be published again by the next flush: a duplicate, never a loss.
                with self.store.tx() as conn:
                    views.delete_outbox(conn, written.last_id, written.last_id - len(written.out) + 1)
        return stats

    def apply(self, events: Sequence[CanonicalEvent]) -> ApplyStats:
        """Apply ``events`` in one transaction; their outputs wait in the outbox for :meth:`flush`."""
        return self._apply(events)[0]

    def stage(self, events: Sequence[CanonicalEvent], *, acked: tuple[int, int] | None = None,
              own: tuple[int, int] | None = None) -> tuple[ApplyStats, Written]:
        """For a caller that holds the writer lock and publishes ``Written.out`` itself: in one transaction,
        delete the outbox rows ``acked`` (first id, last id; Kafka acknowledged their records), apply ``events``
        and write their outputs to the outbox. ``own`` (first id, last id) are the caller's rows still waiting
        for their acknowledgements; ``Written.leftover`` says whether the outbox holds any other row (a crash's
        or another writer's), which the caller must :meth:`flush` before it publishes anything else."""
        with self.store.exclusive():
            return self._apply(events, acked=acked, own=own)

    def _apply(self, events: Sequence[CanonicalEvent], *, acked: tuple[int, int] | None = None,
               own: tuple[int, int] | None = None) -> tuple[ApplyStats, Written]:
        with self.store.tx() as conn:
            if acked is not None:
                views.delete_outbox(conn, acked[1], acked[0])
            leftover = views.outbox_outside(conn, own) if own is not None else not views.outbox_empty(conn)
            batch = Batch(conn)
            batch.stored = rec.records_of_refs(conn, {(e.source, e.source_key) for e in events
                                                      if e.entity == "customer"})
            credit_refs = {_credit_ref(e) for e in events if e.entity == "credit"}
            batch.credit_versions = views.credit_versions(conn, credit_refs) if credit_refs else {}
            for event in events:
                self._apply_one(batch, event)
            self._settle(batch)
            self._alerts_for_events(batch)
            self._alerts_for_changes(batch)
            written = self._save_outputs(batch)
        return batch.stats, Written(written.out, written.last_id, leftover)

    @staticmethod
    def _save_outputs(batch: Batch) -> Written:
        """The outbox, plus the history and alert logs the gateway reads."""
        views.log_changes(batch.conn, [v for t, _k, v in batch.out if t == CHANGES_TOPIC])
        views.log_alerts(batch.conn, [v for t, _k, v in batch.out if t == ALERTS_TOPIC])
        last_id = views.add_outbox(batch.conn, batch.out)
        return Written(batch.out, last_id)

    def flush(self, publish: Publish, chunk: int = 5000) -> int:
        """Publish the outbox in order; each chunk is deleted only after ``publish`` returned."""
        total = 0
        while True:
            with self.store.tx() as conn:
                rows = views.read_outbox(conn, chunk)
            if not rows:
                return total
            publish([(t, k, v) for _i, t, k, v in rows])
            with self.store.tx() as conn:
                views.delete_outbox(conn, rows[-1][0])
            total += len(rows)

    def run_in_batch(self, work: Callable[[Connection], tuple[Reclustered, dict[str, Any]]]) -> ApplyStats:
        """Run ``work`` (a steward action) in one transaction and rebuild the golden records it touched."""
        with self.store.exclusive(), self.store.tx() as conn:
            batch = Batch(conn)
            result, cause = work(conn)
            self._rebuild(batch, result, cause)
            self._alerts_for_changes(batch)
            self._save_outputs(batch)
        return batch.stats

    # --- one event -----

    def _apply_one(self, batch: Batch, event: CanonicalEvent) -> None:
        handler = {"customer": self._customer, "credit": self._credit, "order": self._order,
                   "inventory": self._inventory, "case": self._case}.get(event.entity)
        applied = handler(batch, event) if handler else True
        if not applied:
            batch.stats.skipped += 1
            return
        batch.stats.applied += 1
        if not event.snapshot:  # a snapshot read was committed whenever: its age is not freshness
            batch.stats.source_times.append((event.source, event.source_ts_ms))
        batch.applied.append(event)

    def _customer(self, batch: Batch, event: CanonicalEvent) -> bool:
        """Save the record and its blocking keys; linking and golden records wait for :meth:`_settle`."""
        conn = batch.conn
        ref = (event.source, event.source_key)
        row = batch.pending.get(ref)
        if row is None:  # the first event of this ref in the batch: the stored record, if there is one
            row = batch.stored.get(ref)
        if row is not None and row.version >= event.version:
            return False
        deleted = event.op == DELETE or event.data is None
        data = None if deleted else record_json(event.data)
        feats = None
        if data is not None:
            feats = stored_features(event.data or {}, event.source, event.source_key,
                                    nulled_text(event.warnings, "birth_date"))
        rid = rec.save_record(conn, row, source=event.source, key=event.source_key, table=event.table, data=data,
                              features=feats, version=event.version, source_ts_ms=event.source_ts_ms,
                              deleted=deleted)
        # a change that leaves the identity features as they were (a credit limit, a status) keeps the record's
        # blocking keys and links: only its golden record is rebuilt; the keys are written at settling
        if row is None or row.deleted or deleted or feats != row.features:
            batch.keys[rid] = [] if feats is None else record_block_keys(feats, f"{ref[0]}/{ref[1]}")
            batch.relink.add(ref)
        golden = row.golden_id if row else None
        batch.pending[ref] = rec.SourceRow(rid, event.source, event.source_key, event.table, golden, data, feats,
                                           event.version, event.source_ts_ms, deleted)
        if row is None:
            batch.fresh.add(rid)
        batch.old_golden.setdefault(ref, golden)
        batch.caused("customer", ref, event)
        return True

    def _credit(self, batch: Batch, event: CanonicalEvent) -> bool:
        source, key = ref = _credit_ref(event)
        data = None if event.op == DELETE else record_json(event.data)
        if not views.save_credit(batch.conn, source, key, event.table, data, event.version, event.source_ts_ms,
                                 stored=batch.credit_versions.get(ref)):
            return False
        batch.credit_versions[ref] = None if data is None else event.version
        batch.caused("credit", ref, event)
        return True

    def _settle(self, batch: Batch) -> None:
        """Resolve the batch's customer records together (one linking pass, one re-clustering) and rebuild
        every golden record the batch touched once, with the cause of the last event that touched it."""
        conn = batch.conn
        rows = [row for ref, row in batch.pending.items() if ref in batch.relink]  # in event order
        result = Reclustered()
        rec.replace_block_keys_many(conn, batch.keys, fresh=batch.fresh)
        if rows:
            old = {g for ref in batch.relink if (g := batch.old_golden.get(ref))}
            result = resolve_many(conn, rows, old, self.cfg.match, self.now_ms, fresh=batch.fresh, keys=batch.keys)
        credit_refs = [(s, k) for entity, s, k in batch.causes if entity == "credit"]
        credit_golden = views.golden_of_refs(conn, credit_refs) if credit_refs else {}
        causes: dict[str, dict[str, Any]] = {}
        for (entity, source, key), cause in batch.causes.items():
            ref = (source, key)
            if entity == "credit":
                gids = [credit_golden.get(ref)]
            else:
                gids = [batch.old_golden.get(ref), batch.pending[ref].golden_id]
            for gid in filter(None, gids):
                causes[gid] = cause
                result.touched.add(gid)
        inherit_causes(causes, result.merges, result.splits)
        if result.touched:
            self._rebuild(batch, result, next(reversed(batch.causes.values())), causes)

    def _order(self, batch: Batch, event: CanonicalEvent) -> bool:
        previous = record_json(event.data)
        data = None if event.op == DELETE else previous
        return views.save_order(batch.conn, event.source, event.source_key, data, event.version,
                                self.cfg.open_order_statuses, previous)

    def _inventory(self, batch: Batch, event: CanonicalEvent) -> bool:
        data = None if event.op == DELETE else record_json(event.data)
        return views.save_inventory(batch.conn, event.source, event.source_key, data, event.version)

    def _case(self, batch: Batch, event: CanonicalEvent) -> bool:
        previous = record_json(event.data)
        data = None if event.op == DELETE else previous
        return save_case(batch.conn, event.source, event.source_key, data, event.version, event.source_ts_ms,
                         previous)

    # --- golden records -----

    @staticmethod
    def _members(rows: list[rec.SourceRow], credits: Mapping[tuple[str, str], dict[str, Any]]) -> list[Member]:
        out = []
        for r in rows:
            data = dict(r.data or {})
            field_ts: dict[str, int] | None = None
            credit = credits.get((r.source, r.source_key))
            if credit is not None:
                field_ts = {}
                for src, dst in CREDIT_FIELDS.items():
                    data[dst] = credit["data"].get(src)
                    field_ts[dst] = credit["source_ts_ms"]
            out.append(Member(r.source, r.source_key, r.table, r.source_ts_ms, r.id, data, field_ts))
        return out

    def _rebuild(self, batch: Batch, result: Reclustered, cause: dict[str, Any],
                 causes: Mapping[str, dict[str, Any]] | None = None) -> None:
        """Rebuild the golden records ``result`` touched; ``causes`` per golden id, else ``cause``."""
        conn = batch.conn
        now = self.now_ms()
        merged_into = dict(result.merges)
        related: dict[str, list[str]] = {}
        kinds: dict[str, str] = {g: "retire" for g in result.retired}
        for loser, survivor in result.merges:
            related.setdefault(survivor, []).append(loser)
            kinds[loser] = kinds[survivor] = "merge"
        for origin, new in result.splits:
            related.setdefault(origin, []).append(new)
            related.setdefault(new, []).append(origin)
            kinds.setdefault(origin, "split")
            kinds.setdefault(new, "split")
        stored = views.get_golden(conn, result.touched)
        by_golden = dict(result.members or {})
        unread = [g for g in result.touched if g not in by_golden]
        for m in rec.members(conn, unread, features=False) if unread else ():
            by_golden.setdefault(m.golden_id or "", []).append(m)
        credits = views.credit_for(conn, [(r.source, r.source_key) for rows in by_golden.values() for r in rows])
        batch.stats.merges += len(result.merges)
        batch.stats.splits += len(result.splits)
        causes = causes or {}
        saves: list[tuple[views.GoldenRow, bool]] = []
        for gid in sorted(result.touched):
            saved = self._rebuild_one(batch, gid, stored.get(gid), by_golden.get(gid, []), merged_into.get(gid),
                                      related.get(gid, []), kinds.get(gid), causes.get(gid, cause), now, credits)
            if saved is not None:
                saves.append(saved)
        views.save_goldens(conn, saves)

    def _rebuild_one(self, batch: Batch, gid: str, old: views.GoldenRow | None, rows: list[rec.SourceRow],
                     merged_into: str | None, related: list[str], kind: str | None, cause: dict[str, Any],
                     now: int, credits: Mapping[tuple[str, str], dict[str, Any]]
                     ) -> tuple[views.GoldenRow, bool] | None:
        """The golden record ``gid`` rebuilt from ``rows``: its outputs added to the batch, and the row to save
        with whether it is new (None: nothing to save)."""
        if rows:
            data, lineage = survive(self._members(rows, credits), self.cfg.survivorship, self._plan)
            status: str = "active"
        else:
            data, lineage = None, {}
            status = "merged" if merged_into else "retired"
        members = [{"source": r.source, "source_key": r.source_key, "table": r.table} for r in rows]
        if old is not None and (old.data, old.members, old.status, old.merged_into) == (
                data, members, status, merged_into):
            if old.lineage != lineage:  # only the times of the same values moved: no new version, no output
                old.lineage = lineage
                return old, False
            return None
        kind = kind or ("create" if old is None or old.status != "active" else "update")
        version = 1 if old is None else old.version + 1
        seq = int(gid[1:]) if gid[1:].isdigit() else 0
        row = views.GoldenRow(gid, seq, status, merged_into, data, lineage, members, version,
                              old.created_ms if old else now, now)
        batch.stats.golden_changed += 1
        unified = {"golden_id": gid, "status": status, "merged_into": merged_into, "version": version,
                   "updated_ms": now, "customer": data, "lineage": lineage, "members": members}
        fields = [{"field": f, "old": _enc(o), "new": _enc(n)}
                  for f, o, n in diff(old.data if old else None, data or {})]
        change = {"golden_id": gid, "version": version, "ts_ms": now, "kind": kind, "fields": fields,
                  "cause": cause, "related": sorted(related)}
        batch.out.append((UNIFIED_TOPIC, gid, unified))
        batch.out.append((CHANGES_TOPIC, gid, change))
        batch.changes.append((change, data or {}))
        return row, old is None

    # --- alerts -----

    def _alerts_for_events(self, batch: Batch) -> None:
        """The canonical-event rules, for each applied event with its customer's settled golden record."""
        if self.alerts is None:
            return
        heard = [e for e in batch.applied if f"canon.{e.entity}" in self.alerts.streams]  # no rule, no work
        refs = {ref for e in heard if (ref := self._customer_ref(e)) is not None}
        gids = views.golden_of_refs(batch.conn, refs) if refs else {}
        goldens = views.get_golden(batch.conn, set(gids.values())) if gids else {}
        for event in heard:
            ref = self._customer_ref(event)
            gid = gids.get(ref) if ref is not None else None
            row = goldens.get(gid) if gid else None
            self._outcome(batch, self.alerts.on_canonical(event, None if row is None else row.data, gid))

    def _outcome(self, batch: Batch, outcome: Any) -> None:
        if outcome.timers and self.timers is not None:
            self.timers(batch.conn).apply(outcome.timers)
        self._emit_alerts(batch, outcome.alerts)

    @staticmethod
    def _customer_ref(event: CanonicalEvent) -> tuple[str, str] | None:
        if event.entity == "customer":
            return (event.source, event.source_key)
        data = event.data or {}
        key = data.get("customer_key")
        return None if not key else (data.get("customer_source") or event.source, str(key))

    def _alerts_for_changes(self, batch: Batch) -> None:
        if self.alerts is None:
            return
        for change, golden in batch.changes:
            self._outcome(batch, self.alerts.on_change({**change, "golden": golden}))

    def _emit_alerts(self, batch: Batch, alerts: Sequence[Mapping[str, Any]]) -> None:
        for alert in alerts:
            batch.out.append((ALERTS_TOPIC, alert.get("golden_id") or alert["subject"], dict(alert)))
            batch.stats.alerts += 1

    def fire_timers(self, now_ms: int | None = None, limit: int = 1000) -> int:
        """Fire due alert timers into the outbox; returns how many fired."""
        if self.alerts is None or self.timers is None:
            return 0
        now = self.now_ms() if now_ms is None else now_ms
        with self.store.tx() as conn:
            store = self.timers(conn)
            due = store.due(now, limit)
            alerts = [self.alerts.fire(t, now) for t in due]
            store.mark_fired(due)
            batch = Batch(conn)
            self._emit_alerts(batch, alerts)
            self._save_outputs(batch)
        return len(due)


def _credit_ref(event: CanonicalEvent) -> tuple[str, str]:
    """The customer a credit event belongs to (a delete without a before image: its own source key)."""
    body = event.data
    if body is None:
        return event.source, event.source_key
    return body.get("customer_source") or event.source, str(body["customer_key"])


def _enc(value: Any) -> str | None:
    return jdump(value, sort=True)

