"""`viz.steps`: the step-through page, checked as a file (the browser tests are in
test_steps_browser.py)."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

import viz
from autograd import Tensor, Value, backward_steps, softmax_cross_entropy
from autograd.explain import context_for, step_captions
from nn import TwoLayerNet
from viz.book import apple_orange

pytest.importorskip("pygraphviz")

_TEXT = re.compile(r"<text[^>]*>(.*?)</text>")


def _texts(svg: str) -> list[str]:
    return _TEXT.findall(svg)


def _affine() -> Tensor:
    X = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="X")
    W = Tensor([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], requires_grad=True, name="W")
    B = Tensor([0.1, 0.2, 0.3], requires_grad=True, name="B")
    Y = X @ W + B
    Y.name = "Y"
    return Y


def _softmax_loss() -> Tensor:
    a = Tensor([[0.3, 2.9, 4.0], [1.0, 0.5, -1.0]], requires_grad=True, name="a")
    t = Tensor(np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), requires_grad=False, name="t")
    L = softmax_cross_entropy(a, t)
    L.name = "L"
    return L


def two_layer_loss() -> Tensor:
    rng = np.random.default_rng(0)
    net = TwoLayerNet(input_size=3, hidden_size=4, output_size=2, weight_init_std=0.5, rng=rng)
    x = rng.standard_normal((2, 3))
    loss = net.lastLayer(net.predict(x), np.array([[1.0, 0.0], [0.0, 1.0]]))
    loss.name = "L"
    return loss


@pytest.mark.parametrize(
    "make, collapse",
    [
        (lambda: apple_orange()[0], False),
        (lambda: Value(2.0, "x") * Value(2.0, "x") + 1, False),
        (_softmax_loss, False),
        (two_layer_loss, False),
        (two_layer_loss, True),
    ],
    ids=["apple_orange", "two_leaves", "softmax_loss", "two_layer", "two_layer_collapsed"],
)
def test_the_last_step_is_the_finished_drawing_and_nothing_is_stored(make, collapse) -> None:
    root = make()
    page = viz.steps(root, collapse=collapse)
    assert root.grad is None  # built from backward_steps, read-only
    root.backward()
    finished = viz.draw(root, collapse=collapse).svg()
    assert _texts(page.html) == _texts(finished)  # the same layout, the same numbers


def test_affine_with_a_given_upstream_gradient_ends_as_fig_5_27() -> None:
    Y = _affine()
    dY = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]])
    page = viz.steps(Y, dY)
    Y.backward(dY)
    assert _texts(page.html) == _texts(viz.draw(Y).svg())
    assert "∂L/∂W = Xᵀ · ∂L/∂Y" in _texts(page.html)


def test_captions_are_explains_paragraphs_after_a_first_forward_only_frame() -> None:
    price, _ = apple_orange()
    page = viz.steps(price)
    recorded = backward_steps(price)
    assert len(page) == len(recorded) == 4
    assert page.frames[0].caption.startswith("Step 0 of 4: the forward pass is done")
    assert page.frames[0].current == ()
    want = step_captions(recorded, context_for([price], recorded))
    assert [f.caption for f in page.frames[1:]] == want
    assert page.frames[4].caption.endswith("∂price/∂num = 1.1 × 100 = 110")


def test_each_gradient_label_shows_from_the_step_of_the_node_that_sends_it() -> None:
    price, _ = apple_orange()
    page = viz.steps(price)
    plan = _plan(page.html)
    reveal = {key: at for key, kind, at in plan["reveal"] if kind == "grad"}
    svg = page.html
    # the red label of each edge into the k-th node run appears at step k, not before
    for k, frame in enumerate(page.frames[1:], 1):
        labels = [i for i in frame.active if re.fullmatch(r"sg_e\d+", i)]
        assert labels and all(reveal[i] == k for i in labels)
        for current in frame.current:
            assert f'id="{current}"' in svg
    assert reveal["sg_o0"] == 1  # the seed 1 on the output arrow


def test_a_branching_value_shows_its_total_when_the_last_branch_arrives() -> None:
    x = Value(2.0, "x")
    y = x * x * x
    page = viz.steps(y)
    reveal = {key: at for key, kind, at in _plan(page.html)["reveal"] if kind == "grad"}
    totals = [key for key in reveal if key.startswith("sg_n") and key in _ids_with_red(page.html)]
    assert totals and all(reveal[key] == len(page) for key in totals)
    assert "∂L/∂x = 4 + 4 + 4 = 12" in _texts(page.html)


def test_collapsed_two_layer_net_has_a_step_per_layer() -> None:
    page = viz.steps(two_layer_loss(), collapse=True)
    assert len(page) == 4  # SoftmaxWithLoss, Affine2, Relu1, Affine1
    headings = [f.caption.split("\n")[0] for f in page.frames[1:]]
    assert headings == [
        "Step 1 of 4: the SoftmaxWithLoss layer (one op).",
        "Step 2 of 4: the Affine2 layer (2 ops, in the engine's order).",
        "Step 3 of 4: the Relu1 layer (one op).",
        "Step 4 of 4: the Affine1 layer (2 ops, in the engine's order).",
    ]
    assert "The dot node making x·W1" in page.frames[4].caption
    reveal = {key: at for key, kind, at in _plan(page.html)["reveal"] if kind == "grad"}
    layers = [f.current[0] for f in page.frames[1:]]
    assert [reveal[key] for key in layers] == [1, 2, 3, 4]  # each box's rules when it runs
    plain = viz.steps(two_layer_loss())
    assert len(plain) == 6  # drawn op by op: a step per op


def test_the_page_is_self_contained_and_asks_for_nothing() -> None:
    price, _ = apple_orange()
    text = viz.steps(price).html
    assert not re.search(r"https?:|//[a-z]", text, re.I)
    assert not re.search(r"\s(src|href|xlink:href)=", text)
    assert "@import" not in text and "url(" not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert text.startswith("<!DOCTYPE html>")
    assert re.search(r'<svg style="min-width: \d+px"', text)  # never shrunk unreadably


def test_hostile_names_cannot_break_out_of_the_page() -> None:
    x = Value(2.0, "</script><script>alert(1)</script>")
    y = x * 3
    y.name = "<!--"
    page = viz.steps(y, title="<b>t</b>")
    assert "<script>alert" not in page.html
    assert page.html.count("<script") == 2  # the plan and the page's own script
    assert "<!--" not in page.html.split("<body>")[1]
    assert "&lt;b&gt;t&lt;/b&gt;" in page.html


def test_save_writes_html_and_refuses_other_names(tmp_path) -> None:
    price, _ = apple_orange()
    page = viz.steps(price)
    path = page.save(tmp_path / "sub" / "backprop.html")
    assert path.read_text(encoding="utf-8") == page.html
    with pytest.raises(ValueError, match=r"end the name with \.html"):
        page.save(tmp_path / "backprop.svg")
    assert not (tmp_path / "backprop.svg").exists()
    assert "4 steps" in repr(page)


def test_jupyter_shows_it_in_its_own_frame() -> None:
    price, _ = apple_orange()
    page = viz.steps(price)
    frame = page._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    assert html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1)) == page.html


def test_refusals_name_the_function() -> None:
    with pytest.raises(TypeError, match="steps: expected a Tensor, got list"):
        viz.steps([1.0])  # type: ignore[arg-type]
    leaf = Value(2.0, "x")
    assert viz.steps(leaf).frames[0].caption.startswith("Nothing to step through")


def _plan(page: str) -> dict:
    import json

    found = re.search(r'<script id="plan" type="application/json">(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1))


def _ids_with_red(page: str) -> set[str]:
    groups = re.findall(r'<g id="(sg_[^"]+)" class="node">(.*?)</g>', page, re.S)
    return {key for key, body in groups if 'fill="#d62728"' in body}


def test_forward_first_shows_values_appearing_left_to_right() -> None:
    price, _ = apple_orange()
    page = viz.steps(price, forward=True)
    assert len(page) == 8  # 4 ops forward, 4 backward
    captions = [f.caption for f in page.frames]
    assert captions[0].startswith("Step 0: only the inputs are known")
    assert captions[1] == (
        "Forward step 1 of 4: the × node computes apple×num = 200 from apple = 100 and num = 2."
    )
    assert captions[4].endswith("computes price = 715 from v1 = 650 and tax = 1.1.")
    assert captions[5].startswith("Backward step 1 of 4: the × node making price = 715.")
    plan = _plan(page.html)
    values = {key: at for key, kind, at in plan["reveal"] if kind == "value"}
    grads = {key: at for key, kind, at in plan["reveal"] if kind == "grad"}
    assert values["sg_o0"] == 4 and grads["sg_o0"] == 5  # 715 is computed last, 1 seeds backward
    assert min(grads.values()) == 5 and max(values.values()) == 4
    assert sorted(set(values.values())) == [1, 2, 3, 4]
    # the forward step of an op highlights the op and the arrows carrying its value on
    assert page.frames[1].current == ("sg_n2",) and "sg_n2_e4" in page.frames[1].active
    assert page.frames[8].current == ("sg_n2",)  # the same node, current again in backward


def test_forward_option_in_explain_matches_the_page() -> None:
    from autograd import explanation

    price, _ = apple_orange()
    text = explanation(price, forward=True)
    page = viz.steps(price, forward=True)
    assert text == "\n".join(f.caption for f in page.frames[1:5]) + "\n\n" + "\n\n".join(
        f.caption for f in page.frames[5:]
    )


def test_cli_explains_and_writes_the_page(tmp_path, capsys) -> None:
    from viz.cli import main

    out = tmp_path / "steps.html"
    assert main(["draw", "x * y + 3", "x=2", "y=5", "--explain", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Step 2 of 2: the × node making x×y = 10." in printed
    assert "  ∂L/∂x = 1 × 5 = 5" in printed and "  ∂L/∂x = 5\n" in printed
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "step 0 of" not in page  # the script counts
    assert "∂L/∂y = 1 × 2 = 2" in page
    assert main(["draw", "-x * 2", "x=3", "--explain", "--forward", "-o", str(out)]) == 0
    assert "Forward step 1 of 2: the − node computes −x = −3 from x = 3." in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["draw", "x * 2", "x=1", "--style", "nodes", "-o", "p.html"], "book's style"),
        (["draw", "3 + 4", "-o", "p.html"], "uses no variable"),
        (["draw", "x * 2", "x=1", "--forward", "-o", "p.svg"], "--forward goes with"),
        (["draw", "x * 2", "x=1", "-o", "p.txt"], ".dot or .html"),
    ],
)
def test_cli_refuses_pages_it_cannot_make(tmp_path, capsys, monkeypatch, argv, message) -> None:
    from viz.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_odd_graphs_still_end_as_their_drawing() -> None:
    """Merged parallel arrows, a leaf used at many places, NaN, a cut big graph."""

    def chain() -> Value:
        c = Value(1.0, "c")
        for _ in range(40):
            c = c * Value(1.01, None) + 1
        return c

    cases = [
        lambda: Value(2.0, "x") * Value(2.0, "x"),
        lambda: (lambda x: x * x)(Value(2.0, "x")),
        lambda: (lambda x: sum([x] * 9, Value(0.0, "zero")))(Value(2.0, "x")),
        lambda: Value(float("nan"), "n") * Value(2.0, "m"),
        chain,
    ]
    for make in cases:
        root = make()
        with np.errstate(all="ignore"):
            page = viz.steps(root, max_nodes=30)
            root.backward()
            assert _texts(page.html) == _texts(viz.draw(root, max_nodes=30).svg())


def test_ops_behind_the_stubs_of_a_big_graph_run_as_one_step() -> None:
    c = Value(1.0, "c")
    for _ in range(40):
        c = c * Value(1.01, None) + 1
    recorded = backward_steps(c)
    page = viz.steps(c, max_nodes=30)
    assert len(page) < len(recorded) == 80
    last = page.frames[-1].caption
    assert re.match(r"Step \d+ of \d+: \d+ ops behind the ⋯ stubs, not drawn\.", last)
    assert page.frames[-1].current == ()
    hidden = set(re.findall(r"\bu\d+\b", last))  # their own names, never the picture's v1...
    assert hidden and not hidden & set(re.findall(r"\bu\d+\b", "".join(_texts(page.html))))


def test_a_big_graph_makes_a_small_page() -> None:
    """A 1,000-node scalar MLP: the page keeps to ~100 steps and its text stays short."""
    import random

    rng = random.Random(0)
    xs = [Value(rng.uniform(-1, 1), f"x{i}") for i in range(3)]
    for n_in, n_out in ((3, 16), (16, 16), (16, 1)):
        outs = []
        for _ in range(n_out):
            act = Value(0.0, "b")
            for x in xs[:n_in]:
                act = act + Value(rng.uniform(-1, 1), "w") * x
            outs.append(act.tanh())
        xs = outs
    page = viz.steps(xs[0])
    assert len(page) <= 150
    assert len(page.html) < 600_000
    assert max(len(f.caption) for f in page.frames) < 5_000
    assert "more (autograd.explain(root) prints all)." in page.frames[-1].caption


def test_collapsed_forward_then_backward_is_a_step_per_layer_each_way() -> None:
    page = viz.steps(two_layer_loss(), collapse=True, forward=True)
    assert len(page) == 8
    heads = [f.caption.split("\n")[0] for f in page.frames[1:]]
    assert heads[0] == "Forward step 1 of 4: the Affine1 layer (2 ops, in the engine's order)."
    assert heads[4] == "Backward step 1 of 4: the SoftmaxWithLoss layer (one op)."


def test_the_cli_page_and_explain_in_a_fresh_process_write_nothing_to_stderr(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "p.html"
    run = subprocess.run(
        [sys.executable, "-m", "viz", "draw", "x * y + 3", "x=2", "y=5", "--explain",
         "--forward", "-o", str(out)],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "Forward step 1 of 2" in run.stdout and out.exists()
