"""Layers, models and optimizers of "Deep Learning from Scratch" (ch. 5–6) on the autograd engine.

The book's names and signatures are kept (`TwoLayerNet`, `params`, `gradient`, `update`, ...), so
its scripts run with only their imports changed; backward always comes from autograd.
"""

# ruff: noqa: E402


def _check_engine() -> None:
    """HIPS autograd (PyPI "autograd") installs the same top-level name and replaces our engine's
    __init__: stop here, saying what happened and the fix, rather than later with "cannot import
    name 'Tensor'". The same check is in viz/__init__.py (nn must not import viz)."""
    fix = (
        "HIPS autograd (pip package 'autograd') installs the same top-level name and replaces "
        "ours. Fix: install scratchgrad in a separate virtualenv (python3 -m venv ENV, then "
        "ENV/bin/pip install scratchgrad), or here run 'pip uninstall autograd' and reinstall "
        "scratchgrad as you installed it (e.g. 'pip install --force-reinstall .' in its folder)"
    )
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
    raise ImportError(problem)


_check_engine()  # before anything below imports the engine

from nn.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss, Tanh
from nn.models import MLP, ParamDict, TwoLayerNet
from nn.module import Module, Sequential
from nn.optimizers import SGD, AdaGrad, Adam, Momentum, Optimizer, RMSprop
from nn.train import History, TrainingDiverged, train

__all__ = [
    "MLP",
    "SGD",
    "AdaGrad",
    "Adam",
    "Affine",
    "History",
    "Module",
    "Momentum",
    "Optimizer",
    "ParamDict",
    "RMSprop",
    "Relu",
    "Sequential",
    "Sigmoid",
    "SoftmaxWithLoss",
    "Tanh",
    "TrainingDiverged",
    "TwoLayerNet",
    "train",
]
