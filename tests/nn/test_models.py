"""TwoLayerNet and MLP: the book's members, parameters shared with `params`, gradient checks
(TwoLayerNet on real MNIST), a short real training run, float32 end to end, and flat memory."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import autograd
from autograd import Tensor
from nn import MLP, SGD, Adam, Affine, Module, Relu, Sigmoid, SoftmaxWithLoss, Tanh, TwoLayerNet


def rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def live_tensors() -> int:
    gc.collect()
    return sum(isinstance(obj, Tensor) for obj in gc.get_objects())


# --- the book's members --------------------------------------------------------------------------
def test_two_layer_net_has_the_books_structure():
    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2"]
    assert isinstance(net.layers["Affine1"], Affine) and isinstance(net.layers["Relu1"], Relu)
    assert isinstance(net.lastLayer, SoftmaxWithLoss)
    assert {key: value.shape for key, value in net.params.items()} == {
        "W1": (784, 50),
        "b1": (50,),
        "W2": (50, 10),
        "b2": (10,),
    }
    assert net.params["W1"].std() == pytest.approx(0.01, rel=0.05)  # weight_init_std
    assert np.all(net.params["b1"] == 0)


def test_params_are_the_very_arrays_of_the_parameters():
    net = TwoLayerNet(4, 3, 2, rng=0)
    tensors = dict(net.named_parameters())
    for key in ("W1", "b1", "W2", "b2"):
        assert net.params[key] is tensors[key].data
    assert net.params["W1"] is net.layers["Affine1"].W
    assert net.parameters()[0] is net.layers["Affine1"].weight


def test_book_style_in_place_update_changes_the_model():
    net = TwoLayerNet(4, 3, 2, rng=0)
    x = rand(5, 4)
    before = net.predict(x).data.copy()
    net.params["W2"] -= 0.5  # the book's `network.params[key] -= learning_rate * grad[key]`
    assert not np.allclose(net.predict(x).data, before)


def test_assigning_a_new_array_to_params_copies_it_into_the_model():
    net = TwoLayerNet(4, 3, 2, rng=0)
    W1 = net.params["W1"]
    net.params["W1"] = np.ones((4, 3))
    assert net.params["W1"] is W1 and np.all(W1 == 1)
    with pytest.raises(ValueError, match=r"params\['W1'\]: shape \(3, 4\)"):
        net.params["W1"] = np.ones((3, 4))
    with pytest.raises(KeyError, match="no parameter 'W3'"):
        net.params["W3"] = np.ones(1)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_a_layer_replaced_as_the_book_builds_it_is_what_params_and_gradient_use(compiled):
    """`net.layers["Affine1"] = Affine(W, b)`, as the book builds its layers, after construction:
    `gradient` failed with "'NoneType' object has no attribute '_data'" (eager) or a TraceError
    saying to use model.compile (compiled), and `params` kept the old layer's arrays."""
    x, t = rand(6, 4, seed=1), np.eye(3)[[0, 1, 2, 0, 1, 2]]
    net = TwoLayerNet(4, 5, 3, weight_init_std=0.3, rng=0)
    if compiled:
        net.compile(x, t)
    W, b = np.full((4, 5), 0.1), np.linspace(-0.2, 0.2, 5)
    net.layers["Affine1"] = Affine(W, b)
    grad = net.gradient(x, t)
    assert np.shares_memory(net.params["W1"], W) and net.layers["Affine1"].weight.name == "W1"
    same = TwoLayerNet(4, 5, 3, weight_init_std=0.3, rng=0)  # its W2, b2 are net's
    same.params["W1"], same.params["b1"] = W, b
    for key, expected in MLP.gradient(same, x, t).items():
        np.testing.assert_allclose(grad[key], expected, rtol=1e-12, err_msg=key)
    assert [key for key, _ in net.named_parameters()] == ["W1", "b1", "W2", "b2"]
    before = W.copy()
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= 0.1 * grad[key]  # the book's update reaches the new layer
    assert not np.array_equal(W, before)


