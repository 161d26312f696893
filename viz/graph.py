"""Walk a tensor's graph into a neutral drawing model: nodes, edges and what to write on them.

Both styles (viz/dot.py) draw this one model, so everything here is about *what* a drawing says:
names, the chain rule on each edge (upstream gradient × local derivative), the sum where a value
branches, clusters, collapsing, and cutting a big graph. Nodes are numbered by a walk from the
roots, never by memory address or global id, so the same code always gives the same drawing.
Every formula comes from the op table (`local` and `rule` texts in autograd/ops.py); this module
only fills in names.
"""

from __future__ import annotations

import numbers
import warnings
from collections import ChainMap, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from autograd import (
    Step,
    Tensor,
    anomaly_of,
    edge_gradient,
    local_derivative,
    no_grad,
    region_of,
    softmax,
)
from autograd.text import (
    ATOM,
    SOFTMAX_LOSS,
    Context,
    batch_rows,
    branch_sum,
    chain_rule,
    constant_exponent,
    expression,
    expressions,
    grad_name,
    is_constant,
    is_number,
    local_text,
    loss_name,
    one_line,
    rule,
    shown,
    symbol,
    tensor_rule,
    upstream_name,
    uses_of,
    walk,
)

Kind = Literal["op", "input", "const", "group", "stub"]

FAN_OUT = 6  # a leaf used more often is drawn at each use: long fan-outs make Graphviz crawl
LOCAL_TEXT_LIMIT = 60  # past this many nodes the blue local derivatives are left out
MAX_RINGS = 12  # ops from the output before a picture is cut (wider ones would shrink the text)
LAYOUT_BUDGET = 1500  # predicted layout work (nodes + rank spans) drawn in a few seconds


ANOMALY_NOTE = 90  # characters of a detect_anomaly message quoted in the picture


class LargeDrawingWarning(UserWarning):
    """`max_nodes=None` on a graph whose layout is predicted to take long."""


@dataclass
class Node:
    """One thing drawn: an op (standing for its result too), a leaf, or a stand-in."""

    key: str
    kind: Kind
    label: str  # op symbol, leaf name, constant value, group name or a stub's note
    title: str  # the value's name or expression, for boxes that show it
    tensor: Tensor | None  # the value this node produces (None: several, or none shown)
    group: str | None = None  # key of the cluster it is drawn in
    count: int = 0  # ops inside a collapsed group, nodes hidden behind a stub
    total: Total | None = None  # where a value branches: its gradient as the sum of branches
    spread: bool = False  # one of the copies of a leaf drawn at each of its many uses
    lines: list[str] = field(default_factory=list)  # a collapsed layer's formula and rules
    anomaly: str | None = None  # where detect_anomaly found NaN/Inf: the message (outlined red)


@dataclass
class Total:
    """`∂L/∂x = 4 + 4 + 4 = 12`: the gradients of a value's uses, summed where they meet."""

    text: str
    grad: np.ndarray


@dataclass
class Edge:
    """A value flowing from `tail` into `head`, with what backprop says about it."""

    tail: str
    head: str
    tensor: Tensor
    name: str | None  # a named intermediate's name, worth repeating on its edge
    local: str | None  # local derivative of the head op wrt this input, e.g. "∂/∂x = y = 3"
    grad: np.ndarray | None  # the gradient flowing back along this edge; None before backward
    explain: str | None = None  # the chain rule: "∂L/∂x = 1.1 × 2 = 2.2", "∂L/∂W = xᵀ · ∂L/∂Y"
    group: str | None = None  # cluster, when both ends are in the same one
    count: int = 1  # parallel arrows merged into this one (`x * x`: 2)
    targets: tuple[tuple[Tensor, int], ...] = ()  # the (op, input) pairs this arrow stands for


