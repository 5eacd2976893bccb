"""`simplify`, `rebuild` and `substitute` never change a value.

Hypothesis draws random, well-shaped expression trees (with shared subtrees) over a fixed
pool of symbols, through the smart constructors, and values for the pool through
`symderiv.verify.strategies`; the rewritten expression must evaluate to the same matrix.
"""
from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symderiv.derive.simplify import rebuild, simplify, substitute
from symderiv.model import ops as o
from symderiv.model.graph import Model
from symderiv.model.ops import Expr, Shape
from symderiv.model.walk import nodes
from symderiv.verify.equivalence import structurally_equal
from symderiv.verify.numeric import Env, close, evaluate
from symderiv.verify.strategies import values

POOL: dict[str, Shape] = {
    "A": ("n", "n"), "B": ("n", "n"), "C": ("n", "m"), "D": ("m", "n"),
    "x": ("n", 1), "y": ("n", 1), "u": ("m", 1), "s": (1, 1), "t": (1, 1),
}
DIMS: tuple[o.Dim, ...] = ("n", "m", 1)
DEPTH = 4


def pool_model() -> Model:
    m = Model()
    for name, shape in POOL.items():
        m.declare(name, shape)
    return m


MODEL = pool_model()


def _leaves(shape: Shape) -> st.SearchStrategy[Expr]:
    options: list[Expr] = [o.Var(n, s) for n, s in POOL.items() if s == shape]
    if shape == (1, 1):
        options += [o.const(2), o.const(Fraction(-1, 2))]
    else:
        options += [o.Ones(shape), o.Zero(shape)]
    if shape[0] == shape[1] and shape != (1, 1):
        options.append(o.Eye(shape[0]))
    return st.sampled_from(options)


def _shared(e: Expr) -> st.SearchStrategy[Expr]:
    """The same node used twice: what `_collect` folds (a + a, a - a) and sharing keeps."""
    return st.sampled_from([o.add(e, e), o.sub(e, e), o.hadamard(e, e), o.add(e, o.scale(o.const(3), e)),
                            o.sub(o.scale(o.const(2), e), e)])


@cache
def exprs(shape: Shape, depth: int = DEPTH) -> st.SearchStrategy[Expr]:
    """Expressions of a given shape. Shrinks towards a leaf of the pool."""
    leaves = _leaves(shape)
    if depth == 0:
        return leaves

    def sub(sh: Shape) -> st.SearchStrategy[Expr]:
        return exprs(sh, depth - 1)

    r, c = shape
    options = [
        st.builds(o.add, sub(shape), sub(shape)),
        st.builds(o.sub, sub(shape), sub(shape)),
        st.builds(o.neg, sub(shape)),
        st.builds(o.scale, sub((1, 1)), sub(shape)),
        st.builds(o.hadamard, sub(shape), sub(shape)),
        st.builds(o.transpose, sub((c, r))),
        *[st.builds(o.matmul, sub((r, k)), sub((k, c))) for k in DIMS],
        st.builds(o.apply, st.sampled_from(["sigma", "tanh", "dtanh", "softplus"]), sub(shape)),
        st.builds(o.power, sub(shape), st.sampled_from([Fraction(2), Fraction(3)])),
        sub(shape).flatmap(_shared),
    ]
    if shape == (1, 1):
        options += [st.builds(o.Trace, sub(("n", "n"))), st.builds(o.Sum, sub(("m", "n")))]
    if c == 1 and r != 1:
        options += [st.builds(o.DiagPart, sub((r, r))), st.builds(o.Softmax, sub(shape))]
    if r == c and r != 1:
        options.append(st.builds(o.Diag, sub((r, 1))))
    return st.one_of(leaves, *options)


ANY_SHAPE = st.sampled_from([("n", "n"), ("n", "m"), ("n", 1), (1, 1), (1, "m")])


@st.composite
def env_for_pool(draw: st.DrawFn) -> Env:
    sizes = {"n": draw(st.integers(1, 4)), "m": draw(st.integers(1, 4))}
    return draw(values(MODEL, sizes))


def _value(e: Expr, env: Env) -> np.ndarray:
    v = evaluate(e, env)
    assume(np.all(np.isfinite(v)) and np.max(np.abs(v), initial=0.0) < 1e8)
    return v


