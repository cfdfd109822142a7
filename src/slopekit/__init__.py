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

from .activations import (
    CELU, ELU, GELU, SELU, Activation, HardSigmoid, HardTanh, Identity, LeakyReLU, LogSigmoid, LogSoftmax, Mish,
    ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus, Softsign, Squareplus, Tanh, get, names,
)
from ._threads import get_num_threads, set_num_threads
from .numerical import check_slopes, numerical_derivative

# The network side loads on first use (PEP 562), so `import slopekit` costs only the activations.
_LAZY = {"Network": ("network", "Network"), "gradient_check": ("gradcheck", "gradient_check"),
         "datasets": ("datasets", None)}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'slopekit' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

__version__ = "0.1.0"

#: The lecture's four activations, ready made with their default parameters.
sigmoid = Sigmoid()
tanh = Tanh()
relu = ReLU()
leaky_relu = LeakyReLU()

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "SELU",
    "Activation",
    "HardSigmoid",
    "HardTanh",
    "Identity",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "Network",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Softsign",
    "Squareplus",
    "Tanh",
    "check_slopes",
    "datasets",
    "get",
    "get_num_threads",
    "gradient_check",
    "leaky_relu",
    "names",
    "numerical_derivative",
    "relu",
    "set_num_threads",
    "sigmoid",
    "tanh",
]
