"""Every operation of the engine, each stated once: forward, one VJP per input, and its picture.

An `Op` bundles
- `forward(*arrays, **params) -> ndarray`, plain numpy;
- `vjps[i](g, out, *inputs, **params) -> Tensor`, the gradient flowing to input i given the
  upstream gradient `g`, written with engine operations so that it can itself be differentiated
  (`create_graph=True`). A VJP may return a gradient of the output's broadcast shape: the engine
  sums it back to the input's shape (one mechanism for every op);
- `symbol` and `local` / `rule` texts for the visualizer: `local[i]` is the local derivative
  ∂out/∂input_i written with the operand names `{x}`, `{y}` and `{out}`, `rule[i]` is what the
  input receives for tensors, written with `{g}` for the upstream gradient (`{N}`: rows of a
  batch); a rule of exactly `{g}` passes the gradient on unchanged;
- `code`, how a traced program (`autograd.trace`) writes the op in Python (see `Code`);
- `keeps`, another op's result the forward computes on the way and its VJPs reuse (see `Keeps`).
"""

from __future__ import annotations

import builtins
import itertools
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd.floats import float_forward
from autograd.grad_mode import is_grad_enabled, no_grad
from autograd.grad_mode import state as _grad_state
from autograd.tensor import ArrayLike, Tensor, Value, as_float_array, too_large_integer

VJP = Callable[..., Tensor]
# How a traced program writes the op (autograd.trace): a template with the operands {x}, {y} and
# the params by name, e.g. "{x} @ {y}"; a pair (array form, Python-float form) when plain floats
# need other code ("np.exp({x})", "math.exp({x})"); or a function of the input shapes and the
# params returning either. A template may call the op by its name: that is its forward.
Code = str | tuple[str, str] | Callable[..., str | tuple[str, str]] | None


@dataclass(frozen=True)
class Keeps:
    """A result of another op that an op's forward computes on the way and keeps in
    `saved[key]` for its VJPs: `op(x, **params(x.shape))` of the op's first input `x`.

    So it is computed once: eager VJPs read it from `saved`, and a traced program that also
    needs that op's result calls `both(*arrays)`, which returns the op's result and the kept one
    (`loss, y = softmax_cross_entropy(a2, t)`); the op's forward is `both` keeping the second.
    """

    key: str
    op: str
    params: Callable[[tuple[int, ...]], dict[str, Any]]
    both: Callable[..., tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, eq=False)
class Op:
    """One differentiable operation; see the module docstring."""

    name: str
    symbol: str
    forward: Callable[..., np.ndarray]
    vjps: tuple[VJP, ...]
    local: tuple[str, ...]
    rule: tuple[str, ...]
    explain: Callable[..., str] | None = field(default=None, repr=False)
    # the local derivative as people write it when input 1 is a number: `2t` for t**2
    local_constant: Callable[[str, float], str | None] | None = field(default=None, repr=False)
    code: Code = field(default=None, repr=False)
    keeps: Keeps | None = field(default=None, repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_registered, (self.name,))  # a pickled graph refers to ops by name

    def local_text(self, i: int, names: Sequence[str] = ("x", "y")) -> str:
        """`∂/∂apple = num`: the local derivative of the output for input i, with operand names."""
        fill = _names(names)
        return f"∂/∂{fill['y' if i == 1 else 'x']} = {self.local[i].format(**fill)}"

    def rule_text(self, i: int, names: Sequence[str] = ("x", "y")) -> str:
        """`∂/∂W = xᵀ·g`: what input i receives, for tensors (g is the upstream gradient)."""
        fill = _names(names)
        return f"∂/∂{fill['y' if i == 1 else 'x']} = {self.rule[i].format(**fill)}"


def _names(names: Sequence[str]) -> dict[str, str]:
    x = names[0] if len(names) > 0 else "x"
    y = names[1] if len(names) > 1 else "y"
    return {"x": x, "y": y, "out": "out", "g": "g", "N": "N"}


REGISTRY: dict[str, Op] = {}


def _registered(name: str) -> Op:
    return REGISTRY[name]


def defop(
    name: str,
    symbol: str,
    forward: Callable[..., np.ndarray],
    vjps: Sequence[VJP],
    local: Sequence[str],
    rule: Sequence[str] | None = None,
    explain: Callable[..., str] | None = None,
    local_constant: Callable[[str, float], str | None] | None = None,
    code: Code = None,
    keeps: Keeps | None = None,
) -> Op:
    op = Op(name, symbol, forward, tuple(vjps), tuple(local), tuple(rule or local), explain,
            local_constant, code, keeps)  # fmt: skip
    REGISTRY[name] = op
    return op


# --- applying an op -----------------------------------------------------------------------
# These run once per operation, forward and backward, so they are written for speed: no
# generic argument lists, the node built in place. Everything else in the file is plain.
_new_tensor = Tensor._wrap
_new_value = Value._wrap  # a one-number result computed from a Value stays a Value


_constants: dict[tuple[str, float], Tensor] = {}
# Shared constants number themselves apart (-1, -2, ...) so that whether a number was already
# cached never shifts the creation ids of a program's own tensors: drawings stay reproducible.
_constant_ids = itertools.count(-1, -1)


def _operand(value: ArrayLike, like: Tensor | None, op: str) -> Tensor:
    """A Tensor for an operand. A Python number takes the other operand's dtype (float32
    stays float32) and becomes a constant leaf shared by every use of that number and dtype:
    `y * 1.1` in a loop then adds one tracked object per step instead of two, which keeps the
    cyclic collector's rescans of a deep graph cheap. 0.0 and NaN are not shared (0.0 == -0.0
    as a key; NaN never equals itself). Draw such a constant once per use: it is shared.
    """
    kind = type(value)
    if (kind is float or kind is int) and like is not None:
        dtype = like._data.dtype
        key = (dtype.char, value)
        found = _constants.get(key)
        if found is None:
            try:
                number = dtype.type(value)
            except OverflowError:  # an int past float range: say so, not numpy's words
                raise too_large_integer(op, value) from None
            found = _new_tensor(number, next(_constant_ids))
            if value and value == value:
                if len(_constants) >= 4096:
                    _constants.clear()
                _constants[key] = found
        return found
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and like is not None:
        return _operand(float(value), like, op)  # int/float subclasses such as np.float64
    return _new_tensor(as_float_array(value, op))


