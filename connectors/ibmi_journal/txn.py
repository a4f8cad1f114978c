"""Commit-ordered assembly of journal entries into changes (pure: entries in, units of changes out).

- Entries made under commitment control are held per commit cycle until ``C CM`` (then emitted together, in
  commit order, as one unit with the cycle id as transaction id) or ``C RB`` (then dropped: the changes and
  the compensating ``DR``/``BR``/``UR`` entries the rollback wrote).
- Changes rolled back to a savepoint inside a cycle that later commits are cancelled by their compensating
  entries: ``DR`` cancels the latest insert of that record (same file and RRN), ``BR``+``UR`` the latest
  update. A compensating entry with nothing to cancel (its change was read before the start position) is
  emitted as what it does (``DR`` a delete, ``BR``/``UR`` an update). A rolled-back delete is written back
  by IBM i as an insert, so it shows as delete + insert of the same row (net effect right).
- Entries outside commitment control (cycle 0) are emitted at once, ``UB`` waiting for its ``UP``.
- ``UB``/``UP`` (and ``BR``/``UR``) are paired by cycle (or job, outside commitment control), file and RRN;
  an ``UP`` without ``UB`` (file journaled with IMAGES(*AFTER)) is an update with before = None.

``restart()`` is the oldest position the assembler still needs: the first entry of every open cycle and
of every unpaired ``UB``. A reader that resumes there and drops units whose ``mark`` is at or below the last
emitted one sees every change exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.ibmi_journal.entries import Entry, Position

_PairKey = tuple[object, str, str, int]


@dataclass(frozen=True, slots=True)
class Change:
    """One row change: ``op`` c/u/d with the entries carrying its images."""

    op: str
    table: tuple[str, str]
    before: Entry | None
    after: Entry | None

    @property
    def entry(self) -> Entry:
        found = self.after or self.before
        assert found is not None
        return found


@dataclass(frozen=True, slots=True)
class Unit:
    """Changes that become visible together: a committed cycle, or one change outside commitment control.

    ``mark`` is the sequence number that acknowledges the unit (the ``CM`` entry, or the change's own last
    entry); ``commit`` is the entry whose time is the commit time."""

    changes: tuple[Change, ...]
    mark: int
    commit: Entry
    tx_id: str | None


@dataclass(slots=True)
class _Cycle:
    first: Position
    changes: list[Change] = field(default_factory=list)


class Assembler:
    """Feed entries in journal order with ``feed``; it returns the units that became complete."""

    def __init__(self, tables: set[tuple[str, str]] | None = None) -> None:
        self.tables = tables
        self._cycles: dict[int, _Cycle] = {}
        self._before: dict[_PairKey, Entry] = {}

    def restart(self) -> Position | None:
        """The oldest position still needed, or None when nothing is pending."""
        firsts = [c.first for c in self._cycles.values()] + [e.position for e in self._before.values()]
        return min(firsts, default=None)

    @property
    def open_cycles(self) -> int:
        return len(self._cycles)

    def feed(self, entry: Entry) -> list[Unit]:
        if entry.code == "C":
            return self._commit_entry(entry)
        if entry.code != "R" or (self.tables is not None and entry.table not in self.tables):
            return []
        change = self._change(entry)
        if change is None:
            return []
        if entry.commit_cycle == 0:
            return [Unit((change,), entry.sequence, entry, None)]
        cycle = self._cycles.setdefault(entry.commit_cycle, _Cycle(entry.position))
        if change.op == "rollback-insert":
            self._cancel(cycle, change, "c", Change("d", change.table, change.before, None))
        elif change.op == "rollback-update":
            self._cancel(cycle, change, "u", Change("u", change.table, change.before, change.after))
        else:
            cycle.changes.append(change)
        return []

    def _commit_entry(self, entry: Entry) -> list[Unit]:
        if entry.type == "SC":
            self._cycles.setdefault(entry.commit_cycle or entry.sequence, _Cycle(entry.position))
            return []
        cycle_id = entry.commit_cycle
        if entry.type == "RB":
            self._cycles.pop(cycle_id, None)
            self._drop_pairs(cycle_id)
            return []
        if entry.type != "CM":
            return []
        cycle = self._cycles.pop(cycle_id, None)
        self._drop_pairs(cycle_id)
        if cycle is None or not cycle.changes:
            return []
        return [Unit(tuple(cycle.changes), entry.sequence, entry, str(cycle_id))]

    def _drop_pairs(self, cycle_id: int) -> None:
        for key in [k for k in self._before if k[0] == ("cycle", cycle_id)]:
            del self._before[key]

    def _change(self, entry: Entry) -> Change | None:
        kind = entry.type
        if kind in ("PT", "PX"):
            return Change("c", entry.table, None, entry)
        if kind == "DL":
            return Change("d", entry.table, entry, None)
        if kind == "DR":
            return Change("rollback-insert", entry.table, entry, None)
        key = self._pair_key(entry)
        if kind in ("UB", "BR"):
            self._before[key] = entry
            return None
        if kind in ("UP", "UR"):
            before = self._before.pop(key, None)
            if before is not None and (before.type == "BR") != (kind == "UR"):
                before = None  # a UB never pairs with a UR (nor a BR with an UP)
            return Change("u" if kind == "UP" else "rollback-update", entry.table, before, entry)
        return None

    @staticmethod
    def _pair_key(entry: Entry) -> _PairKey:
        owner: object = ("cycle", entry.commit_cycle) if entry.commit_cycle else ("job", entry.job)
        return owner, entry.library, entry.file, entry.rrn

    @staticmethod
    def _cancel(cycle: _Cycle, change: Change, op: str, otherwise: Change) -> None:
        rrn = change.entry.rrn
        for index in range(len(cycle.changes) - 1, -1, -1):
            candidate = cycle.changes[index]
            if candidate.op == op and candidate.table == change.table and candidate.entry.rrn == rrn:
                del cycle.changes[index]
                return
        cycle.changes.append(otherwise)


__all__ = ["Assembler", "Change", "Unit"]
