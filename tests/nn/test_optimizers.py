"""Optimizers against the book's formulas (common/optimizer.py, re-typed below), through both
faces: `update(params, grads)` on dicts and `step()` on parameter tensors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd
from autograd import Tensor
from nn import SGD, AdaGrad, Adam, Affine, Momentum, RMSprop, TwoLayerNet
from nn.optimizers import Optimizer


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


@pytest.mark.parametrize("kind", [SGD, Momentum, AdaGrad, RMSprop, Adam])
def test_a_step_with_no_gradient_at_all_says_why_rather_than_doing_nothing(kind: type) -> None:
    """step() with no parameter holding a gradient changed nothing, silently: backward forgotten,
    zero_grad() called after backward, or (found copying a model mid-training) an optimizer
    deep-copied apart from its model, whose own copies of the parameters never get one."""
    import copy

    x, t = np.random.default_rng(0).standard_normal((6, 4)), np.arange(6) % 3
    net = TwoLayerNet(4, 5, 3, rng=0)
    opt = kind(lr=0.1, params=net.parameters())
    net.lastLayer(net(x), t).backward()
    opt.step()
    opt.zero_grad()  # (a loop's next step begins)
    twin, twin_opt = copy.deepcopy(net), copy.deepcopy(opt)  # two calls: two sets of tensors
    before = twin.params["W1"].copy()
    state = copy.deepcopy(vars(twin_opt))
    twin.lastLayer(twin(x), t).backward()
    copied_apart = r"none of its 4 parameters has a gradient.*copy.deepcopy\(\(net, opt\)\)"
    with pytest.raises(RuntimeError, match=copied_apart):
        twin_opt.step()
    np.testing.assert_array_equal(twin.params["W1"], before)
    assert vars(twin_opt).keys() == state.keys() and vars(twin_opt).get("iter") == state.get("iter")
    with pytest.raises(RuntimeError, match=r"Call loss.backward\(\) before step\(\)"):
        opt.step()
    tied, tied_opt = copy.deepcopy((net, opt))  # one call: the copy's optimizer is the copy's
    tied.lastLayer(tied(x), t).backward()
    tied_opt.step()
    assert not np.array_equal(tied.params["W1"], net.params["W1"])


def test_step_without_parameters_explains_both_faces():
    with pytest.raises(ValueError, match=r"params=model.parameters\(\).*update\(params, grads\)"):
        SGD().step()


def test_float32_parameters_stay_float32():
    w = Tensor(np.ones(3, dtype=np.float32))
    for opt in (SGD(params=[w]), Momentum(params=[w]), AdaGrad(params=[w]), Adam(params=[w])):
        w.grad = np.full(3, 0.5, dtype=np.float32)
        opt.step()
        assert w.data.dtype == np.float32


# --- refused hyperparameters (issue 7, item 7) ------------------------------------------------
BAD_HYPERPARAMETERS = [
    (SGD, {"lr": -0.1}, r"SGD: lr=-0\.1 is not allowed: it must be in \[0, inf\)"),
    (SGD, {"lr": float("nan")}, r"lr=nan .*\[0, inf\)"),
    (SGD, {"lr": float("inf")}, r"lr=inf .*\[0, inf\)"),
    (AdaGrad, {"lr": -1e-3}, r"AdaGrad: lr=-0\.001"),
    (Momentum, {"momentum": 1.0}, r"Momentum: momentum=1\.0 .*\[0, 1\)"),
    (Momentum, {"momentum": -0.5}, r"momentum=-0\.5 .*\[0, 1\)"),
    (Momentum, {"momentum": float("nan")}, r"momentum=nan"),
    (RMSprop, {"decay_rate": 1.5}, r"RMSprop: decay_rate=1\.5 .*\[0, 1\)"),
    (Adam, {"beta1": 1}, r"Adam: beta1=1 .*\[0, 1\).*1 − β₁ᵗ"),
    (Adam, {"beta2": 1.0}, r"Adam: beta2=1\.0 .*\[0, 1\)"),
    (Adam, {"beta2": -0.1}, r"beta2=-0\.1"),
    (Adam, {"eps": 0.0}, r"Adam: eps=0\.0 .*\(0, inf\)"),
    (AdaGrad, {"eps": -1e-8}, r"eps=-1e-08 .*\(0, inf\)"),
    (RMSprop, {"eps": float("inf")}, r"eps=inf .*\(0, inf\)"),
]


@pytest.mark.parametrize(("cls", "options", "message"), BAD_HYPERPARAMETERS)
@pytest.mark.parametrize("face", ["update", "step"])
def test_bad_hyperparameters_are_refused_at_construction(cls, options, message, face):
    params = [Tensor([1.0, 2.0])] if face == "step" else None
    with pytest.raises(ValueError, match=message):
        cls(params=params, **options)


@pytest.mark.parametrize("value", ["0.1", True, None, 1j, Tensor([0.1, 0.2])])
def test_hyperparameters_must_be_plain_numbers(value):
    with pytest.raises(TypeError, match=r"SGD: lr=.*expected a number in \[0, inf\)"):
        SGD(lr=value)


def test_a_later_assignment_is_checked_too_and_good_values_are_kept():
    opt = Adam(lr=np.float32(0.01), beta1=0, beta2=0.5, eps=1e-12)
    assert (opt.lr, opt.beta1, opt.beta2, opt.eps) == (pytest.approx(0.01), 0.0, 0.5, 1e-12)
    assert type(opt.lr) is float
    opt.lr = 0.0  # a schedule may stop learning
    with pytest.raises(ValueError, match="lr=-1"):
        opt.lr = -1
    assert opt.lr == 0.0


def test_refused_values_leave_no_weight_changed():
    """The old code took `lr=-0.1`: a step then climbed the loss."""
    w = Tensor([1.0, 2.0])
    with pytest.raises(ValueError):
        SGD(lr=-0.1, params=[w])
    assert w.data.tolist() == [1.0, 2.0]


def test_a_parameter_listed_twice_is_refused():
    w, b = Tensor([1.0, 2.0]), Tensor([0.5])
    with pytest.raises(ValueError, match=r"params\[0\] and params\[2\] are the same tensor"):
        SGD(lr=0.1, params=[w, b, w])
    shared = np.ones(3)
    with pytest.raises(ValueError, match=r"params\[0\] and params\[1\] share one array"):
        Momentum(params=[Tensor(shared), Tensor(shared)])


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ([], ValueError, "the list is empty"),
        (Tensor([1.0, 2.0]), TypeError, "got one Tensor; pass a list"),
        ({"W": Tensor([1.0])}, TypeError, r"got a dict; .*update\(params, grads\)"),
        ([np.ones(2)], TypeError, r"params\[0\] is a ndarray, not a Tensor"),
    ],
)
def test_params_that_step_would_get_wrong_are_refused(params, error, message):
    with pytest.raises(error, match=message):
        SGD(lr=0.1, params=params)


def test_net_params_dict_is_refused_with_the_books_face_named():
    net = TwoLayerNet(4, 3, 2, rng=0)
    with pytest.raises(TypeError, match=r"update\(params, grads\)"):
        SGD(params=net.params)


def test_update_checks_every_key_before_changing_anything():
    params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    with pytest.raises(KeyError, match="grads has no 'b'"):
        SGD(lr=0.1).update(params, {"W": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"grads\['b'\] has shape \(2, 2\).*\(2,\)"):
        SGD(lr=0.1).update(params, {"W": np.ones((2, 2)), "b": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(2,\)"):  # would broadcast
        SGD(lr=0.1).update(params, {"W": np.ones(2), "b": np.ones(2)})
    assert params["W"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    same = np.ones(2)
    with pytest.raises(ValueError, match=r"params\['a'\] and params\['b'\] are the same array"):
        SGD(lr=0.1).update({"a": same, "b": same}, {"a": np.ones(2), "b": np.ones(2)})
    assert same.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("kind", [Momentum, AdaGrad, RMSprop, Adam])
def test_update_after_a_layer_of_another_shape_replaced_one_says_so(kind: type) -> None:
    """`net.layers["Affine1"] = Affine(W, b)` with another hidden size, then the book's
    `opt.update(net.params, grads)`: numpy's 'operands could not be broadcast together with
    shapes (4,6) (4,8)' from the velocity kept under W1, after some weights had changed."""
    x, t = np.ones((2, 4)), np.array([0, 1])
    net, opt = TwoLayerNet(4, 6, 3, rng=0), kind(lr=0.1)
    opt.update(net.params, net.gradient(x, t))
    net.layers["Affine1"] = Affine(np.full((4, 8), 0.1), np.zeros(8))
    net.layers["Affine2"] = Affine(np.full((8, 3), 0.1), np.zeros(3))
    before = {key: value.copy() for key, value in net.params.items()}
    with pytest.raises(ValueError, match=r"params\['W1'\] has shape \(4, 8\).*\(4, 6\).*new"):
        opt.update(net.params, net.gradient(x, t))
    for key, value in net.params.items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def test_eps_is_used_by_the_adaptive_optimizers():
    for cls in (AdaGrad, RMSprop, Adam):
        big, small = {"w": np.array([1.0])}, {"w": np.array([1.0])}
        cls(lr=0.1, eps=1.0).update(big, {"w": np.array([1e-3])})
        cls(lr=0.1).update(small, {"w": np.array([1e-3])})
        assert 1.0 - big["w"][0] < 0.01 * (1.0 - small["w"][0]), cls.__name__


