"""The numbers of "Deep Learning from Scratch" (chapter 5, backpropagation), through `Value`."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Tensor, Value, local_derivative


def test_buying_apples() -> None:
    """Two apples at 100 each, 10% tax: 220; d/dapple 2.2, d/dnum 110, d/dtax 200."""
    apple = Value(100, "apple")
    apple_num = Value(2, "apple_num")
    tax = Value(1.1, "tax")
    apple_price = apple * apple_num
    price = apple_price * tax
    assert price.item() == pytest.approx(220.0)
    price.backward()
    assert apple.grad.item() == pytest.approx(2.2)
    assert apple_num.grad.item() == pytest.approx(110.0)
    assert tax.grad.item() == pytest.approx(200.0)
    assert apple_price.grad.item() == pytest.approx(1.1)  # intermediates carry gradients too
    assert price.grad.item() == 1.0


def test_buying_apples_and_oranges() -> None:
    """2 apples at 100 and 3 oranges at 150 with 10% tax: 715."""
    apple, apple_num = Value(100, "apple"), Value(2, "apple_num")
    orange, orange_num = Value(150, "orange"), Value(3, "orange_num")
    tax = Value(1.1, "tax")
    apple_price = apple * apple_num
    orange_price = orange * orange_num
    all_price = apple_price + orange_price
    price = all_price * tax
    assert price.item() == pytest.approx(715.0)
    price.backward()
    assert apple_num.grad.item() == pytest.approx(110.0)
    assert apple.grad.item() == pytest.approx(2.2)
    assert orange.grad.item() == pytest.approx(3.3)
    assert orange_num.grad.item() == pytest.approx(165.0)
    assert tax.grad.item() == pytest.approx(650.0)
    assert all_price.grad.item() == pytest.approx(1.1)
    assert apple_price.grad.item() == pytest.approx(1.1)
    assert orange_price.grad.item() == pytest.approx(1.1)


def test_loss_of_the_apple_price() -> None:
    """L = ½(x·m·t − 219)² at x=100, m=2, t=1.1: f = 220, L = 0.5, and since dL/df = f − 219 = 1
    the gradients are the apple example's: 2.2, 110, 200."""
    x, m, t = Value(100, "x"), Value(2, "m"), Value(1.1, "t")
    f = x * m * t
    loss = 0.5 * (f - 219) ** 2
    assert f.item() == pytest.approx(220.0)
    assert loss.item() == pytest.approx(0.5)
    loss.backward()
    assert f.grad.item() == pytest.approx(1.0)
    assert x.grad.item() == pytest.approx(2.2)
    assert m.grad.item() == pytest.approx(110.0)
    assert t.grad.item() == pytest.approx(200.0)


def test_chain_rule_of_a_square_of_a_sum() -> None:
    """z = (x + y)²: ∂z/∂t = 2t with t = x + y, and ∂z/∂x = ∂z/∂t · ∂t/∂x = 2(x + y)."""
    x, y = Value(1.0, "x"), Value(2.0, "y")
    t = x + y
    z = t**2
    assert z.item() == 9.0
    z.backward()
    assert t.grad.item() == pytest.approx(6.0)
    assert x.grad.item() == pytest.approx(6.0)
    assert y.grad.item() == pytest.approx(6.0)
    assert local_derivative(z, 0) == pytest.approx(6.0)  # ∂z/∂t
    assert local_derivative(t, 0) == 1.0  # ∂t/∂x


def test_local_derivatives_of_the_apple_graph() -> None:
    """The numbers the book writes on the edges: ∂(apple·num)/∂apple = num, and so on."""
    apple, num, tax = Value(100), Value(2), Value(1.1)
    apple_price = apple * num
    price = apple_price * tax
    assert local_derivative(apple_price, 0) == 2.0
    assert local_derivative(apple_price, 1) == 100.0
    assert local_derivative(price, 0) == pytest.approx(1.1)
    assert local_derivative(price, 1) == pytest.approx(200.0)


def test_values_mix_with_tensors() -> None:
    """A Value (a price per item) times a Tensor of counts: 100 · [1, 2]."""
    price = Value(100, "price")
    counts = Tensor([1.0, 2.0], name="counts")
    total = (price * counts).sum()
    assert total.item() == 300.0
    total.backward()
    assert price.grad.item() == 3.0
    np.testing.assert_array_equal(counts.grad.data, [100.0, 100.0])


def test_book_layers_sigmoid_and_relu() -> None:
    """The book's Sigmoid layer: dx = dout·y(1−y); ReLU passes dout where x > 0."""
    x = Tensor([[1.0, -0.5], [-2.0, 3.0]])
    y = x.sigmoid()
    y.backward(np.ones((2, 2)))
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(x.grad.data, s * (1 - s))

    x = Tensor([[1.0, -0.5], [-2.0, 3.0]])
    x.relu().backward(np.full((2, 2), 2.0))
    np.testing.assert_array_equal(x.grad.data, [[2.0, 0.0], [0.0, 2.0]])


def test_book_affine_layer() -> None:
    """Affine: dx = dout·Wᵀ, dW = xᵀ·dout, db = Σ dout over the batch."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(2, 3)))
    W = Tensor(rng.normal(size=(3, 4)))
    b = Tensor(rng.normal(size=(4,)))
    dout = rng.normal(size=(2, 4))
    (x @ W + b).backward(dout)
    np.testing.assert_allclose(x.grad.data, dout @ W.data.T)
    np.testing.assert_allclose(W.grad.data, x.data.T @ dout)
    np.testing.assert_allclose(b.grad.data, dout.sum(axis=0))