def _same_shape(a: Expr, b: Expr) -> bool:
    return o.same(a.shape[0], b.shape[0]) and o.same(a.shape[1], b.shape[1])


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                          HealthCheck.too_slow])


@pytest.mark.slow
@PROPERTY
@given(e=ANY_SHAPE.flatmap(exprs), env=env_for_pool())
def test_simplify_preserves_value(e: Expr, env: Env) -> None:
    before = _value(e, env)
    s = simplify(e)
    assert _same_shape(s, e)
    after = evaluate(s, env)
    assert close(after, before), f"{e}\n->\n{s}\n{before}\nvs\n{after}"


@pytest.mark.slow
@PROPERTY
@given(e=ANY_SHAPE.flatmap(exprs), env=env_for_pool())
def test_simplify_twice_preserves_value(e: Expr, env: Env) -> None:
    before = _value(e, env)
    assert close(evaluate(simplify(simplify(e)), env), before)


@pytest.mark.slow
@PROPERTY
@given(e=ANY_SHAPE.flatmap(exprs), env=env_for_pool())
def test_rebuild_preserves_value(e: Expr, env: Env) -> None:
    before = _value(e, env)
    r = rebuild(e)
    assert _same_shape(r, e)
    assert close(evaluate(r, env), before)


@pytest.mark.slow
@PROPERTY
@given(e=ANY_SHAPE.flatmap(exprs), name=st.sampled_from(sorted(POOL)), data=st.data(), env=env_for_pool())
def test_substitute_var_is_evaluation_with_the_replaced_value(e: Expr, name: str, data: st.DataObject,
                                                              env: Env) -> None:
    """e[name := r] evaluates as e does where name has r's value."""
    r = data.draw(exprs(POOL[name], 1), label="replacement")
    rv = _value(r, env)
    replaced = substitute(e, {name: r}, kind=o.Var)
    assert _same_shape(replaced, e)
    env2 = Env(env.dims, {**env.values, name: rv})
    assert close(evaluate(replaced, env), _value(e, env2))


@pytest.mark.slow
@PROPERTY
@given(e=ANY_SHAPE.flatmap(exprs), data=st.data(), env=env_for_pool())
def test_substitute_bars_is_evaluation_with_those_adjoints(e: Expr, data: st.DataObject, env: Env) -> None:
    """Turn some Vars into Bars, give the Bars values through expressions, substitute back."""
    names = data.draw(st.sets(st.sampled_from(sorted(POOL)), min_size=1), label="names")
    with_bars = substitute(e, {n: o.Bar(n, POOL[n]) for n in names}, kind=o.Var)
    repl = {n: data.draw(exprs(POOL[n], 1), label=f"bar {n}") for n in names}
    env.bars = {n: _value(r, env) for n, r in repl.items()}
    expected = _value(with_bars, env)
    got = substitute(with_bars, repl)
    assert not any(isinstance(x, o.Bar) for x in _nodes(got))
    assert close(evaluate(got, env), expected)


def _nodes(e: Expr) -> list[Expr]:
    return list(nodes(e))


# ---- the rewrite rules, one identity each --------------------------------------------------

A = o.Var("A", ("n", "n"))
B = o.Var("B", ("n", "n"))
S = o.Var("s", (1, 1))


def test_collect_like_terms() -> None:
    assert structurally_equal(simplify(o.add(A, A)), o.scale(o.const(2), A))
    assert isinstance(simplify(o.sub(A, A)), o.Zero)
    assert structurally_equal(simplify(o.add(o.scale(o.const(3), A), B, o.neg(A))),
                              o.add(o.scale(o.const(2), A), B))


def test_scalars_move_out_of_products() -> None:
    assert structurally_equal(simplify(o.MatMul(o.Scale(S, A), B)), o.scale(S, o.matmul(A, B)))
    assert structurally_equal(simplify(o.Hadamard(A, o.Scale(S, B))), o.scale(S, o.hadamard(A, B)))
    assert structurally_equal(simplify(o.Transpose(o.Scale(S, A))), o.scale(S, o.transpose(A)))


def test_sharing_survives_rebuild() -> None:
    """A DAG with a node shared 2^k ways is rebuilt in linear time, still shared."""
    e: Expr = A
    for _ in range(60):
        e = o.add(o.matmul(e, B), o.matmul(B, e))
    r = simplify(e)
    assert len(_nodes(r)) <= 4 * 60 + 4