@pytest.mark.parametrize("kind", [SGD, Momentum, AdaGrad, RMSprop, Adam])
def test_a_read_only_parameter_is_refused_before_any_weight_changes(kind: type) -> None:
    """numpy's 'output array is read-only' used to stop step() half-way: the first weight
    updated, the optimizer's state advanced, the second not."""
    frozen = np.ones(3)
    frozen.flags.writeable = False  # as np.load(mmap_mode="r") gives it
    a, b = Tensor(np.ones((2, 2)), name="a"), Tensor(frozen, name="b")
    (a.sum() + b.sum()).backward()
    opt = kind(params=[a, b])
    with pytest.raises(ValueError, match=r"params\[1\] \('b', shape \(3,\)\) is a read-only array"):
        opt.step()
    np.testing.assert_array_equal(a.data, np.ones((2, 2)))
    assert vars(opt).get("iter", 0) == 0 and not any(vars(opt).get(k) for k in ("v", "h", "m"))
    book = {"a": np.ones((2, 2)), "b": frozen}
    with pytest.raises(ValueError, match=r"params\['b'\] is a read-only array"):
        kind().update(book, {"a": np.ones((2, 2)), "b": np.ones(3)})
    np.testing.assert_array_equal(book["a"], np.ones((2, 2)))


