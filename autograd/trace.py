"""`autograd.trace`: the code backprop writes, as a Python function you can read and run.

`trace(fn, *example_inputs)` runs `fn` once on the examples, recording every operation; then it
runs the engine's own VJPs (they are engine operations) with recording on, as
`create_graph=True` does, so the backward pass is recorded too. The two graphs become one
straight-line function, one line per operation (short single-use ones written inline),
each written with its op's code template from `autograd/ops.py`, with the book's names where
tensors or `nn` layers give them. Common subexpressions, multiplications by the seed 1, and
everything no output needs (the gradient for the data `x`) are dropped before writing it. What
an op's forward computes on the way for its VJP (`ops.Keeps`: the softmax y of the loss) comes
from that one call; a new array that dies at an elementwise statement is updated in place there
(`a1 += b1`, `dout *= a1 > 0`), never an input's or a returned one. Calls share no buffers.

The program is valid for the input shapes/dtypes it was traced with (other shapes retrace) and
for the path `fn` took: Python control flow on tensor values is not recorded, which
`program.check(*inputs)` detects by re-running `fn` eagerly and comparing what it recorded.
"""

from __future__ import annotations

import bisect
import builtins
import contextlib
import inspect
import itertools
import math
import operator
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import codegen
from autograd.codegen import Expr
from autograd.grad_mode import enable_grad
from autograd.grad_mode import state as _grad_state
from autograd.ops import REGISTRY, Op, astype, sum_to, zero_vjp
from autograd.scope import Region, region_of
from autograd.tensor import Tensor, Value, _written_after, as_float_array, next_id
from autograd.tensor import grad as eager_grad

__all__ = ["Program", "TraceError", "trace"]

# ops whose result can be a view of an input: returned arrays are copied, as backward copies
_VIEWS = {"reshape", "transpose", "broadcast_to", "getitem"}
# ops written with Python floats and `math` when the whole program is scalar
_SCALAR_OPS = {
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "tanh", "sigmoid", "relu", "sqrt",
    "step", "equal_zero", "both_zero",
}  # fmt: skip
# a name read better than a generated one: the book's y = softmax(a)
_OP_NAMES = {"softmax": "y"}
# ops whose result is always a new array: a program may update it in place where it dies
_FRESH = {
    "add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "tanh", "relu", "abs",
    "sqrt", "softplus", "softmax", "log_softmax",
}  # fmt: skip
# ops written as bool masks: in `g * mask` they count as 0/1; anywhere else they are cast
_MASKS = {"step", "equal_zero", "both_zero"}
# layer kinds (nn / the book) -> the book's name for their output: a1 = x @ W1 + b1, z1 = relu(a1)
_LAYER_OUTPUTS = {
    "affine": "a",
    "relu": "z",
    "sigmoid": "z",
    "tanh": "z",
    "softmaxwithloss": "loss",
}
_MAX_INLINE_OPS = 4
_MAX_VARIANTS = 8
_FUNCTION = "forward_backward"
# Tracing lends the given arrays to the user's own tensors (a model's parameters) while `fn`
# runs; two traces at once (threads retracing for new batch sizes, or two programs of one
# model) would restore each other's arrays and leave a parameter holding a caller's array.
# Re-entrant: `fn` may itself trace.
_tracing = threading.RLock()


class TraceError(ValueError):
    """`fn` cannot be traced as given, or took another path than when it was traced."""


# --- the recorded program as a list of values ------------------------------------------------
@dataclass(eq=False, slots=True)
class _Value:
    kind: str  # "input", "dout", "literal" or "op"
    shape: tuple[int, ...]
    dtype: np.dtype
    order: int  # creation id: ascending order is a topological order
    op: Op | None = None
    args: list[_Value] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    literal: Any = None
    position: int = -1  # input position
    backward: bool = False
    group: str | None = None  # the name of its region: a layer such as Affine1
    region: Region | None = None
    tensor_name: str | None = None
    grad_of: int | None = None  # the id of the forward tensor whose gradient this is
    uses: int = 0
    users: list[_Value] = field(default_factory=list)
    inline: bool = False
    name: str | None = None
    statement: int = -1  # where the value's text appears
    kept: _Value | None = None  # the result its op's forward computes on the way (ops.Keeps)
    made_by: _Value | None = None  # the value whose op's call computes this one
    base: _Value | None = None  # the dying value whose array this one updates in place

    @property
    def section(self) -> tuple[bool, str | None]:
        return (self.backward, self.group)


def _params_key(params: dict[str, Any]) -> tuple:
    if not params:
        return ()
    return tuple(
        (k, _freeze(v)) for k, v in sorted(params.items()) if k != "saved"
    )  # the forward's scratch space is not part of what an op computes


