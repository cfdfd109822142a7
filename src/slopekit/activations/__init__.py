"""Activation functions with their value, slope, slope from the cached output, and backward."""

from ._base import Activation
from ._registry import get, names, parse
from .relu import LeakyReLU, ReLU
from .sigmoid import Sigmoid
from .tanh import Tanh

__all__ = ["Activation", "LeakyReLU", "ReLU", "Sigmoid", "Tanh", "get", "names", "parse"]
