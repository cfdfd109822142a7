"""Agreement with PyTorch autograd and torch.optim on the same weights and data (skipped without torch)."""

import numpy as np
import pytest

import slopekit
from slopekit import Network, losses

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_ACTIVATIONS = {
    "sigmoid": lambda g: torch.sigmoid,
    "tanh": lambda g: torch.tanh,
    "relu": lambda g: torch.relu,
    "leaky_relu": lambda g: (lambda t: F.leaky_relu(t, g.slope)),
}
OUTPUTS = {"sigmoid": 1, "softmax": 4, "identity": 3}


def torch_loss(net, X, y, l2=0.0):
    """The network's loss, built from PyTorch's own functions; returns (loss, {name: tensor})."""
    params = {k: torch.tensor(v, requires_grad=True) for k, v in net.parameters().items()}
    A = torch.tensor(X)
    L = len(net.layer_sizes) - 1
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"].T + params[f"b{l}"]
        if l < L:
            A = TORCH_ACTIVATIONS[net.hidden[l - 1].name](net.hidden[l - 1])(Z)
    if net.output == "sigmoid":
        loss = F.binary_cross_entropy_with_logits(Z[:, 0], torch.tensor(y, dtype=Z.dtype))
    elif net.output == "softmax":
        loss = F.cross_entropy(Z, torch.tensor(y))
    else:
        loss = F.mse_loss(Z, torch.tensor(y, dtype=Z.dtype)) / 2
    if l2:
        loss = loss + l2 / (2 * len(X)) * sum((params[k] ** 2).sum() for k in params if k[0] == "W")
    return loss, params


def data(output, n=16, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    y = {"sigmoid": rng.randint(0, 2, n), "softmax": rng.randint(0, 4, n), "identity": rng.randn(n, 3)}[output]
    return X, y


@pytest.mark.parametrize("l2", [0.0, 0.4])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", [slopekit.sigmoid, slopekit.tanh, slopekit.relu, slopekit.leaky_relu,
                                    slopekit.get("leaky_relu", slope=0.2)], ids=repr)
def test_gradients_equal_autograd(hidden, output, l2):
    net = Network([3, 6, 5, OUTPUTS[output]], hidden, output, seed=1)
    X, y = data(output)
    loss, params = torch_loss(net, X, y, l2)
    loss.backward()
    assert net.loss(X, y, l2=l2) == pytest.approx(loss.item(), rel=1e-13)
    grads = net.gradients(X, y, l2=l2)
    for k, p in params.items():
        np.testing.assert_allclose(grads[k], p.grad.numpy(), rtol=1e-9, atol=1e-15, err_msg=k)


@pytest.mark.parametrize("z_scale", [1.0, 50.0, 500.0])
def test_stable_losses_equal_torch_at_extreme_logits(z_scale):
    rng = np.random.RandomState(2)
    z = rng.randn(20, 4) * z_scale
    labels = rng.randint(0, 4, 20)
    expected = F.cross_entropy(torch.tensor(z), torch.tensor(labels)).item()
    assert losses.categorical_cross_entropy(z, labels) == pytest.approx(expected, rel=1e-13)
    binary = labels % 2
    expected = F.binary_cross_entropy_with_logits(torch.tensor(z[:, 0]), torch.tensor(binary, dtype=torch.float64))
    assert losses.binary_cross_entropy(z[:, 0], binary) == pytest.approx(expected.item(), rel=1e-13)


@pytest.mark.parametrize("rule, make_torch", [
    ("gd", lambda params, lr: torch.optim.SGD(params, lr=lr)),
    ("adam", lambda params, lr: torch.optim.Adam(params, lr=lr)),
])
def test_optimizer_steps_equal_torch_optim(rule, make_torch):
    X, y = data("softmax", n=24)
    net = Network([3, 8, 4], "tanh", "softmax", seed=3)
    _, params = torch_loss(net, X, y)
    ordered = [params[k] for k in net.parameters()]
    opt = make_torch(ordered, 0.05)
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(
            torch.tanh(torch.tensor(X) @ params["W1"].T + params["b1"]) @ params["W2"].T + params["b2"],
            torch.tensor(y))
        loss.backward()
        opt.step()
    net.fit(X, y, epochs=5, learning_rate=0.05, optimizer=rule)
    for k, p in net.parameters().items():
        np.testing.assert_allclose(p, params[k].detach().numpy(), rtol=1e-10, atol=1e-13, err_msg=k)
