"""What a drawing says: values, gradients, local derivatives, structure, determinism."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value
from viz import draw
from viz.book import apple_orange
from viz.dot import GRAD
from viz.graph import build


def apple() -> tuple[Tensor, dict[str, Tensor]]:
    a, n, t = Value(100, "apple"), Value(2, "num"), Value(1.1, "tax")
    price = a * n * t
    price.name = "price"
    return price, {"apple": a, "num": n, "tax": t}


def test_book_style_values_gradients_and_local_derivatives() -> None:
    price, _ = apple_orange()
    price.backward()
    source = draw(price).source
    assert "rankdir=LR" in source
    for label in ("apple", "num", "orange", "orange_num", "tax", "price"):
        assert f"label=<{label}>" in source
    for value in ("100", "2", "150", "3", "1.1", "200", "450", "715"):
        assert f"<FONT>{value}</FONT>" in source  # forward values above the arrows
    for grad in (  # gradients below, in red, each as upstream × local = gradient
        "∂price/∂apple = 1.1 × 2 = 2.2",
        "∂price/∂num = 1.1 × 100 = 110",
        "∂price/∂orange = 1.1 × 3 = 3.3",
        "∂price/∂orange_num = 1.1 × 150 = 165",
        "∂price/∂tax = 1 × 650 = 650",
        "∂price/∂(apple×num) = 1.1 × 1 = 1.1",
        "∂price/∂v1 = 1 × 1.1 = 1.1",  # v1 = apple×num+orange×orange_num, named on its arrow
    ):
        assert f'<FONT COLOR="{GRAD}">{grad}</FONT>' in source
    assert '<FONT COLOR="#d62728">1</FONT>' in source  # ∂price/∂price at the output
    assert "v1 = 650" in source
    assert "∂/∂apple = num = 2" in source
    assert "∂/∂tax = v1 = 650" in source
    assert "shape=circle" in source and "label=<×>" in source and "label=<+>" in source


def test_no_gradient_before_backward() -> None:
    price, _ = apple()
    for style in ("book", "nodes"):
        source = draw(price, style=style).source
        assert GRAD not in source
        assert ">grad " not in source
        assert "∂/∂apple = num = 2" in source  # local derivatives are forward facts


def test_nodes_style_one_box_per_value() -> None:
    price, _ = apple()
    price.backward()
    source = draw(price, style="nodes").source
    assert source.count('STYLE="rounded"') == 5  # apple, num, tax, apple×num, price
    assert "data 100" in source and "grad 2.2" in source and "grad 1" in source
    assert "<B>apple×num</B>" in source
    assert "∂/∂tax = apple×num = 200" in source


def test_x_times_x_is_one_arrow_with_a_count_and_both_terms() -> None:
    x = Value(3.0, "x")
    y = x * x
    y.backward()
    graph = build([y])
    (op,) = [n for n in graph.nodes if n.kind == "op"]
    (into,) = [e for e in graph.edges if e.head == op.key]
    assert into.count == 2 and float(into.grad) == 6.0  # type: ignore[arg-type]
    assert into.explain == "∂L/∂x = 1 × 3 + 1 × 3 = 6"
    assert into.local == "∂/∂x = x = 3"
    assert "(×2 arrows)" in draw(y).source


def test_reused_intermediate_is_one_node_with_several_out_edges() -> None:
    x = Value(3.0, "x")
    b = x * x
    c = b + b.exp()
    source = draw(c).source
    assert source.count("label=<×>") == 1
    graph = build([c])
    (mul,) = [n for n in graph.nodes if n.kind == "op" and n.label == "×"]
    assert sum(e.tail == mul.key for e in graph.edges) == 2


def test_pow_by_a_constant_is_drawn_as_one_op() -> None:
    x, y = Value(2, "x"), Value(1, "y")
    z = (x + y) ** 2
    z.backward()
    source = draw(z).source
    assert "label=<**2>" in source
    assert "∂/∂(x+y) = 2(x+y) = 6" in source  # the book's 2t, not 2·t^(2−1)
    t = x + y
    t.name = "t"
    cube = t**3
    assert "∂/∂t = 3t² = 27" in draw(cube).source


def test_numbers_in_the_code_are_drawn_at_each_use() -> None:
    x = Value(1.0, "x")
    y = 1 / ((x * -1).exp() + 1)  # the engine may share the constant 1 between its two uses
    source = draw(y).source
    assert source.count("label=<1>") == 2
    assert "label=<−1>" in source  # one minus sign everywhere (U+2212)
    assert "-1" not in source


def test_determinism() -> None:
    first = draw(apple_orange()[0]).source
    Tensor(np.zeros(10))  # move the global id counter on
    price, _ = apple_orange()
    price.backward()
    price2, _ = apple_orange()
    price2.backward()
    assert draw(price).source == draw(price2).source
    assert first != draw(price).source  # (gradients now shown)


def test_labels_are_escaped() -> None:
    a = Value(1.0, '<b>&"x"')
    y = a * 2
    y.name = "y<"
    source = draw(y).source
    assert "&lt;b&gt;&amp;" in source and "y&lt;" in source
    assert "<b>&" not in source


def test_tensors_show_shape_dtype_summary_and_rules() -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(4, 3)), requires_grad=False, name="x")
    W = Tensor(rng.normal(size=(3, 2)), name="W")
    b = Tensor(np.zeros(2), name="b")
    big = Tensor(rng.normal(size=(100, 50)), name="big")
    loss = autograd.softmax_cross_entropy((x @ W + b).relu(), np.array([0, 1, 1, 0]))
    loss = loss + big.mean()
    loss.backward()
    source = draw(loss).source
    assert "(4, 3) float64" in source and "(100, 50) float64" in source
    assert re.search(r"min −[0-9.e+−]+ max [0-9.e+−]+<BR/>\[", source)  # summarised
    assert "∂L/∂W = xᵀ · ∂L/∂(x·W+b)" in source  # the rule, with named operands
    assert "∂L/∂b = sum of ∂L/∂(x·W+b) over axis 0" in source
    assert "[0, 0]" in source  # a small array in full
    assert len(max(source.splitlines(), key=len)) < 1000  # no huge arrays in labels


def test_float32_dtype_is_shown() -> None:
    w = Tensor(np.ones((2, 3), dtype=np.float32), name="w")
    y = (w * 2).sum()
    y.backward()
    assert "(2, 3) float32" in draw(y).source


def test_create_graph_gradient_can_be_drawn() -> None:
    x = Value(2.0, "x")
    y = x**3
    y.backward(create_graph=True)
    dydx = x.grad
    assert dydx is not None and not dydx.is_leaf
    dydx.name = "dy/dx"
    before = draw(dydx).source
    assert "label=<dy/dx>" in before and "<FONT>12</FONT>" in before
    x.grad = None
    dydx.backward()
    after = draw(dydx).source
    # d²y/dx² = 6x = 12, summed over the three uses of x in 3·x²
    assert "= 12</FONT>" in after


def test_the_second_pass_of_autograd_grad_draws_its_own_gradients_alone() -> None:
    """The README's way to draw a second derivative: with `autograd.grad` the first pass leaves
    no gradients on g's nodes, so every label is the second pass's (after `y.backward`, the
    x×x node read "1 + uses not drawn = 3": the first pass's 2 added in)."""
    x = Tensor(2.0, name="x")
    y = x * x * x
    (g,) = autograd.grad(y, x, create_graph=True)
    g.backward()
    assert float(x.grad) == 12.0  # d²(x³)/dx² = 6x
    source = draw(g).source
    assert "uses not drawn" not in source
    assert "(5 branches) = 12</FONT>" in source and "= 1 × 2 + 1 × 2 = 4</FONT>" in source


def test_several_roots_in_one_picture() -> None:
    x1, x2 = Value(1.0, "x"), Value(1.0, "x")
    y1, y2 = x1.sigmoid(), x2.tanh()
    source = draw([y1, y2], title="two").source
    assert "label=<out1>" in source and "label=<out2>" in source and "<B>two</B>" in source


def test_big_chain_is_cut_quickly_and_says_so() -> None:
    x = Value(0.5, "x")
    y = x
    for _ in range(2000):
        y = y * 1.001 + 0.1
    y.backward()
    drawing = draw(y)
    svg = drawing.svg()  # finishes (bench/draw.py measures how fast)
    assert "nearest the output" in drawing.source and "nearest the output" in svg
    assert drawing.source.count("<I>⋯") == 1  # the one value cut off, as one stub
    assert drawing.source.count("shape=circle") <= 48


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="style"):
        draw(Value(1.0), style="fancy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_nodes"):
        draw(Value(1.0), max_nodes=0)
    for odd in ("50", 1.5, True):  # were "'<' not supported ...", and 1.5 / True accepted
        with pytest.raises(ValueError, match=f"max_nodes must be a whole number .*got {odd!r}"):
            draw(Value(1.0), max_nodes=odd)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="groups: expected a dict of name -> tensors"):
        draw(Value(1.0), groups="Affine1")  # type: ignore[arg-type]  # was AttributeError


