"""Property-test your own functions the way the engine's ops are tested.

Hypothesis strategies that draw shapes, broadcasting pairs, matmul operands and arrays of values
inside a function's domain, and checkers that compare backward with central differences for
first (`gradcheck`) and second (`gradgradcheck`) derivatives::

    from hypothesis import given
    import autograd.testing as agt

    @given(agt.tensors(agt.shapes(max_dims=2), low=0.1, high=3.0))
    def test_my_function(x):
        agt.check_gradients(lambda t: (t * t.log()).sum(), x)            # first derivatives
        agt.check_gradients(lambda t: (t * t.log()).sum(), x, order=2)   # second derivatives

This is the one module of `autograd` that imports Hypothesis; `import autograd` does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from autograd.grad_mode import enable_grad
from autograd.numeric import GradcheckError, fixed_weights, gradcheck
from autograd.tensor import Tensor, grad

__all__ = [
    "arrays",
    "broadcastable_shapes",
    "check_gradients",
    "float_dtypes",
    "gradgradcheck",
    "matmul_shapes",
    "shapes",
    "tensors",
]

Shape = tuple[int, ...]
DTypeLike = Any


# --- shapes -----------------------------------------------------------------------------------
def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> SearchStrategy[Shape]:
    """Array shapes: 0-d `()` up to `max_dims` axes, sides in `[min_side, max_side]`.

    Size-1 axes are included (they are where broadcasting bugs hide)::

        @given(agt.tensors(agt.shapes(min_dims=1, max_dims=2)))
        def test_softmax_rows_sum_to_one(x): ...
    """
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    n: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> SearchStrategy[tuple[Shape, ...]]:
    """`n` shapes that broadcast together (different ranks, size-1 axes), as a tuple.

    The result's shape is `np.broadcast_shapes(*shapes)`::

        @given(agt.broadcastable_shapes(n=2).flatmap(
            lambda s: st.tuples(agt.tensors(s[0]), agt.tensors(s[1]))))
        def test_mul(xy):
            agt.check_gradients(lambda a, b: a * b, *xy)
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda drawn: tuple(drawn.input_shapes))


def matmul_shapes(
    max_batch_dims: int = 2, max_side: int = 3
) -> SearchStrategy[tuple[Shape, Shape]]:
    """Pairs `(a_shape, b_shape)` valid for `a @ b`, following numpy's matmul rules.

    Both operands may be 1-d (a dot product, a vector-matrix or matrix-vector product), 2-d, or
    batched n-d with up to `max_batch_dims` batch axes that broadcast against each other
    (e.g. `(2, 1, 3, 4) @ (5, 4, 2)`)::

        @given(agt.matmul_shapes().flatmap(
            lambda s: st.tuples(agt.tensors(s[0]), agt.tensors(s[1]))))
        def test_matmul(ab):
            agt.check_gradients(lambda a, b: a @ b, *ab)
    """
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=max_batch_dims, min_side=1, max_side=max_side
    ).map(lambda drawn: (tuple(drawn.input_shapes[0]), tuple(drawn.input_shapes[1])))


def float_dtypes() -> SearchStrategy[np.dtype]:
    """The two dtypes the engine computes in: float64 and float32."""
    return st.sampled_from([np.dtype(np.float64), np.dtype(np.float32)])


# --- values -----------------------------------------------------------------------------------
def _kinks(away_from: float | Sequence[float] | None) -> tuple[float, ...]:
    if away_from is None:
        return ()
    if isinstance(away_from, (int, float, np.integer, np.floating)):
        return (float(away_from),)
    return tuple(float(k) for k in away_from)


def _far(value: float, kinks: tuple[float, ...], margin: float) -> bool:
    return all(abs(value - k) >= margin for k in kinks)


