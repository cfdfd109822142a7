"""The conventions slopekit's docs claim for JAX, checked against JAX itself (skipped without jax)."""

import numpy as np
import pytest

import slopekit

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")


def slope(fn, z):
    return float(jax.grad(fn)(z))


def test_relu_slope_at_zero_is_0_as_slopekits_default():
    assert slope(jax.nn.relu, 0.0) == slopekit.relu.derivative(0.0) == 0.0


def test_leaky_relu_slope_at_zero_is_1_in_jax_and_reachable_in_slopekit():
    assert slope(jax.nn.leaky_relu, 0.0) == 1.0
    assert slopekit.get("leaky_relu", at_zero=1).derivative(0.0) == 1.0
    assert slopekit.leaky_relu.derivative(0.0) == 0.01  # slopekit's default follows PyTorch


@pytest.mark.parametrize("name, z", [("sigmoid", 20.0), ("tanh", 11.0)])
def test_jax_slope_from_its_output_is_exactly_0_where_slopekits_is_not(name, z):
    # JAX's default float32: a rounds to 1 (docs/precision.md), so a (1 - a) and 1 - a^2 vanish
    jax_fn = jax.nn.sigmoid if name == "sigmoid" else jnp.tanh
    assert slope(jax_fn, jnp.float32(z)) == 0.0
    assert slopekit.get(name).derivative(np.float32(z)) > 0


def test_values_and_slopes_agree_away_from_the_kinks():
    z = np.linspace(-6, 6, 48, dtype=np.float32)  # an even count: 0 is not on the grid
    for g, fn in [(slopekit.sigmoid, jax.nn.sigmoid), (slopekit.tanh, jnp.tanh), (slopekit.relu, jax.nn.relu),
                  (slopekit.leaky_relu, jax.nn.leaky_relu)]:
        grads = np.asarray(jax.vmap(jax.grad(fn))(jnp.asarray(z)))
        np.testing.assert_allclose(np.asarray(fn(jnp.asarray(z))), g(z), rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(grads, g.derivative(z), rtol=2e-5, atol=1e-6)  # JAX's 1 - a^2: absolute accuracy
