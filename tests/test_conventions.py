"""The conformance table of docs/conventions.md, checked against slopekit and, where installed, the libraries.

The tests parse the tables between the ``<!-- table:NAME -->`` markers of
``docs/conventions.md``, so the document and the code cannot drift apart:

* slopekit's column (every kink value, every default parameter, the kinks
  themselves, whether the slope-from-output shortcut exists, the underflow
  thresholds) is checked against slopekit itself;
* every PyTorch, JAX and scikit-learn cell that states a number is recomputed
  with that library when it is installed (PyTorch autograd, ``jax.grad`` with
  x64 enabled only inside the test, scikit-learn's own derivative functions),
  and the functions named in the names table are compared with slopekit away
  from the kinks;
* Keras's column is documented only (Keras is not a test dependency).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import inspect
import pathlib
import re

import numpy as np
import pytest

import slopekit

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "conventions.md"
LIBRARIES = ("PyTorch", "JAX", "Keras", "scikit-learn")


# -- parsing the document ---------------------------------------------------------------------------

def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@functools.lru_cache(maxsize=None)
def table(name: str) -> tuple[dict[str, str], ...]:
    """The rows of the markdown table between ``<!-- table:name -->`` and ``<!-- /table:name -->``."""
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(rf"<!-- table:{name} -->\n(.*?)\n<!-- /table:{name} -->", text, re.S)
    assert len(found) == 1, f"docs/conventions.md must have exactly one table {name!r}"
    lines = found[0].strip().splitlines()
    header = _cells(lines[0])
    assert set(lines[1]) <= set("|-: "), f"table {name!r}: the second line must be the header rule"
    rows = []
    for line in lines[2:]:
        cells = _cells(line)
        assert len(cells) == len(header), f"table {name!r}: {line!r} has {len(cells)} cells, not {len(header)}"
        rows.append(dict(zip(header, cells)))
    return tuple(rows)


def unquote(cell: str) -> str:
    return cell.strip().strip("`").strip()


def number(cell: str) -> float | None:
    """The number a cell starts with (``"0.01 [r]"`` -> 0.01), or None (``"—"``, ``"n/a …"``, ``"jax: 1, …"``)."""
    token = cell.split()[0].rstrip(",") if cell.split() else ""
    try:
        return float(token)
    except ValueError:
        return None


def quoted(cell: str) -> str | None:
    """The string a cell starts with when it starts with a double-quoted word (``'"none" [r]'`` -> ``none``)."""
    match = re.match(r'^"([^"]*)"', cell.strip())
    return match.group(1) if match else None


def spec(cell: str) -> tuple[str, dict[str, float | str]]:
    """``name:param=value,...`` as `slopekit.activations.parse` reads it, split into name and parameters."""
    name, _, rest = unquote(cell).partition(":")
    params: dict[str, float | str] = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        try:
            params[key.strip()] = float(value)
        except ValueError:
            params[key.strip()] = value.strip()
    return name, params


QUANTITY = re.compile(r"^g(′|″)?\((.+)\)$")


def quantity(cell: str) -> tuple[int, float] | None:
    """``g(z)``, ``g′(z)``, ``g″(z)`` -> (order, z); None for other quantities."""
    match = QUANTITY.match(unquote(cell))
    if not match:
        return None
    return {None: 0, "′": 1, "″": 2}[match.group(1)], float(match.group(2))


def kink_rows():
    return [pytest.param(row, id=f"{unquote(row['activation'])}-{unquote(row['quantity'])}") for row in table("kinks")]


NAMES = {unquote(row["slopekit"]): row for row in table("names")}
SOURCES = {unquote(row["activation"]): row for row in table("slope-source")}


def _evaluate(g, order: int, z: float) -> float:
    method = (g, g.derivative, g.second_derivative)[order]
    return float(method(np.float64(z)))


def _matches(actual: float, expected: float) -> bool:
    if expected == 0.0:
        return actual == 0.0
    return actual == pytest.approx(expected, rel=2e-15, abs=0.0)


# -- the document itself ----------------------------------------------------------------------------

def test_every_activation_is_in_every_table():
    names = set(slopekit.names())
    assert set(NAMES) == names
    assert set(SOURCES) == names
    kinks_rows = {spec(row["activation"])[0] for row in table("kinks") if unquote(row["quantity"]) == "kinks"}
    assert kinks_rows == names


def test_every_kink_and_every_parameter_has_a_row():
    rows = table("kinks")
    for name in slopekit.names():
        g = slopekit.get(name)
        mine = [unquote(r["quantity"]) for r in rows if unquote(r["activation"]) == name]
        for k in g.kinks:
            assert any(q in mine for q in (f"g′({k:g})", f"g″({k:g})")), (name, k, mine)
        for field in dataclasses.fields(g):
            assert f"default {field.name}" in mine, (name, field.name)


# -- slopekit's column ------------------------------------------------------------------------------

@pytest.mark.parametrize("row", kink_rows())
def test_slopekit_column(row):
    name, params = spec(row["activation"])
    g = slopekit.get(name, **params)
    assert g == slopekit.activations.parse(unquote(row["activation"]))
    what, cell = unquote(row["quantity"]), row["slopekit"]
    if what == "kinks":
        expected = () if cell == "none" else tuple(float(k) for k in cell.split(","))
        assert g.kinks == expected
    elif what.startswith("default "):
        value = getattr(g, what.removeprefix("default "))
        if quoted(cell) is not None:
            assert value == quoted(cell)
        else:
            assert number(cell) is not None, f"unreadable slopekit cell {cell!r}"
            assert value == number(cell)
    else:
        order, z = quantity(row["quantity"])
        expected = number(cell)
        assert expected is not None, f"unreadable slopekit cell {cell!r}"
        assert _matches(_evaluate(g, order, z), expected), (_evaluate(g, order, z), expected)


def test_leaky_and_gelu_defaults_pinned():
    # the two defaults the issue singles out, independently of the table's parsing
    rows = {(unquote(r["activation"]), unquote(r["quantity"])): r for r in table("kinks")}
    assert slopekit.get("leaky_relu").slope == 0.01 == number(rows["leaky_relu", "default slope"]["slopekit"])
    assert slopekit.get("gelu").approximate == "none" == quoted(rows["gelu", "default approximate"]["slopekit"])
    assert slopekit.get("gelu")(1.0) == slopekit.get("gelu", approximate="none")(1.0) != slopekit.get(
        "gelu", approximate="tanh")(1.0)


@pytest.mark.parametrize("name", slopekit.names())
def test_slopekit_slope_source_column(name):
    cell = SOURCES[name]["slopekit"]
    assert cell in ("z", "z, a"), cell
    g = slopekit.get(name)
    assert g.has_derivative_from_output == (cell == "z, a")
    z = np.array([-2.0, -0.5, 0.5, 2.0])
    if g.has_derivative_from_output:
        np.testing.assert_allclose(g.derivative_from_output(g(z)), g.derivative(z), rtol=1e-12, atol=1e-15)
    else:
        with pytest.raises(ValueError, match="derivative_from_output"):
            g.derivative_from_output(g(z))


def underflow_rows():
    return [pytest.param(row, id=f"{unquote(row['activation'])}-{row['dtype']}") for row in table("underflow")]


@pytest.mark.parametrize("row", underflow_rows())
def test_underflow_thresholds_are_numpys(row):
    g = slopekit.get(unquote(row["activation"]))
    dtype = np.dtype(row["dtype"])
    t = dtype.type(row["a rounds to 1 from z ="])
    before = np.nextafter(t, dtype.type(0))
    z = np.array([before, t], dtype)
    a = g(z)
    assert a.dtype == dtype and a[1] == 1 and a[0] < 1  # t is the first value where a rounds to 1
    assert number(row["a(1−a) or 1−a² there"]) == 0
    assert g.derivative_from_output(a)[1] == 0 and g.derivative_from_output(a)[0] > 0
    slope = g.derivative(z)[1]
    assert slope == dtype.type(row["slopekit `derivative(z)` there"]) and slope > 0
    true = float(g.derivative(float(t)))  # float64, itself accurate to a few ulps (test_accuracy)
    assert true == pytest.approx(float(row["true slope there"]), rel=5e-3)
    assert float(slope) == pytest.approx(true, rel=float(np.finfo(dtype).eps) * 8)


# -- PyTorch ----------------------------------------------------------------------------------------

def _resolve(path: str):
    module, _, attr = path.rpartition(".")
    obj = importlib.import_module(module)
    return getattr(obj, attr)


def torch_function(name: str, params: dict):
    """PyTorch's function for ``name`` (from the names table), with slopekit's ``params`` translated."""
    path = unquote(NAMES[name]["PyTorch"])
    if path == "—":
        return None
    fn = _resolve(path)
    if inspect.isclass(fn):
        return fn()
    keys = {"slope": "negative_slope", "alpha": "alpha", "min_val": "min_val", "max_val": "max_val",
            "beta": "beta", "threshold": "threshold", "approximate": "approximate", "axis": "dim"}
    kw = {keys[k]: v for k, v in params.items() if k != "at_zero"}
    if name in ("softmax", "log_softmax"):
        kw.setdefault("dim", -1)  # PyTorch has no default (the table says so); slopekit's is -1
    return functools.partial(fn, **kw) if kw else fn


def torch_derivatives(torch, fn, z, order):
    t = torch.tensor(np.atleast_1d(np.asarray(z, dtype=np.float64)), requires_grad=True)
    y = fn(t)
    if order == 0:
        return y.detach().numpy()
    (d1,) = torch.autograd.grad(y.sum(), t, create_graph=order > 1)
    if order == 1:
        return d1.detach().numpy()
    (d2,) = torch.autograd.grad(d1.sum(), t)
    return d2.numpy()


TORCH_DEFAULTS = {
    ("leaky_relu", "slope"): lambda torch: torch.nn.LeakyReLU().negative_slope,
    ("hard_tanh", "min_val"): lambda torch: torch.nn.Hardtanh().min_val,
    ("hard_tanh", "max_val"): lambda torch: torch.nn.Hardtanh().max_val,
    ("elu", "alpha"): lambda torch: torch.nn.ELU().alpha,
    ("celu", "alpha"): lambda torch: torch.nn.CELU().alpha,
    ("softplus", "beta"): lambda torch: torch.nn.Softplus().beta,
    ("softplus", "threshold"): lambda torch: torch.nn.Softplus().threshold,
    ("gelu", "approximate"): lambda torch: torch.nn.GELU().approximate,
}


@pytest.mark.parametrize("row", kink_rows())
def test_pytorch_column(row):
    cell = row["PyTorch"]
    if number(cell) is None and quoted(cell) is None:
        return  # "—", "n/a …", "none", lists of kinks: nothing numeric to recompute
    torch = pytest.importorskip("torch")
    name, params = spec(row["activation"])
    what = unquote(row["quantity"])
    if what == "kinks":
        return
    if what.startswith("default "):
        getter = TORCH_DEFAULTS[name, what.removeprefix("default ")]
        expected = quoted(cell) if quoted(cell) is not None else number(cell)
        assert getter(torch) == expected
        return
    order, z = quantity(row["quantity"])
    fn = torch_function(name, params)
    actual = float(torch_derivatives(torch, fn, z, order)[0])
    assert _matches(actual, number(cell)), (actual, cell)


def test_pytorch_softmax_has_no_default_dim():
    torch = pytest.importorskip("torch")
    assert torch.nn.Softmax().dim is None
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        torch.nn.functional.softmax(torch.ones(3))


def _grid(g):
    z = np.linspace(-9.7, 9.7, 97)
    return z[[all(abs(zi - k) > 1e-3 for k in g.kinks) for zi in z]]


def _elementwise(names):
    return [n for n in names if slopekit.get(n).elementwise]


@pytest.mark.parametrize("name", _elementwise(slopekit.names()))
def test_named_pytorch_function_agrees_away_from_the_kinks(name):
    torch = pytest.importorskip("torch")
    g = slopekit.get(name)
    fn = torch_function(name, {f.name: getattr(g, f.name) for f in dataclasses.fields(g)})
    if fn is None:
        pytest.skip(f"PyTorch has no {name} (the names table says —)")
    z = _grid(g)
    np.testing.assert_allclose(g(z), torch_derivatives(torch, fn, z, 0), rtol=1e-13, atol=1e-15)
    # a(1 - a) and 1 - a^2 are accurate in absolute terms only; hardsigmoid's backward rounds 1/6 to float32
    rtol = 1e-7 if name == "hard_sigmoid" else 1e-12
    np.testing.assert_allclose(g.derivative(z), torch_derivatives(torch, fn, z, 1), rtol=rtol, atol=5e-16)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_named_pytorch_softmax_agrees_jacobian_diagonal_and_vjp(name):
    torch = pytest.importorskip("torch")
    g = slopekit.get(name)
    fn = torch_function(name, {"axis": g.axis})
    rng = np.random.default_rng(5)
    z, da = rng.normal(size=(4, 6)) * 3, rng.normal(size=(4, 6))
    t = torch.tensor(z, requires_grad=True)
    y = fn(t)
    np.testing.assert_allclose(g(z), y.detach().numpy(), rtol=1e-13, atol=1e-15)
    (vjp,) = torch.autograd.grad(y, t, torch.tensor(da))
    np.testing.assert_allclose(g.backward(da, z=z), vjp.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g.backward(da, a=g(z)), vjp.numpy(), rtol=1e-12, atol=1e-15)
    jac = torch.autograd.functional.jacobian(fn, torch.tensor(z[0])).numpy()
    np.testing.assert_allclose(g.derivative(z[0]), np.diag(jac), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", slopekit.names())
def test_pytorch_slope_source_column(name):
    cell = SOURCES[name]["PyTorch"]
    kind = cell.split()[0]
    if kind not in ("a", "z"):
        return
    torch = pytest.importorskip("torch")
    g = slopekit.get(name)
    fn = torch_function(name, {f.name: getattr(g, f.name) for f in dataclasses.fields(g)})
    t = torch.tensor([0.3, -0.7, 1.2], dtype=torch.float64, requires_grad=True)
    saved = {attr for attr in dir(fn(t).grad_fn) if attr.startswith("_saved_")}
    if kind == "a":
        assert "_saved_result" in saved and "_saved_self" not in saved, saved
    else:
        assert "_saved_self" in saved and "_saved_result" not in saved, saved


def test_pytorch_in_place_elu_and_leaky_relu_save_the_output():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    assert "in-place `elu_`: a" in SOURCES["elu"]["PyTorch"]
    assert "in-place `leaky_relu_`: a" in SOURCES["leaky_relu"]["PyTorch"]
    t = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    for y in (F.elu(t.clone(), inplace=True), F.leaky_relu(t.clone(), inplace=True)):
        saved = {attr for attr in dir(y.grad_fn) if attr.startswith("_saved_")}
        assert "_saved_result" in saved and "_saved_self" not in saved


@pytest.mark.parametrize("row", underflow_rows())
def test_pytorch_underflow_threshold(row):
    t_cell = row["PyTorch: a rounds to 1 from z ="]
    if number(t_cell) is None:
        return
    torch = pytest.importorskip("torch")
    name = unquote(row["activation"])
    dtype = np.dtype(row["dtype"])
    t = dtype.type(t_cell.split()[0])
    z = torch.tensor(np.array([np.nextafter(t, dtype.type(0)), t], dtype), requires_grad=True)
    a = getattr(torch, name)(z)
    assert a[1].item() == 1 and a[0].item() < 1
    (slope,) = torch.autograd.grad(a.sum(), z)
    assert slope[1].item() == 0 and slope[0].item() > 0  # from the output: 0 exactly where a rounded to 1
    assert slopekit.get(name).derivative(t) > 0


# -- JAX --------------------------------------------------------------------------------------------

@contextlib.contextmanager
def x64(jax):
    """float64 in JAX for the duration of a test only."""
    if hasattr(jax, "enable_x64"):  # jax >= 0.7: a context manager at the top level
        with jax.enable_x64(True):
            yield
    else:  # pragma: no cover - older jax
        from jax.experimental import enable_x64

        with enable_x64():
            yield


def jax_function(jax, name: str, params: dict):
    """JAX's function for ``name`` (names table) with slopekit's ``params``; None where JAX cannot express them."""
    path = unquote(NAMES[name]["JAX"])
    if path == "—":
        return None
    fn = _resolve(path)
    kw = {}
    for key, value in params.items():
        if key == "at_zero":
            continue
        if name == "leaky_relu" and key == "slope":
            kw["negative_slope"] = value
        elif key in ("alpha", "b", "axis"):
            kw[key] = value
        elif name == "gelu" and key == "approximate":
            kw["approximate"] = value == "tanh"
        elif name == "hard_tanh" and value == {"min_val": -1.0, "max_val": 1.0}[key]:
            continue  # JAX's bounds are fixed at -1, 1
        elif name == "softplus" and (key, value) in (("beta", 1.0), ("threshold", 20.0)):
            continue  # JAX's softplus has no beta and no threshold
        else:
            return None
    return functools.partial(fn, **kw) if kw else fn


def jax_derivative(jax, fn, z, order):
    f = fn
    for _ in range(order):
        f = jax.grad(f)
    return float(f(jax.numpy.float64(z)))


JAX_DEFAULTS = {("leaky_relu", "slope"): "negative_slope", ("elu", "alpha"): "alpha", ("celu", "alpha"): "alpha",
                ("squareplus", "b"): "b", ("softmax", "axis"): "axis", ("log_softmax", "axis"): "axis"}


@pytest.mark.parametrize("row", kink_rows())
def test_jax_column(row):
    cell = row["JAX"]
    if number(cell) is None and quoted(cell) is None:
        return
    jax = pytest.importorskip("jax")
    name, params = spec(row["activation"])
    what = unquote(row["quantity"])
    if what == "kinks":
        return
    if what.startswith("default "):
        param = what.removeprefix("default ")
        fn = _resolve(unquote(NAMES[name]["JAX"]))
        if (name, param) == ("gelu", "approximate"):
            default = inspect.signature(fn).parameters["approximate"].default
            assert {True: "tanh", False: "none"}[default] == quoted(cell)
        else:
            assert inspect.signature(fn).parameters[JAX_DEFAULTS[name, param]].default == number(cell)
        return
    order, z = quantity(row["quantity"])
    fn = jax_function(jax, name, params)
    assert fn is not None, row
    with x64(jax):
        actual = jax_derivative(jax, fn, z, order)
    assert _matches(actual, number(cell)), (actual, cell)


@pytest.mark.parametrize("name", _elementwise(slopekit.names()))
def test_named_jax_function_agrees_away_from_the_kinks(name):
    jax = pytest.importorskip("jax")
    g = slopekit.get(name)
    fn = jax_function(jax, name, {f.name: getattr(g, f.name) for f in dataclasses.fields(g)})
    assert fn is not None
    z = _grid(g)
    with x64(jax):
        x = jax.numpy.asarray(z)
        value = np.asarray(jax.vmap(fn)(x))
        slope = np.asarray(jax.vmap(jax.grad(fn))(x))
    np.testing.assert_allclose(g(z), value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g.derivative(z), slope, rtol=1e-11, atol=1e-15)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_named_jax_softmax_agrees_vjp(name):
    jax = pytest.importorskip("jax")
    g = slopekit.get(name)
    fn = jax_function(jax, name, {"axis": g.axis})
    rng = np.random.default_rng(6)
    z, da = rng.normal(size=(3, 5)) * 3, rng.normal(size=(3, 5))
    with x64(jax):
        value, vjp = jax.vjp(fn, jax.numpy.asarray(z))
        (dz,) = vjp(jax.numpy.asarray(da))
        value, dz = np.asarray(value), np.asarray(dz)
    np.testing.assert_allclose(g(z), value, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g.backward(da, z=z), dz, rtol=1e-11, atol=1e-15)


#: Where JAX's default float32 output has rounded to 1 (its own thresholds in the underflow table).
JAX_A_POINTS = {"sigmoid": 17.0, "tanh": 9.0, "softmax": [0.0, 17.0]}


@pytest.mark.parametrize("name", slopekit.names())
def test_jax_slope_from_output_claims(name):
    """Where the table says JAX takes the slope from ``a``, it is exactly 0 where ``a`` rounded to 1."""
    if SOURCES[name]["JAX"].split()[0] != "a":
        return
    jax = pytest.importorskip("jax")
    fn = _resolve(unquote(NAMES[name]["JAX"]))
    z = np.asarray(JAX_A_POINTS[name], np.float32)
    x = jax.numpy.asarray(z)
    value, tangent = jax.jvp(fn, (x,), (jax.numpy.ones_like(x) if z.ndim == 0 else jax.numpy.asarray([0.0, 1.0]),))
    ours = slopekit.get(name).derivative(z)
    if z.ndim:
        value, tangent, ours = value[1], tangent[1], ours[1]
    assert float(value) == 1.0 and float(tangent) == 0.0
    assert ours > 0


@pytest.mark.parametrize("row", underflow_rows())
def test_jax_underflow_threshold(row):
    t_cell = row["JAX: a rounds to 1 from z ="]
    if number(t_cell) is None:
        return
    jax = pytest.importorskip("jax")
    name = unquote(row["activation"])
    fn = _resolve(unquote(NAMES[name]["JAX"]))
    dtype = np.dtype(row["dtype"])
    t = dtype.type(t_cell.split()[0])
    z = np.array([np.nextafter(t, dtype.type(0)), t], dtype)
    with x64(jax) if dtype == np.float64 else contextlib.nullcontext():
        x = jax.numpy.asarray(z)
        assert x.dtype == dtype
        a = np.asarray(fn(x))
        slope = np.asarray(jax.vmap(jax.grad(fn))(x))
    assert a[1] == 1 and a[0] < 1
    assert slope[1] == 0 and slope[0] > 0
    assert slopekit.get(name).derivative(t) > 0


@pytest.mark.parametrize("name, z", [("sigmoid", 20.0), ("tanh", 9.0)])
def test_jax_highest_accuracy_takes_the_slope_from_z(name, z):
    assert "accuracy=HIGHEST" in DOC.read_text(encoding="utf-8")
    jax = pytest.importorskip("jax")
    lax = jax.lax
    if not hasattr(lax, "AccuracyMode"):  # pragma: no cover - older jax
        pytest.skip("this jax has no lax.AccuracyMode")
    primitive = lax.logistic if name == "sigmoid" else lax.tanh
    x = jax.numpy.float32(z)
    default = float(jax.grad(primitive)(x))
    highest = float(jax.grad(lambda t: primitive(t, accuracy=lax.AccuracyMode.HIGHEST))(x))
    ours = float(slopekit.get(name).derivative(np.float32(z)))
    assert default == 0.0
    assert highest == pytest.approx(ours, rel=1e-5)


# -- scikit-learn -----------------------------------------------------------------------------------

def _sklearn():
    base = pytest.importorskip("sklearn.neural_network._base")
    return base.ACTIVATIONS, base.DERIVATIVES


def test_scikit_learn_has_exactly_the_named_hidden_activations():
    activations, derivatives = _sklearn()
    from sklearn.neural_network import MLPClassifier

    named = {unquote(r["scikit-learn"]) for r in NAMES.values()} - {"—"}
    (options,) = [c for c in MLPClassifier._parameter_constraints["activation"] if hasattr(c, "options")]
    assert named == set(options.options) == set(derivatives)
    assert named <= set(activations)


def _sklearn_slope(name, z):
    activations, derivatives = _sklearn()
    sk = unquote(NAMES[name]["scikit-learn"])
    a = np.array(z, dtype=np.float64, ndmin=1)
    activations[sk](a)  # in place: z -> a
    delta = np.ones_like(a)
    derivatives[sk](a, delta)  # in place, from the output a
    return a, delta


@pytest.mark.parametrize("name", [n for n in slopekit.names() if unquote(NAMES[n]["scikit-learn"]) != "—"])
def test_named_scikit_learn_function_agrees_away_from_the_kinks(name):
    g = slopekit.get(name)
    z = _grid(g)
    a, slope = _sklearn_slope(name, z)
    np.testing.assert_allclose(g(z), a, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(g.derivative(z), slope, rtol=1e-12, atol=5e-16)


@pytest.mark.parametrize("row", kink_rows())
def test_scikit_learn_column(row):
    cell = row["scikit-learn"]
    what = unquote(row["quantity"])
    if number(cell) is None or what == "kinks":
        return
    _sklearn()
    name, _ = spec(row["activation"])
    order, z = quantity(row["quantity"])
    assert order == 1
    assert _sklearn_slope(name, z)[1][0] == number(cell)


@pytest.mark.parametrize("name", slopekit.names())
def test_scikit_learn_slope_source_column(name):
    """scikit-learn's derivatives take the output: fed ``a``, they return the slope at ``z = g⁻¹(a)``."""
    cell = SOURCES[name]["scikit-learn"]
    if cell.split()[0] != "a":
        return
    _, derivatives = _sklearn()
    g = slopekit.get(name)
    z = np.array([-1.5, 0.5, 2.0])
    delta = np.ones_like(z)
    derivatives[unquote(NAMES[name]["scikit-learn"])](g(z), delta)
    np.testing.assert_allclose(delta, g.derivative_from_output(g(z)), rtol=1e-15, atol=0)
    np.testing.assert_allclose(delta, g.derivative(z), rtol=1e-12, atol=5e-16)
