"""Layers, models and optimizers of "Deep Learning from Scratch" (ch. 5–6) on the autograd engine.

The book's names and signatures are kept (`TwoLayerNet`, `params`, `gradient`, `update`, ...), so
its scripts run with only their imports changed; backward always comes from autograd.
"""

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