def _freeze(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return ("array", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, tuple):
        return tuple(_freeze(i) for i in v)
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    if isinstance(v, np.dtype):
        return ("dtype", v.str)
    return v


# --- tracing --------------------------------------------------------------------------------
@contextlib.contextmanager
def _leaves(
    arrays: Sequence[np.ndarray],
    originals: Sequence[Tensor | None],
    scalar_kinds: Sequence[bool],
    names: Sequence[str],
) -> Iterator[list[Tensor]]:
    """The tensors `fn` is traced on. An example Tensor that requires grad is used itself
    (holding the given array meanwhile), so `fn` may also reach it through a closure, as a
    model reaches its parameters; the others become new leaves that record too, so nothing
    computed from the data is baked into the program as a constant."""
    leaves: list[Tensor] = []
    restore: list[tuple[Tensor, np.ndarray]] = []
    with _tracing:
        try:
            for array, original, is_value, label in zip(
                arrays, originals, scalar_kinds, names, strict=True
            ):
                if original is not None:
                    if original.data is not array:
                        restore.append((original, original.data))
                        original.data = array
                    leaves.append(original)
                else:
                    leaf = Value(array, label) if is_value else Tensor(array, name=label)
                    leaf._meta = {"traced input": True}  # (fn's `x /= 255` says what to do)
                    leaves.append(leaf)
            yield leaves
        finally:
            for t, data in reversed(restore):
                t.data = data


def _run(fn: Callable[..., Any], leaves: list[Tensor]) -> Tensor:
    with enable_grad():
        out = fn(*leaves)
    if not isinstance(out, Tensor):
        raise TraceError(
            f"trace: fn must return a Tensor (the loss), got {type(out).__name__}; "
            "return one tensor, e.g. the loss of the batch"
        )
    if out.dtype.kind != "f":
        raise TraceError(f"trace: fn returned a tensor of dtype {out.dtype}; expected floats")
    return out


def _record_backward(
    out: Tensor, seed: Tensor, wanted: list[Tensor]
) -> tuple[dict[int, Tensor], list[tuple[int, int, Tensor]], dict[int, Tensor]]:
    """The engine's backward pass with recording on, limited to what leads to `wanted`.

    The same rule as `Tensor.backward`: each node's VJPs from the op table, a gradient of the
    output's broadcast shape summed back with `sum_to`, cast back with `astype`, gradients
    from several uses added. Returned: gradients of `wanted` by id, which forward node's
    VJPs created which id range, and which forward tensor each gradient belongs to.
    """
    nodes: dict[int, Tensor] = {id(out): out}
    stack = [out]
    while stack:
        node = stack.pop()
        for parent in node.inputs:
            if parent.requires_grad and id(parent) not in nodes:
                nodes[id(parent)] = parent
                stack.append(parent)
    order = sorted(nodes.values(), key=lambda t: t.id)
    leads: set[int] = {id(t) for t in wanted}
    for node in order:  # inputs first: does a wanted leaf lie below this node?
        if any(id(p) in leads for p in node.inputs if p.requires_grad):
            leads.add(id(node))
    pending: dict[int, Tensor] = {id(out): seed}
    grads: dict[int, Tensor] = {}
    owners: list[tuple[int, int, Tensor]] = []
    grad_of: dict[int, Tensor] = {}
    wanted_ids = {id(t) for t in wanted}
    for node in reversed(order):
        g = pending.pop(id(node), None)
        if g is None or id(node) not in leads:
            continue
        grad_of.setdefault(id(g), node)
        if id(node) in wanted_ids:
            grads[id(node)] = g
        op = node.op
        if op is None:
            continue
        inputs = node.inputs
        start = next_id()
        # parameters' gradients first, then the one flowing on: the book's order (dW, db, dx)
        slots = sorted(range(len(inputs)), key=lambda i: not inputs[i].is_leaf)
        for i in slots:
            parent = inputs[i]
            if not parent.requires_grad or id(parent) not in leads or op.vjps[i] is zero_vjp:
                continue  # a mask's zero derivative adds nothing
            pg = op.vjps[i](g, node, *inputs, **node.params)
            if pg.shape != parent.shape:
                pg = sum_to(pg, parent.shape)
            if pg.dtype != parent.dtype:
                pg = astype(pg, parent.dtype)
            prev = pending.get(id(parent))
            pending[id(parent)] = pg if prev is None else prev + pg
        owners.append((start, next_id(), node))
    return grads, owners, grad_of


@dataclass
class _Graph:
    values: list[_Value]
    out: _Value
    grads: list[_Value | None]  # per input: its gradient, None when not wanted
    structure: tuple  # the forward's record, for check()
    scalar: bool


def _refuse_captured(t: Tensor, start: int) -> None:
    what = f"{t.name!r}, " if t.name else ""
    if t.requires_grad:
        raise TraceError(
            f"trace: fn uses a tensor it was not given ({what}shape {t.shape}) that requires "
            "grad, such as a parameter captured by a closure or a global. Pass it as an input, "
            "e.g. autograd.trace(lambda x, W: loss(x, W), x, W), so the program reads its "
            "current value and returns its gradient; for an nn model use model.compile(x, t)"
        )
    made = "before the trace" if t.id < start else "without recording"
    raise TraceError(
        f"trace: fn uses an array ({what}shape {t.shape}) that is neither an input nor a "
        f"number: it was made {made} (requires_grad=False, under no_grad(), from .data, or by "
        "backward without create_graph). A program would keep its example values forever; "
        "pass it as an input instead (for autograd.grad(..., create_graph=True) inside fn: "
        "its grad_output, so the seed's arithmetic is recorded too)"
    )


def _refuse_unrecorded_changes(t: Tensor, start: int) -> None:
    """Hooks and in-place updates under no_grad() change values outside the recorded ops."""
    meta = getattr(t, "_meta", None)
    if meta and meta.get("hooks"):
        raise TraceError(
            f"trace: a tensor of shape {t.shape} has a gradient hook (register_hook); a program "
            "runs recorded operations only, so remove the hook or use eager mode"
        )
    if _written_after(t, start - 1):  # its memory was written in place during the trace
        raise TraceError(
            f"trace: fn changed a tensor of shape {t.shape} in place outside recording (under "
            "no_grad() or through .data); write the update as an operation, e.g. y = y + 1"
        )


def _check_params(t: Tensor) -> None:
    for key, value in t.params.items():
        if key == "saved":
            continue
        parts = value if isinstance(value, tuple) else (value,)
        if any(isinstance(p, np.ndarray) for p in parts):
            hint = {
                "labels": "give one-hot labels of the logits' shape instead (np.eye(classes)"
                "[labels]); model.compile converts labels for you",
                "index": "use slices and integers, or index outside the traced function",
            }.get(key, "")
            raise TraceError(
                f"trace: {t.op.name} has the array {key} fixed at trace time, which a program "
                f"would keep for new inputs; {hint}"
            )


def _build(
    fn: Callable[..., Any],
    arrays: list[np.ndarray],
    originals: list[Tensor | None],
    scalar_kinds: list[bool],
    wants: list[bool],
    names: list[str],
) -> _Graph:
    with _leaves(arrays, originals, scalar_kinds, names) as leaves:
        return _build_on(fn, leaves, wants, names)


def _build_on(
    fn: Callable[..., Any],
    leaves: list[Tensor],
    wants: list[bool],
    names: list[str],
) -> _Graph:
    start = next_id()
    out = _run(fn, leaves)
    middle = next_id()
    wanted = [leaf for leaf, w in zip(leaves, wants, strict=True) if w]
    seed = Tensor._wrap(np.ones(out.shape, dtype=out.dtype))
    seed.requires_grad = True
    grads: dict[int, Tensor] = {}
    owners: list[tuple[int, int, Tensor]] = []
    grad_of: dict[int, Tensor] = {}
    if wanted and out.requires_grad:
        with enable_grad():  # recorded even when trace is called inside no_grad()
            grads, owners, grad_of = _record_backward(out, seed, wanted)

    # every tensor the outputs depend on, as values in creation order; an input is a leaf of
    # the program even when the example was computed (W = Tensor(...) * 0.01)
    by_data = {id(leaf.data): i for i, leaf in enumerate(leaves)}
    by_leaf = {id(leaf): i for i, leaf in enumerate(leaves)}
    roots = [out, *grads.values()]
    found: dict[int, Tensor] = {}
    stack = list(roots)
    while stack:
        t = stack.pop()
        if id(t) in found:
            continue
        found[id(t)] = t
        if id(t) not in by_leaf:
            stack.extend(t.inputs)
    inputs = [
        _Value("input", leaf.shape, leaf.dtype, -1, position=i, tensor_name=names[i])
        for i, leaf in enumerate(leaves)
    ]
    dout = _Value("dout", seed.shape, seed.dtype, -1)
    if out.ndim == 0:  # a single number: the seed is the literal 1, which vanishes from g * 1
        dout = _Value("literal", (), seed.dtype, -1, literal=seed.data.reshape(()))
    value_of: dict[int, _Value] = {}
    starts = [s for s, _, _ in owners]
    for t in sorted(found.values(), key=lambda t: t.id):
        _refuse_unrecorded_changes(t, start)
        if t is seed:
            value_of[id(t)] = dout
            continue
        if id(t) in by_leaf:
            value_of[id(t)] = inputs[by_leaf[id(t)]]
            continue
        if t.op is None:
            if id(t.data) in by_data and not t.requires_grad:  # data rewrapped (as nn does)
                value_of[id(t)] = inputs[by_data[id(t.data)]]
            elif t.ndim == 0 and not t.requires_grad:
                value_of[id(t)] = _Value(
                    "literal", (), t.dtype, t.id, literal=t.data[()], tensor_name=t.name
                )  # a named number (the loss's batch_size) is written under its name
            else:
                _refuse_captured(t, start)
            continue
        if t.id < start:
            raise TraceError(
                f"trace: fn uses a tensor computed before the trace (by {t.op.name}, shape "
                f"{t.shape}); compute it inside fn from its inputs, or pass it as an input"
            )
        _check_params(t)
        gradient_of = grad_of.get(id(t))  # (its id only: a program keeps no trace's tensor)
        backward = t.id >= middle
        if backward:
            k = bisect.bisect_right(starts, t.id) - 1
            owner = owners[k][2] if k >= 0 and t.id < owners[k][1] else None
            region = region_of(owner) if owner is not None else None
        else:
            region = region_of(t)  # the layer (nn's scope) that made it
        value_of[id(t)] = _Value(
            "op",
            t.shape,
            t.dtype,
            t.id,
            op=t.op,
            args=[value_of[id(p)] for p in t.inputs],
            params={k: p for k, p in t.params.items() if k != "saved"},  # (the forward's arrays)
            backward=backward,
            group=None if region is None else region.name,
            region=region,
            tensor_name=t.name,
            grad_of=None if gradient_of is None else gradient_of.id,
        )
    structure = _structure(out, by_leaf, by_data, start)
    out_value = value_of[id(out)]
    grad_values: list[_Value | None] = []
    for leaf, w in zip(leaves, wants, strict=True):
        if not w:
            grad_values.append(None)
        elif id(leaf) in grads:
            grad_values.append(value_of[id(grads[id(leaf)])])
        else:  # fn does not depend on it: a zero gradient, as autograd.grad gives
            grad_values.append(_Value("zeros", leaf.shape, leaf.dtype, -1))
    values = sorted((v for v in set(value_of.values()) if v.kind == "op"), key=lambda v: v.order)
    values, out_value, grad_values = _simplify(values, out_value, grad_values)
    scalar = all(
        v.shape == () and v.dtype == np.float64 and v.op.name in _SCALAR_OPS for v in values
    ) and all(v.shape == () and v.dtype == np.float64 for v in inputs)
    return _Graph(values, out_value, grad_values, structure, scalar)


def _structure(out: Tensor, by_leaf: dict, by_data: dict, start: int) -> tuple:
    """What the forward recorded: each op with its arguments and params, each number's value."""
    found: dict[int, Tensor] = {}
    stack = [out]
    while stack:
        t = stack.pop()
        if id(t) not in found:
            found[id(t)] = t
            if id(t) not in by_leaf:
                stack.extend(t.inputs)
    order = sorted(found.values(), key=lambda t: t.id)
    index = {id(t): i for i, t in enumerate(order)}
    record = []
    for t in order:
        if id(t) in by_leaf:
            record.append(("input", by_leaf[id(t)]))
        elif t.op is None:
            if id(t.data) in by_data and not t.requires_grad:
                record.append(("input", by_data[id(t.data)]))
            else:
                record.append(("constant", t.shape, t.dtype.str, t.data.tobytes()))
        else:
            args = tuple(index[id(p)] for p in t.inputs)
            record.append((t.op.name, args, _params_key(t.params), t.shape))
    return tuple(record)


# --- simplification -------------------------------------------------------------------------
def _simplify(
    values: list[_Value], out: _Value, grads: list[_Value | None]
) -> tuple[list[_Value], _Value, list[_Value | None]]:
    """Fold numbers, drop `g * 1` (the seed), merge repeated computations, drop dead code."""
    replaced: dict[int, _Value] = {}
    seen: dict[tuple, _Value] = {}
    kept: list[_Value] = []
    uniform: dict[int, _Value] = {}  # reshaped/broadcast numbers: the number itself will do
    for v in values:
        v.args = [replaced.get(id(a), a) for a in v.args]
        if v.op.name in ("reshape", "broadcast_to"):
            source = v.args[0]
            number = source if source.kind == "literal" else uniform.get(id(source))
            if number is not None:
                uniform[id(v)] = number
        elif v.op.name in _ARITHMETIC and len(v.args) == 2:
            for i in (0, 1):  # `broadcast_to(1, (4, 2)) * mask` is `1 * mask`: numpy broadcasts
                number = uniform.get(id(v.args[i]))
                if number is not None and v.args[1 - i].shape == v.shape:
                    v.args[i] = number
        same = _identity(v)
        if same is not None:
            replaced[id(v)] = same
            continue
        if all(a.kind == "literal" for a in v.args) and v.shape == ():
            try:  # (what overflows or is invalid runs in the code: eager mode warns there)
                with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
                    numbers = (np.asarray(a.literal, a.dtype) for a in v.args)
                    result = v.op.forward(*numbers, **v.params)
            except FloatingPointError:
                pass
            else:
                replaced[id(v)] = _Value(
                    "literal", (), v.dtype, v.order, literal=np.asarray(result)[()]
                )
                continue
        key = (v.op.name, tuple(id(a) for a in v.args), _params_key(v.params))
        if key in seen:
            replaced[id(v)] = seen[key]
            continue
        seen[key] = v
        kept.append(v)
    out = replaced.get(id(out), out)
    grads = [None if g is None else replaced.get(id(g), g) for g in grads]
    # dead code: keep what the outputs reach
    live: set[int] = set()
    stack = [v for v in (out, *grads) if v is not None]
    while stack:
        v = stack.pop()
        if id(v) not in live:
            live.add(id(v))
            stack.extend(v.args)
    kept = [v for v in kept if id(v) in live]
    _link_kept(kept)
    return kept, out, grads


def _link_kept(values: list[_Value]) -> None:
    """A value that another op's forward computes on the way (the softmax y that
    softmax_cross_entropy's VJP uses, declared by `Keeps` in autograd/ops.py) is taken from
    that op's call, `loss, y = softmax_cross_entropy(a2, t)`, instead of computed again."""
    found: dict[tuple, _Value] = {}
    for v in values:
        found.setdefault((v.op.name, tuple(id(a) for a in v.args), _params_key(v.params)), v)
    for v in values:
        keeps = v.op.keeps
        if keeps is None:
            continue
        x = v.args[0]
        s = found.get((keeps.op, (id(x),), _params_key(keeps.params(x.shape))))
        if s is not None and s.made_by is None and s.order > v.order:  # not used before v
            v.kept, s.made_by = s, v


def _identity(v: _Value) -> _Value | None:
    """`g * 1`, `1 * g`, `g / 1`, `x ** 1`: the operand itself, when that changes neither
    shape nor dtype (a mask stands for its 0/1 numbers: `_counts_as_number` or a cast)."""
    slots = {"mul": (0, 1), "div": (1,), "pow": (1,)}.get(v.op.name, ())
    for i in slots:
        one, other = v.args[i], v.args[1 - i]
        if one.kind == "literal" and float(one.literal) == 1.0:
            if other.shape == v.shape and other.dtype == v.dtype:
                return other
    return None


# --- writing the code -----------------------------------------------------------------------
# names the code may use besides its own values: never given to an input or a value
_NAMESPACE_NAMES = {"np", "math", _FUNCTION, *dir(builtins)}


def _helpers(values: list[_Value], scalar: bool) -> dict[str, Callable[..., Any]]:
    """Functions the code calls by an op's name: that op's forward from the table."""
    helpers: dict[str, Callable[..., Any]] = {}
    for template in {_template(v, scalar) for v in values if v.made_by is None}:
        for called in codegen.call_names(template):
            op = REGISTRY.get(called)
            if op is not None and called not in helpers:
                helpers[called] = _forward_of(op)
    return helpers


def _forward_of(op: Op) -> Callable[..., Any]:
    """What the code calls by the op's name: its forward, or, for an op that keeps another
    result (ops.Keeps), the function returning both: `loss, y = softmax_cross_entropy(a2, t)`."""
    return op.forward if op.keeps is None else op.keeps.both


def _template(v: _Value, scalar: bool) -> str:
    code = v.op.code
    if code is None:
        raise TraceError(f"trace: the op {v.op.name} has no code template in autograd/ops.py")
    if callable(code):
        code = code([a.shape for a in v.args], **{k: p for k, p in v.params.items()})
    if isinstance(code, tuple):
        code = code[1] if scalar else code[0]
    return code


def _param_texts(v: _Value) -> dict[str, str]:
    texts = {}
    for key, value in v.params.items():
        if key == "saved":
            continue
        try:
            texts[key] = codegen.index(value) if key == "index" else codegen.param(value)
        except TypeError as exc:
            raise TraceError(
                f"trace: {v.op.name}'s {key} cannot be written as code: {exc}"
            ) from None
    return texts


@dataclass
class _Written:
    source: str
    helpers: dict[str, Callable[..., Any]]


def _write(graph: _Graph, names: list[str], scalar: bool, has_dout: bool) -> _Written:
    values = graph.values
    roots = [graph.out, *(g for g in graph.grads if g is not None)]
    root_ids = {id(v) for v in roots}
    for v in values:
        v.uses, v.users, v.inline, v.name, v.statement, v.base = 0, [], False, None, -1, None
        for a in v.args:
            a.uses += 1
            a.users.append(v)
    group_outputs = {v.order for v in _group_outputs(values)}
    group_outputs.add(graph.out.order)
    gradient_of_input: dict[int, list[int]] = {}
    for i, g in enumerate(graph.grads):
        if g is not None:
            gradient_of_input.setdefault(id(g), []).append(i)

    def wishes(v: _Value, forward_names: dict[int, str]) -> list[str]:
        return _wishes(v, graph, names, group_outputs, forward_names, gradient_of_input)

    # inline single-use values into their user, within a layer, a few ops per line
    size: dict[int, int] = {}  # ops in a value's text
    for v in values:
        size[id(v)] = 1 + sum(size[id(a)] for a in v.args if a.kind == "op" and a.inline)
        user = v.users[0] if v.uses == 1 else None
        v.inline = (
            user is not None
            and id(v) not in root_ids
            and user.section == v.section
            and v.op.name not in _OP_NAMES
            and v.kept is None
            and v.made_by is None
            and size[id(v)] < _MAX_INLINE_OPS
        )
    if not scalar:
        _plan_in_place(values, root_ids, lambda v: next(iter(wishes(v, {})), None))
    statements = [v for v in values if not v.inline and v.made_by is None]
    for i, v in enumerate(statements):
        v.statement = i
    for v in values:
        if v.made_by is not None:
            v.statement = v.made_by.statement
    for v in reversed(values):
        if v.inline:
            v.statement = v.users[0].statement
    end = len(statements)
    last_use: dict[int, int] = {}
    for v in values:
        for a in v.args:
            last_use[id(a)] = max(last_use.get(id(a), -1), v.statement)
    for r in roots:
        last_use[id(r)] = end
    updated_by = {id(v.base): v for v in values if v.base is not None}

    # names: inputs keep theirs; each statement takes the first free name it prefers
    reserved = set(_NAMESPACE_NAMES) | set(names) | set(_helpers(values, scalar))
    if has_dout:
        reserved.add("dout")
    holder: dict[str, _Value] = {}
    counter = itertools.count()
    exprs: dict[int, Expr] = {}
    forward_names: dict[int, str] = {}
    numbers: dict[str, str] = {}  # named numbers written so far: name -> its text
    pending: list[str] = []  # their lines, written before the statement that uses them

    def number_of(a: _Value, user: _Value) -> Expr:
        """`batch_size = 100`, then `/ batch_size`: a number under its tensor's name, where
        the name is free and the number reads the same in every use."""
        expr = _literal(a, user, scalar)
        label = a.tensor_name
        if scalar or label is None or expr.prec != codegen.NUMBER:
            return expr
        if label not in numbers:
            if label in reserved or label in holder or not codegen.is_identifier(label):
                return expr
            numbers[label] = expr.text
            holder[label] = a
            last_use[id(a)] = end  # never given to another value: later uses may read it
            pending.append(f"{label} = {expr.text}")
        return codegen.name(label) if numbers[label] == expr.text else expr

    def expr_of(a: _Value, user: _Value) -> Expr:
        if a.kind == "input":
            return codegen.name(names[a.position])
        if a.kind == "dout":
            return codegen.name("dout")
        if a.kind == "literal":
            return number_of(a, user)
        expr = exprs[id(a)] if a.inline else codegen.name(a.name)
        if a.op.name in _MASKS and not _counts_as_number(a, user):
            cast = "float" if scalar else f"np.{a.dtype.name}"
            return codegen.name(
                f"{cast}({expr.text})" if scalar else f"{expr.at(codegen.ATOM)}.astype({cast})"
            )
        return expr

    def take(v: _Value, chosen: str) -> str:
        holder[chosen] = v
        v.name = chosen
        if not v.backward:
            forward_names[v.order] = chosen
        return chosen

    def name_for(v: _Value) -> str:
        """The first wish free here, also for the values that will update v's array."""
        wanted = wishes(v, forward_names)
        later = v
        while id(later) in updated_by:
            later = updated_by[id(later)]
            wanted += wishes(later, forward_names)
        for wish in wanted:
            if not codegen.is_identifier(wish) or wish in reserved:
                continue
            old = holder.get(wish)
            if old is None or last_use.get(id(old), -1) <= v.statement:
                return take(v, wish)
        while True:
            candidate = f"{'g' if v.backward else 'v'}{next(counter)}"
            if candidate not in reserved and candidate not in holder:
                return take(v, candidate)

    lines: list[str] = []
    filled: set[int] = set()  # new arrays of one number (np.ones), not broadcast views
    section: tuple[bool, str | None] | None = None
    for v in values:
        if v.made_by is not None:
            continue  # written by the call that computes it
        if v.base is None:
            number = _spread(v)
            if number is not None:  # not np.broadcast_to(np.float64(1).reshape((1, 1)), (4, 2))
                expr = _filled(v, number)
                filled.add(id(v))
            else:
                operands = {k: expr_of(a, v) for k, a in zip(("x", "y"), v.args, strict=False)}
                expr = codegen.render(_template(v, scalar), operands, _param_texts(v))
            if v.op.keeps is not None and v.kept is None:  # the call gives (result, kept)
                expr = Expr(f"{expr.at(codegen.ATOM)}[0]", codegen.ATOM)
            if v.inline:
                exprs[id(v)] = expr
                continue
        if v.section != section:
            if v.backward and (section is None or not section[0]):
                lines.append("")
                lines.append("# backward")
            if v.group is not None:  # a user's scope name: one printable line, or its repr
                lines.append(f"# {v.group if v.group.isprintable() else repr(v.group)}")
            elif section is not None and section[1] is not None and section[0] == v.backward:
                lines.append("")  # outside the layers again
            section = v.section
        if v.base is not None:  # `a1 += b1`: the dying left operand's array, updated
            operator = codegen.augmented(_template(v, scalar))
            rhs = expr_of(v.args[1], v).text
            lines += pending
            lines.append(f"{take(v, v.base.name)} {operator}= {rhs}")
        elif v.kept is not None:
            lines += pending
            lines.append(f"{name_for(v)}, {name_for(v.kept)} = {expr.text}")
        else:
            lines += pending
            lines.append(f"{name_for(v)} = {expr.text}")
        pending.clear()

    # the return: fresh arrays, as backward hands out (copies of views and of repeats)
    returned: set[int] = set()

    def result(v: _Value | None) -> str:
        if v is None:
            return "None"
        if v.kind == "zeros":
            return "0.0" if scalar else f"np.zeros({v.shape}, {codegen.param(v.dtype)})"
        if v.kind == "literal":
            if scalar:  # a float, also when whole, inf or nan (math.inf)
                return codegen.number(v.literal, np.dtype(np.float64), integral=False).text
            text = codegen.number(v.literal, v.dtype).text
            return f"np.array({text}, {codegen.param(v.dtype)})"
        text = expr_of(v, _RETURN).text
        if scalar:
            return text
        owner = _array_owner(v)
        copy = owner.kind != "op" or id(owner) in returned
        copy = copy or (owner.op.name in _VIEWS and id(owner) not in filled)
        returned.add(id(owner))
        return f"np.array({text})" if copy else text

    out_text = result(graph.out)
    for i, g in enumerate(graph.grads):  # `dtax = v0`: a gradient under its own name
        wish = f"d{names[i]}"
        if g is not None and g.kind == "op" and g.name != wish:
            if wish not in reserved and wish not in holder and codegen.is_identifier(wish):
                lines.append(f"{wish} = {g.name}")
                holder[wish] = g
                g.name = wish
    grad_texts = [result(g) for g in graph.grads]
    lines += pending
    inner = ", ".join(grad_texts) + ("," if len(grad_texts) == 1 else "")
    lines.append(f"return {out_text}, ({inner})")
    params = list(names) + (["dout"] if has_dout else [])
    head = f"def {_FUNCTION}({', '.join(params)}):"
    body = "\n".join(f"    {line}" if line else "" for line in lines)
    return _Written(f"{head}\n{body}\n", _helpers(values, scalar))


def _spread(v: _Value) -> _Value | None:
    """The number a broadcast spreads over its shape (the seed 1 that a sum's gradient copies
    to every element), when its operand is that number (reshaped in the same line)."""
    if v.op.name != "broadcast_to":
        return None
    a = v.args[0]
    if a.kind == "op" and a.op.name == "reshape" and a.inline:
        a = a.args[0]
    return a if a.kind == "literal" else None


def _filled(v: _Value, number: _Value) -> Expr:
    """`np.ones((4, 2))`, `np.full((3,), 0.5, np.float32)`: the broadcast number as a new array."""
    dtype = "" if v.dtype == np.float64 else f", {codegen.param(v.dtype)}"
    shape = codegen.param(v.shape)
    if float(number.literal) == 1.0:
        return codegen.name(f"np.ones({shape}{dtype})")
    text = codegen.number(number.literal, v.dtype, integral=False).text
    return codegen.name(f"np.full({shape}, {text}{dtype})")


def _array_owner(v: _Value) -> _Value:
    """The value whose array `v` is: an op written as its operand (a sum over no axis, "{x}")
    hands on the operand's own array, which may be an input's."""
    while v.kind == "op" and _template(v, False) == "{x}":
        v = v.args[0]
    return v


def _plan_in_place(
    values: list[_Value], root_ids: set[int], first_wish: Callable[[_Value], str | None]
) -> None:
    """`a1 = x @ W1; a1 += b1` and `dout *= a1 > 0`, as a hand-written step does: a statement
    `x OP y` whose left operand is a new array of its shape and dtype that dies there updates
    that array instead of allocating another. Never an input's array (nor a view of one), a
    returned one, or one read anywhere else; only where the left operand has the statement's
    name anyway (the `dout` flowing back) or is a matrix product that would be inlined (the
    Affine's `x @ W + b`): a formula such as `(y - t) / 100` stays one line."""
    for v in reversed(values):  # a statement's left operand may become one that updates too
        if v.inline or v.made_by is not None or len(v.args) != 2:
            continue
        a = v.args[0]
        if (
            codegen.augmented(_template(v, False)) is None
            or a.kind != "op"
            or a.op.name not in _FRESH
            or a.uses != 1
            or id(a) in root_ids
            or a.shape != v.shape
            or a.shape == ()
            or a.dtype != v.dtype
            or a.made_by is not None
        ):
            continue
        if a.inline:  # x @ W + b: the product takes the bias in place; formulas stay one line
            if a.op.name != "matmul":
                continue
        elif first_wish(a) is None or first_wish(a) != first_wish(v):
            continue
        a.inline = False
        v.base = a


def _counts_as_number(mask: _Value, user: _Value) -> bool:
    """A bool mask times or plus floats is the 0/1 product or sum in their dtype, as eager
    mode computes it when that is the result's dtype too; anything else casts the mask."""
    if user.op is None or user.op.name not in ("mul", "add"):
        return False
    if all(b is mask for b in user.args):  # mask + mask would be bools: True | True
        return False
    for b in user.args:
        if b is mask:
            continue
        if b.kind == "op" and b.op.name in _MASKS:
            return False
        if (np.dtype(np.float64) if b.kind == "literal" else b.dtype) != user.dtype:
            return False  # float32 + a float64 mask is float64 in eager mode
    return True


_ARITHMETIC = {"add", "sub", "mul", "div", "pow"}  # where a bare number takes numpy's weak type
_RETURN = _Value("return", (), np.dtype(np.float64), -1)  # a user that is the return statement


def _literal(a: _Value, user: _Value, scalar: bool) -> Expr:
    """A number in the code; strongly typed (np.float64(...)) only where numpy would otherwise
    give a float32 operand's dtype to a result the engine computed in float64."""
    beside_mask = any(b.kind == "op" and b.op.name in _MASKS for b in user.args)
    expr = codegen.number(
        a.literal, user.dtype if not scalar else np.float64, integral=not beside_mask
    )
    if scalar:
        return expr
    if user.op is None or user.op.name not in _ARITHMETIC:  # a numpy scalar, with a dtype
        return codegen.name(f"np.{a.dtype.name}({expr.text})")
    others = [b for b in user.args if b is not a and b.kind != "literal"]
    if not others:  # numbers only (left where they overflow): numpy's arithmetic, as eager's
        return codegen.name(f"np.{a.dtype.name}({expr.text})")
    if a.dtype != np.float64 or user.dtype != np.float64:
        return expr
    if all(b.dtype == np.float32 for b in others):
        return codegen.name(f"np.float64({expr.text})")
    return expr


def _group_outputs(values: list[_Value]) -> list[_Value]:
    """The last forward value of each layer call: what the layer hands to the next one."""
    last: dict[int, _Value] = {}
    for v in values:
        if not v.backward and v.region is not None:
            last[id(v.region)] = v
    return list(last.values())


def _layer_name(group: str) -> str | None:
    kind = group.rstrip("0123456789")
    digits = group[len(kind) :]
    prefix = _LAYER_OUTPUTS.get(kind.lower())
    if prefix is None:
        return None
    return prefix + ("" if prefix == "loss" else digits)


def _wishes(
    v: _Value,
    graph: _Graph,
    names: list[str],
    group_outputs: set[int],
    forward_names: dict[int, str],
    gradient_of_input: dict[int, list[int]],
) -> list[str]:
    """Names `v` would like, best first: the book's where it has one."""
    wishes: list[str] = []
    if v.backward:
        wishes += [f"d{names[i]}" for i in gradient_of_input.get(id(v), ())]
        if v.grad_of is not None:
            forward = forward_names.get(v.grad_of)
            if v.grad_of in group_outputs:  # what flows between layers is the book's dout
                wishes.append("dout")
            if forward is not None:
                wishes.append(f"d{forward}")
        if v.op.name in _OP_NAMES:
            wishes.append(_OP_NAMES[v.op.name])
        return wishes
    if v.tensor_name:
        wishes.append(v.tensor_name)
    if v.order in group_outputs and v.group is not None:
        layer = _layer_name(v.group)
        if layer:
            wishes.append(layer)
    if v is graph.out:
        wishes.append("out")
    if v.op.name in _OP_NAMES:
        wishes.append(_OP_NAMES[v.op.name])
    return wishes


# --- the program ----------------------------------------------------------------------------
@dataclass
class _Variant:
    signature: tuple
    source: str
    function: Callable[..., Any]
    structure: tuple
    scalar: bool
    graph: _Graph
    has_dout: bool
    zero_d: bool  # some gradient is a single number
    # where arrays in give the function's results out as they are (but a 0-d output): each
    # input's (type, shape, dtype) that lets a call skip every other check
    guard: tuple[tuple[type, tuple[int, ...], np.dtype], ...] | None = None

    def __post_init__(self) -> None:
        if not (self.scalar or self.has_dout or self.zero_d):
            self.guard = tuple((np.ndarray, s, np.dtype(c)) for s, c in self.signature)


_type_shape_dtype = operator.attrgetter("__class__", "shape", "dtype")


def _compile(written: _Written) -> Callable[..., Any]:
    return codegen.compile_function(written.source, _FUNCTION, written.helpers, "program")


class Program:
    """A traced `fn`: `program.source` to read, `program(*inputs) -> (output, grads)` to run.

    `grads` has one entry per input, None where that example input did not require grad
    (arrays and numbers are data; Tensors with `requires_grad=True` get gradients).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        example_inputs: Sequence[Any],
        *,
        names: Sequence[str] | None = None,
        retrace: bool = True,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"trace: fn must be callable, got {type(fn).__name__}")
        if not example_inputs:
            raise TraceError("trace: give at least one example input (the arrays fn takes)")
        self.fn = fn
        self.retrace = retrace
        self._scalar_kinds = [isinstance(v, Value) for v in example_inputs]
        self.wants = [isinstance(v, Tensor) and v.requires_grad for v in example_inputs]
        self._originals = [
            v if w else None for v, w in zip(example_inputs, self.wants, strict=True)
        ]
        self.names = _input_names(fn, example_inputs, names)
        _refuse_repeated(self._originals, self.names)
        self._variants: dict[tuple, _Variant] = {}
        arrays = [_as_array(v, i, self.names) for i, v in enumerate(example_inputs)]
        self._first = self._last = self._trace(arrays)

    # --- reading ----------------------------------------------------------------------------
    @property
    def source(self) -> str:
        """The program traced from the example inputs, as Python source."""
        return self._first.source

    def __repr__(self) -> str:
        return f"Program({_FUNCTION}({', '.join(self.names)}), {len(self._variants)} traced)"

    # --- copies and pickles -----------------------------------------------------------------
    def __copy__(self) -> Program:
        return self  # like a function: its compiled code and traced variants never change

    def __deepcopy__(self, memo: dict[int, Any]) -> Program:
        return self

    def __reduce__(self) -> Any:
        raise TypeError(
            f"a traced Program ({_FUNCTION}({', '.join(self.names)})) cannot be pickled: it "
            "holds compiled code and the function it traced. Pickle the model instead (a "
            "compiled nn model traces again when first used), or save program.source to read, "
            "and call autograd.trace again after loading"
        )

    # --- running ----------------------------------------------------------------------------
    def __call__(self, *inputs: Any, dout: Any = None) -> tuple[Any, tuple[Any, ...]]:
        """Run the program: `(output, grads)` as eager mode would compute them.

        Inside `autograd.detect_anomaly()`, results holding NaN/Inf make `fn` run eagerly on
        the same inputs, so the AnomalyError names the op that made them."""
        variant = self._last
        if variant.guard is not None and dout is None and _grad_state.anomaly is None:
            try:
                same = tuple(map(_type_shape_dtype, inputs)) == variant.guard
            except AttributeError:  # numbers or lists: converted below
                same = False
            if same:  # arrays of the last call's shapes and dtypes: the common case, cheaply
                out, grads = variant.function(*inputs)
                return (out if type(out) is np.ndarray else np.asarray(out)), grads
        result = self._call(inputs, dout)
        anomaly = _grad_state.anomaly
        if anomaly is not None:
            self._locate_anomaly(anomaly, inputs, dout, result)
        return result

    def _locate_anomaly(
        self, anomaly: Any, inputs: Sequence[Any], dout: Any, result: tuple
    ) -> None:
        """Generated code checks nothing; eager mode names the op (and stores no `.grad`)."""
        out, grads = result
        found = (np.asarray(r) for r in (out, *grads) if r is not None)
        if all(anomaly._bad(r) is None for r in found):
            return
        self._eager([_as_array(v, i, self.names) for i, v in enumerate(inputs)], dout)

    def _eager(self, arrays: Sequence[np.ndarray], dout: Any = None) -> tuple[Any, tuple]:
        """`fn` and its gradients in eager mode: the program's (output, grads), as arrays."""
        with _leaves(arrays, self._originals, self._scalar_kinds, self.names) as leaves:
            out = _run(self.fn, leaves)  # (inside detect_anomaly: raises at the op that made it)
            wanted = [leaf for leaf, w in zip(leaves, self.wants, strict=True) if w]
            if wanted and out.requires_grad:
                found = iter(g.data for g in eager_grad(out, wanted, dout))
            else:  # nothing to differentiate: zeros, as the program returns
                found = (np.zeros_like(leaf.data) for leaf in wanted)
            grads = tuple(next(found) if w else None for w in self.wants)
        return out.data, grads

    def _call(self, inputs: tuple[Any, ...], dout: Any) -> tuple[Any, tuple[Any, ...]]:
        variant = self._last
        if len(inputs) != len(self.names):
            raise TypeError(
                f"program takes {len(self.names)} inputs ({', '.join(self.names)}), "
                f"got {len(inputs)}"
            )
        if variant.scalar:
            try:
                floats = [_as_float(v) for v in inputs]
            except _NotAFloat:
                pass
            else:
                if dout is not None:
                    _dout(variant, dout)  # a single-number output: dout can only be 1
                return self._run_scalar(variant, floats)
        for v, (shape, char) in zip(inputs, variant.signature, strict=True):
            if type(v) is not np.ndarray or v.shape != shape or v.dtype.char != char:
                break
        else:  # the arrays of the last call's shapes: the common case, checked cheaply
            return self._run(variant, inputs, dout)
        arrays = [_as_array(v, i, self.names) for i, v in enumerate(inputs)]
        signature = tuple((a.shape, a.dtype.char) for a in arrays)
        variant = self._variants.get(signature)
        if variant is None:
            variant = self._retrace(arrays, signature)
        self._last = variant
        if variant.scalar:
            if dout is not None:
                _dout(variant, dout)
            return self._run_scalar(variant, [float(a) for a in arrays])
        return self._run(variant, arrays, dout)

    def _run(self, variant: _Variant, arrays: Sequence[np.ndarray], dout: Any) -> tuple:
        extra = () if dout is None and not variant.has_dout else _dout(variant, dout)
        out, grads = variant.function(*arrays, *extra)
        if variant.graph.out.shape == ():  # numpy gives 0-d results as numpy scalars
            out = np.asarray(out)
        if variant.zero_d:
            grads = tuple(g if g is None else np.asarray(g) for g in grads)
        return out, grads

    def check(self, *inputs: Any) -> None:
        """Run `fn` eagerly on `inputs` and make sure it records what the program was traced
        from; a difference means `fn` branches on tensor values (an `if` on a loss, a mask
        from `.data`, a number from `float(t)`), and the program is not valid for them."""
        if len(inputs) != len(self.names):
            raise TypeError(
                f"program.check takes the program's {len(self.names)} inputs "
                f"({', '.join(self.names)}), got {len(inputs)}"
            )
        arrays = [_as_array(v, i, self.names) for i, v in enumerate(inputs)]
        signature = tuple((a.shape, a.dtype.char) for a in arrays)
        variant = self._variants.get(signature)
        if variant is None:
            variant = self._retrace(arrays, signature)
            return
        with _leaves(arrays, self._originals, self._scalar_kinds, self.names) as leaves:
            start = next_id()
            out = _run(self.fn, leaves)
            by_leaf = {id(leaf): i for i, leaf in enumerate(leaves)}
            by_data = {id(leaf.data): i for i, leaf in enumerate(leaves)}
            now = _structure(out, by_leaf, by_data, start)
        if now != variant.structure:
            raise TraceError(
                "program.check: on these inputs fn records something else than when it was "
                f"traced ({_first_difference(variant.structure, now)}). fn's Python code "
                "depends on tensor values (an if on a value, float(t) or .data used as a "
                "number), so the traced program is only valid for inputs that take the same "
                "path. Use eager mode for such inputs, or write the branch with tensor ops "
                "(e.g. relu or a mask multiplication) so it is recorded"
            )

    # --- internals --------------------------------------------------------------------------
    def _trace(self, arrays: list[np.ndarray]) -> _Variant:
        with _tracing:  # one trace at a time: see _tracing
            return self._trace_now(arrays)

    def _trace_now(self, arrays: list[np.ndarray]) -> _Variant:
        graph = _build(
            self.fn, arrays, self._originals, self._scalar_kinds, self.wants, self.names,
        )  # fmt: skip
        has_dout = _has_dout(graph)
        written = _write(graph, self.names, graph.scalar, has_dout)
        function = _compile(written)
        signature = tuple((a.shape, a.dtype.char) for a in arrays)
        variant = _Variant(
            signature, written.source, function, graph.structure, graph.scalar, graph, has_dout,
            any(g is not None and g.shape == () for g in graph.grads),
        )  # fmt: skip
        if len(self._variants) >= _MAX_VARIANTS:
            oldest = next(k for k in self._variants if self._variants[k] is not self._first)
            del self._variants[oldest]
        self._variants[signature] = variant
        return variant

    def _retrace(self, arrays: list[np.ndarray], signature: tuple) -> _Variant:
        if not self.retrace:
            expected = self._first.signature
            diffs = [
                f"{self.names[i]}: traced with {_describe(e)}, got {_describe(g)}"
                for i, (e, g) in enumerate(zip(expected, signature, strict=True))
                if e != g
            ]
            raise TraceError(
                "program: the inputs' shapes or dtypes differ from the traced ones ("
                + "; ".join(diffs)
                + "); trace again for them, or create the program with retrace=True"
            )
        return self._trace(arrays)

    def _run_scalar(self, variant: _Variant, floats: list[float]) -> tuple[Any, tuple[Any, ...]]:
        """Plain float arithmetic. Where `math` raises (1/0, exp(1000), log(-1)) or a result is
        not finite (Python's 1e200 * 1e200 is inf without numpy's warning; math.pow(-inf, 0.5)
        is inf, numpy's power nan), `fn` runs eagerly: eager mode's numbers and warnings."""
        try:
            out, grads = variant.function(*floats)
        except (OverflowError, ZeroDivisionError, ValueError):
            pass
        else:  # one sum sees an inf or nan among the results (None: data; 0.0 changes nothing)
            if math.isfinite(sum(filter(None, grads), out)):
                return out, grads
        return _scalar_result(self._eager([np.array(f) for f in floats]))


def _refuse_repeated(originals: Sequence[Tensor | None], names: Sequence[str]) -> None:
    """One tensor given as two inputs would be one leaf in the trace: the program would read
    one of the two arrays it is called with for both, and return one gradient twice."""
    first: dict[int, int] = {}
    for i, t in enumerate(originals):
        if t is None:
            continue
        j = first.setdefault(id(t), i)
        if j != i:
            raise TraceError(
                f"trace: inputs {names[j]} and {names[i]} are the same tensor; give it once "
                "(fn may use it twice), or give a copy (Tensor(t.data.copy())) if the program "
                "should take two arrays"
            )


def _has_dout(graph: _Graph) -> bool:
    used = [a for v in graph.values for a in v.args]
    return any(v is not None and v.kind == "dout" for v in (*used, graph.out, *graph.grads))


def _scalar_result(result: tuple[Any, tuple[Any, ...]]) -> tuple[Any, tuple[Any, ...]]:
    out, grads = result
    return float(out), tuple(None if g is None else float(g) for g in grads)


def _dout(variant: _Variant, dout: Any) -> tuple[Any, ...]:
    shape, dtype = variant.graph.out.shape, variant.graph.out.dtype
    if not variant.has_dout:  # no gradient to seed (a single number, or none wanted)
        if dout is not None and np.shape(dout) != shape:
            raise TraceError(f"program: dout has shape {np.shape(dout)}, the output {shape}")
        seeded = shape == () and any(
            g is not None and g.kind != "zeros" for g in variant.graph.grads
        )
        if dout is not None and seeded and not np.all(as_float_array(dout, "dout") == 1):
            raise TraceError(
                "program: the output is a single number, traced with the seed 1, so dout= can "
                f"only be 1 (got {np.asarray(dout).tolist()!r}); the gradients are linear in "
                "it: multiply them by your dout"
            )
        return ()
    if dout is None:
        if math.prod(shape) != 1:
            raise TraceError(
                f"program: the output has shape {shape}, not a single number; pass "
                "dout= (an array of that shape, the upstream gradient)"
            )
        return (np.ones(shape, dtype=dtype),)
    array = np.asarray(as_float_array(dout, "dout"), dtype=dtype)
    if array.shape != shape:
        raise TraceError(f"program: dout has shape {array.shape}, the output has shape {shape}")
    return (array,)


class _NotAFloat(Exception):
    pass


def _as_float(v: Any) -> float:
    kind = type(v)
    if kind is float:
        return v
    if kind is int or isinstance(v, np.float64):
        try:
            return float(v)
        except OverflowError:  # an int past float range: _as_array says so, naming the input
            raise _NotAFloat from None
    if isinstance(v, Tensor) and v.ndim == 0 and v.dtype == np.float64:
        return float(v.data)
    if isinstance(v, np.ndarray) and v.shape == () and v.dtype == np.float64:
        return float(v)
    raise _NotAFloat


def _as_array(v: Any, i: int, names: Sequence[str]) -> np.ndarray:
    if isinstance(v, Tensor):
        return np.asarray(v.data)
    if type(v) is np.ndarray and v.dtype.kind == "f" and v.dtype.itemsize in (4, 8):
        return v
    # subclasses too: np.matrix's `*` is a matrix product, which would change the code's meaning
    return np.asarray(as_float_array(v, f"program input {names[i]}"))


def _describe(signature: tuple) -> str:
    shape, char = signature
    return f"shape {shape} {np.dtype(char).name}"


def _first_difference(traced: tuple, now: tuple) -> str:
    for i, (a, b) in enumerate(zip(traced, now, strict=False)):
        if a != b:
            return f"step {i}: traced {_entry(a, b)}, now {_entry(b, a)}"
    return f"traced {len(traced)} steps, now {len(now)}"


def _entry(entry: tuple, other: tuple) -> str:
    """A step of the record, with what differs from the other one's same step."""
    if entry[0] == "input":
        return f"input {entry[1]}"
    if entry[0] == "constant":
        _, shape, dtype, raw = entry
        if other[0] != "constant" or other[1] != shape or math.prod(shape) > 4:
            return f"a constant of shape {shape}"
        values = np.frombuffer(raw, dtype=dtype).tolist()
        return f"the constant {values[0] if shape == () else values}"
    name, args, params, shape = entry
    text = f"{name} of shape {shape}"
    if other[0] == name and other[3] == shape:
        if params != other[2]:
            return text + " with " + ", ".join(f"{k}={v!r}" for k, v in params)
        if args != other[1]:
            return text + f" of steps {args}"
    return text


def _input_names(fn: Callable[..., Any], inputs: Sequence[Any], given: Sequence[str] | None):
    """Tensor names, else fn's parameter names, else in0, in1, ...; unique identifiers."""
    if given is not None:
        given = list(given)
        if len(given) != len(inputs):
            raise TraceError(f"trace: {len(given)} names for {len(inputs)} inputs")
    parameters: list[str] = []
    try:
        for p in inspect.signature(fn).parameters.values():
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                parameters.append(p.name)
    except (TypeError, ValueError):
        pass
    names: list[str] = []
    for i, v in enumerate(inputs):
        options = []
        if given is not None:
            options.append(given[i])
        if isinstance(v, Tensor) and v.name:
            options.append(v.name)
        if i < len(parameters):
            options.append(parameters[i])
        options.append(f"in{i}")
        for option in options:
            if (
                codegen.is_identifier(option)
                and option not in _NAMESPACE_NAMES
                and option != "dout"
                and option not in names
                and option not in REGISTRY
            ):
                names.append(option)
                break
        else:  # every option is taken, maybe in<i>_ too (given for another input)
            fallback = f"in{i}_"
            while fallback in names:
                fallback += "_"
            names.append(fallback)
    return names


def trace(
    fn: Callable[..., Any],
    *example_inputs: Any,
    names: Sequence[str] | None = None,
    retrace: bool = True,
) -> Program:
    """Trace `fn(*example_inputs)` and its backward pass into a `Program`.

    - `example_inputs`: Tensors with `requires_grad=True` get gradients; arrays and numbers
      are data. Every tensor `fn` uses must come in this way (parameters too).
    - `names`: the inputs' names in the code (default: tensor names, else fn's parameters).
    - Layers (`autograd.scope` regions, which `nn` layers open) become comments and the
      book's names of their outputs and gradients (`a1`, `z1`, `dout`).
    - `retrace`: inputs of other shapes or dtypes trace again (else they raise TraceError).

    ::

        W = Tensor(np.ones((3, 2)), name="W")
        program = autograd.trace(lambda x, W: (x @ W).relu().sum(), np.ones((4, 3)), W)
        print(program.source)
        out, (dx, dW) = program(np.ones((4, 3)), W.data)   # dx is None: x is data
    """
    return Program(fn, example_inputs, names=names, retrace=retrace)