def test_params_and_numerical_gradient_follow_a_replaced_layer_before_any_gradient():
    """`params` followed a replaced layer only once `gradient` had run: before that
    `net.params["W1"]` was the old layer's array and `net.numerical_gradient(x, t)` (the
    book's check, often run first) perturbed it, returning an all-zero W1 gradient."""
    x, t = rand(6, 4, seed=1), np.array([0, 1, 2, 0, 1, 2])
    net = TwoLayerNet(4, 5, 3, weight_init_std=0.3, rng=0)
    W, b = rand(4, 5, seed=2), np.linspace(-0.2, 0.2, 5)
    net.layers["Affine1"] = Affine(W, b)
    assert np.shares_memory(net.params["W1"], W) and list(net.params) == ["W1", "b1", "W2", "b2"]
    numerical = net.numerical_gradient(x, t)
    for key, expected in MLP.gradient(net, x, t).items():
        np.testing.assert_allclose(numerical[key], expected, atol=1e-7, err_msg=key)
    assert np.abs(numerical["W1"]).max() > 1e-3


class Scale(Module):
    """A learner's own layer with a parameter (as the book's BatchNormalization has gamma)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.gamma = Tensor(np.linspace(0.5, 2.0, n))
        self.running_mean = Tensor(np.zeros(n))  # a tensor the loss never uses: gradient 0

    def forward(self, x):
        self.out = x * self.gamma  # kept, as the book's layers keep their output
        return self.out


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_a_layer_with_parameters_inserted_into_an_mlp_is_trained(compiled):
    """A non-Affine layer with a parameter put into `net.layers` was left out of `params`,
    `gradient` and `parameters()`: an optimizer never trained it and save() never wrote it,
    silently; compiling raised a TraceError saying to use model.compile, which it was."""
    x, t = rand(6, 4, seed=1), np.array([0, 1, 2, 0, 1, 2])
    net = TwoLayerNet(4, 5, 3, weight_init_std=0.3, rng=0)
    net.layers["Scale1"] = Scale(5)
    net.layers.move_to_end("Affine2")
    if compiled:
        assert "Scale1_gamma" in net.compile(x, t).source  # the code names it (not in6)
    keys = ["W1", "b1", "W2", "b2", "Scale1.gamma", "Scale1.running_mean"]
    assert list(net.params) == keys and [k for k, _ in net.named_parameters()] == keys
    grad = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    assert list(grad) == keys
    for key in keys:
        np.testing.assert_allclose(grad[key], numerical[key], atol=1e-7, err_msg=key)
    assert np.abs(grad["Scale1.gamma"]).max() > 1e-3
    assert not grad["Scale1.running_mean"].any()
    SGD(lr=0.1).update(net.params, grad)  # the book's update takes every key
    net.lastLayer(net(x), t)  # lastLayer.loss and Scale1.out: results that require grad
    net.layers["Twice"] = lambda x: x * 2.0  # a plain function as a layer runs as before
    net.layers.move_to_end("Affine2")
    assert list(net.gradient(x, t)) == keys and list(net.params) == keys


def test_one_affine_listed_twice_in_an_mlp_is_one_parameter():
    """The same Affine at two places in `layers` (shared weights) was W1 and W2 at once:
    `parameters()` listed its tensors twice, which SGD(params=...) refuses."""
    net = TwoLayerNet(4, 4, 3, rng=0)
    shared = Affine(np.eye(4), np.zeros(4))
    net.layers["Affine1"] = shared
    net.layers["Again"] = shared
    net.layers.move_to_end("Affine2")
    assert list(net.params) == ["W1", "b1", "W2", "b2"] and net.params["W1"] is shared.W
    assert len({id(p) for p in net.parameters()}) == 4
    SGD(params=net.parameters())


def test_assigning_params_copies_into_the_model():
    """`net.params = {...}` replaced the ParamDict with a plain dict: the next `gradient` failed
    with "'dict' object has no attribute 'tensors'". It copies the arrays in, as assigning one
    key does, checked before anything changes."""
    x, t = rand(6, 4, seed=1), np.array([0, 1, 2, 0, 1, 2])
    net, other = TwoLayerNet(4, 5, 3, rng=0), TwoLayerNet(4, 5, 3, rng=1)
    W1 = net.params["W1"]
    net.params = {key: value.copy() for key, value in other.params.items()}
    assert net.params["W1"] is W1 and np.array_equal(W1, other.params["W1"])
    for key, expected in MLP.gradient(other, x, t).items():
        np.testing.assert_allclose(net.gradient(x, t)[key], expected, rtol=1e-12, err_msg=key)
    with pytest.raises(ValueError, match=r"missing parameter.*'b2'"):
        net.params = {"W1": W1, "b1": net.params["b1"], "W2": net.params["W2"]}
    assert net.params["W1"] is W1


def test_gradient_returns_the_book_dict_fresh_on_every_call():
    net = TwoLayerNet(4, 3, 2, rng=0)
    x, t = rand(5, 4), np.eye(2)[[0, 1, 1, 0, 1]]
    first = {key: value.copy() for key, value in net.gradient(x, t).items()}
    grads = net.gradient(x, t)  # no accumulation across calls, unlike raw backward()
    assert list(grads) == ["W1", "b1", "W2", "b2"]
    for key in grads:
        assert isinstance(grads[key], np.ndarray) and grads[key].shape == net.params[key].shape
        np.testing.assert_array_equal(grads[key], first[key])
    assert grads["W1"] is net.layers["Affine1"].dW


@pytest.mark.parametrize("compiled", [False, True])
def test_gradient_of_a_model_shared_by_threads_returns_each_calls_own(compiled):
    """Two threads calling `gradient` of one model: the eager step cleared every `.grad`,
    backpropagated, then read `.grad` back, so a thread whose backward ended after another
    thread's had started returned the sum of both batches' gradients (W1's was off by the
    other batch's whole gradient) while the compiled step returned its own. The second
    thread runs here while the first is inside its backward (a hook on W1 starts and joins
    it), the latest interleaving; each call's dict is its own batch's, and `.grad` holds the
    last call's."""
    net = TwoLayerNet(4, 5, 3, rng=0)
    x, t = rand(12, 4, seed=1), np.arange(12) % 3
    if compiled:
        net.compile(x[:6], t[:6])
    expected = [MLP.gradient(net, x[:6], t[:6]), MLP.gradient(net, x[6:], t[6:])]
    W1 = net.params.tensors["W1"]
    got: dict[str, dict[str, np.ndarray]] = {}

    def other_thread() -> None:
        got["other"] = net.gradient(x[6:], t[6:])

    def meanwhile(g: Tensor) -> None:  # W1's hook, in whichever thread backpropagates
        if threading.current_thread() is threading.main_thread() and "other" not in got:
            worker = threading.Thread(target=other_thread)
            worker.start()
            worker.join()

    handle = W1.register_hook(meanwhile)  # (a hook makes a compiled model's step eager too)
    got["first"] = net.gradient(x[:6], t[:6])
    handle.remove()
    for name, want in zip(("first", "other"), expected, strict=True):
        for key in want:
            np.testing.assert_allclose(got[name][key], want[key], rtol=1e-12, err_msg=name + key)
    assert W1.grad is not None and np.array_equal(W1.grad.data, got["first"]["W1"])


def test_gradient_keeps_the_loss_value_but_frees_the_graph():
    """The book's layer keeps the last loss as a number; keeping the graph alive until the next
    step held every activation and intermediate gradient, and slowed the next step."""
    import gc
    import weakref

    net = TwoLayerNet(4, 3, 2, rng=0)
    x, t = rand(5, 4), np.eye(2)[[0, 1, 1, 0, 1]]
    seen: list[weakref.ref] = []
    hidden = net.layers["Relu1"]
    original = hidden.forward
    hidden.forward = lambda x: seen.append(weakref.ref(out := original(x))) or out
    net.gradient(x, t)
    gc.collect()
    assert seen and seen[0]() is None  # the relu's output went with the graph
    expected = net.loss(x, t)
    net.gradient(x, t)
    assert not net.lastLayer.loss.requires_grad and net.lastLayer.loss.op is None
    assert float(net.lastLayer.loss) == pytest.approx(expected, rel=1e-12)


def test_stepping_through_the_loss_gradient_kept_says_to_compute_it_again():
    """viz.steps(net.lastLayer.loss) after net.gradient used to advise creating inputs with
    requires_grad=True, which the learner had done: the loss kept there has no graph."""
    net = TwoLayerNet(4, 3, 2, rng=0)
    x, t = rand(5, 4), np.eye(2)[[0, 1, 1, 0, 1]]
    net.gradient(x, t)
    with pytest.raises(RuntimeError, match=r"loss = net\.lastLayer\(net\(x\), t\)"):
        autograd.backward_steps(net.lastLayer.loss)
    assert len(autograd.backward_steps(net.lastLayer(net(x), t))) == 6


def test_loss_is_a_number_and_keeps_no_graph():
    net = TwoLayerNet(4, 3, 2, rng=0)
    loss = net.loss(rand(5, 4), np.array([0, 1, 1, 0, 1]))
    assert isinstance(loss, np.float64)
    assert not net.lastLayer.loss.requires_grad
    assert loss == pytest.approx(np.log(2), abs=0.05)  # tiny weights: near-uniform softmax


def test_accuracy_with_one_hot_or_labels():
    net = TwoLayerNet(4, 3, 3, rng=0)
    x = rand(50, 4)
    predicted = np.argmax(net.predict(x).data, axis=1)
    labels = predicted.copy()
    labels[:10] = (labels[:10] + 1) % 3
    assert net.accuracy(x, labels) == pytest.approx(0.8)
    assert net.accuracy(x, np.eye(3)[labels]) == pytest.approx(0.8)


@pytest.mark.parametrize(
    "t, match",
    [
        (np.zeros((6, 1), dtype=int), r"shape \(6, 1\) .* class numbers of shape \(6,\)"),
        (np.eye(4)[[0, 1, 2, 0, 1, 2]], r"shape \(6, 4\) .* one-hot rows of shape \(6, 3\)"),
        (np.array([0, 1, 2, 0]), r"t has shape \(4,\) for 6 samples"),  # was a numpy error
        (np.array([0, 1, 5, 0, 1, 2]), r"label 5 is not a class number 0..2"),  # was a fraction
        (np.array([0, 1, 2, 0, 1, np.nan]), r"label nan is not a class number"),
        (np.array([0, 1, 2, 0, 1, 1.5]), r"label 1.5 is not a class number"),
        (np.array(list("012012")), r"must hold numbers"),
    ],
)
def test_accuracy_refuses_labels_the_loss_refuses(t, match):
    net = TwoLayerNet(4, 3, 3, rng=0)
    with pytest.raises((ValueError, TypeError), match=match):
        net.accuracy(rand(6, 4), t)
    with pytest.raises(ValueError, match="no samples"):  # was nan and a RuntimeWarning
        net.accuracy(rand(0, 4), np.array([], dtype=int))


def test_accuracy_of_one_sample_and_of_whole_float_labels():
    net = TwoLayerNet(4, 3, 3, rng=0)
    x = rand(5, 4)
    predicted = np.argmax(net.predict(x).data, axis=1)
    assert net.accuracy(x[0], predicted[0]) == 1.0  # a 1-D x, as the loss takes it
    assert net.accuracy(x[0], np.eye(3)[predicted[0]]) == 1.0
    assert net.accuracy(x[0], (predicted[0] + 1) % 3) == 0.0
    assert net.accuracy(x, predicted.astype(np.float32)) == 1.0
    assert net.accuracy(x.tolist(), predicted.tolist()) == 1.0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"sizes": [4, 0, 3]}, ValueError, r"sizes\[1\] = 0"),  # was ZeroDivisionError
        ({"sizes": [4, -2, 3]}, ValueError, r"sizes\[1\] = -2"),
        ({"sizes": [4.5, 3]}, ValueError, r"sizes\[0\] = 4.5"),
        ({"sizes": ["784", 3]}, ValueError, r"sizes\[0\] = '784'"),
        ({"sizes": 784}, TypeError, r"sizes: expected a list"),
        ({"dtype": int}, TypeError, r"dtype must be np.float32 or np.float64"),  # was W = 0
        ({"dtype": np.float16}, TypeError, r"dtype must be"),
        ({"weight_init_std": float("nan")}, ValueError, r"finite"),  # was NaN weights
        ({"weight_init_std": [0.1]}, TypeError, r"expected a number"),
    ],
)
def test_mlp_refuses_sizes_dtypes_and_scales_it_cannot_build(kwargs, error, match):
    arguments = {"sizes": [4, 5, 3], **kwargs}
    with pytest.raises(error, match=match):
        MLP(**arguments)