def _book_loop(net: TwoLayerNet, grads: dict[str, np.ndarray]) -> None:
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= 0.1 * grads[key]  # the book's `network.params[key] -= lr * grad[key]`


@pytest.mark.parametrize(
    "update",
    [
        _book_loop,
        lambda net, grads: SGD(lr=0.1).update(net.params, grads),
        lambda net, grads: Momentum(params=net.parameters()).step(),
        lambda net, grads: Adam(params=net.parameters()).step(),
        lambda net, grads: net.load_state_dict(TwoLayerNet(6, 5, 3, rng=5).state_dict()),
        lambda net, grads: net.params.__setitem__("W2", np.zeros((5, 3))),
    ],
    ids=["book loop", "update", "Momentum.step", "Adam.step", "load_state_dict", "params[k] ="],
)
def test_a_graph_recorded_before_an_update_refuses_to_backpropagate(update: Any) -> None:
    """`with no_grad(): W -= ...` marks W as changed, so an older graph refuses the new values;
    an optimizer's step, the book's loop and loading weights wrote in place unmarked, so a
    second backward (or viz.steps) silently mixed new weights into the old pass."""
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(4, 6)), rng.integers(0, 3, 4)
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, rng=1)
    loss = net.lastLayer(net(x), t)
    loss.backward(retain_graph=True)
    kept = {key: p.grad.data.copy() for key, p in net.params.tensors.items()}
    update(net, {key: p.grad.data for key, p in net.params.tensors.items()})
    with pytest.raises(RuntimeError, match="which was changed in place"):
        loss.backward()
    with pytest.raises(RuntimeError, match="which was changed in place"):
        autograd.backward_steps(loss)
    for key, p in net.params.tensors.items():  # the refused pass changed no gradient
        np.testing.assert_array_equal(p.grad.data, kept[key])
    fresh = net.lastLayer(net(x), t)  # a graph recorded after the update is fine
    net.zero_grad()
    fresh.backward()
    assert np.isfinite(net.params.tensors["W1"].grad.data).all()


def test_step_reads_a_values_gradient_kept_as_a_float_by_the_fast_scalar_pass():
    """Optimizer.step reads `._grad` directly; the float pass leaves a Value's gradient as a
    Python float, which must be taken as that number (and a read-only one still refused)."""
    from autograd import Value

    a, b = Value(2.0, "a"), Value(-3.0, "b")
    (a * b + a).backward()
    assert type(a._grad) is float and type(b._grad) is float  # the fast pass ran
    SGD(lr=0.5, params=[a, b]).step()
    assert (a.item(), b.item()) == (2.0 - 0.5 * (-3.0 + 1.0), -3.0 - 0.5 * 2.0)
    frozen = Value(1.0)
    frozen.data = np.broadcast_to(np.asarray(1.0), ())  # read-only memory
    (frozen * 3.0).backward()
    assert type(frozen._grad) is float
    with pytest.raises(ValueError, match="read-only"):
        SGD(lr=0.1, params=[frozen]).step()


