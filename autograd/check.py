"""Check a hand-written layer (the book's `forward` / `backward` protocol) against true gradients.

    report = check_layer(MulLayer(), 100.0, 2.0)
    print(report)   # one row per input and parameter, with a verdict and, if wrong, why
    report.ok       # True when every row is right

The true gradients come from central differences in float64 (always) and, where the layer's
forward also runs on tracked Tensors, from the engine; the layer's own `backward` is compared
with them row by row.
"""

from __future__ import annotations

import inspect
import io
import math
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd.grad_mode import enable_grad
from autograd.numeric import central_differences, fixed_weights, mismatch, tolerance_problem
from autograd.tensor import Tensor, grad

__all__ = ["LayerCheckError", "LayerReport", "Row", "check_layer"]

#: Names of forward's arguments that hold labels: passed through, never differentiated.
TARGET_NAMES = frozenset({"t", "target", "targets", "label", "labels"})
_KINK_ELEMENTS = 32  # failing elements examined for a kink (beyond that it is not one kink)


class LayerCheckError(ValueError):
    """The layer cannot be checked at all (no backward, forward raises, NaN output, ...)."""


@dataclass
class Row:
    """One input or parameter: the layer's gradient (`actual`) against the true one (`expected`,
    NaN at the elements a sample left out; `checked` marks the compared ones)."""

    name: str  # "x", "W", "params['W1']"
    grad_name: str  # "dx", "dW", "grads['W1']"
    kind: str  # "input" or "parameter"
    shape: tuple[int, ...]
    expected: np.ndarray
    actual: np.ndarray | None = None
    checked: np.ndarray | None = None  # which elements were compared (None: all of them)
    ok: bool = False
    max_abs: float | None = None
    max_rel: float | None = None
    worst: tuple[int, ...] | None = None
    diagnoses: list[str] = field(default_factory=list)  # why it failed, in plain words
    notes: list[str] = field(default_factory=list)  # remarks that do not fail the row

    @property
    def verdict(self) -> str:
        return "ok" if self.ok else "FAIL"

    def fail(self, diagnosis: str) -> None:
        self.ok = False
        if diagnosis not in self.diagnoses:
            self.diagnoses.append(diagnosis)


