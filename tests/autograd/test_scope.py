"""`autograd.scope`: one block object may be open several times at once."""

from __future__ import annotations

import threading

from autograd import Value, current_region, region_of, scope


def test_one_scope_object_entered_twice_leaves_no_region_open() -> None:
    """The object kept the region it was entered from: entered again before leaving, it forgot
    the first, so after both blocks every later tensor was still marked 'A'."""
    block = scope("A")
    with block:
        with block:
            inner = Value(1.0) * 2
        assert current_region().name == "A"  # type: ignore[union-attr]
    assert current_region() is None and region_of(Value(1.0) * 2) is None
    assert region_of(inner).parent.name == "A"  # type: ignore[union-attr]


def test_one_scope_object_open_in_two_threads_restores_each_threads_region() -> None:
    """A module-level `block = scope("Layer")` used by two threads: the second thread's enter
    overwrote what the first would restore, leaving the first thread inside its inner block."""
    block = scope("Layer")
    entered, left = threading.Event(), threading.Event()
    after: dict[str, object] = {}

    def first() -> None:
        with scope("outer"):
            with block:
                entered.set()
                left.wait(5)
            after["first"] = current_region()

    def second() -> None:
        entered.wait(5)
        with block:
            pass
        after["second"] = current_region()
        left.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert after["second"] is None
    assert after["first"].name == "outer"  # type: ignore[union-attr]
