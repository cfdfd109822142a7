"""Activation functions with their value, slope, slope from the cached output, and backward."""

from ._base import Activation
from ._registry import get, names, parse
from .gelu import GELU
from .piecewise import HardSigmoid, HardTanh, ReLU6
from .relu import LeakyReLU, ReLU
from .sigmoid import Sigmoid
from .smooth import CELU, ELU, SELU, Identity, LogSigmoid, Mish, SiLU, Softplus, Softsign, Squareplus
from .softmax import LogSoftmax, Softmax
from .tanh import Tanh

__all__ = ["CELU", "ELU", "GELU", "SELU", "Activation", "HardSigmoid", "HardTanh", "Identity", "LeakyReLU",
           "LogSigmoid", "LogSoftmax", "Mish", "ReLU", "ReLU6", "SiLU", "Sigmoid", "Softmax", "Softplus", "Softsign",
           "Squareplus", "Tanh", "get", "names", "parse"]