def test_int_dtype_is_refused_rather_than_rounding_weights_to_zero():
    with pytest.raises(TypeError, match="dtype"):
        TwoLayerNet(4, 5, 3, dtype=np.int64)
    with pytest.raises(TypeError, match="dtype"):
        Affine.create(4, 5, dtype=int)
    assert MLP([4, 5, 3], dtype="float32", rng=0).dtype == np.float32
    assert MLP([np.int64(4), 5, 3], rng=0).params["W1"].shape == (4, 5)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_mlp_gradient_matches_numerical_gradient(activation):
    net = MLP([5, 4, 4, 3], activation, rng=0)
    for i, key in enumerate(("b1", "b2", "b3")):  # zero biases put dead relu units on the kink
        net.params[key] = rand(net.params[key].size, seed=10 + i)
    x, t = rand(6, 5, seed=1), np.array([0, 1, 2, 2, 1, 0])
    grads = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    assert list(grads) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for key in grads:
        np.testing.assert_allclose(grads[key], numerical[key], atol=1e-8, err_msg=key)


def test_mlp_structure_and_initialisation():
    net = MLP([784, 100, 100, 10], rng=0)
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2", "Relu2", "Affine3"]
    assert net.params["W2"].std() == pytest.approx(np.sqrt(2 / 100), rel=0.05)  # He
    xavier = MLP([784, 100, 10], "sigmoid", rng=0)
    assert isinstance(xavier.layers["Sigmoid1"], Sigmoid)
    assert xavier.params["W1"].std() == pytest.approx(np.sqrt(1 / 784), rel=0.05)
    assert isinstance(MLP([3, 3, 3], "tanh").layers["Tanh1"], Tanh)
    assert MLP([3, 3], weight_init_std=0.5, rng=0).params["W1"].std() > 0.2
    with pytest.raises(ValueError, match="activation"):
        MLP([3, 3], "gelu")
    with pytest.raises(ValueError, match="sizes"):
        MLP([3])


