"""Layers as clusters: `viz.group` blocks, `groups=` mappings, collapsing."""

from __future__ import annotations

import numpy as np

from autograd import Tensor, Value
from viz import draw, group
from viz.graph import build
from viz.groups import GroupIndex


def two_layers() -> Tensor:
    x = Tensor(np.ones((2, 3)), requires_grad=False, name="x")
    W = Tensor(np.full((3, 2), 0.5), name="W")
    b = Tensor(np.zeros(2), name="b")
    with group("Affine1"):
        a = x @ W + b
    with group("ReLU1"):
        h = a.relu()
    loss = (h * h).sum()
    loss.name = "L"
    return loss


def test_group_blocks_become_clusters() -> None:
    loss = two_layers()
    loss.backward()
    source = draw(loss).source
    assert "subgraph cluster_0" in source and "<B>Affine1</B>" in source
    assert "subgraph cluster_1" in source and "<B>ReLU1</B>" in source
    graph = build([loss])
    groups = {n.label: n.group for n in graph.nodes if n.kind == "op"}
    assert groups == {"matmul": "Affine1", "+": "Affine1", "relu": "ReLU1", "×": None, "Σ": None}


def test_collapse_draws_one_node_per_group() -> None:
    loss = two_layers()
    loss.backward()
    for style in ("book", "nodes"):
        source = draw(loss, collapse=True, style=style).source
        assert "cluster" not in source
        assert "<B>Affine1</B>" in source and "2 ops" in source
        assert "<B>ReLU1</B>" in source and "1 op" in source
        assert "matmul" not in source
    graph = build([loss], collapse=True)
    (affine,) = [n for n in graph.nodes if n.label == "Affine1"]
    assert affine.kind == "group" and affine.tensor is not None
    labels = {n.key: n.label for n in graph.nodes}
    assert {labels[e.tail] for e in graph.edges if e.head == affine.key} == {"x", "W", "b"}


def test_explicit_groups_mapping() -> None:
    a, b = Value(2.0, "a"), Value(3.0, "b")
    s = a * b
    y = s + a
    source = draw(y, groups={"Product": [s]}).source
    assert "<B>Product</B>" in source
    source = draw(y, groups={"Product": s}, collapse=True).source
    assert "1 op" in source


def test_nested_groups_innermost_wins() -> None:
    x = Value(1.0, "x")
    with group("outer"):
        y = x * 2
        with group("inner"):
            z = y.exp()
        w = z + 1
    graph = build([w])
    groups = {n.label: n.group for n in graph.nodes if n.kind == "op"}
    assert groups == {"×": "outer", "exp": "inner", "+": "outer"}


def test_drawing_inside_an_open_group() -> None:
    x = Value(1.0, "x")
    with group("open"):
        y = x.tanh()
        assert "<B>open</B>" in draw(y).source


def test_group_index_sweeps_laminar_ranges() -> None:
    start = Tensor(0.0).id
    with group("A"):
        ta = Tensor(0.0)
        with group("B"):
            tb = Tensor(0.0)
        ta2 = Tensor(0.0)
    after = Tensor(0.0)
    index = GroupIndex()
    assert index.lookup(start) is None
    assert index.lookup(ta.id) == "A" and index.lookup(ta2.id) == "A"
    assert index.lookup(tb.id) == "B"
    assert index.lookup(after.id) is None


def test_big_grouped_graph_is_collapsed_automatically_and_says_so() -> None:
    x = Value(0.5, "x")
    y = x
    for i in range(100):
        with group(f"block{i}"):
            y = (y * 1.001 + 0.1).tanh()
    y.backward()
    drawing = draw(y)
    assert "groups collapsed" in drawing.source
    assert "cluster" not in drawing.source
    assert drawing.source.count("ops</FONT>") == 100
    assert "groups collapsed" in drawing.svg()