def unary(op: Op, x: Tensor, params: dict[str, Any] | None = None) -> Tensor:
    """Apply a one-input op to a Tensor."""
    try:
        data = op.forward(x._data, **params) if params else op.forward(x._data)
    except (ValueError, IndexError, TypeError) as exc:
        raise _input_error(op, (x,), params, exc) from None
    out = _new_value(data) if type(x) is Value and data.ndim == 0 else _new_tensor(data)
    if x.requires_grad and (recording := _grad_state.enabled):
        out.requires_grad = True
        out._op = op
        out._x = x
        out._params = params
        if recording is not True:  # inside detect_anomaly()
            recording.watch(out)
    return out


def binary(op: Op, a: ArrayLike, b: ArrayLike) -> Tensor:
    """Apply a two-input op; either side may be a Python number or array (a constant)."""
    if not isinstance(b, Tensor):
        if not isinstance(a, Tensor):
            raise TypeError(f"{op.name}: at least one operand must be a Tensor")
        b = _operand(b, a, op.name)
    elif not isinstance(a, Tensor):
        a = _operand(a, b, op.name)
    x, y = a._data, b._data
    data = None
    if (
        not (x.ndim or y.ndim)
        and (on_floats := _FLOAT_FORWARDS.get(op)) is not None
        and x.dtype is _FLOAT64 is y.dtype
    ):
        # two single float64 numbers: Python's float arithmetic is numpy's, bit for bit
        left, right = float(x), float(y)
        try:
            number = on_floats(left, right)
        except ZeroDivisionError:
            number = math.nan
        # finite, and normal or exact (an operand is 0); else numpy computes it with its
        # warning: inf, nan, or an underflow where np.seterr(under=...) asks to hear of one
        if number - number == 0.0 and (number >= _TINY or number <= -_TINY or not (left and right)):
            data = _array(number)
    if data is None:
        try:
            data = op.forward(x, y)
        except (ValueError, IndexError, TypeError) as exc:
            raise _input_error(op, (a, b), None, exc) from None
    if data.ndim == 0 and (type(a) is Value or type(b) is Value):
        out = _new_value(data)
    else:
        out = _new_tensor(data)
    if (a.requires_grad or b.requires_grad) and (recording := _grad_state.enabled):
        out.requires_grad = True
        out._op = op
        out._x = a
        out._y = b
        if recording is not True:  # inside detect_anomaly()
            recording.watch(out)
    return out


def apply(op: Op, inputs: tuple[Tensor, ...], params: dict[str, Any] | None = None) -> Tensor:
    """Apply an op to one or two Tensors (the general form of `unary` and `binary`)."""
    x = inputs[0]
    y = inputs[1] if len(inputs) > 1 else None
    arrays = (x._data,) if y is None else (x._data, y._data)
    try:
        data = op.forward(*arrays, **params) if params else op.forward(*arrays)
    except (ValueError, IndexError, TypeError) as exc:
        raise _input_error(op, inputs, params, exc) from None
    if (type(x) is Value or type(y) is Value) and np.ndim(data) == 0:
        out = _new_value(data)
    else:
        out = _new_tensor(data)
    recording = _grad_state.enabled
    if recording and (x.requires_grad or (y is not None and y.requires_grad)):
        out.requires_grad = True
        out._op = op
        out._x = x
        out._y = y
        out._params = params
        if recording is not True:  # inside detect_anomaly()
            recording.watch(out)
    return out


def _input_error(
    op: Op, inputs: tuple[Tensor, ...], params: dict[str, Any] | None, exc: Exception
) -> Exception:
    shapes = [t.shape for t in inputs]
    if op.explain is not None:
        message = op.explain(*shapes, **(params or {}))
        if message:
            return type(exc)(f"{op.name}: {message}")
    if len(shapes) == 2:
        return ValueError(
            f"{op.name}: shapes {shapes[0]} and {shapes[1]} do not broadcast: aligned from the "
            "right, each pair of axes must be equal or one of them 1; reshape an operand "
            "(e.g. b.reshape(1, -1)) to line them up"
        )
    return type(exc)(f"{op.name}: input shape {shapes[0]}: {exc}")


def _const(array: np.ndarray) -> Tensor:
    return _new_tensor(array)


# --- elementwise binary ops ---------------------------------------------------------------
ADD = defop(
    "add",
    "+",
    operator.add,
    [lambda g, out, x, y: g, lambda g, out, x, y: g],
    local=["1", "1"],
    rule=["{g}", "{g}"],
    code="{x} + {y}",
)
SUB = defop(
    "sub",
    "−",
    operator.sub,
    [lambda g, out, x, y: g, lambda g, out, x, y: -g],
    local=["1", "−1"],
    rule=["{g}", "−{g}"],
    code="{x} - {y}",
)
MUL = defop(
    "mul",
    "×",
    operator.mul,
    [lambda g, out, x, y: g * y, lambda g, out, x, y: g * x],
    local=["{y}", "{x}"],
    rule=["{g} ⊙ {y}", "{g} ⊙ {x}"],
    code="{x} * {y}",
)
DIV = defop(
    "div",
    "/",
    operator.truediv,
    [lambda g, out, x, y: g / y, lambda g, out, x, y: -(g * out) / y],
    local=["1/{y}", "−{x}/{y}²"],
    rule=["{g} / {y}", "−{g} ⊙ {x}/{y}²"],
    code="{x} / {y}",
)


def _fixed(t: Tensor) -> bool:
    """A constant (a number of the program): deciding on its values is not data-dependent."""
    return t._op is None and not t.requires_grad


