"""Numerical differentiation: the book's `numerical_gradient` and `gradcheck` against backward."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd.grad_mode import no_grad
from autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """Backward disagrees with central differences; the message names the input and element."""


def numerical_gradient(
    f: Callable[[Any], Any], x: np.ndarray | Tensor, h: float = 1e-4
) -> np.ndarray:
    """The book's central difference (h = 1e-4), one element at a time, in place.

    `f` is called with `x` after each element is nudged, as in the book, so a closure that
    ignores its argument (`lambda W: net.loss(x, t)`) works. `x` is restored exactly afterwards,
    also when `f` raises.
    """
    if (problem := tolerance_problem("h", h, zero=False)) is not None:
        raise ValueError(f"numerical_gradient: {problem} (the book's is 1e-4)")
    array = x.data if isinstance(x, Tensor) else x
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        raise TypeError(
            "numerical_gradient: x must be a float numpy array or Tensor (it is nudged in place)"
        )
    if not array.flags.writeable:
        raise ValueError(
            "numerical_gradient: x is read-only (e.g. made by np.broadcast_to), but it is "
            "nudged in place; pass a copy: np.array(x)"
        )
    if array.dtype.itemsize < 4:  # float16: 1 ± 1e-4 is 1, the gradient would be all 0
        raise TypeError(
            f"numerical_gradient: x is {array.dtype}, too coarse to nudge by h={h:g} (1 ± h "
            "rounds to 1, so the gradient would be 0); use float64: x.astype(np.float64)"
        )

    if h < np.finfo(array.dtype).eps:  # (a large x can still swamp h: the book's lr=10 run)
        raise ValueError(
            f"numerical_gradient: h={h:g} is below {array.dtype}'s precision "
            f"({np.finfo(array.dtype).eps:.2g}): x + h rounds to x for every x of size 1 or "
            "more, so f(x + h) - f(x - h) is 0 and the gradient would be 0 (the rounding error "
            "the book warns of in 4.1.1); use the book's h=1e-4"
        )

    def loss() -> float:
        value = f(x)
        try:
            return float(value)
        except (TypeError, ValueError):
            if value is None:
                raise TypeError(
                    "numerical_gradient: f returned None: does it end with `return`?"
                ) from None
            raise TypeError(
                "numerical_gradient: f must return one number (the loss), got "
                f"{type(value).__name__}{f' of shape {np.shape(value)}' if np.ndim(value) else ''}"
                "; sum or average it, e.g. lambda w: f(w).sum()"
            ) from None

    with no_grad():
        return central_differences(loss, array, h)


def central_differences(
    f: Callable[[], Any],
    array: np.ndarray,
    h: float,
    indices: Iterable[tuple[int, ...]] | None = None,
    *,
    taken_step: bool = False,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """(f(a + h) - f(a - h)) / 2h for each element a of `array`, nudged in place and restored
    exactly afterwards, also when `f` raises. `f` takes no argument: it reads `array`.

    With `indices`, only those elements are computed and the others are NaN. With `taken_step`
    the difference is divided by the step the array could hold, (a + h) - (a - h) after
    rounding, instead of 2h (the book's): beside 1e10 the step 1e-6 rounds to 3.8e-6, and the
    book's quotient is 1.9 times the slope. A step that rounds away entirely gives 0 either way.
    With `weights`, `f` returns an array and the difference is sum((f(a + h) - f(a - h)) *
    weights), differenced element by element before the sum: beside an output of 1e10 the
    sum's rounding (2e-6) would swamp a small element's change of 1e-6.
    """
    grad = np.zeros_like(array) if indices is None else np.full_like(array, np.nan)
    for idx in np.ndindex(array.shape) if indices is None else indices:
        original = array[idx]
        try:
            array[idx] = original + h
            plus, f_plus = float(array[idx]), f()
            array[idx] = original - h
            minus, f_minus = float(array[idx]), f()
        finally:
            array[idx] = original
        step = plus - minus if taken_step and plus != minus else 2 * h
        if weights is None:
            difference = float(f_plus) - float(f_minus)
        else:
            difference = float(np.sum((np.asarray(f_plus) - np.asarray(f_minus)) * weights))
        grad[idx] = difference / step
    return grad


def _kink(
    f: Callable[[], float],
    array: np.ndarray,
    idx: tuple[Any, ...],
    eps: float,
    atol: float,
    rtol: float,
    label: str,
    analytic: float,
) -> str:
    """Why central differences and backward part at a kink (relu's 0): their one-sided slopes,
    when backward gives one of them or a value between (else backward is wrong there)."""
    left, right = one_sided_slopes(f, f(), array, idx, eps)
    if not kink_allows(left, right, analytic, atol, rtol):
        return ""
    return (
        f"; {label} = {float(array[idx]):g} there is at a kink of fn (slope {left:.4g} on the "
        f"left, {right:.4g} on the right), where central differences average the two: check at "
        "inputs away from it, e.g. agt.arrays(..., away_from=0) for relu"
    )


def one_sided_slopes(
    f: Callable[[], float], center: float, array: np.ndarray, idx: tuple[Any, ...], eps: float
) -> tuple[float, float]:
    """(f(a) - f(a - eps)) / eps and (f(a + eps) - f(a)) / eps at element `idx` (`center` is
    f(a)), the element nudged in place and restored exactly, also when `f` raises."""
    original = array[idx]
    try:
        array[idx] = original + eps
        right = (f() - center) / eps
        array[idx] = original - eps
        left = (center - f()) / eps
    finally:
        array[idx] = original
    return left, right


def kink_allows(left: float, right: float, value: float, atol: float, rtol: float) -> bool:
    """Whether the slopes on the two sides differ (a kink, where central differences give
    their average) and `value`, backward's, is one of them or between: right there."""
    tol = atol + rtol * max(abs(left), abs(right))
    between = min(left, right) - tol <= value <= max(left, right) + tol
    return abs(right - left) > 10 * tol and between


def vanishing_step(name: str, array: np.ndarray, h: float) -> str | None:
    """Where x + h and x - h round to the same number (eps=1e-50 beside 3.0, or 1e-6 beside
    1e12): the difference there is 0 whatever f is, a silently wrong gradient."""
    with np.errstate(all="ignore"):
        vanished = np.isfinite(array) & ((array + h) == (array - h))
    if not np.any(vanished):
        return None
    where = tuple(int(j) for j in np.argwhere(vanished)[0])
    value = float(array[where])
    return (
        f"{name}={h:g} is too small for the element {where} = {value:g}: in {array.dtype}, "
        f"{value:g} + {h:g} and {value:g} - {h:g} round to the same number, so "
        "f(x + h) - f(x - h) is 0 there and the gradient would be 0"
    )


def tolerance_problem(name: str, value: Any, *, zero: bool) -> str | None:
    """What is wrong with a step or tolerance argument (a finite number, > 0 or with `zero`
    >= 0), or None: eps=0 divided by zero and atol="1e-5" reached numpy as a string."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return f"{name} must be a number, got {value!r}"
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        return f"{name} must be a finite number {'>= 0' if zero else '> 0'}, got {value!r}"
    return None


def mismatch(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """By how much each element misses `|analytic - numeric| <= atol + rtol * |numeric|`.

    Positive where it misses, infinite where either value is not finite (NaN never passes).
    """
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    return np.where(np.isfinite(analytic) & np.isfinite(numeric), excess, np.inf)


def fixed_weights(shape: tuple[int, ...], seed: int = 1234) -> np.ndarray:
    """A fixed, non-symmetric weighting of the outputs: checks the VJP, not only its sum."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare backward with central differences, in float64, for every input requiring grad.

    A non-scalar output is weighted by a fixed random cotangent. Returns True, or raises
    `GradcheckError` naming the input, the worst element and both values.
    """
    for name, value, zero in (("eps", eps, False), ("atol", atol, True), ("rtol", rtol, True)):
        if (problem := tolerance_problem(name, value, zero=zero)) is not None:
            raise ValueError(f"gradcheck: {problem}")
    promoted = [
        Tensor(np.array(t.data, dtype=np.float64), requires_grad=t.requires_grad, name=t.name)
        if isinstance(t, Tensor)
        else t
        for t in inputs
    ]
    checked = [i for i, t in enumerate(promoted) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")

    out = fn(*promoted)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    weights = fixed_weights(out.shape)

    def weighted(values: list[Any]) -> float:
        result = fn(*values)
        return float(np.sum(np.asarray(result.data, dtype=np.float64) * weights))

    for i in checked:
        if (problem := vanishing_step("eps", promoted[i].data, eps)) is not None:
            label = promoted[i].name or f"input {i}"
            raise ValueError(f"gradcheck: {label}: {problem}; use a larger eps (default 1e-6)")
    for i in checked:
        promoted[i].grad = None
    if out.requires_grad:
        out.backward(weights)

    for i in checked:
        x = promoted[i]
        analytic = np.zeros_like(x.data) if x.grad is None else np.asarray(x.grad.data)
        numeric = central_differences(lambda: weighted(promoted), x.data, eps, taken_step=True)
        excess = mismatch(analytic, numeric, atol, rtol)
        if excess.size and np.max(excess) > 0:
            worst = np.unravel_index(np.argmax(excess), x.shape)
            label = x.name or f"input {i}"
            raise GradcheckError(
                f"gradcheck: {label} (shape {x.shape}) element {tuple(int(j) for j in worst)}: "
                f"backward gives {float(analytic[worst])!r}, central differences give "
                f"{float(numeric[worst])!r} "
                f"(atol={atol}, rtol={rtol})"
                + _kink(
                    lambda: weighted(promoted),
                    x.data,
                    worst,
                    eps,
                    atol,
                    rtol,
                    label,
                    float(analytic[worst]),
                )
            )
    return True
