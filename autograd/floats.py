"""Scalar ops on Python floats, generated from the op table: forwards and VJPs.

A 0-d numpy operation costs about a microsecond; the same arithmetic on Python floats costs
tens of nanoseconds. Two places use that for graphs of single float64 numbers (micrograd-style
`Value` code), and neither writes an op by hand:

- `float_forward(op)`: the op's Python-float code template (`Op.code`) as a function, for the
  ops whose template is plain arithmetic (`+ - * /`); `ops.binary` uses it for two single
  float64 numbers.
- `float_vjps(op)`: the op's VJPs as functions of floats, for the backward pass on floats
  (`tensor._backpropagate_floats`). Each VJP in `autograd/ops.py` is run once on symbolic
  single numbers with recording on (as `autograd.trace` records a backward pass) and what it
  recorded is written as Python with the ops' code templates (`autograd.codegen`);
  `source(MUL, 1)` shows one: `return g * x`.

Exactness: Python's float `+ - * /` and comparisons are IEEE double arithmetic, as numpy's
float64 is, so templates made of them are used as they are; any other op inside a VJP (the
power in pow's, the log in its exponent's) calls that op's own numpy forward on 0-d arrays, as
the general pass does. Where Python raises instead of giving inf or nan (1/0), or a result is
not finite (numpy would warn), the callers fall back to numpy and the general pass.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from autograd import codegen
from autograd.grad_mode import enable_grad
from autograd.tensor import Tensor, Value

if TYPE_CHECKING:
    from autograd.ops import Op

FloatVJP = Callable[[float, Tensor, Tensor, Tensor | None], float]
FloatForward = Callable[..., float]

# Points to run each VJP at: a VJP whose recorded code depends on the values (a Python `if`
# on them, or a mask computed off the record, which would be written as the number it was
# there) writes differently at two of them, and is then left to the general pass. Between
# them x and y are each positive and negative, and x is below y and above it.
_SAMPLES = ((0.7, 1.3, 0.9), (2.5, 0.6, -1.7), (-1.1, -0.4, 0.3))  # x, y, g
_OPERANDS = ("x", "y")
# the Python operations whose float results are numpy's float64 results, bit for bit
_ARITHMETIC = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub,
)  # fmt: skip
# and the comparisons of the masks (relu's x > 0), whose bools count as 0/1 in a VJP's product
_MASKS = (ast.Compare, ast.BitAnd, ast.Gt, ast.Lt, ast.GtE, ast.LtE, ast.Eq, ast.NotEq)

_made: dict[Op, tuple[tuple[FloatVJP, ...], tuple[str, ...]] | None] = {}


class _Unwritable(Exception):
    """The VJP does something a function of single floats cannot (params, array constants)."""


def float_forward(op: Op) -> FloatForward | None:
    """`op`'s forward on Python floats, when its float code is plain arithmetic (add: x + y)."""
    template = _exact_template(op, _ARITHMETIC)
    if template is None or not codegen.is_identifier(op.name):
        return None
    operands = [k for k in _OPERANDS if "{" + k + "}" in template]
    text = codegen.render(template, {k: codegen.name(k) for k in operands}, {}).text
    name = f"{op.name}_on_floats"
    return codegen.compile_function(
        f"def {name}({', '.join(operands)}):\n    return {text}\n", name, {}, name
    )


def float_vjps(op: Op) -> tuple[FloatVJP, ...] | None:
    """One function per input of `op`: `(g, out, x, y) -> the gradient for that input`, where
    `g` is a float and `out`, `x`, `y` the node and its inputs (0-d float64). None when the op
    has no such form (it takes params, or its VJP needs arrays)."""
    try:
        made = _made[op]
    except KeyError:
        made = _made[op] = _make(op)
    return None if made is None else made[0]


def source(op: Op, index: int) -> str:
    """The generated Python of `op`'s float VJP for input `index` (for reading and tests)."""
    if float_vjps(op) is None:
        raise ValueError(f"the op {op.name} has no float VJPs; its backward uses arrays")
    return _made[op][1][index]  # type: ignore[index]


