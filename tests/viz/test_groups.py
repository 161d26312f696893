"""Layers as clusters: `autograd.scope` blocks (alias `viz.group`), `groups=` mappings,
collapsing; and the dependency rule that lets nn mark layers without importing viz."""

from __future__ import annotations

import copy
import itertools
import pickle
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import autograd
from autograd import Tensor, Value, region_of, scope
from viz import draw, group
from viz.graph import build

from .conftest import load_example

ROOT = Path(__file__).resolve().parents[2]


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


def clusters_of(graph) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    return {n.label: graph.clusters.get(n.group) if n.group else None for n in graph.nodes}


def test_viz_group_is_the_engines_scope() -> None:
    assert group is scope is autograd.scope


def test_group_blocks_become_clusters_holding_their_parameters() -> None:
    loss = two_layers()
    loss.backward()
    source = draw(loss).source
    assert "subgraph cluster_0" in source and "<B>Affine1</B>" in source
    assert "subgraph cluster_1" in source and "<B>ReLU1</B>" in source
    where = clusters_of(build([loss]))
    assert where["dot"] == where["+"] == "Affine1" and where["relu"] == "ReLU1"
    assert where["W"] == where["b"] == "Affine1"  # made outside the block, used only inside
    assert where["x"] is None  # data is the layer's input: outside
    assert where["×"] is None and where["Σ"] is None


def test_collapse_draws_one_node_per_group_and_keeps_the_inputs() -> None:
    loss = two_layers()
    loss.backward()
    for style in ("book", "nodes"):
        source = draw(loss, collapse=True, style=style).source
        assert "cluster" not in source
        assert "<B>Affine1</B>" in source and "2 ops" in source
        assert "<B>ReLU1</B>" in source and "1 op" in source
        assert "label=<dot>" not in source
    graph = build([loss], collapse=True)
    (affine,) = [n for n in graph.nodes if n.label == "Affine1"]
    assert affine.kind == "group" and affine.tensor is not None
    labels = {n.key: n.label for n in graph.nodes}
    assert {labels[e.tail] for e in graph.edges if e.head == affine.key} == {"x"}
    assert affine.lines == [
        "Y = x·W+b",
        "∂L/∂W = xᵀ · ∂L/∂Y",
        "∂L/∂b = sum of ∂L/∂Y over axis 0",
    ]
    (relu,) = [n for n in graph.nodes if n.label == "ReLU1"]
    assert relu.lines == ["Y = relu(X)", "∂L/∂X = ∂L/∂Y where X > 0, else 0"]


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
    where = clusters_of(build([w]))
    assert where["×"] == "outer" and where["exp"] == "inner" and where["+"] == "outer"
    assert region_of(z).name == "inner" and region_of(z).parent.name == "outer"  # type: ignore[union-attr]
    assert region_of(Value(0.0)) is None  # the block has closed


def test_drawing_inside_an_open_group() -> None:
    x = Value(1.0, "x")
    assert autograd.current_region() is None
    with group("open") as region:
        assert autograd.current_region() is region and region.name == "open"
        y = x.tanh()
        assert "<B>open</B>" in draw(y).source


def test_two_calls_of_one_layer_are_two_clusters() -> None:
    x = Value(1.0, "x")
    with scope("Layer"):
        y = x * 2
    with scope("Layer"):
        z = y * 3
    source = draw(z).source
    assert source.count("<B>Layer</B>") == 2


def test_scopes_are_per_thread() -> None:
    inside = threading.Event()
    done = threading.Event()
    made: list[Tensor] = []

    def other() -> None:
        inside.wait(5)
        made.append(Value(1.0) * 2)  # while the main thread is inside its block
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with scope("main"):
        inside.set()
        done.wait(5)
        mine = Value(1.0) * 2
    thread.join()
    assert region_of(mine).name == "main"  # type: ignore[union-attr]
    assert region_of(made[0]) is None


