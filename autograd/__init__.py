"""scratchgrad's engine: tensors that record operations, and reverse-mode backward over them."""

from autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd.numeric import GradcheckError, gradcheck, numerical_gradient
from autograd.ops import (
    REGISTRY,
    Op,
    edge_gradient,
    exp,
    local_derivative,
    log,
    log_softmax,
    matmul,
    relu,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    tanh,
)
from autograd.tensor import Tensor, Value, grad, next_id
from autograd.trace import Program, TraceError, trace

__all__ = [
    "REGISTRY",
    "GradcheckError",
    "Op",
    "Program",
    "Tensor",
    "TraceError",
    "Value",
    "enable_grad",
    "edge_gradient",
    "exp",
    "grad",
    "local_derivative",
    "gradcheck",
    "is_grad_enabled",
    "log",
    "log_softmax",
    "matmul",
    "next_id",
    "no_grad",
    "numerical_gradient",
    "relu",
    "set_grad_enabled",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "tanh",
    "trace",
]
