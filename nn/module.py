"""`Module`: the bookkeeping every layer and model shares — finding parameters, zeroing their
gradients, and saving/loading them — so the layers themselves only say how to compute forward.

Parameters are found by looking at a module's attributes when asked: a `Tensor` that requires
grad is a parameter, a `Module` (alone or inside a dict, list or tuple) is a child whose
parameters are listed under `"<child.name>.<key>"`. There is no registration step to forget.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from autograd import Tensor
from autograd.files import write_atomically
from autograd.scope import forward_in_scope
from autograd.tensor import _stamp_write
from nn.files import read_npz, write_npz

__all__ = ["Module", "Sequential", "copy_into"]

StateDict = dict[str, np.ndarray]
M = TypeVar("M", bound="Module")


def copy_into(target: np.ndarray, value: Any, where: str) -> None:
    """Copy `value` (an array, numbers, a Tensor) into a parameter's array in place, stamped as a
    write so a graph recorded before refuses to backpropagate: the model keeps its tensor, so
    everything holding it (params, an optimizer, a compiled program) sees the new values."""
    if value is target:  # `layer.W -= lr * layer.dW` has already updated it in place
        _stamp_write(target)
        return
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.shape != target.shape:
        raise ValueError(
            f"{where}: shape {array.shape} does not match the parameter's {target.shape}"
        )
    if array.dtype.kind not in "biuf" or not np.can_cast(array.dtype, target.dtype, "same_kind"):
        raise TypeError(f"{where}: {array.dtype} values do not convert to the parameter's "
                        f"{target.dtype} (real numbers expected)")  # fmt: skip
    _refuse_overflow(array, target.dtype, where)
    np.copyto(target, array, casting="same_kind")
    _stamp_write(target)


def _refuse_overflow(array: np.ndarray, dtype: np.dtype, where: str) -> None:
    """float64 numbers beyond float32's range would be stored as inf (numpy only warns)."""
    if array.dtype.kind == "f" and array.dtype.itemsize > dtype.itemsize:
        limit = np.finfo(dtype).max
        too_big = np.isfinite(array) & (np.abs(array) > limit)
        if too_big.any():
            raise ValueError(
                f"{where}: {array[too_big].flat[0].item():g} is beyond the largest {dtype} "
                f"({limit:g}): it would become inf"
            )


