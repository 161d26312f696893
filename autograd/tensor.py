"""The graph node: `Tensor` (and its scalar face `Value`) plus reverse-mode `backward`.

A tensor made by an operation remembers the op, its input tensors and the op's parameters; that
is the whole graph. Nothing points back from an input to its output and no closure captures a
node, so a graph is freed by reference counting as soon as the last tensor of it is dropped.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from autograd.grad_mode import _GradMode

if TYPE_CHECKING:
    from autograd.ops import Op

ArrayLike = Union["Tensor", np.ndarray, float, int, bool, Sequence[Any]]

_ids = itertools.count()


def as_float_array(data: Any, what: str = "Tensor") -> np.ndarray:
    """Convert user input to a float array: float32 stays float32, everything else float64."""
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, np.ndarray):
        arr = data
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
    raise TypeError(
        f"{what}: expected numbers (a Python number, nested lists or a numeric array), "
        f"got {type(data).__name__} with dtype {arr.dtype}"
    )


class Tensor:
    """An array that records the operations made with it, so `backward()` can apply the chain rule.

    `data` is the numpy array (update it in place for parameter steps); `grad` is filled by
    `backward()`. User-made tensors track gradients by default, as in micrograd and DeZero.
    """

    __slots__ = (
        "data",
        "_grad",
        "requires_grad",
        "name",
        "_op",
        "_x",
        "_y",
        "_params",
        "_id",
        "_released",
        "__weakref__",
    )
    __array_ufunc__ = None  # make `ndarray + Tensor` call Tensor.__radd__ instead of numpy
    __array_priority__ = 1000

    data: np.ndarray
    requires_grad: bool
    name: str | None

    def __init__(
        self, data: ArrayLike, *, requires_grad: bool = True, name: str | None = None
    ) -> None:
        self.data = as_float_array(data, type(self).__name__)
        self._grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._op: Op | None = None
        self._x: Tensor | None = None  # first input, if made by an op
        self._y: Tensor | None = None  # second input, if the op has two
        self._params: dict[str, Any] | None = None
        self._id = next(_ids)
        self._released = False

    @classmethod
    def _wrap(cls, data: np.ndarray, ident: int | None = None) -> Tensor:
        """Fast constructor for arrays the engine made itself (no conversion or checks)."""
        t = object.__new__(Tensor)
        t.data = data
        t._grad = None
        t.requires_grad = False
        t.name = None
        t._op = None
        t._x = None
        t._y = None
        t._params = None
        t._id = next(_ids) if ident is None else ident
        t._released = False
        return t

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
    def grad(self) -> Tensor | None:
        return self._grad

    @grad.setter
    def grad(self, value: ArrayLike | None) -> None:
        if value is None:
            self._grad = None
            return
        g = value if isinstance(value, Tensor) else Tensor._wrap(as_float_array(value, "grad"))
        if g.shape != self.shape:
            raise ValueError(
                f"grad: shape {g.shape} does not match the tensor's shape {self.shape}"
            )
        self._grad = g

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(
                f"item: only a tensor with one element converts, shape is {self.shape}"
            )
        return float(self.data.reshape(()))

    def __float__(self) -> float:
        return self.item()

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use (t.data > 0).any() or .all()"
            )
        return bool(self.data.reshape(()))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is None or dtype == self.data.dtype:
            return self.data.copy() if copy else self.data
        return self.data.astype(dtype)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def detach(self) -> Tensor:
        """The same data as a new leaf that tracks nothing."""
        return Tensor._wrap(self.data)

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, precision=8, suppress_small=True, separator=", ", threshold=20
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
                self._grad.data, precision=8, suppress_small=True, separator=", ", threshold=20
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

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # --- methods --------------------------------------------------------------------------
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

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
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])  # type: ignore[arg-type]
        return _ops.reshape(self, shape)

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0])  # type: ignore[arg-type]
        return _ops.transpose(self, axes or None)

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
    ) -> None:
        """Run the chain rule from this tensor back to every tensor it depends on.

        Every tensor that requires grad accumulates into `.grad` (leaves across calls, as in
        PyTorch; intermediates too, so a drawing can show the gradient on every edge). The graph
        is marked used afterwards: going through it again needs `retain_graph=True`. With
        `create_graph=True` the gradients are themselves recorded, for higher derivatives, and
        the graph is kept (the gradients' graph refers to it), as in PyTorch.
        """
        _backpropagate(self, grad, retain_graph, create_graph, targets=None)


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
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: the output has shape {root.shape}, not a single number; pass "
                "grad= (an array of that shape, the upstream gradient) or reduce it first, "
                "e.g. y.sum().backward()"
            )
        return Tensor._wrap(np.ones(root.data.shape, dtype=root.data.dtype))
    g = grad if isinstance(grad, Tensor) else Tensor._wrap(as_float_array(grad, "backward"))
    if g.data.dtype != root.data.dtype:
        g = Tensor._wrap(np.asarray(g.data, dtype=root.data.dtype))
    if g.shape != root.shape:
        raise ValueError(
            f"backward: grad has shape {g.shape} but the output has shape {root.shape}"
        )
    return g


def _reverse_topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor `root` depends on that requires grad, outputs before their inputs.

    A tensor is always created after its inputs, so descending creation ids are a topological
    order: collect the reachable nodes (iteratively, so depth is free) and sort by id.
    """
    seen = {id(root)}
    nodes = [root]
    stack = [root]
    while stack:
        node = stack.pop()
        for parent in (node._x, node._y):
            if parent is not None and parent.requires_grad and id(parent) not in seen:
                seen.add(id(parent))
                nodes.append(parent)
                stack.append(parent)
    nodes.sort(key=_creation_id, reverse=True)
    return nodes


def _creation_id(t: Tensor) -> int:
    return t._id


def _backpropagate(
    root: Tensor,
    grad: ArrayLike | None,
    retain_graph: bool | None,
    create_graph: bool,
    targets: Sequence[Tensor] | None,
) -> dict[int, Tensor]:
    """The engine: one pass over the graph in reverse topological order.

    With `targets=None` gradients accumulate into `.grad`; otherwise nothing is stored and the
    gradients of `targets` are returned by id (for `autograd.grad`).
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad (it was made from constants or "
            "inside no_grad()); create inputs with requires_grad=True"
        )
    seed = _seed_gradient(root, grad)
    wanted = None if targets is None else {id(t) for t in targets}
    pending: dict[int, Tensor] = {id(root): seed}
    found: dict[int, Tensor] = {}
    stored = {id(seed.data)}  # arrays already handed out as a .grad in this pass
    sum_to, astype = _ops.sum_to, _ops.astype
    release = not (create_graph if retain_graph is None else retain_graph)
    # The pass makes no reference cycles, so the cyclic collector has nothing to find; pausing
    # it spares rescans of a large graph (a third of the time of a deep chain's backward).
    collector_was_on = gc.isenabled()
    recording_was = _GradMode.enabled
    gc.disable()
    _GradMode.enabled = create_graph
    try:
        for node in _reverse_topological_order(root):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            op = node._op
            if wanted is None:
                if op is None and not create_graph:  # the user may update a leaf's .grad in place
                    g = _owned(g, stored)
                stored.add(id(g.data))
                node._grad = g if node._grad is None else node._grad + g
            elif id(node) in wanted:
                if not create_graph:  # each result an array of its own, as .grad is
                    g = _owned(g, stored)
                    stored.add(id(g.data))
                found[id(node)] = g
            if op is None:
                continue
            if node._released:
                raise RuntimeError(
                    f"backward: the graph through '{op.name}' (node {node._id}) was "
                    "already used by an earlier backward; pass retain_graph=True to the "
                    "first backward to go through it again"
                )
            node._released = release
            inputs = (node._x,) if node._y is None else (node._x, node._y)
            params = node._params
            for parent, vjp in zip(inputs, op.vjps, strict=False):
                if not parent.requires_grad:
                    continue
                pg = vjp(g, node, *inputs, **params) if params else vjp(g, node, *inputs)
                data, target = pg.data, parent.data
                if data.shape != target.shape:
                    pg = sum_to(pg, target.shape)
                if data.dtype != target.dtype:
                    pg = astype(pg, target.dtype)
                key = id(parent)
                prev = pending.get(key)
                pending[key] = pg if prev is None else prev + pg
    finally:
        _GradMode.enabled = recording_was
        if collector_was_on:
            gc.enable()
    return found


def _owned(g: Tensor, stored: set[int]) -> Tensor:
    """`g` itself when its array is writable, its own and not handed out yet, else a copy.

    Identity VJPs (add, reshape) pass one array along to several tensors and reductions
    produce read-only broadcast views; a leaf's gradient must be safe to change in place.
    """
    data = g.data
    if type(data) is np.ndarray and data.base is None and id(data) not in stored:
        return g  # numpy made it for this gradient alone (views and broadcasts have a base)
    return Tensor._wrap(np.array(data, copy=True))


def grad(
    output: Tensor,
    inputs: Sequence[Tensor],
    grad_output: ArrayLike | None = None,
    *,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> tuple[Tensor, ...]:
    """Gradients of `output` with respect to `inputs`, returned instead of stored in `.grad`.

    An input the output does not depend on gets a zero gradient.
    """
    inputs = tuple(inputs)
    found = _backpropagate(output, grad_output, retain_graph, create_graph, targets=inputs)
    return tuple(
        found[id(t)] if id(t) in found else Tensor._wrap(np.zeros_like(t.data)) for t in inputs
    )


class Value(Tensor):
    """A single number in the graph — the book's scalar nodes (apple, orange, tax).

    It is a 0-d `Tensor`, so it mixes freely with arrays: `Value(100) * Tensor([1, 2])`.
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
        if self.data.ndim != 0:
            raise ValueError(
                f"Value holds one number; got shape {self.data.shape}. Use Tensor for arrays."
            )


from autograd import ops as _ops  # noqa: E402  (ops needs Tensor; Tensor's methods need ops)
