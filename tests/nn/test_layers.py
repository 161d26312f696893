"""Layers: outputs against their formulas, gradients against central differences, the book's
attributes, inputs of every accepted kind, float32, and one instance used twice in a graph."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Tensor, gradcheck, numerical_gradient
from nn import Affine, Relu, Sigmoid, SoftmaxWithLoss, Tanh, TwoLayerNet


def rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def softmax_np(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- Affine --------------------------------------------------------------------------------------
def test_affine_forward_is_xW_plus_b_and_shares_the_arrays():
    W, b, x = rand(3, 2), rand(2, seed=1), rand(4, 3, seed=2)
    layer = Affine(W, b)
    assert layer.W is W and layer.b is b  # the book's arrays, not copies
    assert layer.weight.data is W and layer.bias.data is b
    np.testing.assert_allclose(layer(x).data, x @ W + b)
    np.testing.assert_allclose(layer.forward(x).data, x @ W + b)


def test_affine_gradients_match_central_differences():
    x, W, b = Tensor(rand(4, 3)), Tensor(rand(3, 2, seed=1)), Tensor(rand(2, seed=2))
    assert gradcheck(lambda x, W, b: Affine(W, b)(x), x, W, b)


def test_affine_flattens_image_batches_like_the_book():
    x = Tensor(rand(2, 1, 2, 2))
    W, b = Tensor(rand(4, 3, seed=1)), Tensor(rand(3, seed=2))
    out = Affine(W, b)(x)
    assert out.shape == (2, 3)
    assert gradcheck(lambda x, W, b: Affine(W, b)(x), x, W, b)


def test_affine_dW_db_are_none_before_backward_then_the_book_formulas():
    W, b, x = rand(3, 2), rand(2, seed=1), rand(4, 3, seed=2)
    layer = Affine(W, b)
    assert layer.dW is None and layer.db is None
    dout = rand(4, 2, seed=3)
    layer(x).backward(dout)
    assert isinstance(layer.dW, np.ndarray) and isinstance(layer.db, np.ndarray)
    np.testing.assert_allclose(layer.dW, x.T @ dout)
    np.testing.assert_allclose(layer.db, dout.sum(axis=0))


def test_affine_create_initialises_like_the_book():
    layer = Affine.create(784, 50, weight_init_std=0.01, rng=0)
    assert layer.W.shape == (784, 50) and layer.b.shape == (50,)
    assert np.all(layer.b == 0)
    assert layer.W.std() == pytest.approx(0.01, rel=0.05)
    np.testing.assert_array_equal(layer.W, Affine.create(784, 50, rng=0).W)  # seeded


def test_affine_rejects_inconsistent_shapes():
    with pytest.raises(ValueError, match="b must have shape \\(2,\\)"):
        Affine(rand(3, 2), rand(3))
    with pytest.raises(ValueError, match="W must be 2-D"):
        Affine(rand(3), rand(3))


def test_affine_shape_mismatch_error_comes_from_the_engine_and_names_shapes():
    with pytest.raises(ValueError, match=r"\(4, 5\) @ \(3, 2\)"):
        Affine(rand(3, 2), rand(2))(rand(4, 5))


# --- activations ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("layer", "formula"),
    [
        (Relu(), lambda x: np.maximum(x, 0)),
        (Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (Tanh(), np.tanh),
    ],
)
def test_activation_forward_and_gradient(layer, formula):
    x = rand(3, 4)
    x[np.abs(x) < 0.05] = 0.5  # keep central differences off relu's kink
    np.testing.assert_allclose(layer(x).data, formula(x))
    assert gradcheck(layer, Tensor(x))


def test_sigmoid_is_finite_for_large_inputs():
    out = Sigmoid()(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(out.data, [0.0, 0.5, 1.0])


# --- inputs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["ndarray", "list", "int array", "Tensor"])
def test_layers_accept_arrays_lists_and_tensors(kind):
    x = np.array([[1.0, -2.0, 3.0]])
    given_x = {
        "ndarray": x,
        "list": x.tolist(),
        "int array": x.astype(np.int64),
        "Tensor": Tensor(x, requires_grad=False),
    }[kind]
    layer = Affine(np.eye(3), np.zeros(3))
    np.testing.assert_allclose(layer(given_x).data, x)
    np.testing.assert_allclose(Relu()(given_x).data, np.maximum(x, 0))


def test_array_input_is_a_constant_but_a_tensor_input_gets_its_gradient():
    layer = Affine(rand(3, 2), rand(2, seed=1))
    x = rand(4, 3, seed=2)
    out = layer(x)
    assert not out.inputs[0].inputs[0].requires_grad  # x wrapped as a constant
    xt = Tensor(x)
    layer(xt).sum().backward()
    np.testing.assert_allclose(xt.grad.data, np.ones((4, 2)) @ layer.W.T)


def test_layers_refuse_inputs_that_are_not_numbers():
    """Affine took np.array([None, 1, 2]) as [nan, 1, 2] (scores of NaN, silently) and a
    string with numpy's "could not convert string to float"."""
    layer = Affine.create(3, 2, rng=0)
    with pytest.raises(TypeError, match=r"input: expected numbers .* dtype object"):
        layer(np.array([None, 1.0, 2.0]))
    with pytest.raises(TypeError, match="input: expected numbers, got the string 'abc'"):
        layer("abc")
    float32 = Affine.create(3, 2, rng=0, dtype=np.float32)
    assert float32([[1, 2, 3]]).dtype == np.float32  # integers still convert to the layer's


