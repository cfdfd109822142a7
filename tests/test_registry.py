"""Activations by name, their parameters, and their value-object behaviour."""

import dataclasses
import pickle

import pytest

import slopekit


def test_names_lists_every_activation_sorted():
    assert slopekit.names() == tuple(sorted(slopekit.names()))
    assert {"sigmoid", "tanh", "relu", "leaky_relu"} <= set(slopekit.names())
    for name in slopekit.names():
        assert slopekit.get(name).name == name


def test_ready_made_activations_are_the_defaults():
    assert slopekit.sigmoid == slopekit.get("sigmoid") == slopekit.Sigmoid()
    assert slopekit.tanh == slopekit.get("tanh")
    assert slopekit.relu == slopekit.get("relu") == slopekit.ReLU(at_zero=0)
    assert slopekit.leaky_relu == slopekit.get("leaky_relu") == slopekit.LeakyReLU(0.01, 0.01)


def test_names_are_case_and_dash_insensitive():
    assert slopekit.get("Leaky-ReLU") == slopekit.leaky_relu
    assert slopekit.get(" TANH ") == slopekit.tanh


def test_get_passes_an_activation_object_through():
    g = slopekit.get("leaky_relu", slope=0.2)
    assert slopekit.get(g) is g
    with pytest.raises(TypeError, match="cannot be applied"):
        slopekit.get(g, slope=0.3)


def test_repr_shows_the_parameters_and_round_trips():
    assert repr(slopekit.leaky_relu) == "LeakyReLU(slope=0.01, at_zero=0.01)"
    assert repr(slopekit.get("relu", at_zero=1)) == "ReLU(at_zero=1.0)"
    assert repr(slopekit.sigmoid) == "Sigmoid()"
    for g in (slopekit.leaky_relu, slopekit.get("relu", at_zero=0.5), slopekit.tanh):
        assert eval(repr(g), vars(slopekit)) == g


def test_equality_hash_and_immutability():
    a, b = slopekit.get("leaky_relu", slope=0.001), slopekit.get("leaky_relu", slope=0.001)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != slopekit.leaky_relu
    assert slopekit.relu != slopekit.get("leaky_relu", slope=0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.slope = 0.5
    assert pickle.loads(pickle.dumps(a)) == a


def test_leaky_relu_at_zero_defaults_to_slope_as_pytorch():
    assert slopekit.get("leaky_relu", slope=0.3).at_zero == 0.3


@pytest.mark.parametrize("name, match", [("sigmod", "did you mean 'sigmoid'"), ("nonesuch", "known: " + ", ".join(slopekit.names()))])
def test_unknown_name_lists_the_known_ones(name, match):
    with pytest.raises(ValueError, match=match):
        slopekit.get(name)


def test_name_must_be_a_string():
    with pytest.raises(TypeError, match="string"):
        slopekit.get(3)


@pytest.mark.parametrize("name, params, error, match", [
    ("relu", {"slope": 0.1}, TypeError, "unknown parameter 'slope'; allowed: at_zero"),
    ("sigmoid", {"at_zero": 1}, TypeError, "allowed: none"),
    ("leaky_relu", {"alpha": 0.1}, TypeError, "allowed: slope, at_zero"),
    ("leaky_relu", {"slope": float("nan")}, ValueError, "finite"),
    ("leaky_relu", {"slope": float("inf")}, ValueError, "finite"),
    ("leaky_relu", {"slope": "0.1"}, TypeError, "real number, got str"),
    ("leaky_relu", {"slope": None}, TypeError, "real number, got NoneType"),
    ("leaky_relu", {"slope": True}, TypeError, "real number, got bool"),
    ("leaky_relu", {"slope": 1j}, TypeError, "real number, got complex"),
    ("relu", {"at_zero": 2}, ValueError, r"\[0, 1\]"),
    ("relu", {"at_zero": -0.1}, ValueError, "subgradient"),
    ("leaky_relu", {"at_zero": 0.0}, ValueError, r"\[0.01, 1\]"),
    ("leaky_relu", {"slope": 2.0, "at_zero": 3.0}, ValueError, r"\[1, 2\]"),
])
def test_invalid_parameters(name, params, error, match):
    with pytest.raises(error, match=match):
        slopekit.get(name, **params)


def test_numpy_numbers_are_accepted_as_parameters():
    import numpy as np

    g = slopekit.get("leaky_relu", slope=np.float32(0.25), at_zero=np.int64(1))
    assert g == slopekit.LeakyReLU(slope=0.25, at_zero=1.0)
    assert type(g.slope) is float


def test_import_is_light_and_the_network_side_loads_on_first_use():
    import subprocess
    import sys

    code = ("import sys, slopekit; heavy = ('slopekit.network', 'slopekit.datasets', 'array_api_compat', 'difflib');"
            " print(sorted(m for m in heavy if m in sys.modules));"
            " from slopekit import Network, gradient_check, datasets;"
            " print(Network.__module__, gradient_check.__module__, datasets.__name__, 'Network' in dir(slopekit))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "slopekit.network slopekit.gradcheck slopekit.datasets True"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        slopekit.nope
