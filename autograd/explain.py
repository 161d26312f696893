"""The backward pass in words, gate by gate, as the book walks through it in prose.

Each paragraph is one step of `backward_steps` (the engine's own loop): the node, the gradient
it receives from upstream, and what it sends to each input — for single numbers the chain rule
with its numbers (`∂price/∂apple = 1.1 × 2 = 2.2`), for tensors the op's rule and the shapes.
Where a value branches, the running sum says how many branches have arrived. The wording and
names are those of the drawings (autograd/text.py), so a caption on the step-through page and a
label in the finished figure read the same.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

import numpy as np

from autograd.steps import Sent, Step, backward_steps
from autograd.tensor import ArrayLike, Tensor
from autograd.text import (
    SOFTMAX_LOSS,
    Context,
    branch_sum,
    chain_rule,
    expressions,
    grad_name,
    is_number,
    loss_name,
    shape_text,
    shown,
    symbol,
    tensor_rule,
    upstream_name,
    uses_of,
    walk,
)


def explain(
    root: Tensor,
    grad: ArrayLike | None = None,
    *,
    forward: bool = False,
    file: TextIO | None = None,
) -> None:
    """Print the backward pass from `root`, one gate per paragraph (nothing is stored in
    `.grad`; call `root.backward()` as usual afterwards). `forward=True` first says what each
    op computed, left to right."""
    print(explanation(root, grad, forward=forward), file=file or sys.stdout)


def explanation(root: Tensor, grad: ArrayLike | None = None, *, forward: bool = False) -> str:
    """The text `explain` prints."""
    if not isinstance(root, Tensor):
        raise TypeError(f"explain: expected a Tensor, got {type(root).__name__}")
    with np.errstate(all="ignore"):  # an overflow in the replayed pass is said as inf / nan
        steps = backward_steps(root, grad)
        context = context_for([root], steps)
        if not forward:
            return "\n\n".join(step_captions(steps, context))
        ops = [t for t in walk([root]) if t.op is not None]
        ahead = "\n".join(forward_captions(ops, context))
        return ahead + "\n\n" + "\n\n".join(step_captions(steps, context, "Backward step"))


def context_for(roots: Sequence[Tensor], steps: Sequence[Step], auto: str = "v") -> Context:
    """Names as a full drawing of `roots` gives them, and what the gradients are of (long
    unnamed expressions are called v1, v2, ...: `auto` picks another letter)."""
    order = walk(roots)
    seeds = [steps[0].upstream if steps and steps[0].node is r else None for r in roots]
    loss = loss_name(roots, seeds)
    seeded = {r.id for r, s in zip(roots, seeds, strict=True) if r.size == 1 and _is_one(s)}
    return Context(expressions(order, set(), auto), uses_of(order), loss, seeded)


def step_captions(steps: Sequence[Step], context: Context, prefix: str = "Step") -> list[str]:
    """One paragraph per step, in the engine's order."""
    if not steps:
        return ["Nothing to do: the output is an input itself (a leaf), not computed by any op."]
    arrived: dict[int, list[np.ndarray]] = {}
    return [_caption(step, len(steps), context, arrived, prefix) for step in steps]


def forward_captions(ops: Sequence[Tensor], context: Context) -> list[str]:
    """One line per op of the forward pass (inputs before the ops that read them): what it
    computes and from what, as the book's Fig. 5-1 reads left to right."""
    names = context.names
    lines = []
    for k, node in enumerate(ops, 1):
        assert node.op is not None
        what = "Softmax-with-Loss" if node.op.name == SOFTMAX_LOSS else symbol(node)
        sources = " and ".join(_value_text(t, names) for t in node.inputs)
        if node.op.name == SOFTMAX_LOSS and len(node.inputs) == 1:  # labels kept as a parameter
            sources += " and the class labels t"
        lines.append(
            f"Forward step {k} of {len(ops)}: the {what} node computes "
            f"{_value_text(node, names)} from {sources}."
        )
    return lines


def _value_text(t: Tensor, names: Mapping[int, tuple[str, int]]) -> str:
    """`apple = 100`, `X·W, shape (2, 3)`, or a constant number as itself."""
    if is_number(t):
        return shown(t.data)
    name = names[t.id][0] if t.id in names else "y"
    if t.size == 1 and np.ndim(t.data) == 0:
        return f"{name} = {shown(t.data)}"
    return f"{name}, shape {shape_text(t.shape)}"


def _caption(
    step: Step, count: int, context: Context, arrived: dict[int, list[np.ndarray]], prefix: str
) -> str:
    node, names, loss = step.node, context.names, context.loss
    assert node.op is not None
    made = names[node.id][0]
    scalar = node.size == 1
    what = "Softmax-with-Loss" if node.op.name == SOFTMAX_LOSS else symbol(node)
    value = f" = {shown(node.data)}" if scalar else f", shape {shape_text(node.shape)}"
    head = f"{prefix} {step.number} of {count}: the {what} node making {made}{value}."
    if step.number == 1 and node.id in context.seeded:
        start = f"∂{loss}/∂{loss} = 1"
        receives = (
            f"It starts the pass: {start}."
            if made == loss
            else (f"It starts the pass: {start}, where {loss} = {made}.")
        )
    else:
        g = upstream_name(node, context, None) if not scalar else None
        called = f"∂{loss}/∂{g}" if g else grad_name(loss, names, node)
        amount = (
            f" = {shown(step.upstream)}"
            if scalar
            else (f", shape {shape_text(step.upstream.shape)},")
        )
        receives = f"It receives {called}{amount} from upstream."
    lines = [head, receives]
    for sent in step.sent:
        source = sent.input
        lhs = grad_name(loss, names, source)
        if sent.local is not None and scalar and source.size == 1:
            line = chain_rule(lhs, [(step.upstream, sent.local)], sent.gradient)
        else:
            line = f"{tensor_rule(node, sent.index, context)}, shape {shape_text(source.shape)}"
        parts = arrived.setdefault(source.id, [])
        parts.append(sent.gradient)
        if sent.arrivals > 1:
            line += "; " + _branches(lhs, parts, sent)
        lines.append("  " + line)
    return "\n".join(lines)


def _branches(lhs: str, parts: list[np.ndarray], sent: Sent) -> str:
    """Where a value branches: the sum so far, as the figure writes it at the end."""
    arrival, arrivals = sent.arrival, sent.arrivals
    if arrival == 1:
        return f"branch 1 of {arrivals}: more to add"
    done = "all branches in" if arrival == arrivals else "so far"
    if parts[0].size != 1:
        return f"branch {arrival} of {arrivals}, {done}: {lhs} is the sum of {arrival} branches"
    return f"branch {arrival} of {arrivals}, {done}: {branch_sum(lhs, parts, sent.total)}"


def _is_one(seed: np.ndarray | None) -> bool:
    return seed is not None and bool(np.all(np.asarray(seed) == 1))
