"""Settings of the file-drop connector (export files on Windows shares, AS/400 flat-file exports).

Moved here from ``hub/config.py`` unchanged in behaviour; the fields after ``feeds`` / ``record_length`` are
additions, all with defaults, so existing YAML still validates. Cross-field rules are field validators with
``validate_default=True`` (they see the fields declared before them in ``info.data``), which puts each
problem at the field's own path (``connectors[3].feeds[0].layout: field required for format 'fixed'``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

import connectors.codecs  # noqa: F401  (registers the IBM code pages Python lacks: cp1047, cp1141, cp1148)
from schemas.settings import (
    ConfigModel,
    ConnectorSettings,
    Name,
    OptPath,
    check_codec,
    duplicate_names,
    missing,
)

NonEmpty = Annotated[str, Field(min_length=1)]
CsvType = Literal["string", "int", "decimal", "float", "boolean", "date", "timestamp"]
OpCode = Literal["c", "u", "d"]
DEFAULT_OP_VALUES: dict[str, OpCode] = {"I": "c", "A": "c", "U": "u", "D": "d", "c": "c", "u": "u", "d": "d"}
_DEFAULT_FORMATS = {"date": "%Y-%m-%d", "timestamp": "%Y-%m-%d %H:%M:%S"}


def _name_to_column(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class CsvColumn(ConfigModel):
    """A CSV column: ``customer_no`` alone is a string column; types are given as a mapping."""

    name: NonEmpty
    type: CsvType = "string"
    precision: Annotated[int, Field(ge=1, le=38)] | None = Field(default=None, validate_default=True)
    scale: Annotated[int, Field(ge=0)] = 0
    format: NonEmpty | None = Field(default=None, description="strptime format for date/timestamp (default ISO)")

    @field_validator("precision", mode="after")
    @classmethod
    def _decimal_precision(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("type") == "decimal":
            raise missing("field required for type 'decimal'")
        return value

    @property
    def strptime_format(self) -> str:
        return self.format or _DEFAULT_FORMATS.get(self.type, "")


class CsvOptions(ConfigModel):
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    quotechar: Annotated[str, Field(min_length=1, max_length=1)] = '"'
    header: bool = True
    columns: list[Annotated[CsvColumn, BeforeValidator(_name_to_column)]] | None = Field(
        default=None, validate_default=True, description="the columns, needed to describe the table: by header name, "
                                                         "or by position without header"
    )
    decimal_separator: Literal[".", ","] = "."
    null_values: list[str] = Field(default_factory=list, description='values (after trim) read as null, e.g. '
                                                                     '["NULL"]')

    @field_validator("columns", mode="after")
    @classmethod
    def _columns_without_header(cls, value: list[CsvColumn] | None, info: ValidationInfo) -> list[CsvColumn] | None:
        if value is None and info.data.get("header") is False:
            raise missing("field required when header is false")
        if value is not None:
            names = [c.name for c in value]
            dups = sorted({n for n in names if names.count(n) > 1})
            if dups:
                message = "column listed more than once: {dups}"
                raise PydanticCustomError("duplicate", message, {"dups": ", ".join(dups)})
        return value


class Feed(ConfigModel):
    name: Name
    pattern: Annotated[str, Field(min_length=1)]
    format: Literal["csv", "fixed", "ebcdic"] = "csv"
    mode: Literal["snapshot", "delta"]
    key_columns: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    encoding: Annotated[str, Field(min_length=1)] = "utf-8"
    csv: CsvOptions = Field(default_factory=CsvOptions)
    layout: OptPath = Field(default=None, validate_default=True)
    copybook: OptPath = Field(default=None, validate_default=True)
    codepage: Annotated[str, Field(min_length=1)] = "cp037"
    record_length: Annotated[int, Field(ge=1)] | None = None
    # additions
    copybook_record: NonEmpty | None = Field(
        default=None, description="the 01 record to use when the copybook defines several")
    trim: bool = Field(
        default=True, description="strip blanks around CSV values; right-trim text fields of fixed/EBCDIC records "
                                   "(EBCDIC: trailing blanks and low-values)")
    op_column: NonEmpty | None = Field(default=None, validate_default=True,
                                       description="delta files: the column holding the op of each row")
    op_values: dict[str, OpCode] = Field(default_factory=lambda: dict(DEFAULT_OP_VALUES))
    float_format: Literal["ieee", "ibm_hex"] = Field(
        default="ieee", description="EBCDIC feeds: COMP-1/COMP-2 fields are IEEE 754 floats (IBM i, z/OS "
                                    "FLOAT(NATIVE)) or IBM hexadecimal floating point (z/OS by default)")
    record_format: Literal["fixed", "rdw", "vb", "vs", "vbs"] = Field(
        default="fixed", validate_default=True,
        description="EBCDIC feeds with a copybook: fixed-length records (default), records each behind a 4-byte "
                    "record descriptor word (rdw: RECFM=V, FTP'd with its RDWs), or blocks of them each behind a "
                    "block descriptor word (vb: RECFM=VB); spanned records' segments, joined: behind segment "
                    "descriptor words (vs), in blocks too (vbs: RECFM=VBS or VS)")

    decimal_point_is_comma: bool = Field(
        default=False, description="EBCDIC feeds with a copybook: the programs say DECIMAL-POINT IS COMMA, so in "
                                   "numeric-edited pictures and their data ',' is the decimal point and '.' groups "
                                   "digits (PIC ZZ.ZZ9,99)")  # fmt: skip

    @field_validator("encoding", "codepage", mode="after")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        return check_codec(value)

    @field_validator("csv", mode="after")
    @classmethod
    def _csv_columns_known(cls, value: CsvOptions, info: ValidationInfo) -> CsvOptions:
        # The table (and its Avro schema) is described at start, before any file arrived.
        if info.data.get("format", "csv") == "csv" and value.columns is None:
            raise PydanticCustomError("missing", "csv.columns: field required for format 'csv' (the table is "
                                                 "described before the first file arrives)")
        return value

    @field_validator("layout", "copybook", mode="after")
    @classmethod
    def _record_description(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        fmt = info.data.get("format")
        if value is None and info.field_name == "layout" and fmt == "fixed":
            raise missing("field required for format 'fixed'")
        if (
            value is None
            and info.field_name == "copybook"
            and fmt == "ebcdic"
            and not info.data.get("layout")
        ):
            raise missing("field required for format 'ebcdic' (or give layout)")
        return value

    @field_validator("record_format", mode="after")
    @classmethod
    def _descriptors_need_a_copybook(cls, value: str, info: ValidationInfo) -> str:
        if value == "fixed":
            return value
        if info.data.get("format") != "ebcdic" or not info.data.get("copybook"):
            raise PydanticCustomError("record_format", "only EBCDIC feeds with a copybook have record descriptor "
                                                       "words")
        if info.data.get("record_length"):
            raise PydanticCustomError("record_format", "record_length is for fixed-length records: the record "
                                                       "descriptor words give each record's length")
        return value

    @field_validator("op_column", mode="after")
    @classmethod
    def _op_column_for_delta(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("mode") == "snapshot":
            raise PydanticCustomError("op_column", "only delta feeds carry an op column")
        if value is not None and value in (info.data.get("key_columns") or []):
            raise PydanticCustomError("op_column", "the op column cannot be a key column")
        return value


class FileDropConnector(ConnectorSettings):
    kind: Literal["filedrop"]
    path: Path
    archive_dir: OptPath = Field(default=None,
                                 description="delivered files are archived here (default: <path>/archive)")
    quarantine_dir: OptPath = Field(
        default=None, description="unreadable files go here, with the reason (default: <path>/quarantine)")
    pattern: Annotated[str, Field(min_length=1)] = "*"
    complete_when: Literal["size_stable", "marker"] = "size_stable"
    marker_suffix: Annotated[str, Field(min_length=1)] = ".done"
    stable_seconds: Annotated[float, Field(ge=0)] = 5.0
    feeds: Annotated[list[Feed], Field(min_length=1)]
    state_dir: Path = Field(default=Path(".crmhub/filedrop"), description="previous snapshots: "
                                                                  "<state_dir>/<name>/<feed>.sqlite")
    poll_interval_ms: Annotated[int, Field(ge=1)] = 1000
    batch_size: Annotated[int, Field(ge=1)] = 1000

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        return duplicate_names(data, "feeds", "feed")

    @property
    def archive_path(self) -> Path:
        return self.archive_dir or self.path / "archive"

    @property
    def quarantine_path(self) -> Path:
        return self.quarantine_dir or self.path / "quarantine"

    def store_path(self, feed: Feed) -> Path:
        return self.state_dir / self.name / f"{feed.name}.sqlite"