@dataclass
class Output:
    """A root of the drawing: its node and the name written after the final arrow."""

    key: str
    name: str
    tensor: Tensor
    grad: np.ndarray | None = None  # ∂L/∂output: the seed backward started with


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    outputs: list[Output]
    clusters: dict[str, str] = field(default_factory=dict)  # key -> label
    notes: list[str] = field(default_factory=list)  # said in the picture (e.g. "collapsed")
    loss: str = "L"  # what the gradients are of: ∂L/∂x
    context: Context | None = None  # the names the labels use, for captions that match them
    unit_of: dict[int, str] = field(default_factory=dict)  # tensor id -> the node drawing it


@dataclass
class Link:
    """An edge before it is described: the (op, input) pairs it stands for."""

    tail: str
    head: str
    targets: list[tuple[Tensor, int]]
    value: Tensor | None = None  # what flows, when it is not the targets' input (softmax's y)


@dataclass(frozen=True)
class Gradients:
    """Where a drawing reads gradients: ∂L/∂value of each value, and each edge's share."""

    of: Callable[[Tensor], np.ndarray | None]
    edge: Callable[[Tensor, int], np.ndarray | None]

    @classmethod
    def recorded(cls, steps: Sequence[Step]) -> Gradients:
        """The gradients of one backward pass as `backward_steps` recorded it: the same
        numbers `.grad` holds after `backward()`, without running it."""
        total: dict[int, np.ndarray] = {}
        shares: dict[tuple[int, int], np.ndarray] = {}
        for step in steps:
            total[step.node.id] = step.upstream
            for sent in step.sent:
                shares[(step.node.id, sent.index)] = sent.gradient
                total[sent.input.id] = sent.total  # a leaf's last arrival is its total
        return cls(lambda t: total.get(t.id), lambda h, i: shares.get((h.id, i)))


def _stored_grad(t: Tensor) -> np.ndarray | None:
    return None if t.grad is None else np.asarray(t.grad.data)


STORED = Gradients(_stored_grad, edge_gradient)


