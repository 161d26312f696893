"""nn.train: the book's loop in one call; its History and plot."""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import pytest

import nn
from nn import MLP, SGD, Adam, TwoLayerNet
from nn.datasets import DataLoader
from nn.train import History


def _blobs(n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three separable classes in 4-d, labels as integers (made for these tests, seeded)."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, size=n)
    centres = np.array([[2.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 2.0, 0]])
    return centres[t] + 0.5 * rng.standard_normal((n, 4)), t


def _data():
    return _blobs(1000, 0), _blobs(300, 1)


def test_history_records_every_step_and_each_epoch():
    net = TwoLayerNet(4, 8, 3, weight_init_std=0.5, rng=0)
    history = nn.train(net, _data(), iters=25, batch_size=100, progress=False)
    assert history.steps == len(history.loss) == 25
    assert history.epoch == [1.0, 2.0, 2.5]  # 10 batches an epoch; the last step is measured
    assert len(history.train_acc) == len(history.test_acc) == 3
    assert history.test_acc[-1] > 0.9 and history.seconds > 0
    assert repr(history).startswith("History(25 steps, 3 evaluations, train acc")


def test_epochs_and_eval_every():
    net = TwoLayerNet(4, 8, 3, weight_init_std=0.5, rng=0)
    history = nn.train(net, _blobs(), epochs=2, batch_size=64, eval_every=5, progress=False)
    assert history.steps == 2 * 16  # ceil(1000 / 64) batches per epoch
    assert history.epoch == pytest.approx([5 / 16, 10 / 16, 15 / 16, 20 / 16, 25 / 16, 30 / 16, 2])
    assert history.test_acc == []  # no test split given


def test_eval_every_zero_keeps_only_the_loss():
    history = nn.train(TwoLayerNet(4, 8, 3, rng=0), _data(), iters=12, eval_every=0, progress=False)
    assert history.steps == 12 and history.epoch == history.train_acc == history.test_acc == []


def test_same_numbers_as_the_hand_written_loop():
    """train() is the book's loop: the same batches and SGD steps give the same weights."""
    (x, t), _ = _data()
    by_train = TwoLayerNet(4, 8, 3, weight_init_std=0.5, rng=3)
    nn.train(by_train, (x, t), optimizer=SGD(lr=0.1), iters=15, batch_size=100, seed=7,
             progress=False)  # fmt: skip
    by_hand = TwoLayerNet(4, 8, 3, weight_init_std=0.5, rng=3)
    loader = DataLoader(x, t, 100, shuffle=True, seed=7)
    step = 0
    while step < 15:
        for x_batch, t_batch in loader:
            grad = by_hand.gradient(x_batch, t_batch)
            for key in ("W1", "b1", "W2", "b2"):
                by_hand.params[key] -= 0.1 * grad[key]
            step += 1
            if step == 15:
                break
    for key in by_hand.params:
        np.testing.assert_allclose(by_train.params[key], by_hand.params[key], rtol=1e-12)


def test_seeded_runs_repeat_and_other_seeds_differ():
    runs = [
        nn.train(TwoLayerNet(4, 8, 3, rng=0), _data(), iters=12, seed=s, progress=False).loss
        for s in (5, 5, 6)
    ]
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_optimizer_gets_the_models_parameters_only_when_it_has_none():
    net = MLP([4, 6, 3], rng=0)
    adam = Adam(lr=0.01)
    nn.train(net, _blobs(), optimizer=adam, iters=3, progress=False)
    assert [id(p) for p in adam.params] == [id(p) for p in net.parameters()]
    frozen = MLP([4, 6, 3], rng=0)
    only_last = SGD(lr=0.5, params=[frozen.params.tensors["W2"]])
    before = frozen.params["W1"].copy()
    nn.train(frozen, _blobs(), optimizer=only_last, iters=3, progress=False)
    np.testing.assert_array_equal(frozen.params["W1"], before)


def test_custom_loss_for_a_model_without_last_layer():
    class Linear:
        def __init__(self):
            self.layer = nn.Affine.create(4, 3, weight_init_std=0.1, rng=0)

        def __call__(self, x):
            return self.layer(x)

        def parameters(self):
            return self.layer.parameters()

        def accuracy(self, x, t):
            return float(np.mean(np.argmax(self(x).numpy(), axis=1) == t))

    model = Linear()
    with pytest.raises(TypeError, match="no lastLayer; pass loss="):
        nn.train(model, _blobs(), iters=1, progress=False)
    bare = Linear()
    bare.accuracy = None  # nothing to measure accuracy with: refused before any step
    before = bare.layer.W.copy()
    with pytest.raises(TypeError, match="no accuracy"):
        nn.train(bare, _blobs(), iters=5, loss=lambda m, x, t: m(x).sum(), progress=False)
    np.testing.assert_array_equal(bare.layer.W, before)
    nn.train(bare, _blobs(), iters=2, eval_every=0, loss=lambda m, x, t: m(x).sum(), progress=False)
    loss = lambda m, x, t: nn.SoftmaxWithLoss()(m(x), t)
    history = nn.train(model, _blobs(), iters=30, loss=loss, progress=False)
    assert history.train_acc[-1] > 0.8


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"iters": 5, "epochs": 1}, ValueError, "iters or epochs, not both"),
        ({"iters": 0}, ValueError, "iters must be a whole number of at least 1"),
        ({"epochs": 1.5}, ValueError, "epochs must be a whole number"),
        ({"iters": True}, ValueError, "iters must be a whole number"),
        ({"eval_every": -1}, ValueError, "eval_every must be"),
        ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        nn.train(TwoLayerNet(4, 8, 3), _blobs(), progress=False, **kwargs)


