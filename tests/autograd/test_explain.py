"""`autograd.explain`: the backward pass in words, gate by gate, from the engine's own steps."""

from __future__ import annotations

import io

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value, explanation, softmax_cross_entropy


def _apple_orange() -> Value:
    apple, num = Value(100, "apple"), Value(2, "num")
    orange, orange_num = Value(150, "orange"), Value(3, "orange_num")
    price = (apple * num + orange * orange_num) * Value(1.1, "tax")
    price.name = "price"
    return price


def test_apple_orange_is_told_gate_by_gate_with_the_books_numbers() -> None:
    text = explanation(_apple_orange())
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[0] == (
        "Step 1 of 4: the × node making price = 715.\n"
        "It starts the pass: ∂price/∂price = 1.\n"
        "  ∂price/∂v1 = 1 × 1.1 = 1.1\n"
        "  ∂price/∂tax = 1 × 650 = 650"
    )
    assert paragraphs[3] == (
        "Step 4 of 4: the × node making apple×num = 200.\n"
        "It receives ∂price/∂(apple×num) = 1.1 from upstream.\n"
        "  ∂price/∂apple = 1.1 × 2 = 2.2\n"
        "  ∂price/∂num = 1.1 × 100 = 110"
    )
    assert "∂price/∂orange = 1.1 × 3 = 3.3" in text
    assert "∂price/∂orange_num = 1.1 × 150 = 165" in text


def test_the_issues_prose_walk_through_in_that_order() -> None:
    x, m, t = Value(100, "x"), Value(2, "m"), Value(1.1, "t")
    z = x * m
    z.name = "z"
    L = z * t
    L.name = "L"
    text = explanation(L)
    wanted = [
        "∂L/∂z = 1 × 1.1 = 1.1",
        "∂L/∂t = 1 × 200 = 200",
        "∂L/∂x = 1.1 × 2 = 2.2",
        "∂L/∂m = 1.1 × 100 = 110",
    ]
    positions = [text.index(line) for line in wanted]
    assert positions == sorted(positions)


def test_nothing_is_stored_and_backward_still_runs_after() -> None:
    price = _apple_orange()
    explanation(price)
    assert price.grad is None
    price.backward()  # the graph is not used up
    assert float(price.grad) == 1


def test_branches_say_the_running_sum_and_the_total() -> None:
    x = Value(2.0, "x")
    text = explanation(x * x * x)
    assert "It starts the pass: ∂L/∂L = 1, where L = x×x×x." in text
    assert "branch 1 of 3: more to add" in text
    assert "branch 2 of 3, so far: ∂L/∂x = 4 + 4 = 8" in text
    assert "branch 3 of 3, all branches in: ∂L/∂x = 4 + 4 + 4 = 12" in text


def test_tensors_get_shapes_and_the_rule_not_every_element() -> None:
    X = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="X")
    W = Tensor([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], requires_grad=True, name="W")
    B = Tensor([0.1, 0.2, 0.3], requires_grad=True, name="B")
    Y = X @ W + B
    Y.name = "Y"
    text = explanation(Y, np.ones((2, 3)))
    assert "It receives ∂L/∂Y, shape (2, 3), from upstream." in text
    assert "∂L/∂X = ∂L/∂Y · Wᵀ, shape (2, 2)" in text
    assert "∂L/∂W = Xᵀ · ∂L/∂Y, shape (2, 3)" in text
    assert "∂L/∂B = sum of ∂L/∂Y over axis 0, shape (3,)" in text
    assert "0.1" not in text  # no element is spelled out


def test_softmax_with_loss_is_the_books_y_minus_t() -> None:
    a = Tensor([[0.3, 2.9, 4.0], [1.0, 0.5, -1.0]], requires_grad=True, name="a")
    t = Tensor(np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), requires_grad=False, name="t")
    L = softmax_cross_entropy(a, t)
    L.name = "L"
    text = explanation(L)
    assert text.startswith("Step 1 of 1: the Softmax-with-Loss node making L = ")
    assert "∂L/∂a = (y − t) / 2, shape (2, 3)" in text
    by_index = softmax_cross_entropy(a, np.array([2, 0]))
    assert "computes loss(a, t) = 0.430336 from a, shape (2, 3) and the class labels t." in (
        explanation(by_index, forward=True)
    )


def test_every_scalar_line_is_a_label_of_the_finished_drawing() -> None:
    """The same wording as the figure: each chain-rule line is an edge label, verbatim."""
    from viz import draw

    price = _apple_orange()
    lines = [line.strip() for line in explanation(price).splitlines() if line.startswith("  ")]
    price.backward()
    source = draw(price).source
    for line in lines:
        assert f">{line}<" in source