def build(
    roots: Sequence[Tensor],
    *,
    groups: Mapping[str, Iterable[Tensor] | Tensor] | None = None,
    collapse: bool = False,
    max_nodes: int | None = 150,
    grads: Gradients | None = None,
) -> Graph:
    """The drawing model of everything `roots` were computed from.

    Gradients come from `grads` (default: the tensors' `.grad` after backward; a page that
    steps through the pass passes the ones `autograd.backward_steps` recorded).

    `max_nodes=None` draws everything (warning first when the layout will be slow); otherwise
    the graph is simplified until it is readable and quick to lay out: groups collapsed, leaves
    used very often drawn at each use, then cut by distance from the output.
    """
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, numbers.Integral) or max_nodes < 1
    ):
        raise ValueError(
            f"max_nodes must be a whole number of at least 1 (or None for everything), "
            f"got {max_nodes!r}"
        )
    if groups is not None and not isinstance(groups, Mapping):
        raise TypeError(
            f"groups: expected a dict of name -> tensors, e.g. {{'Affine1': [h, W1]}}, got "
            f"{type(groups).__name__}"
        )
    limit = max_nodes or 0
    frontier = set() if max_nodes is None else _frontier(roots, limit, collapse or bool(groups))
    order = walk(roots, stop=frontier)
    names = expressions(order, frontier)  # (names on one line: a newline written \n)
    root_ids = {r.id for r in roots}
    # a number in the code is drawn at each use, as in the book (the engine may share one
    # constant tensor between uses, and a shared "2" fanning out across the picture misleads)
    drawn = [t for t in order if not is_number(t) or t.id in root_ids]
    uses = uses_of(order)
    cluster_of, clusters = _clusters(drawn, groups, uses)
    notes: list[str] = []
    grads = grads or STORED
    seeds = [grads.of(r) for r in roots]
    loss = loss_name(roots, seeds)
    everything = max_nodes is None
    if everything:
        limit = len(drawn)

    if any(cluster_of.values()) and (collapse or len(drawn) > limit):
        if not collapse:
            notes.append(f"{len(drawn)} nodes are too many to read: layers collapsed")
        units, unit_of, links = _collapsed(drawn, cluster_of, clusters, roots, names, uses, loss)
    else:
        unit_of = {t.id: f"n{k}" for k, t in enumerate(drawn)}
        units = [_node(f"n{k}", t, names, cluster_of[t.id], frontier) for k, t in enumerate(drawn)]
        units, links = _plain_links(
            drawn, units, unit_of, uses, everything, notes, names, loss, frontier, grads
        )

    if not everything:
        said: list[str] = []
        units, links = _cut(units, links, [unit_of[r.id] for r in roots], limit, said)
        if frontier:  # the walk itself stopped early: how much is hidden is not counted
            said = [
                f"a big graph: showing the {sum(n.kind != 'stub' for n in units)} nodes nearest "
                "the output; the ⋯ stubs stand for the rest (see max_nodes=)"
            ]
        notes += said
    elif _layout_cost(units, links) > LAYOUT_BUDGET:
        warnings.warn(
            f"draw: drawing all {len(units)} nodes and {len(links)} edges; Graphviz may take "
            "minutes to lay this out (the default max_nodes=150 keeps it to seconds)",
            LargeDrawingWarning,
            stacklevel=3,
        )
    units, links = _numbers_at_use(units, links, names)
    for node in units:
        if node.anomaly:  # say why the outline is red, in the message's own first words
            said = ": ".join(node.anomaly.splitlines()[0].split(": ")[:2])[:ANOMALY_NOTE]
            notes.append(f"outlined in red: {said} (all of it: autograd.anomaly_of)")
    by_key = {n.key: n for n in units}
    show_local = everything or len(units) <= LOCAL_TEXT_LIMIT
    seeded = {
        r.id
        for r, s in zip(roots, seeds, strict=True)
        if r.size == 1 and s is not None and s.item() == 1
    }
    context = Context(names, uses, loss, seeded)
    edges = [_edge(link, by_key, context, show_local, grads) for link in links]
    _branch_totals(units, uses, names, loss, grads)
    kept = by_key.keys()
    outputs = [
        Output(unit_of[r.id], _output_name(r, k, len(roots)), r, seeds[k])
        for k, r in enumerate(roots)
        if unit_of[r.id] in kept
    ]
    used = {n.group for n in units}
    kept_clusters = {k: v for k, v in clusters.items() if k in used}
    drawn_in = {t: key for t, key in unit_of.items() if key in kept}
    return Graph(units, edges, outputs, kept_clusters, notes, loss, context, drawn_in)


def _frontier(roots: Sequence[Tensor], limit: int, grouped: bool) -> set[int]:
    """For a graph too big to draw whole, the values where a walk from the outputs stops:
    the first ring of ops that no longer fits in `limit` nodes or `MAX_RINGS` rings. Found
    without visiting the rest, so a 100,000-op chain costs no more than a small graph. Empty
    when everything fits, or when layers (scopes) are marked: those are collapsed instead,
    which needs the whole graph."""
    seen = {r.id for r in roots}
    ring = list(roots)
    for _ in range(MAX_RINGS + 1):
        if grouped or any(region_of(t) is not None for t in ring):
            return set()
        nxt = []
        for t in ring:
            for source in t.inputs:
                if source.id not in seen and not is_number(source):
                    seen.add(source.id)
                    nxt.append(source)
        if not nxt:
            return set()
        if len(seen) > 2 * limit:  # leaves are cheap, and _cut fits the rest exactly
            return {t.id for t in nxt if not t.is_leaf}
        ring = nxt
    return {t.id for t in ring if not t.is_leaf}


# --- names ------------------------------------------------------------------------------


