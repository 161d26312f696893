"""The graph node: `Tensor` (and its scalar face `Value`) plus reverse-mode `backward`.

A tensor made by an operation remembers the op, its input tensors and the op's parameters; that
is the whole graph. Nothing points back from an input to its output and no closure captures a
node, so a graph is freed by reference counting as soon as the last tensor of it is dropped.
"""

from __future__ import annotations

import copy
import gc
import itertools
import math
import operator
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from autograd.anomaly import Anomaly
from autograd.grad_mode import state as _grad_state
from autograd.scope import _anywhere as _scopes_open
from autograd.scope import _open as _open_scope

if TYPE_CHECKING:
    from autograd.ops import Op

ArrayLike = Union["Tensor", np.ndarray, float, int, bool, Sequence[Any]]

_ids = itertools.count()
_NEVER = -(2**62)
# In-place writes are stamped on the memory, not on a tensor: views (t[0], t.reshape, t.T) and
# detach() share their input's array, so a write through any of them changes every tensor over
# that memory. Keyed by the id of the ndarray that owns the memory; an entry leaves with it.
_written: dict[int, int] = {}
_last_write = _NEVER  # the latest stamp: a node made after it cannot have been overwritten
_copies_made = False  # only a copy or a pickle can give ids that disagree with the graph


