"""The statement shapes an established Oracle CDC connector's LogMiner parser tests cover, each written here
with values of its own: insert/update/delete, with and without a where clause, table aliases, ``"COL n"``
names, doubled and unescaped quotes, NULL and IS NULL, ``Unsupported Type``, UNISTR (also with parentheses
inside and joined by ``||``), ``||`` inside quoted text, HEXTORAW, EMPTY_BLOB after a comment, XMLTYPE, LOB
columns an update or delete leaves out, and TO_TIMESTAMP in the session's and Oracle's default formats.
The expected images follow Oracle's documentation (SQL Language Reference: literals, UNISTR, HEXTORAW,
TO_TIMESTAMP, datetime format models; Utilities: LogMiner's SQL_REDO). :data:`REFUSED` lists the shapes that
are not row changes LogMiner writes into a DML row's SQL_REDO, each refused with its reason."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.oracle_logminer.catalog import table_from_catalog
from connectors.oracle_logminer.events import UNAVAILABLE, event_from_redo
from connectors.oracle_logminer.redo import RedoParseError, parse_redo
from schemas.envelope import SourceInfo

UNISTR_PAREN = "\\5E97\\94FA(\\5317\\4EAC\\FF09"  # a '(' and a full-width ')' (U+FF09) inside the literal
PAREN_TEXT = "店铺(北京\uff09"
RU_1, RU_2 = "\\0414\\0430", "\\043D\\0435\\0442"  # "Да", "нет"
DAY = datetime(2021, 6, 30)
NOON = datetime(2021, 6, 30, 12, 0, 0)

Image = dict[str, Any] | None
# (label, statement, relaxed_quotes, op, before, after); before is None for an insert
PARSED: list[tuple[str, str, bool, str, Image, Image]] = [
    ("insert: timestamp with a bare radix, Unsupported Type, date, NULLs",
     'insert into "SHOP"."ITEMS"("ID","NAME","TS","GEO","D","C1","C2") values '
     "('7','Lamp',TO_TIMESTAMP('2021-06-30 12:00:00.'),Unsupported Type,"
     "TO_DATE('2021-06-30 00:00:00', 'YYYY-MM-DD HH24:MI:SS'),NULL,NULL);",
     False, "c", None, {"ID": "7", "NAME": "Lamp", "TS": NOON, "GEO": None, "D": DAY, "C1": None, "C2": None}),
    ("update: set and where with functions, Unsupported Type, = NULL and IS NULL",
     'update "SHOP"."ITEMS" set "NAME" = \'Desk\', "TS" = TO_TIMESTAMP(\'2021-06-30 12:00:00.\'), '
     '"GEO" = Unsupported Type, "C1" = NULL where "ID" = \'7\' and "NAME" = \'Lamp\' and '
     "\"D\" = TO_DATE('2021-06-30 00:00:00', 'YYYY-MM-DD HH24:MI:SS') and \"GEO\" = Unsupported Type and "
     '"C1" = NULL and "C2" IS NULL;',
     False, "u", {"ID": "7", "NAME": "Lamp", "D": DAY, "GEO": None, "C1": None, "C2": None},
     {"ID": "7", "NAME": "Desk", "TS": NOON, "D": DAY, "GEO": None, "C1": None, "C2": None}),
    ("delete: where with functions and IS NULL",
     'delete from "SHOP"."ITEMS" where "ID" = \'7\' and "TS" = TO_TIMESTAMP(\'2021-06-30 12:00:00.\') and '
     '"GEO" = Unsupported Type and "C2" IS NULL;',
     False, "d", {"ID": "7", "TS": NOON, "GEO": None, "C2": None}, None),
    ("update without a where clause",
     'update "SHOP"."ITEMS" set "ID" = \'8\', "C1" = NULL, "NAME" = \'Chair\';',
     False, "u", {}, {"ID": "8", "C1": None, "NAME": "Chair"}),
    ("delete without a where clause", 'delete from "SHOP"."ITEMS";', False, "d", {}, None),
    ("update with a table alias, no where clause",
     'update "SHOP"."ITEMS" a set a."ID" = \'8\', a."C1" = NULL, a."NAME" = \'Stool\';',
     False, "u", {}, {"ID": "8", "C1": None, "NAME": "Stool"}),
    ("delete with a table alias and Unsupported Type",
     'delete from "SHOP"."ITEMS" a where a."ID" = \'8\' and a."NAME" = \'Stool\' and a."GEO" = Unsupported Type;',
     False, "d", {"ID": "8", "NAME": "Stool", "GEO": None}, None),
    ("update of an XMLType table: alias and XMLTYPE values",
     'update "SHOP"."DOCS" a set a."BODY" = XMLTYPE(\'<note>new</note>\') where a."ID" = \'1\' and '
     "a.\"BODY\" = XMLTYPE('<note>old</note>');",
     False, "u", {"ID": "1", "BODY": "<note>old</note>"}, {"ID": "1", "BODY": "<note>new</note>"}),
    ("an unknown object: names with a space and '#', a bare number",
     'insert into "UNKNOWN"."OBJ# 91234"("COL 1") values (42)', False, "c", None, {"COL 1": 42}),
    ("doubled quotes in set and where",
     "update \"SHOP\".\"NOTES\" set \"TXT\" = 'say ''hi''' where \"TXT\" = 'it''s ''done'' now'",
     False, "u", {"TXT": "it's 'done' now"}, {"TXT": "say 'hi'"}),
    ("doubled quotes at a value's ends, a space before the column list, a stray quote after the values",
     "insert into \"SHOP\".\"NOTES\" (\"TXT\") values ('''quoted'' first')'", False, "c", None,
     {"TXT": "'quoted' first"}),
    ("update without a where clause ending in a function",
     'update "SHOP"."ORDERS" set "PAID" = \'0\', "OPEN" = \'120\', '
     "\"AT\" = TO_DATE('2021-06-30 12:00:00', 'YYYY-MM-DD HH24:MI:SS');",
     False, "u", {}, {"PAID": "0", "OPEN": "120", "AT": NOON}),
    ("UNISTR with parentheses inside, insert",
     f'insert into "SHOP"."SHOPS" ("A","B") values (UNISTR(\'{UNISTR_PAREN}\'),NULL);',
     False, "c", None, {"A": PAREN_TEXT, "B": None}),
    ("UNISTR with parentheses inside, update",
     f'update "SHOP"."SHOPS" set "B" = UNISTR(\'{UNISTR_PAREN}\') where "A" = UNISTR(\'{UNISTR_PAREN}\');',
     False, "u", {"A": PAREN_TEXT}, {"A": PAREN_TEXT, "B": PAREN_TEXT}),
    ("UNISTR with parentheses inside, delete",
     f'delete from "SHOP"."SHOPS" where "A" = UNISTR(\'{UNISTR_PAREN}\');', False, "d", {"A": PAREN_TEXT}, None),
    ("a doubled quote, insert", "insert into \"SHOP\".\"PETS\"(\"N\",\"K\") values ('Ann''s cat','0');",
     False, "c", None, {"N": "Ann's cat", "K": "0"}),
    ("a doubled quote in the where clause, update",
     "update \"SHOP\".\"PETS\" set \"K\" = '1' where \"N\" = 'Ann''s cat' and \"K\" = '0';",
     False, "u", {"N": "Ann's cat", "K": "0"}, {"N": "Ann's cat", "K": "1"}),
    ("a doubled quote in the where clause, delete",
     "delete from \"SHOP\".\"PETS\" where \"N\" = 'Ann''s cat' and \"K\" = '1';",
     False, "d", {"N": "Ann's cat", "K": "1"}, None),
    ("UNISTR || UNISTR in values",
     f'insert into "SHOP"."WORDS"("ID","W") values (\'1\',UNISTR(\'{RU_1}\') || UNISTR(\'{RU_2}\'));',
     False, "c", None, {"ID": "1", "W": "Данет"}),
    ("UNISTR || UNISTR in a set clause",
     f'update "SHOP"."WORDS" set "W" = UNISTR(\'{RU_1}\') || UNISTR(\'{RU_2}\') where "ID" = \'1\' and "W" IS NULL;',
     False, "u", {"ID": "1", "W": None}, {"ID": "1", "W": "Данет"}),
    ("UNISTR || UNISTR in an update's where clause",
     f'update "SHOP"."WORDS" set "W" = NULL where "ID" = \'1\' and "W" = UNISTR(\'{RU_1}\') || UNISTR(\'{RU_2}\');',
     False, "u", {"ID": "1", "W": "Данет"}, {"ID": "1", "W": None}),
    ("UNISTR || UNISTR in a delete's where clause",
     f'delete from "SHOP"."WORDS" where "ID" = \'1\' and "W" = UNISTR(\'{RU_1}\') || UNISTR(\'{RU_2}\');',
     False, "d", {"ID": "1", "W": "Данет"}, None),
    ("|| inside quoted text is text, insert",
     "insert into \"SHOP\".\"T\" (\"A\",\"B\") values ('x||y','p||q');", False, "c", None, {"A": "x||y", "B": "p||q"}),
    ("|| inside quoted text is text, update",
     "update \"SHOP\".\"T\" set \"A\" = 'x||y||z' where \"A\" = 'x||y' and \"B\" = 'p||q';",
     False, "u", {"A": "x||y", "B": "p||q"}, {"A": "x||y||z", "B": "p||q"}),
    ("|| inside quoted text is text, delete",
     "delete from \"SHOP\".\"T\" where \"A\" = 'x||y' and \"B\" = 'p||q';", False, "d", {"A": "x||y", "B": "p||q"},
     None),
    ("a comment before EMPTY_BLOB()",
     "insert into \"SHOP\".\"J\"(\"ID\",\"DOC\") values ('1',/* JSON */ EMPTY_BLOB());",
     False, "c", None, {"ID": "1", "DOC": b""}),
    ("unescaped quotes inside a set value (relaxed_quotes)",
     "update \"SHOP\".\"CLAIMS\" set \"TXT\" = '\" l'eau, j'ai glissé\"' where \"PK\" = '44';",
     True, "u", {"PK": "44"}, {"PK": "44", "TXT": "\" l'eau, j'ai glissé\""}),
    ("unescaped quotes in a long French text (relaxed_quotes)",
     "update \"SHOP\".\"CLAIMS\" set \"TXT\" = '\"Le casque s'est détendu à cause du vent.\"' where \"PK\" = '45';",
     True, "u", {"PK": "45"}, {"PK": "45", "TXT": "\"Le casque s'est détendu à cause du vent.\""}),
    ("an unescaped quote before a comma in two set values (relaxed_quotes)",
     "update \"SHOP\".\"TAB\" set \"DESCR\" = 'la sua attivita', del liquido', \"NAME\" = 'Other', right?' "
     "where \"ID\" = '1' and \"NAME\" = 'Acme';",
     True, "u", {"ID": "1", "NAME": "Acme"},
     {"ID": "1", "NAME": "Other', right?", "DESCR": "la sua attivita', del liquido"}),
    ("unescaped quotes in an insert value (relaxed_quotes)",
     "insert into \"SHOP\".\"TAB\"(\"NAME\",\"DATA\") values ('9','la pompe d'aspiration, puis s'est rincé.');",
     True, "c", None, {"NAME": "9", "DATA": "la pompe d'aspiration, puis s'est rincé."}),
]

# hand-written SQL in an older parser's tests: unquoted names (Oracle reads them in upper case, quoted ones as
# written), an alias in an insert's column list, no spaces around '=', lower-case null and is null, upper-case AND
PARSED += [
    ("unquoted names with a table alias, lower-case null and is null",
     "update \"SHOP\".\"T\" a set a.\"col1\" = '9', a.col2 = 'diFFerent', a.col6 = 5.2, a.col11 = null "
     "where a.ID = 5 and a.\"COL2\" = 'text' and a.COL4 IS NULL and a.col11 is null;",
     False, "u", {"ID": 5, "COL2": "text", "COL4": None, "COL11": None},
     {"ID": 5, "COL2": "diFFerent", "COL4": None, "COL11": None, "col1": "9", "COL6": Decimal("5.2")}),
    ("no spaces around '=', no where clause",
     "update \"SHOP\".\"T\" a set a.\"id\"=1, a.col5 = null, a.col9=null", False, "u", {},
     {"id": 1, "COL5": None, "COL9": None}),
    ("unquoted names, upper-case AND, double spaces",
     "delete from \"SHOP\".\"T\" where id = 6 and col2 = 'text'  AND col4 is null", False, "d",
     {"ID": 6, "COL2": "text", "COL4": None}, None),
    ("an alias in an insert's column list",
     "insert into \"SHOP\".\"T\" a (a.\"ID\",a.\"C1\",a.\"C9\") values ('5','4',EMPTY_BLOB());", False, "c", None,
     {"ID": "5", "C1": "4", "C9": b""}),
    ("a delete with an alias and nothing after it", "delete from \"SHOP\".\"T\" a ", False, "d", {}, None),
    ("backslashes are text", "insert into \"SHOP\".\"T\"(\"ID\",\"A\",\"B\") values ('5','\\','te\\xt');",
     False, "c", None, {"ID": "5", "A": "\\", "B": "te\\xt"}),
]

# TO_TIMESTAMP in the forms LogMiner writes it with ISO and with Oracle's default NLS formats
TIMESTAMPS = [
    ("2020-09-22 00:09:37.302000", datetime(2020, 9, 22, 0, 9, 37, 302000)),
    ("2020-09-22 00:09:37.", datetime(2020, 9, 22, 0, 9, 37)),
    ("2020-09-22 00:09:37", datetime(2020, 9, 22, 0, 9, 37)),
    ("2020-09-22 00:09:37.0", datetime(2020, 9, 22, 0, 9, 37)),
    ("22-SEP-20 12.09.37 AM", datetime(2020, 9, 22, 0, 9, 37)),
    ("22-SEP-20 12.09.37 PM", datetime(2020, 9, 22, 12, 9, 37)),
    ("29-SEP-20 06.02.24.777000 PM", datetime(2020, 9, 29, 18, 2, 24, 777000)),
    ("2025-01-02 01:02:03.123456789", datetime(2025, 1, 2, 1, 2, 3, 123456)),  # nanoseconds: truncated
    ("1500-03-01 12:34:56.00789", datetime(1500, 3, 1, 12, 34, 56, 7890)),  # fields as written, no calendar shift
]

# (label, statement, what the refusal says)
REFUSED: list[tuple[str, str, str]] = [
    ("an XML document's start row (operation XML DOC BEGIN, not a DML row)",
     'XML DOC BEGIN:  select "DOC" from "SHOP"."DOCS" where "ID" = \'1\'', "not an insert, update or delete"),
    ("an extended string's PL/SQL block (a LOB-style write, not a DML row)",
     "DECLARE\n TempLob CLOB;\nBEGIN\n Stmt := 'update \"SHOP\".\"T\" a set a.\"DATA\" = :DATA "
     "where a.\"ID\" = ''1'';';",
     "not an insert, update or delete"),
    ("a reserved word where a column name belongs", "delete from \"SHOP\".\"T\" where and = 6", "expected a name"),
    ("a spatial object value", 'update "SHOP"."MAP" set "G" = SDO_GEOMETRY(2001, NULL, NULL, NULL, NULL) '
     "where \"ID\" = '1'", "unsupported function SDO_GEOMETRY"),
    ("a date in year 0", "update \"SHOP\".\"T\" set \"D\" = TO_DATE('0000-01-02 00:00:00', 'YYYY-MM-DD HH24:MI:SS') "
     "where \"ID\" = '1'", "year 0, which Oracle's calendar does not have"),
    ("a timestamp in year 0",
     "insert into \"SHOP\".\"T\"(\"TS\") values (TO_TIMESTAMP('0000-01-02 00:00:00.123456789'))",
     "year 0, which Oracle's calendar does not have"),
    ("a BC date with a signed year", "insert into \"SHOP\".\"T\"(\"D\") values "
     "(TO_DATE('-2018-03-27 12:34:56', 'SYYYY-MM-DD HH24:MI:SS'))", "2018 BC"),
    ("a BC timestamp with a time zone", "insert into \"SHOP\".\"T\"(\"TZ\") values "
     "(TO_TIMESTAMP_TZ('-0001-12-31 23:59:59.99999 -11:00', 'SYYYY-MM-DD HH24:MI:SS.FF5 TZH:TZM'))", "1 BC"),
    ("a value with unescaped quotes, relaxed_quotes off",
     "insert into \"SHOP\".\"T\"(\"ID\",\"NAME\") values ('1',''Insert1'');", "expected"),
]


@pytest.mark.parametrize("label, sql, relaxed, op, before, after", PARSED, ids=[p[0] for p in PARSED])
def test_reference_shape_parses_to_its_images(label: str, sql: str, relaxed: bool, op: str, before: Image,
                                              after: Image) -> None:
    redo = parse_redo(sql, relaxed_quotes=relaxed)
    assert (redo.op, redo.before, redo.after) == (op, before, after)


@pytest.mark.parametrize("text, expected", TIMESTAMPS)
def test_reference_timestamp_forms(text: str, expected: datetime) -> None:
    sql = (f'update "SHOP"."ITEMS" a set a."C1" = \'9\', a."TS" = TO_TIMESTAMP(\'{text}\') '
           f"where a.\"ID\" = '5' and a.\"TS\" = TO_TIMESTAMP('{text}') and a.\"C2\" IS NULL;")
    redo = parse_redo(sql)
    assert redo.before == {"ID": "5", "TS": expected, "C2": None}
    assert redo.after == {"ID": "5", "TS": expected, "C1": "9", "C2": None}


@pytest.mark.parametrize("label, sql, reason", REFUSED, ids=[r[0] for r in REFUSED])
def test_reference_shape_refused_with_its_reason(label: str, sql: str, reason: str) -> None:
    with pytest.raises(RedoParseError, match=reason):
        parse_redo(sql)


LOB_TABLE = [
    {"COLUMN_NAME": "ID", "DATA_TYPE": "NUMBER", "DATA_PRECISION": 9, "DATA_SCALE": 0, "NULLABLE": "N", "COLUMN_ID": 1},
    {"COLUMN_NAME": "NOTE", "DATA_TYPE": "VARCHAR2", "DATA_LENGTH": 40, "CHAR_LENGTH": 40, "COLUMN_ID": 2},
    {"COLUMN_NAME": "C_A", "DATA_TYPE": "CLOB", "COLUMN_ID": 3},
    {"COLUMN_NAME": "N_A", "DATA_TYPE": "NCLOB", "COLUMN_ID": 4},
    {"COLUMN_NAME": "B_A", "DATA_TYPE": "BLOB", "COLUMN_ID": 5},
    {"COLUMN_NAME": "C_B", "DATA_TYPE": "CLOB", "COLUMN_ID": 6},
    {"COLUMN_NAME": "B_B", "DATA_TYPE": "BLOB", "COLUMN_ID": 7},
]


def _event(sql: str) -> tuple[Image, Image]:
    meta, _ = table_from_catalog("ora", "PDB1", "SHOP", "LOBS", LOB_TABLE, ["ID"])
    source = SourceInfo(connector="oracle", name="ora", db="PDB1", schema="SHOP", table="LOBS", ts_ms=0)
    event = event_from_redo(parse_redo(sql), meta, source, 0)
    return event.before, event.after


def test_reference_lob_columns_left_out_are_unavailable() -> None:
    gone, gone_bytes = UNAVAILABLE, UNAVAILABLE.encode()
    before, after = _event('update "SHOP"."LOBS" set "NOTE" = \'Test\', "C_B" = \'X\', "B_B" = HEXTORAW(\'0E\') '
                           "where \"ID\" = '1';")
    assert before == {"ID": 1, "NOTE": None, "C_A": gone, "N_A": gone, "B_A": gone_bytes, "C_B": gone,
                      "B_B": gone_bytes}
    assert after == {"ID": 1, "NOTE": "Test", "C_A": gone, "N_A": gone, "B_A": gone_bytes, "C_B": "X",
                     "B_B": b"\x0e"}
    before, after = _event('delete from "SHOP"."LOBS" where "ID" = \'1\';')
    assert after is None
    assert before == {"ID": 1, "NOTE": None, "C_A": gone, "N_A": gone, "B_A": gone_bytes, "C_B": gone,
                      "B_B": gone_bytes}


POSITIONAL = [
    {"COLUMN_NAME": "ID", "DATA_TYPE": "RAW", "DATA_LENGTH": 4, "COLUMN_ID": 1},
    {"COLUMN_NAME": "DATA", "DATA_TYPE": "RAW", "DATA_LENGTH": 4, "COLUMN_ID": 2},
]


@pytest.mark.parametrize("sql, before, after", [
    ('insert into "SHOP"."RAWS" ("COL 1","COL 2") values (HEXTORAW(\'a\'),HEXTORAW(\'b\'));',
     None, {"ID": b"\x0a", "DATA": b"\x0b"}),
    ('insert into "SHOP"."RAWS" ("COL 2","COL 1") values (HEXTORAW(\'b\'),HEXTORAW(\'a\'));',
     None, {"ID": b"\x0a", "DATA": b"\x0b"}),
    ('update "SHOP"."RAWS" set "COL 1" = HEXTORAW(\'c\'), "COL 2" = HEXTORAW(\'d\') '
     "where \"COL 1\" = HEXTORAW('a') and \"COL 2\" = HEXTORAW('b');",
     {"ID": b"\x0a", "DATA": b"\x0b"}, {"ID": b"\x0c", "DATA": b"\x0d"}),
    ('update "SHOP"."RAWS" set "COL 2" = HEXTORAW(\'d\'), "COL 1" = HEXTORAW(\'c\') '
     "where \"COL 2\" = HEXTORAW('b') and \"COL 1\" = HEXTORAW('a');",
     {"ID": b"\x0a", "DATA": b"\x0b"}, {"ID": b"\x0c", "DATA": b"\x0d"}),
    ("delete from \"SHOP\".\"RAWS\" where \"COL 1\" = HEXTORAW('a') and \"COL 2\" = HEXTORAW('b');",
     {"ID": b"\x0a", "DATA": b"\x0b"}, None),
    ("delete from \"SHOP\".\"RAWS\" where \"COL 2\" = HEXTORAW('b') and \"COL 1\" = HEXTORAW('a');",
     {"ID": b"\x0a", "DATA": b"\x0b"}, None),
])
def test_reference_col_n_names_by_position(sql: str, before: Image, after: Image) -> None:
    meta, _ = table_from_catalog("ora", "PDB1", "SHOP", "RAWS", POSITIONAL, ["ID"])
    source = SourceInfo(connector="oracle", name="ora", db="PDB1", schema="SHOP", table="RAWS", ts_ms=0)
    event = event_from_redo(parse_redo(sql), meta, source, 0)
    assert (event.before, event.after) == (before, after)