def _shown_name(t: Tensor, names: Mapping[int, tuple[str, int]]) -> str | None:
    """The name repeated on a result's arrow: one the user gave, or a v1 standing for a long
    expression (leaves have theirs at the tail already)."""
    if t.is_leaf:
        return None
    if t.name is not None:
        return one_line(t.name)
    text = names[t.id][0]
    return text if text[:1] == "v" and text[1:].isdigit() else None  # not user-given: auto


def _output_name(root: Tensor, k: int, count: int) -> str:
    if root.name is not None and not root.is_leaf:  # a leaf already has its name at the tail
        return one_line(root.name)
    return "out" if count == 1 else f"out{k + 1}"


# --- nodes and clusters -----------------------------------------------------------------
def _node(
    key: str,
    t: Tensor,
    names: Mapping[int, tuple[str, int]],
    group: str | None,
    frontier: set[int] | None = None,
) -> Node:
    title = names[t.id][0]
    if frontier and t.id in frontier:  # where the walk stopped: a stub for what feeds it
        return Node(key, "stub", "⋯ earlier nodes", title, t)
    if not t.is_leaf:
        assert t.op is not None
        label = "Cross Entropy\nError" if t.op.name == SOFTMAX_LOSS else symbol(t)
        return Node(key, "op", label, title, t, group, anomaly=anomaly_of(t))
    if is_constant(t):
        return Node(key, "const", title, title, t, group)
    return Node(key, "input", title, title, t, group)


def _clusters(
    drawn: Sequence[Tensor],
    groups: Mapping[str, Iterable[Tensor] | Tensor] | None,
    uses: Mapping[int, list[tuple[Tensor, int]]],
) -> tuple[dict[int, str | None], dict[str, str]]:
    """Cluster key of each tensor, and each cluster's label.

    An explicit `groups=` entry wins over `scope` blocks (innermost wins). A parameter made
    outside the block (W1 in `Affine.__init__`) joins the cluster that uses it, so the layer
    holds its weights; data and labels stay outside, as the layer's inputs.
    """
    explicit: dict[int, str] = {}
    for name, members in (groups or {}).items():
        for t in [members] if isinstance(members, Tensor) else members:
            if not isinstance(t, Tensor):
                raise TypeError(f"groups[{name!r}]: expected tensors, got {type(t).__name__}")
            explicit[t.id] = f"g:{name}"
    labels: dict[str, str] = {f"g:{name}": name for name in (groups or {})}
    region_keys: dict[int, str] = {}
    cluster_of: dict[int, str | None] = {}
    for t in drawn:
        if t.id in explicit:
            cluster_of[t.id] = explicit[t.id]
            continue
        region = region_of(t)
        if region is None or t.is_leaf:
            cluster_of[t.id] = None
            continue
        key = region_keys.setdefault(id(region), f"r{len(region_keys)}")
        labels[key] = region.name
        cluster_of[t.id] = key
    for t in drawn:
        if t.is_leaf and t.id not in explicit and t.requires_grad:
            homes = {cluster_of.get(h.id) for h, _ in uses.get(t.id, ())}
            if len(homes) == 1:
                cluster_of[t.id] = homes.pop()
    return cluster_of, labels