def as_float_array(data: Any, what: str = "Tensor") -> np.ndarray:
    """Convert user input to a float array: float32 stays float32, everything else float64."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ma.MaskedArray):
        raise TypeError(
            f"{what}: masked arrays are not supported (the mask would be ignored); fill the "
            "masked entries first, e.g. a.filled(0)"
        )
    if isinstance(data, np.ndarray):
        # a subclass such as np.matrix changes what * means: keep the plain array (shared)
        arr = data if type(data) is np.ndarray else np.asarray(data)
    elif isinstance(data, (str, bytes)):
        raise TypeError(f"{what}: expected numbers, got the string {data!r}")
    else:
        try:
            arr = np.asarray(data)
        except ValueError as exc:  # ragged nested lists
            raise ValueError(
                f"{what}: nested lists must be rectangular (every row the same length): {exc}"
            ) from None
    kind = arr.dtype.kind
    if kind == "f":
        if arr.dtype == np.float32 or arr.dtype == np.float64:
            return arr
        return arr.astype(np.float64)
    if kind in "biu":
        return arr.astype(np.float64)
    if kind == "c":
        raise TypeError(f"{what}: complex numbers are not supported (got dtype {arr.dtype})")
    if isinstance(data, int) and not isinstance(data, bool):  # past int64: numpy keeps an object
        try:
            return np.asarray(float(data))
        except OverflowError:
            raise too_large_integer(what, data) from None
    raise TypeError(
        f"{what}: expected numbers (a Python number, nested lists or a numeric array), "
        f"got {type(data).__name__} with dtype {arr.dtype}"
    )


def too_large_integer(what: str, value: int) -> OverflowError:
    """The error for a Python int past float64's range (numpy's own words name no operation)."""
    return OverflowError(
        f"{what}: the integer (about 10**{int(abs(value).bit_length() * 0.30103)}) is too large "
        "for float64 (the largest is about 1.8e+308); use a float, e.g. float('inf') if "
        "infinity is meant"
    )


def _check_name(name: Any, what: str) -> str | None:
    if name is not None and not isinstance(name, str):
        raise TypeError(f"{what}: name must be a string or None, got {type(name).__name__}")
    return name


# The slots a copy or a pickle carries; the creation id is new in a copy.
_STATE = ("_data", "_grad", "requires_grad", "name", "_op", "_x", "_y", "_params", "_released")


class Tensor:
    """An array that records the operations made with it, so `backward()` can apply the chain rule.

    `data` is the numpy array, always an `np.ndarray` (0-d for a single number); `grad` is
    filled by `backward()`. User-made tensors track gradients by default, as in micrograd and
    DeZero.
    """

    __slots__ = (
        "_data",
        "_grad",
        "requires_grad",
        "_name",
        "_op",
        "_x",
        "_y",
        "_params",
        "_id",
        "_released",
        "_meta",  # None, or rarely used extras: hooks, where anomaly mode saw it made
        "_scope",  # the innermost autograd.scope block open when it was made (autograd/scope.py)
        "__weakref__",
    )
    __array_priority__ = 1000

    requires_grad: bool

    def __init__(
        self, data: ArrayLike, *, requires_grad: bool = True, name: str | None = None
    ) -> None:
        what = type(self).__name__
        self._data = as_float_array(data, what)
        self._grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._name = _check_name(name, what)
        self._op: Op | None = None
        self._x: Tensor | None = None  # first input, if made by an op
        self._y: Tensor | None = None  # second input, if the op has two
        self._params: dict[str, Any] | None = None
        self._id = next(_ids)
        self._released = False
        self._meta: dict[str, Any] | None = None
        self._scope = _open_scope.region if _scopes_open else None

    @classmethod
    def _wrap(cls, data: Any, ident: int | None = None) -> Tensor:
        """Fast constructor for arrays the engine made itself (no conversion or checks).

        numpy hands back a scalar, not a 0-d array, for 0-d arithmetic; `.data` is always an
        array, so that `np.asarray(t)`, `t.data[...] = v` and `t.data.item()` work everywhere.
        """
        t = object.__new__(cls)
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t._grad = None
        t.requires_grad = False
        t._name = None
        t._op = None
        t._x = None
        t._y = None
        t._params = None
        t._id = next(_ids) if ident is None else ident
        t._released = False
        t._meta = None
        t._scope = _open_scope.region if _scopes_open else None
        return t

    # --- copies and pickles ---------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        self.grad  # noqa: B018  (a gradient kept as a float becomes its Value first)
        state = {"_scope": self._scope, **{slot: getattr(self, slot) for slot in _STATE}}
        extra = getattr(self, "__dict__", None)  # a subclass's own attributes (p.layer = ...)
        if extra:
            state["__dict__"] = dict(extra)
        return state

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        """The default deepcopy, one op at a time: it recursed once per op, so a graph about
        300 ops deep raised RecursionError. Inputs are copied before the tensors made from
        them, each through the default protocol with its inputs already in `memo`."""
        order: list[Tensor] = []  # the tensors to copy, inputs before what was made from them
        stack: list[tuple[Tensor, bool]] = [(self, False)]
        seen: set[int] = set()
        while stack:
            t, expanded = stack.pop()
            if expanded:
                order.append(t)
            elif id(t) not in memo and id(t) not in seen:
                seen.add(id(t))
                stack.append((t, True))
                stack.extend((p, False) for p in (t._x, t._y) if p is not None)
        for t in order:
            copied = object.__new__(type(t))
            memo[id(t)] = copied
            copied.__setstate__(copy.deepcopy(t.__getstate__(), memo))
        memo.setdefault(id(memo), []).extend(order)  # keeps the originals alive, as deepcopy does
        return memo[id(self)]

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A copy is a new tensor: a fresh creation id, so backward orders it with new work.

        Pickle and deepcopy restore a tensor's inputs before the tensor itself, so fresh ids
        keep inputs before outputs within a copied graph too, except around a cycle (a
        `create_graph` gradient refers back to its tensor): backward checks the order then.
        """
        global _copies_made
        for slot in _STATE:
            object.__setattr__(self, slot, state[slot])
        self._id = next(_ids)
        _copies_made = True
        self._meta = None  # hooks and anomaly notes stay with the original
        self._scope = state.get("_scope")  # the region marks the copy too
        if "__dict__" in state:
            vars(self).update(state["__dict__"])

    @property
    def name(self) -> str | None:
        """The tensor's name in drawings, explanations and traced code (None: unnamed)."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        # checked here too: drawings and explanations read it as text (t.name = 5 broke them)
        self._name = _check_name(value, "name")

    # --- graph introspection (used by the visualizer) -------------------------------------
    @property
    def op(self) -> Op | None:
        """The operation that produced this tensor, or None for a leaf or an untracked result."""
        return self._op

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        """The tensors this one was computed from (empty for a leaf)."""
        if self._y is not None:
            return (self._x, self._y)  # type: ignore[return-value]
        return () if self._x is None else (self._x,)

    @property
    def params(self) -> dict[str, Any]:
        """Non-tensor arguments of the producing op (axis, shape, index, ...)."""
        return self._params or {}

    @property
    def id(self) -> int:
        """Creation order: deterministic for a given program, so drawings are reproducible."""
        return self._id

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    # --- array-like attributes ------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The values, an `np.ndarray` shared with the tensor (writes bypass graph checks)."""
        return self._data

    @data.setter
    def data(self, value: ArrayLike) -> None:
        self._data = as_float_array(value, "data")

    @property
    def grad(self) -> Tensor | None:
        kind = type(self._grad)
        # left as a number by the float pass, or as an array by a compiled model's step
        if kind is float or kind is np.ndarray:
            with _storing_grads:  # not while another thread's backward adds to it
                if type(g := self._grad) is float:
                    self._grad = wrapped = Value._wrap(np.array(g))
                elif type(g) is np.ndarray:
                    self._grad = wrapped = Tensor._wrap(g)
                else:
                    return self._grad
                # made by the backward (or the step) that computed it, not in whatever block
                # the reader has open: drawn in no layer's cluster
                wrapped._scope = None
        return self._grad

    @grad.setter
    def grad(self, value: ArrayLike | None) -> None:
        if value is None:
            self._grad = None
            return
        g = value  # a number or array given for a Value's gradient makes a Value, as backward's
        if not isinstance(g, Tensor):
            g = type(self)._wrap(as_float_array(g, "grad"))
        if g.shape != self.shape:
            raise ValueError(
                f"grad: shape {g.shape} does not match the tensor's shape {self.shape}"
            )
        self._grad = g

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def item(self) -> float:
        if self._data.size != 1:
            raise ValueError(
                f"item: only a tensor with one element converts, shape is {self.shape}"
            )
        return float(self._data.reshape(()))

    def __float__(self) -> float:
        return self.item()

    def __int__(self) -> int:
        return int(self._one_number("int"))

    def __round__(self, ndigits: int | None = None) -> float | int:
        return round(self._one_number("round"), ndigits)

    def __format__(self, spec: str) -> str:
        """`f"{loss:.3f}"` formats the number of a one-element tensor; no spec prints repr."""
        if not spec:
            return str(self)
        return format(self._one_number(f"format '{spec}'"), spec)

    def _one_number(self, what: str) -> float:
        if self._data.size != 1:
            raise TypeError(
                f"{what}: needs a tensor with one element, this one has shape {self.shape}; "
                "use t.data (a numpy array) for elementwise work"
            )
        return float(self._data.reshape(()))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use (t.data > 0).any() or .all()"
            )
        return bool(self._data.reshape(()))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __contains__(self, value: Any) -> bool:
        """`2.0 in t` asks about the values, as numpy does (`==` on tensors is identity, which
        made every `in` False)."""
        return _values(value) in self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        data = self._data
        if dtype is None or np.dtype(dtype) == data.dtype:
            return data.copy() if copy else data
        if copy is False:
            raise ValueError(
                f"np.asarray(tensor, dtype={np.dtype(dtype)}, copy=False): the tensor holds "
                f"{data.dtype}, so a copy is needed"
            )
        return data.astype(dtype)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy functions meeting a Tensor: `arr -= t` updates `arr`; `np.exp(t)` is recorded.

        An update into a plain array (`p.data -= lr * p.grad`) uses the tensor's values; a
        ufunc that is one of the engine's ops runs as that op, so it is differentiated;
        comparisons and other questions about the values (`np.isnan`, `np.all`) give plain
        bool arrays; anything else is refused rather than silently leaving the graph.
        """
        out = kwargs.pop("out", None)
        arrays = [i._data if isinstance(i, Tensor) else i for i in inputs]
        if method == "__call__" and out is not None and not kwargs:
            if any(isinstance(o, Tensor) for o in out):
                raise TypeError(
                    f"np.{ufunc.__name__}(..., out=tensor): write into t.data, or use the "
                    "in-place operators (t += x) under no_grad()"
                )
            return ufunc(*arrays, out=out)
        if method == "__call__" and out is None and not kwargs:
            if ufunc in _COMPARISONS:  # `array < t`: the tensor is on the right
                try:
                    return ufunc(*arrays)
                except (ValueError, TypeError) as exc:
                    raise type(exc)(
                        f"np.{ufunc.__name__}: cannot compare shapes "
                        f"{' and '.join(str(np.shape(a)) for a in arrays)}; give arrays whose "
                        "shapes broadcast"
                    ) from None
            if ufunc is np.equal or ufunc is np.not_equal:  # `==` on tensors is identity
                return (ufunc is np.not_equal) != (inputs[0] is inputs[-1])
            op = _UFUNC_OPS.get(ufunc)
            if op is not None:
                return op(*inputs)
        if (
            out is None
            and method in ("__call__", "reduce")
            and ufunc not in (np.equal, np.not_equal)
            and {types[-1] for types in ufunc.types} - {"O"} == {"?"}  # (beside object loops)
        ):  # a question about the values (np.isnan(loss), np.all(t > 0)): bools, untracked
            return getattr(ufunc, method)(*arrays, **kwargs)
        name = f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method}"
        book = _BOOK_UFUNCS.get(ufunc, "")
        raise TypeError(
            f"{name} on a Tensor is not recorded for backward: use the tensor's operators and "
            f"methods (t.exp(), t @ W, t.sum()){book}, or {name}(t.data) for an untracked array"
        )

    def __array_function__(
        self, func: Any, types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """numpy functions meeting a Tensor: `np.dot` (the book's) is `@`; `np.sum(t)` calls
        `t.sum()`; a function that would drop a tensor needing a gradient from the graph
        (`np.concatenate`, `np.where`, ...) is refused while recording, since its result is a
        plain array and that tensor would silently get no gradient. Results that are not
        float arrays (`np.allclose`, `np.shape`, `np.argmax`), new arrays of the same shape
        (`np.zeros_like`) and snapshots (`np.copy`) are returned as numpy gives them.
        """
        if func is np.dot and not kwargs:
            return _dot(*args)
        result = func._implementation(*args, **kwargs)
        if (
            _grad_state.enabled
            and func not in _UNTRACKED_BY_DESIGN
            and _holds_floats(result)
            and _needs_grad(args, kwargs)
        ):
            raise TypeError(
                f"np.{func.__name__} on a Tensor that requires grad is not recorded for "
                "backward, so that tensor would get no gradient: use the tensor's operators "
                "and methods (t @ W, t.sum(), t.reshape(...), t * mask), or "
                f"np.{func.__name__}(t.data, ...) for an untracked array"
            )
        return result

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self._data

    def detach(self) -> Tensor:
        """The same data as a new leaf that tracks nothing."""
        return type(self)._wrap(self._data)

    def __repr__(self) -> str:
        body = np.array2string(
            self._data, precision=8, suppress_small=True, separator=", ", threshold=20
        )
        parts = [body]
        if self.ndim > 0 and self.size > 20:
            parts.append(f"shape={self.shape}")
        if self.dtype != np.float64:
            parts.append(f"dtype={self.dtype}")
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        if self._op is not None:
            parts.append(f"op={self._op.name}")
        if self._grad is not None:
            g = np.array2string(
                self.grad._data,  # type: ignore[union-attr]
                precision=8,
                suppress_small=True,
                separator=", ",
                threshold=20,
            )
            parts.append(f"grad={g}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # --- operators (each delegates to one op of autograd.ops) -----------------------------
    def __add__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.ADD, self, other)

    def __radd__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.ADD, other, self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.SUB, self, other)

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.SUB, other, self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.MUL, self, other)

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.MUL, other, self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.DIV, self, other)

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.DIV, other, self)

    def __pow__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.POW, self, other)

    def __rpow__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.POW, other, self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.MATMUL, self, other)

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return _ops.binary(_ops.MATMUL, other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # comparisons read values and record nothing: `if loss < 0.1:`, masks such as `t > 0`
    def __lt__(self, other: ArrayLike) -> Any:
        return _compare(operator.lt, "<", self, other)

    def __le__(self, other: ArrayLike) -> Any:
        return _compare(operator.le, "<=", self, other)

    def __gt__(self, other: ArrayLike) -> Any:
        return _compare(operator.gt, ">", self, other)

    def __ge__(self, other: ArrayLike) -> Any:
        return _compare(operator.ge, ">=", self, other)

    __hash__ = object.__hash__  # `==` stays identity, so tensors can key dicts and sets

    # --- in-place updates (parameter steps) ----------------------------------------------
    def __iadd__(self, other: ArrayLike) -> Tensor:
        return self._update(np.add, "+=", other)

    def __isub__(self, other: ArrayLike) -> Tensor:
        return self._update(np.subtract, "-=", other)

    def __imul__(self, other: ArrayLike) -> Tensor:
        return self._update(np.multiply, "*=", other)

    def __itruediv__(self, other: ArrayLike) -> Tensor:
        return self._update(np.true_divide, "/=", other)

    def __ipow__(self, other: ArrayLike) -> Tensor:
        return self._update(np.power, "**=", other)

    def __imatmul__(self, other: ArrayLike) -> Tensor:
        return self._update(np.matmul, "@=", other)

    def _update(self, ufunc: np.ufunc, symbol: str, other: ArrayLike) -> Tensor:
        """`p -= lr * p.grad`: change the values in place, as PyTorch does.

        While recording, a tensor that requires grad is not changed in place: a leaf refuses
        (its gradient would be wrong), a computed tensor gets the new value as a new node
        (`y += 1` is `y = y + 1`, differentiated as such, of y's shape and dtype as an update
        in place keeps them). Under `no_grad()` every tensor is
        updated in place and stamped, so a graph that still needs the old values refuses to
        backpropagate through them.
        """
        if self.requires_grad and _grad_state.enabled:
            if self._op is None:
                if self._meta is not None and "traced input" in self._meta:
                    raise _traced_input_changed(self, symbol)
                raise RuntimeError(
                    f"{symbol}: {_describe(self)} is a leaf that requires grad; changing it in "
                    "place while operations are recorded would break its gradient. Update "
                    f"parameters under no_grad(): `with no_grad(): p {symbol} ...`"
                )
            result = {
                np.add: _ops.add,
                np.subtract: _ops.sub,
                np.multiply: _ops.mul,
                np.true_divide: _ops.div,
                np.power: _ops.pow,
                np.matmul: _ops.matmul,
            }[ufunc](self, other)
            # as the update in place below (and numpy's): self's shape and dtype, so that
            # code means the same recorded or not (a traced program records everything)
            if result._data.shape != self._data.shape:
                raise ValueError(
                    f"{symbol}: cannot update {_describe(self)} in place with a value of shape "
                    f"{np.shape(_values(other))}: the result would have shape {result.shape}; "
                    f"write a new tensor instead (h = h {symbol[:-1]} value)"
                )
            return result if result.dtype == self.dtype else _ops.astype(result, self.dtype)
        values = _values(other)
        if not isinstance(values, (np.ndarray, float, int)):  # lists; strings, complex refused
            values = as_float_array(values, symbol)
        self._check_writeable(symbol)
        try:
            ufunc(self._data, values, out=self._data, casting="same_kind")
        except (ValueError, TypeError) as exc:
            shape = np.shape(values)
            raise ValueError(
                f"{symbol}: cannot update {_describe(self)} in place with a value of shape "
                f"{shape}: {exc}"
            ) from None
        _stamp_write(self._data)
        return self

    def __setitem__(self, index: Any, value: ArrayLike) -> None:
        """`t[mask] = 0`, and `W[0] -= 1` under no_grad(): write into the values in place.

        Stamped like `+=`, so a graph that still needs the old values refuses to backpropagate.
        While recording, a tensor that requires grad (on either side) refuses: the graph would
        not see the assignment.
        """
        if _grad_state.enabled and (
            self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)
        ):
            if self._meta is not None and "traced input" in self._meta:
                raise _traced_input_changed(self, "t[...] =")
            raise RuntimeError(
                f"t[...] = value: {_describe(self)} or the value requires grad, and item "
                "assignment is not recorded for backward; do it under no_grad() (parameter "
                "updates), or build the result with operations (t * mask)"
            )
        values = value._data if isinstance(value, Tensor) else as_float_array(value, "t[...] =")
        self._check_writeable("t[...] =")
        index = _ops._plain_index(index)
        try:
            if isinstance(value, Tensor) and np.may_share_memory(values, self._data):
                _refuse_overlap(self._data[index], values)
            self._data[index] = values
        except (ValueError, IndexError) as exc:
            raise type(exc)(
                f"t[{index!r}] = value of shape {values.shape}: {exc} ({_describe(self)})"
            ) from None
        _stamp_write(self._data)

    def _check_writeable(self, what: str) -> None:
        if not self._data.flags.writeable:
            raise ValueError(
                f"{what}: {_describe(self)} holds a read-only array (made from a read-only or "
                "broadcast numpy array, e.g. np.broadcast_to), so it cannot change in place; "
                "make the tensor from a copy: Tensor(np.array(values))"
            )

    # --- methods --------------------------------------------------------------------------
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def softplus(self) -> Tensor:
        return _ops.softplus(self)

    def sum(
        self,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
        **numpy_args: Any,
    ) -> Tensor:
        _refuse_numpy_args("sum", numpy_args)
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(
        self,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
        **numpy_args: Any,
    ) -> Tensor:
        _refuse_numpy_args("mean", numpy_args)
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(
        self,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
        **numpy_args: Any,
    ) -> Tensor:
        _refuse_numpy_args("max", numpy_args)
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        elif len(shape) == 1 and isinstance(shape[0], np.ndarray):  # numpy's x.reshape(a.shape)
            shape = tuple(shape[0].reshape(-1))
        return _ops.reshape(self, shape)  # type: ignore[arg-type]

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes or None)  # type: ignore[arg-type]

    @property
    def T(self) -> Tensor:
        return _ops.transpose(self, None)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.softmax(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.log_softmax(self, axis=axis)

    # --- reverse mode ---------------------------------------------------------------------
    def backward(
        self,
        grad: ArrayLike | None = None,
        *,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        detect_anomaly: bool | None = None,
    ) -> None:
        """Run the chain rule from this tensor back to every tensor it depends on.

        Every tensor that requires grad accumulates into `.grad` (leaves across calls, as in
        PyTorch; intermediates too, so a drawing can show the gradient on every edge). The graph
        is marked used afterwards: going through it again needs `retain_graph=True`. With
        `create_graph=True` the gradients are themselves recorded, for higher derivatives, and
        the graph is kept (the gradients' graph refers to it), as in PyTorch.
        `detect_anomaly=True` stops at the first NaN/Inf gradient (default: on inside
        `autograd.detect_anomaly()`).
        """
        _backpropagate(self, grad, retain_graph, create_graph, None, detect_anomaly)

    def register_hook(self, fn: Callable[[Tensor], ArrayLike | None]) -> RemovableHandle:
        """Call `fn(grad)` when backward has this tensor's gradient (all branches summed).

        `fn` may return a replacement (same shape), which is stored and passed on; returning
        None keeps the gradient. The handle's `.remove()` takes the hook off again.
        """
        if not callable(fn):
            raise TypeError(f"register_hook: expected a function of the gradient, got {fn!r}")
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: this tensor does not require grad, so backward never reaches it"
            )
        if self._meta is None:
            self._meta = {}
        hooks = self._meta.setdefault("hooks", {})
        handle = RemovableHandle(hooks)
        hooks[handle.key] = fn
        return handle


_COMPARISONS = (np.less, np.less_equal, np.greater, np.greater_equal)


def _values(other: Any) -> Any:
    return other._data if isinstance(other, Tensor) else other


def _compare(compare: Callable[[Any, Any], Any], symbol: str, t: Tensor, other: Any) -> Any:
    try:
        return compare(t._data, _values(other))
    except (ValueError, TypeError) as exc:  # numpy's words name neither the tensor nor `<`
        arrays = isinstance(other, (Tensor, np.ndarray))
        kind = f"shape {other.shape}" if arrays else type(other).__name__
        raise (ValueError if isinstance(exc, ValueError) else TypeError)(
            f"{symbol}: cannot compare {_describe(t)} with {kind}; compare with a number or "
            "an array whose shape broadcasts with it"
        ) from None


# numpy functions whose result is not meant to carry a gradient: arrays shaped like the
# tensor (the book's `grad = np.zeros_like(x)`) and explicit snapshots
_UNTRACKED_BY_DESIGN = frozenset(
    (np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.copy)
)


def _traced_input_changed(t: Tensor, what: str) -> RuntimeError:
    """The data `autograd.trace` gives fn records, so that the program reads each new input."""
    return RuntimeError(
        f"{what}: {_describe(t)} is an input of autograd.trace, which records operations: a "
        "program never writes into the arrays it is given. Write the change as an operation "
        "on a new tensor, e.g. x = x / 255 or x = x * mask"
    )


def _refuse_overlap(target: np.ndarray, values: np.ndarray) -> None:
    """A tensor view of the same memory, other than the target itself (`x[0] += 1`), would be
    read after it is overwritten: `t[0], t[1] = t[1], t[0]` and shuffling a tensor duplicate
    rows (as with numpy views), so refuse rather than corrupt."""
    same = (
        target.__array_interface__["data"][0] == values.__array_interface__["data"][0]
        and target.shape == values.shape
        and target.strides == values.strides
    )
    if not same:
        raise ValueError(
            "the value is a view of this tensor's own memory, which may be overwritten "
            "before it is read (e.g. t[0], t[1] = t[1], t[0], or shuffling a tensor); assign "
            "a copy (t[i] = t[j].data.copy()) or reorder by indexing: t[rng.permutation(len(t))]"
        )


def _dot(a: ArrayLike, b: ArrayLike) -> Tensor:
    """`np.dot(x, W)` as an engine op: `*` for a 0-d operand, `@` where the two agree."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return _ops.mul(a, b)
    if np.ndim(b) > 2:
        raise TypeError(
            f"np.dot of shapes {np.shape(a)} and {np.shape(b)}: for a right operand with more "
            "than 2 dimensions np.dot is not matmul; use a @ b (which batches) on Tensors"
        )
    return _ops.matmul(a, b)


def _needs_grad(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a tensor that requires grad is among the arguments (or in a list of them)."""
    for arg in (*args, *kwargs.values()):
        items = arg if isinstance(arg, (list, tuple)) else (arg,)
        if any(isinstance(t, Tensor) and t.requires_grad for t in items):
            return True
    return False


def _holds_floats(result: Any) -> bool:
    """A float array or number (or a list of them): values that have left the graph."""
    items = result if isinstance(result, (list, tuple)) else (result,)
    return any(isinstance(r, (np.ndarray, np.generic)) and r.dtype.kind in "fc" for r in items)


def _describe(t: Tensor) -> str:
    named = f"'{t.name}' " if t.name else ""
    return f"the tensor {named}of shape {t.shape}"


def _refuse_numpy_args(op: str, numpy_args: dict[str, Any]) -> None:
    """`np.sum(t)` calls `t.sum(axis=None, dtype=None, out=None)`: accept what changes nothing."""
    used = sorted(k for k, v in numpy_args.items() if v is not None)
    if used:
        raise TypeError(
            f"{op}: {', '.join(used)}= is not supported on a Tensor; "
            f"use t.{op}(axis, keepdims) (or np.{op}(t.data, ...) for a plain array)"
        )


def next_id() -> int:
    """A fresh creation id: every tensor made after this call has a larger id.

    Code that marks regions of a graph (the visualizer's `viz.group`) brackets them with it.
    """
    return next(_ids)


def _seed_gradient(root: Tensor, grad: ArrayLike | None) -> Tensor:
    kind = Value if type(root) is Value else Tensor
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"backward: the output has shape {root.shape}, not a single number; pass "
                "grad= (an array of that shape, the upstream gradient) or reduce it first, "
                "e.g. y.sum().backward()"
            )
        shape, dtype = root._data.shape, root._data.dtype
        # (np.ones is a Python function: several times slower for one number)
        return kind._wrap(np.ones(shape, dtype) if shape else np.array(1, dtype))
    g = grad if isinstance(grad, Tensor) else kind._wrap(as_float_array(grad, "backward"))
    if g._data.dtype != root._data.dtype:
        g = kind._wrap(np.asarray(g._data, dtype=root._data.dtype))
    if g.shape != root.shape:
        raise ValueError(
            f"backward: grad has shape {g.shape} but the output has shape {root.shape}"
        )
    return g


def _reverse_topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor `root` depends on that requires grad, outputs before their inputs.

    A tensor is always created after its inputs, so descending creation ids are a topological
    order: collect the reachable nodes (iteratively, so depth is free) and sort by id. Copies
    can break that rule (see `__setstate__`); then the order comes from the graph itself.
    """
    seen = {root._id}  # creation ids: a subclass may define == and hash() by value
    nodes = [root]
    for node in nodes:  # the list grows as it is walked: each node is visited once
        x, y = node._x, node._y
        if x is not None and x.requires_grad and x._id not in seen:
            seen.add(x._id)
            nodes.append(x)
        if y is not None and y.requires_grad and y._id not in seen:
            seen.add(y._id)
            nodes.append(y)
    nodes.sort(key=_creation_id, reverse=True)
    if _copies_made and not _ids_follow_graph(nodes):
        return _depth_first_order(root)
    return nodes


_creation_id = operator.attrgetter("_id")


def _ids_follow_graph(nodes: list[Tensor]) -> bool:
    return all(
        p is None or not p.requires_grad or p._id < t._id for t in nodes for p in (t._x, t._y)
    )


def _depth_first_order(root: Tensor) -> list[Tensor]:
    """The same set of nodes, outputs before inputs, from a depth-first walk (no ids used)."""
    done: set[int] = set()
    postorder: list[Tensor] = []
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            postorder.append(node)
            continue
        if id(node) in done:
            continue
        done.add(id(node))
        stack.append((node, True))
        for parent in (node._x, node._y):
            if parent is not None and parent.requires_grad and id(parent) not in done:
                stack.append((parent, False))
    postorder.reverse()
    return postorder


def _backpropagate(
    root: Tensor,
    grad: ArrayLike | None,
    retain_graph: bool | None,
    create_graph: bool,
    targets: Sequence[Tensor] | None,
    detect_anomaly: bool | None = None,
    steps: list[tuple[Tensor, Tensor, list[tuple[int, Tensor, Tensor]]]] | None = None,
) -> dict[int, Tensor]:
    """The engine: one pass over the graph in reverse topological order.

    With `targets=None` gradients accumulate into `.grad`; otherwise nothing is stored and the
    gradients of `targets` are returned by id (for `autograd.grad`). A `steps` list receives,
    per op node in the order run, (node, its gradient, [(input index, what that edge sent, the
    input's running sum)]): `autograd.backward_steps` shows the pass from this very loop. Such
    a pass only reads the graph, so it neither needs nor uses up `retain_graph`.
    """
    anomaly = _grad_state.anomaly
    if detect_anomaly is not None:
        anomaly = (anomaly or Anomaly()) if detect_anomaly else None
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad (it was made from constants or "
            "inside no_grad(), or is a value kept without its graph, such as net.lastLayer.loss "
            "after net.gradient(x, t)); create inputs with requires_grad=True, or compute the "
            "loss again: loss = net.lastLayer(net(x), t)"
        )
    seed = _seed_gradient(root, grad)
    wanted = None if targets is None else {id(t) for t in targets}
    pending: dict[int, Tensor] = {root._id: seed}  # by creation id, as in the order
    found: dict[int, Tensor] = {}
    stored = {id(seed._data)}  # arrays already handed out as a .grad in this pass
    # .grad and the used-up marks change only when the whole pass has worked: a pass that
    # raises (a used-up or changed graph, a bad hook, anomaly mode) leaves both as they were
    stores: list[tuple[Tensor, Tensor]] = []
    used_up: list[Tensor] = []
    sum_to, astype = _ops.sum_to, _ops.astype
    release = not (create_graph if retain_graph is None else retain_graph)
    # The pass makes no reference cycles, so the cyclic collector has nothing to find; pausing
    # it spares rescans of a large graph (a third of the time of a deep chain's backward).
    collector_was_on = gc.isenabled()
    recording_was = _grad_state.enabled
    gc.disable()
    _grad_state.enabled = create_graph
    try:
        order = _reverse_topological_order(root)
        # a plain first-order pass into .grad: the float pass may do it (it says if it did)
        plain = grad is None and targets is None and steps is None and anomaly is None
        if plain and not create_graph and _backpropagate_floats(root, order, release):
            return found
        for node in order:
            g = pending.pop(node._id, None)
            if g is None:
                continue
            if node._meta is not None and "hooks" in node._meta:
                if steps is None:  # a parameter's mark is of its last pass (a replay keeps it)
                    node._meta.pop("anomaly", None)
                arrived, g = g, _run_hooks(node, g, stored)
                if anomaly is not None and g is not arrived:
                    anomaly.check_hook(node, arrived._data, g._data)
            op = node._op
            if wanted is None:
                if op is None and not create_graph:  # the user may update a leaf's .grad in place
                    g = _owned(g, stored, type(node))
                stored.add(id(g._data))
                stores.append((node, g))
            elif id(node) in wanted:
                if not create_graph:  # each result an array of its own, as .grad is
                    g = _owned(g, stored, type(node))
                    stored.add(id(g._data))
                found[id(node)] = g
            if op is None:
                continue
            if node._released and steps is None:
                if _written_after(node, node._id):  # updated in place: used as a parameter
                    raise RuntimeError(
                        f"backward: {_describe(node)} was computed (by '{op.name}') and then "
                        f"changed in place like a parameter; make a parameter {_FROM_ARRAY}"
                    )
                raise RuntimeError(
                    f"backward: the graph through '{op.name}' (node {node._id}) was "
                    "already used by an earlier backward; pass retain_graph=True to the "
                    "first backward to go through it again"
                )
            if node._id < _last_write and _overwritten(node):
                _refuse_changed(node)
            if release and steps is None:
                used_up.append(node)
            x, y, params = node._x, node._y, node._params
            inputs = (x,) if y is None else (x, y)
            sent: list[tuple[int, Tensor, Tensor]] | None = None if steps is None else []
            for index, parent in enumerate(inputs):
                if not parent.requires_grad:
                    continue
                vjp = op.vjps[index]
                if params:
                    pg = vjp(g, node, *inputs, **params)
                else:  # (a call without * is measurably faster)
                    pg = vjp(g, node, x) if y is None else vjp(g, node, x, y)
                data, target = pg._data, parent._data
                if anomaly is not None:
                    anomaly.check_gradient(node, index, data, g._data)
                if data.shape != target.shape:
                    pg = sum_to(pg, target.shape)
                if data.dtype is not target.dtype and data.dtype != target.dtype:
                    pg = astype(pg, target.dtype)
                key = parent._id
                prev = pending.get(key)
                pending[key] = total = pg if prev is None else prev + pg
                if sent is not None:
                    sent.append((index, pg, total))
            if sent is not None:
                steps.append((node, g, sent))  # type: ignore[union-attr]
        with _storing_grads:
            for node, g in stores:
                node._grad = g if node._grad is None else node.grad + g
        for node in used_up:
            node._released = True
    finally:
        _grad_state.enabled = recording_was
        if collector_was_on:
            gc.enable()
    return found


def _backpropagate_floats(root: Tensor, order: list[Tensor], release: bool) -> bool:
    """The same pass as `_backpropagate`'s loop, on Python floats, for a graph of `Value`s.

    Each op's VJPs come from the op table as functions of floats (`autograd/floats.py`),
    so no Tensor is made per edge. Only for a plain first-order pass (no create_graph, hooks,
    anomaly mode, steps or autograd.grad) over float64 single numbers; anything else, an
    overwritten input, a used-up graph, a gradient that is not finite (numpy would warn), or
    np.seterr(under=...) asking to hear of underflows returns False having changed nothing,
    and the general pass runs (and raises, or warns, as it always does). Gradients are kept
    as floats and become Values when `.grad` is read.
    """
    if type(root) is not Value or np.geterr()["under"] != "ignore":
        return False  # (Python's floats never report an underflow; numpy may be asked to)
    pending: dict[int, float] = {root._id: 1.0}  # by creation id, as in the order
    nodes: list[Tensor] = []
    grads: list[float] = []
    known: dict[Op, tuple[Callable[..., float], ...] | None] = {}  # each op's float VJPs
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            for node in order:
                g = pending.pop(node._id, None)
                if g is None:
                    continue
                data = node._data
                if type(node) is not Value or data.dtype is not _FLOAT64 or data.ndim:
                    return False
                meta = node._meta
                if meta is not None and (meta.get("hooks") or "anomaly" in meta):
                    return False  # (hooks all removed: none; a hook's old mark: cleared there)
                nodes.append(node)
                grads.append(g)
                op = node._op
                if op is None:
                    continue
                if node._released or node._params is not None:
                    return False
                vjps = known.get(op)
                if vjps is None:
                    vjps = known[op] = _float_vjps(op)
                    if vjps is None:
                        return False
                if node._id < _last_write and _overwritten(node):
                    return False
                x, y = node._x, node._y
                # an input that needs no gradient is not visited: check it is float64 here
                # (the general pass does pow's VJP with a float32 constant in float32)
                if x.requires_grad:  # type: ignore[union-attr]
                    share = vjps[0](g, node, x, y)
                    prev = pending.get(key := x._id)  # type: ignore[union-attr]
                    pending[key] = share if prev is None else prev + share
                elif x._data.dtype is not _FLOAT64:  # type: ignore[union-attr]
                    return False
                if y is None:
                    continue
                if y.requires_grad:
                    share = vjps[1](g, node, x, y)
                    prev = pending.get(key := y._id)
                    pending[key] = share if prev is None else prev + share
                elif y._data.dtype is not _FLOAT64:
                    return False
    except (ZeroDivisionError, OverflowError, ValueError, FloatingPointError):
        return False  # Python or numpy refused where numpy's default gives inf or nan
    if not math.isfinite(sum(grads)):  # a NaN or inf (or a sum that overflows): numpy warns
        return False
    with _storing_grads:
        for node, g in zip(nodes, grads, strict=True):
            before = node._grad
            if before is None:
                node._grad = g
            elif type(before) is float and (total := before + g) - total == 0.0:
                node._grad = total
            else:  # a Tensor stored earlier, or a sum that is not finite: added as the
                node._grad = node.grad + Value._wrap(np.array(g))  # general pass adds
            if node._op is not None:
                node._released = release
    return True


# Backward passes in several threads may share a leaf (each thread's graph built from common
# parameters): adding into a `.grad` is a read and a write, so one thread at a time.
_storing_grads = threading.RLock()  # re-entered: a `.grad` read while storing


class RemovableHandle:
    """What `register_hook` returns: `.remove()` takes the hook off (twice is harmless)."""

    __slots__ = ("_hooks", "key")
    _keys = itertools.count()

    def __init__(self, hooks: dict[int, Any]) -> None:
        self._hooks = hooks
        self.key = next(RemovableHandle._keys)

    def remove(self) -> None:
        self._hooks.pop(self.key, None)


def _run_hooks(node: Tensor, g: Tensor, stored: set[int]) -> Tensor:
    """Each hook's replacement is passed on; its array may be the user's own, so it is marked
    as handed out (`stored`): a leaf's `.grad` is then a copy, safe to change in place."""
    for fn in list(node._meta["hooks"].values()):  # type: ignore[index]
        replaced = fn(g)
        if replaced is None:
            continue
        new = (
            replaced
            if isinstance(replaced, Tensor)
            else Tensor._wrap(as_float_array(replaced, "hook"))
        )
        if new.shape != node.shape:
            raise ValueError(
                f"hook {getattr(fn, '__name__', fn)!r} returned a gradient of shape {new.shape} "
                f"for {_describe(node)}; return one of the same shape, or None to keep it"
            )
        if new._data.dtype != node._data.dtype:
            new = Tensor._wrap(new._data.astype(node._data.dtype))
        stored.add(id(new._data))
        g = new
    return g


def _owner(data: np.ndarray) -> np.ndarray:
    """The ndarray that owns `data`'s memory (numpy points a view of a view at the owner)."""
    while isinstance(data.base, np.ndarray):
        data = data.base
    return data


def _stamp_write(data: np.ndarray) -> None:
    global _last_write
    owner = data if data.base is None else _owner(data)
    key = id(owner)
    if key not in _written:
        weakref.finalize(owner, _written.pop, key, None).atexit = False
    _written[key] = _last_write = next(_ids)


def _written_after(t: Tensor, when: int) -> bool:
    return _written.get(id(_owner(t._data)), _NEVER) > when


def _overwritten(node: Tensor) -> bool:
    """Whether the memory of `node` or of one of its inputs was written in place since `node`
    was recorded (its VJP would read the new values)."""
    return any(_written_after(t, node._id) for t in (node, *node.inputs))


def _refuse_changed(node: Tensor) -> None:
    unique = {id(t): t for t in (node, *node.inputs)}.values()  # x * x names x once
    changed = [t for t in unique if _written_after(t, node._id)]
    what = " and ".join(
        ("its output " if t is node else "its input ") + _describe(t) for t in changed
    )
    hint = f" If it is a parameter, make it {_FROM_ARRAY}" if node in changed else ""
    raise RuntimeError(
        f"backward: '{node._op.name}' (node {node._id}) needs {what}, which was changed in place "
        "(+=, -=, *=, /= or item assignment, on it or on a tensor sharing its memory such as "
        "t[0], t.T or t.detach()) after the operation was recorded, so its gradient would use "
        f"the new values. Compute the forward again after the update, or update a copy.{hint}"
    )


# a tensor made by an op and then trained: backward goes on through it into what it was made from
_FROM_ARRAY = (
    "from the scaled array, W = Tensor(np.random.randn(3, 2) * 0.01), not by an operation on a "
    "tensor (Tensor(np.random.randn(3, 2)) * 0.01, or .T, is computed, so every backward goes "
    "through it again)"
)


def _owned(g: Tensor, stored: set[int], kind: type[Tensor]) -> Tensor:
    """`g` itself when its array is writable, its own and not handed out yet, else a copy.

    Identity VJPs (add, reshape) pass one array along to several tensors and reductions
    produce read-only broadcast views; a leaf's gradient must be safe to change in place. A
    `Value`'s gradient is a `Value` (`a.grad` prints as a number).
    """
    data = g._data
    if data.base is None and id(data) not in stored:
        # numpy made it for this gradient alone (views and broadcasts have a base)
        return g if type(g) is kind else kind._wrap(data)
    return kind._wrap(np.array(data, copy=True))


def grad(
    output: Tensor,
    inputs: Tensor | Sequence[Tensor],
    grad_output: ArrayLike | None = None,
    *,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> tuple[Tensor, ...]:
    """Gradients of `output` with respect to `inputs`, returned instead of stored in `.grad`.

    `inputs` is one tensor or a sequence of them; the result is always a tuple, one gradient per
    input (as in PyTorch). An input the output does not depend on gets a zero gradient.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__}")
    found = _backpropagate(output, grad_output, retain_graph, create_graph, targets=inputs)
    results: list[Tensor] = []
    for t in inputs:
        g = found[id(t)] if id(t) in found else type(t)._wrap(np.zeros_like(t._data))
        if not create_graph and any(r._data is g._data for r in results):
            g = type(g)._wrap(g._data.copy())  # one input asked for twice: an array each
        results.append(g)
    return tuple(results)


class Value(Tensor):
    """A single number in the graph — the book's scalar nodes (apple, orange, tax).

    It is a 0-d `Tensor`, so it mixes freely with arrays: `Value(100) * Tensor([1, 2])`. A
    single-number result computed from a `Value` is a `Value` too, and so is its gradient.
    """

    __slots__ = ()

    def __init__(
        self,
        data: float | int | Tensor | np.ndarray,
        name: str | None = None,
        *,
        requires_grad: bool = True,
    ) -> None:
        super().__init__(data, requires_grad=requires_grad, name=name)
        if self._data.ndim != 0:
            raise ValueError(
                f"Value holds one number; got shape {self._data.shape}. Use Tensor for arrays."
            )


from autograd import ops as _ops  # noqa: E402  (ops needs Tensor; Tensor's methods need ops)
from autograd.floats import float_vjps as _float_vjps  # noqa: E402

for _op in _ops.REGISTRY.values():  # written now, not in the middle of some later backward
    _float_vjps(_op)
del _op

_FLOAT64 = np.dtype(np.float64)

# numpy ufuncs that are engine ops: `np.exp(t)` is `t.exp()`, recorded like it
# ufuncs the book's functions use that the engine has as a method (shown when refused)
_BOOK_UFUNCS = {
    np.maximum: "; the book's relu, np.maximum(0, x), is x.relu()",
}

_UFUNC_OPS: dict[np.ufunc, Any] = {
    np.add: _ops.add,
    np.subtract: _ops.sub,
    np.multiply: _ops.mul,
    np.true_divide: _ops.div,
    np.power: _ops.pow,
    np.matmul: _ops.matmul,
    np.negative: _ops.neg,
    np.absolute: _ops.abs,
    np.sqrt: _ops.sqrt,
    np.exp: _ops.exp,
    np.log: _ops.log,
    np.tanh: _ops.tanh,
}
