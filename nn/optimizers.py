"""The book's optimizers (ch. 6, common/optimizer.py) with two faces sharing one formula each:

- the book's `opt.update(params, grads)` on dicts of numpy arrays (or numbers), and
- `opt = SGD(params=net.parameters(), lr=0.1)`; after backward, `opt.step()`, `opt.zero_grad()`.

Each optimizer writes its formula once, in `_increment(key, grad)`: the amount to add to the
parameter, updating its per-parameter state (kept under the dict key, or the position in
`params`). Applying it in place is common code, so both faces compute exactly the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, MutableMapping
from typing import Any

import numpy as np

from autograd import Tensor

__all__ = ["SGD", "AdaGrad", "Adam", "Momentum", "Optimizer", "RMSprop"]

_EPS = 1e-7  # the book's guard against dividing by zero


class Optimizer:
    """Base class: the two faces; subclasses define `_increment` (and `_begin_step` if they
    count steps)."""

    def __init__(self, lr: float, params: Iterable[Tensor] | None = None) -> None:
        self.lr = lr
        self.params: list[Tensor] = [] if params is None else list(params)

    def step(self) -> None:
        """Update every parameter in `params` from its `.grad` (parameters without one are left
        alone: they took no part in the loss)."""
        if not self.params:
            raise ValueError(
                f"{type(self).__name__}.step: no parameters; create it with "
                "params=model.parameters(), or call update(params, grads) as in the book"
            )
        self._begin_step()
        for i, p in enumerate(self.params):
            if p.grad is not None:
                p.data += self._increment(i, p.grad.data)

    def update(self, params: MutableMapping[str, Any], grads: MutableMapping[str, Any]) -> None:
        """The book's interface: update each `params[key]` from `grads[key]` (arrays in place)."""
        self._begin_step()
        for key in params:
            params[key] += self._increment(key, grads[key])

    def zero_grad(self) -> None:
        """Clear the `.grad` of every parameter in `params` before the next backward."""
        for p in self.params:
            p.grad = None

    def _begin_step(self) -> None:
        """Called once per step/update, before the parameters are visited."""

    def _increment(self, key: Hashable, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, params={len(self.params)})"


class SGD(Optimizer):
    """W ← W − lr·∂L/∂W."""

    def __init__(self, lr: float = 0.01, params: Iterable[Tensor] | None = None) -> None:
        super().__init__(lr, params)

    def _increment(self, key: Hashable, grad: np.ndarray) -> np.ndarray:
        return (-self.lr) * grad


class Momentum(Optimizer):
    """v ← momentum·v − lr·∂L/∂W;  W ← W + v  (a ball rolling downhill, with friction)."""

    def __init__(
        self, lr: float = 0.01, momentum: float = 0.9, params: Iterable[Tensor] | None = None
    ) -> None:
        super().__init__(lr, params)
        self.momentum = momentum
        self.v: dict[Hashable, np.ndarray] = {}

    def _increment(self, key: Hashable, grad: np.ndarray) -> np.ndarray:
        v = self.v.setdefault(key, np.zeros_like(grad))
        v *= self.momentum
        v -= self.lr * grad
        return v


class AdaGrad(Optimizer):
    """h ← h + g⊙g;  W ← W − lr·g/(√h + ε)  (each weight's step shrinks as it moves)."""

    def __init__(self, lr: float = 0.01, params: Iterable[Tensor] | None = None) -> None:
        super().__init__(lr, params)
        self.h: dict[Hashable, np.ndarray] = {}

    def _increment(self, key: Hashable, grad: np.ndarray) -> np.ndarray:
        h = self.h.setdefault(key, np.zeros_like(grad))
        h += grad * grad
        return (-self.lr) * grad / (np.sqrt(h) + _EPS)


class RMSprop(Optimizer):
    """h ← ρ·h + (1−ρ)·g⊙g;  W ← W − lr·g/(√h + ε)  (AdaGrad that forgets old gradients)."""

    def __init__(
        self, lr: float = 0.01, decay_rate: float = 0.99, params: Iterable[Tensor] | None = None
    ) -> None:
        super().__init__(lr, params)
        self.decay_rate = decay_rate
        self.h: dict[Hashable, np.ndarray] = {}

    def _increment(self, key: Hashable, grad: np.ndarray) -> np.ndarray:
        h = self.h.setdefault(key, np.zeros_like(grad))
        h *= self.decay_rate
        h += (1 - self.decay_rate) * grad * grad
        return (-self.lr) * grad / (np.sqrt(h) + _EPS)


class Adam(Optimizer):
    """Momentum on g (m) and RMSprop on g² (v), with the book's bias-corrected step size
    lr_t = lr·√(1−β₂ᵗ)/(1−β₁ᵗ)."""

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        params: Iterable[Tensor] | None = None,
    ) -> None:
        super().__init__(lr, params)
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m: dict[Hashable, np.ndarray] = {}
        self.v: dict[Hashable, np.ndarray] = {}
        self._lr_t = 0.0

    def _begin_step(self) -> None:
        self.iter += 1
        self._lr_t = (
            self.lr * math.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        )

    def _increment(self, key: Hashable, grad: np.ndarray) -> np.ndarray:
        m = self.m.setdefault(key, np.zeros_like(grad))
        v = self.v.setdefault(key, np.zeros_like(grad))
        m += (1 - self.beta1) * (grad - m)
        v += (1 - self.beta2) * (grad**2 - v)
        return (-self._lr_t) * m / (np.sqrt(v) + _EPS)