def _pow_vjp_base(g: Tensor, out: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """g·y·x^(y−1), and 0 where x = y = 0: there the base is 1 (not 0·0^−1 = nan).

    The base is −(−x − mask), not x + mask: adding the mask's 0 turns −0.0 into +0.0 (IEEE
    −0 + 0 = +0), which flipped the sign of an infinite gradient (d/dx x^−2 is +inf at −0.0);
    subtracting a zero keeps every x as it is.

    Recording (a trace, create_graph), whether the mask is needed may depend only on values
    that cannot change, and the mask meets x, which is recorded (x requires grad here): a
    constant y's `y − 1 + mask` would be a constant, its example value kept by a program, so
    `x ** 0` traced at x = 2 gave nan at 0 (or was refused, for arrays).
    """
    if is_grad_enabled():
        masked = not _fixed(y) or (np.any(y.data == 0) and (not _fixed(x) or np.any(x.data == 0)))
    else:
        masked = np.any((y.data == 0) & (x.data == 0))
    base = -(-x - _mask(BOTH_ZERO, x, y)) if masked else x
    return g * y * base ** (y - 1)


def _pow_vjp_exponent(g: Tensor, out: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """g·x^y·ln x, and 0 where x = 0 (not 0·−inf = nan)."""
    if np.any(x.data == 0) or (is_grad_enabled() and not _fixed(x)):
        return g * out * log(x + _mask(EQUAL_ZERO, x))
    return g * out * log(x)


def _power_text(x: str, c: float) -> str | None:
    """d/dx x**c as the book writes it: `2x` for c = 2, `3x²`, `0.5·x^(−0.5)`; None for 0."""
    if c == 0:
        return None
    power = c - 1
    lead = f"{c:g}".replace("-", "−")
    if power == 0:
        return lead
    tail = {1: "", 2: "²", 3: "³"}.get(power) if power == int(power) else None
    factor = f"{lead}{x}" if lead not in ("1",) else x
    if tail is not None:
        return factor + tail if x.isidentifier() or tail == "" else f"{lead}·{x}{tail}"
    return f"{lead}·{x}^({f'{power:g}'.replace('-', '−')})"


def _pow_code(shapes: Sequence[tuple[int, ...]]) -> tuple[str, str]:
    """`x ** 2`; but between single numbers, which numpy computes as its scalars, `**` is C's
    pow, where the power of 0-d arrays (eager mode's) is a square root for 0.5: -inf ** 0.5 is
    inf there and nan here."""
    return ("{x} ** {y}" if any(shapes) else "np.power({x}, {y})", "math.pow({x}, {y})")


POW = defop(
    "pow",
    "**",
    operator.pow,
    [_pow_vjp_base, _pow_vjp_exponent],
    local=["{y}·{x}^({y}−1)", "{x}^{y}·ln {x}"],
    rule=["{g} ⊙ {y}·{x}^({y}−1)", "{g} ⊙ {x}^{y}·ln {x}"],
    local_constant=lambda x, c: _power_text(x, c),
    code=_pow_code,
)


def add(a: ArrayLike, b: ArrayLike) -> Tensor:
    return binary(ADD, a, b)


def sub(a: ArrayLike, b: ArrayLike) -> Tensor:
    return binary(SUB, a, b)


def mul(a: ArrayLike, b: ArrayLike) -> Tensor:
    return binary(MUL, a, b)


def div(a: ArrayLike, b: ArrayLike) -> Tensor:
    return binary(DIV, a, b)


def pow(a: ArrayLike, b: ArrayLike) -> Tensor:
    return binary(POW, a, b)


# --- matmul -------------------------------------------------------------------------------
def _swapped(a: np.ndarray) -> np.ndarray:
    return a.T if a.ndim == 2 else a.swapaxes(-1, -2)


def _swap_last(t: Tensor) -> Tensor:
    if t.ndim == 2:
        return unary(TRANSPOSE, t, {"axes": None})
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(t, tuple(axes))


def _matmul_vjp_x(g: Tensor, out: Tensor, x: Tensor, y: Tensor) -> Tensor:
    if not _grad_state.enabled and x._data.ndim >= 2 and y._data.ndim >= 2:
        return _new_tensor(g._data @ _swapped(y._data))  # not recording: the same product
    if x.ndim == 1 and y.ndim == 1:
        return g * y
    if y.ndim == 1:  # (..., n, k) @ (k,) -> (..., n)
        return reshape(g, g.shape + (1,)) * y
    if x.ndim == 1:  # (k,) @ (..., k, m) -> (..., m)
        row = reshape(g, g.shape[:-1] + (1, g.shape[-1])) @ _swap_last(y)
        return reshape(row, row.shape[:-2] + (row.shape[-1],))
    return g @ _swap_last(y)


def _matmul_vjp_y(g: Tensor, out: Tensor, x: Tensor, y: Tensor) -> Tensor:
    if not _grad_state.enabled and x._data.ndim >= 2 and y._data.ndim >= 2:
        return _new_tensor(_swapped(x._data) @ g._data)  # not recording: the same product
    if x.ndim == 1 and y.ndim == 1:
        return g * x
    if x.ndim == 1:  # (k,) @ (..., k, m): outer product k x m per batch
        return reshape(x, (x.shape[0], 1)) * reshape(g, g.shape[:-1] + (1, g.shape[-1]))
    if y.ndim == 1:  # (..., n, k) @ (k,): sum over n of g[n] x[n, :]
        return reshape(
            reshape(g, g.shape[:-1] + (1, g.shape[-1])) @ x, x.shape[:-2] + (x.shape[-1],)
        )
    return _swap_last(x) @ g


def _explain_matmul(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    if len(a) == 0 or len(b) == 0:
        return f"{a} @ {b}: a 0-d operand has no matrix dimension; use * to scale"
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        return (
            f"{a} @ {b}: inner dimensions {inner_a} and {inner_b} differ; the last axis of "
            "the left operand must equal the second-to-last axis of the right (transpose one?)"
        )
    return f"{a} @ {b}: batch dimensions {a[:-2]} and {b[:-2]} do not broadcast"


MATMUL = defop(
    "matmul",
    "dot",  # the book's name (Fig. 5-25)
    np.matmul,
    [_matmul_vjp_x, _matmul_vjp_y],
    local=["{y}ᵀ", "{x}ᵀ"],
    rule=["{g} · {y}ᵀ", "{x}ᵀ · {g}"],
    explain=_explain_matmul,
    code="{x} @ {y}",
)


def matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    return binary(MATMUL, a, b)


# --- elementwise unary ops ----------------------------------------------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive number only: no overflow warning for large |x|
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _relu_mask(x: Tensor) -> Tensor:
    return _mask(STEP, x)


def _relu_vjp(g: Tensor, out: Tensor, x: Tensor) -> Tensor:
    """g where x > 0, else 0. Recording (create_graph, trace), the mask is an op of its own;
    otherwise g is multiplied by the bool mask directly, as the book's Relu does."""
    if _grad_state.enabled:
        return g * _relu_mask(x)
    return type(g)._wrap(g._data * (x._data > 0))


def _mask(
    op: Op, x: Tensor, y: Tensor | None = None, params: dict[str, Any] | None = None
) -> Tensor:
    """A data-dependent constant of a VJP (relu's mask, max's tie share) as a recorded op.

    Recorded, so a traced program recomputes it from its input instead of keeping the example's
    values; marked as not requiring grad, because its derivative is zero: backward, and so
    second derivatives, never go through it (as if it were a constant).
    """
    out = unary(op, x, params) if y is None else binary(op, x, y)
    out.requires_grad = False
    return out


def zero_vjp(g: Tensor, out: Tensor, *inputs: Tensor, **params: Any) -> Tensor:
    """The VJP of an op whose derivative is zero (backward sums it to each input's shape)."""
    return _const(np.zeros(out.shape, dtype=out.dtype))


def _sign(x: Tensor) -> Tensor:
    return _mask(SIGN, x)


NEG = defop("neg", "−", operator.neg, [lambda g, out, x: -g], local=["−1"], rule=["−{g}"],
            code="-{x}")  # fmt: skip
EXP = defop("exp", "exp", np.exp, [lambda g, out, x: g * out], local=["exp({x})"],
               rule=["{g} ⊙ {out}"], code=("np.exp({x})", "math.exp({x})"))  # fmt: skip
LOG = defop("log", "log", np.log, [lambda g, out, x: g / x], local=["1/{x}"], rule=["{g} / {x}"],
            code=("np.log({x})", "math.log({x})"))  # fmt: skip
TANH = defop(
    "tanh",
    "tanh",
    np.tanh,
    [lambda g, out, x: g * (1 - out * out)],
    local=["1 − {out}²"],
    rule=["{g} ⊙ (1 − {out}²)"],
    code=("np.tanh({x})", "math.tanh({x})"),
)
SIGMOID = defop(
    "sigmoid",
    "σ",
    _sigmoid,
    [lambda g, out, x: g * out * (1 - out)],
    local=["{out}(1 − {out})"],
    rule=["{g} ⊙ {out}(1 − {out})"],
    code=("sigmoid({x})", "1 / (1 + math.exp(-{x}))"),
)
RELU = defop(
    "relu",
    "relu",
    lambda x: np.maximum(x, 0),
    [_relu_vjp],
    local=["1 if {x} > 0 else 0"],
    rule=["{g} where {x} > 0, else 0"],
    code=("np.maximum({x}, 0)", "max({x}, 0.0)"),
)
# The masks below have a zero derivative; their code is the bool mask, which only ever meets
# floats in arithmetic (`g * mask`), where it counts as 0/1 in the floats' dtype.
STEP = defop(
    "step",
    "[>0]",
    lambda x: (x > 0).astype(x.dtype),
    [zero_vjp],
    local=["0"],
    rule=["0"],
    code="{x} > 0",
)
EQUAL_ZERO = defop(
    "equal_zero",
    "[=0]",
    lambda x: (x == 0).astype(x.dtype),
    [zero_vjp],
    local=["0"],
    rule=["0"],
    code="{x} == 0",
)
BOTH_ZERO = defop(
    "both_zero",
    "[=0 and =0]",
    lambda x, y: ((x == 0) & (y == 0)).astype(np.result_type(x, y)),
    [zero_vjp, zero_vjp],
    local=["0", "0"],
    rule=["0", "0"],
    code="({x} == 0) & ({y} == 0)",
)
SIGN = defop(
    "sign",
    "sign",
    np.sign,
    [zero_vjp],
    local=["0"],
    rule=["0"],
    code="np.sign({x})",
)
ABS = defop(
    "abs",
    "|x|",
    np.abs,
    [lambda g, out, x: g * _sign(x)],
    local=["sign({x})"],
    rule=["{g} ⊙ sign({x})"],
    code=("np.abs({x})", "abs({x})"),
)
SQRT = defop(
    "sqrt",
    "√",
    np.sqrt,
    [lambda g, out, x: g / (2 * out)],
    local=["1/(2√{x})"],
    rule=["{g} / (2√{x})"],
    code=("np.sqrt({x})", "math.sqrt({x})"),
)
SOFTPLUS = defop(
    "softplus",
    "softplus",
    lambda x: np.logaddexp(0, x),  # log(1 + eˣ) without overflow for large x
    [lambda g, out, x: g * sigmoid(x)],
    local=["σ({x})"],
    rule=["g⊙σ({x})"],
    code="np.logaddexp(0, {x})",
)
ASTYPE = defop(
    "astype",
    "astype",
    lambda x, dtype: x.astype(dtype),
    [lambda g, out, x, dtype: astype(g, x.dtype)],
    local=["1"],
    rule=["{g}"],
    code="{x}.astype({dtype})",
)


def neg(x: ArrayLike) -> Tensor:
    return unary(NEG, _operand(x, None, "neg"))


def exp(x: ArrayLike) -> Tensor:
    return unary(EXP, _operand(x, None, "exp"))


def log(x: ArrayLike) -> Tensor:
    return unary(LOG, _operand(x, None, "log"))


def tanh(x: ArrayLike) -> Tensor:
    return unary(TANH, _operand(x, None, "tanh"))


def sigmoid(x: ArrayLike) -> Tensor:
    return unary(SIGMOID, _operand(x, None, "sigmoid"))


def relu(x: ArrayLike) -> Tensor:
    return unary(RELU, _operand(x, None, "relu"))


def abs(x: ArrayLike) -> Tensor:
    """|x|; its derivative sign(x) is taken as 0 at 0."""
    return unary(ABS, _operand(x, None, "abs"))


def sqrt(x: ArrayLike) -> Tensor:
    return unary(SQRT, _operand(x, None, "sqrt"))


def softplus(x: ArrayLike) -> Tensor:
    """log(1 + eˣ): a smooth ReLU whose derivative is the sigmoid."""
    return unary(SOFTPLUS, _operand(x, None, "softplus"))


def astype(x: Tensor, dtype: Any) -> Tensor:
    """Cast (float32 <-> float64); the gradient is cast back."""
    return unary(ASTYPE, x, {"dtype": np.dtype(dtype)})


# --- reductions ---------------------------------------------------------------------------
def _normalize_axis(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """Axes as non-negative ints; anything else (floats, out of range, repeats) is an error."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    if not isinstance(axes, (tuple, list)) or not all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes
    ):
        raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(out)


def _keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_reduced(g: Tensor, x: Tensor, axis: tuple[int, ...], keepdims: bool) -> Tensor:
    """Put a reduced gradient back to the input's shape (reshape to keepdims, broadcast)."""
    if not keepdims:
        g = reshape(g, _keepdims_shape(x.shape, axis))
    return broadcast_to(g, x.shape)


def _reduced_count(shape: tuple[int, ...], axis: tuple[int, ...]) -> int:
    return math.prod(shape[a] for a in axis)


SUM = defop(
    "sum",
    "Σ",
    lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    [lambda g, out, x, axis, keepdims: _expand_reduced(g, x, axis, keepdims)],
    local=["1"],
    rule=["{g} copied to every element"],
    code=lambda shapes, axis, keepdims: _reduction_code("sum", shapes[0], axis, keepdims),
)
MEAN = defop(
    "mean",
    "mean",
    lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
    [
        lambda g, out, x, axis, keepdims: (
            _expand_reduced(g, x, axis, keepdims) / _reduced_count(x.shape, axis)
        )
    ],
    local=["1/n"],
    rule=["{g} / n copied to every element"],
    code=lambda shapes, axis, keepdims: _reduction_code("mean", shapes[0], axis, keepdims),
)


def _max_vjp(g: Tensor, out: Tensor, x: Tensor, axis: tuple[int, ...], keepdims: bool) -> Tensor:
    return _expand_reduced(g, x, axis, keepdims) * _mask(MAX_SHARE, x, params={"axis": axis})


def _max_share(x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    """1 at the maximum along `axis`, else 0; ties split the 1 evenly."""
    mask = x == np.max(x, axis=axis, keepdims=True)
    return (mask / np.sum(mask, axis=axis, keepdims=True)).astype(x.dtype)


MAX = defop(
    "max",
    "max",
    lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
    [_max_vjp],
    local=["1 at the maximum, else 0"],
    rule=["{g} at the maximum (ties share)"],
    code=lambda shapes, axis, keepdims: _reduction_code("max", shapes[0], axis, keepdims),
)


MAX_SHARE = defop(
    "max_share",
    "argmax",
    _max_share,
    [zero_vjp],
    local=["0"],
    rule=["0"],
    code="max_share({x}, axis={axis})",
)


def _reduction_code(
    method: str, shape: tuple[int, ...], axis: tuple[int, ...], keepdims: bool
) -> str:
    if not axis:
        return "{x}"
    if len(axis) == len(shape) and not keepdims:
        return f"{{x}}.{method}()"
    axes = axis[0] if len(axis) == 1 else axis
    return f"{{x}}.{method}(axis={axes}{', keepdims=True' if keepdims else ''})"


def _reduction(op: Op, x: ArrayLike, axis: int | Sequence[int] | None, keepdims: bool) -> Tensor:
    t = _operand(x, None, op.name)
    try:
        axes = _normalize_axis(axis, t.ndim)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{op.name}: {exc} (shape {t.shape})") from None
    if op is MAX and t.size == 0:
        raise ValueError(f"max: the input of shape {t.shape} is empty; max needs an element")
    return unary(op, t, {"axis": axes, "keepdims": bool(keepdims)})


def sum(x: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    return _reduction(SUM, x, axis, keepdims)


def mean(x: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    return _reduction(MEAN, x, axis, keepdims)


def max(x: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    return _reduction(MAX, x, axis, keepdims)


# --- shape ops ----------------------------------------------------------------------------
def _sum_to_forward(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    lead = x.ndim - len(shape)
    if lead and x.shape[lead:] == shape:  # a bias: sum over the leading (batch) axes only
        return np.add.reduce(x, axis=tuple(range(lead)) if lead > 1 else 0)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1
    )
    summed = np.add.reduce(x, axis=axes, keepdims=True) if axes else x
    return summed.reshape(shape)


def _sum_to_code(x_shape: tuple[int, ...], shape: tuple[int, ...]) -> str:
    """`_sum_to_forward` as code: `{x}.sum(axis=0)` for a bias."""
    lead = len(x_shape) - len(shape)
    if lead and x_shape[lead:] == shape:
        return f"{{x}}.sum(axis={0 if lead == 1 else tuple(range(lead))})"
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and x_shape[i + lead] != 1
    )
    summed = f"{{x}}.sum(axis={axes[0] if len(axes) == 1 else axes}, keepdims=True)"
    return summed + (f".reshape({shape})" if lead else "")


RESHAPE = defop(
    "reshape",
    "reshape",
    lambda x, shape: np.reshape(x, shape),
    [lambda g, out, x, shape: reshape(g, x.shape)],
    local=["1"],
    rule=["{g} reshaped back"],
    explain=lambda a, shape: f"cannot reshape {a} (size {math.prod(a)}) into {shape}",
    code="{x}.reshape({shape})",
)
TRANSPOSE = defop(
    "transpose",
    "ᵀ",
    lambda x, axes: np.transpose(x, axes),
    [
        lambda g, out, x, axes: transpose(
            g, None if axes is None else tuple(int(i) for i in np.argsort(axes))
        )
    ],
    local=["1"],
    rule=["{g}ᵀ"],
    explain=lambda a, axes: f"axes {axes} are not a permutation of the {len(a)} axes of {a}",
    code=lambda shapes, axes: "{x}.T" if axes is None else "{x}.transpose({axes})",
)
BROADCAST_TO = defop(
    "broadcast_to",
    "broadcast",
    lambda x, shape: np.broadcast_to(x, shape),
    [lambda g, out, x, shape: sum_to(g, x.shape)],
    local=["1"],
    rule=["sum of {g} over the copies"],
    explain=lambda a, shape: f"cannot broadcast {a} to {shape}",
    code="np.broadcast_to({x}, {shape})",
)
SUM_TO = defop(
    "sum_to",
    "Σ",
    _sum_to_forward,
    [lambda g, out, x, shape: broadcast_to(g, x.shape)],
    local=["1"],
    rule=["{g} copied back"],
    code=lambda shapes, shape: _sum_to_code(shapes[0], shape),
)


def reshape(x: ArrayLike, shape: Sequence[int]) -> Tensor:
    t = _operand(x, None, "reshape")
    if not builtins.all(
        isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)) for s in shape
    ):
        raise TypeError(
            f"reshape: the new shape must be whole numbers (or -1 once), got {tuple(shape)!r} "
            f"for a tensor of shape {t.shape}"
        )
    shape = tuple(int(s) for s in shape)
    if -1 in shape:
        try:
            shape = np.empty(t.shape, dtype=bool).reshape(shape).shape
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape {t.shape} (size {t.size}) into {shape}"
            ) from None
    if shape == t.shape:
        return t
    return unary(RESHAPE, t, {"shape": shape})


def transpose(x: ArrayLike, axes: Sequence[int] | None = None) -> Tensor:
    t = _operand(x, None, "transpose")
    if axes is not None:
        try:
            normalized = _normalize_axis(tuple(axes), t.ndim)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"transpose: {exc} (shape {t.shape})") from None
        if len(normalized) != t.ndim:
            raise ValueError(
                f"transpose: axes {tuple(axes)} must list each of the {t.ndim} axes of "
                f"shape {t.shape} once"
            )
        axes = normalized
    return unary(TRANSPOSE, t, {"axes": axes})


def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    if x.shape == shape:
        return x
    return unary(BROADCAST_TO, x, {"shape": tuple(shape)})


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a broadcast gradient back to `shape`: the engine's one rule for broadcasting."""
    data = x._data
    if data.shape == shape:
        return x
    if not _grad_state.enabled:  # not recording (a plain backward): the sum alone
        return _new_tensor(_sum_to_forward(data, tuple(shape)))
    return unary(SUM_TO, x, {"shape": tuple(shape)})


# --- indexing -----------------------------------------------------------------------------
def _has_array_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.any(
        isinstance(p, (list, np.ndarray, Tensor)) and not isinstance(p, (bool, np.bool_))
        for p in parts
    )


def _scatter_forward(g: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    full = np.zeros(shape, dtype=g.dtype)
    if _has_array_index(index):
        np.add.at(full, index, g)  # repeated indices accumulate
    else:
        full[index] = g
    return full


def _explain_getitem(shape: tuple[int, ...], index: Any) -> str:
    """Which index does not fit, and numpy's reason (a float index read only as "does not
    fit"); found again on an empty view of the shape, which costs no memory."""
    found = f"index {index!r} does not fit shape {shape}"
    try:
        np.broadcast_to(np.empty((), dtype=bool), shape)[index]
    except (IndexError, TypeError, ValueError) as exc:
        return f"{found}: {exc}"
    return found


def _getitem_forward(x: np.ndarray, index: Any) -> np.ndarray:
    return x[index]  # a view for basic indexing, as reshape and transpose give (numpy's rule)


GETITEM = defop(
    "getitem",
    "[ ]",
    _getitem_forward,
    [lambda g, out, x, index: unary(SCATTER, g, {"index": index, "shape": x.shape})],
    local=["1 at the picked entries"],
    rule=["{g} scattered back (repeats add)"],
    explain=lambda shape, index: _explain_getitem(shape, index),
    code="{x}[{index}]",
)
SCATTER = defop(
    "scatter_add",
    "scatter",
    _scatter_forward,
    [lambda g, out, x, index, shape: unary(GETITEM, g, {"index": index})],
    local=["1"],
    rule=["{g}[index]"],
    code="scatter_add({x}, np.s_[{index}], {shape})",
)


def _plain_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        # a Tensor holds floats (bools became 0.0/1.0), so a mask would silently pick rows 0/1
        raise TypeError(
            "getitem: index with numpy arrays, not a Tensor: a boolean mask such as "
            "t.data > 0, or integer positions such as labels.astype(int)"
        )
    if isinstance(index, tuple):
        # inside an index tuple, a tuple is a list of positions (numpy's advanced indexing)
        return tuple(
            _positions(i) if isinstance(i, (tuple, list)) else _plain_index(i) for i in index
        )
    if isinstance(index, list):
        return _positions(index)
    return index


def _positions(index: list[Any] | tuple[Any, ...]) -> np.ndarray:
    positions = np.asarray(index)
    return positions.astype(np.intp) if positions.size == 0 else positions  # [] picks nothing


def getitem(x: ArrayLike, index: Any) -> Tensor:
    return unary(GETITEM, _operand(x, None, "getitem"), {"index": _plain_index(index)})


# --- softmax family -----------------------------------------------------------------------
def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    # array methods: np.max/np.sum dispatch costs as much as the work at the book's sizes
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


SOFTMAX = defop(
    "softmax",
    "softmax",
    _softmax,
    [lambda g, out, x, axis: out * (g - sum(g * out, axis=axis, keepdims=True))],
    local=["{out}(δ − {out})"],
    rule=["{out} ⊙ ({g} − sum of {g} ⊙ {out})"],
    code="softmax({x}, axis={axis})",
)
LOG_SOFTMAX = defop(
    "log_softmax",
    "log softmax",
    _log_softmax,
    [lambda g, out, x, axis: g - exp(out) * sum(g, axis=axis, keepdims=True)],
    local=["δ − softmax({x})"],
    rule=["{g} − softmax({x}) · sum of {g}"],
    code="log_softmax({x}, axis={axis})",
)


def _axis_param(t: Tensor, axis: int, name: str) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, (bool, np.bool_)):
        raise TypeError(
            f"{name}: axis must be one int (the axis the probabilities run along, usually -1), "
            f"got {axis!r}; {name} over several axes at once is not supported"
        )
    if t.ndim == 0:
        raise ValueError(f"{name}: needs at least one axis, got a 0-d tensor")
    if not -t.ndim <= axis < t.ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for shape {t.shape}")
    if t.shape[axis] == 0:
        raise ValueError(_no_classes(name, t.shape, f"axis {axis}"))
    return axis % t.ndim


def _no_classes(name: str, shape: tuple[int, ...], which: str) -> str:
    return (
        f"{name}: shape {shape} has no classes ({which} is empty); probabilities need at "
        "least one class to run along"
    )


def softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    t = _operand(x, None, "softmax")
    return unary(SOFTMAX, t, {"axis": _axis_param(t, axis, "softmax")})


def log_softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    t = _operand(x, None, "log_softmax")
    return unary(LOG_SOFTMAX, t, {"axis": _axis_param(t, axis, "log_softmax")})


def _one_hot(labels: np.ndarray, classes: int, dtype: np.dtype) -> np.ndarray:
    hot = np.zeros((labels.size, classes), dtype=dtype)
    hot[np.arange(labels.size), labels.ravel()] = 1
    return hot.reshape(*labels.shape, classes)


def _softmax_with_loss(
    z: np.ndarray, t: np.ndarray | None = None, labels: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """The mean over rows of −Σ t·log y, and y = softmax(z) along the last axis.

    log y is computed from the shifted logits, (z − max z) − log Σ exp(z − max z): finite for
    any logit gap, even where y underflows to 0 (never log 0).
    """
    rows = z if z.ndim == 2 else z.reshape(-1, z.shape[-1])
    n, classes = rows.shape
    shifted = rows - _row_max(rows)
    y = np.exp(shifted)
    # the row sums as a product with ones: numpy's sum along a short last axis loops per row
    totals = y @ np.ones((classes, 1), y.dtype)
    log_totals = np.log(totals)
    y /= totals
    count = n or 1
    if t is None:
        picked = shifted[np.arange(n), labels.ravel()]
        loss = (log_totals.sum() - picked.sum()) / count
    else:
        shifted -= log_totals  # log y
        loss = -np.vdot(t, shifted) / count  # Σ t·log y, t in the logits' shape
        if not math.isfinite(loss):  # (BLAS is silent: numpy's product warns of 0 · log 0)
            loss = -(t.reshape(rows.shape) * shifted).sum() / count
    return np.asarray(loss, dtype=z.dtype), (y if rows is z else y.reshape(z.shape))


def _row_max(rows: np.ndarray) -> np.ndarray:
    """Each row's largest entry, as a column. Along a short last axis (ten classes) numpy
    reduces row by row; a column-major copy makes it an elementwise maximum of columns, twice
    as fast for many short rows, and slower for long ones."""
    if rows.shape[1] <= 32 and rows.shape[0] >= 16:
        rows = np.asfortranarray(rows)
    return rows.max(axis=1, keepdims=True)


def _sce_forward(
    z: np.ndarray, t: np.ndarray | None = None, *, saved: dict[str, Any], labels: Any = None
) -> np.ndarray:
    loss, saved["y"] = _softmax_with_loss(z, t, labels)
    return loss


def _sce_vjp_logits(
    g: Tensor,
    out: Tensor,
    z: Tensor,
    t: Tensor | None = None,
    *,
    saved: dict[str, Any],
    labels: Any = None,
) -> Tensor:
    """(y·Σt − t)/N with y = softmax(z); Σt is 1 for one-hot and integer labels.

    Recording (create_graph), y is a graph op softmax(z), so second derivatives flow (a traced
    program takes it from the forward's call: `Keeps` below); otherwise the forward's y is
    reused, which is the book's layer's shortcut.
    """
    shape = z._data.shape
    count = builtins.max(z._data.size // shape[-1], 1)
    if _grad_state.enabled:
        y, batch_size = softmax(z), _batch_size(z)
        if t is None:
            return g * (y - _const(_one_hot(labels, z.shape[-1], z.dtype))) / batch_size
        return g * (y * sum(t, axis=-1, keepdims=True) - t) / batch_size
    y = saved["y"]
    if t is None:
        delta = y.reshape(-1, shape[-1]).copy()
        delta[np.arange(delta.shape[0]), labels.ravel()] -= 1
        delta = delta.reshape(shape)
    else:
        delta = y * t._data.sum(axis=-1, keepdims=True)
        delta -= t._data  # in place: the product is a new array of the logits' shape
    delta *= _scale(g._data, count, delta.dtype)
    return _const(delta)


def _scale(g: np.ndarray, count: int, dtype: np.dtype) -> Any:
    """g / count in `dtype`, as numpy computes it: `g / np.asarray(count, dtype)`.

    In Python floats when that is the same number, at a third of the cost: in float64 it is
    the same division, and rounded to float32 it is numpy's float32 quotient whenever g and
    count are exact float32 numbers (a quotient rounded to 53 and then to 24 bits is still
    correctly rounded).
    """
    if dtype == _FLOAT64 or (g.dtype == _FLOAT32 and count <= _FLOAT32_WHOLE):
        return float(g) / count
    return g / np.asarray(count, dtype=dtype)


def _sce_vjp_target(g: Tensor, out: Tensor, z: Tensor, t: Tensor, **_: Any) -> Tensor:
    return -(g * log_softmax(z)) / _batch_size(z)


def _batch_size(z: Tensor) -> Tensor:
    """N, the rows the loss is the mean over, as a number named as the book names it (a
    traced program writes `batch_size = 100`)."""
    n = _new_tensor(np.asarray(builtins.max(z.size // z.shape[-1], 1), dtype=z.dtype))
    n._name = "batch_size"
    return n


SOFTMAX_CROSS_ENTROPY = defop(
    "softmax_cross_entropy",
    "softmax\ncross-entropy",
    _sce_forward,
    [_sce_vjp_logits, _sce_vjp_target],
    # y is softmax({x}), drawn as its own arrow; N the number of rows (the batch)
    local=["(y − {y}) / {N}", "−log y / {N}"],
    rule=["{g} · (y − {y}) / {N}", "−{g} · log y / {N}"],
    # written `loss, y = softmax_cross_entropy(a, t)` in a traced program: the y the VJP uses
    code="softmax_cross_entropy({x}, {y})",
    keeps=Keeps("y", "softmax", lambda shape: {"axis": len(shape) - 1}, _softmax_with_loss),
)


def softmax_cross_entropy(logits: ArrayLike, t: ArrayLike) -> Tensor:
    """Mean cross-entropy of softmax(logits) against labels, computed stably with logsumexp.

    `t` is one-hot (or any distribution) of the logits' shape, or integer class labels of the
    logits' shape without the last axis. The gradient is `(softmax(logits) - t) / N`.
    """
    z = _operand(logits, None, "softmax_cross_entropy")
    shape = z._data.shape
    if not shape:
        raise ValueError("softmax_cross_entropy: logits must have a class axis, got a 0-d tensor")
    if not shape[-1]:
        raise ValueError(_no_classes("softmax_cross_entropy", shape, "the last axis"))
    if not z._data.size:  # a mean over no rows: was 0 (−0.0 for one-hot), silently
        raise ValueError(
            f"softmax_cross_entropy: the batch is empty (logits of shape {shape}), so there is "
            "no mean loss; check the batch size and the slice that made the logits"
        )
    if isinstance(t, Tensor):
        raw = t._data
    elif isinstance(t, np.ndarray):
        raw = t
    else:
        raw = np.asarray(t)
    kind = raw.dtype.kind
    if kind not in "biuf":
        raise TypeError(
            "softmax_cross_entropy: labels must be class numbers (integers) or one-hot / "
            f"probability arrays of numbers; got dtype {raw.dtype}"
        )
    if kind == "f" and not np.isfinite(raw).all():  # (the method: no dispatch)
        raise ValueError(
            "softmax_cross_entropy: labels contain NaN or inf; give class numbers "
            f"0..{shape[-1] - 1} or one-hot rows"
        )
    if kind == "f" and raw.shape == shape:
        target = t if isinstance(t, Tensor) else Tensor._wrap(raw.astype(z.dtype, copy=False))
        return apply(SOFTMAX_CROSS_ENTROPY, (z, target), {"saved": {}})
    if raw.shape == z.shape[:-1]:
        classes = z.shape[-1]
        if raw.dtype.kind == "f":
            if not np.all(raw == np.round(raw)):
                raise ValueError(
                    "softmax_cross_entropy: labels of shape "
                    f"{raw.shape} must be whole class numbers; for probabilities give shape "
                    f"{z.shape}"
                )
            if raw.size and not (0 <= raw.min() and raw.max() < classes):  # before the cast
                raise _label_range_error(raw, classes)
        labels = raw.astype(np.intp, copy=False)
        if (labels.view(np.uintp) >= classes).any():  # negative labels wrap to huge numbers
            raise _label_range_error(raw, classes)
        return unary(SOFTMAX_CROSS_ENTROPY, z, {"labels": labels, "saved": {}})
    if raw.shape == z.shape:  # integer one-hot given with the logits' shape
        return apply(SOFTMAX_CROSS_ENTROPY, (z, Tensor._wrap(raw.astype(z.dtype))), {"saved": {}})
    raise ValueError(
        f"softmax_cross_entropy: logits {z.shape} and labels {raw.shape} do not match; give "
        f"one-hot labels of shape {z.shape} or class numbers of shape {z.shape[:-1]}"
    )


def _label_range_error(labels: np.ndarray, classes: int) -> ValueError:
    low, high = labels.min().item(), labels.max().item()  # the user's values, not a cast's
    return ValueError(
        f"softmax_cross_entropy: labels must lie in 0..{classes - 1} for {classes} classes; "
        f"got values from {low!r} to {high!r}"
    )


# two single float64 numbers are added, multiplied, ... as Python floats: same result, faster
_FLOAT_FORWARDS = {
    op: f for op in REGISTRY.values() if len(op.vjps) == 2 and (f := float_forward(op)) is not None
}
_FLOAT64 = np.dtype(np.float64)
_FLOAT32 = np.dtype(np.float32)
_FLOAT32_WHOLE = 2**24  # every whole number up to it is exact in float32
# below it a product or quotient may underflow (a Python float: compared fast)
_TINY = float(np.finfo(np.float64).smallest_normal)
_array = np.array


# --- for the visualizer -------------------------------------------------------------------
def local_derivative(node: Tensor, i: int) -> float | None:
    """The value of ∂node/∂input_i when both are single numbers, else None.

    It is input i's VJP with an upstream gradient of 1, so the number drawn on an edge comes
    from the same rule that backward uses.
    """
    op = node.op
    if op is None or node.size != 1 or node.inputs[i].size != 1:
        return None
    with no_grad():
        one = Tensor._wrap(np.ones_like(node.data))
        value = op.vjps[i](one, node, *node.inputs, **node.params)
    return float(np.sum(value.data))


def edge_gradient(node: Tensor, i: int) -> np.ndarray | None:
    """What backward sent from `node` into its input i: this edge's share of the gradient.

    Per edge, so `x * x` shows each of its two contributions rather than their sum; summed back
    to the input's shape exactly as backward does. None before backward.
    """
    op = node.op
    source = node.inputs[i] if op is not None else None
    if source is None or node.grad is None or not source.requires_grad:
        return None
    with no_grad():
        share = op.vjps[i](node.grad, node, *node.inputs, **node.params)
        if share.shape != source.shape:
            share = sum_to(share, source.shape)
    return np.asarray(share.data)
