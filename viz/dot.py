"""DOT text for a drawing model: the book's picture (`book`) or one box per value (`nodes`).

Written as plain text, not through a Graphviz binding, so `.source` works without any renderer
and is byte-identical from run to run (golden tests compare it). Every label is an HTML-like
label, escaped here and nowhere else.

In the book's style an edge is drawn through a small label node: a table whose rule (<HR/>)
sits under the value cell, entered at the cell's bottom-left corner and left at its
bottom-right, so the rule continues the arrow with the forward value above it and the gradient
(red) below, as in the book's figures. Graphviz's own edge labels sit beside a line, never on
both sides of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Literal

import numpy as np

from autograd import Tensor
from viz.format import number, shape_dtype, values
from viz.graph import Edge, Graph, Node

Style = Literal["book", "nodes"]
STYLES: tuple[Style, ...] = ("book", "nodes")

FONT = "Helvetica"
GRAD = "#d62728"  # the book prints gradients in red
LOCAL = "#4a6fa5"  # local derivatives: visually secondary
MUTED = "#777777"
LOCAL_SIZE = 9
SMALL = 10


def html(text: str) -> str:
    """Text for an HTML-like label: escaped, line breaks kept."""
    return "<BR/>".join(escape(line, quote=False) for line in text.split("\n"))


def value_lines(t: Tensor) -> list[str]:
    """A scalar as its number; a tensor as shape, dtype and values (or their summary)."""
    data = np.asarray(t.data)
    if data.ndim == 0:
        return [number(data)]
    return [shape_dtype(data), values(data)]


def emit(graph: Graph, style: Style, title: str | None = None) -> str:
    """The DOT source for `graph`."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}; got {style!r}")
    writer = _Book(graph) if style == "book" else _Nodes(graph)
    return writer.source(title)


class _Writer:
    """Shared skeleton: header, caption, clusters; subclasses say how nodes and edges look."""

    graph_attrs: str = ""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.clusters: dict[str | None, list[str]] = {None: []}
        self.edges: list[str] = []

    def source(self, title: str | None) -> str:
        for node in self.graph.nodes:
            self.node(node)
        for k, edge in enumerate(self.graph.edges):
            self.edge(k, edge)
        for k, out in enumerate(self.graph.outputs):
            self.output(k, out.key, out.name, out.tensor)
        lines = [
            "digraph scratchgrad {",
            f'  graph [{self.graph_attrs}, fontname="{FONT}"{_caption(title, self.graph.notes)}];',
            f'  node [fontname="{FONT}", fontsize=14];',
            f'  edge [fontname="{FONT}", arrowsize=0.7];',
        ]
        lines += ["  " + s for s in self.clusters[None]]
        for k, (name, body) in enumerate((n, b) for n, b in self.clusters.items() if n):
            lines.append(f"  subgraph cluster_{k} {{")
            lines.append(
                f'    label=<<B>{html(name)}</B>>; style="rounded,dashed"; color="{MUTED}"; '
                f'fontcolor="#444444"; fontsize=12;'
            )
            lines += ["    " + s for s in body]
            lines.append("  }")
        lines += ["  " + s for s in self.edges]
        lines.append("}")
        return "\n".join(lines) + "\n"

    def add(self, statement: str, group: str | None = None) -> None:
        self.clusters.setdefault(group, []).append(statement)

    def node(self, node: Node) -> None:
        if node.kind == "more":
            self.add(
                f'{node.key} [shape=plaintext, fontcolor="{MUTED}", fontsize={SMALL}, '
                f"label=<<I>{html(node.label)}</I>>];"
            )
        elif node.kind == "const":
            self.add(
                f'{node.key} [shape=plaintext, fontcolor="{MUTED}", label=<{_const_label(node)}>];',
                node.group,
            )
        else:
            self.value_node(node)

    def value_node(self, node: Node) -> None:
        raise NotImplementedError

    def edge(self, k: int, edge: Edge) -> None:
        raise NotImplementedError

    def output(self, k: int, key: str, name: str, tensor: Tensor) -> None:
        raise NotImplementedError