def test_blocks_opened_and_closed_in_many_threads_at_once_leave_none_open(
    run_threads: Callable[..., None],
) -> None:
    """The count of open blocks (any thread) is a list appended to and popped without a lock:
    after threads race through blocks, layers and failing layers, none is left open, so a
    tensor made afterwards is marked with no region, and every thread's tensors got its own."""
    from autograd.scope import _anywhere
    from nn import Affine, Relu

    class Failing(Relu):
        def forward(self, x: Any) -> Tensor:
            raise ArithmeticError("inside a layer")

    regions: list[set[str]] = []

    def work(k: int) -> None:
        layer, relu, failing = Affine.create(3, 2, rng=k, name=f"A{k}"), Relu(), Failing()
        seen = set()
        for _ in range(300):
            with scope(f"t{k}"):
                seen.add(region_of(Value(1.0) * 2).name)  # type: ignore[union-attr]
            seen.add(region_of(relu(layer(np.ones((1, 3))))).name)  # type: ignore[union-attr]
            try:
                failing(np.ones(2))
            except ArithmeticError:
                pass
        regions.append(seen)

    run_threads(work, [(k,) for k in range(8)])
    assert _anywhere == []
    assert region_of(Value(1.0) * 2) is None
    assert sorted(map(sorted, regions)) == sorted(sorted([f"t{k}", "Relu"]) for k in range(8))


def test_the_mark_survives_copying_and_pickling() -> None:
    with scope("Affine1"):
        y = Value(2.0, "W")
    for twin in (copy.deepcopy(y), pickle.loads(pickle.dumps(y))):
        assert region_of(twin).name == "Affine1"  # type: ignore[union-attr]


def test_bad_scope_name() -> None:
    for bad in ("", None, 3):
        try:
            scope(bad)  # type: ignore[arg-type]
        except ValueError as exc:
            assert "non-empty string" in str(exc)
        else:
            raise AssertionError(f"scope({bad!r}) was accepted")


def test_big_grouped_graph_is_collapsed_automatically_and_says_so() -> None:
    x = Value(0.5, "x")
    y = x
    for i in range(100):
        with group(f"block{i}"):
            y = (y * 1.001 + 0.1).tanh()
    y.backward()
    drawing = draw(y)
    assert "layers collapsed" in drawing.source
    assert "cluster" not in drawing.source
    assert 0 < drawing.source.count("ops</FONT>") <= 100
    assert "layers collapsed" in drawing.svg()


def test_nn_does_not_import_viz() -> None:
    """Imports point down only: viz → autograd, nn → autograd (never autograd/nn → viz)."""
    code = "import sys, nn, autograd; nn.TwoLayerNet(3, 4, 2); print('viz' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert run.stdout.strip() == "False"
    pattern = re.compile(r"^\s*(from\s+viz[\s.]|import\s+viz\b)", re.MULTILINE)
    for package in ("autograd", "nn"):
        for path in sorted((ROOT / package).rglob("*.py")):
            assert not pattern.search(path.read_text(encoding="utf-8")), path


def _title_boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """Bounding boxes of the cluster titles (text-anchor start, baseline y)."""
    boxes = []
    for m in re.finditer(
        r'class="cluster">.*?<text[^>]*x="([-0-9.]+)" y="([-0-9.]+)"[^>]*font-size="([0-9.]+)"'
        r"[^>]*>([^<]*)</text>",
        svg,
        re.DOTALL,
    ):
        x, y, size, text = float(m[1]), float(m[2]), float(m[3]), m[4]
        boxes.append((x, y - 0.75 * size, x + 0.62 * size * len(text), y + 2))  # cap height
    return boxes


def _edge_points(svg: str) -> list[list[tuple[float, float]]]:
    paths = re.findall(r'class="edge">.*?<path[^>]*d="([^"]+)"', svg, re.DOTALL)
    return [
        [(float(a), float(b)) for a, b in re.findall(r"([-0-9.]+),([-0-9.]+)", d)] for d in paths
    ]


def test_no_arrow_crosses_a_cluster_title(tmp_path: Path) -> None:
    plain, _ = load_example("two_layer_graph").main(tmp_path)
    svg = plain.svg()
    boxes = _title_boxes(svg)
    assert len(boxes) == 4  # Affine1, Relu1, Affine2, SoftmaxWithLoss
    for points in _edge_points(svg):
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            for step in range(21):  # sample each (polyline) segment
                x, y = x0 + (x1 - x0) * step / 20, y0 + (y1 - y0) * step / 20
                for left, top, right, bottom in boxes:
                    assert not (left <= x <= right and top <= y <= bottom), (x, y)
