"""The book's networks: `MLP` (ch. 6's MultiLayerNet) and `TwoLayerNet` (ch. 5), with the book's
members (`params`, `layers`, `lastLayer`, `predict`, `loss`, `accuracy`, `numerical_gradient`,
`gradient`) so the book's scripts run with only their imports changed.
"""

from __future__ import annotations

import itertools
import math
import numbers
import types
from collections import OrderedDict
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from autograd import Program, Tensor, no_grad, numerical_gradient, trace
from autograd.grad_mode import state as _grad_state
from autograd.tensor import _backpropagate, _stamp_write, _storing_grads
from nn.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss, Tanh, float_dtype
from nn.module import Module, Sequential, copy_into

__all__ = ["MLP", "ParamDict", "TwoLayerNet"]

ACTIVATIONS: dict[str, type[Module]] = {"relu": Relu, "sigmoid": Sigmoid, "tanh": Tanh}


class ParamDict(MutableMapping[str, np.ndarray]):
    """The book's `params`: key -> the very array the model computes with (`tensors[key].data`).

    `params[key] -= lr * grad` updates the model in place, as in the book. Assigning a new array
    copies it into the parameter instead of rebinding, so the model can never silently keep
    using the old values.
    """

    def __init__(self, tensors: dict[str, Tensor]) -> None:
        self.tensors = tensors

    def __getitem__(self, key: str) -> np.ndarray:
        return self.tensors[key]._data

    def __setitem__(self, key: str, value: npt.ArrayLike) -> None:
        tensor = self.tensors.get(key)
        if tensor is None:
            raise KeyError(f"params: no parameter {key!r}; the keys are {', '.join(self.tensors)}")
        target = tensor._data
        if value is target:  # `params[key] -= ...` already updated it in place: stamped as a
            _stamp_write(target)  # write, so a graph recorded before refuses to backpropagate
            return
        copy_into(target, value, f"params[{key!r}]")

    def __delitem__(self, key: str) -> None:
        raise TypeError("params: parameters cannot be removed from a model")

    def __iter__(self) -> Iterator[str]:
        return iter(self.tensors)

    def __len__(self) -> int:
        return len(self.tensors)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{key!r}: {t.shape}" for key, t in self.tensors.items())
        return f"ParamDict({{{shapes}}})"


def _init_std(weight_init_std: float | str | None, activation: str, fan_in: int) -> float:
    """The book's choices: 'he' (or 'relu') sqrt(2/n), 'xavier' (or 'sigmoid') sqrt(1/n)."""
    if weight_init_std is None:
        weight_init_std = "he" if activation == "relu" else "xavier"
    if isinstance(weight_init_std, str):
        kind = weight_init_std.lower()
        if kind in ("he", "relu"):
            return math.sqrt(2.0 / fan_in)
        if kind in ("xavier", "sigmoid"):
            return math.sqrt(1.0 / fan_in)
        raise ValueError(f"weight_init_std: expected a number, 'he' or 'xavier', got {kind!r}")
    if isinstance(weight_init_std, bool) or not isinstance(weight_init_std, numbers.Real):
        raise TypeError(
            f"weight_init_std: expected a number, 'he' or 'xavier', got {weight_init_std!r}"
        )
    if not math.isfinite(weight_init_std):  # every weight, and so every score, would be NaN
        raise ValueError(f"weight_init_std: must be a finite number, got {weight_init_std!r}")
    return float(weight_init_std)


def _checked_sizes(sizes: Sequence[int]) -> list[int]:
    """Whole numbers of at least 1 (a layer of 0 units has nothing to pass on), or an error
    naming the entry instead of numpy's or a division's."""
    try:
        found = list(sizes)
    except TypeError:
        raise TypeError(f"sizes: expected a list of layer sizes, got {sizes!r}") from None
    if len(found) < 2:
        raise ValueError(f"sizes: need at least input and output sizes, got {found}")
    for i, size in enumerate(found):
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(
                f"sizes[{i}] = {size!r}: every layer size must be a whole number of at least 1 "
                f"(sizes={found})"
            )
    return [int(size) for size in found]