class _Book(_Writer):
    """Fig. 5-16 and friends: ops as circles, numbers on the arrows, gradients under them."""

    graph_attrs = "rankdir=LR, nodesep=0.3, ranksep=0.25, splines=polyline"

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph)
        self.numbers = {
            n.key
            for n in graph.nodes
            if n.kind == "const" and n.tensor is not None and n.tensor.size == 1
        }

    def value_node(self, node: Node) -> None:
        if node.kind == "op":
            self.add(f"{node.key} [{_circle(node.label)}];", node.group)
        elif node.kind == "input":
            self.add(f"{node.key} [shape=plaintext, label=<{html(node.label)}>];", node.group)
        else:  # a collapsed group
            ops = f"{node.count} op" + ("" if node.count == 1 else "s")
            self.add(
                f'{node.key} [shape=box, style="rounded", color="{MUTED}", '
                f'label=<<B>{html(node.label)}</B><BR/><FONT POINT-SIZE="{SMALL}" '
                f'COLOR="{MUTED}">{ops}</FONT>>];'
            )

    def edge(self, k: int, edge: Edge) -> None:
        if edge.tail in self.numbers:  # the label already says it: a plain arrow
            self.edges.append(f"{edge.tail} -> {edge.head};")
            return
        lines = value_lines(edge.tensor)
        if edge.name is not None:
            lines[0] = f"{edge.name} = {lines[0]}"
        self._through_label(f"e{k}", edge.tail, edge.head, lines, edge.grad, edge.local, edge.group)

    def output(self, k: int, key: str, name: str, tensor: Tensor) -> None:
        self.add(f"out{k} [shape=plaintext, label=<{html(name)}>];")
        grad = None if tensor.grad is None else np.asarray(tensor.grad.data)
        self._through_label(f"o{k}", key, f"out{k}", value_lines(tensor), grad, None, None)

    def _through_label(
        self,
        key: str,
        tail: str,
        head: str,
        lines: list[str],
        grad: np.ndarray | None,
        local: str | None,
        group: str | None,
    ) -> None:
        size = "" if len(lines) == 1 else f' POINT-SIZE="{SMALL + 1}"'
        rows = [
            f'<TR><TD PORT="v" CELLPADDING="2"><FONT{size}>{html(chr(10).join(lines))}</FONT>'
            "</TD></TR><HR/>"
        ]
        if grad is not None:
            rows.append(
                f'<TR><TD CELLPADDING="2"><FONT COLOR="{GRAD}"{size}>{html(values(grad))}'
                "</FONT></TD></TR>"
            )
        if local is not None:
            rows.append(
                f'<TR><TD><FONT POINT-SIZE="{LOCAL_SIZE}" COLOR="{LOCAL}">{html(local)}'
                "</FONT></TD></TR>"
            )
        if len(rows) == 1:
            rows.append('<TR><TD CELLPADDING="0"></TD></TR>')  # a rule needs a row below it
        table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>"
        self.add(f"{key} [shape=plaintext, margin=0, label=<{table}>];", group)
        self.edges.append(f"{tail} -> {key}:v:sw [arrowhead=none];")
        self.edges.append(f"{key}:v:se -> {head};")


class _Nodes(_Writer):
    """micrograd's layout done right: a box per value, a small circle per op, and the local
    derivative on each edge into an op."""

    graph_attrs = "rankdir=LR, nodesep=0.25, ranksep=0.35"

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph)
        self.ops = {n.key for n in graph.nodes if n.kind == "op"}  # drawn as circle + box

    def value_node(self, node: Node) -> None:
        rows = [f"<B>{html(node.title)}</B>"] if node.title else []
        if node.kind == "group":
            ops = f"{node.count} op" + ("" if node.count == 1 else "s")
            rows.append(f'<FONT POINT-SIZE="{SMALL}" COLOR="{MUTED}">{ops}</FONT>')
        if node.tensor is not None:
            rows += _value_rows(node.tensor)
        body = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
        style = ' BGCOLOR="#f4f4f4"' if node.kind == "group" else ""
        box = (
            '<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'STYLE="rounded"{style}>'
        )
        target = node.key if node.kind != "op" else f"{node.key}_v"
        self.add(f"{target} [shape=plaintext, margin=0, label=<{box}{body}</TABLE>>];", node.group)
        if node.kind == "op":
            circle = _circle(node.label, small=True)
            self.add(f'{node.key} [{circle}, style=filled, fillcolor="#eef3fa"];', node.group)
            self.edges.append(f"{node.key} -> {node.key}_v;")

    def edge(self, k: int, edge: Edge) -> None:
        tail = f"{edge.tail}_v" if edge.tail in self.ops else edge.tail
        label = ""
        if edge.local is not None:
            label = (
                f' [label=<<FONT POINT-SIZE="{LOCAL_SIZE}" COLOR="{LOCAL}">{html(edge.local)}'
                "</FONT>>]"
            )
        self.edges.append(f"{tail} -> {edge.head}{label};")

    def output(self, k: int, key: str, name: str, tensor: Tensor) -> None:
        pass  # the root's own box is the output


def _value_rows(t: Tensor) -> list[str]:
    data = np.asarray(t.data)
    rows = [f"data {html(values(data))}"]
    if t.grad is not None:
        rows.append(f'<FONT COLOR="{GRAD}">grad {html(values(t.grad.data))}</FONT>')
    if data.ndim > 0:
        rows.append(f'<FONT POINT-SIZE="{SMALL}" COLOR="{MUTED}">{html(shape_dtype(data))}</FONT>')
    return rows


def _const_label(node: Node) -> str:
    assert node.tensor is not None
    if node.tensor.size == 1:
        return html(node.label)
    return html(f"const\n{shape_dtype(np.asarray(node.tensor.data))}")


def _circle(symbol: str, small: bool = False) -> str:
    """A circle that fits its symbol: fixed size for `×`, `exp`, `**2`, grown for `matmul`."""
    label = f"label=<{html(symbol)}>"
    if len(symbol) <= 3:
        width = 0.38 if small else 0.5
        return (
            f"shape=circle, width={width}, fixedsize=true, fontsize={12 if small else 14}, {label}"
        )
    return f"shape=circle, margin=0, fontsize={SMALL}, {label}"


def _caption(title: str | None, notes: Iterable[str]) -> str:
    parts = [f"<B>{html(title)}</B>"] if title else []
    parts += [f'<FONT POINT-SIZE="{SMALL}" COLOR="#b35900">{html(n)}</FONT>' for n in notes]
    if not parts:
        return ""
    return ", labelloc=t, labeljust=l, fontsize=13, label=<" + "<BR/>".join(parts) + ">"
