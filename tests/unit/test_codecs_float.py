"""COMP-1/COMP-2: IEEE 754 (default) or IBM hexadecimal floating point, chosen per feed (``float_format``).

IBM hexadecimal float (z/Architecture Principles of Operation): sign bit, 7-bit exponent of 16 in excess-64,
then a 24-bit (short) or 56-bit (long) fraction; value = fraction x 16 ** (exponent - 64)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.codecs import compile_columns, compile_layout, decode_float, parse_copybook
from connectors.codecs.columns import Column
from connectors.filedrop.config import Feed
from connectors.filedrop.ebcdic import EbcdicReader
from connectors.filedrop.formats import Record
from schemas.errors import ConfigError

IBM_HEX = [
    ("41100000", 1.0),  # 0.0625 x 16
    ("C276A000", -118.625),  # Principles of Operation's example
    ("00000000", 0.0),
    ("40800000", 0.5),
    ("4110000000000000", 1.0),
    ("C276A00000000000", -118.625),
]


@pytest.mark.parametrize(("hexed", "value"), IBM_HEX)
def test_ibm_hex_values(hexed: str, value: float) -> None:
    assert decode_float(bytes.fromhex(hexed), float_format="ibm_hex") == value


def test_reference_comp_2() -> None:
    value = decode_float(bytes.fromhex("43142EFCCAF709B7"), float_format="ibm_hex")
    assert value == pytest.approx(322.936717, abs=1e-9)
    # read as IEEE the same bytes are a different number altogether
    assert decode_float(bytes.fromhex("43142EFCCAF709B7")) != pytest.approx(322.936717)


def test_layout_decodes_both_formats_on_both_paths() -> None:
    layout = parse_copybook("01 R.\n  05 A COMP-2.\n  05 B COMP-1.\n  05 C PIC S9(4) COMP.")
    record = bytes.fromhex("43142EFCCAF709B7" "C276A000" "FFFE")
    hexed = compile_layout(layout, float_format="ibm_hex")
    expected = {"a": pytest.approx(322.936717, abs=1e-9), "b": -118.625, "c": -2}
    assert hexed.decode(record) == expected
    assert hexed._fallback(record, None) == expected
    ieee = compile_layout(layout)
    assert ieee.decode(bytes.fromhex("3FF0000000000000" "3FA00000" "0001")) == {"a": 1.0, "b": 1.25, "c": 1}


def test_unknown_float_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ieee or ibm_hex"):
        compile_columns([Column("F", "float", 0, 4)], float_format="vax")  # type: ignore[arg-type]


def test_feed_option_reaches_the_reader(tmp_path: Path) -> None:
    copybook = tmp_path / "r.cpy"
    copybook.write_text("01 R.\n  05 ID PIC 9(2).\n  05 AMOUNT COMP-2.\n")
    base = {"name": "f", "pattern": "*", "format": "ebcdic", "mode": "delta", "key_columns": ["id"],
            "copybook": str(copybook)}  # fmt: skip
    assert Feed.model_validate(base).float_format == "ieee"
    feed = Feed.model_validate(base | {"float_format": "ibm_hex"})
    reader = EbcdicReader(feed, parse_copybook(copybook.read_text()))
    (item,) = list(reader.read(bytes.fromhex("F0F7" "C276A00000000000")))
    assert isinstance(item, Record)
    assert item.row["amount"] == -118.625 and item.row["id"] == 7
    with pytest.raises(ValueError, match="float_format"):
        Feed.model_validate(base | {"float_format": "vax"})
