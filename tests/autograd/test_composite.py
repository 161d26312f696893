"""Random composite graphs with fan-out: Hypothesis writes a small program, we check its gradients.

A program starts from a few square (n, n) inputs and appends steps; each step applies an op to
values made earlier (drawn with replacement, so values are reused several times, and reused
non-leaf values fan out). Ops are smooth and bounded (no kinks, no blow-up), so central
differences are trustworthy. The program's output is a weighted sum of its last values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import autograd
import autograd.testing as agt
from autograd import Tensor

Fn = Callable[..., Tensor]

UNARY: dict[str, Fn] = {
    "neg": lambda a: -a,
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "exp∘tanh": lambda a: a.tanh().exp(),
    "log(a²+1)": lambda a: (a * a + 1).log(),
    "T": lambda a: a.T,
    "softmax": lambda a: a.softmax(axis=0),
    "log_softmax": lambda a: a.log_softmax(axis=-1),
    "mean keepdims": lambda a: a - a.mean(axis=1, keepdims=True),
    "rows": lambda a: a[[0, 0, -1]].sum(axis=0) * a,  # repeated rows, broadcast back
    "reshape": lambda a: a.reshape(-1).reshape(a.shape) * 0.5,
}
BINARY: dict[str, Fn] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b.tanh(),
    "div": lambda a, b: a / (b * b + 1),
    "matmul": lambda a, b: (a @ b).tanh(),
    "pow": lambda a, b: (a * a + 1) ** b.tanh(),
    "sum broadcast": lambda a, b: a.sum(axis=0) + b,
    "row-col": lambda a, b: a[:, :1] * b[:1, :],
}


@dataclass(frozen=True)
class Program:
    n_inputs: int
    steps: tuple[tuple[str, tuple[int, ...]], ...]
    outputs: tuple[int, ...]

    def __call__(self, *inputs: Tensor) -> Tensor:
        values = list(inputs)
        for name, args in self.steps:
            f = UNARY.get(name) or BINARY[name]
            values.append(f(*(values[i] for i in args)))
        total = None
        for k, i in enumerate(self.outputs):
            term = (values[i] * (k + 1.0)).sum()
            total = term if total is None else total + term
        assert total is not None
        return total


@st.composite
def programs(draw: st.DrawFn, max_steps: int = 8) -> Program:
    n_inputs = draw(st.integers(1, 3))
    steps = []
    for step in range(draw(st.integers(1, max_steps))):
        available = n_inputs + step
        # prefer recent values, but reach back so early values get reused (fan-out)
        pick = st.integers(0, available - 1) | st.just(available - 1)
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), (draw(pick),)))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY))), (draw(pick), draw(pick))))
    total = n_inputs + len(steps)
    outputs = tuple(draw(st.lists(st.integers(0, total - 1), min_size=1, max_size=3)))
    return Program(n_inputs, tuple(steps), (total - 1, *outputs))


@st.composite
def programs_and_inputs(draw: st.DrawFn, max_steps: int = 8) -> tuple[Program, list[Tensor]]:
    program = draw(programs(max_steps))
    n = draw(st.integers(1, 3))
    inputs = [
        draw(agt.tensors((n, n), low=-1.5, high=1.5, name=f"x{i}")) for i in range(program.n_inputs)
    ]
    return program, inputs


@given(programs_and_inputs())
def test_composite_first_derivatives(drawn: tuple[Program, list[Tensor]]) -> None:
    program, inputs = drawn
    assert agt.check_gradients(program, *inputs)


@given(programs_and_inputs(max_steps=5))
def test_composite_second_derivatives(drawn: tuple[Program, list[Tensor]]) -> None:
    program, inputs = drawn
    assert agt.check_gradients(program, *inputs, order=2)


@given(programs_and_inputs())
def test_composite_backward_equals_grad_and_repeats(drawn: tuple[Program, list[Tensor]]) -> None:
    """`.backward()` and `autograd.grad` agree; a retained graph gives the same gradients twice
    (accumulating to exactly double), so no intermediate state leaks between passes."""
    program, inputs = drawn
    out = program(*inputs)
    grads = autograd.grad(out, inputs, retain_graph=True)
    out.backward(retain_graph=True)
    once = [np.zeros(t.shape) if t.grad is None else t.grad.data.copy() for t in inputs]
    out.backward()
    for g, first, t in zip(grads, once, inputs, strict=True):
        np.testing.assert_allclose(g.data, first, rtol=1e-12, atol=1e-12)
        if t.grad is not None:
            np.testing.assert_allclose(t.grad.data, 2 * first, rtol=1e-12, atol=1e-12)


def test_reused_non_leaf_fan_out_exact() -> None:
    """A diamond over a diamond: every path counted once."""
    x = Tensor(2.0)
    a = x * 3  # 6
    b = a + a  # 12
    c = b * a  # 72 = 2a²
    d = c + b + a  # 2a² + 3a
    d.backward()
    assert a.grad.item() == 4 * 6 + 3
    assert x.grad.item() == 3 * (4 * 6 + 3)