# --- real MNIST ----------------------------------------------------------------------------------
def test_two_layer_net_gradient_check_on_mnist(mnist):
    """The book's 5.7.3 check, held to the largest error rather than the mean."""
    (x_train, t_train), _ = mnist
    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, rng=0)
    numerical = net.numerical_gradient(x_train[:3], t_train[:3])
    backprop = net.gradient(x_train[:3], t_train[:3])
    for key in numerical:
        assert np.max(np.abs(backprop[key] - numerical[key])) < 1e-6, key


def test_short_training_on_mnist_learns(mnist):
    """300 steps of the book's 5.7.4 settings (batch 100, SGD lr 0.1) reach > 0.85 on the test
    set (about 0.88 for several seeds; chance is 0.1)."""
    (x_train, t_train), (x_test, t_test) = mnist
    net = TwoLayerNet(784, 50, 10, rng=0)
    opt = SGD(lr=0.1, params=net.parameters())
    rng = np.random.default_rng(0)
    for _ in range(300):
        batch = rng.choice(len(x_train), 100)
        opt.zero_grad()
        net.lastLayer(net(x_train[batch]), t_train[batch]).backward()
        opt.step()
    assert net.accuracy(x_test, t_test) > 0.85


def test_float32_end_to_end(mnist_loader):
    (x_train, t_train), _ = mnist_loader(normalize=True, one_hot_label=True, dtype=np.float32)
    assert x_train.dtype == np.float32
    net = TwoLayerNet(784, 20, 10, rng=0, dtype=np.float32)
    opt = Adam(params=net.parameters())
    x, t = x_train[:100], t_train[:100]
    for _ in range(3):
        opt.zero_grad()
        loss = net.lastLayer(net(x), t)
        loss.backward()
        opt.step()
    assert net.dtype == np.float32 and loss.dtype == np.float32
    assert net.predict(x).dtype == np.float32
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in net.parameters())
    assert all(m.dtype == np.float32 for m in [*opt.m.values(), *opt.v.values()])
    assert isinstance(net.loss(x, t), np.float32)
    assert all(g.dtype == np.float32 for g in net.gradient(x, t).values())
    # float64 data into a float32 model: cast at the first layer, still float32 throughout
    assert all(g.dtype == np.float32 for g in net.gradient(x.astype(np.float64), t).values())


