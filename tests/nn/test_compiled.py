"""Compiled models: `nn.train(..., compile=True)`, and copies, pickles and files of a model
whose `gradient` runs its traced program."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd
import nn
from nn import MLP, SGD, AdaGrad, Adam, Momentum, RMSprop, TwoLayerNet

KEYS = ("W1", "b1", "W2", "b2")
OPTIMIZERS = {
    "SGD": lambda: SGD(lr=0.1),
    "Momentum": lambda: Momentum(lr=0.1),
    "AdaGrad": lambda: AdaGrad(lr=0.1),
    "RMSprop": lambda: RMSprop(lr=0.01),
    "Adam": lambda: Adam(lr=0.01),
}


def _batch(n: int, seed: int = 0, inputs: int = 784) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, inputs)), np.eye(10)[rng.integers(0, 10, n)]


def _eager(net: MLP, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    return MLP.gradient(net, x, t)  # the class's method: backward through a recorded graph


def _assert_same_gradients(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-9, atol=1e-12, err_msg=key)


# --- nn.train(..., compile=True) -------------------------------------------------------------
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_compiled_training_gives_eager_trainings_numbers_on_mnist(mnist: Any, name: str) -> None:
    """Same seed, 300 steps on real MNIST: the same losses to round-off, the same weights and
    accuracies. 10,050 samples: every epoch ends with a batch of 50, which traces again."""
    (x, t), (x_test, t_test) = mnist
    data = ((x[:10_050], t[:10_050]), (x_test[:1000], t_test[:1000]))
    runs = []
    for compiled in (False, True):
        net = TwoLayerNet(784, 50, 10, rng=0)
        history = nn.train(net, data, optimizer=OPTIMIZERS[name](), iters=300, seed=4,
                           progress=False, compile=compiled)  # fmt: skip
        runs.append((net, history))
    (eager_net, eager), (compiled_net, compiled) = runs
    assert isinstance(compiled, nn.History) and compiled.steps == 300
    np.testing.assert_allclose(compiled.loss, eager.loss, rtol=0, atol=1e-10)
    assert compiled.epoch == eager.epoch == pytest.approx([1, 2, 300 / 101])
    assert compiled.train_acc == eager.train_acc and compiled.test_acc == eager.test_acc
    for key in KEYS:
        np.testing.assert_allclose(compiled_net.params[key], eager_net.params[key], atol=1e-10)
    assert "2 traced" in repr(compiled_net._program)  # batches of 100 and the last one of 50
    # training through the program leaves net.gradient as it was: eager
    assert "gradient" not in vars(compiled_net)


def test_compiled_training_takes_integer_labels_and_float32() -> None:
    rng = np.random.default_rng(0)
    t = rng.integers(0, 3, size=230)
    x = (np.eye(3, 4)[t] * 2 + 0.5 * rng.standard_normal((230, 4))).astype(np.float32)
    histories = []
    for compiled in (False, True):
        net = TwoLayerNet(4, 8, 3, weight_init_std=0.5, rng=0, dtype=np.float32)
        histories.append(nn.train(net, (x, t), epochs=3, batch_size=64, progress=False,
                                  compile=compiled))  # fmt: skip
    np.testing.assert_allclose(histories[1].loss, histories[0].loss, rtol=1e-5)
    assert histories[1].train_acc == histories[0].train_acc


def test_compiled_training_uses_a_program_compiled_before() -> None:
    x, t = _batch(100, inputs=6)
    net = TwoLayerNet(6, 5, 10, rng=0)
    program = net.compile(x, t)
    nn.train(net, (x, t), iters=3, eval_every=0, progress=False, compile=True)
    assert net._program is program


def test_compile_is_refused_where_it_cannot_apply() -> None:
    x, t = _batch(20, inputs=6)

    class Line(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Affine.create(6, 10, rng=0)

        def forward(self, x: Any) -> Any:
            return self.w(x)

    with pytest.raises(TypeError, match=r"compile=True needs an nn model .* Line has no compile"):
        nn.train(Line(), (x, t), iters=1, eval_every=0, progress=False, compile=True,
                 loss=lambda m, x, t: nn.SoftmaxWithLoss()(m(x), t))  # fmt: skip
    with pytest.raises(TypeError, match="a custom loss= trains eagerly"):
        nn.train(TwoLayerNet(6, 5, 10), (x, t), iters=1, progress=False, compile=True,
                 loss=lambda m, x, t: m.lastLayer(m(x), t))  # fmt: skip


def test_compiled_gradient_refuses_labels_that_are_not_classes() -> None:
    x, _ = _batch(3, inputs=6)
    net = TwoLayerNet(6, 5, 10, rng=0)
    net.compile(x, np.array([0, 1, 2]))
    for labels, shown in [([0, 10, 1], "10"), ([0, -1, 1], "-1"), ([0.5, 1, 2], "0.5"),
                          ([np.nan, 1, 2], "nan")]:  # fmt: skip
        with pytest.raises(ValueError, match=rf"label {shown}\b.* not a class number 0\.\.9"):
            net.gradient(x, np.array(labels))
    whole = net.gradient(x, np.array([3.0, 1.0, 2.0]))  # whole floats are labels, as eagerly
    _assert_same_gradients(whole, _eager(net, x, np.eye(10)[[3, 1, 2]]))


def test_compiled_gradient_names_the_labels_shape_given_when_it_does_not_fit() -> None:
    """Three labels for five samples were turned into three one-hot rows first, so the error
    spoke of labels of shape (3, 10), which the learner never gave."""
    x, t = _batch(5, inputs=6)
    net = TwoLayerNet(6, 5, 10, rng=0)
    net.compile(x, t)
    with pytest.raises(ValueError, match=r"logits \(5, 10\) and labels \(3,\) do not match"):
        net.gradient(x, np.array([0, 1, 2]))


# --- copies, pickles and files ----------------------------------------------------------------
def _compiled_models() -> list[MLP]:
    x, t = _batch(20, inputs=12)
    two = TwoLayerNet(12, 7, 10, weight_init_std=0.3, rng=1)
    deep = MLP([12, 9, 8, 10], "sigmoid", rng=2)
    for net in (two, deep):
        net.compile(x, t)
    return [two, deep]


@pytest.mark.parametrize("index", [0, 1], ids=["TwoLayerNet", "MLP"])
def test_a_deep_copy_stays_compiled_and_computes_with_its_own_parameters(index: int) -> None:
    net = _compiled_models()[index]
    x, t = _batch(20, seed=1, inputs=12)
    before = {key: g.copy() for key, g in net.gradient(x, t).items()}
    twin = copy.deepcopy(net)
    assert twin.gradient.__self__ is twin  # still compiled, bound to the copy
    for key in twin.params:
        twin.params[key] += 0.25
    short_x, short_t = x[:7], t[:7]  # another batch size: the copy traces its own program
    for xs, ts in ((x, t), (short_x, short_t)):
        _assert_same_gradients(twin.gradient(xs, ts), _eager(twin, xs, ts))
    assert twin._program is not net._program
    _assert_same_gradients(net.gradient(x, t), before)  # the original is untouched
    for key, p in net.params.tensors.items():
        assert not np.shares_memory(p.data, twin.params[key])


@pytest.mark.parametrize("index", [0, 1], ids=["TwoLayerNet", "MLP"])
def test_a_layer_swapped_after_compiling_is_what_the_compiled_step_computes(index: int) -> None:
    """`net.layers["Relu1"] = Sigmoid()` after compile: the step kept computing the old layer's
    gradients (0.004 off in W1, no error); it traces the new layers."""
    net = _compiled_models()[index]
    x, t = _batch(20, seed=1, inputs=12)
    net.gradient(x, t)
    swapped = next(name for name in net.layers if not name.startswith("Affine"))
    net.layers[swapped] = nn.Tanh()
    _assert_same_gradients(net.gradient(x, t), _eager(net, x, t))
    twin = copy.deepcopy(net)  # a copy traces through its own (the copied) layers
    twin.layers[swapped] = nn.Relu()
    _assert_same_gradients(twin.gradient(x, t), _eager(twin, x, t))
    history = nn.train(twin, (x, t), iters=1, eval_every=0, progress=False, compile=True)
    assert history.steps == 1 and not twin._layers_changed()


def test_a_shallow_copy_retraces_rather_than_sharing_the_program() -> None:
    net = _compiled_models()[0]
    x, t = _batch(20, seed=1, inputs=12)
    twin = copy.copy(net)
    assert twin._program is None and twin.gradient.__self__ is twin
    _assert_same_gradients(twin.gradient(x, t), _eager(net, x, t))


def test_an_unpickled_compiled_model_trains_in_a_fresh_process(tmp_path: Path) -> None:
    """Pickled here, loaded in a new interpreter: still compiled, the same gradients, and it
    trains (SGD steps through its own program)."""
    models = _compiled_models()
    x, t = _batch(20, seed=1, inputs=12)
    expected = [net.gradient(x, t) for net in models]
    (tmp_path / "models.pkl").write_bytes(pickle.dumps(models))
    np.savez(tmp_path / "batch.npz", x=x, t=t)
    script = textwrap.dedent(
        """
        import pickle, sys
        import numpy as np
        import nn
        folder = sys.argv[1]
        models = pickle.loads(open(f"{folder}/models.pkl", "rb").read())
        batch = np.load(f"{folder}/batch.npz")
        out = {}
        for i, net in enumerate(models):
            assert net.gradient.__self__ is net and net._program is None
            for key, g in net.gradient(batch["x"], batch["t"]).items():
                out[f"{i}.{key}"] = g
            assert net._program is not None
            history = nn.train(net, (batch["x"], batch["t"]), iters=20, batch_size=10,
                               eval_every=0, progress=False, compile=True)
            out[f"{i}.loss"] = np.array(history.loss)
        np.savez(f"{folder}/out.npz", **out)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = np.load(tmp_path / "out.npz")
    for i, grads in enumerate(expected):
        _assert_same_gradients({key: out[f"{i}.{key}"] for key in grads}, grads)
        losses = out[f"{i}.loss"]
        assert np.isfinite(losses).all() and losses[-5:].mean() < losses[:5].mean()