def _plain_links(
    drawn: Sequence[Tensor],
    units: list[Node],
    unit_of: dict[int, str],
    uses: Mapping[int, list[tuple[Tensor, int]]],
    everything: bool,
    notes: list[str],
    names: Mapping[int, tuple[str, int]],
    loss: str,
    frontier: set[int],
    grads: Gradients,
) -> tuple[list[Node], list[Link]]:
    """One edge per (value, op) pair, parallel uses merged; the softmax loss split in two."""
    by_key = {n.key: n for n in units}
    spread: set[int] = set()  # leaves drawn at each use
    if not everything:
        for t in drawn:
            n_uses = len(uses.get(t.id, ()))
            if t.is_leaf and len({h.id for h, _ in uses.get(t.id, ())}) > FAN_OUT:
                spread.add(t.id)
                name = names[t.id][0]
                grad = ""
                total = grads.of(t)
                if total is not None and t.size == 1:
                    grad = f"; ∂{loss}/∂{name} = {shown(total)} in all"
                notes.append(f"{name} is used {n_uses} times here: drawn at each use{grad}")
    merged: dict[tuple[str, str], Link] = {}
    extra: list[Node] = []
    for h in drawn:
        if h.is_leaf or h.id in frontier:
            continue
        loss_key = unit_of[h.id]
        scores_key = loss_key
        if h.op is not None and h.op.name == SOFTMAX_LOSS:
            scores_key = _split_softmax_loss(h, by_key[loss_key], extra, merged)
        for i, source in enumerate(h.inputs):
            if i == 1 and constant_exponent(h):
                continue  # written into the symbol: **2
            head = scores_key if i == 0 else loss_key
            if source.id not in unit_of:  # a number, drawn where it is used
                merged[(f"#{h.id}.{i}", head)] = Link("", head, [(h, i)])
                continue
            tail = unit_of[source.id]
            if source.id in spread:
                tail = f"{tail}u{len(extra)}"
                copy = _node(tail, source, names, by_key[head].group)
                copy.spread = True
                extra.append(copy)
            merged.setdefault((tail, head), Link(tail, head, [])).targets.append((h, i))
    spread_keys = {unit_of[i] for i in spread}
    kept = [n for n in units if n.key not in spread_keys]
    return kept + extra, list(merged.values())


def _split_softmax_loss(
    h: Tensor, loss: Node, extra: list[Node], merged: dict[tuple[str, str], Link]
) -> str:
    """Fig. 5-29/5-30: scores → Softmax → y → Cross Entropy Error ← t. Returns the key the
    scores flow into. The engine's op stays fused; y is computed here only to be shown."""
    with no_grad():
        y = softmax(Tensor._wrap(np.asarray(h.inputs[0].data)))
    y.name = "y"
    key = f"{loss.key}s"
    extra.append(Node(key, "op", "Softmax", "y", y, loss.group))
    merged[(key, loss.key)] = Link(key, loss.key, [], value=y)
    if len(h.inputs) == 1:  # integer class labels, kept as a parameter of the op
        labels = Tensor._wrap(np.asarray(h.params["labels"], dtype=np.float64))
        labels.name = "t"
        tkey = f"{loss.key}t"
        extra.append(Node(tkey, "input", "t", "t", labels, None))
        merged[(tkey, loss.key)] = Link(tkey, loss.key, [], value=labels)
    return key


def _collapsed(
    drawn: Sequence[Tensor],
    cluster_of: Mapping[int, str | None],
    clusters: Mapping[str, str],
    roots: Sequence[Tensor],
    names: Mapping[int, tuple[str, int]],
    uses: Mapping[int, list[tuple[Tensor, int]]],
    loss: str,
) -> tuple[list[Node], dict[int, str], list[Link]]:
    """One node per cluster, placed where its last member was, listing its parameters and
    its backward rules; everything outside (x, t, numbers) stays drawn."""
    unit_of: dict[int, str] = {}
    last: dict[str, int] = {}
    for k, t in enumerate(drawn):
        key = cluster_of[t.id] or f"n{k}"
        unit_of[t.id] = key
        last[key] = k
    members: dict[str, list[Tensor]] = defaultdict(list)
    for t in drawn:
        if cluster_of[t.id]:
            members[unit_of[t.id]].append(t)
    units: dict[str, Node] = {}
    for t in drawn:
        key = unit_of[t.id]
        if key in units:
            continue
        if cluster_of[t.id] is None:
            units[key] = _node(key, t, names, None)
            continue
        inside = members[key]
        ids = {m.id for m in inside}
        leaving = [m for m in inside if m.id in {r.id for r in roots}] + [
            m for m in inside if any(h.id not in ids for h, _ in uses.get(m.id, ()))
        ]
        out = leaving[0] if len({m.id for m in leaving}) == 1 else None
        ops = sum(1 for m in inside if not m.is_leaf)
        found = next((m for m in (anomaly_of(m) for m in inside) if m), None)
        node = Node(key, "group", clusters[key], clusters[key], out, count=ops, anomaly=found)
        is_root = out is not None and out.id in {r.id for r in roots}
        node.lines = _layer_rules(inside, ids, out, names, uses, loss, is_root)
        units[key] = node
    links: dict[tuple[str, str, int], Link] = {}
    for h in drawn:
        head = unit_of[h.id]
        for i, source in enumerate(h.inputs):
            if i == 1 and constant_exponent(h):
                continue
            tail = unit_of.get(source.id)
            if tail == head:
                continue
            if tail is None:  # a number
                if units[head].kind != "group":
                    links[(f"#{h.id}.{i}", head, 0)] = Link("", head, [(h, i)])
                continue
            links.setdefault((tail, head, source.id), Link(tail, head, [])).targets.append((h, i))
    ordered = sorted(units.values(), key=lambda n: last[n.key])
    return ordered, unit_of, list(links.values())