@pytest.mark.parametrize(
    "data",
    [
        np.zeros((3, 4)),
        np.zeros((2, 5)),  # two rows would unpack as (x, t) without the check
        DataLoader(*_blobs(200), batch_size=100),  # two batches: not (train, test)
        5,
        ((np.zeros((3, 4)), np.zeros(3)), 7),
    ],
    ids=["array", "two-row array", "DataLoader", "number", "nested garbage"],
)
def test_bad_data_is_refused(data):
    with pytest.raises(TypeError, match="train: data must be"):
        nn.train(TwoLayerNet(4, 8, 3), data, iters=1, progress=False)


def test_empty_data_is_refused():
    with pytest.raises(ValueError, match="the training data is empty"):
        nn.train(TwoLayerNet(4, 8, 3), (np.zeros((0, 4)), np.zeros(0)), progress=False)


def test_progress_prints_one_line_per_evaluation(capsys):
    nn.train(TwoLayerNet(4, 8, 3, rng=0), _data(), iters=20, batch_size=100, progress=True)
    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 2 and lines[0].startswith("epoch 1: train acc ")
    assert "test acc" in lines[0]
    nn.train(TwoLayerNet(4, 8, 3, rng=0), _data(), iters=20, progress=False)
    assert capsys.readouterr() == ("", "")


def test_plot_is_a_figure_and_saves_a_png(tmp_path, assert_png):
    history = nn.train(TwoLayerNet(4, 8, 3, rng=0), _data(), iters=25, progress=False)
    fig = history.plot(tmp_path / "history.png")
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines[0].get_xdata()) == 25
    assert [line.get_label() for line in acc_ax.lines] == ["train acc", "test acc"]
    assert_png(tmp_path / "history.png")
    history.plot(tmp_path / "new" / "folder" / "h.png")  # was FileNotFoundError, after training
    assert_png(tmp_path / "new" / "folder" / "h.png")


def test_plot_shows_inline_in_a_kernel_that_never_imported_pyplot():
    """The README's `history.plot("curves.png")  # shown inline in Jupyter` showed the text
    `<Figure size 1000x380 with 2 Axes>` in a fresh kernel: a pyplot-free Figure has no picture
    for IPython until `%matplotlib inline` or a pyplot import registers one. A formatter with
    nothing registered (that fresh kernel's) now gets the PNG from the figure itself."""
    from IPython.core.formatters import PNGFormatter
    from PIL import Image

    fig = History(loss=[1.0, 0.5], epoch=[1.0], train_acc=[0.5], test_acc=[0.4]).plot()
    png = PNGFormatter()(fig)
    assert png is not None and png.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(png)).size == (1000, 380)  # figsize at dpi 100, as saved


