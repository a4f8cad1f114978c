"""`crmhub lag`'s table on an 80-column console: every partition on one line, nothing wider than the console."""

from __future__ import annotations

import io

from rich.console import Console

from hub.cli.lag import render
from hub.lag.model import GroupLag, GroupStatus, LagSnapshot, PartitionLag, Status


def _snapshot() -> LagSnapshot:
    groups = []
    sources = ["src.ibmi.custmast", "src.ar.ar_customers", "src.helpdesk.contacts"]
    for group, topics in (("crmhub-canonicalize", sources), ("crmhub-unify", ["canon.customer", "canon.credit"])):
        parts = tuple(PartitionLag(group, topic, p, 12_345_678, 0, 12_345_670 - p, 8 + p, 1234.5, Status.STALL)
                      for topic in topics for p in range(3))
        groups.append(GroupLag(group, "Stable", GroupStatus.ERR, parts))
    fresh = PartitionLag("crmhub-demo-live", "customer.changes", 0, 40, 0, None, 40, 12.0, Status.OK, complete=False)
    groups.append(GroupLag("crmhub-demo-live", "Stable", GroupStatus.OK, (fresh,)))
    return LagSnapshot(1000.0, tuple(groups))


def _print(width: int) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, legacy_windows=False).print(render(_snapshot()))
    return out.getvalue().splitlines()


def test_the_table_fits_80_columns_one_partition_a_line() -> None:
    lines = _print(80)
    assert max(len(line) for line in lines) <= 80
    rows = [line.split() for line in lines if line.strip().startswith(("src.", "canon.", "customer."))]
    assert len(rows) == 3 * 3 + 2 * 3 + 1  # no cell folded onto a second line
    assert rows[0] == ["src.ibmi.custmast", "0", "12345678", "12345670", "8", "1234.5", "STALL"]
    assert rows[-1] == ["customer.changes", "0", "40", "-", "40", "12.0", "-"]  # no verdict yet
    assert "crmhub-canonicalize: ERR (9 partitions, Stable, max lag 10 / 1234.5 s, sum 81)" in lines
    assert any(line.startswith("status -: ") for line in lines)


def test_a_narrow_console_folds_the_topic_not_the_numbers() -> None:
    lines = _print(60)
    assert max(len(line) for line in lines) <= 60
    assert any("12345678" in line and "STALL" in line for line in lines)
