"""Shared test settings: a deterministic hypothesis profile in CI, and the activations under test."""

import os

# scikit-learn's array_api_dispatch (tests/test_sklearn.py) needs SciPy's array API support, which SciPy
# reads from this variable once, when it is first imported: set here, before any test module imports
# scikit-learn (and with it SciPy). A monkeypatch.setenv inside a test satisfies scikit-learn's own check
# of the variable but comes after SciPy was imported without it. SciPy keeps working on NumPy arrays.
os.environ["SCIPY_ARRAY_API"] = "1"

import numpy as np  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

import slopekit  # noqa: E402

settings.register_profile("ci", derandomize=True, max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

#: Every activation with default parameters, plus each kink convention.
ACTIVATIONS = [
    slopekit.sigmoid,
    slopekit.tanh,
    slopekit.relu,
    slopekit.get("relu", at_zero=1),
    slopekit.get("relu", at_zero=0.5),
    slopekit.leaky_relu,
    slopekit.get("leaky_relu", slope=0.001),
    slopekit.get("leaky_relu", at_zero=1),
    slopekit.get("leaky_relu", slope=0.2, at_zero=0.6),
    slopekit.get("leaky_relu", slope=-0.5),
    slopekit.get("leaky_relu", slope=0.0),
    slopekit.get("leaky_relu", slope=3.0),
    slopekit.get("identity"),
    slopekit.get("softplus"),
    slopekit.get("softplus", beta=2.0, threshold=10.0),
    slopekit.get("log_sigmoid"),
    slopekit.get("elu"),
    slopekit.get("elu", alpha=0.5),
    slopekit.get("elu", alpha=2.0, at_zero=1.0),
    slopekit.get("selu"),
    slopekit.get("celu"),
    slopekit.get("celu", alpha=2.0),
    slopekit.get("silu"),
    slopekit.get("softsign"),
    slopekit.get("squareplus"),
    slopekit.get("hard_sigmoid"),
    slopekit.get("hard_tanh"),
    slopekit.get("hard_tanh", min_val=-2.0, max_val=0.5),
    slopekit.get("relu6"),
    slopekit.get("gelu"),
    slopekit.get("gelu", approximate="tanh"),
    slopekit.get("mish"),
]
#: Softmax-like activations (not elementwise): tested in test_softmax.py and with the network.
ALONG_AXIS = [slopekit.get("softmax"), slopekit.get("log_softmax"), slopekit.get("softmax", axis=0),
              slopekit.get("log_softmax", axis=0)]

FLOAT_DTYPES = [np.float16, np.float32, np.float64]


METHODS = ["__call__", "derivative", "second_derivative", "derivative_from_output"]


def pytest_generate_tests(metafunc):
    """``g``: each activation; ``g, method``: each activation with each method it supports."""
    names = metafunc.fixturenames
    explicit = {n.strip() for m in metafunc.definition.iter_markers("parametrize") for n in
                (m.args[0].split(",") if isinstance(m.args[0], str) else m.args[0])}
    if "g" in explicit:
        return
    if "g" in names and "method" in names:
        cases = [(g, m) for g in ACTIVATIONS for m in METHODS
                 if m != "derivative_from_output" or g.has_derivative_from_output]
        metafunc.parametrize("g, method", cases, ids=[f"{g!r}-{m}" for g, m in cases])
    elif "g" in names:
        metafunc.parametrize("g", ACTIVATIONS, ids=repr)


def reference_slope(g, z):
    """g'(z) by the textbook definition, in float64, for the piecewise-linear activations."""
    z = np.asarray(z, dtype=np.float64)
    if isinstance(g, slopekit.ReLU):
        left, right = 0.0, 1.0
    else:
        left, right = g.slope, 1.0
    return np.where(z > 0, right, np.where(z < 0, left, g.at_zero))