# --- memory --------------------------------------------------------------------------------------
def test_training_does_not_accumulate_tensors_or_graphs():
    net = TwoLayerNet(20, 10, 3, rng=0)
    opt = SGD(lr=0.1, params=net.parameters())
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((100, 20)), rng.integers(0, 3, 100)

    def step() -> Tensor:
        opt.zero_grad()
        loss = net.lastLayer(net(x), t)
        loss.backward()
        opt.step()
        net.gradient(x, t)  # the book's face too
        net.loss(x, t)
        return loss

    for _ in range(5):
        step()
    before = live_tensors()
    previous = weakref.ref(step())
    for _ in range(300):
        step()
    assert previous() is None  # an old step's graph is gone, not only unreachable
    assert live_tensors() <= before


def test_a_new_weight_for_a_layer_of_a_model_is_copied_into_its_parameter():
    """`net.layers["Affine1"].weight = Tensor(...)` rebound the layer's tensor: predict used
    the new one while params, the optimizer and a compiled program kept the old one (the
    optimizer trained a tensor nothing used, compiled gradients were the old weights', eager
    gradient() an AttributeError). `layer.W = array`, the book's name, had no setter."""
    x, labels = rand(6, 4), np.array([0, 1, 2, 0, 1, 2])
    net, reference = TwoLayerNet(4, 5, 3, rng=0), TwoLayerNet(4, 5, 3, rng=0)
    optimizer = SGD(lr=0.1, params=net.parameters())
    net.compile(x, labels)
    layer = net.layers["Affine1"]
    layer.weight = Tensor(rand(4, 5, seed=3))
    layer.b = np.arange(5.0)  # the book's attribute names work too
    reference.params["W1"], reference.params["b1"] = rand(4, 5, seed=3), np.arange(5.0)
    assert layer.weight is net.params.tensors["W1"] is optimizer.params[0]
    expected = reference.gradient(x, labels)
    for key, grad in net.gradient(x, labels).items():
        np.testing.assert_allclose(grad, expected[key], rtol=1e-12, err_msg=key)
    optimizer.step()
    assert not np.array_equal(net.params["W1"], reference.params["W1"])  # the used W1 trained
    with pytest.raises(ValueError, match=r"Affine1.W: shape \(5, 4\) does not match .* \(4, 5\)"):
        layer.W = np.ones((5, 4))
    with pytest.raises(TypeError, match=r"Affine1.weight: complex128 values do not convert"):
        layer.weight = np.ones((4, 5)) * 1j


def test_params_refuses_float64_values_a_float32_model_would_store_as_inf():
    net = TwoLayerNet(4, 5, 3, rng=0, dtype=np.float32)
    before = net.params["W1"].copy()
    with pytest.raises(ValueError, match=r"params\['W1'\]: 1e\+300 is beyond the largest float32"):
        net.params["W1"] = np.full((4, 5), 1e300)
    np.testing.assert_array_equal(net.params["W1"], before)
    net.params["W1"] = np.full((4, 5), 0.5)  # in range: copied, as before
    assert net.params["W1"].dtype == np.float32 and (net.params["W1"] == 0.5).all()
