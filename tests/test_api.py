"""The public Python API: models from SymPy, adjoints as SymPy, checks, LaTeX."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from sympy import MatrixSymbol, Symbol

import symderiv
from symderiv import api
from symderiv.errors import ModelError, ShapeError, SymderivError
from symderiv.model import ops as o


@pytest.fixture()
def gated() -> api.SymModel:
    """The seed's gated unit, built the way a user would."""
    a, b, c = sp.symbols("a b c", integer=True, positive=True)
    m = api.new_model()
    x = m.input(MatrixSymbol("x", a, 1))
    eta = m.input("\\eta", (b, 1))
    W = m.input("W", (c, a))
    U = m.input("U", ("c", "b"))
    v = m.input(MatrixSymbol("v", c, 1))
    r = m.input("r", ("a", 1))
    t = m.input(Symbol("t"), domain="binary")
    z = m.define("z", W * x)
    s = m.define("s", U * eta)
    h = m.define("h", sp.hadamard_product(z, s))
    zy = m.define("z_y", v.T * h + r.T * x)
    y = m.define("y", api.elementwise("sigma", zy))
    m.define("l", -t * sp.log(y) - (1 - t) * sp.log(1 - y))
    return m


def test_docstring_example() -> None:
    a, c = sp.symbols("a c", integer=True, positive=True)
    m = symderiv.api.new_model()
    x = m.input(MatrixSymbol("x", a, 1))
    W = m.input("W", (c, a))
    v = m.input("v", ("c", 1))
    t = m.input(Symbol("t"), domain="binary")
    z = m.define("z", W * x)
    y = m.define("y", api.elementwise("sigma", v.T * z))
    m.define("l", -t * sp.log(y) - (1 - t) * sp.log(1 - y))
    assert isinstance(y, sp.Symbol)
    g = api.gradient(m, "W")
    assert g == (sp.Symbol("y") - sp.Symbol("t")) * sp.MatrixSymbol("v", c, 1) * x.T
    assert api.check_expression(m, W, r"(y - t) v x^\top").equal
    out = api.latex(m, expanded=True)  # z and y, used twice, are named once before the adjoints
    assert out.startswith("\\begin{align*}\nz &= W x \\\\\ny &= \\sigma(v^\\top z)") and "\n\\bar{l} &= 1 \\\\\n" in out


def test_symbols_returned(gated: api.SymModel) -> None:
    c, a = gated.dims["c"], gated.dims["a"]
    assert gated.symbol("z") == MatrixSymbol("z", c, 1)
    assert gated.symbol("W") == MatrixSymbol("W", c, a)
    assert gated.symbol("y") == Symbol("y")
    assert gated.loss == "l"
    assert gated.graph.symbols["t"].domain == "binary"
    assert gated.graph.symbols["y"].definition.fn == "sigma"  # type: ignore[union-attr]


def test_adjoints_local_and_expanded(gated: api.SymModel) -> None:
    local = api.adjoints(gated)
    assert list(local) == gated.graph.backward_order()
    assert local["l"] == 1
    c, a = gated.dims["c"], gated.dims["a"]
    assert local["W"] == MatrixSymbol("\\bar{z}", c, 1) * MatrixSymbol("x", a, 1).T
    expanded = api.adjoints(gated, expanded=True)
    y, t = Symbol("y"), Symbol("t")
    assert expanded["z_y"] == y - t
    assert sp.simplify(expanded["y"] - (-t / y + (1 - t) / (1 - y))) == 0
    assert api.gradient(gated, "h") == (y - t) * MatrixSymbol("v", c, 1)
    assert api.gradient(gated, gated.symbol("W")) == expanded["W"]


def test_check_sympy_expression(gated: api.SymModel) -> None:
    v, s, x = (gated.symbol(n) for n in ("v", "s", "x"))
    y, t = gated.symbol("y"), gated.symbol("t")
    right = api.check_expression(gated, "W", (y - t) * sp.hadamard_product(v, s) * x.T)
    assert right and right.verdict == "correct" and right.method == "numeric"
    wrong = api.check_expression(gated, "W", (t - y) * sp.hadamard_product(v, s) * x.T)
    assert not wrong and wrong.verdict == "incorrect" and wrong.reason == "sign"
    cex = wrong.counterexample
    assert cex is not None and set(cex) == {"sizes", "values", "expected", "got"}
    assert np.allclose(np.array(cex["got"]), -np.array(cex["expected"]))
    bad = api.check_expression(gated, "W", (y - t) * sp.hadamard_product(v, s))
    assert bad.verdict == "invalid" and bad.reason == "shape"


