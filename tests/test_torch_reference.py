"""Agreement with PyTorch autograd, an implementation that cannot share our bugs (skipped without torch)."""

import numpy as np
import pytest

import slopekit

torch = pytest.importorskip("torch")
F = torch.nn.functional

PAIRS = [
    (slopekit.sigmoid, torch.sigmoid),
    (slopekit.tanh, torch.tanh),
    (slopekit.relu, torch.relu),
    (slopekit.leaky_relu, lambda t: F.leaky_relu(t, 0.01)),
    (slopekit.get("leaky_relu", slope=0.001), lambda t: F.leaky_relu(t, 0.001)),
]


def autograd(fn, z, order=1):
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(fn(t).sum(), t, create_graph=order > 1)
    if order == 1:
        return d1.detach().numpy()
    (d2,) = torch.autograd.grad(d1.sum(), t)
    return d2.numpy()


@pytest.mark.parametrize("g, fn", PAIRS, ids=lambda p: repr(p) if isinstance(p, slopekit.Activation) else "")
def test_values_and_slopes_match_autograd(g, fn):
    z = np.concatenate([np.linspace(-12, 12, 241), [0.0, -0.0]])
    with torch.no_grad():
        np.testing.assert_allclose(g(z), fn(torch.tensor(z)).numpy(), rtol=4e-16, atol=0)
    # PyTorch's slope comes from its output (a(1 - a), 1 - a^2): accurate to a few eps in
    # absolute terms only, hence atol (PyTorch may also fuse 1 - a*a into one FMA).
    eps = np.finfo(float).eps
    np.testing.assert_allclose(g.derivative(z), autograd(fn, z), rtol=1e-14, atol=2 * eps)
    if g.has_derivative_from_output:
        np.testing.assert_allclose(g.backward(np.ones_like(z), a=g(z)), autograd(fn, z), rtol=2 * eps, atol=2 * eps)


@pytest.mark.parametrize("g, fn", PAIRS[:2], ids=["sigmoid", "tanh"])
def test_second_derivative_matches_autograd(g, fn):
    z = np.linspace(-8, 8, 161)
    np.testing.assert_allclose(g.second_derivative(z), autograd(fn, z, order=2), rtol=1e-11, atol=1e-15)


def test_kink_conventions_match_pytorch_defaults():
    zero = np.array([0.0])
    assert autograd(torch.relu, zero)[0] == slopekit.relu.derivative(0.0) == 0.0
    assert autograd(lambda t: F.leaky_relu(t, 0.01), zero)[0] == slopekit.leaky_relu.derivative(0.0) == 0.01


@pytest.mark.parametrize("name, z, dtype", [("sigmoid", 20.0, "float32"), ("sigmoid", 40.0, "float64"),
                                            ("tanh", 10.0, "float32"), ("tanh", 20.0, "float64")])
def test_where_pytorch_cancels_to_zero_slopekit_keeps_the_slope(name, z, dtype):
    g = slopekit.get(name)
    t = torch.tensor([z], dtype=getattr(torch, dtype), requires_grad=True)
    (torch_slope,) = torch.autograd.grad(getattr(torch, name)(t).sum(), t)
    assert torch_slope.item() == 0.0  # a rounded to 1: a(1 - a) or 1 - a^2 is exactly 0
    ours = g.derivative(np.array([z], dtype=dtype))[0]
    truth = g.derivative(z)  # float64 reference, itself checked against mpmath in test_accuracy
    assert ours > 0 and ours == pytest.approx(truth, rel=1e-6)
