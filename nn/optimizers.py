"""The book's optimizers (ch. 6, common/optimizer.py) with two faces sharing one formula each:

- the book's `opt.update(params, grads)` on dicts of numpy arrays (or numbers), and
- `opt = SGD(params=net.parameters(), lr=0.1)`; after backward, `opt.step()`, `opt.zero_grad()`.

Each optimizer writes its formula once, in `_increment(key, grad)`: the amount to add to the
parameter, updating its per-parameter state (kept under the dict key, or the position in
`params`). Applying it in place is common code, so both faces compute exactly the same numbers.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable, Mapping, MutableMapping
from typing import Any, NoReturn

import numpy as np

from autograd import Tensor
from autograd.tensor import _stamp_write

__all__ = ["SGD", "AdaGrad", "Adam", "Hyperparameter", "Momentum", "Optimizer", "RMSprop"]

_EPS = 1e-7  # the book's guard against dividing by zero
_FORGET = "a decay factor: at 1 the state never forgets"
_EPS_WHY = "the guard against dividing by zero must be positive and finite"


class Hyperparameter:
    """A number checked on every assignment (at construction and later, e.g. by a schedule), so
    a bad value is refused where it is set instead of silently climbing the loss or turning every
    weight into NaN. The range is [low, high), or (low, high) when `low_open`."""

    def __init__(self, low: float, high: float, why: str, *, low_open: bool = False) -> None:
        self.low, self.high, self.why, self.low_open = low, high, why, low_open

    def __set_name__(self, owner: type, name: str) -> None:
        self.owner, self.name = owner.__name__, name

    # No __get__: a descriptor that only sets is still consulted on assignment, but reading
    # finds the checked number in the instance's __dict__ at C speed (formulas read it per
    # parameter and step), and the class attribute (SGD.lr) is the Hyperparameter itself.

    def __set__(self, obj: object, value: Any) -> None:
        where = f"{type(obj).__name__}: {self.name}={value!r}"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where}: expected a number in {self.range()}")
        number = float(value)
        below = number <= self.low if self.low_open else number < self.low
        if math.isnan(number) or below or not number < self.high:
            raise ValueError(f"{where} is not allowed: it must be in {self.range()} ({self.why})")
        obj.__dict__[self.name] = number

    def range(self) -> str:
        high = "inf" if math.isinf(self.high) else f"{self.high:g}"
        return f"{'(' if self.low_open else '['}{self.low:g}, {high})"

    # Read before anything set it (a subclass's __init__ that skipped super().__init__),
    # `opt.lr` is this class attribute: computing with it says so, not Python's "bad operand
    # type for unary -: 'Hyperparameter'" (numpy's ufuncs, also `v *= opt.momentum`, ask it too)
    def _never_set(self, *_: Any, **__: Any) -> NoReturn:
        raise AttributeError(
            f"{self.owner}.{self.name} was never set on this optimizer, so a formula computed "
            f"with the class's Hyperparameter instead of a number; a subclass's __init__ must "
            f"call super().__init__(...), which sets it"
            + ("" if self.name == "lr" else f", or set self.{self.name} = ... itself")
        )

    __neg__ = __pos__ = __abs__ = __float__ = __int__ = __index__ = _never_set
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _never_set
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = _never_set
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __divmod__ = __rdivmod__ = _never_set
    __lt__ = __le__ = __gt__ = __ge__ = __array_ufunc__ = __round__ = __format__ = _never_set


class _SetByInit:
    """`params` of an optimizer whose subclass's __init__ did not call super().__init__: says
    so. (A descriptor with only __get__: the instance's list, once set, is read as any attribute
    is; unlike a __getattr__, it cannot swallow an AttributeError raised inside a property.)"""

    def __get__(self, obj: object, owner: type) -> Any:
        if obj is None:
            return self
        raise AttributeError(
            f"{type(obj).__name__}.params was never set: its __init__ must call "
            "super().__init__(lr, params)"
        )


class Optimizer:
    """Base class: the two faces; subclasses define `_increment` (and `_begin_step` if they
    count steps)."""

    lr = Hyperparameter(0.0, math.inf, "a finite step size; a negative one climbs the loss")
    _state: tuple[str, ...] = ()  # the dicts of per-parameter arrays kept between steps

    def __init__(self, lr: float, params: Iterable[Tensor] | None = None) -> None:
        self.lr = lr
        self.params: list[Tensor] = [] if params is None else _checked_params(self, params)

    params = _SetByInit()  # read only until __init__ sets the instance's list

    def step(self) -> None:
        """Update every parameter in `params` from its `.grad` (parameters without one are left
        alone: they took no part in the loss)."""
        if not self.params:
            raise ValueError(
                f"{type(self).__name__}.step: no parameters; create it with "
                "params=model.parameters(), or call update(params, grads) as in the book"
            )
        params = self.params
        any_grad = False
        for i, p in enumerate(params):
            if p._grad is not None:
                any_grad = True
                if not p._data.flags.writeable:
                    _refuse_read_only(self, f"params[{i}] ({_describe(p)})")
        if not any_grad:  # a step that would change nothing is a mistake somewhere, not a no-op
            raise RuntimeError(
                f"{type(self).__name__}.step: none of its {len(params)} parameters has a "
                "gradient, so nothing would change. Call loss.backward() before step() (and "
                "zero_grad() before backward, not between backward and step). If backward did "
                "run, these are not the tensors the loss was computed from: made for another "
                "model, or copied apart from it (copy.deepcopy(opt) alone copies the parameters "
                "too; copy both in one call, copy.deepcopy((net, opt))), so give it "
                "params=model.parameters()"
            )
        self._begin_step()
        for i, p in enumerate(params):
            grad = p._grad if isinstance(p._grad, Tensor) else p.grad  # (kept raw: a float, array)
            if grad is not None:
                data = p._data  # in place, as `p.data += ...` would, without re-setting .data
                data += self._increment(i, grad._data)
                # stamped as `p -= ...` under no_grad() is: a graph recorded before the step
                # refuses to backpropagate (or replay in backward_steps) with the new weights
                _stamp_write(data)

    def update(self, params: MutableMapping[str, Any], grads: Mapping[str, Any]) -> None:
        """The book's interface: update each `params[key]` from `grads[key]` (arrays in place).

        Every key must have a gradient of the parameter's shape, and no array may appear under
        two keys (it would be updated twice); this is checked before anything changes."""
        _check_update(self, params, grads)
        self._begin_step()
        for key in params:
            params[key] += self._increment(key, grads[key])

    def zero_grad(self) -> None:
        """Clear the `.grad` of every parameter in `params` before the next backward."""
        for p in self.params:
            p._grad = None  # (what the setter does for None, without its call)

    def _begin_step(self) -> None:
        """Called once per step/update, before the parameters are visited."""

    def _increment(self, key: Hashable, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        # (from __dict__: a half-built optimizer, whose __init__ skipped super's, still prints)
        lr, params = vars(self).get("lr", "never set"), vars(self).get("params", ())
        return f"{type(self).__name__}(lr={lr}, params={len(params)})"


def _describe(p: Tensor) -> str:
    return f"{p.name!r}, shape {p.shape}" if p.name else f"shape {p.shape}"


def _refuse_read_only(opt: Optimizer, what: str) -> None:
    """Checked for every parameter before any changes: a step stopped half-way by numpy's
    'output array is read-only' would leave some weights (and their state) updated."""
    raise ValueError(
        f"{type(opt).__name__}: {what} is a read-only array (from np.load(mmap_mode='r'), "
        "np.broadcast_to or a buffer), so it cannot be updated in place; nothing was changed. "
        "Give the parameter a writable copy first, e.g. p.data = p.data.copy()"
    )


def _checked_params(opt: Optimizer, params: Iterable[Tensor]) -> list[Tensor]:
    """`params` as a list, refusing what `step()` would get silently wrong."""
    where = f"{type(opt).__name__}(params=...)"
    if isinstance(params, Tensor):
        raise TypeError(f"{where}: got one Tensor; pass a list of tensors, e.g. params=[w]")
    if isinstance(params, Mapping):
        raise TypeError(
            f"{where}: got a dict; pass params=model.parameters(), or keep the dict and call "
            "update(params, grads) as in the book"
        )
    found = list(params)
    if not found:
        raise ValueError(
            f"{where}: the list is empty, so step() would update nothing; pass "
            "params=model.parameters() (or leave params out and call update(params, grads))"
        )
    for i, p in enumerate(found):
        if not isinstance(p, Tensor):
            raise TypeError(
                f"{where}: params[{i}] is a {type(p).__name__}, not a Tensor; step() updates "
                "tensors from their .grad (for dicts of arrays use update(params, grads))"
            )
        for j in range(i):
            if found[j] is p or np.shares_memory(found[j].data, p.data):
                same = "are the same tensor" if found[j] is p else "share one array"
                raise ValueError(
                    f"{where}: params[{j}] and params[{i}] {same}, so it would be updated twice "
                    "per step; list each parameter once"
                )
    return found


def _check_update(opt: Optimizer, params: Mapping[str, Any], grads: Mapping[str, Any]) -> None:
    where = f"{type(opt).__name__}.update"
    seen: dict[int, str] = {}
    for key, value in params.items():
        if key not in grads:
            raise KeyError(
                f"{where}: grads has no {key!r} (params has {', '.join(map(str, params))})"
            )
        if grads[key] is None:
            raise ValueError(
                f"{where}: grads[{key!r}] is None: the gradient was never computed (the book's "
                "Affine sets self.dW = None until its backward runs: call net.gradient(x, t), "
                "or the layers' backward, before update)"
            )
        if np.shape(grads[key]) != np.shape(value):
            raise ValueError(
                f"{where}: grads[{key!r}] has shape {np.shape(grads[key])}, but params[{key!r}] "
                f"has shape {np.shape(value)}"
            )
        for name in opt._state:  # kept for another parameter under this key (a layer replaced)
            kept = getattr(opt, name, {}).get(key)
            if kept is not None and np.shape(kept) != np.shape(value):
                raise ValueError(
                    f"{where}: params[{key!r}] has shape {np.shape(value)}, but the state kept "
                    f"for {key!r} ({type(opt).__name__}.{name}) has shape {np.shape(kept)}: the "
                    f"parameter was replaced; create a new {type(opt).__name__} for the new "
                    "parameters"
                )
        if isinstance(value, np.ndarray):
            if not value.flags.writeable:
                _refuse_read_only(opt, f"params[{key!r}]")
            other = seen.setdefault(id(value), key)
            if other != key:
                raise ValueError(
                    f"{where}: params[{other!r}] and params[{key!r}] are the same array; it "
                    "would be updated twice"
                )


class SGD(Optimizer):
    """W ← W − lr·∂L/∂W."""

    def __init__(self, lr: float = 0.01, params: Iterable[Tensor] | None = None) -> None:
        super().__init__(lr, params)

    def _increment(self, key: Hashable, grad: np.ndarray) -> np.ndarray:
        return (-self.lr) * grad


class Momentum(Optimizer):
    """v ← momentum·v − lr·∂L/∂W;  W ← W + v  (a ball rolling downhill, with friction).

    lr is inside the velocity, as in the book: torch.optim.SGD(momentum=...) multiplies it
    outside, the same steps while lr is fixed, different ones after lr changes."""

    momentum = Hyperparameter(0.0, 1.0, "the share of the velocity kept; at 1 it never slows")
    _state = ("v",)

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

    eps = Hyperparameter(0.0, math.inf, _EPS_WHY, low_open=True)
    _state = ("h",)

    def __init__(
        self, lr: float = 0.01, params: Iterable[Tensor] | None = None, eps: float = _EPS
    ) -> None:
        super().__init__(lr, params)
        self.eps = eps
        self.h: dict[Hashable, np.ndarray] = {}

    def _increment(self, key: Hashable, grad: np.ndarray) -> np.ndarray:
        h = self.h.setdefault(key, np.zeros_like(grad))
        h += grad * grad
        return (-self.lr) * grad / (np.sqrt(h) + self.eps)


class RMSprop(Optimizer):
    """h ← ρ·h + (1−ρ)·g⊙g;  W ← W − lr·g/(√h + ε)  (AdaGrad that forgets old gradients)."""

    decay_rate = Hyperparameter(0.0, 1.0, _FORGET)
    eps = Hyperparameter(0.0, math.inf, _EPS_WHY, low_open=True)
    _state = ("h",)

    def __init__(
        self,
        lr: float = 0.01,
        decay_rate: float = 0.99,
        params: Iterable[Tensor] | None = None,
        eps: float = _EPS,
    ) -> None:
        super().__init__(lr, params)
        self.decay_rate = decay_rate
        self.eps = eps
        self.h: dict[Hashable, np.ndarray] = {}

    def _increment(self, key: Hashable, grad: np.ndarray) -> np.ndarray:
        h = self.h.setdefault(key, np.zeros_like(grad))
        h *= self.decay_rate
        h += (1 - self.decay_rate) * grad * grad
        return (-self.lr) * grad / (np.sqrt(h) + self.eps)


class Adam(Optimizer):
    """Momentum on g (m) and RMSprop on g² (v), with the book's bias-corrected step size
    lr_t = lr·√(1−β₂ᵗ)/(1−β₁ᵗ): W ← W − lr_t·m/(√v + ε). ε is added before the correction, so
    this is torch.optim.Adam with ε/√(1−β₂ᵗ) in place of ε."""

    beta1 = Hyperparameter(0.0, 1.0, _FORGET + ", and the bias correction divides by 1 − β₁ᵗ")
    beta2 = Hyperparameter(0.0, 1.0, _FORGET)
    eps = Hyperparameter(0.0, math.inf, _EPS_WHY, low_open=True)
    _state = ("m", "v")

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        params: Iterable[Tensor] | None = None,
        eps: float = _EPS,
    ) -> None:
        super().__init__(lr, params)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
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
        return (-self._lr_t) * m / (np.sqrt(v) + self.eps)