def test_save_and_load_of_a_compiled_model(tmp_path: Path) -> None:
    """The file holds the weights only; loading into a compiled model is seen by its program."""
    trained, fresh = _compiled_models()[0], _compiled_models()[0]
    x, t = _batch(20, seed=1, inputs=12)
    for key in trained.params:
        trained.params[key] *= 1.5
    trained.save(tmp_path / "net.npz")
    assert sorted(np.load(tmp_path / "net.npz").files) == sorted(KEYS)
    fresh.load(tmp_path / "net.npz")
    _assert_same_gradients(fresh.gradient(x, t), _eager(trained, x, t))


def test_compiled_training_stops_on_a_nan_loss_like_eager_training() -> None:
    x, t = _batch(50, inputs=6)
    net = TwoLayerNet(6, 5, 10, rng=0)
    net.params["W2"][0, 0] = np.nan
    before = {key: value.copy() for key, value in net.params.items()}
    with pytest.raises(nn.TrainingDiverged, match="loss became nan at step 1") as exc:
        nn.train(net, (x, t), iters=5, progress=False, compile=True)
    assert len(exc.value.history.loss) == 1
    for key in KEYS:  # no step was taken with the NaN gradients
        np.testing.assert_array_equal(net.params[key], before[key])


def test_a_model_pickled_before_compiling_existed_trains_compiled() -> None:
    """Pickles made before models had a program slot lack it: the class default covers them."""
    net = TwoLayerNet(6, 5, 10, rng=0)
    state = net.__getstate__()
    del state["_program"]
    old = TwoLayerNet.__new__(TwoLayerNet)
    old.__setstate__(state)
    x, t = _batch(30, inputs=6)
    history = nn.train(old, (x, t), iters=3, eval_every=0, progress=False, compile=True)
    assert history.steps == 3 and old._program is not None


