"""The book's layers (ch. 5) written with engine operations: each says only how to compute
forward; autograd derives backward, so none keeps per-call state and one instance can appear
several times in one graph.

Inputs may be numpy arrays (as in the book) or Tensors; arrays are wrapped as constants, since
nobody needs the gradient with respect to the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from autograd import Tensor, no_grad, softmax, softmax_cross_entropy
from autograd.ops import astype
from autograd.tensor import as_float_array
from nn.module import Module, copy_into

__all__ = ["Affine", "Relu", "Sigmoid", "SoftmaxWithLoss", "Tanh", "as_input", "float_dtype"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def as_input(x: Any, dtype: npt.DTypeLike | None = None, name: str = "x") -> Tensor:
    """`x` as a Tensor of `dtype` (None: keep float32/float64). Arrays become constants without
    a copy when their dtype already fits, named `name` for drawings; a Tensor of another dtype
    is cast differentiably."""
    if isinstance(x, Tensor):
        return x if dtype is None or x._data.dtype == dtype else astype(x, dtype)
    if isinstance(x, np.ndarray) and (x.dtype == dtype or (dtype is None and x.dtype in _FLOATS)):
        data = x
    else:  # checked as any Tensor input is (np.asarray(x, dtype) made None into NaN)
        data = as_float_array(x, "input")
        if dtype is not None and data.dtype != dtype:
            data = data.astype(dtype)
    constant = Tensor._wrap(data)
    constant._name = name  # (the slot: `name` is checked; ours are plain strings)
    return constant


def float_dtype(dtype: npt.DTypeLike, where: str) -> np.dtype:
    """`dtype` if the engine computes in it (float32, float64); an integer dtype would round
    the book's small initial weights to 0, and others would be widened to float64 silently."""
    try:
        found = np.dtype(dtype)
    except TypeError:
        found = None
    if found not in _FLOATS:
        raise TypeError(f"{where}: dtype must be np.float32 or np.float64, got {dtype!r}")
    return found


def _parameter(value: Any, dtype: npt.DTypeLike | None, label: str) -> Tensor:
    """A parameter tensor sharing `value`'s array when no conversion is needed."""
    if isinstance(value, Tensor):
        tensor = (
            value if dtype is None or value.dtype == dtype else Tensor(value.data.astype(dtype))
        )
    elif dtype is None:
        tensor = Tensor(value)
    else:
        tensor = Tensor(np.asarray(value, dtype=dtype))
    if tensor.name is None:
        tensor.name = label
    return tensor


class Affine(Module):
    """`x @ W + b`. `W`, `b` are the parameter arrays (shared with `weight`, `bias`, the
    Tensors); `dW`, `db` their gradients after backward, None before. Inputs with more than two
    axes are flattened per sample, as in the book."""

    def __init__(
        self,
        W: npt.ArrayLike | Tensor,
        b: npt.ArrayLike | Tensor,
        *,
        dtype: npt.DTypeLike | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.weight = _parameter(W, dtype, "W")
        self.bias = _parameter(b, self.weight.dtype, "b")
        if self.weight.ndim != 2:
            raise ValueError(f"{self.name}: W must be 2-D (inputs x outputs), got {self.W.shape}")
        if self.bias.shape != (self.weight.shape[1],):
            raise ValueError(
                f"{self.name}: b must have shape ({self.weight.shape[1]},) to match W "
                f"{self.weight.shape}, got {self.bias.shape}"
            )

    @classmethod
    def create(
        cls,
        input_size: int,
        output_size: int,
        *,
        weight_init_std: float = 0.01,
        rng: np.random.Generator | int | None = None,
        dtype: npt.DTypeLike = np.float64,
        name: str | None = None,
    ) -> Affine:
        """Fresh layer as the book initialises it: W ~ weight_init_std * N(0, 1), b = 0."""
        dtype = float_dtype(dtype, cls.__name__)
        rng = np.random.default_rng(rng)
        W = weight_init_std * rng.standard_normal((input_size, output_size))
        return cls(W.astype(dtype), np.zeros(output_size, dtype=dtype), name=name)

    @property
    def W(self) -> np.ndarray:
        return self.weight.data

    @W.setter
    def W(self, value: npt.ArrayLike) -> None:
        copy_into(self.weight._data, value, f"{self.name}.W")

    @property
    def b(self) -> np.ndarray:
        return self.bias.data

    @b.setter
    def b(self, value: npt.ArrayLike) -> None:
        copy_into(self.bias._data, value, f"{self.name}.b")

    def __setattr__(self, name: str, value: Any) -> None:
        """A new `weight` or `bias` for a made layer is copied into its tensor: rebinding it
        would leave a model's `params` and optimizers holding the old one (trained, never
        used), silently."""
        if name in ("weight", "bias") and name in vars(self) and value is not vars(self)[name]:
            copy_into(vars(self)[name]._data, value, f"{self.name}.{name}")
            return
        super().__setattr__(name, value)

    @property
    def dW(self) -> np.ndarray | None:
        return None if self.weight.grad is None else self.weight.grad.data

    @property
    def db(self) -> np.ndarray | None:
        return None if self.bias.grad is None else self.bias.grad.data

    @property
    def dtype(self) -> np.dtype:
        return self.weight.dtype

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        yield "W", self.weight
        yield "b", self.bias

    def forward(self, x: Any) -> Tensor:
        x = as_input(x, self.weight._data.dtype)
        if x._data.ndim > 2:
            x = x.reshape(x.shape[0], -1)
        return x @ self.weight + self.bias

    def __repr__(self) -> str:
        n_in, n_out = self.weight.shape
        return f"Affine({n_in}→{n_out}, name={self.name!r})"


class Relu(Module):
    """max(0, x), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return as_input(x).relu()


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise (computed without overflow)."""

    def forward(self, x: Any) -> Tensor:
        return as_input(x).sigmoid()


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return as_input(x).tanh()


class SoftmaxWithLoss(Module):
    """Softmax then cross-entropy, fused and numerically stable; returns the mean loss Tensor.

    `t` is one-hot (the scores' shape) or integer labels. As in the book the last call is kept:
    `loss` (the Tensor), `t`, and `y`, the softmax output as an array (computed on request, so
    training does not pay for it).
    """

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self.loss: Tensor | None = None
        self.t: Any = None
        self._scores: np.ndarray | None = None

    @property
    def y(self) -> np.ndarray | None:
        if self._scores is None:
            return None
        with no_grad():
            return softmax(Tensor._wrap(self._scores)).data

    def forward(self, x: Any, t: Any) -> Tensor:
        scores = as_input(x)
        if not scores._data.size:  # the op's mean over no rows would be 0: a silent "no loss"
            raise ValueError(
                f"{self.name}: the batch is empty (scores of shape {scores._data.shape}), so there "
                "is no mean loss; check the batch size and the slice that made x"
            )
        target = t
        if isinstance(t, np.ndarray) and t.shape == scores._data.shape:  # one-hot: drawn as "t"
            target = as_input(t, scores._data.dtype, name="t")
        self.loss = softmax_cross_entropy(scores, target)
        self._scores, self.t = scores._data, t
        return self.loss
