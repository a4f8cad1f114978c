"""Given names and the gender they are usually given to, from the name data of the `nomquamgender` package (MIT
licence; counts of name-gender records from many countries, Van Buskirk et al. 2022).

Only names seen often and given clearly to one gender count: :func:`gender_of` answers ``"f"``, ``"m"`` or
``None`` (rare, unknown, or given to both). :func:`gendered`, the comparison of given names' ``gendered``
level, uses it to tell the male and female form of one name (giovanni / giovanna, michel / michelle) from a
typo that only looks like one (talia / talis: *talis* is rare; sophia / sophie: both female).

The package's own module loads all 720,000 names with pandas; this reads its data file once, lazily, keeping the
roughly 16,000 common ones (0.4 s, no pandas), each in the form :func:`~pipelines.identity.features.fold` gives
the names it is asked about (noémie and noemie both as ``nomie``; a form two names of different genders share
is dropped). What it kept is written to the user's cache folder (:func:`schemas.cache.cache_root`), named after
the data file's size and time, the thresholds and the features version, so the next process (each ``crmhub``
command, each worker) reads it in milliseconds; a cache that cannot be read or written is passed over. Writing
a new one removes the others no process has read for :data:`STALE_S` (those of an older version or of another
installation), so the folder does not fill up.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import time
from functools import cache
from pathlib import Path
from typing import Literal

from pipelines.identity.features import FEATURES_VERSION, fold
from schemas.cache import cache_root

Gender = Literal["f", "m"]

MIN_COUNT = 1_000  # records with the name; rarer names are not known to be a male or female form
CLEAR = 0.3  # share of women at most this (a man's name) or at least 1 - this (a woman's name)
STALE_S = 30 * 86400  # a kept-names file no process has read for this long is removed when another is written

# one entry of name_data.json: "name": [countries, records, share of women, ...]; a key starts after "{" or ", "
# and may hold escapes (\" inside a key is no key's start)
_ENTRY = re.compile(r'(?<=[{ ])"([^"\\]*(?:\\.[^"\\]*)*)": \[\d+, (\d+), ([0-9.]+),')


def _data_file() -> Path:
    dist = importlib.metadata.distribution("nomquamgender")
    return Path(str(dist.locate_file("nomquamgender/name_data.json")))


def parse_genders(text: str, min_count: int = MIN_COUNT, clear: float = CLEAR) -> dict[str, Gender]:
    """The common, clearly gendered names of a ``name_data.json`` text."""
    out: dict[str, Gender | None] = {}
    for m in _ENTRY.finditer(text):
        if int(m.group(2)) < min_count:
            continue
        share = float(m.group(3))
        gender: Gender | None = "m" if share <= clear else "f" if share >= 1 - clear else None
        key = m.group(1)
        name = fold(json.loads(f'"{key}"') if "\\" in key else key)
        if gender is not None and name.isalpha():
            out[name] = gender if out.get(name, gender) == gender else None
    return {name: g for name, g in out.items() if g is not None}


def _cache_file(data: Path) -> Path:
    st = data.stat()
    key = f"{FEATURES_VERSION}|{MIN_COUNT}|{CLEAR}|{data}|{st.st_size}|{st.st_mtime_ns}"
    return cache_root() / f"given-names-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"


def _read_cache(path: Path) -> dict[str, Gender] | None:
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or not kept or any(g not in ("f", "m") for g in kept.values()):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # in use: not stale
    return kept


def _remove_stale(keep: Path, now: float) -> None:
    """Remove the other kept-names files of ``keep``'s folder that no process read for :data:`STALE_S`."""
    for other in keep.parent.glob("given-names-*.json"):
        with contextlib.suppress(OSError):
            if other != keep and now - other.stat().st_mtime > STALE_S:
                other.unlink()


def _write_cache(path: Path, genders: dict[str, Gender]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.{os.getpid()}.part")
        part.write_text(json.dumps(genders, separators=(",", ":")), encoding="utf-8")
        part.replace(path)  # whole or not at all, for processes reading it meanwhile
    except OSError:
        return
    _remove_stale(path, time.time())


@cache
def _genders() -> dict[str, Gender]:
    data = _data_file()
    cached = _cache_file(data)
    genders = _read_cache(cached)
    if genders is None:
        genders = parse_genders(data.read_text(encoding="utf-8"))
        _write_cache(cached, genders)
    return genders


def gender_of(name: str) -> Gender | None:
    """``"f"`` or ``"m"`` for a common given name (folded, lower case) given clearly to one gender, else None."""
    return _genders().get(name)


_MALE_ENDINGS = ("", "o", "i", "e", "s", "us", "as")
_FEMALE_SUFFIXES = ("a", "e", "ie", "ine", "ina", "le", "ne", "ette")


def gendered(x: str, y: str) -> bool:
    """The male and female form of one name (giovanni/giovanna, andreas/andrea, jan/jana, stefan/stefanie,
    michel/michelle): spelled like the two forms, and both common names given to different genders (talia /
    talis and sophia / sophie are not)."""
    return _forms_of_one_name(x, y) and opposite_genders(x, y)


def opposite_genders(x: str, y: str) -> bool:
    """Two common names given clearly to different genders (marco / maria, giovanni / giovanna)."""
    gx, gy = gender_of(x), gender_of(y)
    return gx is not None and gy is not None and gx != gy


def _forms_of_one_name(x: str, y: str) -> bool:
    short, long = (x, y) if len(x) <= len(y) else (y, x)
    if len(short) >= 3 and long.startswith(short) and long[len(short):] in _FEMALE_SUFFIXES:
        return True
    if x.endswith("a") == y.endswith("a"):
        return False
    female, other = (x, y) if x.endswith("a") else (y, x)
    stem = female[:-1]
    return other.startswith(stem) and other[len(stem):] in _MALE_ENDINGS