def test_names_with_control_characters_draw() -> None:
    """Issue 7: a name holding control characters was a Graphviz syntax error."""
    hostile = "a\x00b\x1b[31m\x7f\x0c\ud800\tc"
    x = Value(2.0, hostile)
    y = x * 3
    y.name = "y\r\n2"
    y.backward()
    drawing = draw(y, groups={"grp\x01": [y]}, title="t\x08")
    assert "\\x00" in drawing.source and "\\x1b" in drawing.source and "\\x09" in drawing.source
    assert drawing.svg().startswith("<?xml")
    assert draw(y, style="nodes").pipe("png").startswith(b"\x89PNG")


def test_a_name_holding_a_newline_stays_on_one_line_in_every_formula() -> None:
    """`Tensor(..., name="x\\n<b>")` split each chain rule it appears in across lines
    (∂L/∂x / <b> = ...), the legend and the output's label too: unreadable."""
    x = Tensor(np.ones((2, 3)), name="x\nraw")
    W = Tensor(np.ones((3, 2)), name="W")
    h = x @ W
    h.name = "h\n1"
    out = h.relu().sum()
    out.name = "lo\nss"
    out.backward()
    for drawing in (draw(out), draw(out, collapse=True), draw(out, style="nodes")):
        label_lines = re.findall(r"<BR/>([^<]*)", drawing.source)
        assert not any(line.startswith(("raw", "1)", "1 =", "ss")) for line in label_lines)
        assert "x\\nraw" in drawing.source
    book = draw(out).source
    assert "∂lo\\nss/∂x\\nraw = ∂lo\\nss/∂h\\n1 · Wᵀ" in book
    assert "red: ∂lo\\nss/∂· (gradient)" in book