def test_the_books_in_place_update_of_a_layers_W_works_and_is_seen_by_old_graphs():
    """`layer.W -= lr * layer.dW` (ch. 5's layers keep W) was "property 'W' of 'Affine' object
    has no setter" after the subtraction had already changed W."""
    layer = Affine.create(3, 2, rng=0)
    loss = layer(rand(4, 3)).sum()
    loss.backward(retain_graph=True)
    expected = layer.W - 0.1 * layer.dW
    W = layer.W
    layer.W -= 0.1 * layer.dW
    assert layer.W is W and np.array_equal(layer.W, expected)  # in place: the same array
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()  # the write is stamped: the old graph refuses the new W


# --- SoftmaxWithLoss ------------------------------------------------------------------------------
def test_softmax_with_loss_value_y_and_t_like_the_book():
    x = rand(5, 4)
    labels = np.array([0, 3, 1, 1, 2])
    one_hot = np.eye(4)[labels]
    layer = SoftmaxWithLoss()
    assert layer.y is None and layer.loss is None
    loss = layer(x, one_hot)
    expected = -np.mean(np.log(softmax_np(x)[np.arange(5), labels]))
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    assert layer.loss is loss and layer.t is one_hot
    np.testing.assert_allclose(layer.y, softmax_np(x))
    assert layer.forward(x, labels).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("target", ["one-hot", "labels"])
def test_softmax_with_loss_gradient(target):
    labels = np.array([2, 0, 1])
    t = np.eye(3)[labels] if target == "one-hot" else labels
    x = Tensor(rand(3, 3))
    assert gradcheck(lambda x: SoftmaxWithLoss()(x, t), x)
    SoftmaxWithLoss()(x, t).backward()
    np.testing.assert_allclose(x.grad.data, (softmax_np(x.data) - np.eye(3)[labels]) / 3)


def test_an_empty_batch_is_refused_not_a_loss_of_zero():
    """x[:0] (a batch_size of 0, a slice past the end) gave loss 0 and zero gradients: a
    training loop that learns nothing, silently."""
    layer = SoftmaxWithLoss()
    with pytest.raises(ValueError, match=r"batch is empty \(scores of shape \(0, 3\)\)"):
        layer(rand(0, 3), np.array([], dtype=int))
    net = TwoLayerNet(4, 5, 3, rng=0)
    with pytest.raises(ValueError, match="batch is empty"):
        net.gradient(rand(0, 4), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="batch is empty"):
        net.loss(rand(0, 4), np.array([], dtype=int))
    assert layer(rand(3), np.array(1)).item() > 0  # one sample as a 1-D x still works


@given(st.floats(min_value=-1e4, max_value=1e4), st.integers(0, 2))
def test_softmax_with_loss_is_stable_for_huge_scores(shift, label):
    x = np.array([[shift, shift + 500.0, shift - 500.0]])
    layer = SoftmaxWithLoss()
    loss = layer(Tensor(x), np.array([label]))
    assert np.isfinite(loss.item())
    assert np.all(np.isfinite(layer.y))
    loss.backward()


# --- one instance, used twice in one graph -------------------------------------------------------
def test_a_layer_used_twice_in_one_graph_gets_both_contributions():
    affine, relu = Affine(rand(3, 3) * 0.5, rand(3, seed=1)), Relu()
    x, labels = rand(4, 3, seed=2), np.array([0, 2, 1, 1])

    def loss_value(_: object = None) -> float:
        return SoftmaxWithLoss()(affine(relu(affine(x))), labels).item()

    SoftmaxWithLoss()(affine(relu(affine(x))), labels).backward()
    np.testing.assert_allclose(affine.dW, numerical_gradient(loss_value, affine.W), atol=1e-7)
    np.testing.assert_allclose(affine.db, numerical_gradient(loss_value, affine.b), atol=1e-7)


def test_shared_layer_gradient_is_the_sum_over_both_uses():
    W, b = rand(2, 2), rand(2, seed=1)
    layer = Affine(W, b)
    x1, x2 = rand(3, 2, seed=2), rand(3, 2, seed=3)
    (layer(x1).sum() + layer(x2).sum()).backward()
    np.testing.assert_allclose(layer.dW, x1.T @ np.ones((3, 2)) + x2.T @ np.ones((3, 2)))
    np.testing.assert_allclose(layer.db, np.full(2, 6.0))


# --- float32 -------------------------------------------------------------------------------------
def test_float32_affine_casts_its_input_and_keeps_float32():
    layer = Affine(rand(3, 2), rand(2), dtype=np.float32)
    assert layer.W.dtype == np.float32 and layer.b.dtype == np.float32
    out = layer(rand(4, 3))  # float64 data
    assert out.dtype == np.float32
    loss = SoftmaxWithLoss()(Relu()(out), np.array([0, 1, 0, 1]))
    assert loss.dtype == np.float32
    loss.backward()
    assert layer.dW.dtype == np.float32 and layer.db.dtype == np.float32


def test_float64_tensor_input_to_float32_layer_gets_a_float64_gradient():
    layer = Affine(rand(3, 2).astype(np.float32), np.zeros(2, np.float32))
    x = Tensor(rand(4, 3))
    layer(x).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.data, np.ones((4, 2)) @ layer.W.T.astype(np.float64))


def test_check_layer_on_an_nn_layer_says_autograd_differentiates_it() -> None:
    """check_layer(Relu()) said only 'has no backward method', as if the layer were broken."""
    from autograd.check import LayerCheckError, check_layer

    with pytest.raises(LayerCheckError, match=r"Relu has no backward method: .*nn's layers have "
                       r"none: autograd differentiates their forward"):  # fmt: skip
        check_layer(Relu(), shape=(2, 3))
