"""Shared fixtures: the zoo of small models the engine, sampling and mutation tests run on.

`model_case` is parametrized over the zoo (test ids name the model). Each case carries a
`guard(env)`: instances where central differences are unreliable (a ReLU argument at its
kink, a saturated sigmoid under a log) are skipped by the finite-difference tests only.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import settings

from symderiv.model import ops as o
from symderiv.model.graph import Model
from symderiv.verify.numeric import Env

Guard = Callable[[Env], bool]

# No wall-clock asserts (speed lives in bench/): hypothesis's per-example deadline (200 ms by
# default) is one, and fails a property test on a loaded machine, so no test has one.
settings.register_profile("symderiv", deadline=None)
settings.load_profile("symderiv")


@dataclass
class Case:
    name: str
    model: Model
    guard: Guard


def _bounded(env: Env) -> bool:
    return all(np.all(np.abs(v) < 1e3) for v in env.values.values())


def gated_unit() -> Case:
    """The seed's gated unit (csc413 2.3)."""
    m = Model()
    x = m.declare("x", ("a", 1))
    eta = m.declare("\\eta", ("b", 1))
    W = m.declare("W", ("c", "a"))
    U = m.declare("U", ("c", "b"))
    v = m.declare("v", ("c", 1))
    r = m.declare("r", ("a", 1))
    t = m.declare("t", (1, 1), "binary")
    z = m.define("z", o.matmul(W, x))
    s = m.define("s", o.matmul(U, eta))
    h = m.define("h", o.hadamard(z, s))
    zy = m.define("z_y", o.add(o.matmul(o.transpose(v), h), o.matmul(o.transpose(r), x)))
    y = m.define("y", o.apply("sigma", zy))
    one = o.const(1)
    m.define("l", o.sub(o.neg(o.scale(t, o.apply("log", y))),
                        o.scale(o.sub(one, t), o.apply("log", o.sub(one, y)))))
    return Case("gated_unit", m, lambda env: _bounded(env) and abs(env.values["z_y"][0, 0]) < 8)


def mlp_tanh() -> Case:
    """Two layers, tanh hidden units, squared error: l = 1/2 sum (W2 tanh(W1 x + b1) + b2 - y)^2."""
    m = Model()
    x = m.declare("x", ("d", 1))
    W1 = m.declare("W_1", ("h", "d"))
    b1 = m.declare("b_1", ("h", 1))
    W2 = m.declare("W_2", ("k", "h"))
    b2 = m.declare("b_2", ("k", 1))
    y = m.declare("y", ("k", 1))
    a = m.define("a", o.add(o.matmul(W1, x), b1))
    h = m.define("h_1", o.apply("tanh", a))
    yhat = m.define("\\hat{y}", o.add(o.matmul(W2, h), b2))
    e = m.define("e", o.sub(yhat, y))
    m.define("\\mathcal{L}", o.scale(o.const(Fraction(1, 2)), o.Sum(o.power(e, Fraction(2)))))
    return Case("mlp_tanh", m, _bounded)


def softmax_ce() -> Case:
    """Softmax cross-entropy: p = softmax(W x + b), l = -y^T log p."""
    m = Model()
    x = m.declare("x", ("d", 1))
    W = m.declare("W", ("k", "d"))
    b = m.declare("b", ("k", 1))
    y = m.declare("y", ("k", 1))
    z = m.define("z", o.add(o.matmul(W, x), b))
    p = m.define("p", o.Softmax(z))
    m.define("l", o.neg(o.matmul(o.transpose(y), o.apply("log", p))))
    return Case("softmax_ce", m, lambda env: _bounded(env) and np.min(env.values["p"]) > 1e-6)


