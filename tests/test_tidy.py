"""The printing simplifier's rules (derive/tidy.py): each one an identity, checked numerically.

For every rule of `RULES`, hypothesis draws random instances of its pattern (operands are
random well-shaped expressions over the pool of tests/test_simplify.py) and values for the
pool; the rewrite, when the rule fires, must evaluate to the same matrix. Rules that use a
premise are checked on values that satisfy it. Then `tidy` as a whole on random trees, and
the forms it exists for.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_simplify import POOL, _value, env_for_pool, exprs

from symderiv.derive.tidy import RULES, Facts, Tidy, tidy, tidy_all
from symderiv.model import ops as o
from symderiv.model.ops import Expr, Shape
from symderiv.report.latex import to_latex
from symderiv.verify.numeric import Env, close, evaluate

F = Fraction
V = {n: o.Var(n, s) for n, s in POOL.items()}
SQUARE = st.sampled_from([V["A"], V["B"], o.Transpose(V["A"])])
FACTS = Facts(symmetric=frozenset({"A"}), sum1=frozenset({"x"}), rows1=frozenset({"C"}), cols1=frozenset({"D"}))
SHAPES = st.sampled_from([("n", "n"), ("n", "m"), ("n", 1), (1, "m")])


def _e(shape: Shape, depth: int = 2) -> st.SearchStrategy[Expr]:
    return exprs(shape, depth)


@st.composite
def _matmul(draw: st.DrawFn) -> Expr:
    r, k, c = draw(SHAPES)[0], draw(st.sampled_from(["n", "m", 1])), draw(SHAPES)[1]
    a, b = draw(_e((r, k))), draw(_e((k, c)))
    assume(not (a.is_scalar or b.is_scalar))
    return o.MatMul(a, b)


@st.composite
def _binary(draw: st.DrawFn, op: type) -> Expr:
    sh = draw(SHAPES)
    return op(draw(_e(sh)), draw(_e(sh))) if op is o.Hadamard else o.Add((draw(_e(sh)), draw(_e(sh))))


@st.composite
def _elementwise(draw: st.DrawFn) -> Expr:
    sh = draw(SHAPES)
    a = draw(_e(sh))
    return draw(st.sampled_from([o.Apply("tanh", a), o.Apply("sigma", a), o.Pow(a, F(2)), o.Pow(a, F(3)),
                                 o.Inverse(draw(SQUARE))]))


@st.composite
def _scaled(draw: st.DrawFn) -> Expr:
    sh = draw(SHAPES)
    s, x, y = draw(_e((1, 1), 1)), draw(_e(sh)), draw(_e(sh))
    options = [o.Hadamard(x, o.Scale(s, y)), o.Scale(o.const(2), o.Scale(o.const(3), x)),
               o.Transpose(o.Scale(s, x))]
    if sh[1] == "n":
        options.append(o.MatMul(o.Scale(s, x), V["A"]))
    return draw(st.sampled_from(options))


@st.composite
def _like_terms(draw: st.DrawFn) -> Expr:
    sh = draw(SHAPES)
    body = draw(_e(sh))
    s1, s2 = draw(_e((1, 1), 1)), draw(_e((1, 1), 1))
    terms = [o.scale(s1, body), o.scale(s2, o.scale(o.const(-2), body)), draw(_e(sh))]
    return o.Add(tuple(draw(st.permutations(terms))))


@st.composite
def _quotients(draw: st.DrawFn) -> Expr:
    sh = draw(SHAPES)
    a, b = draw(_e(sh, 1)), draw(_e(sh, 1))
    k = draw(st.sampled_from([F(-1), F(-2), F(1)]))
    factors = draw(st.permutations([a, b, o.Pow(a, k)]))
    return o.Hadamard(o.Hadamard(factors[0], factors[1]), factors[2])


@st.composite
def _premised(draw: st.DrawFn) -> Expr:
    return draw(st.sampled_from([
        o.Sum(V["x"]), o.MatMul(o.Ones((1, "n")), V["x"]), o.MatMul(V["C"], o.Ones(("m", 1))),
        o.MatMul(o.Ones((1, "m")), V["D"]), o.MatMul(o.Ones((1, "n")), V["A"])]))


@st.composite
def _trace_of_chain(draw: st.DrawFn) -> Expr:
    col, row, m = draw(_e(("n", 1))), draw(_e((1, "m"))), draw(_e(("m", "n")))
    assume(not (col.is_scalar or row.is_scalar or m.is_scalar))
    return o.Trace(draw(st.sampled_from([o.MatMul(o.MatMul(col, row), m), o.MatMul(m, o.MatMul(col, row)),
                                         o.MatMul(col, o.MatMul(row, m))])))


@st.composite
def _inner_quotient(draw: st.DrawFn) -> Expr:
    u, c = draw(_e(("n", 1), 1)), draw(_e(("n", 1), 1))
    assume(not u.is_scalar)
    k = draw(st.sampled_from([F(-1), F(-2)]))
    return o.MatMul(o.Transpose(u), o.Hadamard(c, o.Pow(u, k)))


@st.composite
def _ratio(draw: st.DrawFn) -> Expr:
    d = draw(st.sampled_from([o.Det(V["A"]), o.Det(V["B"])]) | _e((1, 1), 1))
    inv, rest = o.Pow(d, F(-1)), draw(_e(draw(SHAPES)))
    return draw(st.sampled_from([o.Scale(inv, d), o.Scale(d, inv), o.Scale(inv, o.Scale(d, rest)),
                                 o.Scale(d, o.Scale(inv, rest))]))


CASES: dict[str, st.SearchStrategy[Expr]] = {
    "scalar-ratio": _ratio(),
    "trace-rotation": _trace_of_chain(),
    "inner-product-of-quotient": _inner_quotient(),
    "scalars-out": _scaled(),
    "transpose-of-product": _matmul().map(o.Transpose),
    "transpose-of-sum": _binary(o.Add).map(o.Transpose),
    "transpose-of-hadamard": _binary(o.Hadamard).map(o.Transpose),
    "transpose-of-elementwise": _elementwise().map(o.Transpose),
    "transpose-of-symmetric": st.just(o.Transpose(V["A"])),
    "inverse-of-transpose": SQUARE.map(lambda a: o.Inverse(o.Transpose(a))),
    "like-terms": _like_terms(),
    "negated-sum": _binary(o.Add).map(lambda a: o.Scale(o.const(-1), a)),
    "cancel-quotients": _quotients(),
    "trace-of-scalar": _e((1, 1)).map(o.Trace),
    "normalised-sum": _premised(),
}


def test_every_rule_has_a_case() -> None:
    assert {r.name for r in RULES} == set(CASES)
    assert all(r.identity for r in RULES)


def _satisfying(env: Env) -> Env:
    """The pool's values with the premises of FACTS made true: A symmetric (and well
    conditioned, as the sampler draws matrices it inverts), x summing to 1, rows of C and
    columns of D summing to 1."""
    v = dict(env.values)
    n = v["A"].shape[0]
    v["A"] = (v["A"] + v["A"].T) / 2 + 4 * np.eye(n)
    v["B"] = v["B"] + 4 * np.eye(n)
    v["x"] = np.abs(v["x"]) + 0.5
    v["x"] = v["x"] / v["x"].sum()
    v["C"] = (np.abs(v["C"]) + 0.5) / (np.abs(v["C"]) + 0.5).sum(axis=1, keepdims=True)
    v["D"] = (np.abs(v["D"]) + 0.5) / (np.abs(v["D"]) + 0.5).sum(axis=0, keepdims=True)
    return Env(env.dims, v)


PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.name}:{r.op.__name__}")
@PROPERTY
@given(data=st.data(), env=env_for_pool())
def test_rule_is_an_identity(rule, data: st.DataObject, env: Env) -> None:
    e = data.draw(CASES[rule.name].filter(lambda x: isinstance(x, rule.op)), label="instance")
    env = _satisfying(env)
    before = _value(e, env)
    got = rule.rewrite(e, Tidy(FACTS))
    assume(got is not None)
    assert close(evaluate(got, env), before), f"{rule.name}: {to_latex(e)} -> {to_latex(got)}"


@pytest.mark.slow
@PROPERTY
@given(e=SHAPES.flatmap(lambda s: exprs(s, 4)), env=env_for_pool())
def test_tidy_keeps_the_value(e: Expr, env: Env) -> None:
    env = _satisfying(env)
    before = _value(e, env)
    got = tidy(e, FACTS)
    assert o.same(got.shape[0], e.shape[0]) and o.same(got.shape[1], e.shape[1])
    assert close(evaluate(got, env), before), f"{to_latex(e)} -> {to_latex(got)}"
    assert to_latex(tidy(got, FACTS)) == to_latex(got)  # a fixed point


X, x, t = V["A"], V["x"], V["y"]
B = V["B"]


@pytest.mark.parametrize("expr,printed", [
    (o.Transpose(o.MatMul(o.transpose(B), o.transpose(X))), "X B"),
    (o.add(o.transpose(o.matmul(o.transpose(x), o.transpose(B))), o.transpose(o.matmul(o.transpose(x), B))),
     r"B x + B^\top x"),
    (o.Transpose(o.Inverse(B)), r"B^{-\top}"),
    (o.Inverse(o.transpose(B)), r"B^{-\top}"),
    (o.hadamard(o.neg(t), o.hadamard(x, o.power(t, F(-1)))), "-x"),
    (o.Trace(o.matmul(o.transpose(x), x)), r"x^\top x"),
    (o.add(o.scale(V["s"], x), o.scale(V["t"], x)), r"\left(s + t\right) x"),
    (o.Transpose(o.MatMul(o.MatMul(X, X), o.Transpose(B))), r"B \left(X^{2}\right)^\top"),
    (o.MatMul(o.MatMul(o.MatMul(X, X), X), x), r"X^{3} x"),
    (o.Inverse(o.MatMul(X, X)), r"X^{-2}"),
    (o.scale(o.const(-1), o.add(V["s"], o.neg(V["t"]))), r"t - s"),
    (o.Trace(o.MatMul(o.MatMul(x, o.transpose(x)), B)), r"x^\top B x"),
    (o.add(o.Scale(o.Scale(o.Pow(o.Det(B), F(-1)), o.Det(B)), o.Transpose(o.Inverse(B))), o.Transpose(X)),
     r"B^{-\top} + X^\top"),  # the log-det gradient, local form
])
def test_readable_forms(expr: Expr, printed: str) -> None:
    assert to_latex(tidy(expr, Facts())) == printed.replace("X", "A")


def test_nodes_a_constructor_makes_are_tidied_too() -> None:
    """(A + A)^T with A symmetric: the sum becomes 2 A, the transpose constructor pushes the 2
    out (2 A^T), and that new A^T is tidied as well: one call reaches the fixed point."""
    once = tidy(o.Transpose(o.add(X, X)), FACTS)
    assert to_latex(once) == "2 A" == to_latex(tidy(once, FACTS))


def test_premises_give_the_textbook_form() -> None:
    """Softmax cross-entropy's gradient, as derived, is `y - t` once `1^T t = 1` is stated."""
    y, tt = o.Var("y", ("k", 1)), o.Var("t", ("k", 1))
    derived = o.add(o.neg(o.hadamard(y, o.hadamard(tt, o.power(y, F(-1))))),
                    o.scale(o.matmul(o.Ones((1, "k")), o.hadamard(y, o.hadamard(tt, o.power(y, F(-1))))), y))
    assert to_latex(tidy(derived, Facts(sum1=frozenset({"t"})))) == "y - t"
    assert to_latex(tidy(derived, Facts())) == r"\left(\mathbf{1}^\top t\right) y - t"
    C = o.Var("C", ("n", "n"))
    assert to_latex(tidy(o.add(o.matmul(C, x), o.matmul(o.transpose(C), x)), Facts(symmetric=frozenset({"C"})))) \
        == "2 C x"


def test_deep_and_shared_stays_linear() -> None:
    """A DAG shared 2^60 ways is tidied once per node."""
    e: Expr = X
    for _ in range(60):
        e = o.add(o.transpose(o.matmul(e, B)), o.matmul(B, e))
    got = tidy_all([e, e])
    assert got[0] is got[1]


def test_repairs_are_shown_in_the_simplest_form() -> None:
    """A "did you mean" repair is printed tidied when that is shorter than the edited text."""
    from symderiv.report.answers import hint_text
    from symderiv.verify.verdicts import Step
    h, y, tt = o.Var("h", ("n", 1)), o.Var("y", ("m", 1)), o.Var("t", ("m", 1))
    written = r"\left(h \left(y - t\right)^\top\right)^\top"
    meaning = o.Transpose(o.MatMul(h, o.Transpose(o.sub(y, tt))))
    step = Step("x", "invalid", "shape", hint=f"did you mean {written}? It would then be correct",
                repair=(written, meaning))
    assert hint_text(step) == r"did you mean \left(y - t\right) h^\top? It would then be correct"
    short = Step("x", "invalid", "shape", hint="did you mean h? (It would still not be right)", repair=("h", h))
    assert hint_text(short) == short.hint