def test_check_local_form_is_symbolic(gated: api.SymModel) -> None:
    local = api.adjoints(gated)["W"]
    result = api.check_expression(gated, "W", local)
    assert result.verdict == "correct" and result.method == "symbolic"


def test_check_latex_string(gated: api.SymModel) -> None:
    pytest.importorskip("symderiv.read.parse", reason="the reader (symderiv.read.parse) is not there yet")
    assert api.check_expression(gated, "W", r"(y - t) (v \odot s) x^\top").equal
    assert api.check_expression(gated, "W", r"\bar{z} x^T").method == "symbolic"
    assert api.check_expression(gated, "z_y", r"y - t").equal
    r = api.check_expression(gated, "z", r"\bar{h} \odot z")
    assert r.verdict == "incorrect" and r.reason == "wrong-adjoint"
    r = api.check_expression(gated, "W", r"(y - t) (v \odot s) x")
    assert r.verdict == "invalid" and r.reason == "shape"
    r = api.check_expression(gated, "W", r"(y - t")
    assert r.verdict == "invalid" and r.reason == "parse"
    r = api.check_expression(gated, "W", r"q x^T")
    assert r.verdict == "invalid" and r.reason == "unknown-symbol"


def test_latex(gated: api.SymModel) -> None:
    local = api.latex(gated)
    assert r"\bar{z}_y &= \bar{y} y \left(1 - y\right) \\" in local
    doc = api.latex(gated, expanded=True, standalone=True)
    assert doc.startswith("\\documentclass") and r"\bar{z}_y &= y - t \\" in doc


def test_define_accepts_our_expressions_and_invalidates(gated: api.SymModel) -> None:
    m = api.new_model()
    x = m.input("x", (3, 1))
    m.define("q", o.Sum(o.hadamard(m.graph.symbols["x"].var(), m.graph.symbols["x"].var())))
    assert api.gradient(m, "x") == 2 * x
    m.define("r", 3 * m.symbol("q"))
    assert api.gradient(m, "x") == 6 * x  # the loss moved on: adjoints are derived again


def test_errors() -> None:
    m = api.new_model()
    with pytest.raises(ShapeError):
        m.input("x")
    with pytest.raises(SymderivError):
        m.input(3)
    x = m.input("x", ("n", 1))
    with pytest.raises(ModelError):
        api.adjoints(m)  # no loss yet
    m.define("z", 2 * x)
    with pytest.raises(ModelError):
        api.gradient(m, "x")  # the loss must be scalar
    with pytest.raises(SymderivError):
        api.gradient(m, "nope")



def test_new_model_is_a_fresh_symmodel() -> None:
    m = symderiv.new_model()
    assert isinstance(m, api.SymModel) and not m.graph.symbols


SCRIPT = r"""
import sys
import symderiv
import symderiv.api as api
assert "sympy" not in sys.modules, "importing the API must not load SymPy"
import sympy
from sympy import MatrixSymbol, Symbol
from sympy.matrices.expressions.matexpr import MatrixExpr
a, c = sympy.symbols("a c", integer=True, positive=True)
m = api.new_model()
x = m.input(MatrixSymbol("x", a, 1))
W = m.input("W", (c, a))
v = m.input("v", ("c", 1))
t = m.input(Symbol("t"), domain="binary")
z = m.define("z", W * x)
y = m.define("y", symderiv.elementwise("sigma", v.T * z))
m.define("l", -t * sympy.log(y) - (1 - t) * sympy.log(1 - y))
calls = []

def spy(orig):
    def f(self, *symbols, **k):
        names = {str(getattr(s, "name", "")) for s in symbols}
        if names & set(m.graph.symbols) or any(isinstance(s, MatrixExpr) for s in symbols):
            calls.append(symbols)
        return orig(self, *symbols, **k)
    return f
sympy.Expr.diff = spy(sympy.Expr.diff)
MatrixExpr.diff = spy(MatrixExpr.diff)
api.adjoints(m)
api.adjoints(m, expanded=True)
api.latex(m, expanded=True)
assert api.check_expression(m, "W", api.gradient(m, "W")).equal
assert not calls, calls
"""


def test_import_is_cheap_and_never_differentiates_with_sympy() -> None:
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
