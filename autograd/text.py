"""What the drawings and `autograd.explain` say, written once: numbers as people write them,
the book's names for values, and the chain rule as a sentence.

Numbers: floating-point noise in the 16th digit is meaningless to someone checking the book's
figures, so every number goes through `number()` (`220`, not `220.00000000000003`); pictures and
explanations use `shown()`, the same with a real minus sign (U+2212, as in the op table's
formulas). Arrays of up to 16 elements are printed in full; bigger ones as their range and first
few entries, which stay right with inf and NaN inside.

Names: a value is called by the name the user gave it, or by the expression that made it
(`apple×num`), or v1, v2, ... when that is long; gradients are of the output's name when
backward starts there with 1, else of L. Every formula comes from the op table (`local` and
`rule` texts in autograd/ops.py); this module only fills in names. `viz` imports it from here
(nothing in `autograd` imports `viz`).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd.ops import local_derivative
from autograd.tensor import Tensor

SIGNIFICANT = 6
SPELLED_BRANCHES = 4  # a sum of more branches is written "4 + 4 + … (9 branches)"
ARRAY_SIGNIFICANT = 3  # entries and summaries of arrays: enough to compare, short enough to fit
SMALL_ARRAY = 16  # arrays with at most this many elements are printed in full
FEW = 4  # entries listed in the summary of a bigger array
MINUS = "−"


def number(x: Any, digits: int = SIGNIFICANT) -> str:
    """At most 6 significant digits, no trailing zeros, scientific notation for tiny or huge.

    >>> number(220.00000000000003), number(3.3000000000000003), number(1.2e-08), number(3.4e12)
    ('220', '3.3', '1.2e-08', '3.4e+12')
    """
    value = float(x.item() if isinstance(x, np.ndarray) else x)  # also a (1,) array
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"  # also for -0.0, which would only confuse
    return f"{value:.{digits}g}"


def shown(x: Any, digits: int = SIGNIFICANT) -> str:
    """`number()` for a picture: `−2.5`, with the minus sign of the formulas around it."""
    return number(x, digits).replace("-", MINUS)


def shape_text(shape: tuple[int, ...]) -> str:
    """`(100, 50)`, and `(3,)` for one axis, as numpy prints shapes."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def shape_dtype(array: np.ndarray) -> str:
    """`(100, 50) float64`: what a tensor is, before what it holds."""
    return f"{shape_text(array.shape)} {array.dtype}"


def values(array: Any) -> str:
    """The numbers themselves (up to 16 in full, a matrix one row per line), or for bigger
    arrays `min −0.5 max 0.8` and the first few entries; `all 1` when they are all equal."""
    arr = np.asarray(array)
    if arr.ndim == 0:
        return shown(arr)
    if arr.size == 0:
        return "empty"
    if arr.size <= SMALL_ARRAY:
        rows = arr.reshape(-1, arr.shape[-1]) if arr.ndim > 1 else arr[None]
        return "\n".join(_row(r) for r in rows)
    flat = arr.ravel()
    nan = int(np.count_nonzero(np.isnan(flat)))
    if nan == flat.size:
        return "all nan"
    lo, hi = np.nanmin(flat), np.nanmax(flat)
    more = f", {nan} nan" if nan else ""
    if lo == hi:
        return f"all {_short(lo)}{more}"
    first = ", ".join(_short(v) for v in flat[:FEW])
    return f"min {_short(lo)} max {_short(hi)}{more}\n[{first}, …]"


def _short(v: Any) -> str:
    return shown(v, ARRAY_SIGNIFICANT)


def _row(row: np.ndarray) -> str:
    return "[" + ", ".join(_short(v) for v in row) + "]"


# --- names----------------------------------------------------------------------
NAME_LIMIT = 18  # an unnamed result with a longer expression is called v1, v2, ... instead

ATOM = 100  # precedence of names, numbers and calls: never parenthesised

INFIX = {"add": ("+", 10), "sub": ("−", 10), "mul": ("×", 20), "div": ("/", 20),
         "matmul": ("·", 20), "pow": ("**", 30)}  # fmt: skip

CALLS = {"sigmoid": "σ", "sum": "sum"}

SUPERSCRIPTS = {"2": "²", "3": "³"}

ELEMENTWISE = {"add", "sub", "mul", "div", "pow"}  # ops whose inputs may have been broadcast

SOFTMAX_LOSS = "softmax_cross_entropy"  # drawn as the book's two layers (Fig. 5-29/5-30)