# --- a learner's own optimizer ------------------------------------------------------------------
class SkipsSuperInit(Optimizer):
    """The book's SGD as a subclass whose __init__ forgets super().__init__."""

    def __init__(self, lr: float = 0.1) -> None:
        self.learning_rate = lr

    def _increment(self, key: Any, grad: np.ndarray) -> np.ndarray:
        return -self.lr * grad


class MomentumOwnInit(Momentum):
    """A Momentum subclass that sets lr but not momentum (read in place: `v *= self.momentum`)."""

    def __init__(self, lr: float = 0.1) -> None:
        Optimizer.__init__(self, lr)
        self.v = {}


class AdamOwnInit(Adam):
    """An Adam subclass that sets lr but none of Adam's own hyperparameters."""

    def __init__(self, lr: float = 0.1) -> None:
        Optimizer.__init__(self, lr)
        self.iter, self.m, self.v = 0, {}, {}


@pytest.mark.parametrize(
    ("make", "unset"),
    [
        (SkipsSuperInit, "Optimizer.lr"),
        (MomentumOwnInit, "Momentum.momentum"),
        (AdamOwnInit, "Adam.beta"),
    ],
    ids=["lr", "momentum-in-place", "adam"],
)
def test_a_hyperparameter_a_subclass_never_set_is_named_with_what_to_do(make, unset):
    opt = make()
    w = np.ones(3)
    with pytest.raises(AttributeError, match=rf"{unset}\w* was never set.*super\(\).__init__"):
        opt.update({"w": w}, {"w": np.ones(3)})
    assert np.array_equal(w, np.ones(3))


def test_a_half_built_optimizer_still_prints():
    """repr() raised the "never set" error, so a debugger or a traceback showing it failed."""
    assert repr(SkipsSuperInit()) == "SkipsSuperInit(lr=never set, params=0)"
    assert repr(SGD(0.1)) == "SGD(lr=0.1, params=0)"


def test_params_a_subclass_never_set_is_named_with_what_to_do():
    with pytest.raises(AttributeError, match=r"SkipsSuperInit.params was never set.*super"):
        SkipsSuperInit().step()
    assert not hasattr(SGD(0.1), "no_such_attribute")  # other names: the usual AttributeError


class WithVelocity(SGD):
    """A learner's optimizer with a property whose body has a typo."""

    @property
    def velocity(self) -> Any:
        return self.velocities  # never set


def test_an_attribute_error_inside_a_subclass_property_names_the_missing_attribute():
    """Optimizer.__getattr__ (there to name an unset `params`) swallowed the AttributeError raised
    inside a property and reported the property itself as missing."""
    with pytest.raises(AttributeError, match="velocities"):
        getattr(WithVelocity(0.1), "velocity")  # noqa: B009


def test_an_unset_hyperparameter_in_an_f_string_or_round_is_named():
    """f"{opt.lr:.3f}" on a subclass that skipped super().__init__ was numpy-free Python's
    'unsupported format string passed to Hyperparameter.__format__'."""
    opt = SkipsSuperInit()
    with pytest.raises(AttributeError, match=r"Optimizer.lr was never set"):
        f"{opt.lr:.3f}"
    with pytest.raises(AttributeError, match=r"Optimizer.lr was never set"):
        round(opt.lr, 3)
    with pytest.raises(AttributeError, match=r"Optimizer.lr was never set"):
        opt.lr // 2
    assert f"{SGD(0.25).lr:.2f}" == "0.25"


def test_update_with_a_gradient_never_computed_says_so() -> None:
    """grads['W1'] = None (the book's Affine keeps dW = None until backward runs) was
    "grads['W1'] has shape (), but params['W1'] has shape (2, 2)"."""
    params = {"W1": np.ones((2, 2)), "b1": np.zeros(2)}
    for opt in (SGD(), Adam()):
        with pytest.raises(ValueError, match=r"grads\['W1'\] is None: the gradient was never "
                           r"computed .*before update"):  # fmt: skip
            opt.update(params, {"W1": None, "b1": np.zeros(2)})
    assert np.array_equal(params["W1"], np.ones((2, 2)))