def test_legend_on_book_pictures_and_off_on_request() -> None:
    price, _ = apple()
    price.backward()
    source = draw(price).source
    assert "black: forward value" in source
    assert "red: ∂price/∂· (gradient)" in source and "blue: local derivative" in source
    assert "black: forward value" not in draw(price, legend=False).source
    fresh, _ = apple()
    assert "red:" not in draw(fresh).source  # before backward there is no red to explain


def test_automatic_names_never_clash_with_the_users() -> None:
    x = Value(1.5, "x")
    a = x * x * x * x * x * x * x * x * x * x
    a.name = "v1"
    b = a * x * x * x * x * x * x * x * x * x * x
    b.backward()
    graph = build([b])
    named = {e.name: e.tensor for e in graph.edges if e.name}
    assert named["v1"] is a  # the user's v1; the automatic names skip it
    assert len(named) >= 2


def test_drawing_nan_and_inf_values_warns_nothing() -> None:
    with np.errstate(all="ignore"):
        x = Value(0.0, "x")
        y = x.log() * 0
        y.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        source = draw(y).source
    assert "nan" in source and "−inf" in source


def test_branches_sum_where_they_meet() -> None:
    """Item 2: a value used more than once shows its total, for scalars and shared weights."""
    x = Value(2.0, "x")
    y = x * x * x
    y.backward()
    source = draw(y).source
    assert "∂L/∂x = 4 + 4 + 4 = 12" in source  # on the leaf x, where the three uses meet
    W = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), name="W")
    v = Tensor(np.array([[1.0, 1.0]]), requires_grad=False, name="v")
    out = ((v @ W) @ W).sum()
    out.backward()
    source = draw(out).source
    assert "∂L/∂W = sum of its 2 branches" in source
    assert "(2, 2)<BR/>[7, 11]<BR/>[9, 13]" in source  # W.grad in full under the total
    np.testing.assert_allclose(W.grad.data, [[7, 11], [9, 13]])  # type: ignore[union-attr]


