"""Activations by name: `get` and `names`."""

from __future__ import annotations

from typing import Any

from .. import _lookup
from ._base import Activation
from .gelu import GELU
from .piecewise import HardSigmoid, HardTanh, ReLU6
from .relu import LeakyReLU, ReLU
from .sigmoid import Sigmoid
from .softmax import LogSoftmax, Softmax
from .smooth import CELU, ELU, SELU, Identity, LogSigmoid, Mish, SiLU, Softplus, Softsign, Squareplus
from .tanh import Tanh

_REGISTRY: dict[str, type[Activation]] = {cls.name: cls for cls in (
    Sigmoid, Tanh, ReLU, LeakyReLU, Identity, Softplus, LogSigmoid, ELU, SELU, CELU, SiLU, Softsign, Squareplus,
    HardSigmoid, HardTanh, ReLU6, GELU, Mish, Softmax, LogSoftmax)}
#: Other names `get` accepts; `names` lists only the canonical one.
_ALIASES: dict[str, str] = {"swish": "silu"}


def names() -> tuple[str, ...]:
    """The names `get` accepts, sorted; an alias (``"swish"`` for ``"silu"``) is not listed.

    Examples
    --------
    >>> import slopekit
    >>> slopekit.names()
    ('celu', 'elu', 'gelu', 'hard_sigmoid', 'hard_tanh', 'identity', 'leaky_relu', 'log_sigmoid', 'log_softmax',
     'mish', 'relu', 'relu6', 'selu', 'sigmoid', 'silu', 'softmax', 'softplus', 'softsign', 'squareplus', 'tanh')
    """
    return tuple(sorted(_REGISTRY))


def get(name: str | Activation, **params: Any) -> Activation:
    """An activation by name, with parameters.

    Parameters
    ----------
    name : str or Activation
        One of `names` (case and ``-``/``_`` are ignored), or an activation
        object, which is returned as it is.
    **params
        The activation's parameters, for instance ``slope`` and ``at_zero`` for
        ``"leaky_relu"``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or an invalid
        value (NaN, a slope at zero outside the subgradient's range).
    TypeError
        For an unknown parameter (the message lists the allowed ones), or a
        value that is not a real number.

    Examples
    --------
    >>> import slopekit
    >>> slopekit.get("leaky_relu", slope=0.001)
    LeakyReLU(slope=0.001, at_zero=0.001)
    >>> slopekit.get("relu", at_zero=1)
    ReLU(at_zero=1.0)
    """
    if isinstance(name, Activation):
        if params:
            raise TypeError(f"get: parameters {sorted(params)} cannot be applied to an activation object {name!r}")
        return name
    if not isinstance(name, str):
        raise TypeError(f"get: name must be a string or an Activation, got {type(name).__name__}")
    key, cls = _lookup.find("activation", name, _REGISTRY, _ALIASES)
    return _lookup.build(key, cls, params)


def parse(spec: str) -> Activation:
    """An activation from a command-line spec ``NAME[:PARAM=VALUE,...]``.

    Examples
    --------
    >>> import slopekit
    >>> slopekit.activations.parse("leaky_relu:slope=0.001,at_zero=1")
    LeakyReLU(slope=0.001, at_zero=1.0)
    >>> slopekit.activations.parse("gelu:approximate=tanh")
    GELU(approximate='tanh')

    A value that is not a number is passed on as a word; the activation
    rejects it where it expects a number.
    """
    if not isinstance(spec, str):
        raise TypeError(f"an activation spec must be a string, got {type(spec).__name__}")
    name, _, rest = spec.partition(":")
    params: dict[str, float | str] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise ValueError(f"malformed parameter {item!r} in {spec!r}; expected NAME:PARAM=VALUE,...")
        try:
            params[key.strip()] = float(text)
        except ValueError:  # a word, such as gelu's approximate=tanh; the activation validates it
            params[key.strip()] = text.strip()
    return get(name, **params)
