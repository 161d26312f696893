"""Draw scratchgrad's computational graphs the way "Deep Learning from Scratch" does (ch. 5).

from viz import draw, steps
draw(price).save("price.png")
steps(price).save("backprop.html")  # the backward pass to step through, in the browser
"""

# ruff: noqa: E402


def _check_engine() -> None:
    """HIPS autograd (PyPI "autograd") installs the same top-level name and replaces our engine's
    __init__: stop here, saying what happened and the fix, rather than later with "cannot import
    name 'Tensor'". The same check is in nn/__init__.py."""
    fix = (
        "HIPS autograd (pip package 'autograd') installs the same top-level name and replaces "
        "ours. Fix: install scratchgrad in a separate virtualenv (python3 -m venv ENV, then "
        "ENV/bin/pip install scratchgrad), or here run 'pip uninstall autograd' and reinstall "
        "scratchgrad as you installed it (e.g. 'pip install --force-reinstall .' in its folder)"
    )
    import sys
    from pathlib import Path

    try:
        import autograd
    except ImportError as exc:
        raise ImportError(
            f"scratchgrad: cannot import its engine 'autograd' ({exc}). {fix}"
        ) from exc
    if hasattr(autograd, "Tensor"):
        return
    where = getattr(autograd, "__file__", None) or ", ".join(getattr(autograd, "__path__", []))
    which = (
        "HIPS autograd, not its engine"
        if hasattr(autograd, "elementwise_grad")
        else "not its engine"
    )
    problem = f"scratchgrad: the 'autograd' that Python imports ({where}) is {which}. {fix}"
    argv0 = (getattr(sys, "argv", None) or [""])[0]  # "-m" while `python -m viz` starts
    if argv0 == "-m" or Path(argv0).name.removesuffix(".exe") == "scratchgrad":
        raise SystemExit(problem)  # the command line: this one message, no traceback, status 1
    raise ImportError(problem)


_check_engine()  # before anything below imports the engine

from viz.drawing import Drawing, draw
from viz.format import number
from viz.graph import LargeDrawingWarning
from viz.groups import group
from viz.render import RendererMissing
from viz.steps import Steps, steps

__all__ = [
    "Drawing",
    "LargeDrawingWarning",
    "RendererMissing",
    "Steps",
    "draw",
    "group",
    "number",
    "steps",
]