def test_softmax_loss_labels_are_called_t() -> None:
    """Item 3: one-hot labels passed as a plain array are `t`, never `const`."""
    a = Tensor(np.array([[0.3, 2.9, 4.0]]), name="a")
    for labels in (np.array([[0.0, 0.0, 1.0]]), np.array([2])):
        loss = autograd.softmax_cross_entropy(a, labels)
        loss.backward()
        source = draw(loss).source
        assert "label=<t>" in source and "const" not in source
        assert "label=<Softmax>" in source and "y = (1, 3) float64" in source


def test_the_node_where_detect_anomaly_found_nan_or_inf_is_outlined_in_red() -> None:
    from autograd import AnomalyError, detect_anomaly, scope

    x = Tensor([0.0, 4.0], name="x")
    with detect_anomaly():
        with scope("Root"):
            y = x.sqrt()
        loss = y.sum()
        with pytest.raises(AnomalyError):
            loss.backward()
    assert autograd.anomaly_of(y) is not None
    with np.errstate(all="ignore"):
        book, nodes = draw(loss).source, draw(loss, style="nodes").source
        collapsed = draw(loss, collapse=True).source
    red = 'color="#d62728", penwidth=3'
    for source in (book, nodes):
        outlined = [line for line in source.splitlines() if red in line]
        assert len(outlined) == 1 and "label=<√>" in outlined[0]  # the sqrt, nothing else
        assert "outlined in red: NaN or Inf in backward: op 'sqrt' on inputs (2,)" in source
    assert 'STYLE="rounded" COLOR="#d62728"' in nodes  # its value box too
    layer = [line for line in collapsed.splitlines() if red in line]
    assert len(layer) == 1 and "<B>Root</B>" in layer[0]  # the collapsed layer holding it
    clean = Tensor([1.0, 4.0], name="x").sqrt().sum()
    clean.backward()
    assert "penwidth" not in draw(clean).source and "outlined" not in draw(clean).source


def test_drawing_and_step_pages_in_a_loop_keep_nothing() -> None:
    """A notebook cell that draws the graph (and its step-through page) after every step: a
    drawing, a page and what they measured go when dropped, so neither tensors nor memory
    blocks pile up per repetition (numpy's caches fill during the warm-up)."""
    import gc
    import sys

    import viz

    def repeat() -> None:
        a, b = Value(2.0, "a"), Value(3.0, "b")
        with autograd.scope("Layer"):
            c = (a * b + a).tanh()
        pages = viz.steps(c)
        c.backward()
        viz.draw(c).source  # noqa: B018  (the DOT text, not rendered: the layout is graphviz's)
        assert len(pages) > 1

    def counts() -> tuple[int, int]:
        gc.collect()
        return sum(isinstance(o, Tensor) for o in gc.get_objects()), sys.getallocatedblocks()

    for _ in range(150):
        repeat()
    tensors, blocks = counts()
    for _ in range(300):
        repeat()
    tensors_after, blocks_after = counts()
    assert tensors_after <= tensors
    assert blocks_after - blocks < 300 * 0.5, "memory blocks kept by drawing in a loop"
