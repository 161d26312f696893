"""Whether operations are recorded: a switch per thread, flipped by `no_grad` and by backward.

Each thread has its own switch (as in PyTorch): a `no_grad()` block in one thread never stops
another thread from recording, and overlapping blocks in two threads cannot leave it off.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _ThreadState(threading.local):
    """Per-thread engine state. Class attributes are each new thread's starting values.

    `enabled` is what the ops test on every call: False, True, or, while recording inside
    `autograd.detect_anomaly()`, the anomaly settings themselves (truthy), so that watching for
    NaN costs the normal path nothing.
    """

    enabled: Any = True
    anomaly: Any = None  # the innermost detect_anomaly's settings, or None


def recording(on: bool) -> Any:
    """The value `state.enabled` takes for recording on or off in this thread."""
    return (state.anomaly or True) if on else False


state = _ThreadState()


class ThreadStacks:
    """What a context manager restores on exit, kept per thread: one `no_grad()` object may be
    open in several threads at once (a module-level `inference = no_grad()`)."""

    __slots__ = ("_stacks",)

    def __init__(self) -> None:
        self._stacks: dict[int, list[Any]] = {}

    def push(self, value: Any) -> None:
        self._stacks.setdefault(threading.get_ident(), []).append(value)

    def pop(self) -> Any:
        key = threading.get_ident()
        stack = self._stacks[key]
        value = stack.pop()
        if not stack:
            del self._stacks[key]
        return value


def is_grad_enabled() -> bool:
    """True when new operations are being recorded for backward (in this thread)."""
    return bool(state.enabled)


class set_grad_enabled:
    """Context manager that sets recording on or off and restores the previous state on exit."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._previous = ThreadStacks()

    def __enter__(self) -> None:
        self._previous.push(state.enabled)
        state.enabled = recording(self._mode)

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._previous.pop()

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(self._mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(set_grad_enabled):
    """Record nothing inside: `with no_grad():`, `@no_grad()` or `@no_grad`.

    Use it for parameter updates and evaluation, where a graph would only cost time and memory.
    """

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        if func is not None:  # used bare as @no_grad
            return set_grad_enabled(False)(func)
        return super().__new__(cls)

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record again inside a `no_grad` region."""

    def __init__(self) -> None:
        super().__init__(True)