def test_a_plot_that_fails_to_save_keeps_the_old_picture(tmp_path, monkeypatch):
    """savefig wrote in place: a full disk left half a PNG where the last one was."""
    history = nn.train(TwoLayerNet(4, 8, 3, rng=0), _data(), iters=5, progress=False)
    path = tmp_path / "history.png"
    path.write_bytes(b"the last good one")

    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", no_space)
    with pytest.raises(OSError, match=r"history\.png.*No space left"):
        history.plot(path)
    monkeypatch.undo()
    assert path.read_bytes() == b"the last good one" and os.listdir(tmp_path) == ["history.png"]
    history.plot(tmp_path / "history.svg")  # the format from the name, as savefig's own
    assert (tmp_path / "history.svg").read_bytes().startswith(b"<?xml")
    into = io.BytesIO()
    history.plot(into)  # a file object: written as matplotlib writes it
    assert into.getvalue().startswith(b"\x89PNG")


def test_a_plot_named_as_savefig_names_it(tmp_path):
    """Written through a temporary file, History.plot("loss") wrote a file called `loss`
    (savefig, and plot before, write loss.png), and a name savefig cannot write ("h.txt")
    created the missing folders first, then failed with matplotlib's message naming no file."""
    history = History(loss=[1.0, 0.5, 0.25])
    history.plot(tmp_path / "loss")
    assert os.listdir(tmp_path) == ["loss.png"]
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")
    history.plot(tmp_path / "upper.PNG")
    assert (tmp_path / "upper.PNG").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match=r"h\.txt.*\.png"):
        history.plot(tmp_path / "new" / "h.txt")
    assert sorted(os.listdir(tmp_path)) == ["loss.png", "upper.PNG"]
    with pytest.raises(IsADirectoryError, match="folder"):
        history.plot(tmp_path)


def test_on_mnist_a_few_hundred_steps_learn(mnist_loader):
    data = mnist_loader(normalize=True, one_hot_label=True)
    net = TwoLayerNet(784, 50, 10, rng=0)
    history = nn.train(net, data, optimizer=SGD(lr=0.1), iters=300, progress=False)
    assert history.epoch == [0.5] and history.test_acc[0] > 0.8