def _make(op: Op) -> tuple[tuple[FloatVJP, ...], tuple[str, ...]] | None:
    arity = len(op.vjps)
    if arity not in (1, 2) or not codegen.is_identifier(op.name):
        return None
    functions, sources = [], []
    for index in range(arity):
        try:
            written = [_write(op, index, sample) for sample in _SAMPLES]
        except Exception:  # _Unwritable, or it cannot run without params (axis, shape, ...)
            return None  # then the general pass differentiates it, as any op
        text, helpers = written[0]
        if any(other != text for other, _ in written[1:]):
            return None
        name = f"{op.name}_vjp_{_OPERANDS[index]}"
        functions.append(codegen.compile_function(text, name, helpers, name))
        sources.append(text)
    return tuple(functions), tuple(sources)


def _write(
    op: Op, index: int, sample: tuple[float, float, float]
) -> tuple[str, dict[str, Callable[..., float]]]:
    """Run VJP `index` of `op` on recording single numbers and write what it recorded."""
    from autograd.ops import apply  # ops imports this module for `float_forward`

    arity = len(op.vjps)
    with enable_grad(), np.errstate(all="ignore"):
        leaves = [Value(v, name) for v, name in zip(sample, _OPERANDS[:arity], strict=False)]
        out = apply(op, tuple(leaves))
        g = Value(sample[2], "g")
        result = op.vjps[index](g, out, *leaves)
    if not isinstance(result, Tensor):
        raise _Unwritable
    names = {id(g): "g", id(out): "out"}
    names.update((id(t), n) for t, n in zip(leaves, _OPERANDS, strict=False))
    lines: list[str] = []
    helpers: dict[str, Callable[..., float]] = {}
    written: dict[int, codegen.Expr] = {}
    used: set[str] = set()

    def expr(t: Tensor) -> codegen.Expr:
        if id(t) in names:
            used.add(names[id(t)])
            return codegen.name(names[id(t)])
        if id(t) in written:
            return written[id(t)]
        if t.op is None:  # a number of the VJP (the 1 in y - 1)
            if t.ndim != 0:
                raise _Unwritable
            return codegen.number(t.data[()], np.dtype(np.float64), integral=False)
        if t.params:
            raise _Unwritable
        operands = {k: expr(a) for k, a in zip(_OPERANDS, t.inputs, strict=False)}
        template = _exact_template(t.op, _ARITHMETIC + _MASKS)
        if template is not None:
            text = codegen.render(template, operands, {}).text
        else:  # the op's own numpy forward, on 0-d arrays as in the general pass
            helper = f"{t.op.name}_"
            helpers[helper] = _numpy_forward(t.op)
            text = f"{helper}({', '.join(e.text for e in operands.values())})"
        local = f"v{len(lines)}"
        lines.append(f"    {local} = {text}")
        written[id(t)] = codegen.name(local)
        return written[id(t)]

    final = expr(result).text
    reads = [f"    {n} = {n}._data.item()" for n in ("out", *_OPERANDS) if n in used]
    name = f"{op.name}_vjp_{_OPERANDS[index]}"
    body = "\n".join([*reads, *lines, f"    return {final}"])
    return f"def {name}(g, out, x, y):\n{body}\n", helpers


def _exact_template(op: Op, allowed: tuple[type, ...]) -> str | None:
    """The op's Python-float code when it is made only of the `allowed` syntax, else None."""
    code = op.code
    if isinstance(code, tuple):
        code = code[1]
    if not isinstance(code, str):
        return None
    fields = {f for _, f, _, _ in string.Formatter().parse(code) if f}
    if not fields <= set(_OPERANDS):  # params (an axis, a dtype): not a function of numbers
        return None
    tree = ast.parse(code.format(**{k: k for k in fields}), mode="eval")
    exact = all(isinstance(n, allowed) for n in ast.walk(tree))
    return code if exact else None


def _numpy_forward(op: Op) -> Callable[..., float]:
    forward = op.forward
    asarray = np.asarray

    def on_floats(*values: float) -> float:
        return float(forward(*(asarray(v, dtype=np.float64) for v in values)))

    return on_floats