def test_a_compiled_gradient_leaves_the_last_layer_this_batchs_loss() -> None:
    """The book's SoftmaxWithLoss keeps its last call; the compiled step used to leave the loss
    and t of an earlier (eager) batch there, a wrong number with no error."""
    x, t = _batch(20, inputs=6)
    net = TwoLayerNet(6, 5, 10, rng=0)
    net.gradient(x[:10], t[:10])  # eager: the layer keeps the first batch
    net.compile(x[:10], t[:10])
    labels = t[10:].argmax(axis=1)
    net.gradient(x[10:], labels)
    last = net.lastLayer
    loss, kept = float(last.loss.data), last.t
    assert last.y is None  # the program does not return softmax: no older batch's y either
    assert kept is labels
    assert loss == pytest.approx(float(net.loss(x[10:], labels)), rel=1e-12)


@pytest.mark.parametrize(
    "bad",
    ["label 10", "5 labels for 8 rows", "4 features", "one-hot rows of 9"],
)
def test_a_compiled_gradient_refusing_a_batch_leaves_every_grad_as_it_was(bad: str) -> None:
    """The step cleared every `.grad` before running the program: a refused batch (a bad
    label, another shape traced again and failing) raised with all gradients gone, where eager
    mode (and the compiled step before) kept them."""
    x, t = _batch(8, inputs=6)
    labels = t.argmax(axis=1)
    x_bad, t_bad = {
        "label 10": (x, np.full(8, 10)),
        "5 labels for 8 rows": (x, labels[:5]),
        "4 features": (x[:, :4], labels),
        "one-hot rows of 9": (x, t[:, :9]),
    }[bad]
    net = TwoLayerNet(6, 5, 10, weight_init_std=0.3, rng=0)
    net.compile(x, labels)
    net.gradient(x, labels)
    before = {key: p.grad for key, p in net.params.tensors.items()}
    with pytest.raises(ValueError):
        net.gradient(x_bad, t_bad)
    for key, p in net.params.tensors.items():
        assert p.grad is before[key], key
    _assert_same_gradients(net.gradient(x, labels), _eager(net, x, labels))


