"""The transform library: pure, named, parameterised value cleaners for legacy data.

A mapping field lists transforms applied in order: ``transforms: [trim, title]`` or with parameters
``[{code: {map: {A: OK, F: FROZEN}, default: UNKNOWN}}, {implied_decimals: 2}]`` (a scalar is the transform's
main parameter). :func:`build_chain` checks and compiles such a list once; the :class:`Chain` it returns is
called per value. A value that cannot be transformed raises :class:`TransformError` naming the transform, so
the record goes to the dead-letter topic with rule ``transform:<name>``.

Conventions: ``None`` passes through every transform except ``default``; parsing transforms (dates,
numbers, codes, phone, e-mail, country) also read a blank string as ``None`` (a blank CHAR column).
Positions in ``substring`` are 1-based, as in SQL ``SUBSTR`` and RPG ``%SUBST``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from pipelines import transforms_values as values
from pipelines.names import name_case, split_name
from pipelines.patterns import PatternTimeout, compiled, substitute
from pipelines.transforms_contact import country_code, email_address, phone_e164
from pipelines.transforms_registry import (
    TRANSFORMS,
    Chain,
    Fn,
    TransformError,
    build_chain,
    build_transform,
    on_text,
    register,
)
from pipelines.transforms_values import Bad, blank, check_regex, text_of
from schemas.settings import ConfigModel

__all__ = ["TRANSFORMS", "Bad", "Chain", "TransformError", "build_chain", "build_transform", "text_of"]

# --- text ---------------------------------------------------------------------------------------------------

class TrimParams(ConfigModel):
    chars: str | None = None


class TitleParams(ConfigModel):
    force: bool = False


class ReplaceParams(ConfigModel):
    old: Annotated[str, Field(min_length=1)]
    new: str = ""


class RegexReplaceParams(ConfigModel):
    pattern: str
    repl: str = ""
    ignore_case: bool = False

    _compiles = field_validator("pattern")(classmethod(lambda cls, value: check_regex(value)))


class LengthParams(ConfigModel):
    length: Annotated[int, Field(ge=0)]


class SubstringParams(ConfigModel):
    start: Annotated[int, Field(ge=1)]
    length: Annotated[int | None, Field(ge=0)] = None


class SplitNameParams(ConfigModel):
    part: Literal["title", "given", "middle", "family"]


@register("trim", params=TrimParams, scalar="chars", memo=False)
def _trim(p: TrimParams) -> Fn:
    return lambda v: v.strip(p.chars) if isinstance(v, str) else v


@register("upper", memo=False)
def _upper(_: None) -> Fn:
    return lambda v: v.upper() if isinstance(v, str) else v


@register("lower", memo=False)
def _lower(_: None) -> Fn:
    return lambda v: v.lower() if isinstance(v, str) else v


@register("title", params=TitleParams, scalar="force")
def _title(p: TitleParams) -> Fn:
    return lambda v: name_case(v, force=p.force) if isinstance(v, str) else v


_SPACES = re.compile(r"\s+")


@register("collapse_spaces")
def _collapse(_: None) -> Fn:
    return lambda v: _SPACES.sub(" ", v).strip() if isinstance(v, str) else v


@register("replace", params=ReplaceParams)
def _replace(p: ReplaceParams) -> Fn:
    return on_text(lambda t: t.replace(p.old, p.new))


@register("regex_replace", params=RegexReplaceParams)
def _regex_replace(p: RegexReplaceParams) -> Fn:
    pattern = compiled(p.pattern, p.ignore_case)

    def replace(text: str) -> str:
        try:
            return substitute(pattern, p.repl, text)
        except PatternTimeout as exc:
            raise Bad(str(exc)) from None

    return on_text(replace)


@register("left", params=LengthParams, scalar="length")
def _left(p: LengthParams) -> Fn:
    return on_text(lambda t: t[: p.length])


@register("right", params=LengthParams, scalar="length")
def _right(p: LengthParams) -> Fn:
    return on_text(lambda t: t[len(t) - p.length:] if p.length else "")


@register("substring", params=SubstringParams)
def _substring(p: SubstringParams) -> Fn:
    start = p.start - 1
    stop = None if p.length is None else start + p.length
    return on_text(lambda t: t[start:stop])


@register("split_name", params=SplitNameParams, scalar="part")
def _split(p: SplitNameParams) -> Fn:
    return lambda v: None if blank(v) else split_name(text_of(v)).part(p.part)


# --- nulls and defaults ---------------------------------------------------------------------------------------

DEFAULT_NULLS: tuple[str, ...] = ("", "0", "*", "-", ".", "?", "N/A", "NA", "NULL", "NONE", "0001-01-01")


class NullIfParams(ConfigModel):
    values: list[Any] = Field(default_factory=lambda: list(DEFAULT_NULLS))


class DefaultParams(ConfigModel):
    value: Any


def _as_number(value: Any) -> Decimal | None:
    try:
        return values.parse_number(value)
    except Bad:
        return None


@register("null_if", params=NullIfParams, scalar="values")
def _null_if(p: NullIfParams) -> Fn:
    texts = {text_of(v).strip().casefold() for v in p.values if v is not None}
    numbers = {n for n in map(_as_number, p.values) if n is not None and not isinstance(n, bool)}

    def run(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return None if Decimal(str(value)) in numbers else value
        return None if text_of(value).strip().casefold() in texts else value

    return run


@register("default", params=DefaultParams, scalar="value")
def _default(p: DefaultParams) -> Fn:
    return lambda v: p.value if blank(v) else v


# --- numbers ----------------------------------------------------------------------------------------------------

class NumberParams(ConfigModel):
    decimal_sep: Literal[".", ","] = "."
    thousands_sep: Literal[",", ".", " ", "'", ""] = ""


class ScaleParams(ConfigModel):
    scale: Annotated[int, Field(ge=0, le=18)]


@register("number", "decimal", params=NumberParams, memo=False)
def _number(p: NumberParams) -> Fn:
    return lambda v: values.parse_number(v, p.decimal_sep, p.thousands_sep)


@register("int")
def _int(_: None) -> Fn:
    return values.whole


@register("implied_decimals", params=ScaleParams, scalar="scale")
def _implied(p: ScaleParams) -> Fn:
    return lambda v: values.implied_decimals(v, p.scale)


@register("string")
def _string(_: None) -> Fn:
    return lambda v: None if v is None else text_of(v)


# --- dates ------------------------------------------------------------------------------------------------------

class DateParams(ConfigModel):
    format: str | list[str] = "%Y-%m-%d"


class YydddParams(ConfigModel):
    pivot: Annotated[int, Field(ge=0, le=100)] = 50  # yy below the pivot is 20yy


class JulianParams(YydddParams):
    format: Literal["cyyddd", "yyddd"] = "cyyddd"


@register("cyymmdd")
def _cyymmdd(_: None) -> Fn:
    return values.cyymmdd


@register("yyyymmdd")
def _yyyymmdd(_: None) -> Fn:
    return values.yyyymmdd


@register("cyyddd")
def _cyyddd(_: None) -> Fn:
    return values.julian


@register("yyddd", params=YydddParams, scalar="pivot")
def _yyddd(p: YydddParams) -> Fn:
    return lambda v: values.julian(v, "yyddd", p.pivot)


@register("julian", params=JulianParams, scalar="format")
def _julian(p: JulianParams) -> Fn:
    return lambda v: values.julian(v, p.format, p.pivot)


@register("date", params=DateParams, scalar="format")
def _date(p: DateParams) -> Fn:
    formats = (p.format,) if isinstance(p.format, str) else tuple(p.format)
    return lambda v: values.parse_date(v, formats)


@register("timestamp_ms", memo=False)
def _timestamp_ms(_: None) -> Fn:
    return values.timestamp_ms


# --- codes and contact data -----------------------------------------------------------------------------------

class CodeParams(ConfigModel):
    map: Annotated[dict[Any, Any], Field(min_length=1)]
    default: Any = None
    ignore_case: bool = False
    passthrough: bool = False


class PhoneParams(ConfigModel):
    default_region: Annotated[str | None, Field(pattern=r"^[A-Za-z]{2}$")] = None
    check: Literal["possible", "valid"] = "possible"


class CountryParams(ConfigModel):
    aliases: dict[str, str] = Field(default_factory=dict)
    output: Literal["alpha2", "alpha3"] = "alpha2"


def _code_key(value: Any) -> str:
    return text_of(value).strip()


def _code_shorthand(raw: Any) -> Any:
    """``{code: {A: OK, F: FROZEN}}`` is ``{code: {map: {A: OK, F: FROZEN}}}``."""
    if isinstance(raw, dict) and raw and not set(raw) & set(CodeParams.model_fields):
        return {"map": raw}
    return raw


@register("code", params=CodeParams, shorthand=_code_shorthand)
def _code(p: CodeParams) -> Fn:
    fold: Callable[[str], str] = str.upper if p.ignore_case else str
    table = {fold(_code_key(k)): v for k, v in p.map.items()}
    strict = "default" not in p.model_fields_set and not p.passthrough
    known = ", ".join(sorted(table))[:120]

    def run(value: Any) -> Any:
        if value is None:
            return None
        key = fold(_code_key(value))
        if key in table:
            return table[key]
        if not key or p.passthrough:
            return None if not key else value
        if strict:
            raise Bad(f"unknown code {key!r} (known: {known})"[:200])
        return p.default

    return run


@register("phone", params=PhoneParams, scalar="default_region")
def _phone(p: PhoneParams) -> Fn:
    region = p.default_region.upper() if p.default_region else None
    return lambda v: None if blank(v) else phone_e164(text_of(v), region, p.check == "valid")


@register("email")
def _email(_: None) -> Fn:
    return lambda v: None if blank(v) else email_address(text_of(v))


@register("country", params=CountryParams)
def _country(p: CountryParams) -> Fn:
    aliases = {k.strip().upper(): v.strip().upper() for k, v in p.aliases.items()}
    return lambda v: None if blank(v) else country_code(text_of(v), aliases, p.output)
