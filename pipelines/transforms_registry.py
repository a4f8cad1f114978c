"""The transform registry and chains: how a mapping field's ``transforms`` list is checked and compiled.

The transforms themselves live in :mod:`pipelines.transforms` (which registers them here and re-exports this
module's API); a :class:`Chain` applies the compiled steps to one value and turns any failure into a
:class:`TransformError` naming the transform.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from pipelines.problems import did_you_mean, join, validate
from pipelines.transforms_values import Bad, text_of
from schemas.settings import ConfigModel

Fn = Callable[[Any], Any]


class TransformError(Exception):
    """``transform`` could not handle ``value``."""

    def __init__(self, transform: str, value: Any, message: str) -> None:
        self.transform = transform
        self.value = value
        self.message = message
        super().__init__(f"{transform}: {message}")


@dataclass(frozen=True, slots=True)
class _Spec:
    factory: Callable[[Any], Fn]
    params: type[ConfigModel] | None
    scalar: str | None  # the parameter a non-mapping value stands for
    shorthand: Callable[[Any], Any] | None = None  # rewrites a short config form into the parameters
    memo: bool = True  # whether a chain keeps its results for values other than text (see Chain)


TRANSFORMS: dict[str, _Spec] = {}


def register(*names: str, params: type[ConfigModel] | None = None, scalar: str | None = None,
             shorthand: Callable[[Any], Any] | None = None,
             memo: bool = True) -> Callable[[Callable[[Any], Fn]], Callable[[Any], Fn]]:
    """Register a transform factory under ``names`` (``params``: its parameters model, ``scalar``: the
    parameter a plain value stands for, ``shorthand``: a rewrite of a short config form, ``memo``: False
    when keeping its results for values other than text does not pay, see :class:`Chain`)."""
    def add(factory: Callable[[Any], Fn]) -> Callable[[Any], Fn]:
        for name in names:
            TRANSFORMS[name] = _Spec(factory, params, scalar, shorthand, memo)
        return factory

    return add


def on_text(fn: Callable[[str], Any]) -> Fn:
    def run(value: Any) -> Any:
        return None if value is None else fn(text_of(value))

    return run


#: Values a chain's results are kept for: immutable, so one result can serve every row with that value.
_PLAIN = frozenset({str, int, float, bool, Decimal, date, datetime, time, bytes, type(None)})
_MISS = object()


class Chain:
    """Transforms compiled from a mapping field's ``transforms`` list, applied in order.

    Transforms are pure functions of the value, so the results of the last ``MEMO_SIZE`` distinct plain
    values are kept: a source record changes again and again with the same name, country and codes. Text is
    its own key; other values are keyed by their type and ``repr``, which is not worth it when every transform
    of the chain is registered with ``memo=False`` (it takes such values about as fast as the lookup, or
    their values seldom repeat: a decimal amount through ``number``, a timestamp through ``timestamp_ms``)."""

    __slots__ = ("_keep_other", "_memo", "_steps", "names")
    MEMO_SIZE = 4096

    def __init__(self, steps: Sequence[tuple[str, Fn]]) -> None:
        self._steps = tuple(steps)
        self.names = tuple(name for name, _ in steps)
        self._memo: dict[Any, Any] = {}
        self._keep_other = any(TRANSFORMS[n].memo if n in TRANSFORMS else True for n in self.names)

    def __bool__(self) -> bool:
        return bool(self._steps)

    def __call__(self, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            key: Any = value
        elif kind in _PLAIN and self._keep_other:
            key = (kind, repr(value))  # 1 == 1.0 == True and Decimal("1") == Decimal("1.0")
        else:
            return self._run(value)
        out = self._memo.get(key, _MISS)
        if out is _MISS:
            out = self._run(value)  # a failure raises: not kept
            if type(out) in _PLAIN:
                if len(self._memo) >= self.MEMO_SIZE:
                    self._memo = {}
                self._memo[key] = out
        return out

    def _run(self, value: Any) -> Any:
        for name, fn in self._steps:
            try:
                value = fn(value)
            except (Bad, ArithmeticError, TypeError, ValueError) as exc:
                raise TransformError(name, value, str(exc) or type(exc).__name__) from None
        return value


def build_transform(spec: Any, where: str, problems: list[str]) -> tuple[str, Fn] | None:
    """One transform from its config form (``name`` or ``{name: params}``); problems appended under ``where``."""
    if isinstance(spec, str):
        name, raw, given = spec, None, False
    elif isinstance(spec, dict) and len(spec) == 1:
        name, raw = next(iter(spec.items()))
        given = True
    else:
        first = next(iter(spec), None) if isinstance(spec, dict) else None
        if isinstance(first, str) and first in TRANSFORMS:
            extra = ", ".join(str(k) for k in spec if k != first)
            problems.append(f"{where}: parameters go inside the transform: {{{first}: {{..., {extra}: ...}}}}")
        else:
            problems.append(f"{where}: a transform is a name or a one-key mapping {{name: parameters}}")
        return None
    found = TRANSFORMS.get(str(name))
    if found is None:
        problems.append(f"{where}: {did_you_mean(str(name), TRANSFORMS, 'transform')}")
        return None
    if found.params is None:
        if given and raw is not None:
            problems.append(f"{where}: transform '{name}' takes no parameters")
            return None
        return str(name), found.factory(None)
    raw = found.shorthand(raw) if found.shorthand is not None else raw
    if isinstance(raw, dict):
        data: Any = raw
    elif raw is None and not given:
        data = {}
    else:
        data = {found.scalar: raw} if found.scalar else raw
    params = validate(found.params, data, join(where, str(name)), problems)
    return None if params is None else (str(name), found.factory(params))


def build_chain(specs: Any, where: str, problems: list[str]) -> Chain:
    """A :class:`Chain` from a ``transforms`` list (a single name is a list of one)."""
    if specs is None:
        return Chain(())
    if isinstance(specs, (str, dict)):
        specs = [specs]
    if not isinstance(specs, list):
        problems.append(f"{where}: expected a list of transforms")
        return Chain(())
    steps = [build_transform(s, join(where, i), problems) for i, s in enumerate(specs)]
    return Chain([s for s in steps if s is not None])
