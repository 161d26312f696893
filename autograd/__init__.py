"""scratchgrad's engine: tensors that record operations, and reverse-mode backward over them."""

from autograd.anomaly import AnomalyError, anomaly_of, detect_anomaly
from autograd.check import check_layer
from autograd.explain import explain, explanation
from autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd.numeric import GradcheckError, gradcheck, numerical_gradient
from autograd.ops import (
    REGISTRY,
    Op,
    abs,
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
    softplus,
    sqrt,
    tanh,
)
from autograd.scope import Region, current_region, region_of, scope
from autograd.steps import Sent, Step, backward_steps
from autograd.tensor import RemovableHandle, Tensor, Value, grad, next_id
from autograd.trace import Program, TraceError, trace

__all__ = [
    "REGISTRY",
    "AnomalyError",
    "RemovableHandle",
    "Sent",
    "Step",
    "GradcheckError",
    "Op",
    "Program",
    "Region",
    "Tensor",
    "TraceError",
    "Value",
    "abs",
    "anomaly_of",
    "backward_steps",
    "check_layer",
    "current_region",
    "detect_anomaly",
    "enable_grad",
    "explain",
    "explanation",
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
    "region_of",
    "relu",
    "set_grad_enabled",
    "scope",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "softplus",
    "sqrt",
    "tanh",
    "trace",
]
