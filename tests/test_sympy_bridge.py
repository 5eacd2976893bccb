"""to_sympy / from_sympy: round trips checked numerically.

`to_sympy(e)` with the dims substituted and evaluated (explicitly, by SymPy) on an instance's
values must equal `evaluate(e, env)`; `from_sympy(to_sympy(e))` must evaluate the same too.
SymPy's own evaluation of matrix expressions misbehaves at sizes of 1 (an elementwise
function of a 1x1 `MatrixSymbol` is applied to the matrix itself), so the SymPy side is
evaluated at the smallest instance whose sizes are all >= 2; our side at every instance.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagonalOf

from symderiv.derive.adjoints import derive
from symderiv.derive.scalar import scalar_simplify
from symderiv.errors import UnknownSymbolError, UnsupportedError
from symderiv.model import ops as o
from symderiv.model.graph import Model
from symderiv.model.sympy_bridge import elementwise, from_sympy, lambdas, to_sympy
from symderiv.verify.equivalence import Instances, agree
from symderiv.verify.numeric import Env, close, evaluate

F = Fraction


def _explicit_scalar(x: sp.Expr) -> sp.Expr:
    for _ in range(10):
        inner = x.find(lambda y: isinstance(y, MatrixExpr) and not isinstance(y, sp.MatrixSymbol))
        if not inner:
            break
        x = x.xreplace({m: m.as_explicit() for m in inner}).doit()
    return x


def sym_eval(e: sp.Basic, env: Env, dims: dict[str, sp.Symbol]) -> np.ndarray:
    """Evaluate a SymPy (matrix) expression: dims substituted, values in, `as_explicit()`."""
    e = e.subs({dims[d]: n for d, n in env.dims.items() if d in dims})
    # SymPy's DiagonalOf cannot hold an explicit matrix: make it explicit while still symbolic
    e = e.xreplace({d: d.as_explicit() for d in e.find(lambda y: isinstance(y, DiagonalOf))})
    reps = {}
    for s in e.free_symbols:
        name = s.name
        val = env.bars[name[5:-1]] if name.startswith("\\bar{") else env.values[name]
        reps[s] = sp.ImmutableMatrix(val) if isinstance(s, sp.MatrixSymbol) else sp.Float(val[0, 0])
    e = e.xreplace(reps)
    m = e.as_explicit() if isinstance(e, MatrixExpr) else sp.ImmutableMatrix([[e]])
    m = m.applyfunc(_explicit_scalar)
    return np.array([[float(x.doit().evalf()) for x in row] for row in m.tolist()])


def _models() -> dict[str, Model]:
    import conftest
    from test_latex_roundtrip import kitchen
    out = {name: make().model for name, make in conftest.ZOO.items()}
    out["kitchen"] = kitchen()
    return out


MODELS = _models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip(name: str) -> None:
    model = MODELS[name]
    adj = derive(model)
    inst = Instances(adj)
    env = min((e for e in inst.envs if min(e.dims.values(), default=2) >= 2),
              key=lambda e: sum(e.dims.values()))
    exprs = [model.symbols[n].definition for n in model.nodes]
    for n in adj.order():
        exprs += [adj.local[n], scalar_simplify(adj.expanded(n))]
    for e in exprs:
        dims: dict[str, sp.Symbol] = {}
        s = to_sympy(e, dims)
        want = evaluate(e, env)
        assert close(sym_eval(s, env, dims), want), f"to_sympy: {s}"
        back = from_sympy(s, model)
        assert agree(inst.values(back), inst.values(e)), f"from_sympy: {s}"


def test_forms() -> None:
    m = Model()
    x = m.declare("x", ("a", 1))
    W = m.declare("W", ("c", "a"))
    t = m.declare("t", (1, 1))
    z = m.define("z", o.matmul(W, x))
    m.define("l", o.Sum(o.apply("sigma", z)))
    dims: dict[str, sp.Symbol] = {}
    s = to_sympy(o.matmul(o.Bar("z", ("c", 1)), o.transpose(x)), dims)
    a, c = dims["a"], dims["c"]
    assert a.is_integer and a.is_positive
    assert s == sp.MatrixSymbol("\\bar{z}", c, 1) * sp.MatrixSymbol("x", a, 1).T
    assert to_sympy(t) == sp.Symbol("t")
    assert to_sympy(o.apply("sigma", t)) == 1 / (1 + sp.exp(-sp.Symbol("t")))
    eaf = to_sympy(o.apply("tanh", z), dims)
    assert isinstance(eaf, ElementwiseApplyFunction) and eaf.function == lambdas()["tanh"]
    assert from_sympy(eaf, m).fn == "tanh"  # type: ignore[attr-defined]
    assert to_sympy(o.Ones(("c", 1)), dims) == sp.OneMatrix(c, 1)
    assert to_sympy(o.Eye("a"), dims) == sp.Identity(a)


def _model() -> tuple[Model, dict[str, sp.Basic]]:
    m = Model()
    n = sp.Symbol("n", integer=True, positive=True)
    syms = {"x": sp.MatrixSymbol("x", n, 1), "A": sp.MatrixSymbol("A", n, n), "t": sp.Symbol("t"),
            "u": sp.MatrixSymbol("u", n, 1)}
    m.declare("x", ("n", 1), "positive")
    m.declare("A", ("n", "n"))
    m.declare("t", (1, 1), "positive")
    m.declare("u", ("n", 1))
    m.define("l", o.add(o.matmul(o.transpose(m.symbols["x"].var()), m.symbols["u"].var()),
                        o.Det(m.symbols["A"].var()), m.symbols["t"].var()))
    syms["n"] = n
    return m, syms


def _hand_built() -> list[tuple[str, sp.Basic, o.Expr]]:
    m, s = _model()
    x, A, t, u, n = s["x"], s["A"], s["t"], s["u"], s["n"]
    X, T, U = (m.symbols[k].var() for k in ("x", "t", "u"))
    Av = m.symbols["A"].var()
    ones = o.Ones(("n", 1))
    return [
        ("sigma lambda", ElementwiseApplyFunction(sp.Lambda(sp.Symbol("q"), 1 / (1 + sp.exp(-sp.Symbol("q")))), u),
         o.apply("sigma", U)),
        ("sigma scalar", 1 / (1 + sp.exp(-t)), o.apply("sigma", T)),
        ("softplus", sp.log(1 + sp.exp(t)), o.apply("softplus", T)),
        ("relu", sp.Max(t, 0), o.apply("relu", T)),
        ("step", sp.Heaviside(t, 0), o.apply("step", T)),
        ("sigma function", sp.Function("sigma")(t), o.apply("sigma", T)),
        ("tanh class", ElementwiseApplyFunction(sp.tanh, A * x), o.apply("tanh", o.matmul(Av, X))),
        ("lambda body", ElementwiseApplyFunction(sp.Lambda(sp.Symbol("q"), 1 - sp.tanh(sp.Symbol("q")) ** 2), u),
         o.apply("dtanh", U)),
        ("dsigma", elementwise("dsigma", u), o.apply("dsigma", U)),
        ("inverse", A.I * x, o.matmul(o.Inverse(Av), X)),
        ("matpow -1", sp.MatPow(A, -1) * x, o.matmul(o.Inverse(Av), X)),
        ("matpow 2", sp.MatPow(A, 2) * x, o.matmul(Av, o.matmul(Av, X))),
        ("hadamard power", sp.HadamardPower(x, -1) + sp.hadamard_product(x, u), o.add(o.power(X, F(-1)), o.hadamard(X, U))),
        ("trace det", (sp.Trace(A) + sp.Determinant(A)) * x, o.scale(o.add(o.Trace(Av), o.Det(Av)), X)),
        ("identity ones zero", (sp.Identity(n) + sp.OneMatrix(n, n)) * x + sp.ZeroMatrix(n, 1),
         o.matmul(o.add(o.Eye("n"), o.Ones(("n", "n"))), X)),
        ("diag", sp.DiagMatrix(x) * u, o.matmul(o.Diag(X), U)),
        ("diag row", sp.DiagMatrix(x.T) * u, o.matmul(o.Diag(X), U)),
        ("diagonal of", sp.DiagonalOf(A), o.DiagPart(Av)),
        ("scalars", t ** 2 / 3 + sp.Trace(x.T * u) / 2, o.add(o.scale(o.const(F(1, 3)), o.power(T, F(2))),
                                                                  o.scale(o.const(F(1, 2)), o.matmul(o.transpose(X), U)))),
        ("1x1 as trace", sp.Trace(x.T * u) * x, o.scale(o.matmul(o.transpose(X), U), X)),
        ("entry of 1x1", (sp.OneMatrix(1, 1) * sp.Trace(x.T * u))[0, 0] * x, o.scale(o.matmul(o.transpose(X), U), X)),
        ("float", sp.Float(0.25) * x, o.scale(o.const(F(1, 4)), X)),
        ("exp log", ElementwiseApplyFunction(sp.exp, x) + ElementwiseApplyFunction(sp.log, x),
         o.add(o.apply("exp", X), o.apply("log", X))),
        ("one minus", sp.OneMatrix(n, 1) - x, o.sub(ones, X)),
    ]


HAND_BUILT = _hand_built()


@pytest.mark.parametrize("name,sym,want", HAND_BUILT, ids=[c[0] for c in HAND_BUILT])
def test_from_sympy_hand_built(name: str, sym: sp.Basic, want: o.Expr) -> None:
    m, _ = _model()
    inst = Instances(derive(m))
    got = from_sympy(sym, m)
    assert agree(inst.values(got), inst.values(want))


def test_from_sympy_errors() -> None:
    m, s = _model()
    with pytest.raises(UnknownSymbolError):
        from_sympy(sp.MatrixSymbol("nope", s["n"], 1), m)
    with pytest.raises(UnsupportedError):
        from_sympy(sp.gamma(s["t"]), m)
    with pytest.raises(UnsupportedError):
        from_sympy(s["t"] ** s["t"], m)


def test_deep_round_trip() -> None:
    """A 64-layer expression both ways, without recursion."""
    m = Model()
    h = m.declare("x", ("d", 1))
    e: o.Expr = h
    for i in range(1, 65):
        w = m.declare(f"W_{{{i}}}", ("d", "d"))
        e = o.apply("tanh", o.matmul(w, e))
    m.define("l", o.Sum(e))
    back = from_sympy(to_sympy(e), m)
    inst = Instances(derive(m))
    assert agree(inst.values(back), inst.values(e))
