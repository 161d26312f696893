"""Walk a tensor's graph into a neutral drawing model: nodes, edges and what to write on them.

Both styles (viz/dot.py) draw this one model, so everything here is about *what* a drawing says:
names, local derivatives, the gradient on each edge, clusters, collapsing and truncation. Nodes
are numbered by a walk from the roots, never by memory address or global id, so the same code
always gives the same drawing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from autograd import Tensor, edge_gradient, local_derivative
from viz.format import number
from viz.groups import GroupIndex

Kind = Literal["op", "input", "const", "group", "more"]

NAME_LIMIT = 16  # longer sub-expressions are written "…" inside a bigger one
ATOM = 100  # precedence of names, numbers and calls: never parenthesised
INFIX = {"add": ("+", 10), "sub": ("−", 10), "mul": ("×", 20), "div": ("/", 20),
         "matmul": ("@", 20), "pow": ("**", 30)}  # fmt: skip
CALLS = {"sigmoid": "σ", "sum": "Σ"}
ELEMENTWISE = {"add", "sub", "mul", "div", "pow"}  # ops whose inputs may have been broadcast


@dataclass
class Node:
    """One thing drawn: an op (standing for its result too), a leaf, or a stand-in."""

    key: str
    kind: Kind
    label: str  # op symbol, leaf name, constant value, group name or a note
    title: str  # the value's name or expression, for boxes that show it
    tensor: Tensor | None  # the value this node produces (None: several, or none shown)
    group: str | None = None  # cluster of an uncollapsed member
    count: int = 0  # ops inside a collapsed group, nodes hidden behind a "more" stub


@dataclass
class Edge:
    """A value flowing from `tail` into `head`, with what backprop says about it."""

    tail: str
    head: str
    tensor: Tensor
    name: str | None  # a named intermediate's name, worth repeating on its edge
    local: str | None  # local derivative of the head op wrt this input, e.g. "∂/∂x = y = 3"
    grad: np.ndarray | None  # the gradient flowing back along this edge; None before backward
    group: str | None = None  # cluster, when both ends are in the same one


@dataclass
class Output:
    """A root of the drawing: its node and the name written after the final arrow."""

    key: str
    name: str
    tensor: Tensor


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    outputs: list[Output]
    notes: list[str] = field(default_factory=list)  # said in the picture (e.g. "collapsed")


def build(
    roots: Sequence[Tensor],
    *,
    groups: Mapping[str, Iterable[Tensor] | Tensor] | None = None,
    collapse: bool = False,
    max_nodes: int = 150,
) -> Graph:
    """The drawing model of everything `roots` were computed from."""
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    order = walk(roots)
    names = _expressions(order)
    # a number in the code is drawn at each use, as in the book (the engine may share one
    # constant tensor between uses, and a shared "2" fanning out across the picture misleads)
    root_ids = {r.id for r in roots}
    drawn = [t for t in order if not is_number(t) or t.id in root_ids]
    group_of = _group_lookup(drawn, groups)
    notes: list[str] = []

    if any(group_of.values()) and (collapse or len(drawn) > max_nodes):
        if not collapse:
            notes.append(f"{len(drawn)} nodes are too many to read: groups collapsed")
        unit_of, units = _collapsed_units(drawn, group_of, roots, names)
    else:
        unit_of = {t.id: f"n{k}" for k, t in enumerate(drawn)}
        units = [_node(f"n{k}", t, names, group_of[t.id]) for k, t in enumerate(drawn)]

    links = _links(order, unit_of, {n.key: n.kind for n in units})
    if len(units) > max_nodes:
        notes.append(f"{len(units)} nodes: showing the last {max_nodes} (see max_nodes=)")
        units, links = _keep_last(units, links, max_nodes)
    units, links = _numbers_at_use(units, links, names)
    by_key = {n.key: n for n in units}
    edges = [_edge(link, by_key, names) for link in links]
    kept = by_key.keys()
    outputs = [
        Output(unit_of[r.id], _output_name(r, k, len(roots)), r)
        for k, r in enumerate(roots)
        if unit_of[r.id] in kept
    ]
    return Graph(units, edges, outputs, notes)


def walk(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor the roots depend on, each after its inputs (iterative: depth is free)."""
    order: list[Tensor] = []
    seen: set[int] = set()
    for root in roots:
        stack: list[tuple[Tensor, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node.id in seen:
                continue
            seen.add(node.id)
            stack.append((node, True))
            stack.extend((t, False) for t in reversed(node.inputs) if t.id not in seen)
    return order


# --- names ------------------------------------------------------------------------------
def is_constant(t: Tensor) -> bool:
    """A number written into the code (`x * 2`): unnamed, not a variable."""
    return t.is_leaf and not t.requires_grad and t.name is None


def is_number(t: Tensor) -> bool:
    """A single constant number, drawn as a label at each of its uses."""
    return is_constant(t) and t.size == 1


def _leaf_name(t: Tensor, unnamed: int) -> str:
    if t.name is not None:
        return t.name
    if is_constant(t):
        return number(t.data) if t.size == 1 else "const"
    return f"t{unnamed}"


def _expressions(order: Sequence[Tensor]) -> dict[int, tuple[str, int]]:
    """Each tensor's name, or for an unnamed result the expression that made it, e.g. `x+y`."""
    names: dict[int, tuple[str, int]] = {}
    unnamed = 0
    for t in order:
        if t.is_leaf:
            if t.name is None and not is_constant(t):
                unnamed += 1
            name = _leaf_name(t, unnamed)
            names[t.id] = (name, 5 if name.startswith("-") else ATOM)  # x×(-1), not x×-1
        elif t.name is not None:
            names[t.id] = (t.name, ATOM)
        else:
            names[t.id] = _expression(t, [names[i.id] for i in t.inputs])
    return names


def _expression(t: Tensor, args: list[tuple[str, int]]) -> tuple[str, int]:
    short = [(text, prec) if len(text) <= NAME_LIMIT else ("…", ATOM) for text, prec in args]
    op = t.op
    assert op is not None
    if op.name in INFIX and len(short) == 2:
        sign, prec = INFIX[op.name]
        (a, pa), (b, pb) = short
        left = a if pa > prec or (pa == prec and op.name != "pow") else f"({a})"
        commutes = op.name in ("add", "mul")
        right = b if pb > prec or (pb == prec and commutes) else f"({b})"
        return f"{left}{sign}{right}", prec
    if op.name == "neg":
        ((a, pa),) = short
        return ("−" + (a if pa >= ATOM else f"({a})")), 25
    if op.name == "transpose":
        ((a, pa),) = short
        return (a if pa >= ATOM else f"({a})") + "ᵀ", ATOM
    call = CALLS.get(op.name, op.name)
    return f"{call}({', '.join(text for text, _ in short)})", ATOM


def _operand_name(names: Mapping[int, tuple[str, int]], t: Tensor) -> str:
    """The name to write in a formula: compound expressions get parentheses."""
    text, prec = names[t.id]
    return text if prec >= ATOM else f"({text})"


def _output_name(root: Tensor, k: int, count: int) -> str:
    if root.name is not None and not root.is_leaf:  # a leaf already has its name at the tail
        return root.name
    return "out" if count == 1 else f"out{k + 1}"


def _symbol(t: Tensor) -> str:
    """What the op's circle says: `×`, `exp`, and `**2` for a power by a constant."""
    op = t.op
    assert op is not None
    if _constant_exponent(t):
        return "**" + number(t.inputs[1].data)
    return op.symbol


def _constant_exponent(t: Tensor) -> bool:
    return t.op is not None and t.op.name == "pow" and is_number(t.inputs[1])


# --- nodes, groups and collapsing -------------------------------------------------------
def _node(key: str, t: Tensor, names: Mapping[int, tuple[str, int]], group: str | None) -> Node:
    title = names[t.id][0]
    if not t.is_leaf:
        return Node(key, "op", _symbol(t), title, t, group)
    if is_constant(t):
        return Node(key, "const", title, title, t, group)
    return Node(key, "input", title, title, t, group)


def _group_lookup(
    order: Sequence[Tensor], groups: Mapping[str, Iterable[Tensor] | Tensor] | None
) -> dict[int, str | None]:
    """Group of each tensor: an explicit `groups=` entry wins over `viz.group` blocks."""
    explicit: dict[int, str] = {}
    for name, members in (groups or {}).items():
        for t in [members] if isinstance(members, Tensor) else members:
            if not isinstance(t, Tensor):
                raise TypeError(f"groups[{name!r}]: expected tensors, got {type(t).__name__}")
            explicit[t.id] = name
    index = GroupIndex()
    return {t.id: explicit.get(t.id) or index.lookup(t.id) for t in order}


def _collapsed_units(
    drawn: Sequence[Tensor],
    group_of: Mapping[int, str | None],
    roots: Sequence[Tensor],
    names: Mapping[int, tuple[str, int]],
) -> tuple[dict[int, str], list[Node]]:
    """One node per group, placed where its last member was; it shows the value it hands on
    when there is exactly one."""
    unit_of: dict[int, str] = {}
    group_keys: dict[str, str] = {}
    last: dict[str, int] = {}
    for k, t in enumerate(drawn):
        name = group_of[t.id]
        key = f"n{k}" if name is None else group_keys.setdefault(name, f"g{len(group_keys)}")
        unit_of[t.id] = key
        last[key] = k

    leaving: dict[str, dict[int, Tensor]] = {key: {} for key in group_keys.values()}
    for t in drawn:
        for source in t.inputs:
            key = unit_of.get(source.id)
            if key in leaving and key != unit_of[t.id]:
                leaving[key].setdefault(source.id, source)
    for r in roots:
        if unit_of[r.id] in leaving:
            leaving[unit_of[r.id]].setdefault(r.id, r)

    ops = Counter(unit_of[t.id] for t in drawn if not t.is_leaf)
    units: dict[str, Node] = {}
    for t in drawn:
        key = unit_of[t.id]
        if key in units:
            continue
        name = group_of[t.id]
        if name is None:
            units[key] = _node(key, t, names, None)
        else:
            out = list(leaving[key].values())
            value = out[0] if len(out) == 1 else None
            units[key] = Node(key, "group", name, name, value, count=ops[key])
    return unit_of, sorted(units.values(), key=lambda n: last[n.key])


# --- edges: local derivatives and gradients ---------------------------------------------
Targets = list[tuple[Tensor, int]]  # the (op, input) pairs one drawn edge stands for
Link = tuple[str, str, Targets]  # tail, head, targets
Pending = tuple[str | None, str, Targets]  # tail None: a number, drawn where it is used


def _links(
    order: Sequence[Tensor], unit_of: Mapping[int, str], kinds: Mapping[str, Kind]
) -> list[Pending]:
    """One edge per op input; into a collapsed group, one per distinct value."""
    merged: dict[tuple[str, str, str, int], Targets] = {}
    for h in order:
        if h.is_leaf:
            continue
        head = unit_of[h.id]
        for i, source in enumerate(h.inputs):
            if i == 1 and _constant_exponent(h):
                continue  # written into the symbol: **2
            if is_number(source) and source.id not in unit_of:
                if kinds[head] != "group":
                    merged[(str(h.id), head, "number", i)] = [(h, i)]
                continue
            tail = unit_of[source.id]
            if tail == head:
                continue
            key = (
                (tail, head, "value", source.id)
                if kinds[head] == "group"
                else (tail, head, "slot", i)
            )
            merged.setdefault(key, []).append((h, i))
    return [
        (None if kind == "number" else tail, head, targets)
        for (tail, head, kind, _), targets in merged.items()
    ]


def _keep_last(
    units: list[Node], links: list[Pending], keep: int
) -> tuple[list[Node], list[Pending]]:
    """The `keep` nodes nearest the output; whatever fed them comes from one `⋯` stub."""
    hidden = len(units) - keep
    kept = units[hidden:]
    keys = {n.key for n in kept}
    more = Node("more", "more", f"⋯ {hidden} earlier nodes", "", None, count=hidden)
    cut = [
        (tail if tail is None or tail in keys else more.key, head, targets)
        for tail, head, targets in links
        if head in keys
    ]
    return [more, *kept], cut


def _numbers_at_use(
    units: list[Node], links: list[Pending], names: Mapping[int, tuple[str, int]]
) -> tuple[list[Node], list[Link]]:
    """A label node for each use of a constant number, in its consumer's cluster."""
    group = {n.key: n.group for n in units}
    numbers: list[Node] = []
    done: list[Link] = []
    for tail, head, targets in links:
        if tail is None:
            h, i = targets[0]
            source = h.inputs[i]
            tail = f"c{len(numbers)}"
            label = names[source.id][0]
            numbers.append(Node(tail, "const", label, label, source, group[head]))
        done.append((tail, head, targets))
    return units + numbers, done


def _edge(link: Link, by_key: Mapping[str, Node], names: Mapping[int, tuple[str, int]]) -> Edge:
    """What one edge says: its value, the local derivative and the gradient flowing back."""
    tail, head, targets = link
    h, i = targets[0]
    source = h.inputs[i]
    grads = [edge_gradient(t, j) for t, j in targets]
    tail_group, head_group = by_key[tail].group, by_key[head].group
    return Edge(
        tail,
        head,
        source,
        source.name if not source.is_leaf else None,
        _local(h, i, names) if by_key[head].kind == "op" else None,
        None if any(g is None for g in grads) else sum(grads[1:], grads[0]),
        tail_group if tail_group == head_group else None,
    )


def _broadcast_axes(shape: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, ...]:
    """Axes of `out` along which an input of `shape` was copied by broadcasting."""
    lead = len(out) - len(shape)
    return tuple(range(lead)) + tuple(
        lead + j for j, s in enumerate(shape) if s == 1 and out[lead + j] != 1
    )


def _local(head: Tensor, i: int, names: Mapping[int, tuple[str, int]]) -> str | None:
    """`∂/∂apple = num = 2` for numbers; the tensor rule, e.g. `∂/∂b = Σ_rows g`, otherwise."""
    source = head.inputs[i]
    op = head.op
    if op is None or not source.requires_grad:
        return None
    # a lone input's partner is the labels (softmax cross-entropy): the book calls them t
    operands = [_operand_name(names, t) for t in head.inputs] + ["t"]
    if head.size == 1 and source.size == 1:
        text = _tidy(op.local_text(i, operands), operands)
        value = local_derivative(head, i)
        if value is not None and text.rsplit(" = ", 1)[-1] != number(value):
            text += f" = {number(value)}"
        return text
    text = _tidy(op.rule_text(i, operands), operands)
    axes = _broadcast_axes(source.shape, head.shape) if op.name in ELEMENTWISE else ()
    if not axes:
        return text
    lhs, rule = text.split(" = ", 1)
    return f"{lhs} = {_sum_name(axes, head.ndim)} {rule if rule == 'g' else f'({rule})'}"


def _tidy(text: str, operands: Sequence[str]) -> str:
    """Drop parentheses the formula already has: `exp((x×y))` → `exp(x×y)`, and a bare
    `∂/∂tax = (apple×num)` → `∂/∂tax = apple×num`."""
    lhs, rhs = text.split(" = ", 1)
    for name in operands:
        if name.startswith("("):
            rhs = rhs.replace(f"({name})", name)
            if rhs == name:
                rhs = name[1:-1]
    return f"{lhs} = {rhs}"


def _sum_name(axes: tuple[int, ...], ndim: int) -> str:
    if len(axes) == ndim:
        return "Σ_all"
    if ndim == 2:
        return "Σ_rows" if axes == (0,) else "Σ_cols"
    return "Σ_axes " + ",".join(str(a) for a in axes)
