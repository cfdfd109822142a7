"""slopekit: activation functions and their exact slopes, for backpropagation.

The lecture this implements: backpropagation needs the slope :math:`g'(z)` of
each activation; with :math:`a = g(z)` cached from the forward pass the slope
comes almost for free (sigmoid: :math:`a(1-a)`, tanh: :math:`1-a^2`, ReLU: 0 or
1, Leaky ReLU: 0.01 or 1).

>>> import slopekit
>>> a = slopekit.sigmoid(0.0)
>>> float(a), float(slopekit.sigmoid.derivative_from_output(a))
(0.5, 0.25)
"""

from . import datasets
from .activations import (
    CELU, ELU, SELU, Activation, HardSigmoid, HardTanh, Identity, LeakyReLU, LogSigmoid, ReLU, ReLU6, Sigmoid,
    SiLU, Softplus, Softsign, Squareplus, Tanh, get, names,
)
from .gradcheck import gradient_check
from .network import Network
from .numerical import check_slopes, numerical_derivative

__version__ = "0.1.0"

#: The lecture's four activations, ready made with their default parameters.
sigmoid = Sigmoid()
tanh = Tanh()
relu = ReLU()
leaky_relu = LeakyReLU()

__all__ = [
    "CELU",
    "ELU",
    "SELU",
    "Activation",
    "HardSigmoid",
    "HardTanh",
    "Identity",
    "LeakyReLU",
    "LogSigmoid",
    "Network",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softplus",
    "Softsign",
    "Squareplus",
    "Tanh",
    "check_slopes",
    "datasets",
    "get",
    "gradient_check",
    "leaky_relu",
    "names",
    "numerical_derivative",
    "relu",
    "sigmoid",
    "tanh",
]
