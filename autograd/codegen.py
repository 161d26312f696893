"""Writing ops as Python: fill an op's code template (`Op.code`) with operand expressions.

Templates are ours (in `autograd/ops.py`); operands are names we checked to be identifiers, or
numbers we formatted; params are formatted here from ints, tuples, slices and dtypes only. So
generated code never contains text a user typed. Parentheses are added only where Python's
precedence needs them: each template is parsed once to learn what precedence each operand's
position requires and what its result has.
"""

from __future__ import annotations

import ast
import builtins
import functools
import itertools
import keyword
import linecache
import math
import string
import unicodedata
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

# Python's precedence levels, low to high (the language reference's table)
_BINARY = {
    ast.BitOr: 7, ast.BitXor: 8, ast.BitAnd: 9, ast.LShift: 10, ast.RShift: 10,
    ast.Add: 11, ast.Sub: 11, ast.Mult: 12, ast.MatMult: 12, ast.Div: 12, ast.FloorDiv: 12,
    ast.Mod: 12, ast.Pow: 14,
}  # fmt: skip
COMPARE, UNARY, ATOM = 6, 13, 16
NUMBER = 15  # a bare number: fine as an operand, but `1.T` would not parse


class Expr(NamedTuple):
    """Python text and the precedence of its outermost operation."""

    text: str
    prec: int

    def at(self, need: int) -> str:
        return self.text if self.prec >= need else f"({self.text})"


def name(text: str) -> Expr:
    return Expr(text, ATOM)


def is_identifier(text: Any) -> bool:
    """A name Python reads as itself: not a keyword, and NFKC-normal (Python normalizes
    identifiers, so `𝐛` would be the variable `b` and `ｎｐ` would shadow numpy)."""
    return (
        isinstance(text, str)
        and text.isidentifier()
        and not keyword.iskeyword(text)
        and unicodedata.normalize("NFKC", text) == text
    )


@dataclass(frozen=True)
class _Template:
    text: str
    prec: int  # of the result
    needs: Mapping[str, int]  # operand -> precedence its position requires


@functools.lru_cache(maxsize=512)
def _analyse(template: str) -> _Template:
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    probe = template.format(**{f: f"_f_{f}" for f in fields})
    tree = ast.parse(probe, mode="eval").body
    needs: dict[str, int] = {}
    for parent in ast.walk(tree):
        for child, need in _children(parent):
            if isinstance(child, ast.Name) and child.id.startswith("_f_"):
                field = child.id[3:]
                needs[field] = max(needs.get(field, 0), need)
    return _Template(template, _prec(tree), needs)


def _prec(node: ast.expr) -> int:
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)]
    if isinstance(node, ast.UnaryOp):
        return UNARY
    if isinstance(node, ast.Compare):
        return COMPARE
    if isinstance(node, ast.BoolOp):
        return 3 if isinstance(node.op, ast.And) else 2
    if isinstance(node, ast.IfExp):
        return 1
    return ATOM


def _children(node: ast.AST) -> list[tuple[ast.AST, int]]:
    """Each sub-expression of `node` with the precedence its position requires."""
    if isinstance(node, ast.BinOp):
        p = _BINARY[type(node.op)]
        if isinstance(node.op, ast.Pow):  # right-associative; `x ** -y` is fine
            return [(node.left, NUMBER), (node.right, UNARY)]
        return [(node.left, p), (node.right, p + 1)]
    if isinstance(node, ast.UnaryOp):
        return [(node.operand, UNARY + 1)]  # -(-x), not --x
    if isinstance(node, ast.Compare):
        return [(c, COMPARE + 1) for c in (node.left, *node.comparators)]
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        return [(node.value, ATOM)]
    if isinstance(node, ast.Call):
        return [(node.func, ATOM), *((a, 1) for a in node.args)]
    return [(c, 1) for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]


def render(template: str, operands: Mapping[str, Expr], params: Mapping[str, str]) -> Expr:
    """Fill `template` ("{x} @ {y}") with operand expressions and formatted params."""
    if template.startswith("{") and template.endswith("}") and template[1:-1] in operands:
        return operands[template[1:-1]]  # "{x}" (a sum over no axis) is its operand, as it is
    t = _analyse(template)
    filled = {key: e.at(t.needs.get(key, 1)) for key, e in operands.items()}
    text = t.text.format(**filled, **params)
    return Expr(text, t.prec)


