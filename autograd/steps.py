"""The backward pass as data: what each node receives and passes on, in the engine's order.

`backward_steps(root)` runs the engine's own backward loop in a read-only mode (nothing is
stored in `.grad`, the graph is not used up), so the order and every number are exactly those of
`root.backward()`: one implementation, not a re-derivation. The book's Fig. 5-6 in one line:
a node multiplies the local derivative into the gradient coming from upstream and passes it on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autograd.ops import local_derivative
from autograd.tensor import ArrayLike, Tensor, _backpropagate


@dataclass(frozen=True, eq=False)
class Sent:
    """What one op node sent to one of its inputs in one step."""

    index: int  # which input of the node (0 or 1)
    input: Tensor
    local: float | None  # ∂node/∂input when both are single numbers, else None (a Jacobian)
    gradient: np.ndarray  # upstream × local: this edge's share of ∂L/∂input
    total: np.ndarray  # ∂L/∂input summed over the branches that have arrived so far
    arrival: int  # 1 for the first branch to reach this input, 2 for the second, ...
    arrivals: int  # how many branches reach this input in the whole pass


@dataclass(frozen=True, eq=False)
class Step:
    """One op node of the backward pass: it receives `upstream` and sends to its inputs."""

    number: int  # 1, 2, ... in the order the engine runs
    node: Tensor
    upstream: np.ndarray  # ∂L/∂node, every branch summed
    sent: tuple[Sent, ...]


def backward_steps(root: Tensor, grad: ArrayLike | None = None) -> list[Step]:
    """The backward pass from `root`, step by step, without touching any `.grad`.

    Each step is one op node, outputs before inputs: its upstream gradient and, for each input
    that needs a gradient, the local derivative (for single numbers), the product, and the
    running sum where a value branches (`arrival` of `arrivals`).
    """
    raw: list[tuple[Tensor, Tensor, list[tuple[int, Tensor, Tensor]]]] = []
    _backpropagate(root, grad, True, False, targets=(), steps=raw)
    arrivals: dict[int, int] = {}
    for node, _, sent in raw:
        for index, _, _ in sent:
            key = id(node.inputs[index])
            arrivals[key] = arrivals.get(key, 0) + 1
    seen: dict[int, int] = {}
    steps = []
    for number, (node, upstream, sent) in enumerate(raw, 1):
        edges = []
        for index, gradient, total in sent:
            source = node.inputs[index]
            seen[id(source)] = seen.get(id(source), 0) + 1
            edges.append(
                Sent(
                    index=index,
                    input=source,
                    local=local_derivative(node, index),
                    gradient=_frozen(gradient._data),
                    total=_frozen(total._data),
                    arrival=seen[id(source)],
                    arrivals=arrivals[id(source)],
                )
            )
        steps.append(Step(number, node, _frozen(upstream._data), tuple(edges)))
    return steps


def _frozen(values: np.ndarray) -> np.ndarray:
    """A read-only copy: a step is a record of the pass, not a place to change it."""
    copy = np.array(values, copy=True)
    copy.flags.writeable = False
    return copy
