"""OCCURS DEPENDING ON, per the IBM Enterprise COBOL Language Reference (OCCURS clause, variable-length tables):
the record holds as many occurrences as its count item says, and items after the table follow the last
occurrence. Records are written by hand, field by field, from IBM's data formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.codecs import compile_layout, compile_variable, parse_copybook
from connectors.filedrop.config import Feed
from connectors.filedrop.ebcdic import EbcdicReader, flat_fields
from connectors.filedrop.formats import BadRecord, Record
from schemas.errors import ConfigError, SkippableError

COPYBOOK = """\
01 R.
  05 ID PIC 9(3).
  05 N PIC 9.
  05 ITEMS {occurs} DEPENDING ON N.
     10 CODE PIC X(2).
     10 AMT PIC S9(3) COMP-3.
  05 TAIL PIC X(2).
"""
FORMS = ["OCCURS 0 TO 3 TIMES", "OCCURS 0 TO 3", "OCCURS 3 TIMES", "OCCURS 1 TO 3"]


def item(code: str, amount_hex: str) -> bytes:
    return code.encode("cp037") + bytes.fromhex(amount_hex)


TWO = b"\xf0\xf0\xf1" + b"\xf2" + item("AB", "012C") + item("CD", "345D") + "ZZ".encode("cp037")
NONE = b"\xf0\xf0\xf2" + b"\xf0" + "YY".encode("cp037")


@pytest.mark.parametrize("form", FORMS)
def test_every_form_parses_with_the_maximum_as_layout_length(form: str) -> None:
    layout = parse_copybook(COPYBOOK.format(occurs=form))
    assert layout.variable and layout.length == 3 + 1 + 3 * 4 + 2  # COMP-3 S9(3): 2 bytes
    table = layout.find("ITEMS")
    assert (table.occurs, table.depending_on, table.occurs_min) == (3, "N", 1 if "1 TO" in form else 0)


def test_the_table_holds_the_count_and_later_items_shift() -> None:
    decoder = compile_variable(parse_copybook(COPYBOOK.format(occurs="OCCURS 0 TO 3 TIMES")))
    assert decoder.decode(TWO) == {
        "id": 1, "n": 2, "items": [{"code": "AB", "amt": 12}, {"code": "CD", "amt": -345}], "tail": "ZZ",
    }  # fmt: skip
    assert decoder.decode(NONE) == {"id": 2, "n": 0, "items": [], "tail": "YY"}
    assert decoder.decoder_for(TWO).length == 14 and decoder.decoder_for(NONE).length == 6


def test_consecutive_variable_records_are_split_by_their_counts() -> None:
    decoder = compile_variable(parse_copybook(COPYBOOK.format(occurs="OCCURS 0 TO 3 TIMES")))
    pieces = [bytes(view) for _, view in decoder.records(TWO + NONE + TWO)]
    assert pieces == [TWO, NONE, TWO]


def test_a_count_outside_its_bounds_is_named_and_stops_the_split() -> None:
    decoder = compile_variable(parse_copybook(COPYBOOK.format(occurs="OCCURS 1 TO 3 TIMES")))
    with pytest.raises(SkippableError, match=r"N = 0 is outside OCCURS 1 TO 3 DEPENDING ON N \(line 4\)"):
        decoder.decode(NONE)
    bad = b"\xf0\xf0\xf3" + b"\xf5" + b"\x40" * 20
    assert [len(view) for _, view in decoder.records(TWO + bad)] == [14, 24]


def test_elementary_table_and_two_tables() -> None:
    layout = parse_copybook(
        "01 R.\n  05 A PIC 9.\n  05 B PIC S9(3) COMP-3.\n  05 X PIC X OCCURS 0 TO 4 DEPENDING ON A.\n"
        "  05 Y PIC S9(4) COMP OCCURS 0 TO 2 DEPENDING ON B.\n  05 Z PIC X."
    )
    record = b"\xf2" + bytes.fromhex("001C") + "PQ".encode("cp037") + bytes.fromhex("FFFE") + "E".encode("cp037")
    assert compile_variable(layout).decode(record) == {"a": 2, "b": 1, "x": ["P", "Q"], "y": [-2], "z": "E"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("01 R.\n  05 T OCCURS 2.\n    10 N PIC 9.\n    10 X PIC X OCCURS 0 TO 3 DEPENDING ON N.",
         "line 4: X OCCURS DEPENDING ON N: the count cannot be in a table"),
        ("01 R.\n  05 X PIC X OCCURS 0 TO 3 DEPENDING ON MISSING.", "no elementary item MISSING"),
        ("01 R.\n  05 N PIC X.\n  05 X PIC X OCCURS 0 TO 3 DEPENDING ON N.", "must be an integer"),
        ("01 R.\n  05 X PIC X OCCURS 0 TO 3 DEPENDING ON N.\n  05 N PIC 9.", "must come before"),
        ("01 R.\n  05 N PIC 9.\n  05 X PIC X OCCURS 4 TO 3 DEPENDING ON N.", "minimum exceeds the maximum"),
        ("01 R.\n  05 N PIC 9.\n  05 X PIC X OCCURS 0 TO 3.", "OCCURS min TO max needs DEPENDING ON"),
    ],
)
def test_unsupported_or_wrong_forms_name_the_line(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_copybook(text)


def test_compile_layout_points_to_compile_variable() -> None:
    with pytest.raises(ConfigError, match="compile_variable"):
        compile_layout(parse_copybook(COPYBOOK.format(occurs="OCCURS 0 TO 3 TIMES")))


def _reader(tmp_path: Path, **values: object) -> EbcdicReader:
    copybook = tmp_path / "r.cpy"
    copybook.write_text(COPYBOOK.format(occurs="OCCURS 0 TO 3 TIMES"))
    base = {"name": "f", "pattern": "*", "format": "ebcdic", "mode": "delta", "key_columns": ["id"],
            "copybook": str(copybook)}  # fmt: skip
    return EbcdicReader(Feed.model_validate(base | values), parse_copybook(copybook.read_text()))


def test_reader_reads_variable_records_with_nulls_past_the_count(tmp_path: Path) -> None:
    reader = _reader(tmp_path)
    names = [flat.name for flat in flat_fields(reader.decoder.layout)]  # type: ignore[union-attr]
    assert names[:4] == ["id", "n", "items_1_code", "items_1_amt"] and names[-1] == "tail"
    first, second = list(reader.read(TWO + NONE))
    assert isinstance(first, Record) and isinstance(second, Record)
    assert first.row["items_2_amt"] == -345 and first.row["items_3_code"] is None and first.row["tail"] == "ZZ"
    assert second.row == dict.fromkeys(names) | {"id": 2, "n": 0, "tail": "YY"}


def test_reader_with_fixed_record_length_uses_counts_inside_each_record(tmp_path: Path) -> None:
    reader = _reader(tmp_path, record_length=21)
    items = list(reader.read(TWO.ljust(21, b"\x40") + NONE.ljust(21, b"\x40")))
    assert [item.row["tail"] for item in items if isinstance(item, Record)] == ["ZZ", "YY"]
    bad = list(reader.read(b"\xf0\xf0\xf7\xf9".ljust(21, b"\x40")))
    assert isinstance(bad[0], BadRecord) and "N = 9" in bad[0].reason and bad[0].key == {"id": 7}


# IBM Enterprise COBOL Language Reference, "Complex OCCURS DEPENDING ON": a variable table subordinate to another
# table (a table with variable-length elements); its count is in no table, so every occurrence is as long.
NESTED = """\
       01  FIELD-A.
           02  COUNTER-1 PIC S99.
           02  COUNTER-2 PIC S99.
           02  TABLE-1.
               03  RECORD-1 PIC X(3)
                   OCCURS 1 TO 5 TIMES DEPENDING ON COUNTER-1.
           02  EMPLOYEE-NUMBER PIC X(5).
           02  TABLE-2 OCCURS {outer}.
               03  TABLE-ITEM PIC 99.
               03  RECORD-2 OCCURS 1 TO 3 TIMES DEPENDING ON COUNTER-2.
                   04  DATA-NUM PIC S99.
           02  TAIL PIC X(2).
