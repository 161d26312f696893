"""`with scope("Affine1"): ...` marks the tensors made inside it as one region of the graph.

A region is a name scope, as in other frameworks: the engine records it on each tensor at
creation (one slot), so it belongs to the graph itself. `nn` layers and user code mark regions;
the drawing package reads them (`viz.group` is the same thing under its drawing name). The open
scopes are per thread, so a scope in one thread never marks another thread's tensors, and the
mark survives copying and pickling with the tensor. Nothing is registered or kept globally: a
region lives exactly as long as the tensors that name it.
"""

from __future__ import annotations

import threading
from typing import Any


class Region:
    """One run of a `scope` block: its name and the region it was opened in."""

    __slots__ = ("name", "parent")

    def __init__(self, name: str, parent: Region | None) -> None:
        self.name = name
        self.parent = parent

    def __reduce__(self) -> tuple[type[Region], tuple[str, Region | None]]:
        return Region, (self.name, self.parent)

    def __repr__(self) -> str:
        return f"Region({self.name!r})"


class _Open(threading.local):
    """The innermost open region of the current thread (None outside every scope)."""

    region: Region | None = None


_open = _Open()
# One entry per block open in any thread. Every new tensor asks for its region, and a
# thread-local read costs about three plain ones: with no block open anywhere (the list is
# empty) it is skipped. `list.append` and `list.pop` are atomic, so no lock is needed.
_anywhere: list[None] = []


def current_region() -> Region | None:
    """The innermost region open in this thread: what a tensor made now is marked with."""
    return _open.region


class scope:
    """Mark every tensor created inside this block as belonging to a region named `name`.

    Blocks nest: a tensor belongs to the innermost one. A plain class, not a generator: nn
    layers open one on every call, so entering and leaving must be cheap. One object may be
    open several times at once (nested, or in several threads): leaving restores the region
    it was entered from, which the block's own region holds as its parent.
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"scope: the name must be a non-empty string, got {name!r}")
        self._name = name

    def __enter__(self) -> Region:
        state = _open
        region = Region(self._name, state.region)
        _anywhere.append(None)
        state.region = region
        return region

    def __exit__(self, *exc: object) -> None:
        state = _open
        state.region = state.region.parent  # type: ignore[union-attr]  (this block's region)
        _anywhere.pop()


def forward_in_scope(module: Any, /, *args: Any, **kwargs: Any) -> Any:
    """`with scope(module.name): return module.forward(*args, **kwargs)` in one call, for names
    already checked: it is the `__call__` of `nn` modules, which open a region on every forward,
    and a block's two method calls (or one more call in between) cost as much as a small
    layer's operation."""
    state = _open
    outer = state.region
    state.region = Region(module.name, outer)
    _anywhere.append(None)
    try:
        return module.forward(*args, **kwargs)
    finally:
        state.region = outer
        _anywhere.pop()


def region_of(tensor: object) -> Region | None:
    """The innermost region the tensor was created in, or None."""
    return getattr(tensor, "_scope", None)