class Module:
    """Base class of layers and models: `__call__` runs `forward`; parameters are discovered.

    `name` labels the module in parameter keys and in graph drawings, e.g. "Affine1".
    """

    def __init__(self, name: str | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(
                f"{type(self).__name__}: name must be a non-empty string, got {name!r}"
            )
        self.name: str = name if name is not None else type(self).__name__

    # `module(x)` runs `forward`, with what it creates marked as this module's cluster in
    # drawings (a region named after the module: autograd.scope)
    __call__ = forward_in_scope

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    # --- parameters -----------------------------------------------------------------------
    def children(self) -> Iterator[Module]:
        """Direct sub-modules: attributes that are modules, or dicts/lists/tuples of modules."""
        seen: set[int] = set()
        for value in vars(self).values():
            if isinstance(value, Module):
                candidates: Any = (value,)
            elif isinstance(value, Mapping):
                candidates = value.values()
            elif isinstance(value, (list, tuple)):
                candidates = value
            else:
                continue
            for child in candidates:
                if isinstance(child, Module) and id(child) not in seen:
                    seen.add(id(child))
                    yield child

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """`(key, tensor)` for every parameter, each tensor once even if shared."""
        seen: set[int] = set()
        names: dict[str, Module] = {}
        for key, value in vars(self).items():
            if isinstance(value, Tensor) and value.requires_grad and id(value) not in seen:
                seen.add(id(value))
                yield key, value
        for child in self.children():
            other = names.setdefault(child.name, child)
            if other is not child:
                raise ValueError(
                    f"{self.name}: two different sub-modules are both named {child.name!r}; "
                    "give them distinct names so their parameters get distinct keys"
                )
            for key, param in child.named_parameters():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield f"{child.name}.{key}", param

    def parameters(self) -> list[Tensor]:
        """The parameter tensors, in a fixed order (what optimizers take)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget accumulated gradients: backward adds to `.grad`, it does not overwrite it."""
        for p in self.parameters():
            p.grad = None

    # --- state ----------------------------------------------------------------------------
    def state_dict(self) -> StateDict:
        """A copy of every parameter array by key (later training does not change it)."""
        return {key: p.data.copy() for key, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, npt.ArrayLike]) -> None:
        """Copy `state` into the parameters in place (arrays shared elsewhere stay shared).

        Every parameter must be present with its exact shape and a dtype that converts to the
        parameter's (numbers, not strings or complex values), and no key may be unknown; all of
        this is checked before any weight changes.
        """
        if isinstance(state, (str, bytes, os.PathLike)):
            raise TypeError(
                f"{self.name}: load_state_dict takes a dict of arrays; for a file use load(path)"
            )
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{self.name}: load_state_dict takes a dict of arrays by key (as state_dict() "
                f"returns), got {type(state).__name__}"
            )
        params = dict(self.named_parameters())
        missing = [key for key in params if key not in state]
        if missing:
            shapes = ", ".join(f"{key!r} (shape {params[key].shape})" for key in missing)
            raise ValueError(f"{self.name}: missing parameter(s) {shapes}")
        unknown = [key for key in state if key not in params]
        if unknown:
            raise ValueError(
                f"{self.name}: unexpected parameter(s) {', '.join(map(repr, unknown))}; this model "
                f"has {', '.join(params)}"
            )
        arrays = {key: self._checked_array(key, state[key], p) for key, p in params.items()}
        for key, p in params.items():
            np.copyto(p.data, arrays[key], casting="same_kind")
            _stamp_write(p.data)  # a graph recorded before refuses the new values

    def _checked_array(self, key: str, value: npt.ArrayLike, param: Tensor) -> np.ndarray:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{self.name}: parameter {key!r} is not an array ({exc})") from None
        if array.shape != param.shape:
            raise ValueError(
                f"{self.name}: parameter {key!r} has shape {array.shape} in the state "
                f"but {param.shape} in the model"
            )
        if array.dtype.kind not in "biuf" or not np.can_cast(
            array.dtype, param.data.dtype, casting="same_kind"
        ):
            raise ValueError(
                f"{self.name}: parameter {key!r} holds {array.dtype} values in the state, which "
                f"do not convert to the model's {param.data.dtype} (real numbers expected)"
            )
        _refuse_overflow(array, param.data.dtype, f"{self.name}: parameter {key!r}")
        return array

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the parameters to an `.npz` file, atomically: a crash mid-way leaves the old
        file (or none), never a truncated one. Missing folders are created; a symlink is
        written through; a folder, device or read-only file at `path` is refused."""
        arrays = {key: p.data for key, p in self.named_parameters()}
        write_atomically(path, lambda f: write_npz(f, arrays))

    def load(self: M, path: str | os.PathLike[str]) -> M:
        """Read parameters written by `save` into this module (same architecture); returns self.

        Nothing changes unless the whole file is readable and every parameter fits; errors name
        the file and say what it is if it is not a weights archive."""
        # the archive may not unpack to much more than the parameters in the widest dtype
        # load_state_dict names (complex128), so a small hostile file cannot fill the memory;
        # another model's ordinary weights still reach load_state_dict's message on shapes
        elements = sum(p.size for p in self.parameters())
        state = read_npz(
            path,
            expected=f"a .npz archive of {self.name}'s parameters (save writes one)",
            max_bytes=max(16 * elements, 1 << 26),
        )
        try:
            self.load_state_dict(state)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Sequential(Module):
    """Layers applied one after another; `layers` is the book's OrderedDict of name -> layer.

    Layers left with their default name (the class name) are numbered per kind, as in the book:
    Affine1, Relu1, Affine2, ...
    """

    def __init__(self, *layers: Module, name: str | None = None) -> None:
        super().__init__(name)
        self.layers: OrderedDict[str, Module] = OrderedDict()
        counts: dict[str, int] = {}
        for i, layer in enumerate(layers):
            if isinstance(layer, type) and issubclass(layer, Module):
                raise TypeError(
                    f"{self.name}: layer {i} is the class {layer.__name__}; pass an instance, "
                    f"{layer.__name__}()"
                )
            if not isinstance(layer, Module):
                raise TypeError(
                    f"{self.name}: layer {i} is a {type(layer).__name__}, not an nn layer (Module)"
                )
            if any(layer is other for other in self.layers.values()):
                raise ValueError(
                    f"{self.name}: layer {layer.name!r} appears twice; pass a new instance, or "
                    "call the layer twice yourself in a forward() to share it"
                )
            kind = type(layer).__name__
            if layer.name == kind:
                counts[kind] = counts.get(kind, 0) + 1
                layer.name = f"{kind}{counts[kind]}"
            if layer.name in self.layers:
                raise ValueError(f"{self.name}: two layers are named {layer.name!r}")
            self.layers[layer.name] = layer

    def forward(self, x: Any) -> Any:
        for layer in self.layers.values():
            x = layer(x)
        return x

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers.values())
        return f"{type(self).__name__}({inner})"