def logsoftmax_ce() -> Case:
    """The same loss through log-softmax: q = logsoftmax(W x), l = -y^T q."""
    m = Model()
    x = m.declare("x", ("d", 1))
    W = m.declare("W", ("k", "d"))
    y = m.declare("y", ("k", 1))
    q = m.define("q", o.LogSoftmax(o.matmul(W, x)))
    m.define("l", o.neg(o.matmul(o.transpose(y), q)))
    return Case("logsoftmax_ce", m, _bounded)


def log_det() -> Case:
    """l = log det X + tr(B X^{-1})."""
    m = Model()
    X = m.declare("X", ("n", "n"))
    B = m.declare("B", ("n", "n"))
    d = m.define("d", o.Det(X))
    Xi = m.define("M", o.Inverse(X))
    m.define("l", o.add(o.apply("log", d), o.Trace(o.matmul(B, Xi))))
    return Case("log_det", m, _bounded)


def trace_xbxt() -> Case:
    """l = tr(X B X^T)."""
    m = Model()
    X = m.declare("X", ("m", "n"))
    B = m.declare("B", ("n", "n"))
    m.define("l", o.Trace(o.matmul(o.matmul(X, B), o.transpose(X))))
    return Case("trace_xbxt", m, _bounded)


def relu_residual() -> Case:
    """A ReLU residual block: r = x + W2 relu(W1 x), l = (r - y)^T (r - y)."""
    m = Model()
    x = m.declare("x", ("d", 1))
    W1 = m.declare("W_1", ("h", "d"))
    W2 = m.declare("W_2", ("d", "h"))
    y = m.declare("y", ("d", 1))
    u = m.define("u", o.matmul(W1, x))
    a = m.define("a", o.apply("relu", u))
    r = m.define("r", o.add(x, o.matmul(W2, a)))
    e = m.define("e", o.sub(r, y))
    m.define("l", o.matmul(o.transpose(e), e))
    return Case("relu_residual", m, lambda env: _bounded(env) and np.min(np.abs(env.values["u"])) > 1e-3)


def x_twice() -> Case:
    """x used by two nodes and twice in one: l = sum(tanh(W x) ⊙ (V x)) + x^T x."""
    m = Model()
    x = m.declare("x", ("n", 1))
    W = m.declare("W", ("m", "n"))
    V = m.declare("V", ("m", "n"))
    z1 = m.define("z_1", o.matmul(W, x))
    z2 = m.define("z_2", o.matmul(V, x))
    q = m.define("q", o.hadamard(o.apply("tanh", z1), z2))
    m.define("l", o.add(o.Sum(q), o.matmul(o.transpose(x), x)))
    return Case("x_twice", m, _bounded)


def matrix_gate() -> Case:
    """Elementwise products of square matrices: l = tr(tanh(X ⊙ Y) B)."""
    m = Model()
    X = m.declare("X", ("n", "n"))
    Y = m.declare("Y", ("n", "n"))
    B = m.declare("B", ("n", "n"))
    p = m.define("P", o.hadamard(X, Y))
    q = m.define("Q", o.apply("tanh", p))
    m.define("l", o.Trace(o.matmul(q, B)))
    return Case("matrix_gate", m, _bounded)


ZOO: dict[str, Callable[[], Case]] = {f.__name__: f for f in (
    gated_unit, mlp_tanh, softmax_ce, logsoftmax_ce, log_det, trace_xbxt, relu_residual, x_twice,
    matrix_gate)}


@pytest.fixture(scope="session", params=sorted(ZOO), ids=str)
def model_case(request: pytest.FixtureRequest) -> Case:
    """Every model of the zoo (session-scoped, so hypothesis tests may use it)."""
    return ZOO[request.param]()


@pytest.fixture(scope="session")
def gated() -> Case:
    return gated_unit()


@pytest.fixture(scope="session")
def relu_case() -> Case:
    return relu_residual()


@pytest.fixture(scope="session")
def det_case() -> Case:
    return log_det()


@pytest.fixture(scope="session")
def zoo() -> dict[str, Callable[[], Case]]:
    """The builders by name, for tests about one particular model."""
    return ZOO