def test_a_compiled_gradient_leaves_each_parameter_one_grad_tensor_backward_adds_to() -> None:
    """The step stores the program's arrays; `.grad` makes the Tensor when read, once (the same
    object for every reader, threads too), and a later backward adds to it as to any grad."""
    x, t = _batch(8, inputs=6)
    net = TwoLayerNet(6, 5, 10, weight_init_std=0.3, rng=0)
    net.compile(x, t)
    grads = net.gradient(x, t)
    tensors = net.params.tensors
    assert "grad=" in repr(tensors["b2"])  # read before anyone asked for the Tensor
    copied = pickle.loads(pickle.dumps(tensors["b1"])).grad
    np.testing.assert_array_equal(copied.data, grads["b1"])
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(tensors["W1"].grad)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and all(g is seen[0] for g in seen)
    for key in KEYS:
        g = tensors[key].grad
        assert isinstance(g, autograd.Tensor) and g is tensors[key].grad
        assert g.shape == tensors[key].shape and g.data is grads[key]
    eager = _eager(TwoLayerNet(6, 5, 10, weight_init_std=0.3, rng=0), x, t)
    net.gradient(x, t)  # arrays again, then an eager backward on top adds to them
    net.lastLayer(net.predict(x), t).backward()
    for key in KEYS:
        np.testing.assert_allclose(tensors[key].grad.data, 2 * eager[key], rtol=1e-9, err_msg=key)


