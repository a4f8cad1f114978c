"""A small, safe expression language for computed fields, cross-field rules and alert conditions.

The text is parsed with :mod:`ast` in ``eval`` mode and every node is checked against a whitelist before it
is compiled into nested closures (nothing is ever passed to ``eval``). Allowed: constants, names, subscripts
(``src['CUST#']``, ``addresses[0]``; no slices, no attributes), comparisons (``== != < <= > >= in not in is
is not``), ``and``/``or``/``not``, arithmetic (``+ - * / // %``; no ``**``), ``a if c else b``, list and tuple
literals, and calls of the functions in :data:`FUNCTIONS` with positional arguments.

Null semantics (legacy data is full of them): an unknown name, a missing key or an index out of range is
``None``; arithmetic with ``None`` is ``None``; an ordering comparison with ``None`` is ``False``; ``x in None``
is ``False``. Other type errors during evaluation raise :class:`ExprEvalError` (a ``ValueError``).

    >>> compile_expr("concat(trim(FIRST), ' ', trim(LAST))")({"FIRST": "ANN ", "LAST": "LEE"})
    'ANN LEE'
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pipelines.expr_functions import FUNCTIONS, ExprEvalError, cached_regex

__all__ = ["FUNCTIONS", "Expr", "ExprError", "ExprEvalError", "compile_expr", "referenced"]

Values = Mapping[str, Any]
Fn = Callable[[Values], Any]

MAX_LENGTH = 2000
MAX_NODES = 400


class ExprError(ValueError):
    """The expression text is not valid (syntax or a construct outside the language)."""


# --- operators ------------------------------------------------------------------------------------------

_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
_ORDER: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_EQUALITY: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}


def _number(value: Any) -> Any:
    """Floats meet Decimals in data: compute in Decimal so ``Decimal + 0.1`` works."""
    return Decimal(str(value)) if isinstance(value, float) else value


def _arith(op: Callable[[Any, Any], Any], symbol: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if symbol == "*" and (isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple))):
        raise ExprEvalError("'*' repeats no strings or lists")
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        left, right = _number(left), _number(right)
    try:
        return op(left, right)
    except (TypeError, ArithmeticError) as exc:
        raise ExprEvalError(f"cannot compute {left!r} {symbol} {right!r}: {exc}"[:200]) from None


def _sign(value: Any, negate: bool) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ExprEvalError(f"cannot negate {value!r}"[:200])
    return -value if negate else value


def _comparer(op: ast.cmpop) -> Callable[[Any, Any], bool]:
    """The comparison ``op`` with the null semantics above, as a function of the two operands."""
    kind = type(op)
    if kind in _EQUALITY:
        equality = _EQUALITY[kind]
        return lambda left, right: bool(equality(left, right))
    if kind in (ast.In, ast.NotIn):
        return lambda left, right: _contains(left, right, kind is ast.In)
    order = _ORDER[kind]
    return lambda left, right: _order(order, left, right)


def _contains(left: Any, right: Any, positive: bool) -> bool:
    if right is None:
        return False
    try:
        found = left in right
    except TypeError:
        found = False
    return found if positive else not found


def _order(order: Callable[[Any, Any], Any], left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        left, right = _number(left), _number(right)
    try:
        return bool(order(left, right))
    except TypeError:
        raise ExprEvalError(f"cannot compare {left!r} with {right!r}"[:200]) from None


_LITERALS: dict[str, Any] = {"null": None, "true": True, "false": False}

# --- compiling ------------------------------------------------------------------------------------------


class _Compiler:
    def __init__(self) -> None:
        self.names: set[str] = set()

    def build(self, node: ast.AST) -> Fn:
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            name = node.id
            if name in _LITERALS:
                constant = _LITERALS[name]
                return lambda v: constant
            self.names.add(name)
            return lambda v: v.get(name)
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, ast.Compare):
            return self._comparison(node)
        if isinstance(node, ast.BoolOp):
            return self._boolean(node)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.BinOp):
            return self._binary(node)
        if isinstance(node, ast.IfExp):
            test, body, other = self.build(node.test), self.build(node.body), self.build(node.orelse)
            return lambda v: body(v) if test(v) else other(v)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.build(e) for e in node.elts]
            return lambda v: [item(v) for item in items]
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ExprError(f"{_describe(node)} is not allowed")

    @staticmethod
    def _constant(node: ast.Constant) -> Fn:
        given = node.value
        if given is not None and not isinstance(given, (str, int, float, bool)):
            raise ExprError(f"constant {given!r} is not allowed")
        value: Any = Decimal(str(given)) if isinstance(given, float) else given
        return lambda v: value

    def _subscript(self, node: ast.Subscript) -> Fn:
        if isinstance(node.slice, ast.Slice):
            raise ExprError("slices are not allowed (use a function)")
        target, index = self.build(node.value), self.build(node.slice)

        def get(v: Values) -> Any:
            container, key = target(v), index(v)
            if container is None or key is None:
                return None
            try:
                return container[key]
            except (KeyError, IndexError, TypeError):
                return None

        return get

    def _comparison(self, node: ast.Compare) -> Fn:
        first = self.build(node.left)
        rest = [(_comparer(op), self.build(c)) for op, c in zip(node.ops, node.comparators, strict=True)]
        if len(rest) == 1:  # the usual single comparison
            [(test, second)] = rest
            return lambda v: test(first(v), second(v))

        def compare(v: Values) -> bool:
            left = first(v)
            for test, operand in rest:
                right = operand(v)
                if not test(left, right):
                    return False
                left = right
            return True

        return compare

    def _boolean(self, node: ast.BoolOp) -> Fn:
        parts = [self.build(n) for n in node.values]
        if isinstance(node.op, ast.And):
            def all_of(v: Values) -> Any:
                result: Any = True
                for part in parts:
                    result = part(v)
                    if not result:
                        return result
                return result

            return all_of

        def any_of(v: Values) -> Any:
            result: Any = False
            for part in parts:
                result = part(v)
                if result:
                    return result
            return result

        return any_of

    def _unary(self, node: ast.UnaryOp) -> Fn:
        operand = self.build(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda v: not operand(v)
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            negate = isinstance(node.op, ast.USub)
            return lambda v: _sign(operand(v), negate)
        raise ExprError(f"operator {_describe(node.op)} is not allowed")

    def _binary(self, node: ast.BinOp) -> Fn:
        op = _ARITH.get(type(node.op))
        if op is None:
            raise ExprError(f"operator {_describe(node.op)} is not allowed (use + - * / // %)")
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}[
            type(node.op)]
        left, right = self.build(node.left), self.build(node.right)
        return lambda v: _arith(op, symbol, left(v), right(v))

    def _call(self, node: ast.Call) -> Fn:
        if not isinstance(node.func, ast.Name):
            raise ExprError("only calls of named functions are allowed (no methods)")
        name = node.func.id
        if name not in FUNCTIONS:
            raise ExprError(f"unknown function '{name}' (known: {', '.join(sorted(FUNCTIONS))})")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExprError(f"{name}() takes positional arguments only")
        fn, low, high = FUNCTIONS[name]
        count = len(node.args)
        if count < low or (high is not None and count > high):
            expected = str(low) if low == high else f"{low}..{high}" if high else f"at least {low}"
            raise ExprError(f"{name}() takes {expected} argument{'s' if high != 1 else ''}, got {count}")
        if name == "matches":
            _check_pattern(node.args[1])
        args = [self.build(a) for a in node.args]
        if len(args) == 1:
            [arg] = args
            return lambda v: fn(arg(v))
        return lambda v: fn(*(a(v) for a in args))


def _check_pattern(node: ast.expr) -> None:
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        raise ExprError("matches() needs a constant regular expression as second argument")
    try:
        cached_regex(node.value)
    except ValueError as exc:
        raise ExprError(f"matches(): {exc} in {node.value!r}") from None


def _describe(node: ast.AST) -> str:
    words = {"Attribute": "attribute access", "Lambda": "lambda", "Dict": "a dict literal", "Set": "a set literal",
             "ListComp": "a comprehension", "SetComp": "a comprehension", "DictComp": "a comprehension",
             "GeneratorExp": "a generator", "JoinedStr": "an f-string", "NamedExpr": "':='", "Pow": "'**'",
             "Starred": "'*' unpacking", "Await": "await", "Yield": "yield", "BitAnd": "'&'", "BitOr": "'|'",
             "BitXor": "'^'", "LShift": "'<<'", "RShift": "'>>'", "Invert": "'~'", "MatMult": "'@'"}
    name = type(node).__name__
    return words.get(name, name)


class Expr:
    """A compiled expression: call it with a mapping of names to values."""

    __slots__ = ("_fn", "names", "text")

    def __init__(self, text: str, fn: Fn, names: frozenset[str]) -> None:
        self.text = text
        self._fn = fn
        self.names = names

    def __call__(self, values: Values) -> Any:
        return self._fn(values)

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"


def compile_expr(text: str) -> Expr:
    """Parse and check ``text``; ``ValueError`` (:class:`ExprError`) says what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ExprError(f"syntax error{where}: {exc.msg}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExprError(f"expression too complex (more than {MAX_NODES} parts)")
    compiler = _Compiler()
    try:
        fn = compiler.build(tree.body)
    except RecursionError:
        raise ExprError("expression nested too deeply") from None
    return Expr(text, fn, frozenset(compiler.names))


def referenced(exprs: Sequence[Expr]) -> frozenset[str]:
    """Every name the expressions read."""
    return frozenset().union(*(e.names for e in exprs)) if exprs else frozenset()
