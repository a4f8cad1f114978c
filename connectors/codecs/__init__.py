"""Record-image decoders for legacy data: COBOL copybooks, IBM i record images, fixed-width text.

- ``fields``: primitive decoders (packed, zoned, binary, float, code-page text).
- ``copybook``: COBOL copybook -> ``Layout`` (offsets and lengths as IBM COBOL computes them).
- ``record``: ``compile_layout`` / ``compile_columns`` -> ``RecordDecoder``; ``iter_records``.
- ``depending``: OCCURS DEPENDING ON, ``compile_variable`` -> ``VariableDecoder`` (variable-length records).
- ``descriptors``: files of records behind record (and block) descriptor words, ``RECFM=V/VB``.
- ``fixed``: fixed-width text layouts described in YAML.
"""

from connectors.codecs.columns import Column
from connectors.codecs.copybook import parse_copybook
from connectors.codecs.depending import VariableDecoder, compile_variable
from connectors.codecs.fields import (
    FieldDecodeError,
    available_ebcdic_codepages,
    decode_binary,
    decode_float,
    decode_packed,
    decode_text,
    decode_zoned,
    register_codepage,
    resolve_codepage,
)
from connectors.codecs.fixed import FixedField, FixedLayout
from connectors.codecs.layout import Field, Group, Layout, snake_name
from connectors.codecs.record import RecordDecoder, compile_columns, compile_layout, iter_records

__all__ = [
    "Column",
    "Field",
    "FieldDecodeError",
    "FixedField",
    "FixedLayout",
    "Group",
    "Layout",
    "RecordDecoder",
    "VariableDecoder",
    "available_ebcdic_codepages",
    "compile_columns",
    "compile_layout",
    "compile_variable",
    "decode_binary",
    "decode_float",
    "decode_packed",
    "decode_text",
    "decode_zoned",
    "iter_records",
    "parse_copybook",
    "register_codepage",
    "resolve_codepage",
    "snake_name",
]
