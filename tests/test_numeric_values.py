"""Numeric values: `numeric.Shared` (the values of a sheet's expressions, each distinct
subexpression evaluated once per instance) must give exactly the values of evaluating each
expression alone; `close` never lets a non-finite value agree."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_simplify import ANY_SHAPE, MODEL, env_for_pool, exprs

from symderiv.errors import UnsupportedError
from symderiv.model import ops as o
from symderiv.model.shapes import SizeVar, unify
from symderiv.verify import numeric
from symderiv.verify.equivalence import Instances
from symderiv.verify.numeric import RTOL, Env, Shared, close, evaluate_all
from symderiv.verify.strategies import values


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(es=st.lists(ANY_SHAPE.flatmap(exprs), min_size=1, max_size=5), a=env_for_pool(), data=st.data())
def test_shared_values_are_each_expressions_own(es, a: Env, data) -> None:
    """Evaluated one after another through one Shared (so later ones reuse earlier ones'
    subexpressions), on two instances of possibly different sizes, and once more."""
    b = data.draw(values(MODEL, {"n": data.draw(st.integers(1, 4)), "m": data.draw(st.integers(1, 4))}))
    shared = Shared()
    for e in es + es[::-1]:
        with np.errstate(all="ignore"):
            alone = evaluate_all(e, [a, b])
        for got, want in zip(shared.values(e, [a, b]), alone):
            np.testing.assert_array_equal(got, want)


def _env() -> Env:
    return Env({"n": 2, "m": 3}, {"x": np.arange(2.0).reshape(2, 1), "y": np.ones((3, 1))})


def test_a_subexpression_met_before_is_not_evaluated_again(monkeypatch) -> None:
    x, y = o.Var("x", ("n", 1)), o.Var("y", ("m", 1))
    inner = o.apply("tanh", o.matmul(x, o.transpose(y)))
    env, shared = _env(), Shared()
    shared.values(inner, [env])
    seen: list[type] = []
    real = numeric._apply
    monkeypatch.setattr(numeric, "_apply", lambda e, args, env: seen.append(type(e)) or real(e, args, env))
    again = o.add(o.apply("tanh", o.matmul(x, o.transpose(y))), o.Ones(("n", "m")))  # new nodes, same tanh
    got = shared.values(again, [env])[0]
    assert sorted(t.__name__ for t in seen) == ["Add", "Ones"]
    np.testing.assert_array_equal(got, np.tanh(env.values["x"] @ env.values["y"].T) + 1)


def test_sizes_bound_later_do_not_share_a_value() -> None:
    """Two ones vectors of unknown size key alike ("?") until their sizes are bound: by then
    an earlier key must not make them one value."""
    p, q = SizeVar(), SizeVar()
    first, second = o.Ones((p, 1)), o.Ones((q, 1))
    env, shared = _env(), Shared()
    for e in (first, second):
        with pytest.raises(UnsupportedError):
            shared.values(e, [env])
    unify(p, "n")
    unify(q, "m")
    assert shared.values(first, [env])[0].shape == (2, 1)
    assert shared.values(second, [env])[0].shape == (3, 1)


def test_shared_values_cannot_be_changed_in_place() -> None:
    x = o.Var("x", ("n", 1))
    v = Shared().values(o.add(x, x), [_env()])[0]
    with pytest.raises(ValueError):
        v += 1


def test_every_sheet_has_its_own_shared_values() -> None:
    from symderiv.derive.adjoints import derive
    from symderiv.model.graph import Model
    m = Model()
    m.declare("x", ("n", 1))
    m.define("L", o.Sum(o.apply("tanh", o.Var("x", ("n", 1)))))
    base = Instances(derive(m))
    one, two = base.fresh(), base.fresh()
    assert one._shared is not two._shared and one._shared is not base._shared


INF, NAN = np.inf, np.nan


@pytest.mark.parametrize(("a", "b"), [(INF, 1.0), (-INF, 1.0), (NAN, 1.0), (1.0, INF), (1.0, NAN), (INF, INF),
                                      (NAN, NAN), (-INF, -INF)])
def test_close_never_agrees_on_a_non_finite_value(a: float, b: float) -> None:
    x, y = np.array([[0.5, a]]), np.array([[0.5, b]])
    assert not close(x, y) and not close(y, x)


def test_close_is_relative_to_the_truth_and_needs_one_shape() -> None:
    b = np.array([[1e6, -2.0]])
    assert close(b + 0.5 * RTOL * 1e6, b)
    assert not close(b + 4 * RTOL * 1e6, b)
    assert not close(b.T, b)
    assert close(np.zeros((0, 1)), np.zeros((0, 1)))


def test_the_students_world_recomputes_only_what_their_answers_change() -> None:
    """An adjoint none of whose read adjoints is (or follows from) a student's answer is the
    truth; the world equals recomputing every adjoint from the student's answers."""
    from pathlib import Path

    from symderiv.derive.adjoints import derive
    from symderiv.load import load_model
    problem = Path(__file__).resolve().parent.parent / "derivations" / "gated-unit" / "problem.md"
    model = load_model([str(problem)])
    adj = derive(model)
    base = Instances(adj)
    order = model.backward_order()
    for wrong in [n for n in model.nodes if n != model.loss]:  # each node's adjoint doubled, as a student's answer
        overrides = {wrong: o.scale(o.const(2), o.Bar(wrong, model.shape(wrong)))}
        fast = base.fresh().world(overrides, (wrong,))[0]
        every = base.fresh()
        every._reads = {n: set(order) for n in order}  # as if each adjoint read all the others
        slow = every.world(overrides, (wrong,))[0]
        for a, b in zip(fast, slow):
            for n in order:
                np.testing.assert_allclose(a[n], b[n], rtol=1e-12, atol=1e-12)
        assert any(not np.allclose(a[n], base.bars(n)[i]) for i, a in enumerate(fast) for n in order), wrong
