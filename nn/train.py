"""`train(model, data, ...)`: the book's training loop (5.7.4) as one call, with a history.

    history = nn.train(net, load_mnist(one_hot_label=True), optimizer=SGD(lr=0.1), iters=10_000)
    history.plot()

Minibatches come from shuffled epochs (`DataLoader`, seeded), the loss of every step is kept and
train/test accuracy is measured at the end of every epoch (or every `eval_every` steps). The
progress bar is `tqdm.auto`: a widget in Jupyter (with ipywidgets), text in a terminal. The book's
hand-written loop (`grad = net.gradient(...)`, `params[key] -= lr * grad[key]`) is unchanged; this
is the same computation for people who know `model.fit`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from autograd import Tensor
from autograd.files import write_atomically
from nn.datasets import DataLoader
from nn.optimizers import SGD, Optimizer

__all__ = ["History", "TrainingDiverged", "train"]

LossFn = Callable[[Any, np.ndarray, np.ndarray], Tensor]


def _picture(fig: Any, path: str | os.PathLike[str]) -> tuple[str, Callable[[Any], object]]:
    """Where and how savefig would write `path`: a name without a suffix gets `.png`, as savefig
    gives it; a suffix it cannot write is refused before any folder is made."""
    name = os.fspath(path)
    kind = Path(name).suffix.lstrip(".").lower()
    if not kind and not (name.endswith(("/", os.sep)) or os.path.isdir(name)):  # (a folder is
        # refused by write_atomically, not written beside as folder.png)
        name, kind = f"{name}.png", "png"
    supported = fig.canvas.get_supported_filetypes()
    if kind and kind not in supported:
        raise ValueError(
            f"History.plot: cannot write {name}: matplotlib makes no .{kind} pictures; end the "
            f"name with .png, .svg or .pdf (or one of {', '.join('.' + k for k in supported)})"
        )
    return name, lambda f: fig.savefig(f, dpi=100, format=kind or None)


@dataclass
class History:
    """What `train` measured: the loss of every step, accuracies at each evaluation.

    `epoch[i]` is when evaluation i happened, in epochs (fractional for a partial epoch);
    `test_acc` is empty when no test data was given.
    """

    loss: list[float] = field(default_factory=list)
    epoch: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.loss)

    def plot(self, path: Any = None) -> Any:
        """A matplotlib Figure: loss per step (left) and accuracy per epoch (right), as in the
        book's Fig. 4-11 and 4-12. Saved to `path` when given (missing folders are created); in
        Jupyter it shows inline."""
        try:
            from nn.plotting import InlineFigure
        except ImportError:  # pragma: no cover - matplotlib is in the `plots` extra
            raise ImportError(
                "History.plot needs matplotlib: pip install 'scratchgrad[plots]'"
            ) from None
        measured = bool(self.epoch)  # eval_every=0: the loss alone, in one panel
        fig = InlineFigure(figsize=(10 if measured else 5.5, 3.8), layout="constrained")
        axes = fig.subplots(1, 2 if measured else 1, squeeze=False)[0]
        axes[0].plot(np.arange(1, self.steps + 1), self.loss, linewidth=0.6)
        axes[0].set(xlabel="iteration", ylabel="loss", title="training loss (minibatch)")
        if measured:
            acc_ax = axes[1]
            acc_ax.plot(self.epoch, self.train_acc, marker="o", label="train acc")
            if self.test_acc:
                acc_ax.plot(self.epoch, self.test_acc, marker="s", linestyle="--", label="test acc")
            acc_ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1.0), title="accuracy")
            acc_ax.set_xlim(left=0)
            acc_ax.legend(loc="lower right")
        if isinstance(path, (str, os.PathLike)):  # as save() writes: missing folders made, and
            write_atomically(*_picture(fig, path))  # never a half-written picture
        elif path is not None:  # a file object
            fig.savefig(path, dpi=100)
        return fig

    def __repr__(self) -> str:
        last = ""
        if self.train_acc:
            last = f", train acc {self.train_acc[-1]:.4f}"
            if self.test_acc:
                last += f", test acc {self.test_acc[-1]:.4f}"
        return f"History({self.steps} steps, {len(self.epoch)} evaluations{last})"


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite: every later step would be meaningless. The model keeps
    the weights of the step before; `.history` holds what was measured, that loss included."""

    def __init__(self, step: int, history: History, bad_data: str = "") -> None:
        cause = (
            f"the batch's x holds {bad_data}: clean the data (np.isfinite(x).all() finds it)"
            if bad_data
            else "the learning rate is probably too large for this model (try a tenth of it)"
        )
        super().__init__(f"train: the loss became {history.loss[-1]} at step {step}; {cause}")
        self.step = step
        self.history = history
        self._bad_data = bad_data

    def __reduce__(self) -> tuple[Any, ...]:
        # a worker process sends its exception back pickled; the default passes only the message
        return (type(self), (self.step, self.history, self._bad_data))