@dataclass
class LayerReport:
    """What `check_layer` found; `print(report)` shows the table, `report.ok` the verdict.

    `bool(report)` is `report.ok`, so `assert check_layer(layer, x)` fails for a wrong layer.
    """

    layer: str
    rows: list[Row]
    dout: str
    truth: str
    tolerance: str

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    def __getitem__(self, name: str) -> Row:
        for row in self.rows:
            if name in (row.name, row.grad_name):
                return row
        raise KeyError(f"no row {name!r}; rows: {', '.join(r.name for r in self.rows)}")

    def __str__(self) -> str:
        failed = [row for row in self.rows if not row.ok]
        verdict = "ok" if not failed else f"FAILED ({len(failed)} of {len(self.rows)} rows)"
        head = [
            "name",
            "shape",
            "max abs err",
            "max rel err",
            "worst at",
            "backward",
            "true",
            "verdict",
        ]
        table = [head] + [_cells(row) for row in self.rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(head))]
        lines = [
            f"check_layer({self.layer}): {verdict}",
            f"  dout: {self.dout}",
            f"  true gradients: {self.truth}",
            f"  passes when {self.tolerance}",
            "",
        ]
        for k, cells in enumerate(table):
            lines.append(
                "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
            )
            if k:
                row = self.rows[k - 1]
                lines += [f"      {row.grad_name}: {text}" for text in row.diagnoses + row.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<LayerReport {self.layer}: {'ok' if self.ok else 'FAILED'}>"


def _cells(row: Row) -> list[str]:
    def value(array: np.ndarray | None) -> str:
        if array is None or row.worst is None or array.shape != row.expected.shape:
            return "-"
        return f"{float(array[row.worst]):.6g}"

    def error(e: float | None) -> str:
        return "-" if e is None else f"{e:.2g}"

    worst = "-" if row.worst is None else str(row.worst)
    return [
        row.name,
        str(row.shape),
        error(row.max_abs),
        error(row.max_rel),
        worst,
        value(row.actual),
        value(row.expected),
        row.verdict,
    ]


# --- the layer and its arguments ------------------------------------------------------------
def _method(layer: Any, name: str, label: str) -> Callable[..., Any]:
    method = getattr(layer, name, None)
    if not callable(method):
        raise LayerCheckError(
            f"{label} has no {name} method: check_layer needs a layer object with "
            "forward(*inputs) and backward(dout), as in the book's chapter 5"
        )
    return method


def _signature(method: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(method)
    except (TypeError, ValueError):  # some builtins have none
        return None


def _arguments(
    forward: Callable[..., Any], inputs: tuple[Any, ...], shape: Any, rng: Any, label: str
) -> tuple[list[str], list[Any]]:
    """forward's argument names and the values to call it with (given, or drawn for `shape`)."""
    if shape is not None:
        if inputs:
            raise LayerCheckError(f"{label}: give inputs or shape=, not both")
        names = _input_names(forward, None)
        values = _random_inputs(names, shape, rng, label)
    else:
        if not inputs:
            raise LayerCheckError(
                f"{label}: give the inputs of forward, e.g. check_layer(layer, x), "
                "or their shape, e.g. check_layer(layer, shape=(2, 3))"
            )
        names = _input_names(forward, len(inputs))
        values = [_user_input(v, n, label) for v, n in zip(inputs, names, strict=True)]
    sig = _signature(forward)
    if sig is not None:
        try:
            sig.bind(*values)
        except TypeError as exc:
            raise LayerCheckError(f"{label}.forward{sig}: {exc}") from None
    return names, values


def _input_names(forward: Callable[..., Any], count: int | None) -> list[str]:
    """forward's positional argument names (x, y, t); extra *args are x0, x1, ..."""
    sig = _signature(forward)
    named: list[str] = []
    required = 0
    if sig is not None:
        for p in sig.parameters.values():
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                named.append(p.name)
                required += p.default is p.empty
    n = required if count is None else count
    return named[:n] + [f"x{i}" for i in range(len(named), n)]


def _random_inputs(
    names: list[str], shape: Any, rng: np.random.Generator, label: str
) -> list[np.ndarray]:
    shapes = _shapes(shape, len(names), label)
    values = []
    for name, s in zip(names, shapes, strict=True):
        if name in TARGET_NAMES:  # one-hot labels along the last axis
            if not s:
                raise LayerCheckError(f"{label}: labels {name} need at least one axis, got {s}")
            labels = rng.integers(s[-1], size=s[:-1])
            values.append(np.eye(s[-1])[labels])
        else:
            values.append(rng.standard_normal(s))
    return values


def _shapes(shape: Any, n: int, label: str) -> list[tuple[int, ...]]:
    """`(2, 3)`: that shape for every input; `[(2, 3), (3,)]`: one shape per input."""
    try:
        if all(isinstance(d, (int, np.integer)) for d in shape):
            shapes = [tuple(int(d) for d in shape)] * n
        else:
            shapes = [tuple(int(d) for d in s) for s in shape]
    except (TypeError, ValueError):
        raise LayerCheckError(
            f"{label}: shape= must be a tuple of ints such as (2, 3), or one tuple per input, "
            f"got {shape!r}"
        ) from None
    if len(shapes) != n:
        raise LayerCheckError(
            f"{label}: forward takes {n} inputs but shape= gives {len(shapes)} shapes"
        )
    if any(d < 1 for s in shapes for d in s):
        raise LayerCheckError(
            f"{label}: shape= {shape!r} has a size below 1: every axis needs an element to check"
        )
    return shapes


def _user_input(value: Any, name: str, label: str) -> Any:
    """The input as the user meant it: arrays (lists and Tensors become arrays) or numbers."""
    if isinstance(value, Tensor):
        value = np.array(value.data)
    elif isinstance(value, (list, tuple)):
        value = np.asarray(value)
    elif isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.number, np.ndarray)
    ):
        raise LayerCheckError(
            f"{label}: input {name} is a {type(value).__name__}; give a number or a numpy array"
        )
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise LayerCheckError(
                f"{label}: input {name} has dtype {value.dtype}; give a float numpy array"
            )
        if value.size == 0:
            raise LayerCheckError(
                f"{label}: input {name} has shape {value.shape}, with no elements to check; "
                "give it at least one sample"
            )
    return value


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _is_integer(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in "biu"


@dataclass
class _Param:
    """A parameter array and every place in the layer that holds it (attribute, params dict)."""

    name: str
    grad_name: str
    value: np.ndarray
    places: list[tuple[dict[str, Any], str]]
    read_grad: Callable[[], Any]


def _find_params(layer: Any, exclude: set[str]) -> list[_Param]:
    """Arrays `W` with a `dW` attribute beside them, and the entries of a `params` dict."""
    state = _state(layer)
    found: dict[int, _Param] = {}
    for name, value in state.items():
        if (
            isinstance(value, np.ndarray)
            and value.dtype.kind in "biuf"
            and f"d{name}" in state
            and name not in exclude
        ):
            found[id(value)] = _Param(
                name,
                f"d{name}",
                value,
                [(state, name)],
                lambda n=f"d{name}": getattr(layer, n, None),
            )
    params = state.get("params")
    if isinstance(params, dict):
        for key, value in params.items():
            if not (isinstance(value, np.ndarray) and value.dtype.kind in "biuf"):
                continue
            if id(value) in found:
                found[id(value)].places.append((params, key))
                continue
            found[id(value)] = _Param(
                f"params[{key!r}]", f"grads[{key!r}]", value, [(params, key)],
                lambda k=key: (getattr(layer, "grads", None) or {}).get(k),
            )  # fmt: skip
    for p in found.values():
        if p.value.size == 0:
            raise LayerCheckError(f"{type(layer).__name__}: parameter {p.name} has no elements")
    return list(found.values())


def _state(layer: Any) -> dict[str, Any]:
    state = getattr(layer, "__dict__", None)
    return state if isinstance(state, dict) else {}  # __slots__: nothing to find or restore


@contextmanager
def _swapped(params: list[_Param], values: list[Any]) -> Iterator[None]:
    """Put `values` in the parameters' places for a while (the user's arrays are never nudged)."""
    for p, v in zip(params, values, strict=True):
        for mapping, key in p.places:
            mapping[key] = v
    try:
        yield
    finally:
        for p in params:
            for mapping, key in p.places:
                mapping[key] = p.value


@contextmanager
def _preserved(layer: Any) -> Iterator[None]:
    """Undo what extra forward/backward calls did to the layer's attributes."""
    state = _state(layer)
    saved = dict(state)
    try:
        yield
    finally:
        state.clear()
        state.update(saved)


_QUIET = threading.RLock()  # sys.stdout and the warning filters are per process: one at a time


class _SilentHere(io.TextIOBase):
    """sys.stdout during a check: the checking thread's prints are dropped, other threads'
    (a training loop's progress) still reach the stdout they would have reached."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._thread = threading.get_ident()

    @property
    def encoding(self) -> Any:
        return getattr(self._real, "encoding", None)

    def write(self, text: str) -> int:
        if threading.get_ident() == self._thread or self._real is None:  # (None: no console)
            return len(text)
        return self._real.write(text)

    def flush(self) -> None:
        if threading.get_ident() != self._thread and self._real is not None:
            self._real.flush()


@contextmanager
def _quiet() -> Iterator[None]:
    """Hundreds of nudged calls would repeat a warning (or a debugging print) hundreds of times."""
    with _QUIET, warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        real = sys.stdout
        sys.stdout = _SilentHere(real)
        try:
            yield
        finally:
            sys.stdout = real


def _call(method: Callable[..., Any], args: list[Any], what: str) -> Any:
    try:
        return method(*args)
    except Exception as exc:
        raise LayerCheckError(f"{what} raised {type(exc).__name__}: {exc}") from exc


def _output(value: Any, what: str) -> np.ndarray:
    if value is None:
        raise LayerCheckError(f"{what} returned None: does it end with `return out`?")
    try:
        out = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise LayerCheckError(
            f"{what} returned {type(value).__name__}, not an array of numbers"
        ) from None
    return out


def _first_nonfinite(array: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])


# --- the check ------------------------------------------------------------------------------
def check_layer(
    layer: Any,
    *inputs: Any,
    dout: Any = None,
    seed: int = 0,
    shape: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    sample: int | None = 1000,
) -> LayerReport:
    """Run `layer.forward(*inputs)` and `layer.backward(dout)` and check every gradient.

    `layer` follows the book's protocol: `forward(*inputs)`, `backward(dout)` returning the
    input gradients (one, or a tuple in forward's order), parameters as array attributes with
    a `d`-prefixed gradient (`W` → `dW`) or a `params` / `grads` dict pair. An input named `t`
    (`target`, `label`) holds labels: it is passed through and not differentiated, and a layer
    with one is a loss layer, called as `backward()` (the book's `dout=1`) unless `dout` is given.
    Otherwise `dout` defaults to fixed random weights (from `seed`), so a backward that ignores
    dout fails. `shape=(2, 3)` draws random inputs of that shape (one shape per input also works).
    Central differences cost two forward calls per element: of an array with more than `sample`
    elements, that many are checked, chosen at random from `seed` (`sample=None`: all of them).

    Returns a `LayerReport`; raises `LayerCheckError` when the layer cannot be checked at all.
    """
    if inspect.isclass(layer):
        raise LayerCheckError(
            f"{layer.__name__} is a class: pass a layer made from it, e.g. {layer.__name__}()"
        )
    label = type(layer).__name__
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise LayerCheckError(f"{label}: seed must be a whole number >= 0, got {seed!r}")
    if sample is not None and (
        isinstance(sample, bool) or not isinstance(sample, int) or sample < 1
    ):
        raise LayerCheckError(
            f"{label}: sample must be a whole number >= 1 or None, got {sample!r}"
        )
    for name, value, zero in (("eps", eps, False), ("atol", atol, True), ("rtol", rtol, True)):
        if (problem := tolerance_problem(name, value, zero=zero)) is not None:
            raise LayerCheckError(f"{label}: {problem}")
    forward = _method(layer, "forward", label)
    backward = _method(layer, "backward", label)
    names, values = _arguments(forward, inputs, shape, np.random.default_rng(seed), label)
    differentiated = [i for i, n in enumerate(names) if n not in TARGET_NAMES]
    is_loss = len(differentiated) < len(names)
    params = _find_params(layer, set(names))

    # float64 copies: central differences nudge these, never the user's arrays
    values64 = [np.array(v, dtype=np.float64) if i in differentiated else _copy(v)
                for i, v in enumerate(values)]  # fmt: skip
    params64 = [np.array(p.value, dtype=np.float64) for p in params]

    def forward64() -> np.ndarray:
        with _swapped(params, params64), _quiet():
            out = _call(forward, [_copy(v) for v in values64], f"{label}.forward")
        return _output(out, f"{label}.forward")

    with _preserved(layer):
        with _swapped(params, params64), _quiet():
            probe = _call(forward, [_copy(v) for v in values64], f"{label}.forward")
            # an array forward assigns (self.out beside a self.dout) is state, not a parameter
            kept = [
                k for k, p in enumerate(params) if all(m[key] is params64[k] for m, key in p.places)
            ]
        params, params64 = [params[k] for k in kept], [params64[k] for k in kept]
        if not differentiated and not params:
            raise LayerCheckError(f"{label}: no input or parameter to differentiate")
        out64 = _output(probe, f"{label}.forward")
        if not np.all(np.isfinite(out64)):
            raise LayerCheckError(
                f"{label}.forward returned {out64[_first_nonfinite(out64)]} at output element "
                f"{_first_nonfinite(out64)}; a gradient check needs finite values: choose inputs "
                "inside the layer's domain (look at log, exp and divisions in forward)"
            )
        again = forward64()  # a random forward: central differences would measure its noise
        if again.shape != out64.shape or not np.allclose(again, out64, rtol=1e-12, atol=0):
            raise LayerCheckError(
                f"{label}.forward returns different outputs for the same inputs (does it draw "
                "random numbers, as Dropout's mask?); a gradient check needs the same output "
                "for the same input: check it with the randomness fixed, e.g. a subclass whose "
                "forward reuses one mask"
            )
        dout64, dout_real, dout_text = _dout(dout, out64, is_loss, seed, label)

        def weighted() -> float:
            return float(np.sum(forward64() * dout64))

        slots = [values64[i] for i in differentiated] + params64
        chosen = [_sampled(s.shape, sample, seed) for s in slots]
        numeric = [
            central_differences(weighted, s, eps, c) for s, c in zip(slots, chosen, strict=True)
        ]
        engine, engine_note = _engine_gradients(
            layer, forward, names, values64, differentiated, params, params64, dout64, out64
        )

    # the real run, with the user's own values and dtypes: the layer keeps this state
    real_inputs = [_copy(v) for v in values]
    out_real = _call(forward, real_inputs, f"{label}.forward")
    forward_changed = {
        i
        for i in differentiated
        if isinstance(values[i], np.ndarray)
        and not np.array_equal(real_inputs[i], values[i], equal_nan=True)
    }
    args = _backward_args(backward, dout_real)
    result = _call(backward, args, f"{label}.backward")
    dout_changed = isinstance(dout_real, np.ndarray) and not np.array_equal(
        args[0], dout_real, equal_nan=True
    )
    returned = result if isinstance(result, (tuple, list)) else [result]
    aliased = {k for k, g in enumerate(returned) if args and _shares(g, args[0])}
    actuals = _input_gradients(result, [names[i] for i in differentiated])
    actuals += [_gradient_array(p.read_grad()) for p in params]

    checked = [(names[i], "input", f"d{names[i]}", values[i]) for i in differentiated]
    checked += [(p.name, "parameter", p.grad_name, p.value) for p in params]
    rows: list[Row] = []
    scale = float(np.sum(np.abs(out64 * dout64)))  # the size of the loss's terms
    for k, (name, kind, grad_name, value) in enumerate(checked):
        truth, mask = numeric[k], _mask(slots[k].shape, chosen[k])
        noise = _rounding_noise(truth, slots[k], scale, eps)
        engine_differs = engine is not None and not _close(
            _on(mask, engine[k]), _on(mask, truth), atol + _on(mask, noise), rtol
        )
        if engine is not None and not engine_differs:
            truth, mask = engine[k], None  # exact, and for every element
        row = Row(name, grad_name, kind, tuple(np.shape(value)), truth, checked=mask)
        _compare(row, *actuals[k], atol, rtol)
        if mask is not None:
            row.notes.append(
                f"checked at {int(mask.sum())} of its {mask.size} elements, chosen at random "
                "(sample=None checks all)"
            )
        if engine_differs:
            row.notes.append(
                "the engine's gradient differs from central differences here (forward may "
                "leave the engine through .data or numpy); checked against central differences"
            )
        rows.append(row)

    with _preserved(layer):
        _kinks(rows, slots, weighted, eps, atol, rtol)
    for row, (_, _, _, value) in zip(rows, checked, strict=True):
        if _is_integer(value):
            row.fail(
                f"integer {row.kind}: use float arrays ({row.name}.astype(float)); the book's "
                "numerical_gradient cannot nudge an integer array by h"
            )
    input_rows = rows[: len(differentiated)]
    for i, row in zip(differentiated, input_rows, strict=True):
        if i in forward_changed:
            row.fail(f"forward changed {row.name} in place: work on a copy ({row.name}.copy())")
    if dout_changed:
        for row in [input_rows[k] for k in sorted(aliased) if k < len(input_rows)] or rows[:1]:
            row.fail(
                "backward changed dout in place: copy it first (dx = dout.copy()) before "
                "changing elements"
            )
    with _preserved(layer):
        _explain(rows, values, differentiated, layer, backward, out_real, dout_real, atol, rtol)

    return LayerReport(
        label,
        rows,
        dout_text,
        (
            f"the engine, confirmed by central differences (float64, h={eps:g})"
            if engine is not None
            else f"central differences (float64, h={eps:g})\n    not the engine: {engine_note}"
        ),
        f"|backward - true| <= {atol:g} + {rtol:g} * |true| for every element",
    )


def _dout(
    dout: Any, out64: np.ndarray, is_loss: bool, seed: int, label: str
) -> tuple[np.ndarray, Any, str]:
    """(float64 dout for the truth, what backward is called with or None for `backward()`, text)."""
    if dout is None and is_loss:
        return np.ones(out64.shape), None, "none: backward() called as the book does (dout=1)"
    if dout is None:
        weights = fixed_weights(out64.shape, seed=seed + 1)
        return weights, weights.copy(), f"random, shape {out64.shape} (seed {seed})"
    given = np.array(dout.data if isinstance(dout, Tensor) else dout)
    if given.dtype.kind not in "biuf":
        raise LayerCheckError(f"{label}: dout must be numbers, got dtype {given.dtype}")
    if given.shape != out64.shape:
        raise LayerCheckError(
            f"{label}: dout has shape {given.shape} but forward's output has shape "
            f"{out64.shape}; dout must have the output's shape"
        )
    passed = dout if isinstance(dout, (int, float)) else given
    return given.astype(np.float64), passed, f"given, shape {given.shape}"


def _backward_args(backward: Callable[..., Any], dout: Any) -> list[Any]:
    """`[dout]` (a fresh copy); a loss layer gets `backward()`, or `backward(1)` if it needs one."""
    if dout is not None:
        return [_copy(dout)]
    sig = _signature(backward)
    try:
        if sig is not None:
            sig.bind()
        return []
    except TypeError:
        return [1]


def _input_gradients(result: Any, names: list[str]) -> list[tuple[np.ndarray | None, str | None]]:
    """What backward returned, one (array, problem) per differentiated input."""
    n = len(names)
    wanted = ", ".join(f"d{name}" for name in names)
    if n == 0:
        return []
    if result is None:
        return [(None, f"backward returned None: end it with `return {wanted}`")] * n
    if n == 1:
        if isinstance(result, (tuple, list)) and len(result) == 1:
            result = result[0]
        return [_gradient_array(result)]
    count = len(result) if isinstance(result, (tuple, list)) else 1
    if count != n:
        labels = f" (if {names[-1]} holds labels, name it t as the book does)" if count < n else ""
        said = "one value" if count == 1 else f"{count} values"
        return [(None, f"backward returned {said} for {n} inputs: return {wanted}{labels}")] * n
    return [_gradient_array(g) for g in result]


def _gradient_array(value: Any) -> tuple[np.ndarray | None, str | None]:
    if value is None:
        return None, "backward did not set it (it is None)"
    if isinstance(value, Tensor):
        value = value.data
    try:
        array = np.array(value)
        if array.dtype.kind not in "biuf":
            raise TypeError
    except (TypeError, ValueError):
        return None, f"it is a {type(value).__name__}, not an array of numbers"
    return array, None


def _sampled(shape: tuple[int, ...], sample: int | None, seed: int) -> list[tuple[int, ...]] | None:
    """`sample` element indices of an array of `shape`, or None for all. Arrays of one shape get
    the same elements, so rows can still be compared with each other (x and y swapped)."""
    size = math.prod(shape)
    if sample is None or size <= sample:
        return None
    rng = np.random.default_rng([seed, *shape])
    flat = np.sort(rng.choice(size, sample, replace=False))
    return [tuple(int(j) for j in np.unravel_index(i, shape)) for i in flat]


def _mask(shape: tuple[int, ...], chosen: list[tuple[int, ...]] | None) -> np.ndarray | None:
    if chosen is None:
        return None
    mask = np.zeros(shape, dtype=bool)
    for idx in chosen:
        mask[idx] = True
    return mask


def _rounding_noise(numeric: np.ndarray, array: np.ndarray, scale: float, eps: float) -> Any:
    """How far central differences may be off by rounding alone, per element: the loss is
    rounded to about 2^-52 of the size of its terms (`scale`), divided by the step, and x ± h
    is rounded to x's precision, which changes the step itself. Negligible for values near 1;
    at 1e10 the step h = 1e-6 is below x's precision and the quotient is meaningless, so the
    engine's exact gradient is not overruled there."""
    tiny = float(np.finfo(np.float64).eps)
    return 16 * tiny * scale / eps + np.abs(numeric) * tiny * np.abs(array) / eps


def _on(mask: np.ndarray | None, array: np.ndarray) -> np.ndarray:
    """The checked elements of `array` (all of it without a mask)."""
    return array if mask is None else array[mask]


def _close(a: np.ndarray, b: np.ndarray, atol: float, rtol: float) -> bool:
    """Same shape and every element within tolerance of `b`."""
    return a.shape == b.shape and bool(np.max(mismatch(a, b, atol, rtol), initial=-1.0) <= 0)


def _shares(a: Any, b: Any) -> bool:
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.shares_memory(a, b)


def _compare(
    row: Row, actual: np.ndarray | None, problem: str | None, atol: float, rtol: float
) -> None:
    if actual is None:
        row.fail(problem or "missing")
        return
    row.actual = actual
    expected = row.expected
    if actual.shape != expected.shape:
        row.fail(
            f"wrong shape: {row.grad_name} must have the shape of {row.name} {expected.shape}, "
            f"got {actual.shape}"
        )
        return
    a = actual.astype(np.float64)
    checked = np.ones(a.shape, dtype=bool) if row.checked is None else row.checked
    excess = np.where(checked, mismatch(a, expected, atol, rtol), -np.inf)
    with np.errstate(all="ignore"):  # a backward giving inf or nan: said as inf, not warned
        diff = np.abs(a - expected)
        scale = np.maximum(np.maximum(np.abs(a), np.abs(expected)), atol)
        diff = np.where(np.isnan(diff), np.inf, diff)
        relative = np.where(np.isinf(diff), np.inf, diff / scale)
    row.max_abs = float(diff[checked].max())
    row.max_rel = float(relative[checked].max())
    row.ok = not np.any(excess > 0)
    ranking = excess if not row.ok else np.where(checked, diff, -1.0)
    row.worst = tuple(int(j) for j in np.unravel_index(np.argmax(ranking), a.shape))
    if not np.all(np.isfinite(a)):
        row.fail(f"backward gives {a[_first_nonfinite(a)]} at {_first_nonfinite(a)}")
    shown = np.where(checked, expected, 0.0)
    if not np.all(np.isfinite(shown)):
        where = _first_nonfinite(shown)
        row.fail(
            f"central differences give {shown[where]} at {where}: forward is not finite next "
            "to this point"
        )


def _kinks(
    rows: list[Row],
    slots: list[np.ndarray],
    weighted: Callable[[], float],
    eps: float,
    atol: float,
    rtol: float,
) -> None:
    """At a kink (relu's 0) any value between the one-sided slopes is a right gradient."""
    for row, array in zip(rows, slots, strict=True):
        if row.ok or row.diagnoses or row.actual is None or row.actual.shape != array.shape:
            continue
        excess = mismatch(row.actual.astype(np.float64), row.expected, atol, rtol)
        failing = np.argwhere((excess > 0) if row.checked is None else (excess > 0) & row.checked)
        if len(failing) > _KINK_ELEMENTS:
            continue
        center = weighted()
        accepted = []
        for idx in map(tuple, failing):
            original = array[idx]
            try:
                array[idx] = original + eps
                right = (weighted() - center) / eps
                array[idx] = original - eps
                left = (center - weighted()) / eps
            finally:
                array[idx] = original
            tol = atol + rtol * max(abs(left), abs(right))
            a = float(row.actual[idx])
            if (
                abs(right - left) > 10 * tol
                and min(left, right) - tol <= a <= max(left, right) + tol
            ):
                accepted.append((idx, left, right))
        if len(accepted) == len(failing):
            row.ok = True
            row.worst = tuple(int(j) for j in accepted[0][0])
            for idx, left, right in accepted:
                row.notes.append(
                    f"element {tuple(int(j) for j in idx)} is at a kink of forward (slope "
                    f"{left:.4g} on the left, {right:.4g} on the right): any value between "
                    "is right there"
                )


def _explain(
    rows: list[Row],
    values: list[Any],
    differentiated: list[int],
    layer: Any,
    backward: Callable[..., Any],
    out_real: Any,
    dout_real: Any,
    atol: float,
    rtol: float,
) -> None:
    """Name the common mistakes a failed row looks like (comparing the elements it checked)."""

    def closeness(row: Row) -> Callable[[np.ndarray, np.ndarray], bool]:
        return lambda a, b: _close(_on(row.checked, a), _on(row.checked, b), atol, rtol)

    first = values[differentiated[0]] if differentiated else None
    batch = np.shape(first)[0] if np.ndim(first) >= 2 else 1
    inputs = rows[: len(differentiated)]
    for row in rows:
        if row.ok or row.actual is None:
            continue
        a, t = row.actual.astype(np.float64), row.expected
        close = closeness(row)
        if a.shape != t.shape:
            if a.shape == (batch, *t.shape) and batch > 1 and close(a.sum(axis=0), t):
                row.fail(
                    "the sum over the batch is missing: add up the rows, as in "
                    f"{row.grad_name} = np.sum(dout, axis=0)"
                )
            elif a.size == t.size and close(a.reshape(t.shape), t):
                row.fail(
                    f"the right numbers in the wrong shape: return "
                    f"{row.grad_name}.reshape(*{row.name}.shape)"
                )
            continue
        if not np.all(np.isfinite(a)):
            continue
        for other in inputs:
            if other is not row and close(a, other.expected) and not close(t, other.expected):
                row.fail(
                    f"looks like {row.name} and {other.name} are swapped: {row.grad_name} "
                    f"matches the true {other.grad_name}"
                )
        if (
            not row.diagnoses
            and isinstance(dout_real, np.ndarray)
            and dout_real.shape == a.shape
            and close(a * dout_real, t)
        ):
            row.fail(
                f"looks like backward ignores dout: multiply by it ({row.grad_name} = dout * ...)"
            )
        am, tm = _on(row.checked, a), _on(row.checked, t)
        norm = float(np.sum(tm * tm))
        if norm > 0 and not row.diagnoses:
            factor = float(np.sum(am * tm)) / norm
            if close(a, factor * t) and not math.isclose(factor, 1.0, rel_tol=rtol):
                if batch > 1 and math.isclose(factor, batch, rel_tol=rtol):
                    row.fail(
                        f"off by a factor of the batch size: {row.grad_name} is {batch} times "
                        f"the true gradient (divide by batch_size = {inputs[0].name}.shape[0])"
                    )
                elif batch > 1 and math.isclose(factor, 1 / batch, rel_tol=rtol):
                    row.fail(
                        f"off by a factor of the batch size: {row.grad_name} is the true "
                        f"gradient divided by {batch} (divided by batch_size once too often?)"
                    )
                elif math.isclose(factor, -1.0, rel_tol=rtol):
                    row.fail(f"the sign of {row.grad_name} is flipped")
                else:
                    row.fail(f"{row.grad_name} is {factor:.4g} times the true gradient")
    if len(inputs) == 1 and not inputs[0].ok and not inputs[0].diagnoses:
        _input_for_output(inputs[0], values[differentiated[0]], layer, backward, out_real,
                          dout_real, closeness(inputs[0]))  # fmt: skip


def _input_for_output(
    row: Row,
    x: Any,
    layer: Any,
    backward: Callable[..., Any],
    out_real: Any,
    dout_real: Any,
    close: Callable[[np.ndarray, np.ndarray], bool],
) -> None:
    """Try backward again with the stored input replaced by forward's output (sigmoid's y)."""
    out = np.asarray(out_real)
    if not isinstance(x, np.ndarray) or out.shape != x.shape:
        return
    state = _state(layer)
    for attr, stored in list(state.items()):
        if not (isinstance(stored, np.ndarray) and stored.shape == x.shape):
            continue
        if not np.array_equal(stored, x) or np.array_equal(stored, out):
            continue
        state[attr] = out.copy()
        try:
            with _quiet():
                again = backward(*_backward_args(backward, dout_real))
            result = np.asarray(again, dtype=np.float64)
        except Exception:
            continue
        finally:
            state[attr] = stored
        if close(result, row.expected):
            with np.errstate(all="ignore"):
                sigmoid = np.allclose(out, 1 / (1 + np.exp(-x.astype(np.float64))))
            hint = ": the sigmoid's derivative is y * (1 - y)" if sigmoid else ""
            row.fail(
                f"looks like backward uses the input {row.name} (self.{attr}) where it needs "
                f"the output y = forward({row.name}){hint}"
            )
            return


def _engine_gradients(
    layer: Any,
    forward: Callable[..., Any],
    names: list[str],
    values64: list[Any],
    differentiated: list[int],
    params: list[_Param],
    params64: list[np.ndarray],
    dout64: np.ndarray,
    out64: np.ndarray,
) -> tuple[list[np.ndarray] | None, str]:
    """The layer's forward run on tracked Tensors, differentiated by the engine, if that works."""
    leaves = {i: Tensor(values64[i].copy(), name=names[i]) for i in differentiated}
    param_leaves = [Tensor(p.copy(), name=q.name) for p, q in zip(params64, params, strict=True)]
    args = [leaves.get(i, _copy(v)) for i, v in enumerate(values64)]
    try:
        with _preserved(layer), _swapped(params, param_leaves), enable_grad(), _quiet():
            out = forward(*args)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:80] if str(exc) else ""
        return None, f"forward on Tensors raised {type(exc).__name__}: {reason}"
    wanted = [leaves[i] for i in differentiated] + param_leaves
    if not isinstance(out, Tensor) or not out.requires_grad:
        return None, "forward on Tensors does not return a tracked Tensor"
    reached = _leaves_reached(out)
    missing = [t.name for t in wanted if id(t) not in reached]
    if missing:
        return None, (
            f"on Tensors forward's output does not depend on "
            f"{', '.join(str(m) for m in missing)}; np.asarray, .data and the like turn "
            "Tensors into arrays"
        )
    if out.shape != out64.shape or not np.allclose(out.data, out64, rtol=1e-7, atol=1e-12):
        return None, "forward on Tensors gives other values"
    try:
        with _quiet():
            grads = grad(out, wanted, dout64)
    except Exception as exc:
        return None, f"its backward raised {type(exc).__name__}: {exc}"
    return [np.array(g.data, dtype=np.float64) for g in grads], ""


def _leaves_reached(root: Tensor) -> set[int]:
    seen = {id(root)}
    stack = [root]
    while stack:
        for parent in stack.pop().inputs:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return seen