def test_explain_prints_and_refuses_what_it_cannot_explain(capsys) -> None:
    buffer = io.StringIO()
    autograd.explain(_apple_orange(), file=buffer)
    assert buffer.getvalue().startswith("Step 1 of 4")
    autograd.explain(_apple_orange())
    assert "∂price/∂apple = 1.1 × 2 = 2.2" in capsys.readouterr().out
    with pytest.raises(TypeError, match="explain: expected a Tensor, got float"):
        explanation(1.5)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="does not require grad"):
        explanation(Tensor(2.0, requires_grad=False) * 3)
    leaf = Value(2.0, "x")
    assert explanation(leaf) == (
        "Nothing to do: the output is an input itself (a leaf), not computed by any op."
    )


def test_hostile_names_are_written_as_given_in_plain_text() -> None:
    x = Value(3.0, "<script>x")
    text = explanation(x * 2)
    assert "∂L/∂<script>x = 1 × 2 = 2" in text  # plain text: nothing to escape
    y = Value(3.0, "a/b")  # a name that reads as a formula is parenthesised, as in the figure
    assert "∂L/∂(a/b) = 1 × 2 = 2" in explanation(y * 2)


def test_many_branches_are_summed_as_the_figure_writes_them() -> None:
    x = Value(1.0, "x")
    y = sum([x * Value(2.0, f"w{k}") for k in range(9)], Value(0.0, "zero"))
    text = explanation(y)
    assert "branch 9 of 9, all branches in: ∂L/∂x = 2 + 2 + … (9 branches) = 18" in text
    assert max(len(line) for line in text.splitlines()) < 120  # never a 9-term sum per line


def test_a_shared_weight_matrix_sums_its_branches_in_words() -> None:
    W = Tensor(np.eye(2), requires_grad=True, name="W")
    x = Tensor(np.ones((1, 2)), requires_grad=True, name="x")
    loss = ((x @ W) @ W).sum()
    text = explanation(loss)
    assert "branch 2 of 2, all branches in: ∂L/∂W is the sum of 2 branches" in text


def test_an_ops_result_is_not_called_y_where_y_names_another_value() -> None:
    # tanh(y)'s local derivative read "1 − y²" (y = 2 would give −3) and σ(x)'s "y(1 − y)"
    # beside the input y; the book's y stays where no value is called y
    from autograd.text import expressions, local_text, walk

    x, y = Value(1.0, "x"), Value(2.0, "y")
    s, h = x.sigmoid(), y.tanh()
    out = s * y + h
    names = expressions(walk([out]), set())
    assert local_text(s, 0, names) == "∂/∂x = σ(x)(1 − σ(x)) = 0.196612"
    assert local_text(h, 0, names) == "∂/∂y = 1 − tanh(y)² = 0.0706508"
    z = Value(2.0, "z")
    alone = z.tanh() * 1.0
    assert local_text(alone.inputs[0], 0, expressions(walk([alone]), set())) == (
        "∂/∂z = 1 − y² = 0.0706508"
    )
    w = Tensor(np.ones(3), name="w")
    e = (w.exp() * Tensor(np.ones(3), name="y")).sum()
    assert "⊙ exp(w), shape (3,)" in explanation(e)


def test_tensor_rules_write_a_square_as_2t_and_a_transpose_around_the_gradient() -> None:
    # "∂L/∂v1 ⊙ 2·log(…)^(2−1)" where the scalar picture writes the book's 2t, and
    # "∂L/∂x = ∂L/∂xᵀᵀ" for a transpose
    a = Tensor(np.ones((2, 3)), name="a")
    text = explanation(((a * 2 + 1) ** 2).sum() + (a.T**3).sum())
    assert "∂L/∂(a×2+1) = ∂L/∂(a×2+1)² ⊙ 2(a×2+1), shape (2, 3)" in text
    assert "∂L/∂aᵀ = ∂L/∂aᵀ³ ⊙ 3aᵀ², shape (3, 2)" in text
    assert "∂L/∂a = (∂L/∂aᵀ)ᵀ, shape (2, 3)" in text
    assert "^(" not in text and "ᵀᵀ" not in text


def test_a_name_holding_a_newline_stays_on_one_line() -> None:
    """`explain` wrote the name as it was, so 'a\\nb' split '∂out/∂a' and 'b = 1 × 3 = 3'
    across lines (drawings already wrote it as \\n)."""
    x = Value(2.0, "a\nb")
    y = x * 3
    y.name = "out\nz"
    text = explanation(y, forward=True)
    assert "∂out\\nz/∂a\\nb = 1 × 3 = 3" in text
    assert not any(line.startswith("b = ") or line.startswith("z") for line in text.splitlines())