def _split(data: Any) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
    """`(x, t)` or `((x_train, t_train), (x_test, t_test))`, as `load_mnist` returns it."""
    try:
        if not isinstance(data, (tuple, list)):  # an array or a DataLoader would unpack too
            raise TypeError
        first, second = data
    except (TypeError, ValueError):
        raise TypeError(
            "train: data must be (x_train, t_train) or ((x_train, t_train), (x_test, t_test)), "
            f"got {type(data).__name__}"
        ) from None
    if isinstance(first, (tuple, list)):
        try:
            (x, t), (x_test, t_test) = first, second
        except (TypeError, ValueError):
            raise TypeError(
                "train: data must be ((x_train, t_train), (x_test, t_test)) when nested"
            ) from None
        x_test, t_test = np.asarray(x_test), np.asarray(t_test)
        if len(x_test) != len(t_test):  # found now, not after the first epoch's training
            raise ValueError(
                f"train: the test data has {len(x_test)} samples but {len(t_test)} labels"
            )
        return (np.asarray(x), np.asarray(t)), (x_test, t_test)
    return (np.asarray(first), np.asarray(second)), None


def _default_loss(model: Any, x: np.ndarray, t: np.ndarray) -> Tensor:
    last = getattr(model, "lastLayer", None)
    if last is None:
        raise TypeError(
            f"train: {type(model).__name__} has no lastLayer; pass loss=lambda model, x, t: ..."
        )
    return last(model(x), t)


def _check_compilable(model: Any, loss: LossFn | None) -> None:
    if not callable(getattr(model, "_compiled_step", None)):
        raise TypeError(
            f"train: compile=True needs an nn model that can be traced (MLP, TwoLayerNet); "
            f"{type(model).__name__} has no compile(x, t). Leave compile off to train eagerly"
        )
    if loss is not None:
        raise TypeError(
            "train: compile=True traces the model's own loss (lastLayer); a custom loss= "
            "trains eagerly: leave compile off"
        )


def _check_optimizer(optimizer: Any) -> None:
    if isinstance(optimizer, type):
        raise TypeError(
            f"train: optimizer={optimizer.__name__} is the class; pass an optimizer, e.g. "
            f"optimizer={optimizer.__name__}(lr=0.1)"
        )
    if isinstance(optimizer, Optimizer):
        optimizer.params  # noqa: B018  (a subclass whose __init__ skipped super's: says so)
    if not (callable(getattr(optimizer, "step", None)) and hasattr(optimizer, "params")):
        raise TypeError(
            f"train: optimizer must be one of nn's optimizers (SGD(lr=0.1), Adam(), ...), got "
            f"{type(optimizer).__name__}"
        )


def _check_trains_model(optimizer: Optimizer, model: Any) -> None:
    """An optimizer made for another model (a copy, an earlier net) would step tensors this
    model never uses: training would run and the model stay as it was."""
    parameters = getattr(model, "parameters", None)
    if not callable(parameters):
        return
    named = dict(model.named_parameters()) if hasattr(model, "named_parameters") else {}
    ours = {id(p) for p in parameters()}
    if ours and not any(id(p) in ours for p in optimizer.params):
        raise ValueError(
            f"train: the optimizer's params are not this model's parameters (made for another "
            f"model or a copy?), so training would not change {type(model).__name__}; create it "
            "with params=model.parameters(), or without params"
        )
    # some of the model's tensors missing and some the model no longer uses: the signature of
    # a layer replaced after the optimizer was made (a frozen layer leaves only the first)
    theirs = {id(p) for p in optimizer.params}
    if ours and not theirs <= ours:
        missing = [key for key, p in named.items() if id(p) not in theirs]
        if missing:
            raise ValueError(
                f"train: the optimizer does not update {type(model).__name__}'s "
                f"{', '.join(missing)} and holds tensors the model no longer uses (a layer "
                "replaced after the optimizer was made?); create it again with "
                "params=model.parameters(), or without params"
            )


def _non_finite(x: np.ndarray) -> str:
    """'NaN' or 'inf' when the batch itself is not finite (not the learning rate's fault)."""
    if x.dtype.kind != "f" or np.isfinite(x).all():
        return ""
    return "NaN" if np.isnan(x).any() else "inf"


def _count(value: int | None, name: str, least: int = 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"train: {name} must be a whole number of at least {least}, got {value!r}")
    return int(value)


