"""Big graphs stay readable and quick: simplified by structure before Graphviz runs.

Only structure is asserted here ("finishes", what is cut and how it says so); how fast is
measured in bench/draw.py.
"""

from __future__ import annotations

import itertools
import re
import struct
import warnings

import numpy as np
import pytest

from autograd import Tensor, Value
from nn import MLP
from viz import LargeDrawingWarning, draw
from viz.dot import LOCAL
from viz.expr import build as build_expr
from viz.graph import FAN_OUT, MAX_RINGS, build, walk


def fan_out(terms: int) -> Tensor:
    root, _ = build_expr("+".join(["x"] * terms), {"x": 1.0})
    root.backward()
    return root


def scalar_mlp(widths: list[int]) -> Tensor:
    rng = np.random.default_rng(0)
    xs = [Value(float(v), f"x{i}") for i, v in enumerate(rng.uniform(-1, 1, widths[0]))]
    for n_in, n_out in itertools.pairwise(widths):
        outs = []
        for _ in range(n_out):
            act = Value(0.0, "b")
            for x in xs[:n_in]:
                act = act + Value(float(rng.uniform(-1, 1)), "w") * x
            outs.append(act.tanh())
        xs = outs
    loss = xs[0]
    loss.backward()
    return loss


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


def test_a_100_term_fan_out_finishes_with_the_leaf_drawn_at_each_use() -> None:
    root = fan_out(100)
    drawing = draw(root)
    note = r"x is used \d+ times here: drawn at each use; ∂L/∂x = 100 in all"
    assert re.search(note, drawing.source)
    tails = re.findall(r"^\s*(\w+) -> e\d+:v:sw", drawing.source, re.MULTILINE)
    assert max(tails.count(t) for t in set(tails)) <= FAN_OUT  # no long fan-out left
    assert drawing.pipe("svg").startswith(b"<?xml")  # finishes


def test_parallel_uses_are_one_arrow_with_a_count() -> None:
    x = Value(2.0, "x")
    y = x + x
    y.backward()
    (edge,) = build([y]).edges
    assert edge.count == 2 and float(edge.grad) == 2.0  # type: ignore[arg-type]
    assert "(×2 arrows)" in draw(y).source


def test_a_scalar_mlp_is_cut_ring_by_ring_with_one_stub_per_cut_value() -> None:
    root = scalar_mlp([6, 16, 14, 1])
    assert len(walk([root])) > 1000
    graph = build([root])
    stubs = [n for n in graph.nodes if n.kind == "stub"]
    assert stubs and len(graph.nodes) <= 150 + len(stubs)
    assert len({s.key for s in stubs}) == len(stubs)
    for stub in stubs:  # each stub feeds the drawing and says what is behind it
        assert any(e.tail == stub.key for e in graph.edges)
        assert re.fullmatch(r"⋯ (\d+ nodes?|earlier nodes)", stub.label)
    assert any("nearest the output" in note for note in graph.notes)
    assert not any(e.local for e in graph.edges)  # blue text dropped past a size


def test_a_5000_node_mlp_with_defaults_is_collapsed_cut_and_finishes() -> None:
    net = MLP([4] + [4] * 1000 + [3], rng=0)
    loss = net.lastLayer(net(np.ones((2, 4))), np.array([0, 2]))
    loss.backward()
    assert len(walk([loss])) > 5000
    drawing = draw(loss)
    assert "layers collapsed" in drawing.source and "nearest the output" in drawing.source
    assert drawing.source.count("shape=box") <= MAX_RINGS + 1
    svg = drawing.svg()
    png = drawing.pipe("png")
    width_pt = float(re.search(r'width="([0-9.]+)pt"', svg).group(1))  # type: ignore[union-attr]
    assert abs(png_size(png)[0] - 2 * width_pt) < 4  # 144 dpi, never scaled down


def test_text_is_not_shrunk_in_default_drawings() -> None:
    drawing = draw(fan_out(100))
    assert not re.search(r"[\s,\[]size=", drawing.source)
    assert LOCAL not in draw(scalar_mlp([6, 16, 14, 1])).source


def test_drawing_everything_warns_before_it_starts() -> None:
    root = fan_out(100)
    with pytest.warns(LargeDrawingWarning, match="may take minutes"):
        drawing = draw(root, max_nodes=None)
    assert "⋯" not in drawing.source and "drawn at each use" not in drawing.source
    small = Value(1.0, "x") * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw(small, max_nodes=None)  # a small graph: no warning


def test_a_100000_op_chain_is_drawn_from_its_end_without_walking_it_all() -> None:
    x = Value(0.5, "x")
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    drawing = draw(y)
    assert "a big graph: showing the" in drawing.source
    assert drawing.source.count("<I>⋯") == 1
    assert drawing.source.count("shape=circle") <= MAX_RINGS
    assert drawing.svg().startswith("<?xml")


def test_a_use_beyond_the_cut_still_counts_in_the_total() -> None:
    x = Value(1.0, "x")
    h = x * 2
    h.name = "h"
    deep = h
    for _ in range(40):
        deep = deep * 1.0
    y = h * 3 + deep  # h used near the output and far from it
    y.backward()
    graph = build([y])
    (node,) = [n for n in graph.nodes if n.title == "h" and n.kind == "op"]
    assert node.total is not None and "uses not drawn" in node.total.text
    assert node.total.text.endswith("= 4")  # 3 + 1: the engine's total, not the visible 3


def test_a_stub_in_front_of_an_unwalked_part_claims_no_count() -> None:
    # 900 ops, cut where the walk stopped: the stub once said "⋯ 2 nodes" (the two it had seen)
    y = Value(1.0, "x")
    for _ in range(300):
        y = (y * 1.01).tanh() + 0.1
    y.backward()
    graph = build([y])
    assert any("nodes nearest the output" in note for note in graph.notes)
    stubs = [n for n in graph.nodes if n.kind == "stub"]
    assert stubs and all(s.label == "⋯ earlier nodes" for s in stubs)
    assert not re.search(r"⋯ \d+ nodes?", draw(y).source)
