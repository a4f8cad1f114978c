"""Values beyond the statement's text: HEXTORAW text decoded with the database character set read from
NLS_DATABASE_PARAMETERS, ``"COL n"`` names resolved by position, LOBs an update or delete does not carry
marked unavailable, and the connector's ``relaxed_quotes`` option; end to end over the fake database where
the connector is involved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.oracle_logminer.catalog import table_from_catalog
from connectors.oracle_logminer.charset import Charsets, charsets_from_nls, python_codec
from connectors.oracle_logminer.events import UNAVAILABLE, event_from_redo
from connectors.oracle_logminer.redo import parse_redo
from connectors.sql.values import ValueProblem
from schemas.envelope import Op, SourceInfo
from tests.unit.test_oracle_logminer import connector, drain, events, stream_state
from tests.unit.test_oracle_logminer_encoders import FakeOracle, Redo

T = ("APP", "DOCS")
CATALOG: dict[tuple[str, str], list[dict[str, Any]]] = {T: [
    {"COLUMN_NAME": "ID", "DATA_TYPE": "NUMBER", "DATA_PRECISION": 9, "DATA_SCALE": 0, "NULLABLE": "N", "COLUMN_ID": 1},
    {"COLUMN_NAME": "NAME", "DATA_TYPE": "VARCHAR2", "DATA_LENGTH": 40, "CHAR_LENGTH": 10, "COLUMN_ID": 2},
    {"COLUMN_NAME": "CODE", "DATA_TYPE": "CHAR", "DATA_LENGTH": 3, "CHAR_LENGTH": 3, "COLUMN_ID": 3},
    {"COLUMN_NAME": "LOCAL", "DATA_TYPE": "NVARCHAR2", "DATA_LENGTH": 20, "CHAR_LENGTH": 10, "COLUMN_ID": 4},
    {"COLUMN_NAME": "BODY", "DATA_TYPE": "CLOB", "COLUMN_ID": 5},
    {"COLUMN_NAME": "SCAN", "DATA_TYPE": "BLOB", "COLUMN_ID": 6},
    {"COLUMN_NAME": "PHOTO", "DATA_TYPE": "RAW", "DATA_LENGTH": 8, "COLUMN_ID": 7},
]}
KEYS = {T: ["ID"]}
META, _ = table_from_catalog("ora", "PDB1", *T, CATALOG[T], ["ID"])
SOURCE = SourceInfo(connector="oracle", name="ora", db="PDB1", schema="APP", table="DOCS", ts_ms=0)


def _event(sql: str, charsets: Charsets = Charsets()) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    event = event_from_redo(parse_redo(sql), META, SOURCE, 0, charsets)
    return event.before, event.after


def _stream(db: FakeOracle, *statements: str, **config: Any) -> tuple[list[Any], list[Any]]:
    first = db.redo.scn + 1
    db.redo.start("A")
    for sql in statements:
        db.redo.dml("A", sql)
    db.redo.commit("A")
    batches = drain(connector(db, tables=[{"name": "APP.DOCS"}], **config).changes(stream_state(first)))
    return events(batches), [d for b in batches for d in b.dead]


def test_charsets_from_nls_rows() -> None:
    rows = [{"PARAMETER": "NLS_CHARACTERSET", "VALUE": "WE8ISO8859P1"},
            {"PARAMETER": "NLS_NCHAR_CHARACTERSET", "VALUE": "UTF8"}]
    assert charsets_from_nls(rows) == Charsets("WE8ISO8859P1", "UTF8")
    assert charsets_from_nls([]) == Charsets("AL32UTF8", "AL16UTF16")
    assert python_codec("al32utf8") == "utf-8" and python_codec("WE8MSWIN1252") == "cp1252"
    assert python_codec("NOT_A_CHARSET") is None


@pytest.mark.parametrize("charset, hexed, text", [
    ("AL32UTF8", "c385c384c396", "ÅÄÖ"), ("WE8ISO8859P1", "c4", "Ä"), ("WE8MSWIN1252", "80", "€"),
])
def test_hextoraw_text_decoded_with_the_database_charset_end_to_end(charset: str, hexed: str, text: str) -> None:
    db = FakeOracle(Redo(), CATALOG, KEYS)
    db.nls["NLS_CHARACTERSET"] = charset
    out, dead = _stream(db, f'insert into "APP"."DOCS"("ID","NAME","PHOTO") values (\'1\',HEXTORAW(\'{hexed}\'),'
                            f"HEXTORAW('{hexed}'))")
    assert not dead and len(out) == 1
    assert out[0].after["NAME"] == text and out[0].after["PHOTO"] == bytes.fromhex(hexed)  # RAW stays bytes


def test_national_columns_use_the_national_charset_and_bad_bytes_are_dead_rows() -> None:
    _, after = _event('insert into "APP"."DOCS"("ID","LOCAL","CODE") values '
                      "('1',HEXTORAW('00c50041'),HEXTORAW('414243'))")
    assert after is not None and (after["LOCAL"], after["CODE"]) == ("ÅA", "ABC")
    with pytest.raises(ValueProblem, match="not AL32UTF8 text"):
        _event('insert into "APP"."DOCS"("ID","NAME") values (\'1\',HEXTORAW(\'c4\'))')
    with pytest.raises(ValueProblem, match="no Python codec"):
        _event('insert into "APP"."DOCS"("ID","NAME") values (\'1\',HEXTORAW(\'c4\'))', Charsets("XX8ODD", "AL16UTF16"))


def test_positional_col_names_map_to_the_tables_columns() -> None:
    before, after = _event('update "APP"."DOCS" set "COL 2" = \'new\', "COL 7" = HEXTORAW(\'a\') '
                           "where \"COL 1\" = '5' and \"COL 2\" = 'old' and \"COL 7\" IS NULL")
    assert before is not None and after is not None
    assert (before["ID"], before["NAME"], before["PHOTO"]) == (Decimal(5), "old", None)
    assert (after["ID"], after["NAME"], after["PHOTO"]) == (Decimal(5), "new", b"\x0a")
    with pytest.raises(ValueProblem, match="7 columns"):
        _event('insert into "APP"."DOCS"("COL 1","COL 8") values (\'1\',\'x\')')


def test_lobs_not_in_an_update_or_delete_are_unavailable_not_null() -> None:
    before, after = _event('update "APP"."DOCS" set "NAME" = \'b\', "BODY" = \'text\' '
                           "where \"ID\" = '1' and \"NAME\" = 'a' and \"LOCAL\" IS NULL")
    assert before is not None and after is not None
    assert (before["BODY"], before["SCAN"]) == (UNAVAILABLE, UNAVAILABLE.encode())
    assert (after["BODY"], after["SCAN"], after["NAME"]) == ("text", UNAVAILABLE.encode(), "b")
    assert before["LOCAL"] is None and before["CODE"] is None  # not LOBs: None as before
    cleared, _ = _event('delete from "APP"."DOCS" where "ID" = \'1\'')
    assert cleared is not None and cleared["BODY"] == UNAVAILABLE
    _, inserted = _event('insert into "APP"."DOCS"("ID","BODY","SCAN") values (\'1\',EMPTY_CLOB(),NULL)')
    assert inserted is not None and (inserted["BODY"], inserted["SCAN"]) == ("", None)  # an insert carries them


def test_connector_relaxed_quotes_option() -> None:
    sql = 'update "APP"."DOCS" set "NAME" = \'j\'ai\' where "ID" = \'1\''
    strict_out, strict_dead = _stream(FakeOracle(Redo(), CATALOG, KEYS), sql)
    assert not strict_out and len(strict_dead) == 1 and strict_dead[0].raw["SQL_REDO"] == sql
    out, dead = _stream(FakeOracle(Redo(), CATALOG, KEYS), sql, relaxed_quotes=True)
    assert not dead and [(e.op, e.after["NAME"]) for e in out] == [(Op.UPDATE, "j'ai")]


def test_dates_the_event_cannot_carry_are_dead_rows_with_the_reason() -> None:
    year0 = ('insert into "APP"."DOCS"("ID","NAME") values (\'1\','
             "TO_DATE('0000-01-02 00:00:00', 'YYYY-MM-DD HH24:MI:SS'))")
    bc = "insert into \"APP\".\"DOCS\"(\"ID\",\"NAME\") values ('2',TO_DATE('-0044-03-15', 'SYYYY-MM-DD'))"
    good = "insert into \"APP\".\"DOCS\"(\"ID\",\"NAME\") values ('3',TO_TIMESTAMP('22-SEP-20 12.09.37 AM'))"
    out, dead = _stream(FakeOracle(Redo(), CATALOG, KEYS), year0, bc, good)
    assert [e.after["ID"] for e in out] == [3]
    assert "year 0, which Oracle's calendar does not have" in dead[0].reason
    assert "44 BC" in dead[1].reason and dead[1].raw["SQL_REDO"] == bc