def _layer_rules(
    inside: Sequence[Tensor],
    ids: set[int],
    out: Tensor | None,
    names: Mapping[int, tuple[str, int]],
    uses: Mapping[int, list[tuple[Tensor, int]]],
    loss: str,
    is_root: bool,
) -> list[str]:
    """A collapsed layer says what it computes and what it sends back, in the book's
    letters: `Y = X·W1+b1`, `∂L/∂X = ∂L/∂Y · W1ᵀ`, ... (X: what flows in, Y: what flows out)."""
    local = ChainMap[int, tuple[str, int]]({}, names)  # names as seen from inside the layer
    entering: list[Tensor] = []
    for t in inside:
        for source in t.inputs:
            if source.id not in ids and source.id not in local.maps[0] and not is_number(source):
                entering.append(source)
                local[source.id] = (_outer_name(source, len(entering)), ATOM)
    for t in inside:
        if not t.is_leaf:
            local[t.id] = expression(t, [local[s.id] for s in t.inputs])
    if out is None:
        return []
    called = loss if is_root else "Y"  # the loss itself: its gradient 1 is left out
    local[out.id] = (called, ATOM)
    lines = []
    if out.op is not None:
        formula = expression(out, [local[s.id] for s in out.inputs])[0]
        lines.append(f"{called} = {formula}")
    for t in inside:
        for i, source in enumerate(t.inputs):
            computed_inside = source.op is not None and source.id in ids
            if not source.requires_grad or is_number(source) or computed_inside:
                continue
            g = upstream_name(t, Context(local, uses, loss, {out.id} if is_root else set()), ids)
            lines.append(rule(t, i, local, g, loss=loss, rows=batch_rows(t)))
    return lines


def _outer_name(source: Tensor, k: int) -> str:
    if source.name is not None:
        return one_line(source.name)
    return "X" if k == 1 else f"X{k}"