def arrays(
    shape: Shape | int | SearchStrategy[Shape],
    low: float = -3.0,
    high: float = 3.0,
    dtype: DTypeLike | SearchStrategy[Any] = np.float64,
    away_from: float | Sequence[float] | None = None,
    *,
    margin: float = 1e-2,
    unique: bool = False,
    min_gap: float | None = None,
) -> SearchStrategy[np.ndarray]:
    """Float arrays with every value in `[low, high]` (keep them inside an op's domain).

    - `away_from`: a point or points to stay at least `margin` away from — the kinks where a
      function is not differentiable and central differences would straddle, e.g.
      `away_from=0` for relu, `away_from=[-1, 1]` for a clip.
    - `unique=True`: no two values equal (max / argmax without exact ties).
    - `min_gap`: any two values differ by at least `min_gap` (max without near-ties, so a
      nudge of `eps` never changes which element is the largest). Values then lie on a grid.
    - `shape` and `dtype` may be strategies; `dtype` is float64 or float32 (values are drawn in
      float64 and cast, so the bounds and gaps hold after the cast).

    ::

        @given(agt.arrays(agt.shapes(min_dims=1), min_gap=1e-3))
        def test_max(a): agt.check_gradients(lambda t: t.max(axis=-1), Tensor(a))
    """
    if not low < high:
        raise ValueError(f"arrays: need low < high, got {low} and {high}")
    kinks = _kinks(away_from)
    if isinstance(shape, SearchStrategy):
        return shape.flatmap(
            lambda s: arrays(
                s, low, high, dtype, away_from, margin=margin, unique=unique, min_gap=min_gap
            )
        )
    if isinstance(dtype, SearchStrategy):
        return dtype.flatmap(
            lambda d: arrays(
                shape, low, high, d, away_from, margin=margin, unique=unique, min_gap=min_gap
            )
        )
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"arrays: dtype must be a float dtype, got {dt}")
    size = math.prod(shape)

    if min_gap is not None:
        # values on a grid of spacing >= min_gap, distinct grid points: spacing holds exactly
        steps = int((high - low) // min_gap)
        if steps + 1 < size:
            raise ValueError(
                f"arrays: {size} values at least {min_gap} apart do not fit in [{low}, {high}]"
            )
        spacing = (high - low) / steps if steps else 0.0
        index = st.integers(0, steps)
        if kinks:
            index = index.filter(lambda i: _far(low + i * spacing, kinks, margin))
        return st.lists(index, min_size=size, max_size=size, unique=True).map(
            lambda idx: (
                (low + np.asarray(idx, dtype=np.float64) * spacing).reshape(shape).astype(dt)
            )
        )

    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    if kinks:
        elements = elements.filter(lambda v: _far(v, kinks, margin))
    drawn = hnp.arrays(np.float64, shape, elements=elements, unique=unique)
    if dt == np.float64:
        return drawn
    cast = drawn.map(lambda a: a.astype(dt))
    if unique:  # distinct float64 values can round to one float32
        cast = cast.filter(lambda a: np.unique(a).size == a.size)
    return cast


def tensors(
    shape: Shape | int | SearchStrategy[Shape] | None = None,
    low: float = -3.0,
    high: float = 3.0,
    dtype: DTypeLike | SearchStrategy[Any] = np.float64,
    away_from: float | Sequence[float] | None = None,
    *,
    margin: float = 1e-2,
    unique: bool = False,
    min_gap: float | None = None,
    requires_grad: bool | SearchStrategy[bool] = True,
    name: str | None = None,
) -> SearchStrategy[Tensor]:
    """Tensors whose data comes from `arrays(...)` (same arguments); `shape=None` draws one.

    `requires_grad` may be a strategy (e.g. `st.booleans()`) to mix constants in::

        @given(agt.tensors(dtype=agt.float_dtypes(), low=0.1, high=4.0))
        def test_log(x): agt.check_gradients(lambda t: t.log(), x)
    """
    drawn_shape = shapes() if shape is None else shape
    values = arrays(
        drawn_shape, low, high, dtype, away_from, margin=margin, unique=unique, min_gap=min_gap
    )
    flags = requires_grad if isinstance(requires_grad, SearchStrategy) else st.just(requires_grad)
    return st.builds(Tensor, values, requires_grad=flags, name=st.just(name))


# --- checkers ---------------------------------------------------------------------------------
def gradgradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check second derivatives: differentiate `fn`'s gradients and compare with differences.

    The first gradients of `fn` (its output weighted by a fixed random cotangent) with respect
    to every input that requires grad are computed with `autograd.grad(..., create_graph=True)`,
    contracted with fixed random weights into one scalar, and that scalar function is checked
    by `gradcheck` — so every Hessian-vector product the engine builds is compared with central
    differences of the first gradients. Returns True or raises `GradcheckError`::

        x = Tensor([0.3, -1.2])
        gradgradcheck(lambda t: (t.tanh() * t).sum(), x)
    """
    positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not positions:
        raise ValueError("gradgradcheck: no input requires grad, so there is nothing to check")

    def first_gradients(*xs: Any) -> Tensor:
        with enable_grad():  # the first gradients are computed even if a caller turned it off
            out = fn(*xs)
            if not isinstance(out, Tensor):
                raise TypeError(f"gradgradcheck: fn must return a Tensor, got {type(out).__name__}")
            wanted = [xs[i] for i in positions]
            if not out.requires_grad:  # fn does not depend on its inputs: all derivatives vanish
                return Tensor(np.zeros(()), requires_grad=False)
            firsts = grad(
                out, wanted, fixed_weights(out.shape, 4321), retain_graph=True, create_graph=True
            )
            total: Tensor | None = None
            for k, g in enumerate(firsts):
                term = (g * Tensor(fixed_weights(g.shape, 100 + k), requires_grad=False)).sum()
                total = term if total is None else total + term
            assert total is not None
            return total

    try:
        return gradcheck(first_gradients, *inputs, eps=eps, atol=atol, rtol=rtol)
    except GradcheckError as exc:
        raise GradcheckError(f"gradgradcheck (second derivatives): {exc}") from None


def check_gradients(
    fn: Callable[..., Tensor],
    *inputs: Any,
    order: int = 1,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """`gradcheck` (order=1) or `gradgradcheck` (order=2) of `fn` at `inputs`, in float64.

    Inputs that are Tensors with `requires_grad=True` are checked; anything else is passed
    through as a constant. float32 inputs are promoted to float64 for the comparison. Returns
    True or raises `GradcheckError` naming the input, the element and both values::

        @given(agt.tensors(agt.shapes(), away_from=0))
        def test_relu(x):
            agt.check_gradients(lambda t: t.relu(), x)
            agt.check_gradients(lambda t: t.relu(), x, order=2)
    """
    if order == 1:
        return gradcheck(fn, *inputs, eps=eps, atol=atol, rtol=rtol)
    if order == 2:
        return gradgradcheck(fn, *inputs, eps=eps, atol=atol, rtol=rtol)
    raise ValueError(f"check_gradients: order must be 1 or 2, got {order!r}")
