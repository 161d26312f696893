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
import textwrap
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd.grad_mode import enable_grad
from autograd.numeric import (
    central_differences,
    fixed_weights,
    kink_allows,
    mismatch,
    one_sided_slopes,
    tolerance_problem,
    vanishing_step,
)
from autograd.tensor import Tensor, grad

__all__ = ["LayerCheckError", "LayerReport", "Row", "check_layer"]

#: Names of forward's arguments that hold labels: passed through, never differentiated.
TARGET_NAMES = frozenset({"t", "target", "targets", "label", "labels"})
_WIDTH = 96  # a diagnosis wraps there, under its first word (a terminal, a notebook cell)
# arrays up to this size have their contents restored after extra calls (a dW += ...); a
# larger one is an input forward kept (self.x = x_train after predicting the training set),
# which no book layer changes in place, and copying it at every restore would cost gigabytes
_KEPT = 2**24


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
                for text in row.diagnoses + row.notes:
                    lines += textwrap.wrap(
                        f"{row.grad_name}: {text}",
                        width=_WIDTH,
                        initial_indent=" " * 6,
                        subsequent_indent=" " * (8 + len(row.grad_name)),
                        break_long_words=False,
                        break_on_hyphens=False,
                    )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<LayerReport {self.layer}: {'ok' if self.ok else 'FAILED'}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """A notebook cell ending in check_layer(...) shows the table, not only the verdict."""
        printer.text(str(self))