def test_plot_of_a_loss_only_history_has_one_panel_and_no_warning(tmp_path, assert_png):
    import warnings

    history = nn.train(TwoLayerNet(4, 8, 3, rng=0), _data(), iters=5, eval_every=0, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = history.plot(tmp_path / "loss.png")
    assert len(fig.axes) == 1
    assert_png(tmp_path / "loss.png")


def test_a_loss_that_becomes_nan_stops_training_with_the_history():
    net = TwoLayerNet(4, 8, 3, rng=0)
    calls = []

    def loss(model, x, t):  # finite for three steps, then NaN (as a diverging run gives)
        calls.append(1)
        value = model.lastLayer(model(x), t)
        return value * float("nan") if len(calls) > 3 else value

    with pytest.raises(nn.TrainingDiverged, match="loss became nan at step 4") as exc:
        nn.train(net, _data(), iters=50, loss=loss, progress=False)
    assert exc.value.step == 4 and len(exc.value.history.loss) == 4
    assert np.isfinite(exc.value.history.loss[:3]).all()
    assert all(np.isfinite(p).all() for p in net.params.values())  # no NaN step was taken


@pytest.mark.parametrize("compile", [False, True])
def test_a_learning_rate_so_large_it_gives_nan_says_so_without_numpy_warnings(compile):
    """SGD(lr=1e200): numpy's 'overflow encountered in matmul' at autograd/ops.py printed
    before TrainingDiverged said what happened (the learner's code has no matmul there)."""
    net = TwoLayerNet(4, 8, 3, weight_init_std=0.5, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(nn.TrainingDiverged, match="learning rate is probably too large"):
            nn.train(net, _data(), optimizer=SGD(lr=1e200), iters=20, progress=False,
                     compile=compile)  # fmt: skip


def test_a_network_of_the_learners_own_is_refused_with_the_books_loop():
    """The book's ch. 5 TwoLayerNet (numpy, params dict, gradient()) given to train failed with
    "'TwoLayerNet' object has no attribute 'parameters'" once eval_every=0 was given."""

    class BookNet:  # what a reader of chapter 5 has: params, loss, gradient, accuracy
        def __init__(self):
            self.params = {"W1": np.zeros((4, 3)), "b1": np.zeros(3)}

        def loss(self, x, t):
            return 0.0

        def accuracy(self, x, t):
            return 0.0

        def gradient(self, x, t):
            return {key: np.zeros_like(value) for key, value in self.params.items()}

    for eval_every in (None, 0):
        with pytest.raises(TypeError, match=r"BookNet is not an nn model .*optimizer\.update\("
                           r"net\.params, grads\)"):  # fmt: skip
            nn.train(BookNet(), _data(), iters=2, eval_every=eval_every, progress=False)


def test_an_optimizer_class_or_another_models_optimizer_is_refused_before_any_step():
    net = TwoLayerNet(4, 8, 3, rng=0)
    before = net.params["W1"].copy()
    with pytest.raises(TypeError, match=r"optimizer=SGD is the class; .* optimizer=SGD\(lr=0.1\)"):
        nn.train(net, _blobs(), optimizer=SGD, iters=3, progress=False)  # was AttributeError
    with pytest.raises(TypeError, match="optimizer must be one of nn's optimizers"):
        nn.train(net, _blobs(), optimizer="adam", iters=3, progress=False)
    other = TwoLayerNet(4, 8, 3, rng=1)  # was: trained `other`'s tensors, never net's
    with pytest.raises(ValueError, match="not this model's parameters"):
        nn.train(net, _blobs(), optimizer=SGD(params=other.parameters()), iters=3, progress=False)
    np.testing.assert_array_equal(net.params["W1"], before)


def test_an_optimizer_made_before_a_layer_was_replaced_is_refused_before_any_step():
    """`opt = SGD(params=net.parameters())`, then `net.layers["Affine1"] = Affine(W, b)`: train
    stepped the old W1, b1 (used by nothing) and W2, b2, so the new layer never learned, silently.
    An optimizer for some of the parameters only (a frozen layer) is still taken."""
    net = TwoLayerNet(4, 8, 3, rng=0)
    opt = SGD(lr=0.1, params=net.parameters())
    W = np.full((4, 8), 0.1)
    net.layers["Affine1"] = nn.Affine(W, np.zeros(8))
    with pytest.raises(ValueError, match=r"W1, b1.*replaced after the optimizer was made"):
        nn.train(net, _blobs(), optimizer=opt, iters=3, progress=False)
    assert np.all(W == 0.1)
    only_last = SGD(lr=0.1, params=[net.layers["Affine2"].weight])
    nn.train(net, _blobs(), optimizer=only_last, iters=3, progress=False)


class _SkipsSuperInit(SGD):
    def __init__(self) -> None:
        pass


def test_an_optimizer_whose_init_skipped_super_is_named_as_such_by_train():
    with pytest.raises(AttributeError, match=r"_SkipsSuperInit.params was never set.*super"):
        nn.train(TwoLayerNet(4, 8, 3, rng=0), _blobs(), optimizer=_SkipsSuperInit(), iters=1)


def test_nan_in_the_data_is_named_as_the_cause_not_the_learning_rate():
    x, t = _blobs(200)
    x[57, 2] = np.nan
    with pytest.raises(nn.TrainingDiverged, match=r"x holds NaN: clean the data") as exc:
        nn.train(TwoLayerNet(4, 8, 3, rng=0), (x, t), batch_size=200, iters=2, progress=False)
    assert "learning rate" not in str(exc.value)


def test_training_diverged_survives_pickling_as_a_worker_process_sends_it():
    """A run in a worker process (multiprocessing, concurrent.futures) sends its exception back
    pickled: unpickling TrainingDiverged called it with the message alone and failed with
    "missing 1 required positional argument: 'history'", hiding why training stopped."""
    import pickle

    x, t = _blobs(200)
    x[57, 2] = np.nan
    with pytest.raises(nn.TrainingDiverged) as exc:
        nn.train(TwoLayerNet(4, 8, 3, rng=0), (x, t), batch_size=200, iters=2, progress=False)
    copy = pickle.loads(pickle.dumps(exc.value))
    assert type(copy) is nn.TrainingDiverged and str(copy) == str(exc.value)
    assert copy.step == 1 and copy.history.loss[0] != copy.history.loss[0]  # the NaN loss


def test_test_data_of_mismatched_length_is_refused_before_training():
    (x, t), (x_test, t_test) = _data()
    net = TwoLayerNet(4, 8, 3, rng=0)
    before = net.params["W1"].copy()
    with pytest.raises(ValueError, match="test data has 300 samples but 299 labels"):
        nn.train(net, ((x, t), (x_test, t_test[:-1])), iters=3, progress=False)
    np.testing.assert_array_equal(net.params["W1"], before)