def test_a_gradient_read_inside_a_block_is_not_drawn_in_that_block() -> None:
    """A compiled step's gradients (and the float pass's) become Tensors when first read; they
    were made by the step, not in the block the reader has open (it drew them in "reading")."""
    x, t = _batch(8, inputs=6)
    net = TwoLayerNet(6, 5, 10, weight_init_std=0.3, rng=0)
    net.compile(x, t)
    net.gradient(x, t)
    a = autograd.Value(2.0, requires_grad=True)
    (a * a).backward()
    with autograd.scope("reading"):
        grads = [p.grad for p in net.params.tensors.values()] + [a.grad]
    assert [autograd.region_of(g) for g in grads] == [None] * 5


def test_a_thread_reading_grad_during_a_compiled_step_never_leaves_the_older_gradient(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`.grad` wraps the stored array. A reader wrapping the last step's array while the next
    step stored its own would put the older gradient back: the reader here is held inside
    the wrap until the step has stored (or for 0.5 s, when the step waits for it, as it must)."""
    x, t = _batch(8, inputs=6)
    net = TwoLayerNet(6, 5, 10, weight_init_std=0.3, rng=0)
    net.compile(x, t)
    W1 = net.params.tensors["W1"]
    old = net.gradient(x, t)["W1"]
    wrap = autograd.Tensor._wrap.__func__

    def slow_wrap(cls: type, data: Any, ident: int | None = None) -> Any:
        if threading.current_thread() is reader:
            deadline = time.monotonic() + 0.5
            while (W1._grad is None or W1._grad is old) and time.monotonic() < deadline:
                time.sleep(0.001)
        return wrap(cls, data, ident)

    monkeypatch.setattr(autograd.Tensor, "_wrap", classmethod(slow_wrap))
    reader = threading.Thread(target=lambda: W1.grad)
    reader.start()
    time.sleep(0.05)  # the reader is inside the wrap of `old`
    new = net.gradient(x, t)["W1"]
    reader.join()
    assert W1.grad.data is new


def test_a_compiled_step_honours_anomaly_mode_and_hooks_added_after_compiling() -> None:
    """The program ran plain numpy: NaN gradients went unreported inside detect_anomaly(), and
    a hook registered on a parameter after compile was silently skipped."""
    x, t = _batch(8, inputs=6)
    net = TwoLayerNet(6, 5, 10, weight_init_std=0.3, rng=0)
    net.compile(x, t)
    handle = net.params.tensors["W1"].register_hook(lambda g: g * 0)
    assert not net.gradient(x, t)["W1"].any()
    history = nn.train(net, (x, t), iters=2, batch_size=4, eval_every=0, progress=False,
                       compile=True)  # fmt: skip
    assert history.steps == 2 and not net.params.tensors["W1"].grad.data.any()
    handle.remove()
    assert net.gradient(x, t)["W1"].any()
    net.params["W2"][0, 0] = np.nan
    with autograd.detect_anomaly(), pytest.raises(autograd.AnomalyError, match="NaN or Inf"):
        net.gradient(x, t)
    with autograd.detect_anomaly(), pytest.raises(autograd.AnomalyError, match="NaN or Inf"):
        nn.train(net, (x, t), iters=1, eval_every=0, progress=False, compile=True)


def test_a_compiled_step_refuses_labels_holding_nan_as_eager_mode_does() -> None:
    """Generated code checks no values: one-hot labels holding NaN gave a NaN loss, and
    `nn.train(..., compile=True)` blamed the learning rate, where eager mode says the labels
    hold NaN."""
    x, t = _batch(8, inputs=6)
    net = TwoLayerNet(6, 5, 10, rng=0)
    net.compile(x, t)
    bad = t.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="labels contain NaN or inf"):
        MLP.gradient(TwoLayerNet(6, 5, 10, rng=0), x, bad)  # eager mode
    with pytest.raises(ValueError, match="labels contain NaN or inf"):
        net.gradient(x, bad)
    with pytest.raises(ValueError, match="labels contain NaN or inf"):
        nn.train(TwoLayerNet(6, 5, 10, rng=0), (x, bad), iters=2, progress=False, compile=True)
    _assert_same_gradients(net.gradient(x, t), _eager(net, x, t))
    x_bad = x.copy()
    x_bad[0, 0] = np.nan  # data, not labels: NaN numbers, as eager mode gives
    assert np.isnan(net.gradient(x_bad, t)["W1"]).any()


def test_a_notebook_training_compiled_models_again_and_again_keeps_nothing() -> None:
    """Re-running a cell that trains a fresh compiled model (two traces: the full batches and
    the last, shorter one): its programs, their generated code and its tensors go with the
    model. The compile() filenames stayed (about 150 bytes a run) until d25ea41."""
    import gc
    import tracemalloc

    runs = 20
    x, t = _batch(40, inputs=6)

    def run() -> None:
        net = TwoLayerNet(6, 5, 10, rng=0)
        nn.train(net, (x, t), iters=3, batch_size=15, eval_every=0, progress=False, compile=True)

    def used() -> int:
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    def tensors() -> int:
        gc.collect()
        return sum(isinstance(obj, autograd.Tensor) for obj in gc.get_objects())

    tracemalloc.start()  # before the warm-up: caches it fills are then counted at every level
    try:
        for _ in range(2 * runs):
            run()
        before = tensors()
        levels = []
        for _ in range(4):
            levels.append(used())
            for _ in range(runs):
                run()
        levels.append(used())
    finally:
        tracemalloc.stop()
    assert tensors() <= before
    per_run = float(np.median(np.diff(levels))) / runs
    assert per_run < 50, f"bytes kept every {runs} runs: {np.diff(levels)}"


def test_threads_training_their_own_models_at_once_get_the_serial_results() -> None:
    """Four models trained side by side (eager and compiled, four optimizers, step-by-step and
    the book's `gradient` + `update`), started together: each ends with exactly the losses
    and weights it gets alone (recording, scopes, traces and `.grad` stores are per model or
    per thread)."""
    x, t = _batch(48, inputs=6)
    names = ["SGD", "Momentum", "AdaGrad", "Adam"]

    def job(k: int) -> tuple[list[float], dict[str, np.ndarray]]:
        net = TwoLayerNet(6, 5, 10, weight_init_std=0.3, rng=k)
        optimizer = OPTIMIZERS[names[k]]()
        if k % 2:  # the book's loop
            if k == 3:
                net.compile(x[:16], t[:16])
            losses = []
            for i in range(12):
                rows = slice(16 * (i % 3), 16 * (i % 3) + 16)
                optimizer.update(net.params, net.gradient(x[rows], t[rows]))
                losses.append(float(net.lastLayer.loss))
        else:
            history = nn.train(
                net, (x, t), optimizer=optimizer, iters=12, batch_size=16, eval_every=0,
                progress=False, compile=k == 2, seed=k,
            )  # fmt: skip
            losses = history.loss
        return losses, {key: value.copy() for key, value in net.params.items()}

    alone = [job(k) for k in range(4)]
    start = threading.Barrier(4)
    together: list[Any] = [None] * 4

    def run(k: int) -> None:
        start.wait()
        together[k] = job(k)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns every few bytecodes
    try:
        threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    for k, (losses, weights) in enumerate(alone):
        losses_now, weights_now = together[k]
        assert losses_now == losses, names[k]
        for key in KEYS:
            np.testing.assert_array_equal(weights_now[key], weights[key], err_msg=names[k] + key)
