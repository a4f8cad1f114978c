"""SQL Server CDC connector against the fake server of :mod:`tests.unit.test_mssql_cdc_server`."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import Batch
from connectors.changetables.position import Position, make_state
from connectors.mssql_cdc.config import MssqlCdcConfig, connection_string
from connectors.mssql_cdc.connector import MssqlCdcConnector
from connectors.mssql_cdc.driver import datetimeoffset
from hub.runtime.source_lag import SourceLag
from hub.runtime.source_lag_monitor import measure
from schemas.envelope import Op
from schemas.errors import FatalError
from tests.unit.test_mssql_cdc_server import (
    CONTACT_COLS,
    FakeServer,
    Instance,
    ct_row,
    info,
    lsn,
    seqval,
    update_mask,
)

# --- helpers -----------------------------------------------------------------------------------------------

T0 = datetime(2024, 5, 6, 10, 0, 0)
A_COLS = [info("Id", 1, "int", False), info("Name", 2, "nvarchar", True, 100),
          info("Credit", 3, "decimal", True, None, 9, 2)]


class Idle(Exception):
    pass


def idle(_: float) -> None:
    raise Idle


def config(**over: Any) -> MssqlCdcConfig:
    base: dict[str, Any] = {"name": "helpdesk", "kind": "mssql-cdc",
                            "dsn": "DRIVER={ODBC Driver 18 for SQL Server};SERVER=db,1433;DATABASE=crm;UID=crmhub",
                            "tables": [{"name": "dbo.Contacts"}], "batch_size": 100}
    return MssqlCdcConfig.model_validate({**base, **over})


def server_with(*instances: Instance) -> FakeServer:
    return FakeServer(source_columns=list(CONTACT_COLS), instances=list(instances))


def connector(server: FakeServer, **over: Any) -> MssqlCdcConnector:
    return MssqlCdcConnector(config(**over), connect=server.connect, clock=lambda: 1_700_000_000.0, sleep=idle)


def stream(conn: MssqlCdcConnector, state: dict[str, Any]) -> list[Batch]:
    batches: list[Batch] = []
    gen: Iterator[Batch] = conn.changes(state)
    try:
        for b in gen:
            batches.append(b)
    except Idle:
        pass
    return batches


def streaming_state(start: bytes, instance: str = "dbo_Contacts") -> dict[str, Any]:
    return make_state(snapshot_done=True, snapshot={"dbo.Contacts": {"done": True}},
                      stream={"dbo.Contacts": {**Position(start).to_json(), "source": instance}})


def events(batches: list[Batch]) -> list[Any]:
    return [e for b in batches for e in b.events]


def inst_a(**kw: Any) -> Instance:
    return Instance("dbo_Contacts", lsn(10), T0 - timedelta(days=1), list(A_COLS), **kw)


# --- tests -------------------------------------------------------------------------------------------------


def test_update_pairs_before_and_after_images_into_one_event() -> None:
    srv = server_with(inst_a())
    srv.max_lsn = lsn(20)
    srv.commit(lsn(21), T0, "dbo_Contacts",
               ct_row(lsn(21), seqval(1), 3, update_mask(3), Id=7, Name="Ann", Credit=Decimal("10.00")),
               ct_row(lsn(21), seqval(1), 4, update_mask(3), Id=7, Name="Ann", Credit=Decimal("25.50")))
    out = events(stream(connector(srv), streaming_state(lsn(20))))
    assert len(out) == 1
    ev = out[0]
    assert ev.op is Op.UPDATE
    assert ev.before == {"Id": 7, "Name": "Ann", "Credit": Decimal("10.00")}
    assert ev.after == {"Id": 7, "Name": "Ann", "Credit": Decimal("25.50")}
    assert ev.key == {"Id": 7}
    assert ev.source.position["update_mask"] == "04"
    assert ev.source.position["capture_instance"] == "dbo_Contacts"
    assert ev.source.tx_id == lsn(21).hex()


def test_rows_of_one_lsn_come_in_seqval_order_with_insert_and_delete() -> None:
    srv = server_with(inst_a())
    srv.max_lsn = lsn(20)
    srv.commit(lsn(22), T0, "dbo_Contacts",
               ct_row(lsn(22), seqval(3), 1, Id=2, Name="Bo", Credit=None),
               ct_row(lsn(22), seqval(1), 2, Id=1, Name="Al", Credit=Decimal("1.00")),
               ct_row(lsn(22), seqval(2), 2, Id=2, Name="Bo", Credit=None))
    out = events(stream(connector(srv), streaming_state(lsn(20))))
    assert [(e.op, e.key["Id"]) for e in out] == [(Op.CREATE, 1), (Op.CREATE, 2), (Op.DELETE, 2)]
    assert out[2].before == {"Id": 2, "Name": "Bo", "Credit": None} and out[2].after is None


def test_commit_time_comes_from_the_lsn_time_mapping_in_utc() -> None:
    srv = server_with(inst_a())
    srv.max_lsn = lsn(20)
    srv.commit(lsn(21), datetime(2024, 5, 6, 12, 30, 0, 250000), "dbo_Contacts",
               ct_row(lsn(21), seqval(1), 2, Id=1, Name="Al", Credit=None))
    srv.commit(lsn(23), datetime(2024, 5, 6, 12, 31, 0), "dbo_Contacts",
               ct_row(lsn(23), seqval(1), 2, Id=2, Name="Bo", Credit=None),
               ct_row(lsn(23), seqval(2), 2, Id=3, Name="Cy", Credit=None))
    out = events(stream(connector(srv), streaming_state(lsn(20))))
    utc = datetime(2024, 5, 6, 10, 30, 0, 250000, tzinfo=UTC)  # server is UTC+2
    assert out[0].source.ts_ms == int(utc.timestamp() * 1000)
    assert out[1].source.ts_ms == out[2].source.ts_ms == int(utc.timestamp() * 1000) + 59_750
    mapping = [s for s in srv.log if "fn_cdc_map_lsn_to_time" in s]
    assert len(mapping) == 1 and mapping[0].count("CAST(? AS binary(10))") == 2  # one call per distinct LSN


def test_position_is_kept_hex_and_resume_has_no_duplicates_nor_split_pairs() -> None:
    srv = server_with(inst_a())
    srv.max_lsn = lsn(20)
    for n in range(5):  # five transactions, each one update (3+4)
        srv.commit(lsn(30 + n), T0, "dbo_Contacts",
                   ct_row(lsn(30 + n), seqval(1), 3, Id=n, Name="old", Credit=None),
                   ct_row(lsn(30 + n), seqval(1), 4, Id=n, Name="new", Credit=None))
    conn = connector(srv, batch_size=3)
    gen = conn.changes(streaming_state(lsn(20)))
    first = next(gen)
    # 3 rows asked: the third row (a before image) takes its after image along: 2 whole updates
    assert [e.key["Id"] for e in first.events] == [0, 1]
    entry = first.state["stream"]["dbo.Contacts"]
    assert entry["commit"] == lsn(31).hex() and entry["seq"] == seqval(1).hex() and entry["op"] == 4
    # the runner saved first.state; a fresh connector resumes from it
    rest = events(stream(connector(srv, batch_size=3), first.state))
    assert [e.key["Id"] for e in rest] == [2, 3, 4]
    assert all(e.op is Op.UPDATE and e.before["Name"] == "old" for e in rest)


def test_window_read_to_its_end_moves_the_position_to_the_max_lsn() -> None:
    srv = server_with(inst_a())
    srv.max_lsn = lsn(50)  # other tables' changes moved the log on
    batches = stream(connector(srv), streaming_state(lsn(20)))
    assert batches and not events(batches)
    assert batches[-1].state["stream"]["dbo.Contacts"]["commit"] == lsn(50).hex()
    assert batches[-1].state["stream"]["dbo.Contacts"]["seq"] is None


def test_changes_removed_by_cleanup_fail_with_a_clear_error() -> None:
    srv = server_with(inst_a(min_lsn=lsn(40)))
    srv.max_lsn = lsn(45)
    with pytest.raises(FatalError, match=r"cleanup job removed changes of capture instance dbo_Contacts.*resnapshot"):
        stream(connector(srv), streaming_state(lsn(20)))


def test_changes_removed_by_cleanup_resnapshot_the_table_when_configured() -> None:
    srv = server_with(inst_a(min_lsn=lsn(40)))
    srv.max_lsn = lsn(45)
    srv.table_rows = [{"Id": 1, "Name": "Al", "Credit": Decimal("3.10")}, {"Id": 2, "Name": "Bo", "Credit": None}]
    batches = stream(connector(srv, on_changes_gone="resnapshot"), streaming_state(lsn(20)))
    out = events(batches)
    assert [(e.op, e.key["Id"]) for e in out] == [(Op.READ, 1), (Op.READ, 2)]
    final = batches[-1].state
    assert final["stream"]["dbo.Contacts"]["commit"] == lsn(45).hex()
    assert final["snapshot"]["dbo.Contacts"]["done"] is True
    srv.commit(lsn(46), T0, "dbo_Contacts", ct_row(lsn(46), seqval(1), 2, Id=3, Name="Cy", Credit=None))
    assert [(e.op, e.key["Id"]) for e in events(stream(connector(srv), final))] == [(Op.CREATE, 3)]


def test_capture_instance_switch_without_loss_or_duplicates() -> None:
    b_cols = [*A_COLS, info("Email", 4, "nvarchar", True, 200)]
    a = inst_a()
    b = Instance("dbo_Contacts_v2", lsn(40), T0, b_cols)
    srv = server_with(a, b)
    srv.source_columns = [*CONTACT_COLS, info("Email", 4, "nvarchar", True, 200)]
    srv.max_lsn = lsn(20)
    srv.commit(lsn(30), T0, "dbo_Contacts", ct_row(lsn(30), seqval(1), 2, Id=1, Name="Al", Credit=None))
    # from LSN 40 both instances capture: the old one without Email
    for inst, extra in (("dbo_Contacts", {}), ("dbo_Contacts_v2", {"Email": "bo@x.org"})):
        srv.commit(lsn(40), T0, inst, ct_row(lsn(40), seqval(1), 2, Id=2, Name="Bo", Credit=None, **extra))
        srv.commit(lsn(41), T0, inst, ct_row(lsn(41), seqval(1), 2, Id=3, Name="Cy", Credit=None, **extra))
    conn = connector(srv)
    described = conn.describe()[0]
    assert [c.name for c in described.columns] == ["Id", "Name", "Credit", "Email"]
    assert described.column("Email").nullable
    batches = stream(conn, streaming_state(lsn(20)))
    out = events(batches)
    assert [(e.key["Id"], e.source.position["capture_instance"]) for e in out] == [
        (1, "dbo_Contacts"), (2, "dbo_Contacts_v2"), (3, "dbo_Contacts_v2")]
    assert out[0].after == {"Id": 1, "Name": "Al", "Credit": None, "Email": None}
    assert out[1].after["Email"] == "bo@x.org"
    assert batches[-1].state["stream"]["dbo.Contacts"]["source"] == "dbo_Contacts_v2"
    # no call asked the newer instance's function for LSNs below its start (error 313 would be raised)


def test_snapshot_then_stream_from_the_lsn_taken_before_it() -> None:
    srv = server_with(inst_a())
    srv.max_lsn = lsn(25)
    srv.table_rows = [{"Id": i, "Name": f"n{i}", "Credit": Decimal("1.50")} for i in range(5)]
    conn = connector(srv, batch_size=2)
    snap = list(conn.snapshot({}))
    out = events(snap)
    assert [e.key["Id"] for e in out] == [0, 1, 2, 3, 4] and {e.op for e in out} == {Op.READ}
    assert out[-1].source.snapshot == "last" and out[0].source.snapshot == "true"
    state = snap[-1].state
    assert state["snapshot_done"] and state["stream"]["dbo.Contacts"]["commit"] == lsn(25).hex()
    assert list(connector(srv).snapshot(state)) == []
    srv.commit(lsn(26), T0, "dbo_Contacts", ct_row(lsn(26), seqval(1), 2, Id=9, Name="Zed", Credit=None))
    assert [e.key["Id"] for e in events(stream(connector(srv), state))] == [9]


def test_table_mode_reads_the_change_table_directly() -> None:
    srv = server_with(inst_a())
    srv.max_lsn = lsn(20)
    srv.commit(lsn(21), T0, "dbo_Contacts",
               ct_row(lsn(21), seqval(1), 3, Id=7, Name="a", Credit=None),
               ct_row(lsn(21), seqval(1), 4, Id=7, Name="b", Credit=None))
    out = events(stream(connector(srv, read_from="table"), streaming_state(lsn(20))))
    assert [(e.op, e.before["Name"], e.after["Name"]) for e in out] == [(Op.UPDATE, "a", "b")]
    assert any("[dbo_Contacts_CT]" in s for s in srv.log)


def test_value_that_does_not_fit_goes_to_the_dead_letters() -> None:
    srv = server_with(inst_a())
    srv.max_lsn = lsn(20)
    srv.commit(lsn(21), T0, "dbo_Contacts", ct_row(lsn(21), seqval(1), 2, Id=1, Name="x", Credit=Decimal("1.234")))
    batches = stream(connector(srv), streaming_state(lsn(20)))
    dead = [d for b in batches for d in b.dead]
    assert len(dead) == 1 and "Credit" in dead[0].reason and dead[0].raw["__$start_lsn"] == lsn(21).hex()


def test_catalog_problems_are_listed_with_their_paths() -> None:
    srv = server_with()
    from schemas.errors import ConfigError

    with pytest.raises(ConfigError, match=r"helpdesk\.tables\[0\]\.name: dbo\.Contacts is not enabled for CDC"):
        connector(srv).describe()


def test_config_errors_have_paths_and_the_password_is_added_braced() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as err:
        MssqlCdcConfig.model_validate({"name": "x", "kind": "mssql-cdc", "dsn": "SERVER=db", "password": "p",
                                       "tables": [{"name": "Contacts"}, {"name": "dbo.A", "capture_instance": "a b"}],
                                       "batch_size": 0, "on_changes_gone": "skip", "read_from": "view"})
    locs = {".".join(map(str, e["loc"])) for e in err.value.errors()}
    assert {"dsn", "tables.0.name", "tables.1.capture_instance", "batch_size", "on_changes_gone",
            "read_from"} <= locs
    cfg = config(password="se}cret")
    assert connection_string(cfg).endswith(";PWD={se}}cret}")
    assert "se}cret" not in repr(cfg)


def test_datetimeoffset_output_converter() -> None:
    raw = struct.pack("<6hI2h", 2024, 5, 6, 12, 30, 15, 123456700, 2, 0)
    assert datetimeoffset(raw) == datetime(2024, 5, 6, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))


def test_source_lag_from_the_max_lsn_and_the_saved_lsn_mapped_to_their_commit_times() -> None:
    srv = server_with(inst_a())
    srv.commit(lsn(21), datetime(2024, 5, 6, 12, 30, 0, 250000), "dbo_Contacts",
               ct_row(lsn(21), seqval(1), 2, Id=1, Name="Al", Credit=None))
    srv.commit(lsn(25), datetime(2024, 5, 6, 12, 31, 40), "dbo_Contacts",
               ct_row(lsn(25), seqval(1), 2, Id=2, Name="Bo", Credit=None))
    conn = connector(srv)
    heads = conn.source_heads()
    assert heads == [{"table": "dbo.Contacts", "commit": lsn(25).hex(), "ts": "2024-05-06T10:31:40+00:00"}]
    saved = conn.saved_positions(streaming_state(lsn(21)))  # the server is UTC+2
    assert saved == {"dbo.Contacts": {"table": "dbo.Contacts", "commit": lsn(21).hex(),
                                      "ts": "2024-05-06T10:30:00.250000+00:00"}}
    assert measure(heads, saved) == [SourceLag("dbo.Contacts", 99.75, None)]
    assert measure(heads, conn.saved_positions(streaming_state(lsn(25)))) == [SourceLag("dbo.Contacts", 0.0, None)]


def test_no_source_head_while_the_max_lsn_has_no_time() -> None:
    srv = server_with(inst_a())
    srv.max_lsn = lsn(20)  # no lsn_time_mapping row for it
    assert connector(srv).source_heads() == []