"""


def _nested_record(counter_1: int, counter_2: int, outer: int) -> bytes:
    """Zoned S99 with the sign in the zone of the last digit (C positive), by IBM's DISPLAY format."""

    def s99(value: int) -> bytes:
        return bytes([0xF0 | value // 10, 0xC0 | value % 10])

    return b"".join(
        (
            s99(counter_1),
            s99(counter_2),
            "".join(f"R{n:02d}" for n in range(counter_1)).encode("cp037"),
            "EMP01".encode("cp037"),
            *(bytes([0xF0, 0xF0 | i]) + b"".join(s99(10 * i + j) for j in range(counter_2)) for i in range(outer)),
            "ZZ".encode("cp037"),
        )
    )


def test_a_variable_table_inside_a_fixed_table_shifts_every_occurrence() -> None:
    decoder = compile_variable(parse_copybook(NESTED.format(outer="5 TIMES")))
    assert decoder.length == 4 + 15 + 5 + 5 * (2 + 3 * 2) + 2
    record = _nested_record(2, 2, 5)
    assert decoder.decoder_for(record).length == len(record) == 4 + 6 + 5 + 5 * 6 + 2
    value = decoder.decode(record)
    assert value["record_1"] == ["R00", "R01"] and value["tail"] == "ZZ"
    assert value["table_2"][3] == {"table_item": 3, "record_2": [{"data_num": 30}, {"data_num": 31}]}
    assert [len(view) for _, view in decoder.records(record + _nested_record(1, 3, 5))] == [47, 4 + 3 + 5 + 40 + 2]


def test_a_variable_table_inside_a_variable_table() -> None:
    decoder = compile_variable(parse_copybook(NESTED.format(outer="0 TO 4 DEPENDING ON COUNTER-1")))
    record = _nested_record(3, 1, 3)
    value = decoder.decode(record)
    assert [row["record_2"] for row in value["table_2"]] == [[{"data_num": 0}], [{"data_num": 10}],
                                                              [{"data_num": 20}]]  # fmt: skip
    assert value["tail"] == "ZZ" and decoder.decoder_for(record).length == len(record)


def test_reader_names_nested_columns_for_their_maxima_and_nulls_the_rest(tmp_path: Path) -> None:
    copybook = tmp_path / "n.cpy"
    copybook.write_text(NESTED.format(outer="5 TIMES"))
    feed = Feed.model_validate({"name": "f", "pattern": "*", "format": "ebcdic", "mode": "delta",
                                "key_columns": ["employee_number"], "copybook": str(copybook)})  # fmt: skip
    reader = EbcdicReader(feed, parse_copybook(copybook.read_text()))
    (item,) = reader.read(_nested_record(1, 2, 5))
    assert isinstance(item, Record)
    assert item.row["table_2_5_record_2_2_data_num"] == 41 and item.row["table_2_5_record_2_3_data_num"] is None
    assert item.row["record_1_1"] == "R00" and item.row["record_1_2"] is None and item.row["tail"] == "ZZ"