# --- values written as code -----------------------------------------------------------------
def number(value: Any, dtype: np.dtype, *, integral: bool = True) -> Expr:
    """A number as Python text that gives back exactly `value` in `dtype` (weakly typed, so
    numpy gives it the other operand's dtype): 100, 0.5, -1, math.inf, 0.1 for float32 0.1.
    `integral=False` writes whole numbers as floats (2.0), for where an int would stay an int
    (next to a bool mask)."""
    v = float(value)
    if math.isnan(v):
        return name("math.nan")
    if math.isinf(v):
        return Expr("math.inf", ATOM) if v > 0 else Expr("-math.inf", UNARY)
    if v == 0 and math.copysign(1.0, v) < 0:
        return Expr("-0.0", UNARY)
    if integral and v.is_integer() and abs(v) < 2**53:
        text = str(int(v))
    elif dtype == np.float32:
        text = str(np.float32(value))
    else:
        text = repr(v)
    return Expr(text, UNARY) if text.startswith("-") else Expr(text, NUMBER)


def param(value: Any) -> str:
    """An op's non-tensor argument as code: ints, bools, None, tuples of them, dtypes, slices."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, np.dtype):
        if value.kind != "f":
            raise TypeError(f"a dtype {value} in a traced program")
        return f"np.{value.name}"
    if isinstance(value, tuple):
        inner = ", ".join(param(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as code")


def index(value: Any) -> str:
    """A basic index as subscript text: `1:3, ::2, None, ...`."""
    parts = value if isinstance(value, tuple) else (value,)
    if isinstance(value, tuple) and not value:
        return "()"
    texts = [_index_part(p) for p in parts]
    return texts[0] + "," if len(texts) == 1 and isinstance(value, tuple) else ", ".join(texts)


def _index_part(part: Any) -> str:
    if part is None:
        return "None"
    if part is Ellipsis:
        return "..."
    if isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_)):
        return repr(int(part))
    if isinstance(part, slice):
        bounds = [part.start, part.stop, part.step]
        for b in bounds:
            if b is not None and not isinstance(b, (int, np.integer)):
                raise TypeError(f"cannot write the slice {part!r} as code")
        start, stop, step = ("" if b is None else repr(int(b)) for b in bounds)
        return f"{start}:{stop}" + (f":{step}" if step else "")
    raise TypeError(f"cannot write the index {part!r} as code")


def call_names(template: str) -> Sequence[str]:
    """Functions a template calls by a bare name (`softmax(...)`): the ops' own forwards."""
    t = _analyse(template)
    probe = t.text.format(**{f: f"_f_{f}" for f in _fields(t.text)})
    tree = ast.parse(probe, mode="eval")
    return [
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and not hasattr(builtins, n.func.id)  # max(x, 0.0) is Python's max, not the op
    ]


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


# operators with an in-place form for arrays (no `@=`: numpy has no in-place matmul)
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


@functools.lru_cache(maxsize=512)
def augmented(template: str) -> str | None:
    """The operator of a template that is exactly `{x} OP {y}` ("+" for "{x} + {y}"), so that
    `x = x OP y` may be written `x OP= y`, updating x's array in place; else None."""
    if sorted(_fields(template)) != ["x", "y"]:
        return None
    tree = ast.parse(template.format(x="_f_x", y="_f_y"), mode="eval").body
    if (
        isinstance(tree, ast.BinOp)
        and isinstance(tree.left, ast.Name)
        and tree.left.id == "_f_x"
        and isinstance(tree.right, ast.Name)
        and tree.right.id == "_f_y"
    ):
        return _OPERATORS.get(type(tree.op))
    return None


_files = itertools.count()
# Numbers of dropped functions, for the next ones: CPython keeps every filename given to
# compile() for good (about 75 bytes each), so a new number per trace grew without end in a
# session retracing for shape after shape.
_free_files: list[int] = []


def _drop(filename: str, number: int) -> None:
    linecache.cache.pop(filename, None)
    _free_files.append(number)


def compile_function(
    source: str, name: str, helpers: Mapping[str, Callable[..., Any]], label: str
) -> Callable[..., Any]:
    """The function `name` defined by our generated `source`, with `np`, `math` and `helpers`
    in its namespace. The source is kept where tracebacks and pdb look, so an error inside
    points at a line; it is dropped with the function."""
    try:
        number = _free_files.pop()
    except IndexError:
        number = next(_files)
    filename = f"<scratchgrad {label} {number}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"np": np, "math": math, **helpers}
    exec(code, namespace)  # our own generated text: templates, checked names, numbers
    function = namespace[name]
    weakref.finalize(function, _drop, filename, number)
    return function