def walk(roots: Sequence[Tensor], stop: set[int] | None = None) -> list[Tensor]:
    """Every tensor the roots depend on, each after its inputs (iterative: depth is free);
    the inputs of tensors in `stop` are not visited."""
    stop = stop or set()
    order: list[Tensor] = []
    seen: set[int] = set()
    for root in roots:
        stack: list[tuple[Tensor, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node.id in seen:
                continue
            seen.add(node.id)
            stack.append((node, True))
            if node.id not in stop:
                stack.extend((t, False) for t in reversed(node.inputs) if t.id not in seen)
    return order


def uses_of(order: Sequence[Tensor]) -> dict[int, list[tuple[Tensor, int]]]:
    """For each tensor, the (op, input slot) pairs that read it, in walk order."""
    uses: dict[int, list[tuple[Tensor, int]]] = defaultdict(list)
    for h in order:
        for i, source in enumerate(h.inputs):
            if not (i == 1 and constant_exponent(h)):
                uses[source.id].append((h, i))
    return uses


def is_constant(t: Tensor) -> bool:
    """A number written into the code (`x * 2`): unnamed, not a variable."""
    return t.is_leaf and not t.requires_grad and t.name is None


def is_number(t: Tensor) -> bool:
    """A single constant number, drawn as a label at each of its uses."""
    return is_constant(t) and t.size == 1


def one_line(name: str) -> str:
    """A name as one line, its newlines written `\\n`: text is laid out in lines, so a name
    holding one would split every formula it appears in across lines."""
    return name.replace("\n", "\\n") if "\n" in name else name


def leaf_name(t: Tensor, unnamed: int) -> str:
    if t.name is not None:
        return one_line(t.name)
    if is_constant(t):
        return shown(t.data) if t.size == 1 else "const"
    return f"t{unnamed}"


def expressions(
    order: Sequence[Tensor], frontier: set[int], auto: str = "v"
) -> dict[int, tuple[str, int]]:
    """Each tensor's name, or for an unnamed result the expression that made it, e.g. `x+y`;
    a long expression, or a value whose inputs are not drawn, is called v1, v2, ..."""
    names: dict[int, tuple[str, int]] = {}
    unnamed = 0
    taken = {t.name for t in order if t.name is not None}
    labels = {  # what a softmax loss compares with: the book's t, however it was passed in
        t.inputs[1].id
        for t in order
        if t.op is not None and t.op.name == SOFTMAX_LOSS and len(t.inputs) == 2
    }
    auto_names = (f"{auto}{k}" for k in itertools.count(1) if f"{auto}{k}" not in taken)
    for t in order:
        if t.is_leaf:
            if t.name is None and not is_constant(t):
                unnamed += 1
            name = "t" if t.id in labels and t.name is None else leaf_name(t, unnamed)
            names[t.id] = (name, precedence(name))
        elif t.name is not None:
            name = one_line(t.name)
            names[t.id] = (name, precedence(name))
        elif t.id in frontier:
            names[t.id] = (next(auto_names), ATOM)
        else:
            names[t.id] = expression(t, [names[i.id] for i in t.inputs])
            if len(names[t.id][0]) > NAME_LIMIT:
                names[t.id] = (next(auto_names), ATOM)  # written on its arrow: "v1 = 650"
    return names


def precedence(name: str) -> int:
    """A name the user wrote as a formula (`1+exp(−x)`) is parenthesised like one: x×(−1),
    ∂y/∂(1+exp(−x)); plain names and calls are atoms."""
    if name.startswith(("−", "-")):
        return 5
    depth = 0
    for ch in name:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and ch in "+−-×·*/ ":
            return 10
    return ATOM


def expression(t: Tensor, args: list[tuple[str, int]]) -> tuple[str, int]:
    short = list(args)
    op = t.op
    assert op is not None
    if op.name == SOFTMAX_LOSS:
        labels = short[1][0] if len(short) > 1 else "t"
        return f"loss({short[0][0]}, {labels})", ATOM
    if op.name in INFIX and len(short) == 2:
        sign, prec = INFIX[op.name]
        (a, pa), (b, pb) = short
        if op.name == "pow" and b in SUPERSCRIPTS:  # (f−219)², as people write it
            return (a if pa >= ATOM else f"({a})") + SUPERSCRIPTS[b], ATOM
        left = a if pa > prec or (pa == prec and op.name != "pow") else f"({a})"
        commutes = op.name in ("add", "mul")
        right = b if pb > prec or (pb == prec and commutes) else f"({b})"
        return f"{left}{sign}{right}", prec
    if op.name == "neg":
        ((a, pa),) = short
        return ("−" + (a if pa >= ATOM else f"({a})")), 25
    if op.name == "transpose":
        ((a, pa),) = short
        return (a if pa >= ATOM else f"({a})") + "ᵀ", ATOM
    call = CALLS.get(op.name, op.name)
    return f"{call}({', '.join(text for text, _ in short)})", ATOM


def operand(names: Mapping[int, tuple[str, int]], t: Tensor) -> str:
    """The name to write in a formula: compound expressions get parentheses."""
    text, prec = names[t.id]
    return text if prec >= ATOM else f"({text})"


def loss_name(roots: Sequence[Tensor], seeds: Sequence[Any] | None = None) -> str:
    """What the gradients are of: the output's name when backward started there with 1, else
    L. `seeds` are the gradients backward started with (default: the roots' `.grad`)."""
    names = {r.name for r in roots}
    if seeds is None:
        seeds = [None if r.grad is None else r.grad.data for r in roots]
    seeded = all(s is not None and np.all(np.asarray(s) == 1) for s in seeds)
    (name,) = names if len(names) == 1 else (None,)
    return one_line(name) if name and seeded and all(r.size == 1 for r in roots) else "L"


def constant_exponent(t: Tensor) -> bool:
    return t.op is not None and t.op.name == "pow" and is_number(t.inputs[1])


@dataclass
class Context:
    """What every edge's text is written with: names, who uses what, and whose gradient."""

    names: Mapping[int, tuple[str, int]]
    uses: Mapping[int, list[tuple[Tensor, int]]]
    loss: str
    seeded: set[int]  # outputs whose gradient is the seed 1: ∂L/∂L, left out of rules


def upstream_name(
    t: Tensor,
    context: Context,
    within: set[int] | None,
) -> str | None:
    """The gradient arriving at `t`'s output, named after the furthest value it equals:
    an add passes it on unchanged (its rule is just `{g}`), so the book writes ∂L/∂Y for
    the gradient at X·W even though Y = X·W + B."""
    current = t
    while True:
        consumers = context.uses.get(current.id, [])
        if len(consumers) != 1:
            break
        h, i = consumers[0]
        if within is not None and h.id not in within:
            break
        if h.op is None or h.op.rule[i] != "{g}" or h.shape != current.shape:
            break
        current = h
    if current.id in context.seeded:
        return None  # the loss itself: ∂L/∂L = 1
    return operand(context.names, current)


def batch_rows(t: Tensor) -> int:
    """Batch size N of a softmax loss (what `/N` means), 1 otherwise."""
    x = t.inputs[0]
    return max(x.size // x.shape[-1], 1) if x.ndim else 1


def grad_name(loss: str, names: Mapping[int, tuple[str, int]], t: Tensor) -> str:
    text = names[t.id][0]
    return f"∂{loss}/∂{text}" if names[t.id][1] >= ATOM else f"∂{loss}/∂({text})"


def rule(
    h: Tensor,
    i: int,
    names: Mapping[int, tuple[str, int]],
    g: str | None,
    *,
    loss: str = "L",
    rows: int = 1,
) -> str:
    """The op table's rule for input i, filled in: `∂L/∂b = sum of ∂L/∂Y over axis 0`."""
    op = h.op
    assert op is not None
    source = h.inputs[i]
    upstream = f"∂{loss}/∂{g}" if g else None
    operands = [operand(names, t) for t in h.inputs] + ["t"]
    out = output_symbol(h, names) if "{out}" in op.rule[i] else "y"
    text = op.rule[i]
    if upstream is None:  # the gradient of the loss itself is 1: leave it out
        for filler in ("{g} ⊙ ", "{g} · ", " ⊙ {g}", " · {g}", "{g}·"):
            text = text.replace(filler, "")
        text = text.replace("{g}", "1")
    text = text.replace("{N}", str(rows)).replace("{g}ᵀ", "({g})ᵀ")  # not ∂L/∂vᵀ: (∂L/∂v)ᵀ
    if rows == 1:
        text = text.replace(" / 1", "")
    body = text.format(x=operands[0], y=operands[1], out=out, g=upstream or "1")
    if i == 0 and constant_exponent(h) and op.local_constant is not None:
        power = op.local_constant(operands[0], float(h.inputs[1].data))  # the book's 2t
        if power is not None:
            body = f"{upstream} ⊙ {tidy(power, operands)}" if upstream else tidy(power, operands)
    axes = broadcast_axes(source.shape, h.shape) if op.name in ELEMENTWISE else ()
    if axes:
        body = f"sum of {body} over {axes_name(axes)}"
    name = operand(names, source)
    return f"∂{loss}/∂{name} = {body}"


def output_symbol(h: Tensor, names: Mapping[int, tuple[str, int]]) -> str:
    """What a formula calls the op's own result: its name if short, else the book's y, unless
    y names another value of the picture (`tanh(y)`'s derivative is not 1 − y²): then the
    result's own name, `1 − tanh(y)²`."""
    if h.name and len(h.name) <= 3:
        return h.name
    return operand(names, h) if ("y", ATOM) in names.values() else "y"


def local_text(head: Tensor, i: int, names: Mapping[int, tuple[str, int]]) -> str | None:
    """`∂/∂apple = num = 2`: the local derivative of a scalar op, from the op table."""
    source = head.inputs[i]
    op = head.op
    if op is None or not source.requires_grad or head.size != 1 or source.size != 1:
        return None
    operands = [operand(names, t) for t in head.inputs] + ["t"]
    out = output_symbol(head, names) if "{out}" in op.local[i] else "y"
    text = None
    if constant_exponent(head) and op.local_constant is not None:
        text = op.local_constant(operands[0], float(head.inputs[1].data))
    if text is None:
        text = op.local[i].format(x=operands[0], y=operands[1], out=out)
    text = tidy(text, [*operands, out])
    value = local_derivative(head, i)
    line = f"∂/∂{operand(names, source)} = {text}"
    if value is not None and text != shown(value):
        line += f" = {shown(value)}"
    return line


def tidy(text: str, operands: Sequence[str]) -> str:
    """Drop parentheses the formula already has: `exp((x×y))` → `exp(x×y)`, and a bare
    `(apple×num)` → `apple×num`."""
    for name in operands:
        if name.startswith("("):
            text = text.replace(f"({name})", name)
            if text == name:
                text = name[1:-1]
    return text


def broadcast_axes(shape: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, ...]:
    """Axes of `out` along which an input of `shape` was copied by broadcasting."""
    lead = len(out) - len(shape)
    return tuple(range(lead)) + tuple(
        lead + j for j, s in enumerate(shape) if s == 1 and out[lead + j] != 1
    )


def axes_name(axes: tuple[int, ...]) -> str:
    return f"axis {axes[0]}" if len(axes) == 1 else "axes " + ", ".join(str(a) for a in axes)


def symbol(t: Tensor) -> str:
    """What the op's circle says: `×`, `exp`, and `**2` for a power by a constant."""
    op = t.op
    assert op is not None
    if constant_exponent(t):
        return "**" + shown(t.inputs[1].data)
    return op.symbol


def chain_rule(lhs: str, terms: Sequence[tuple[Any, Any]], total: Any) -> str:
    """The chain rule as the drawings write it: `∂L/∂apple = 1.1 × 2 = 2.2` (upstream gradient
    × local derivative = gradient), and `1 × 2 + 1 × 2 = 4` for parallel uses in one op."""
    products = " + ".join(f"{shown(up)} × {shown(d)}" for up, d in terms)
    return f"{lhs} = {products} = {shown(total)}"


def branch_sum(lhs: str, parts: Sequence[Any], total: Any, more: str | None = None) -> str:
    """Branches sum: `∂L/∂x = 4 + 4 + 4 = 12`, and `4 + 4 + … (9 branches)` past a few;
    `more` names a term that is not spelled out (uses not drawn)."""
    terms = [shown(np.sum(p)) for p in parts]
    if len(terms) > SPELLED_BRANCHES:
        terms = [*terms[:2], f"… ({len(terms)} branches)"]
    if more:
        terms.append(more)
    return f"{lhs} = {' + '.join(terms)} = {shown(np.sum(total))}"


def tensor_rule(h: Tensor, i: int, context: Context) -> str:
    """The rule for a tensor edge in the book's notation, named as in the drawing:
    `∂L/∂W = Xᵀ · ∂L/∂Y` (the upstream named after the furthest value it equals)."""
    g = upstream_name(h, context, None)
    return rule(h, i, context.names, g, loss=context.loss, rows=batch_rows(h))
