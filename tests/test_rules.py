"""Every vector-Jacobian rule and every elementwise derivative against central differences.

One test per identity, parametrized by the rule's name, so a failure names the rule. A
case is a one-node model `C = op(args...)` built with the smart constructors plus a
cotangent input `G` of C's shape; hypothesis draws sizes (distinct >= 2, or the size-1
edges) and values (through `symderiv.verify.strategies`, so log/pow inputs are positive and
inverse/det inputs well-conditioned). The check is <G, dC> = <rule output, dA> for every
entry of the argument A: the rule's output against the central difference
(<G, C(A + h e)> - <G, C(A - h e)>) / 2h, in float64 with h = 1e-6.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symderiv.derive import rules
from symderiv.derive.rules import DERIVATIVES, RULES, rule_for
from symderiv.model import ops as o
from symderiv.model.elementwise import BY_NAME, FUNCTIONS
from symderiv.model.graph import Model
from symderiv.verify.numeric import FUNCS, Env, evaluate
from symderiv.verify.strategies import instances

STEP = 1e-6
TOL = 1e-6
MAX_SIZE = 5
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@dataclass(frozen=True)
class RuleCase:
    """`build(m)` declares the operands in `m` and returns (node, index of the argument)."""

    rule: str
    variant: str
    build: Callable[[Model], tuple[o.Expr, int]]

    @property
    def id(self) -> str:
        return f"{self.rule}[{self.variant}]" if self.variant else self.rule


def _matmul(i: int) -> Callable[[Model], tuple[o.Expr, int]]:
    return lambda m: (o.matmul(m.declare("A", ("m", "k")), m.declare("B", ("k", "n"))), i)


def _matvec(i: int) -> Callable[[Model], tuple[o.Expr, int]]:
    return lambda m: (o.matmul(m.declare("A", ("m", "k")), m.declare("x", ("k", 1))), i)


def _add(m: Model) -> tuple[o.Expr, int]:
    return o.add(m.declare("A", ("m", "n")), m.declare("B", ("m", "n")), m.declare("D", ("m", "n"))), 1


def _scale(shape: o.Shape, i: int) -> Callable[[Model], tuple[o.Expr, int]]:
    return lambda m: (o.scale(m.declare("s", (1, 1)), m.declare("B", shape)), i)


def _hadamard(i: int) -> Callable[[Model], tuple[o.Expr, int]]:
    return lambda m: (o.hadamard(m.declare("A", ("m", "n")), m.declare("B", ("m", "n"))), i)


def _unary(make: Callable[[o.Expr], o.Expr], shape: o.Shape) -> Callable[[Model], tuple[o.Expr, int]]:
    return lambda m: (make(m.declare("X", shape)), 0)


MN: o.Shape = ("m", "n")
NN: o.Shape = ("n", "n")
COL: o.Shape = ("n", 1)

CASES = [
    RuleCase("matmul_left", "matrix", _matmul(0)),
    RuleCase("matmul_right", "matrix", _matmul(1)),
    RuleCase("matmul_left", "vector", _matvec(0)),
    RuleCase("matmul_right", "vector", _matvec(1)),
    RuleCase("add_term", "", _add),
    RuleCase("scale_scalar", "scalar", _scale((1, 1), 0)),
    RuleCase("scale_scalar", "column", _scale(COL, 0)),
    RuleCase("scale_scalar", "matrix", _scale(MN, 0)),
    RuleCase("scale_matrix", "column", _scale(COL, 1)),
    RuleCase("scale_matrix", "matrix", _scale(MN, 1)),
    RuleCase("hadamard_left", "", _hadamard(0)),
    RuleCase("hadamard_right", "", _hadamard(1)),
    RuleCase("transpose_arg", "", _unary(o.transpose, MN)),
    RuleCase("apply_arg", "tanh", _unary(lambda x: o.apply("tanh", x), MN)),
    RuleCase("apply_arg", "sigma", _unary(lambda x: o.apply("sigma", x), MN)),
    *[RuleCase("pow_arg", str(k), _unary(lambda x, k=k: o.power(x, k), MN))
      for k in (Fraction(2), Fraction(3), Fraction(-1), Fraction(1, 2), Fraction(-3, 2))],
    RuleCase("inverse_arg", "", _unary(o.Inverse, NN)),
    RuleCase("det_arg", "", _unary(o.Det, NN)),
    RuleCase("trace_arg", "", _unary(o.Trace, NN)),
    RuleCase("sum_arg", "", _unary(o.Sum, MN)),
    RuleCase("diag_arg", "", _unary(o.Diag, COL)),
    RuleCase("diagpart_arg", "", _unary(o.DiagPart, NN)),
    RuleCase("softmax_arg", "", _unary(o.Softmax, COL)),
    RuleCase("logsoftmax_arg", "", _unary(o.LogSoftmax, COL)),
]


def _one_node_model(case: RuleCase) -> tuple[Model, o.Expr, int, o.Var, o.Var]:
    """The model `C = node` with a cotangent input G; returns (model, node, i, C, G)."""
    m = Model()
    node, i = case.build(m)
    g = m.declare("G", node.shape)
    c = m.define("C", node)
    return m, node, i, c, g


def _with(env: Env, name: str, value: np.ndarray) -> Env:
    values = dict(env.values)
    values[name] = value
    return Env(env.dims, values)


def _central_gradient(f: Callable[[Env], float], env: Env, name: str) -> np.ndarray:
    base = env.values[name]
    grad = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[idx] += STEP
        minus[idx] -= STEP
        grad[idx] = (f(_with(env, name, plus)) - f(_with(env, name, minus))) / (2 * STEP)
    return grad


def assert_close_fd(analytic: np.ndarray, fd: np.ndarray, what: str) -> None:
    assert analytic.shape == fd.shape, f"{what}: shape {analytic.shape} vs {fd.shape}"
    scale = max(1.0, float(np.max(np.abs(fd), initial=0.0)))
    err = float(np.max(np.abs(analytic - fd), initial=0.0))
    assert err <= TOL * scale, f"{what}: max error {err:.3g} (scale {scale:.3g})\nrule:\n{analytic}\nfd:\n{fd}"


def test_every_rule_has_a_case() -> None:
    tested = {c.rule for c in CASES}
    table = {r.__name__ for rs in RULES.values() for r in rs}
    assert table <= tested, f"rules without a finite-difference test: {sorted(table - tested)}"
    assert tested <= table


def test_every_function_has_a_derivative_and_an_evaluator() -> None:
    assert set(FUNCTIONS) == set(DERIVATIVES) == set(FUNCS)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case_exercises_its_rule(case: RuleCase) -> None:
    """The smart constructors build the op the case means, and the table routes to the rule."""
    m = Model()
    node, i = case.build(m)
    assert type(node) in RULES
    assert rule_for(node, i) is getattr(rules, case.rule)


@pytest.mark.parametrize("distinct", [True, False], ids=["distinct", "edges"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@SETTINGS
@given(data=st.data())
def test_rule_matches_central_differences(case: RuleCase, distinct: bool, data: st.DataObject) -> None:
    model, node, i, c, g = _one_node_model(case)
    env = data.draw(instances(model, distinct=distinct, max_size=MAX_SIZE), label="instance")
    arg = node.args[i]
    assert isinstance(arg, o.Var)
    rule = rule_for(node, i)
    analytic = evaluate(rule(node, c, g), env)
    cot = env.values["G"]

    def pairing(e: Env) -> float:
        return float(np.sum(cot * evaluate(node, e)))

    fd = _central_gradient(pairing, env, arg.name)
    assert_close_fd(analytic, fd, f"{case.id} (sizes {env.dims})")


@pytest.mark.parametrize("fn", sorted(DERIVATIVES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_derivative_matches_central_differences(fn: str, data: st.DataObject) -> None:
    """f'(x), as the table gives it (from x and out = f(x)), against (f(x+h) - f(x-h)) / 2h."""
    m = Model()
    x = m.declare("X", MN)
    out = m.define("C", o.apply(fn, x))
    env = data.draw(instances(m, max_size=MAX_SIZE), label="instance")
    xs = env.values["X"]
    if BY_NAME[fn].kink:
        assume(np.min(np.abs(xs)) > 1e-3)  # away from the kink
    analytic = evaluate(DERIVATIVES[fn](x, out), env)
    with np.errstate(all="ignore"):
        fd = (FUNCS[fn](xs + STEP) - FUNCS[fn](xs - STEP)) / (2 * STEP)
    assert_close_fd(np.broadcast_to(analytic, xs.shape), fd, f"{fn}' (sizes {env.dims})")
