"""The public SymPy API on a 1024-layer network: no RecursionError, no exception (speed is
bench/bench_sympy_api.py's, not asserted here)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symderiv
from symderiv.errors import UnsupportedError
from symderiv.model import ops as o
from symderiv.model.sympy_bridge import MAX_SYMPY_DEPTH, from_sympy, to_sympy


def _tanh_network(layers: int) -> symderiv.SymModel:
    n = sp.Symbol("n", integer=True, positive=True)
    m = symderiv.new_model()
    h = m.input(sp.MatrixSymbol("x", n, 1))
    for k in range(layers):
        w = m.input(sp.MatrixSymbol(f"W_{k}", n, n))
        h = m.define(f"h_{k + 1}", symderiv.elementwise("tanh", w * h))
    m.define("l", h.T * h)
    return m


def _names(e: sp.Basic) -> set[str]:
    """The MatrixSymbols of `e`, by an iterative walk (SymPy's own walks recurse)."""
    out, stack, seen = set(), [e], set()
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, sp.MatrixSymbol):
            out.add(str(x.name))
        stack.extend(a for a in x.args if isinstance(a, sp.Basic))
    return out


def test_1024_layers_adjoints_latex_and_gradient() -> None:
    m = _tanh_network(1024)
    adj = symderiv.adjoints(m)
    assert len(adj) == 2 * 1024 + 2 and isinstance(adj["W_0"], sp.MatrixExpr)
    tex = symderiv.latex(m)
    assert tex.count("\\bar{W}_{1023}") >= 1 or "W_{1023}" in tex
    g = symderiv.gradient(m, "W_1")
    assert g.shape == (sp.Symbol("n", integer=True, positive=True),) * 2
    names = _names(g)  # the gradient of W_1 reaches through every later layer
    assert {"W_2", "W_512", "W_1023", "h_1", "h_1024"} <= names and "W_0" not in names
    back = from_sympy(g, m.graph)  # and reads back as the same expression, numerically
    inst = m.instances()
    assert all(np.allclose(a, b, rtol=1e-9, atol=1e-12)
               for a, b in zip(inst.values(back), inst.bars("W_1")))


def test_a_depth_sympy_cannot_hold_is_a_clear_error() -> None:
    e: o.Expr = o.Var("x", ("n", 1))
    for _ in range(MAX_SYMPY_DEPTH):  # with the leaf: one level too many
        e = o.apply("tanh", e)
    with pytest.raises(UnsupportedError, match=f"nested {MAX_SYMPY_DEPTH + 1} levels deep"):
        to_sympy(e)