# --- cutting a big graph by structure ---------------------------------------------------
def _cut(
    units: list[Node], links: list[Link], root_keys: Sequence[str], limit: int, notes: list[str]
) -> tuple[list[Node], list[Link]]:
    """Keep the nodes nearest the outputs, ring by ring (so a cut falls between whole
    sub-expressions or layers), within `limit` nodes, `MAX_RINGS` ops deep and the layout
    budget; each value cut off comes from its own stub saying how much is behind it."""
    inputs: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        inputs[link.head].append(link)
    seen = set(root_keys)
    ring = list(dict.fromkeys(root_keys))
    rings: list[list[str]] = []
    while ring:
        rings.append(ring)
        nxt: list[str] = []
        for key in ring:
            for link in inputs.get(key, ()):
                if link.tail and link.tail not in seen:
                    seen.add(link.tail)
                    nxt.append(link.tail)
        ring = nxt
    small = len(units) <= limit and len(rings) <= MAX_RINGS
    if small and _layout_cost(units, links) <= LAYOUT_BUDGET:
        return units, links
    by_key = {n.key: n for n in units}
    keep: set[str] = set()
    for depth, ring in enumerate(rings):
        trial = keep | set(ring)
        cut_off = {link.tail for link in links if link.head in trial and link.tail not in trial}
        inside = [n for n in units if n.key in trial or n.key in cut_off]
        fits = (
            len(trial) + len(cut_off) <= limit
            and depth < MAX_RINGS
            and _layout_cost(inside, [k for k in links if k.head in trial]) <= LAYOUT_BUDGET
        )
        if keep and not fits:
            break
        keep = trial
    hidden_behind = _hidden_counts(units, links, keep)
    kept_units = [n for n in units if n.key in keep]
    stubs: dict[str, Node] = {}
    cut_links: list[Link] = []
    for link in links:
        if link.head not in keep:
            continue
        if not link.tail or link.tail in keep:
            cut_links.append(link)
            continue
        source = by_key[link.tail]
        if source.kind in ("input", "const"):  # a leaf costs no more than its stub
            stubs.setdefault(source.key, source)
            cut_links.append(link)
            continue
        stub_key = f"{link.tail}cut"
        if stub_key not in stubs:
            behind = hidden_behind.get(link.tail, 1)
            label = f"⋯ {behind} node{'s' if behind != 1 else ''}" if behind else "⋯ earlier nodes"
            stubs[stub_key] = Node(
                stub_key, "stub", label, source.title, source.tensor, count=behind
            )
        cut_links.append(Link(stub_key, link.head, link.targets, link.value))
    hidden = len(units) - len(kept_units) - sum(1 for s in stubs.values() if s.kind != "stub")
    notes.append(
        f"{len(units)} nodes: showing the {len(kept_units)} nearest the output; "
        f"{hidden} earlier ones are behind the ⋯ stubs (see max_nodes=)"
    )
    return [*(s for s in stubs.values()), *kept_units], cut_links


def _hidden_counts(units: list[Node], links: list[Link], keep: set[str]) -> dict[str, int]:
    """For each cut value, how many hidden nodes it was computed from (itself included); 0
    where that reaches a stub of the walk, which stopped before counting what lies behind."""
    unwalked = {n.key for n in units if n.kind == "stub"}
    inputs: dict[str, list[str]] = defaultdict(list)
    for link in links:
        if link.tail:
            inputs[link.head].append(link.tail)
    counts: dict[str, int] = {}
    for link in links:
        tail = link.tail
        if not tail or tail in keep or tail in counts or link.head not in keep:
            continue
        seen = {tail}
        stack = [tail]
        while stack:
            for source in inputs.get(stack.pop(), ()):
                if source not in seen and source not in keep:
                    seen.add(source)
                    stack.append(source)
        counts[tail] = 0 if seen & unwalked else len(seen)
    return counts


def _layout_cost(units: list[Node], links: list[Link]) -> int:
    """Predicted layout work: nodes plus the columns each arrow spans (Graphviz adds a
    virtual node per column crossed, and long fan-outs are what make it slow)."""
    inputs: dict[str, list[str]] = defaultdict(list)
    for link in links:
        if link.tail:
            inputs[link.head].append(link.tail)
    rank: dict[str, int] = {}
    for node in units:  # units come inputs first
        rank[node.key] = 1 + max((rank.get(t, 0) for t in inputs.get(node.key, ())), default=0)
    span = sum(
        max(1, rank.get(link.head, 0) - rank.get(link.tail, 0)) for link in links if link.tail
    )
    return len(units) + 2 * len(links) + 2 * span  # book style: a label node per arrow


