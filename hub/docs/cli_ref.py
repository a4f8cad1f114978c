"""The command-line reference, walked from the Typer app's click command tree (``typer.main.get_command``).

Every command and sub-command, sorted by name, with its help, its arguments and its options (names, type,
default, help). Works on click's own classes and on the click that Typer vendors (``display_type`` there).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

import typer

from hub.cli import _register
from hub.cli import app as cli_app
from hub.docs.markdown import code, doc_text, heading, page, table


def root_command() -> Any:
    """The click command of ``crmhub`` with every sub-command registered."""
    _register()
    return typer.main.get_command(cli_app)


def _context(command: Any, name: str, parent: Any | None) -> Any:
    context_class = getattr(command, "context_class", None)
    if context_class is None:
        import click

        context_class = click.Context
    return context_class(command, info_name=name, parent=parent)


def subcommands(command: Any) -> dict[str, Any]:
    found = getattr(command, "commands", None)
    return dict(sorted(found.items())) if isinstance(found, dict) else {}


def type_name(param: Any, ctx: Any) -> str:
    """The type as ``--help`` shows it, with the bounds of a range (``float range, ≥ 0.05``)."""
    display = getattr(param, "display_type", None)
    kind = getattr(param, "type", None)
    name = str(display(ctx)).strip("<>") if callable(display) else str(getattr(kind, "name", kind or "")).lower()
    bounds = [(sign, getattr(param, attr, getattr(kind, attr, None))) for sign, attr in (("≥", "min"), ("≤", "max"))]
    shown = [f"{sign} {value}" for sign, value in bounds if value is not None]
    return f"{name}, {', '.join(shown)}" if shown else name


def _flag_default(param: Any) -> str:
    on = bool(getattr(param, "default", False))
    if param.secondary_opts:
        return code(param.opts[-1] if on else param.secondary_opts[0])
    return "on" if on else ""


def _default(param: Any) -> str:
    if getattr(param, "is_flag", False):
        return _flag_default(param)
    value = getattr(param, "default", None)
    if callable(value) or value is None:
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, PurePath):
        value = value.as_posix()
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
        if not value:
            return ""
    return code(value)


def _names(param: Any) -> str:
    if param.param_type_name == "argument":
        return code(str(param.name).upper())
    names = [*sorted(param.opts, key=lambda n: (n.startswith("--"), n)), *param.secondary_opts]
    return " / ".join(code(n) for n in names)


def param_rows(command: Any, ctx: Any) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(arguments, options) rows of one command; hidden options and ``--help`` are left out."""
    arguments: list[tuple[str, ...]] = []
    options: list[tuple[str, ...]] = []
    for param in command.params:
        if getattr(param, "hidden", False) or param.name == "help":
            continue
        flag = bool(getattr(param, "is_flag", False))
        kind = "flag" if flag else type_name(param, ctx)
        required = "yes" if param.required else ""
        helptext = " ".join(str(getattr(param, "help", None) or "").split())
        row = (_names(param), code(kind) if kind else "", _default(param), required, helptext)
        (arguments if param.param_type_name == "argument" else options).append(row)
    return arguments, options


def command_section(command: Any, path: list[str], parent_ctx: Any | None) -> Iterator[str]:
    ctx = _context(command, path[-1], parent_ctx)
    children = subcommands(command)
    if len(path) > 1:
        yield heading(len(path), " ".join(path))
        yield ""
    arguments, options = param_rows(command, ctx)
    usage = " ".join(path) + (" [OPTIONS]" if options else "") + (" COMMAND" if children else "")
    usage += "".join(f" {a[0].strip('`')}" for a in arguments)
    yield f"```\n{usage}\n```"
    yield ""
    helptext = doc_text(getattr(command, "help", None) or "")
    if helptext:
        yield helptext
        yield ""
    if arguments:
        yield from table(("argument", "type", "default", "required", "help"), arguments)
        yield ""
    if options:
        yield from table(("option", "type", "default", "required", "help"), options)
        yield ""
    if children:
        yield "Commands: " + ", ".join(code(f"{' '.join(path)} {name}") for name in children) + "."
        yield ""
    for name, child in children.items():
        yield from command_section(child, [*path, name], ctx)


INTRO = [
    "Every `crmhub` command and sub-command with its arguments and options, sorted by name. `crmhub COMMAND "
    "--help` prints the same help. Errors are one line on stderr with exit code 1; a command that checks "
    "something exits 1 when the check fails.",
]


def render() -> str:
    return page("Command-line reference", INTRO, list(command_section(root_command(), ["crmhub"], None)))
