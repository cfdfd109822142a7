"""Every docstring example of the installed package runs and prints what it says."""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import slopekit

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(slopekit.__path__, prefix="slopekit.")
    if not name.endswith("__main__")
)


@pytest.mark.parametrize("name", ["slopekit", *MODULES])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with np.printoptions(legacy=False):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