def _numbers_at_use(
    units: list[Node], links: list[Link], names: Mapping[int, tuple[str, int]]
) -> tuple[list[Node], list[Link]]:
    """A label node for each use of a constant number, in its consumer's cluster."""
    group = {n.key: n.group for n in units}
    numbers: list[Node] = []
    for link in links:
        if not link.tail:
            h, i = link.targets[0]
            source = h.inputs[i]
            link.tail = f"c{len(numbers)}"
            label = names[source.id][0]
            numbers.append(Node(link.tail, "const", label, label, source, group[link.head]))
    return units + numbers, links


# --- edges: the chain rule --------------------------------------------------------------


def _edge(
    link: Link,
    by_key: Mapping[str, Node],
    context: Context,
    show_local: bool,
    grads: Gradients,
) -> Edge:
    """What one edge says: its value, the gradient flowing back and how it was made."""
    tail, head = by_key[link.tail], by_key[link.head]
    group = tail.group if tail.group == head.group else None
    if link.value is not None:  # softmax's output y, or class labels
        name = one_line(link.value.name) if tail.kind == "op" and link.value.name else None
        return Edge(link.tail, link.head, link.value, name, None, None, None, group)
    h, i = link.targets[0]
    source = h.inputs[i]
    shares = [grads.edge(t, j) for t, j in link.targets]
    grad = None if any(g is None for g in shares) else sum(shares[1:], shares[0])
    op_head = head.kind == "op"
    local = local_text(h, i, context.names) if op_head and show_local else None
    explain = None
    if grad is not None and op_head:
        explain = _chain_rule(link.targets, source, context, grads)
    # out of a collapsed layer only a name the user gave is worth repeating
    shown = source.name and one_line(source.name)
    name = shown if tail.kind == "group" else _shown_name(source, context.names)
    return Edge(link.tail, link.head, source, name, local, grad, explain, group,
                len(link.targets), tuple(link.targets))  # fmt: skip


def _chain_rule(
    targets: list[tuple[Tensor, int]], source: Tensor, context: Context, grads: Gradients
) -> str | None:
    """Scalars: `∂L/∂apple = 1.1 × 2 = 2.2` (upstream × local = this edge's gradient);
    tensors: the op's rule with named operands, `∂L/∂W = xᵀ · ∂L/∂Y`."""
    lhs = grad_name(context.loss, context.names, source)
    h, i = targets[0]
    if all(t.size == 1 for t, _ in targets) and source.size == 1:
        terms = []
        for t, j in targets:
            up, d = grads.of(t), local_derivative(t, j)
            if up is None or d is None:
                return None
            terms.append((up, d))
        total = sum(float(np.sum(grads.edge(t, j))) for t, j in targets)  # type: ignore[arg-type]
        return chain_rule(lhs, terms, total)
    return tensor_rule(h, i, context)


# --- branches sum -----------------------------------------------------------------------
def _branch_totals(
    units: list[Node],
    uses: Mapping[int, list[tuple[Tensor, int]]],
    names: Mapping[int, tuple[str, int]],
    loss: str,
    grads: Gradients,
) -> None:
    """A value used more than once shows its gradient as the sum of its uses' gradients."""
    for node in units:
        t = node.tensor
        if node.kind not in ("input", "op") or t is None or not t.requires_grad or node.spread:
            continue
        parts = [grads.edge(h, i) for h, i in uses.get(t.id, ())]
        if not parts or any(p is None for p in parts):
            continue
        total = sum(parts[1:], parts[0])  # type: ignore[arg-type]
        # uses beyond a cut are not walked: the engine's accumulated gradient is the total
        stored = grads.of(t)
        hidden = stored is not None and not np.allclose(total, stored)
        if len(parts) < 2 and not hidden:
            continue
        if hidden:
            total = np.asarray(stored)
        lhs = grad_name(loss, names, t)
        if t.size == 1:
            said = branch_sum(lhs, parts, total, "uses not drawn" if hidden else None)  # type: ignore[arg-type]
            node.total = Total(said, total)
        else:
            node.total = Total(f"{lhs} = sum of its {len(parts)} branches", total)
