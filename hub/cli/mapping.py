"""`crmhub mapping test MAPPING.yaml --rows FILE` and `crmhub mapping transforms`.

``test`` runs sample source rows (``.jsonl``, ``.json`` list, ``.yaml`` list or ``.csv``) through one mapping
file exactly as the canonicalize pipeline would, and prints per row the canonical record(s) with their
warnings, or the rejection (rule, field, values, reason), then ``N rows: X mapped, Y rejected, Z warnings``.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hub.cli import app
from schemas.envelope import ChangeEvent, Op, SourceInfo
from schemas.errors import ConfigError, SkippableError

if TYPE_CHECKING:
    from pipelines.canonicalize import CanonResult, Rejected
    from pipelines.mapping import MappingSet, TableMapping
    from schemas.canonical import CanonicalEvent

EXIT_PROBLEMS = 1
EXIT_BAD_INPUT = 2

mapping_app = typer.Typer(help="Try mapping files on sample rows; list the transforms.", no_args_is_help=True)
app.add_typer(mapping_app, name="mapping")


class RowsError(Exception):
    """The rows file cannot be read as a list of rows."""


def _decimals(value: Any) -> Any:
    """Floats as Decimal (database drivers hand DECIMAL columns over as Decimal)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows from ``.jsonl``, ``.json`` (a list), ``.yaml``/``.yml`` (a list) or ``.csv`` (header line)."""
    from pipelines.yaml_text import parse_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RowsError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            data: Any = [json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()]
        elif suffix == ".json":
            data = json.loads(text, parse_float=Decimal)
        elif suffix in (".yaml", ".yml"):
            data, problems = parse_yaml(text, str(path))
            if problems:
                raise RowsError("; ".join(problems))
        elif suffix == ".csv":
            data = list(csv.DictReader(text.splitlines()))
        else:
            raise RowsError(f"{path}: unknown rows format '{suffix}' (use .jsonl, .json, .yaml or .csv)")
    except json.JSONDecodeError as exc:
        raise RowsError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise RowsError(f"{path}: expected a list of rows (each a mapping of column: value)")
    return [_decimals({str(k): v for k, v in row.items()}) for row in data]


def row_event(mapping: TableMapping, row: dict[str, Any], number: int, op: Op) -> ChangeEvent:
    """The change event a connector would emit for ``row`` (key from the mapping's key columns)."""
    key = {c: row.get(c) for c in mapping.key} if mapping.key else {"row": number}
    source = SourceInfo(connector="mapping-test", name=mapping.source, db="test", schema=None,
                        table=mapping.table, ts_ms=0)
    before, after = (row, None) if op is Op.DELETE else (None, row)
    return ChangeEvent.create(key=key, before=before, after=after, op=op, source=source, ts_ms=0)


def _compact(value: Any) -> Any:
    """Without null fields and empty lists (what a reader looks for in a sample run)."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def _show_event(ev: CanonicalEvent, full: bool) -> None:
    from pipelines.canonicalize import json_safe

    data = json_safe(ev.data) if full else _compact(json_safe(ev.data))
    body = json.dumps(data, indent=2, ensure_ascii=False) if data is not None else "null"
    typer.echo(f"  {ev.entity} {ev.op} {ev.source}/{ev.source_key}: " + body.replace("\n", "\n  "))
    for w in ev.warnings:
        typer.secho(f"    warning {w.rule}" + (f" ({w.field})" if w.field else "") + f": {w.message}",
                    fg=typer.colors.YELLOW)


def _show_rejected(rej: Rejected) -> None:
    from pipelines.canonicalize import json_safe

    typer.secho(f"  {rej.entity} REJECTED by {rej.rule}" + (f" at {rej.field}" if rej.field else ""),
                fg=typer.colors.RED)
    typer.echo(f"    values: {json.dumps(json_safe(rej.values), ensure_ascii=False)}")
    typer.echo(f"    reason: {rej.reason}")


def _one_mapping(path: Path) -> tuple[TableMapping, MappingSet]:
    from pipelines.mapping import load_mappings

    mappings = load_mappings([path])
    found = list(mappings)
    if len(found) != 1:
        raise ConfigError(f"{path}: expected one mapping file, found {len(found)}")
    return found[0], mappings


def _missing_columns(mapping: TableMapping, rows: list[dict[str, Any]]) -> list[str]:
    present = {c for row in rows for c in row}
    return sorted(mapping.columns - present)


@mapping_app.command("test")
def test(
    mapping_file: Annotated[Path, typer.Argument(help="mapping YAML file", metavar="MAPPING.yaml")],
    rows_file: Annotated[Path, typer.Option("--rows", "-r", help="sample rows: .jsonl, .json, .yaml or .csv")],
    op: Annotated[str, typer.Option("--op", help="operation of every row: c, u or d")] = "c",
    strict: Annotated[bool, typer.Option("--strict", help="exit 1 when any row is rejected")] = False,
    full: Annotated[bool, typer.Option("--full", help="show null fields and empty lists too")] = False,
) -> None:
    """Map sample rows with one mapping file and show the canonical records, warnings and rejections."""
    if op not in ("c", "u", "d"):
        typer.echo(f"error: --op must be c, u or d, not {op!r}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        mapping, mappings = _one_mapping(mapping_file)
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(problem)
        count = len(exc.problems)
        typer.echo(f"{mapping_file}: {count} problem{'' if count == 1 else 's'}", err=True)
        raise typer.Exit(EXIT_PROBLEMS) from None
    try:
        rows = read_rows(rows_file)
    except RowsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    missing = _missing_columns(mapping, rows)
    if missing and rows:
        typer.secho(f"note: column(s) {', '.join(missing)} are in no row (mapped as null)", fg=typer.colors.YELLOW)
    mapped = rejected = warnings = 0
    for number, row in enumerate(rows, start=1):
        result = _run_row(mapping, mappings, row, number, Op(op))
        if result is None:
            rejected += 1
            continue
        for ev in result.events:
            _show_event(ev, full)
        for rej in result.rejected:
            _show_rejected(rej)
        warnings += sum(len(ev.warnings) for ev in result.events)
        if result.rejected:
            rejected += 1
        else:
            mapped += 1
    typer.echo(f"{len(rows)} rows: {mapped} mapped, {rejected} rejected, {warnings} warnings")
    if strict and rejected:
        raise typer.Exit(EXIT_PROBLEMS)


def _run_row(mapping: TableMapping, mappings: MappingSet, row: dict[str, Any], number: int,
             op: Op) -> CanonResult | None:
    from pipelines.canonicalize import canonicalize

    label = ", ".join(f"{c}={row.get(c)!s}" for c in mapping.key) if mapping.key else f"#{number}"
    typer.secho(f"row {number} ({label})", bold=True)
    try:
        event = row_event(mapping, row, number, op)
    except SkippableError as exc:
        typer.secho(f"  REJECTED: not a valid change event: {exc.reason}", fg=typer.colors.RED)
        return None
    result = canonicalize(mappings, event, partition=0, offset=number, topic="mapping-test", now_ms=0)
    if not result.events and not result.rejected:
        typer.echo("  no canonical record (no target's `when` holds for this row)")
    return result


@mapping_app.command("transforms")
def transforms() -> None:
    """List the transforms a mapping field can use, with their parameters."""
    from pipelines.transforms import TRANSFORMS

    for name, spec in sorted(TRANSFORMS.items()):
        params = ""
        if spec.params is not None:
            fields = [f"{k}{'' if f.is_required() else '?'}" for k, f in spec.params.model_fields.items()]
            params = f"  {{{', '.join(fields)}}}" + (f"  (scalar: {spec.scalar})" if spec.scalar else "")
        typer.echo(f"{name}{params}")