def _cells(row: Row) -> list[str]:
    def value(array: np.ndarray | None) -> str:
        if array is None or row.worst is None or array.shape != row.expected.shape:
            return "-"
        return f"{float(array[row.worst]) + 0.0:.6g}"  # (-0.0 shows as 0)

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
        engine = (
            " (nn's layers have none: autograd differentiates their forward, so there is "
            "nothing of yours to check)"
            if name == "backward" and callable(getattr(layer, "parameters", None))
            else ""
        )
        raise LayerCheckError(
            f"{label} has no {name} method: check_layer needs a layer object with "
            f"forward(*inputs) and backward(dout), as in the book's chapter 5{engine}"
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


def _sublayers(layer: Any) -> list[tuple[str, Any]]:
    """Layers a layer is made of (self.affine = Affine(W, b), or in a list or dict of layers),
    with their paths: their parameters are the layer's too, and their state is kept."""
    found: list[tuple[str, Any]] = []
    seen = {id(layer)}

    def visit(obj: Any, path: str) -> None:
        for name, value in _state(obj).items():
            items = (
                [(f"{path}{name}[{k!r}]", v) for k, v in value.items()]
                if isinstance(value, dict)
                else [(f"{path}{name}[{k}]", v) for k, v in enumerate(value)]
                if isinstance(value, (list, tuple))
                else [(f"{path}{name}", value)]
            )
            for where, sub in items:
                if id(sub) in seen or not (
                    callable(getattr(sub, "forward", None))
                    and callable(getattr(sub, "backward", None))
                    and not inspect.isclass(sub)
                ):
                    continue
                seen.add(id(sub))
                found.append((where, sub))
                visit(sub, f"{where}.")

    visit(layer, "")
    return found


def _find_params(layer: Any, exclude: set[str], later: set[str]) -> list[_Param]:
    """Arrays `W` with a `dW` attribute beside them (or one backward creates: `later`), and
    the entries of a `params` dict; then those of the layers it is made of (`affine.W`; an
    array also in `params` keeps that name, as the book's TwoLayerNet shares params['W1']
    with its Affine1)."""
    found: dict[int, _Param] = {}

    def add(value: Any, place: tuple[dict[str, Any], str], make: Callable[[], _Param]) -> None:
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            if id(value) in found:
                found[id(value)].places.append(place)
            else:
                found[id(value)] = make()

    def attributes(path: str, obj: Any) -> None:
        attrs = _state(obj)
        for name, value in attrs.items():
            made = f"d{name}" in attrs or (not path and f"d{name}" in later)
            if made and (path or name not in exclude):
                add(value, (attrs, name), lambda n=name, v=value: _Param(
                    f"{path}{n}", f"{path}d{n}", v, [(attrs, n)],
                    lambda: getattr(obj, f"d{n}", None),
                ))  # fmt: skip

    attributes("", layer)
    params = _state(layer).get("params")
    if isinstance(params, dict):
        for key, value in params.items():
            add(value, (params, key), lambda k=key, v=value: _Param(
                f"params[{k!r}]", f"grads[{k!r}]", v, [(params, k)],
                lambda: (getattr(layer, "grads", None) or {}).get(k),
            ))  # fmt: skip
    for path, sub in _sublayers(layer):
        attributes(f"{path}.", sub)
    for p in found.values():
        if p.value.size == 0:
            raise LayerCheckError(f"{type(layer).__name__}: parameter {p.name} has no elements")
    return list(found.values())


def _made_by_a_call(
    layer: Any,
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    values: list[Any],
    is_loss: bool,
) -> set[str]:
    """The attributes a forward and backward create: a layer whose backward sets `self.dW`
    without an `self.dW = None` in `__init__` (the book has one) still has W checked. The
    layer is left as it was; a call that raises finds nothing (the check itself says why)."""
    with _preserved(layer), _quiet():
        before = set(_state(layer))
        try:
            out = forward(*[_copy(v) for v in values])
            backward(*_backward_args(backward, None if is_loss else np.ones(np.shape(out))))
        except Exception:
            return set()
        return set(_state(layer)) - before


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
    """Undo what extra forward/backward calls did to the layer's attributes, and to the arrays
    they hold (`self.dW += ...` changes dW itself; `params` / `grads` dicts are kept too)."""
    states = [_state(obj) for obj in [layer, *(sub for _, sub in _sublayers(layer))]]
    saved = [(state, dict(state)) for state in states]
    values = [v for state in states for v in state.values()]
    dicts = {id(v): (v, dict(v)) for v in values if isinstance(v, dict)}
    arrays = [v for v in values if isinstance(v, np.ndarray)]
    arrays += [a for _, d in dicts.values() for a in d.values() if isinstance(a, np.ndarray)]
    contents = {id(a): (a, a.copy()) for a in arrays if a.flags.writeable and a.size <= _KEPT}
    try:
        yield
    finally:
        for state, items in saved:
            state.clear()
            state.update(items)
        for mapping, items in dicts.values():
            mapping.clear()
            mapping.update(items)
        for array, content in contents.values():
            if array.shape == content.shape and array.dtype == content.dtype:
                np.copyto(array, content)


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


def _float32_numbers(array: Any, few_bits: bool = False) -> bool:
    """All float32 numbers, and (unless `few_bits`) not all numbers of a few bits such as 0 or
    0.5: outputs so of float64 inputs were computed in float32 and cast back."""
    with np.errstate(all="ignore"):
        finite = np.asarray(array)[np.isfinite(array)]
        if not np.array_equal(finite.astype(np.float32), finite):
            return False
        return few_bits or bool(
            finite.size and not np.array_equal(finite.astype(np.float16), finite)
        )


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
    `forward` and `backward` then run once more on the same inputs, as for a second minibatch:
    a gradient that changes (`self.dW += ...`) fails. The layer is left as after the first.

    Returns a `LayerReport`; raises `LayerCheckError` when the layer cannot be checked at all.
    """
    with _random_state_kept(layer):
        return _check_layer(layer, inputs, dout, seed, shape, eps, atol, rtol, sample)


@contextmanager
def _random_state_kept(layer: Any) -> Iterator[None]:
    """A forward drawing random numbers (the book's Dropout: np.random.rand) runs hundreds of
    times here: numpy's global generator, and generators the layer holds, are put back as they
    were, so a seeded training run after the check draws what it would have without it."""
    saved = np.random.get_state()
    held = [g.bit_generator if isinstance(g, np.random.Generator) else g
            for obj in [layer, *(sub for _, sub in _sublayers(layer))]
            for g in _state(obj).values()
            if isinstance(g, (np.random.Generator, np.random.RandomState))]  # fmt: skip
    states = [(g, g.state if isinstance(g, np.random.BitGenerator) else g.get_state())
              for g in held]  # fmt: skip
    try:
        yield
    finally:
        np.random.set_state(saved)
        for g, state in states:
            if isinstance(g, np.random.BitGenerator):
                g.state = state
            else:
                g.set_state(state)


def _check_layer(
    layer: Any,
    inputs: tuple[Any, ...],
    dout: Any,
    seed: int,
    shape: Any,
    eps: float,
    atol: float,
    rtol: float,
    sample: int | None,
) -> LayerReport:
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
    params = _find_params(
        layer, set(names), _made_by_a_call(layer, forward, backward, values, is_loss)
    )

    # float64 copies: central differences nudge these, never the user's arrays
    values64 = [np.array(v, dtype=np.float64) if i in differentiated else _copy(v)
                for i, v in enumerate(values)]  # fmt: skip
    params64 = [np.array(p.value, dtype=np.float64) for p in params]

    def forward64() -> np.ndarray:
        with _swapped(params, params64), _quiet():
            out = _call(forward, [_copy(v) for v in values64], f"{label}.forward")
        return _output(out, f"{label}.forward")

    _refuse_nonfinite(label, [(f"input {names[i]}", values64[i]) for i in differentiated])
    drawn_labels = (
        [i for i, n in enumerate(names) if n in TARGET_NAMES] if shape is not None else []
    )
    labels_text = ""
    classes = [np.argmax(v, axis=-1) if i in drawn_labels else v for i, v in enumerate(values64)]
    if (
        drawn_labels
        and not _takes(layer, forward, params, params64, values64)
        and _takes(layer, forward, params, params64, classes)
    ):  # a loss layer written for class numbers only (dx[np.arange(N), t] -= 1): give those
        for i in drawn_labels:
            values[i] = values64[i] = classes[i]
        labels_text = (
            f"; labels {', '.join(names[i] for i in drawn_labels)} drawn as class numbers "
            "(forward refused one-hot rows)"
        )
    unlisted = _unlisted_arrays(layer, params)
    with _preserved(layer):
        with _swapped(params, params64), _quiet():
            try:
                probe = _call(forward, [_copy(v) for v in values64], f"{label}.forward")
            except LayerCheckError as exc:
                hint = _label_problem(names, values, differentiated) or _flatten_hint(
                    values, differentiated, params
                )
                if hint is None:
                    raise
                raise LayerCheckError(f"{exc}; {hint}") from exc.__cause__
            # an array forward assigns (self.out beside a self.dout) is state, not a parameter
            kept = [
                k for k, p in enumerate(params) if all(m[key] is params64[k] for m, key in p.places)
            ]
        params, params64 = [params[k] for k in kept], [params64[k] for k in kept]
        _refuse_nonfinite(
            label, [(f"parameter {p.name}", a) for p, a in zip(params, params64, strict=True)]
        )
        if not differentiated and not params:
            raise LayerCheckError(f"{label}: no input or parameter to differentiate")
        out64 = _output(probe, f"{label}.forward")
        precision = np.dtype(getattr(probe, "dtype", np.float64))
        returns = f"returns {precision}"
        given = [values64[i] for i in differentiated] + params64
        if (
            precision == np.float64
            and _float32_numbers(out64)
            and not all(_float32_numbers(a, few_bits=True) for a in given)
        ):  # (float32 inputs give float32 numbers through a Relu)
            precision, returns = np.dtype(np.float32), "returns float32 numbers as float64"
        if precision.kind == "f" and precision.itemsize < 8:
            raise LayerCheckError(
                f"{label}.forward {returns} for float64 inputs (an "
                f".astype(np.{precision}) or a {precision} array inside it): {precision} keeps "
                f"about {np.finfo(precision).precision} digits, too few for central differences "
                "(f(x + h) - f(x - h) would be mostly rounding); check the layer in float64 and "
                f"train it in {precision} afterwards"
            )
        if not np.all(np.isfinite(out64)):
            big = max((float(np.max(np.abs(values64[i]), initial=0)) for i in differentiated),
                      default=0.0)  # fmt: skip
            softmax = (
                f"; x reaches {big:g}, and np.exp overflows past 709: a softmax needs "
                "x - np.max(x) first (3.5.2)"
                if is_loss and big > 709
                else ""
            )
            raise LayerCheckError(
                f"{label}.forward returned {out64[_first_nonfinite(out64)]} at output element "
                f"{_first_nonfinite(out64)}; a gradient check needs finite values: choose inputs "
                f"inside the layer's domain (look at log, exp and divisions in forward){softmax}"
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
        dout_text += labels_text

        def weighted() -> float:
            return float(np.sum(forward64() * dout64))

        unchecked = _used_arrays(layer, unlisted, forward64, out64)

        slots = [values64[i] for i in differentiated] + params64
        chosen = [_sampled(s.shape, sample, seed) for s in slots]
        numeric = [
            central_differences(forward64, s, eps, c, taken_step=True, weights=dout64)
            for s, c in zip(slots, chosen, strict=True)
        ]
        engine, engine_note = _engine_gradients(
            layer, forward, names, values64, differentiated, params, params64, dout64, out64
        )

    # the real run, with the user's own values and dtypes: the layer keeps this state
    real_inputs = [_copy(v) for v in values]
    out_real = _call(forward, real_inputs, f"{label}.forward")
    after_forward = dict(_state(layer))
    forward_changed = {
        i
        for i in differentiated
        if isinstance(values[i], np.ndarray)
        and not np.array_equal(real_inputs[i], values[i], equal_nan=True)
    }
    args = _backward_args(backward, dout_real)
    try:
        result = _call(backward, args, f"{label}.backward")
    except LayerCheckError as exc:
        if (hint := _flatten_hint(values, differentiated, params)) is None:
            raise
        raise LayerCheckError(f"{exc}; {hint}") from exc.__cause__
    dout_changed = isinstance(dout_real, np.ndarray) and not np.array_equal(
        args[0], dout_real, equal_nan=True
    )
    returned = result if isinstance(result, (tuple, list)) else [result]
    aliased = {k for k, g in enumerate(returned) if args and _shares(g, args[0])}
    actuals = _input_gradients(result, [names[i] for i in differentiated])
    actuals += [_gradient_array(p.read_grad()) for p in params]
    repeated = _second_call(layer, forward, backward, values, dout_real,
                            [names[i] for i in differentiated], params)  # fmt: skip

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
        elif (problem := vanishing_step("eps", _on(mask, slots[k]), eps)) is not None:
            raise LayerCheckError(
                f"{label}: central differences cannot check {name}: {problem}; use a larger "
                "eps (the default is 1e-6) or inputs nearer 1"
            )
        row = Row(name, grad_name, kind, tuple(np.shape(value)), truth, checked=mask)
        _compare(row, *actuals[k], atol, rtol)
        if mask is not None:
            row.notes.append(
                f"checked at {int(mask.sum())} of its {mask.size} elements, chosen at random "
                "(sample=None checks all)"
            )
        if engine_differs:
            overflow = np.argwhere(~np.isfinite(engine[k]) & np.isfinite(numeric[k]))
            row.notes.append(
                f"the engine's gradient is {engine[k][tuple(overflow[0])]} at "
                f"{tuple(int(j) for j in overflow[0])} (forward overflows there, as np.exp of a "
                "large number does) while central differences are finite; checked against them"
                if len(overflow)
                else "the engine's gradient differs from central differences here (forward may "
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
            row.notes.append(
                "backward changed dout in place (as the book's Relu does: dout[self.mask] = 0): "
                "harmless when each dout goes to one layer, as in the book's networks; if "
                "another layer also reads that dout, copy it first: dx = dout.copy()"
            )
    _compare_second_call(rows, actuals, repeated)
    for j in range(1, min(len(returned), len(input_rows))):
        k = next((k for k in range(j) if _shares(returned[k], returned[j])), None)
        if k is not None:
            first, second = input_rows[k].grad_name, input_rows[j].grad_name
            input_rows[j].notes.append(
                f"{first} and {second} are one array: a later backward that changes its dout in "
                "place, as the book's Relu does, would change both; the book's AddLayer returns "
                "dout * 1 for each"
            )
    book_dout = dout_real is None  # backward() as the book calls it: dout = 1
    exact = None
    if book_dout and len(differentiated) < len(values) and input_rows and not input_rows[0].ok:
        exact = _softmax_with_delta(
            input_rows[0], names, values, differentiated, out_real, atol, rtol
        )
    with _preserved(layer):
        _explain(
            rows, values, differentiated, params, layer, backward, out_real, dout_real, atol, rtol
        )
    first = input_rows[0] if input_rows else None
    if exact is not None and first is not None and not first.ok and not first.diagnoses:
        n = exact.shape[0]
        a = first.actual.astype(np.float64) if first.actual is not None else None
        if (
            a is not None
            and a.shape == exact.shape
            and n > 1
            and _close(_on(first.checked, a), _on(first.checked, n * exact), atol, rtol)
        ):
            first.fail(
                f"off by a factor of the batch size: {first.grad_name} is y - t, {n} times "
                "the gradient of softmax with cross-entropy (divide by batch_size = "
                f"{first.name}.shape[0])"
            )
    labels = _label_problem(names, values, differentiated)
    if labels is not None:
        for row in input_rows:
            if not row.ok:
                row.fail(labels)

    rows += _gradientless_rows(layer, unchecked, after_forward, rows)
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


_BOOK_DELTA = 1e-7  # cross_entropy_error's log(y + delta) (4.2.2)


def _softmax_with_delta(
    row: Row,
    names: list[str],
    values: list[Any],
    differentiated: list[int],
    out_real: Any,
    atol: float,
    rtol: float,
) -> np.ndarray | None:
    """The book's SoftmaxWithLoss on confident wrong predictions: backward's (y - t) / N is the
    exact gradient of softmax with cross-entropy, but forward's log(y + 1e-7) is flat where y at
    the label is below 1e-7, so its own gradient is near 0 there. The layer is right."""
    x = values[differentiated[0]]
    labels = [v for n, v in zip(names, values, strict=True) if n in TARGET_NAMES]
    if len(labels) != 1 or not isinstance(x, np.ndarray) or x.ndim != 2 or row.actual is None:
        return None
    t, (n, classes) = np.asarray(labels[0]), x.shape
    if t.shape == x.shape:
        onehot = t.astype(np.float64)
    elif t.shape == (n,) and t.dtype.kind in "iu" and t.size and 0 <= t.min() <= t.max() < classes:
        onehot = np.eye(classes)[t]
    else:
        return None
    z = x.astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    picked = np.sum(y * onehot, axis=1)
    try:
        loss = float(np.asarray(out_real, dtype=np.float64))
    except (TypeError, ValueError):
        return None
    book = -float(np.sum(np.log(picked + _BOOK_DELTA))) / n
    exact = (y - onehot) / n
    if not math.isclose(loss, book, rel_tol=1e-4, abs_tol=1e-9):
        return None
    a = row.actual.astype(np.float64)
    if a.shape != exact.shape:
        return None
    if not _close(_on(row.checked, a), _on(row.checked, exact), atol, rtol):
        return exact
    flat = int(np.sum(picked < 100 * _BOOK_DELTA))
    row.ok = True
    row.notes.append(
        f"backward is the exact gradient of softmax with cross-entropy, (y - t) / batch_size; "
        f"forward's cross_entropy_error adds delta = 1e-7 inside the log, which makes it flat "
        f"where y at the label is about 1e-7 or less ({flat} of {n} samples here: very "
        "confident wrong predictions), so the gradient of forward itself is near 0 there; the "
        "layer is right (smaller inputs, e.g. x * 0.1, show no difference)"
    )
    return exact


def _flatten_hint(values: list[Any], differentiated: list[int], params: list[_Param]) -> str | None:
    """An image-shaped x given to an Affine written for 2-D input (5.6.2's version), or one
    sample as a 1-D x (np.dot(self.x.T, dout) then is no outer product)."""
    x = values[differentiated[0]] if differentiated else None
    if np.ndim(x) == 2 or not any(p.value.ndim == 2 for p in params):
        return None
    if np.ndim(x) == 1:
        return (
            f"x is one sample of shape {np.shape(x)}: an Affine takes a batch (N, features), "
            "and np.dot(self.x.T, dout) needs 2-D x: check it with x.reshape(1, -1)"
        )
    if np.ndim(x) < 2:
        return None
    return (
        f"x has {np.ndim(x)} axes {np.shape(x)}: an Affine takes 2-D input (N, features); "
        "flatten it in forward as the book's Affine does (self.original_x_shape = x.shape; "
        "x = x.reshape(x.shape[0], -1)) and return dx.reshape(*self.original_x_shape)"
    )


def _label_problem(names: list[str], values: list[Any], differentiated: list[int]) -> str | None:
    """What is odd about a loss layer's labels next to its scores x, in the book's terms."""
    x = values[differentiated[0]] if differentiated else None
    if not isinstance(x, np.ndarray) or x.ndim < 1:
        return None
    classes, rows = x.shape[-1], x.shape[:-1]
    for name, value in zip(names, values, strict=True):
        if name not in TARGET_NAMES or not isinstance(value, np.ndarray) or value.shape == x.shape:
            continue
        if value.shape != rows:
            reshape = (
                f" ({name}.reshape(-1) makes them so)" if value.size == math.prod(rows) else ""
            )
            return (
                f"labels {name} have shape {value.shape} beside x of shape {x.shape}: the book's "
                f"labels are class numbers of shape {rows}{reshape} or one-hot rows of shape "
                f"{x.shape}"
            )
        if value.dtype.kind == "f":
            return (
                f"labels {name} are class numbers stored as {value.dtype}; numpy indexes with "
                f"integers only: {name}.astype(int)"
            )
        if value.size and (value.min() < 0 or value.max() >= classes):
            return (
                f"labels {name} hold class numbers from {value.min()} to {value.max()}, but x "
                f"has {classes} classes (0 to {classes - 1})"
            )
    return None


def _takes(
    layer: Any,
    forward: Callable[..., Any],
    params: list[_Param],
    params64: list[np.ndarray],
    values64: list[Any],
) -> bool:
    """Whether forward runs on these inputs (the layer is left as it was)."""
    with _preserved(layer), _swapped(params, params64), _quiet():
        try:
            forward(*[_copy(v) for v in values64])
        except Exception:
            return False
    return True


def _refuse_nonfinite(label: str, arrays: list[tuple[str, np.ndarray]]) -> None:
    """NaN in x or W is not forward's doing: say where it is."""
    for what, array in arrays:
        if not np.all(np.isfinite(array)):
            where = _first_nonfinite(array)
            raise LayerCheckError(
                f"{label}: {what} holds {array[where]} at {where}: a gradient check needs "
                "finite values (a training run that diverged leaves NaN in the weights: make "
                "the layer again)"
            )


def _unlisted_arrays(layer: Any, params: list[_Param]) -> dict[str, np.ndarray]:
    """Float arrays on the layer that are not parameters check_layer found (self.W beside a
    self.grad_W rather than the book's self.dW): the ones forward keeps may be parameters."""
    listed = {id(p.value) for p in params}
    return {
        name: value
        for name, value in _state(layer).items()
        if isinstance(value, np.ndarray)
        and value.dtype.kind == "f"
        and value.size
        and id(value) not in listed
    }


def _used_arrays(
    layer: Any,
    unlisted: dict[str, np.ndarray],
    forward64: Callable[[], np.ndarray],
    out64: np.ndarray,
) -> dict[str, np.ndarray]:
    """Those of `unlisted` that forward kept and whose values change its output."""
    state = _state(layer)
    used = {}
    for name, value in unlisted.items():
        if state.get(name) is not value:  # forward assigned it: state such as self.x, self.out
            continue
        nudged = value.astype(np.float64) + 1e-3 * (1 + np.abs(value))
        state[name] = nudged
        try:
            changed = not np.allclose(forward64(), out64, rtol=1e-12, atol=0)
        except LayerCheckError:
            changed = False
        finally:
            state[name] = value
        if changed:
            used[name] = value
    return used


def _gradientless_rows(
    layer: Any, unchecked: dict[str, np.ndarray], after_forward: dict[str, Any], rows: list[Row]
) -> list[Row]:
    """A failing row for each array forward uses whose gradient backward seems to keep under
    another name (it sets an array of its shape: self.grad_W); the others are constants (a
    fixed Dropout mask, a scale), said in a note on the first row."""
    state = _state(layer)
    set_by_backward = [
        name
        for name, value in state.items()
        if isinstance(value, np.ndarray) and after_forward.get(name) is not value
    ]
    failing = []
    for name, value in unchecked.items():
        alike = [k for k in set_by_backward if state[k].shape == value.shape]
        if not alike:
            rows[0].notes.append(
                f"forward uses self.{name}, which has no gradient beside it (no self.d{name}): "
                f"taken as a constant, not checked; if it is a parameter, keep its gradient in "
                f"self.d{name} as the book does"
            )
            continue
        alike.sort(key=lambda k: name not in k)  # grad_W before another array of W's shape
        row = Row(name, f"d{name}", "parameter", value.shape, np.full(value.shape, np.nan))
        row.fail(
            f"forward uses {name}, but check_layer finds no gradient for it, so it is not "
            f"checked: keep it in self.d{name} as the book does (or a params / grads dict "
            f"pair); backward sets self.{alike[0]} of its shape: name it d{name}"
        )
        failing.append(row)
    return failing


def _second_call(
    layer: Any,
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    values: list[Any],
    dout_real: Any,
    names: list[str],
    params: list[_Param],
) -> list[tuple[np.ndarray | None, str | None]] | str:
    """The gradients of a second forward and backward of the same inputs, or what it raised;
    the layer is left as after the first call. In training each minibatch is such a call."""
    with _preserved(layer), _quiet():
        try:
            forward(*[_copy(v) for v in values])
            result = backward(*_backward_args(backward, dout_real))
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return _input_gradients(result, names) + [_gradient_array(p.read_grad()) for p in params]


def _compare_second_call(
    rows: list[Row],
    first: list[tuple[np.ndarray | None, str | None]],
    second: list[tuple[np.ndarray | None, str | None]] | str,
) -> None:
    """A gradient that changes from call to call (self.dW += ...) is right only once."""
    if isinstance(second, str):
        rows[0].fail(
            f"a second forward and backward of the same inputs raised {second}: the layer must "
            "work for every minibatch, not only the first"
        )
        return
    for row, (a, _), (b, _) in zip(rows, first, second, strict=True):
        if a is None or b is None or a.shape != b.shape:
            continue
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        if np.allclose(a64, b64, rtol=1e-9, atol=0, equal_nan=True):
            continue
        with np.errstate(all="ignore"):
            where = np.unravel_index(np.nanargmax(np.abs(a64 - b64)), a.shape) if a.ndim else ()
        where = tuple(int(j) for j in where)
        keeps = (
            f"does backward add to what the last call left ({row.grad_name} += ...)? Set it "
            f"instead: self.{row.grad_name} = ..."
            if row.kind == "parameter"
            else "does backward use something it kept from the last call?"
        )
        row.fail(
            f"a second forward and backward of the same inputs gives another {row.grad_name} "
            f"(at {where}: {float(a64[where]):.6g}, then {float(b64[where]):.6g}): {keeps}"
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
        if isinstance(result, tuple):  # (a list may be the numbers of dx)
            return [(None, (
                f"backward returned {len(result)} values for 1 input: return {wanted} alone "
                "(a parameter's gradient is kept on the layer, as the book's self.dW and self.db)"
            ))]  # fmt: skip
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
    """At a kink (relu's 0) any value between the one-sided slopes is a right gradient. Every
    failing element is examined (a Relu's input from an earlier ReLU has zeros by the dozen);
    a wrong backward costs two calls, stopping at its first element that is no kink."""
    for row, array in zip(rows, slots, strict=True):
        if row.ok or row.diagnoses or row.actual is None or row.actual.shape != array.shape:
            continue
        excess = mismatch(row.actual.astype(np.float64), row.expected, atol, rtol)
        failing = np.argwhere((excess > 0) if row.checked is None else (excess > 0) & row.checked)
        center = weighted()
        accepted = []
        for idx in map(tuple, failing):
            left, right = one_sided_slopes(weighted, center, array, idx, eps)
            if not kink_allows(left, right, float(row.actual[idx]), atol, rtol):
                break
            accepted.append((idx, left, right))
        if len(accepted) == len(failing):
            row.ok = True
            row.worst = tuple(int(j) for j in accepted[0][0])
            idx, left, right = accepted[0]
            more = (
                f" (and {len(accepted) - 1} more elements at kinks, each between its slopes)"
                if len(accepted) > 1
                else ""
            )
            row.notes.append(
                f"element {tuple(int(j) for j in idx)} is at a kink of forward (slope "
                f"{left:.4g} on the left, {right:.4g} on the right): any value between is "
                f"right there{more}"
            )


def _explain(
    rows: list[Row],
    values: list[Any],
    differentiated: list[int],
    params: list[_Param],
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
    flattens = _flatten_hint(values, differentiated, params)
    scalar_dout = (
        float(np.asarray(dout_real)) if np.ndim(dout_real) == 0 and dout_real is not None else None
    )
    for row in rows:
        if row.ok or row.actual is None:
            continue
        a, t = row.actual.astype(np.float64), row.expected
        close = closeness(row)
        if a.shape != t.shape:
            if row.kind == "parameter" and flattens is not None:
                row.fail(flattens)
            elif a.shape == (batch, *t.shape) and batch > 1 and close(a.sum(axis=0), t):
                is_dout = (
                    isinstance(dout_real, np.ndarray)
                    and dout_real.shape == a.shape
                    and np.allclose(a, dout_real, rtol=1e-12, atol=0)
                )
                row.fail(
                    "the sum over the batch is missing: add up the rows, as in "
                    + (
                        f"{row.grad_name} = np.sum(dout, axis=0)"
                        if is_dout
                        else f"np.sum(..., axis=0) of what {row.grad_name} is now"
                    )
                )
            elif a.ndim == 2 and a.shape == t.shape[::-1] and close(a.T, t):
                row.fail(_transposed(row))
            elif a.size == t.size and close(a.reshape(t.shape), t):
                row.fail(
                    "the right numbers in the wrong shape: "
                    + (
                        f"self.{row.grad_name} = {row.grad_name}.reshape(*self.{row.name}.shape)"
                        if row.kind == "parameter"
                        else f"return {row.grad_name}.reshape(*{row.name}.shape)"
                    )
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
            and a.ndim == 2
            and a.shape[0] == a.shape[1]
            and close(a.T, t)
            and not close(t.T, t)
        ):
            row.fail(_transposed(row))
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
        if not row.diagnoses and not np.any(am):
            where = "self." + row.grad_name if row.kind == "parameter" else row.grad_name
            row.fail(f"{row.grad_name} is all 0: does backward compute and set {where}?")
        norm = float(np.sum(tm * tm))
        if norm > 0 and not row.diagnoses:
            factor = float(np.sum(am * tm)) / norm
            if close(a, factor * t) and not math.isclose(factor, 1.0, rel_tol=rtol):
                if scalar_dout not in (None, 0.0) and math.isclose(
                    factor, 1 / scalar_dout, rel_tol=rtol
                ):
                    row.fail(
                        f"looks like backward ignores dout = {scalar_dout:g}: multiply by it "
                        f"({row.grad_name} = dout * ...; the book's loss layers skip it because "
                        "their dout is always 1)"
                    )
                elif (
                    len(differentiated) < len(values)  # a loss layer: it has labels
                    and np.ndim(first) == 1
                    and len(first) > 1
                    and math.isclose(factor, 1 / len(first), rel_tol=rtol)
                ):
                    row.fail(
                        f"{row.grad_name} is the true gradient divided by {len(first)}, the "
                        f"length of the one sample {inputs[0].name}: backward divides by "
                        "batch_size = t.shape[0], which for a 1-D t counts classes, not "
                        f"samples; the book's batches are 2-D: check with "
                        f"{inputs[0].name}.reshape(1, -1) and t.reshape(1, -1)"
                    )
                elif batch > 1 and math.isclose(factor, batch, rel_tol=rtol):
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
        if not row.diagnoses:
            _zeroed(row, atol, rtol)
    if len(inputs) == 1 and not inputs[0].ok and not inputs[0].diagnoses:
        _input_for_output(inputs[0], values[differentiated[0]], layer, backward, out_real,
                          dout_real, closeness(inputs[0]))  # fmt: skip
    for row in rows:
        if (
            not row.ok
            and row.actual is not None
            and all(d.startswith("wrong shape") for d in row.diagnoses)
        ):
            _book_formula(row, closeness(row), first, params, dout_real, out_real)


def _book_formula(
    row: Row,
    close: Callable[[np.ndarray, np.ndarray], bool],
    x: Any,
    params: list[_Param],
    dout: Any,
    out: Any,
) -> None:
    """Chapter 5's formulas, for a row no other diagnosis explains: the .T missing from an
    Affine's dx, its db summed along the wrong axis, a sigmoid's y(1 - y)."""
    a = row.actual.astype(np.float64)  # type: ignore[union-attr]
    weights = [p.value for p in params if p.value.ndim == 2]
    if isinstance(dout, np.ndarray) and dout.ndim == 2:
        d = dout.astype(np.float64)
        if row.kind == "input" and weights and weights[0].shape[1] == d.shape[1]:
            W = weights[0].astype(np.float64)
            if W.shape[0] == d.shape[1] and a.shape == row.expected.shape and close(a, d @ W):
                row.fail(
                    f"{row.grad_name} = dout · W: the .T is missing: {row.grad_name} = "
                    "np.dot(dout, self.W.T) (5.6.1: ∂L/∂X = ∂L/∂Y · Wᵀ)"
                )
                return
        if row.kind == "parameter" and len(row.shape) == 1 and row.shape[0] == d.shape[1]:
            for summed, how in ((d.sum(axis=1), "over axis 1"), (d.sum(), "over every element")):
                if a.shape == np.shape(summed) and np.allclose(a, summed, rtol=1e-9, atol=1e-12):
                    row.fail(
                        f"{row.grad_name} sums dout {how}; the batch is axis 0: "
                        f"{row.grad_name} = np.sum(dout, axis=0)"
                    )
                    return
    if row.kind == "input" and isinstance(x, np.ndarray) and np.shape(out) == x.shape:
        with np.errstate(all="ignore"):
            sigmoid = np.allclose(out, 1 / (1 + np.exp(-x.astype(np.float64))))
        if sigmoid:
            row.fail(
                "forward is the sigmoid, whose derivative is y(1 - y) with y its output (5.5.2): "
                f"{row.grad_name} = dout * (1.0 - self.out) * self.out"
            )


def _transposed(row: Row) -> str:
    """Rows and columns swapped: an Affine's dW = dout.T · x instead of xᵀ · dout."""
    how = (
        "an Affine's is self.dW = np.dot(self.x.T, dout) (5.6.1: ∂L/∂W = Xᵀ · ∂L/∂Y)"
        if row.kind == "parameter"
        else "a .T too many or too few, or the factors of an np.dot swapped?"
    )
    return f"{row.grad_name} is transposed: {row.grad_name}.T holds the true numbers; {how}"


def _zeroed(row: Row, atol: float, rtol: float) -> None:
    """Right wherever it is not 0, wrong only by zeros in the wrong places: a Relu's mask made
    from dout or from a later array instead of kept from forward's x."""
    a, t = row.actual.astype(np.float64), row.expected  # type: ignore[union-attr]
    checked = np.ones(a.shape, dtype=bool) if row.checked is None else row.checked
    wrong = checked & (mismatch(a, t, atol, rtol) > 0)
    zero_a, zero_t = np.abs(a) <= atol, np.abs(t) <= atol
    if not wrong.any():
        return
    if not np.all((zero_a ^ zero_t)[wrong]) or not np.any(checked & ~zero_a):
        return
    lost, leaked = wrong & zero_a, wrong & zero_t
    inverted = lost.any() and leaked.any() and not np.any(checked & ~zero_a & ~wrong)
    parts = []
    if lost.any():
        where = tuple(int(j) for j in np.argwhere(lost)[0])
        parts.append(
            f"backward gives 0 at {int(lost.sum())} element(s) where the true {row.grad_name} is "
            f"not 0 (at {where}: true {float(t[where]):.6g})"
        )
    if leaked.any():
        where = tuple(int(j) for j in np.argwhere(leaked)[0])
        parts.append(
            f"it is not 0 at {int(leaked.sum())} element(s) where the true one is 0 (at {where}: "
            f"backward {float(a[where]):.6g})"
        )
    what = "the opposite elements (an inverted mask?)" if inverted else "the wrong elements"
    row.fail(
        f"{' and '.join(parts)}: it zeroes {what}; a mask must be made in forward from its "
        "input and kept, as the book's Relu does: self.mask = (x <= 0) in forward, "
        "dx[self.mask] = 0 in backward"
    )


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
        reason = (
            textwrap.shorten(str(exc).splitlines()[0], 100, placeholder=" ...") if str(exc) else ""
        )
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
