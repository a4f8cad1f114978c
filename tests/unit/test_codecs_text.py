"""Text fields and code pages as IBM defines them: low-values, C1 controls, euro code pages 1141/1148, 273."""

from __future__ import annotations

import pytest

from connectors.codecs import compile_layout, decode_text, parse_copybook, resolve_codepage
from connectors.codecs.fields import available_ebcdic_codepages

NAME = parse_copybook("01 R.\n  05 NAME PIC X(10).\n  05 CITY PIC X(4).")


def _record(name_hex: str, city: bytes = b"\xc1\xc2\x40\x40") -> bytes:
    return bytes.fromhex(name_hex) + city


@pytest.mark.parametrize("trim", [True, False])
def test_all_low_values_is_null_on_both_paths(trim: bool) -> None:
    decoder = compile_layout(NAME, "cp037", trim=trim)
    record = bytes(10) + b"\xc1\xc2\x40\x40"
    assert decoder.decode(record)["name"] is None
    assert decoder._fallback(record, None)["name"] is None


def test_trailing_low_values_are_trimmed_like_blanks() -> None:
    decoder = compile_layout(NAME, "cp037")
    value = decoder.decode(_record("E3899489928100000000"))
    assert value == {"name": "Timika", "city": "AB"}
    assert decoder._fallback(_record("E3899489928100000000"), None) == value
    assert decoder.decode(_record("E389948992814000")[:8] + b"\x00\x40" + b"\xc1\xc2\x40\x40")["name"] == "Timika"


def test_blank_field_stays_empty_text_not_null() -> None:
    decoder = compile_layout(NAME, "cp037")
    assert decoder.decode(b"\x40" * 14) == {"name": "", "city": ""}


def test_low_values_inside_text_are_kept() -> None:
    assert decode_text(bytes.fromhex("C100C1")) == "A\x00A"


def test_c1_controls_read_as_blanks() -> None:
    # In cp037, X'21' decodes to U+0081 and X'31' to U+0091 (C1 controls): not text, read as blanks.
    assert decode_text(bytes.fromhex("C121C1")) == "A A"
    assert decode_text(bytes.fromhex("C1C231")) == "AB"
    decoder = compile_layout(NAME, "cp037")
    record = _record("C131C2404040404040 40".replace(" ", ""))
    assert decoder.decode(record)["name"] == "A B"
    assert decoder._fallback(record, None)["name"] == "A B"


@pytest.mark.parametrize(("codepage", "base"), [("cp1141", "cp273"), ("cp1148", "cp500"), (1141, "cp273")])
def test_euro_code_pages_are_their_base_with_euro_at_9f(codepage: str | int, base: str) -> None:
    every = bytes(range(256))
    euro = decode_text(every, codepage, trim=False)
    plain = decode_text(every, base, trim=False)
    assert euro is not None and plain is not None
    assert euro[0x9F] == "\u20ac"
    assert plain[0x9F] == "\u00a4"  # the base page's currency sign
    assert [i for i in range(256) if euro[i] != plain[i]] == [0x9F]


def test_euro_code_pages_are_listed_and_decode_records() -> None:
    assert {"cp1141", "cp1148"} <= set(available_ebcdic_codepages())
    decoder = compile_layout(NAME, "cp1141")
    assert decoder.decode(b"\x9f\xf1\xf0" + b"\x40" * 7 + b"\xc1\x40\x40\x40") == {"name": "\u20ac10", "city": "A"}


def test_cp273_bc_is_macron_as_ibm_publishes_it() -> None:
    assert decode_text(b"\xbc", 273) == "\u00af"
    assert decode_text(b"\xbc", "IBM-273") == "\u00af"
    assert resolve_codepage("cp273") != "cp273"  # crmhub's own table, not Python's U+203E


def test_euro_code_page_passes_feed_validation() -> None:
    from connectors.filedrop.config import Feed

    feed = Feed(name="f", pattern="*.BIN", format="ebcdic", mode="snapshot", key_columns=["k"],
                copybook="x.cpy", codepage="cp1148")  # fmt: skip
    assert feed.codepage == "cp1148"