class MLP(Sequential):
    """A classifier: (Affine → activation) per hidden layer, a last Affine, and SoftmaxWithLoss.

    `sizes` lists the units from input to output, e.g. [784, 100, 100, 10]. Parameters are keyed
    W1, b1, W2, ... as in the book; `weight_init_std` defaults to He for relu, Xavier otherwise.
    """

    _program: Program | None = None  # the traced step, once compiled (or trained compiled)
    _batch: tuple | None = None  # the last compiled step's x and t: (shape, dtype) of each
    # the layers `params` and the program were made from (_follow_layers): a copy of `layers`
    # and the lastLayer; comparing two OrderedDicts is order-sensitive and runs in C (50 ns)
    _layout: tuple[OrderedDict[str, Any], Any] = (OrderedDict(), None)
    _classes: int = 0  # the last Affine layer's outputs: what labels are one-hot encoded to

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        *,
        weight_init_std: float | str | None = None,
        rng: np.random.Generator | int | None = None,
        dtype: npt.DTypeLike = np.float64,
        name: str | None = None,
    ) -> None:
        sizes = _checked_sizes(sizes)
        dtype = float_dtype(dtype, type(self).__name__)
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation: expected one of {', '.join(ACTIVATIONS)}, got {activation!r}"
            )
        rng = np.random.default_rng(rng)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            std = _init_std(weight_init_std, activation, n_in)
            layers.append(Affine.create(n_in, n_out, weight_init_std=std, rng=rng, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
        super().__init__(*layers, name=name)
        self.lastLayer = SoftmaxWithLoss()
        self._params = ParamDict({})
        self._follow_layers()

    @property
    def params(self) -> ParamDict:
        """The book's `params`, W1, b1, W2, ...: the current Affine layers' arrays (also right
        after `net.layers["Affine1"] = Affine(W, b)`, before any gradient)."""
        layers, last = self._layout  # (the common case inline: read four times a step)
        current = self.layers
        if self.lastLayer is not last or type(current) is not OrderedDict or current != layers:
            if self._layers_changed():
                self._follow_layers()
        return self._params

    @params.setter
    def params(self, arrays: Mapping[str, npt.ArrayLike]) -> None:
        """`net.params = {...}` copies every array into the model (as `params[key] = ...`
        does), all checked first: rebinding would leave the layers computing with the old ones."""
        if arrays is not self._params:
            self.load_state_dict(arrays)

    def _layers_changed(self) -> bool:
        """Whether a layer was replaced, added, removed or moved since `_follow_layers`
        (compared by identity; read on every `params`, so cheaply)."""
        layers, last = self._layout
        if self.lastLayer is not last:
            return True
        if type(self.layers) is OrderedDict:
            return self.layers != layers
        return list(self.layers.items()) != list(layers.items())  # a plain dict: in order too

    def _follow_layers(self) -> None:
        """`params` as the Affine layers' tensors, keyed W1, b1, W2, ... Checked (by identity,
        cheaply) before each gradient: after `net.layers["Affine1"] = Affine(W, b)` (the book
        builds its layers so) `params` are the new layer's, and after any swap, as
        `net.layers["Relu1"] = Sigmoid()`, a compiled step traces the new layers. Another
        layer's parameters (leaf tensors, not results it keeps, as the book's layers keep
        `self.out`) follow, keyed "<its key in layers>.<name>" (a learner's BatchNorm's gamma is
        trained too); a layer listed twice is counted once."""
        named: dict[int, tuple[str, Module]] = {}
        for key, layer in (*self.layers.items(), ("lastLayer", self.lastLayer)):
            named.setdefault(id(layer), (key, layer))  # each once, where it first appears
        layers = list(named.values())
        affines = [layer for _, layer in layers if isinstance(layer, Affine)]
        tensors: dict[str, Tensor] = {}
        for i, layer in enumerate(affines, 1):
            tensors[f"W{i}"], tensors[f"b{i}"] = layer.weight, layer.bias
            layer.weight.name, layer.bias.name = f"W{i}", f"b{i}"  # the book's names, in drawings
        seen = {id(p) for p in tensors.values()}
        for name, layer in layers:
            if isinstance(layer, Module) and not isinstance(layer, Affine):  # (not a function)
                for key, p in layer.named_parameters():
                    if p.is_leaf and id(p) not in seen:  # (not a kept result: lastLayer.loss)
                        seen.add(id(p))
                        tensors[f"{name}.{key}"] = p
        self._params.tensors = tensors
        self._classes = affines[-1].weight.shape[1] if affines else 0
        self._program = None
        self._layout = (OrderedDict(self.layers), self.lastLayer)

    @property
    def dtype(self) -> np.dtype:
        return self.params.tensors["W1"].dtype

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        yield from self.params.tensors.items()

    def parameters(self) -> list[Tensor]:
        return [p for _, p in self.named_parameters()]

    def predict(self, x: Any) -> Tensor:
        """Class scores (before softmax) for each sample."""
        return self.forward(x)

    def loss(self, x: Any, t: Any) -> np.floating:
        """The mean loss as a number, as in the book (no graph is kept: a training loop may store
        it). For a Tensor to call backward on, use `net.lastLayer(net(x), t)`."""
        with no_grad():
            return self.lastLayer(self.predict(x), t).data[()]

    def accuracy(self, x: Any, t: Any) -> float:
        """Fraction of samples whose highest score is the label; `t` one-hot rows or class
        numbers, checked as the loss checks them (not a silently wrong fraction)."""
        with no_grad():
            scores = self.predict(x).data
        t = t.data if isinstance(t, Tensor) else np.asarray(t)
        if scores.ndim == 1:  # one sample, as the loss takes it: a label or a one-hot row
            scores, t = scores[np.newaxis], t[np.newaxis]
        hits = np.count_nonzero(np.argmax(scores, axis=1) == self._labels(t, scores))
        return float(hits / len(scores))

    def _labels(self, t: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """`t` as one class number per row of `scores`, refusing what the loss would refuse (a
        comparison would give a wrong fraction or a numpy error instead)."""
        where = f"{self.name}.accuracy"
        n, classes = scores.shape
        if not n:
            raise ValueError(f"{where}: x holds no samples, so there is no fraction to measure")
        if t.dtype.kind not in "biuf":
            raise TypeError(
                f"{where}: t must hold numbers (class numbers or one-hot rows), got {t.dtype}"
            )
        if t.shape == scores.shape:  # one-hot rows (or probabilities): the largest is the class
            return np.argmax(t, axis=1)
        if t.shape != (n,):
            raise ValueError(
                f"{where}: t has shape {t.shape} for {n} samples of {classes} classes; give "
                f"class numbers of shape ({n},) or one-hot rows of shape {scores.shape}"
            )
        bad = ~np.isin(t, np.arange(classes))
        if bad.any():
            raise ValueError(
                f"{where}: label {t[bad][0].item()!r} is not a class number 0..{classes - 1}; "
                f"give whole numbers in that range, or one-hot rows of {classes} columns"
            )
        return t

    def gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """Gradients of the loss by backpropagation, keyed like `params` (also left in `.grad`).

        As the book's layer does, `lastLayer.loss` keeps the loss value afterwards, not the
        graph: its arrays are freed as soon as the gradients are known (to draw the graph, call
        `net.lastLayer(net(x), t)` yourself)."""
        tensors = self.params.tensors
        last = self.lastLayer
        loss = last(self.predict(x), t)
        params = list(tensors.values())
        for p in params:  # cleared just before backward: the last gradients' memory is free
            p._grad = None  # when the new ones are made (measurably faster per step)
        # The pass returns this call's gradients rather than adding them into `.grad`: read
        # back from `.grad`, a model shared by threads gave one thread the sum of two batches'.
        found = _backpropagate(loss, None, None, False, targets=params)
        with _storing_grads:
            for p in params:
                if (g := found.get(id(p))) is not None:
                    p._grad = g  # the last call's, as the compiled step leaves them
        last.loss = Tensor._wrap(loss._data)
        return {  # a tensor the loss does not use (a layer's running mean) has gradient 0, as the
            # compiled step and numerical_gradient say
            key: np.zeros_like(p._data) if (g := found.get(id(p))) is None else g._data
            for key, p in tensors.items()
        }

    def compile(self, example_x: Any, example_t: Any) -> Program:
        """Trace one loss-and-gradient step into a Program; from now on `gradient` runs it.

        `print(net.compile(x, t).source)` shows the code backprop writes for this network, the
        book's Affine/Relu/SoftmaxWithLoss backward methods in one function. Parameters are
        the program's inputs, so updates to `params` are seen; a batch of another size traces
        again. Integer labels are turned into one-hot rows first (the program takes one-hot).
        Inside `autograd.detect_anomaly()`, or while a parameter has a hook (`register_hook`),
        the step runs eagerly: generated code can do neither.
        A copy or an unpickled model stays compiled: it traces its own program when first used
        (a program is generated code, tied to the tensors it was traced with, so it is never
        copied or pickled).
        """
        self._program = self._trace(example_x, example_t)
        # a bound method, not a closure: a copy of the model runs the program on its own params
        self.gradient = types.MethodType(MLP._compiled_gradient, self)  # type: ignore[method-assign]
        return self._program

    def _trace(self, example_x: Any, example_t: Any) -> Program:
        def step(x: Tensor, t: Tensor, *params: Tensor) -> Tensor:
            return self.lastLayer(self.predict(x), t)

        x = example_x.data if isinstance(example_x, Tensor) else np.asarray(example_x)
        tensors = self.params.tensors
        kept = vars(self.lastLayer).copy()  # the trace's call is not a call the user made
        try:
            return trace(
                step,
                x,
                self._one_hot(example_t, x),
                *tensors.values(),
                names=["x", "t", *(key.replace(".", "_") for key in tensors)],  # Scale1_gamma
            )
        finally:
            vars(self.lastLayer).update(kept)

    def _compiled_gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """Gradients of the loss from the compiled program, keyed like `params` (also in
        `.grad`)."""
        grads = self._run_program(x, t)[1]  # (first: it may find a layer replaced)
        return dict(zip(self._params.tensors, grads, strict=True))

    def _compiled_step(self, x: Any, t: Any) -> float:
        """The loss of a batch, and every parameter's `.grad`, from the traced program (traced
        on first use: after `compile`, in `nn.train(..., compile=True)`, after a copy)."""
        return float(self._run_program(x, t)[0])

    def _run_program(self, x: Any, t: Any) -> tuple[Any, tuple[np.ndarray, ...]]:
        """(loss, the parameters' gradients), also stored in each parameter's `.grad`."""
        if type(x) is not np.ndarray:
            x = x.data if isinstance(x, Tensor) else np.asarray(x)
        tensors = self.params.tensors.values()  # (a layer replaced since: traced again)
        labels = t
        if type(t) is not np.ndarray or t.ndim != x.ndim:  # (one-hot rows: taken as they are)
            t = self._one_hot(t, x)  # (refused labels raise here, before any `.grad` changes)
        # A batch like the last one runs the code already traced (nothing left to refuse it):
        # the last gradients' memory is then freed before the new ones are made, as in eager
        # `gradient` (a step reuses it instead of touching more: measurably faster). Another
        # batch is traced again and may be refused: the `.grad`s are kept until it has worked.
        batch = (x.shape, x.dtype, t.shape, t.dtype)
        eager = _grad_state.anomaly is not None
        clear = not eager and batch == self._batch and self._program is not None
        arrays = []
        with _storing_grads:  # not while another thread's `.grad` wraps the last arrays
            for p in tensors:
                if clear:
                    p._grad = None
                eager = eager or bool(p._meta and p._meta.get("hooks"))
                arrays.append(p._data)
        if eager:
            # what generated code cannot do: anomaly mode's checks that name the op, and the
            # hooks a learner put on a parameter after compiling; eager mode does both
            grads = MLP.gradient(self, x, labels)
            return self.lastLayer.loss.data, tuple(grads.values())
        if self._program is None:
            self._program = self._trace(x, t)
        loss, grads = self._program(x, t, *arrays)
        if not math.isfinite(loss):  # generated code checks no values: labels holding NaN are
            with no_grad():  # refused by eager mode's loss, naming them (x holding NaN is not)
                self.lastLayer(self.predict(x), labels)
        self._batch = batch
        grads = grads[2:]
        with _storing_grads:
            for p, g in zip(tensors, grads, strict=True):
                p._grad = g  # fresh arrays of its shape; `.grad` makes the Tensor when read
        # the last call, kept as eager mode keeps it (not an earlier batch's): the loss and t;
        # y is not among the program's results, so None rather than an older batch's
        last = self.lastLayer
        last.loss, last.t, last._scores = Tensor._wrap(loss), labels, None
        return loss, grads

    def _one_hot(self, t: Any, x: np.ndarray) -> np.ndarray:
        """Labels (one number per sample, integers or whole floats) as one-hot rows; one-hot
        targets as they are. The program takes one-hot: labels would be fixed at trace time."""
        t = t.data if isinstance(t, Tensor) else np.asarray(t)
        if t.ndim != (0 if x.ndim == 1 else 1) or t.dtype.kind not in "iuf":
            return t
        if t.ndim and len(t) != len(x):  # as given: the loss's error names the labels' shape
            return t
        classes = self._classes  # the last Affine's outputs
        with np.errstate(invalid="ignore"):  # NaN or inf: refused just below
            labels = t.astype(np.intp)
        bad = (labels != t) | (labels < 0) | (labels >= classes)
        if bad.any():
            shown = t[bad].flat[0].item()
            raise ValueError(
                f"{self.name}: label {shown!r} is not a class number 0..{classes - 1}; "
                f"give whole numbers in that range, or one-hot rows of {classes} columns"
            )
        return np.eye(classes, dtype=self.dtype)[labels]

    # --- copies and pickles ----------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Everything but the program and the compiled `gradient` (generated code, bound to this
        model's tensors); a compiled model's copy traces its own when first used."""
        state = vars(self).copy()
        state["_program"] = None
        state.pop("_layout", None)
        state["gradient"] = "compiled" if state.pop("gradient", None) is not None else None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        compiled = state.pop("gradient", None) == "compiled"
        if "params" in state:  # pickled before `params` became a property
            state["_params"] = state.pop("params")
        vars(self).update(state)
        if compiled:
            self.gradient = types.MethodType(MLP._compiled_gradient, self)  # type: ignore[method-assign]

    def numerical_gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """Gradients by central differences (slow; for checking `gradient`, book 4.4 / 5.7.3)."""
        loss_W = lambda W: self.loss(x, t)
        return {key: numerical_gradient(loss_W, array) for key, array in self.params.items()}


class TwoLayerNet(MLP):
    """The book's ch. 5 network: Affine1 → Relu1 → Affine2 → SoftmaxWithLoss."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        *,
        rng: np.random.Generator | int | None = None,
        dtype: npt.DTypeLike = np.float64,
        name: str | None = None,
    ) -> None:
        super().__init__(
            [input_size, hidden_size, output_size],
            "relu",
            weight_init_std=weight_init_std,
            rng=rng,
            dtype=dtype,
            name=name,
        )
