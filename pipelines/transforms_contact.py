"""Contact data cleaners behind the ``phone``, ``email`` and ``country`` transforms.

Phone numbers go through ``phonenumbers`` to E.164, countries through ``pycountry`` (plus the common names
and codes ISO does not list, such as ``UK``) to ISO 3166 alpha-2. Each raises
:class:`ContactError` (a ``ValueError``) with a readable reason when the value is unusable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import phonenumbers
import pycountry


class ContactError(ValueError):
    """The value is not a usable phone number, e-mail address or country."""


# --- phone --------------------------------------------------------------------------------------------------

_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "no valid country code (give default_region)",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
    phonenumbers.NumberParseException.TOO_LONG: "too long",
}


def phone_e164(text: str, region: str | None, must_be_valid: bool) -> str:
    """``text`` as an E.164 number (``+49891234567``); ``region`` is assumed for national numbers."""
    raw = text.strip()
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, "not a phone number")
        raise ContactError(f"{raw!r}: {reason}"[:200]) from None
    ok = phonenumbers.is_valid_number(number) if must_be_valid else phonenumbers.is_possible_number(number)
    if not ok:
        raise ContactError(f"{raw!r} is not a {'valid' if must_be_valid else 'possible'} phone number"[:200])
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- e-mail -------------------------------------------------------------------------------------------------

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def email_address(text: str) -> str:
    """``text`` trimmed and lower-cased, if it is a syntactically valid address (``local@domain.tld``)."""
    address = text.strip().lower()
    if address.startswith("mailto:"):
        address = address[len("mailto:"):]
    local, at, domain = address.rpartition("@")
    labels = domain.split(".")
    problem = (
        "missing '@'" if not at
        else "too long" if len(address) > 254 or len(local) > 64
        else "bad local part" if not _LOCAL.match(local)
        else "domain needs a dot" if len(labels) < 2
        else "bad domain" if not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1])
        else None
    )
    if problem:
        raise ContactError(f"{text.strip()!r} is not an e-mail address ({problem})"[:200])
    return address


# --- country ------------------------------------------------------------------------------------------------

#: names and codes in common use that ISO 3166 does not list (upper case, dots and extra spaces removed)
COMMON_COUNTRIES: dict[str, str] = {
    "UK": "GB", "GREAT BRITAIN": "GB", "BRITAIN": "GB", "ENGLAND": "GB", "SCOTLAND": "GB", "WALES": "GB",
    "NORTHERN IRELAND": "GB", "USA": "US", "US": "US", "AMERICA": "US", "UNITED STATES OF AMERICA": "US",
    "HOLLAND": "NL", "THE NETHERLANDS": "NL", "RUSSIA": "RU", "TURKEY": "TR", "IVORY COAST": "CI",
    "SWAZILAND": "SZ", "SOUTH KOREA": "KR", "KOREA": "KR", "NORTH KOREA": "KP", "UAE": "AE", "EIRE": "IE",
    "DEUTSCHLAND": "DE", "BRD": "DE", "ALLEMAGNE": "DE", "ÖSTERREICH": "AT", "SCHWEIZ": "CH", "SUISSE": "CH",
    "ESPAÑA": "ES", "ITALIA": "IT", "BELGIË": "BE", "BELGIQUE": "BE", "CZECHIA": "CZ", "BURMA": "MM",
    "VATICAN": "VA", "MACEDONIA": "MK", "LAOS": "LA", "SYRIA": "SY", "TAIWAN": "TW", "MOLDOVA": "MD",
    "TANZANIA": "TZ", "VENEZUELA": "VE", "CAPE VERDE": "CV", "EAST TIMOR": "TL", "PALESTINE": "PS",
}


def _normal(text: str) -> str:
    return " ".join(text.replace(".", " ").split()).upper().replace("U S A", "USA").replace("U K", "UK")


@lru_cache(maxsize=4096)
def _lookup(key: str) -> tuple[str, str] | None:
    if key.isdigit():
        found = pycountry.countries.get(numeric=key.zfill(3))
    else:
        alias = COMMON_COUNTRIES.get(key)
        try:
            found = pycountry.countries.get(alpha_2=alias) if alias else pycountry.countries.lookup(key)
        except LookupError:
            found = None
    return None if found is None else (found.alpha_2, found.alpha_3)


def country_code(text: str, aliases: Mapping[str, str], output: str = "alpha2") -> str:
    """ISO 3166 code of a country given by alpha-2/alpha-3/numeric code or by name (``Germany``, ``UK``)."""
    key = _normal(text)
    key = _normal(aliases.get(key, key))
    found = _lookup(key)
    if found is None:
        raise ContactError(f"unknown country {text.strip()!r}"[:200])
    return found[0] if output == "alpha2" else found[1]
