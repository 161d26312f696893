"""Optimizers against the book's formulas (common/optimizer.py, re-typed below), through both
faces: `update(params, grads)` on dicts and `step()` on parameter tensors."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Tensor
from nn import SGD, AdaGrad, Adam, Momentum, RMSprop, TwoLayerNet


# --- the book's optimizers, verbatim apart from style --------------------------------------------
class BookSGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


class BookMomentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class BookAdaGrad:
    def __init__(self, lr=0.01):
        self.lr, self.h = lr, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class BookRMSprop:
    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr, self.decay_rate, self.h = lr, decay_rate, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class BookAdam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


PAIRS = [
    (SGD, BookSGD, {"lr": 0.1}),
    (Momentum, BookMomentum, {"lr": 0.05, "momentum": 0.8}),
    (AdaGrad, BookAdaGrad, {"lr": 0.3}),
    (RMSprop, BookRMSprop, {"lr": 0.05, "decay_rate": 0.9}),
    (Adam, BookAdam, {"lr": 0.1, "beta1": 0.8, "beta2": 0.99}),
]
IDS = [ours.__name__ for ours, _, _ in PAIRS]

# f(w) = ½ Σ a⊙w², with a different curvature per coordinate; ∇f = a⊙w
CURVATURE = {"x": np.array([1.0, 10.0, 0.1]), "y": np.array([[2.0, 0.5], [3.0, 1.0]])}
START = {"x": np.array([1.0, -2.0, 3.0]), "y": np.array([[-1.0, 0.5], [2.0, -0.2]])}


def quadratic_grads(params):
    return {key: CURVATURE[key] * params[key] for key in params}


@pytest.mark.parametrize(("ours", "book", "options"), PAIRS, ids=IDS)
def test_update_face_matches_the_book(ours, book, options):
    mine = {key: value.copy() for key, value in START.items()}
    reference = {key: value.copy() for key, value in START.items()}
    opt, ref = ours(**options), book(**options)
    for _ in range(25):
        opt.update(mine, quadratic_grads(mine))
        ref.update(reference, quadratic_grads(reference))
    for key in START:
        np.testing.assert_array_equal(mine[key], reference[key])


@pytest.mark.parametrize(("ours", "book", "options"), PAIRS, ids=IDS)
def test_step_face_matches_the_book(ours, book, options):
    tensors = {key: Tensor(value.copy()) for key, value in START.items()}
    reference = {key: value.copy() for key, value in START.items()}
    opt, ref = ours(params=tensors.values(), **options), book(**options)
    for _ in range(25):
        for key, p in tensors.items():
            p.grad = CURVATURE[key] * p.data
        opt.step()
        ref.update(reference, quadratic_grads(reference))
    for key in START:
        np.testing.assert_array_equal(tensors[key].data, reference[key])


@pytest.mark.parametrize(("ours", "book", "options"), PAIRS, ids=IDS)
def test_step_with_backward_descends_the_quadratic(ours, book, options):
    w = Tensor(START["x"].copy())
    a = Tensor(CURVATURE["x"], requires_grad=False)
    opt = ours(params=[w], **options)
    first = None
    for _ in range(200):
        opt.zero_grad()
        loss = 0.5 * (a * w * w).sum()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert 0.5 * np.sum(CURVATURE["x"] * w.data**2) < 0.05 * first


@pytest.mark.parametrize(("ours", "book", "options"), PAIRS, ids=IDS)
def test_book_naive_comparison_with_plain_numbers(ours, book, options):
    """ch. 6's optimizer_compare_naive.py keeps x and y as Python floats in the dicts."""

    def df(x, y):
        return x / 10.0, 2.0 * y

    results = []
    for opt in (ours(**options), book(**options)):
        params, grads, path = {"x": -7.0, "y": 2.0}, {}, []
        for _ in range(30):
            path.append((params["x"], params["y"]))
            grads["x"], grads["y"] = df(params["x"], params["y"])
            opt.update(params, grads)
        results.append(np.array(path, dtype=float))
    np.testing.assert_array_equal(results[0], results[1])


def test_adam_first_step_is_lr_times_the_sign():
    """Bias correction makes the first step ≈ lr in every coordinate, whatever the scale."""
    params = {"w": np.array([1.0, 1.0])}
    Adam(lr=0.01).update(params, {"w": np.array([0.1, 1e3])})
    np.testing.assert_allclose(params["w"], [0.99, 0.99], rtol=1e-6)


@pytest.mark.parametrize(("ours", "book", "options"), PAIRS, ids=IDS)
def test_both_faces_give_the_same_network(ours, book, options, mnist):
    """One formula, two faces: `update(net.params, net.gradient(...))` and `step()` agree."""
    (x_train, t_train), _ = mnist
    book_face, module_face = TwoLayerNet(784, 20, 10, rng=0), TwoLayerNet(784, 20, 10, rng=0)
    opt_book, opt_module = ours(**options), ours(params=module_face.parameters(), **options)
    for i in range(5):
        x, t = x_train[i * 50 : (i + 1) * 50], t_train[i * 50 : (i + 1) * 50]
        opt_book.update(book_face.params, book_face.gradient(x, t))
        opt_module.zero_grad()
        module_face.lastLayer(module_face(x), t).backward()
        opt_module.step()
    for key in book_face.params:
        np.testing.assert_array_equal(book_face.params[key], module_face.params[key])


def test_parameters_without_a_gradient_are_left_alone():
    used, unused = Tensor([1.0, 2.0]), Tensor([3.0])
    opt = Momentum(lr=0.1, params=[used, unused])
    (used * used).sum().backward()
    opt.step()
    np.testing.assert_allclose(used.data, [0.8, 1.6])
    assert unused.data.tolist() == [3.0]
    opt.zero_grad()
    assert used.grad is None


def test_step_without_parameters_explains_both_faces():
    with pytest.raises(ValueError, match=r"params=model.parameters\(\).*update\(params, grads\)"):
        SGD().step()


def test_float32_parameters_stay_float32():
    w = Tensor(np.ones(3, dtype=np.float32))
    for opt in (SGD(params=[w]), Momentum(params=[w]), AdaGrad(params=[w]), Adam(params=[w])):
        w.grad = np.full(3, 0.5, dtype=np.float32)
        opt.step()
        assert w.data.dtype == np.float32
