"""The EBCDIC tables the journal connector registers, checked against their definition and the system's iconv."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from connectors.codecs import resolve_codepage
from connectors.ibmi_journal.ccsids import (
    EURO_VARIANT,
    SUPPORTED_EBCDIC,
    base_table,
    codec_for_ccsid,
    euro_table,
)
from schemas.errors import ConfigError

ALL = bytes(range(256))
LATIN1 = sorted(ALL.decode("latin-1"))


@pytest.mark.parametrize("ccsid", SUPPORTED_EBCDIC)
def test_every_ccsid_decodes_every_byte_to_a_distinct_character(ccsid: int) -> None:
    table = ALL.decode(codec_for_ccsid(ccsid))
    assert len(set(table)) == 256
    assert table[0x40] == " " and table[0xF0:0xFA] == "0123456789"  # invariant characters
    assert table[0xC1:0xCA] == "ABCDEFGHI" and table[0x81:0x8A] == "abcdefghi"


@pytest.mark.parametrize("base", [277, 278, 280, 284, 285, 297, 871])
def test_base_tables_are_latin1_permutations_and_their_euro_variant_differs_by_the_euro_only(base: int) -> None:
    table = ALL.decode(codec_for_ccsid(base))
    assert sorted(table) == LATIN1
    euro = ALL.decode(codec_for_ccsid(EURO_VARIANT[base]))
    diff = [(i, table[i], euro[i]) for i in range(256) if table[i] != euro[i]]
    assert len(diff) == 1 and diff[0][1:] == ("¤", "€")


def test_python_builtin_euro_pair_has_the_same_relation() -> None:  # what the derivation relies on, checked on 037
    a, b = ALL.decode("cp037"), ALL.decode("cp1140")
    assert [(i, a[i], b[i]) for i in range(256) if a[i] != b[i]] == [(0x9F, "¤", "€")]


@pytest.mark.parametrize(("ccsid", "text", "hex_"), [
    (277, "ÆØÅ", "7b7c5b"),  # Danish/Norwegian national characters
    (278, "ÄÖÅ", "7b7c5b"),
    (273, "ÄÖÜ", "4ae05a"),
    (280, "£§", "7b7c"),
    (284, "Ññ", "7b6a"),
    (285, "£$", "5b4a"),
    (297, "£à", "7b7c"),
    (871, "ÞÆ", "4a5a"),
    (1141, "€Ä", "9f4a"),
    (1142, "€Æ", "5a7b"),
    (1149, "€Þ", "9f4a"),
])
def test_national_characters_at_their_documented_code_points(ccsid: int, text: str, hex_: str) -> None:
    assert text.encode(codec_for_ccsid(ccsid)).hex() == hex_
    assert bytes.fromhex(hex_).decode(resolve_codepage(ccsid)) == text


def _iconv(name: str) -> str | None:
    if shutil.which("iconv") is None:
        return None
    done = subprocess.run(["iconv", "-f", name, "-t", "UTF-16BE"], input=ALL, capture_output=True, check=False)
    return done.stdout.decode("utf-16-be") if done.returncode == 0 and len(done.stdout) == 512 else None


@pytest.mark.parametrize("ccsid", range(1141, 1150))
def test_euro_variants_match_the_systems_iconv(ccsid: int) -> None:
    reference = _iconv(f"IBM{ccsid}")
    if reference is None:
        pytest.skip(f"iconv with IBM{ccsid} is not available here")
    assert euro_table(ccsid) == reference


@pytest.mark.parametrize(("ccsid", "known"), [(277, set()), (280, set()), (284, set()), (297, set()),
                                              (285, {0xA1}), (278, {0x71, 0xE0}), (871, {0x4A, 0xC0})])
def test_base_tables_match_iconv_but_for_the_documented_choices(ccsid: int, known: set[int]) -> None:
    reference = _iconv(f"IBM{ccsid}")
    if reference is None:
        pytest.skip(f"iconv with IBM{ccsid} is not available here")
    ours = base_table(ccsid)
    assert {i for i in range(256) if ours[i] != reference[i]} == known


def test_unsupported_ccsid_is_a_config_error_listing_the_supported_ones() -> None:
    with pytest.raises(ConfigError, match=r"CCSID 1025 is not supported .*1149"):
        codec_for_ccsid(1025)
    assert codec_for_ccsid(65535) == "binary"
    assert codec_for_ccsid(1200) == "utf-16-be"
