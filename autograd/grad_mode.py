"""Whether operations are recorded: one global switch, flipped by `no_grad` and by backward."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode:
    """Module-level state; a class attribute keeps the hot-path lookup to one attribute read."""

    enabled: bool = True


def is_grad_enabled() -> bool:
    """True when new operations are being recorded for backward."""
    return _GradMode.enabled


class set_grad_enabled:
    """Context manager that sets recording on or off and restores the previous state on exit."""

    def __init__(self, mode: bool) -> None:
        self._mode = mode
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_GradMode.enabled)
        _GradMode.enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        _GradMode.enabled = self._previous.pop()

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