def train(
    model: Any,
    data: Sequence[Any],
    *,
    optimizer: Optimizer | None = None,
    iters: int | None = None,
    epochs: int | None = None,
    batch_size: int = 100,
    eval_every: int | None = None,
    loss: LossFn | None = None,
    seed: int | np.random.Generator | None = 0,
    progress: bool = True,
    compile: bool = False,
) -> History:
    """Train `model` on minibatches of `data`; return the `History`.

    - `data`: `(x, t)` or `((x_train, t_train), (x_test, t_test))`, as `load_mnist` returns it;
    - `optimizer`: any of `nn.optimizers` (given no parameters, it takes the model's);
      default the book's `SGD(lr=0.1)`;
    - `iters` steps or `epochs` passes over the data (one of them; default one epoch);
    - `eval_every`: steps between accuracy measurements (default: one epoch; the last step is
      always measured; 0: never, only the loss is kept); accuracy uses `model.accuracy(x, t)`;
    - `loss(model, x, t) -> Tensor` (default `model.lastLayer(model(x), t)`);
    - `seed` fixes the order of the batches;
    - `compile=True` runs each step through the model's traced program (`model.compile`, the
      code backprop writes) instead of recording a graph and walking it: the same losses and
      weights to round-off, faster. The program is traced on the first batch and again for a
      batch of another size (the last, shorter one); it needs an `nn` model (MLP,
      TwoLayerNet) and its own loss, so not with `loss=`. `net.gradient` stays as it was.

    Raises `TrainingDiverged` (with the history so far) when the loss becomes NaN or infinite.
    """
    if not callable(getattr(model, "parameters", None)):
        raise TypeError(
            f"train: {type(model).__name__} is not an nn model (it has no parameters()); train "
            "runs nn's TwoLayerNet, MLP and Sequential. A network of your own, as the book's, "
            "trains with the book's loop: grads = net.gradient(x_batch, t_batch); "
            "optimizer.update(net.params, grads)"
        )
    (x, t), test = _split(data)
    iters, epochs = _count(iters, "iters"), _count(epochs, "epochs")
    eval_every = _count(eval_every, "eval_every", least=0)
    if iters is not None and epochs is not None:
        raise ValueError("train: give iters or epochs, not both")
    loader = DataLoader(x, t, batch_size, shuffle=True, seed=seed)
    per_epoch = len(loader)
    if per_epoch == 0:
        raise ValueError("train: the training data is empty")
    total = iters if iters is not None else per_epoch * (epochs or 1)
    every = per_epoch if eval_every is None else eval_every
    if every and not callable(getattr(model, "accuracy", None)):
        raise TypeError(
            f"train: {type(model).__name__} has no accuracy(x, t) to measure; "
            "define one, or pass eval_every=0 to keep only the loss"
        )
    if optimizer is None:
        optimizer = SGD(lr=0.1)
    _check_optimizer(optimizer)
    if not optimizer.params:
        optimizer.params = list(model.parameters())
    _check_trains_model(optimizer, model)
    loss_fn = loss or _default_loss
    if compile:
        _check_compilable(model, loss)

    history = History()
    start = time.perf_counter()
    bar = tqdm(total=total, unit="it", disable=not progress, mininterval=0.5, leave=True)
    try:
        # a diverging run's overflow is said by TrainingDiverged, not by numpy's warnings
        # pointing into the engine's ops
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            step = 0
            while step < total:
                for x_batch, t_batch in loader:
                    if compile:  # loss and every .grad at once
                        optimizer.zero_grad()
                        history.loss.append(model._compiled_step(x_batch, t_batch))
                    else:
                        value = loss_fn(model, x_batch, t_batch)
                        history.loss.append(float(value.item()))
                    step += 1
                    if not math.isfinite(history.loss[-1]):  # before the step: weights stay finite
                        raise TrainingDiverged(step, history, _non_finite(x_batch))
                    if not compile:
                        optimizer.zero_grad()  # after the forward, so the last gradients' memory
                        value.backward()  # is free when the new ones are made
                    optimizer.step()
                    bar.update(1)
                    if every and (step % every == 0 or step == total):
                        _evaluate(model, history, x, t, test, step / per_epoch)
                        shown = {"loss": f"{history.loss[-1]:.3f}"}
                        if history.test_acc:
                            shown["test_acc"] = f"{history.test_acc[-1]:.4f}"
                        bar.set_postfix(shown, refresh=False)
                        if progress:
                            bar.write(_report(history))
                    if step == total:
                        break
    finally:
        bar.close()
        history.seconds = time.perf_counter() - start
    return history


def _report(history: History) -> str:
    line = f"epoch {history.epoch[-1]:g}: train acc {history.train_acc[-1]:.4f}"
    if history.test_acc:
        line += f", test acc {history.test_acc[-1]:.4f}"
    return line


def _evaluate(
    model: Any,
    history: History,
    x: np.ndarray,
    t: np.ndarray,
    test: tuple[np.ndarray, np.ndarray] | None,
    epoch: float,
) -> None:
    history.epoch.append(epoch)
    history.train_acc.append(float(model.accuracy(x, t)))
    if test is not None:
        history.test_acc.append(float(model.accuracy(*test)))
