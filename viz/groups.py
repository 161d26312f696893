"""`with viz.group("Affine1"): ...` marks the tensors made inside it as one labelled cluster.

The engine knows nothing about layers, and viz may not change it. Tensor ids are handed out in
creation order, so a group is simply the range of ids created while its block ran: nothing is
hooked, nothing holds on to tensors, and any code (the nn package, a notebook) can mark layers.
Ranges nest; a tensor belongs to the innermost group open when it was created. Ids are global,
so tensors made by another thread during the block count as inside it.
"""

from __future__ import annotations

import bisect
import math
from collections import deque

from autograd import next_id

MAX_RANGES = 10_000  # a training loop opens groups forever; old ranges name no live tensor
_ranges: deque[tuple[int, int, str]] = deque(maxlen=MAX_RANGES)
_open: list[tuple[int, str]] = []  # groups still running: drawing inside a block works too


class group:
    """Draw every tensor created inside this block in a cluster labelled `name`.

    A plain class, not a generator: nn layers open one on every call, so it must be cheap.
    """

    __slots__ = ("_name", "_start")

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"group: the name must be a non-empty string, got {name!r}")
        self._name = name
        self._start = -1

    def __enter__(self) -> None:
        self._start = next_id()
        _open.append((self._start, self._name))

    def __exit__(self, *exc: object) -> None:
        _open.remove((self._start, self._name))
        _ranges.append((self._start, next_id(), self._name))


class GroupIndex:
    """Innermost group name for a tensor id, from a snapshot of the recorded ranges."""

    def __init__(self) -> None:
        # Ranges from context managers are nested or disjoint, so they cut the id line into
        # segments, each with one innermost name: sweep once, then look up by bisection.
        starts: list[int] = []
        names: list[str | None] = []
        stack: list[tuple[float, str]] = []  # (end, name) of the open enclosing ranges

        def cut(at: int) -> None:
            if starts and starts[-1] == at:
                names.pop()
                starts.pop()
            starts.append(at)
            names.append(stack[-1][1] if stack else None)

        running = [(start, math.inf, name) for start, name in _open]
        for start, end, name in sorted([*_ranges, *running], key=lambda r: (r[0], -r[1])):
            while stack and stack[-1][0] <= start:
                cut(int(stack.pop()[0]))
            stack.append((end, name))
            cut(start + 1)  # ids strictly after the one taken at enter
        while stack and stack[-1][0] != math.inf:
            cut(int(stack.pop()[0]))
        self._starts = starts
        self._names = names

    def lookup(self, tensor_id: int) -> str | None:
        i = bisect.bisect_right(self._starts, tensor_id) - 1
        return self._names[i] if i >= 0 else None
