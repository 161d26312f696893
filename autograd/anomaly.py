"""Find the first NaN or Inf: `with autograd.detect_anomaly(): ...`.

Inside the block every recorded op checks its result, and backward checks every gradient it
computes; the first NaN or Inf raises `AnomalyError` (a `FloatingPointError`) naming the op,
the pass (forward or backward), the input shapes, a summary of the values and the file and line
of the user's code that created the node. Where the code was is recorded only in this mode, so
the normal path pays nothing: the mode rides on the per-thread recording switch.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from autograd.grad_mode import ThreadStacks, recording, state

if TYPE_CHECKING:
    from autograd.tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])
_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))


class AnomalyError(FloatingPointError):
    """The first NaN/Inf found; `.node` is the tensor of the op that made it."""

    def __init__(self, message: str, node: Tensor, phase: str) -> None:
        super().__init__(message)
        self.node = node
        self.phase = phase

    def __reduce__(self) -> tuple[Any, ...]:
        # a worker process sends its exception back pickled; the default passes only args
        return (type(self), (str(self), self.node, self.phase))


class Anomaly:
    """What to look for (NaN, Inf or both); truthy, so it can stand for "recording on"."""

    __slots__ = ("nan", "inf")

    def __init__(self, nan: bool = True, inf: bool = True) -> None:
        if not (nan or inf):
            raise ValueError("detect_anomaly: nan=False and inf=False would check nothing")
        self.nan = bool(nan)
        self.inf = bool(inf)

    def _bad(self, values: np.ndarray) -> np.ndarray | None:
        """A mask of the offending entries, or None when all is well (the fast answer)."""
        if self.nan and self.inf:
            if np.isfinite(values).all():
                return None
            return ~np.isfinite(values)
        mask = np.isnan(values) if self.nan else np.isinf(values)
        return mask if mask.any() else None

    def watch(self, out: Tensor) -> None:
        """Called by the ops for every node recorded in this mode: remember where, check it."""
        site = _user_site()
        _meta(out)["site"] = site
        if self._bad(out._data) is None:
            return
        inputs = out.inputs
        already = [t for t in inputs if self._bad(t._data) is not None]
        note = (
            f"; its input {_shapes(already)} already held NaN/Inf (a leaf or data given so)"
            if already
            else ""
        )
        self._raise(out, "forward", f"its output {_summary(out._data)}{note}", site)

    def check_gradient(
        self, node: Tensor, index: int, grad: np.ndarray, upstream: np.ndarray
    ) -> None:
        """Called by backward for the gradient that `node`'s op sent to its input `index`."""
        if self._bad(grad) is None:
            return
        parent = node.inputs[index]
        name = f" '{parent.name}'" if parent.name else ""
        detail = f"the gradient it sends to input {index}{name} {_summary(grad)}"
        if self._bad(upstream) is None:
            detail += " (the gradient arriving from upstream was finite)"
        site = (node._meta or {}).get("site")
        self._raise(node, "backward", detail, site)

    def check_hook(self, node: Tensor, arrived: np.ndarray, replaced: np.ndarray) -> None:
        """Called by backward when a hook on `node` replaced a finite gradient."""
        if self._bad(replaced) is None or self._bad(arrived) is not None:
            return
        what = f"'{node.name}' " if node.name else ""
        kinds = "NaN or Inf" if self.nan and self.inf else ("NaN" if self.nan else "Inf")
        message = (
            f"{kinds} in backward: a hook on the tensor {what}of shape {node.shape} replaced "
            f"its finite gradient; the hook's gradient {_summary(replaced)}"
        )
        _meta(node)["anomaly"] = message
        raise AnomalyError(message, node, "backward")

    def _raise(self, node: Tensor, phase: str, detail: str, site: str | None) -> None:
        op = node._op
        kinds = "NaN or Inf" if self.nan and self.inf else ("NaN" if self.nan else "Inf")
        where = (
            f"created at {site}"
            if site
            else "where it was created is unknown: run the forward inside "
            "autograd.detect_anomaly() to record it"
        )
        message = (
            f"{kinds} in {phase}: op '{op.name if op else '?'}' on inputs "
            f"{_shapes(node.inputs)}: {detail}; {where}"
        )
        _meta(node)["anomaly"] = message
        raise AnomalyError(message, node, phase)


class detect_anomaly:
    """Raise at the first NaN or Inf made in forward or backward: a context manager
    (`with detect_anomaly():`) or a decorator (`@detect_anomaly()`).

    `nan=False` looks for Inf only, `inf=False` for NaN only. numpy's warnings for what is
    looked for (invalid value for NaN; divide by zero and overflow for Inf) are silenced inside,
    since the error says more. `viz.draw` marks the offending node in red.
    """

    def __init__(self, nan: bool = True, inf: bool = True) -> None:
        self._settings = Anomaly(nan, inf)
        self._previous = ThreadStacks()

    def __enter__(self) -> Anomaly:
        quiet = np.errstate(
            invalid="ignore" if self._settings.nan else None,
            divide="ignore" if self._settings.inf else None,
            over="ignore" if self._settings.inf else None,
        )
        quiet.__enter__()
        self._previous.push((state.anomaly, state.enabled, quiet))
        state.anomaly = self._settings
        state.enabled = recording(bool(state.enabled))
        return self._settings

    def __exit__(self, *exc: object) -> None:
        state.anomaly, state.enabled, quiet = self._previous.pop()
        quiet.__exit__(None, None, None)

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self._settings.nan, self._settings.inf):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def anomaly_of(t: Tensor) -> str | None:
    """The message of the anomaly found at this node, if any (the drawing marks it)."""
    return (t._meta or {}).get("anomaly")


def _meta(t: Tensor) -> dict[str, Any]:
    if t._meta is None:
        t._meta = {}
    return t._meta


def _user_site() -> str | None:
    """`file:line` of the innermost caller outside the engine (and its layer library)."""
    frame = sys._getframe(1)
    skip = (
        _ENGINE_DIR + os.sep,
        os.path.join(os.path.dirname(_ENGINE_DIR), "nn") + os.sep,
        _NUMPY_DIR + os.sep,  # np.mean(t) reaches t.mean() through numpy's own Python code
    )
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(skip):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _shapes(tensors: Any) -> str:
    return ", ".join(str(t.shape) for t in tensors) or "none"


def _summary(values: np.ndarray) -> str:
    values = np.asarray(values)
    nan = int(np.isnan(values).sum())
    inf = int(np.isinf(values).sum())
    finite = values[np.isfinite(values)]
    parts = [f"of shape {values.shape} has {nan} NaN and {inf} Inf of {values.size}"]
    if finite.size:
        parts.append(f"finite values from {finite.min():.4g} to {finite.max():.4g}")
    return ", ".join(parts)
