"""Activation functions with their value, slope, slope from the cached output, and backward."""

from ._base import Activation
from ._registry import get, names, parse
from .piecewise import HardSigmoid, HardTanh, ReLU6
from .relu import LeakyReLU, ReLU
from .sigmoid import Sigmoid
from .smooth import CELU, ELU, SELU, Identity, LogSigmoid, SiLU, Softplus, Softsign, Squareplus
from .tanh import Tanh

__all__ = ["CELU", "ELU", "SELU", "Activation", "HardSigmoid", "HardTanh", "Identity", "LeakyReLU", "LogSigmoid",
           "ReLU", "ReLU6", "SiLU", "Sigmoid", "Softplus", "Softsign", "Squareplus", "Tanh", "get", "names", "parse"]
