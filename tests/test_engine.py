"""The derived adjoints of whole models: against finite differences, against SymPy, and
against their own mutants (soundness of the numeric spot checks).

Models come from the zoo in conftest.py (`model_case` is parametrized over it).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symderiv.derive.adjoints import Adjoints, derive
from symderiv.derive.simplify import BUILD, rebuild
from symderiv.errors import ModelError, ShapeError
from symderiv.model import ops as o
from symderiv.model.graph import Model
from symderiv.model.ops import Expr
from symderiv.model.walk import nodes
from symderiv.verify.equivalence import Instances, agree
from symderiv.verify.numeric import Env, evaluate
from symderiv.verify.sampling import Sampler
from symderiv.verify.strategies import instances

STEP = 1e-6
TOL = 1e-6

_ADJOINTS: dict[int, Adjoints] = {}


def adjoints_of(case) -> Adjoints:  # type: ignore[no-untyped-def]
    """Derived once per model object (the Adjoints keep their model alive, so ids are stable)."""
    key = id(case.model)
    if key not in _ADJOINTS:
        _ADJOINTS[key] = derive(case.model)
    return _ADJOINTS[key]


def dag(e: Expr) -> list[Expr]:
    return list(nodes(e))


# ---- finite differences of the loss -----------------------------------------------------

def loss_with(model: Model, env: Env, name: str, value: np.ndarray) -> float:
    """The loss with `name` set to `value`: everything downstream recomputed, the rest fixed."""
    values = dict(env.values)
    values[name] = value
    e = Env(env.dims, values)
    nodes = model.nodes
    start = nodes.index(name) + 1 if name in nodes else 0
    for n in nodes[start:]:
        e.values[n] = evaluate(model.symbols[n].definition, e)  # type: ignore[arg-type]
    return float(e.values[model.loss][0, 0])


def fd_adjoint(model: Model, env: Env, name: str) -> np.ndarray:
    base = env.values[name]
    g = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[idx] += STEP
        minus[idx] -= STEP
        g[idx] = (loss_with(model, env, name, plus) - loss_with(model, env, name, minus)) / (2 * STEP)
    return g


def assert_fd(analytic: np.ndarray, fd: np.ndarray, what: str) -> None:
    assert analytic.shape == fd.shape, f"{what}: shape {analytic.shape} vs {fd.shape}"
    scale = max(1.0, float(np.max(np.abs(fd), initial=0.0)))
    err = float(np.max(np.abs(analytic - fd), initial=0.0))
    assert err <= TOL * scale, f"{what}: error {err:.3g}\nderived:\n{analytic}\nfd:\n{fd}"


def fill_local_bars(adj: Adjoints, env: Env) -> None:
    for n in adj.order():
        env.bars[n] = evaluate(adj.local[n], env)


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_adjoints_match_finite_differences(model_case, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    """Every symbol's adjoint, local (on the true downstream adjoints) and expanded."""
    model = model_case.model
    adj = adjoints_of(model_case)
    env = data.draw(instances(model, max_size=4), label="instance")
    assume(model_case.guard(env))
    fill_local_bars(adj, env)
    for name in adj.order():
        if name == model.loss:
            continue
        fd = fd_adjoint(model, env, name)
        assert_fd(env.bars[name], fd, f"local adjoint of {name} (sizes {env.dims})")
        assert_fd(evaluate(adj.expanded(name), env), fd, f"expanded adjoint of {name} (sizes {env.dims})")


def test_adjoints_on_sampler_instances(model_case) -> None:  # type: ignore[no-untyped-def]
    """The same on the spot checks' own deterministic instances."""
    model = model_case.model
    adj = adjoints_of(model_case)
    for env in Sampler(model, seed=3).envs:
        if not model_case.guard(env):
            continue
        fill_local_bars(adj, env)
        for name in model.inputs:
            fd = fd_adjoint(model, env, name)
            assert_fd(env.bars[name], fd, f"local {name} {env.dims}")
            assert_fd(evaluate(adj.expanded(name), env), fd, f"expanded {name} {env.dims}")


def test_expanded_forms_have_no_bars(model_case) -> None:  # type: ignore[no-untyped-def]
    adj = adjoints_of(model_case)
    for name in adj.order():
        bars = [x.name for x in dag(adj.expanded(name)) if isinstance(x, o.Bar)]
        assert not bars, f"expanded adjoint of {name} mentions adjoints {bars}"


def test_local_forms_mention_only_downstream_adjoints(model_case) -> None:  # type: ignore[no-untyped-def]
    model = model_case.model
    adj = adjoints_of(model_case)
    consumers = model.consumers()
    for name in adj.order():
        bars = {x.name for x in dag(adj.local[name]) if isinstance(x, o.Bar)}
        assert bars <= set(consumers[name]), f"{name}: {bars} not among consumers {consumers[name]}"


def test_terms_sum_to_local(model_case) -> None:  # type: ignore[no-untyped-def]
    """Each occurrence's contribution kept apart, and together they are the adjoint."""
    model = model_case.model
    adj = adjoints_of(model_case)
    env = Sampler(model, seed=5).envs[-1]
    fill_local_bars(adj, env)
    for name in adj.order():
        if name == model.loss:
            continue
        total = sum((evaluate(t.expr, env) for t in adj.terms[name]), np.zeros(env.shape(model.shape(name))))
        assert np.allclose(total, env.bars[name], rtol=1e-10, atol=1e-12), name


# ---- SymPy: an independent differentiation on explicit-entry matrices --------------------

_U = sp.Symbol("u")
SP_FUNCS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "sigma": lambda u: 1 / (1 + sp.exp(-u)),
    "tanh": sp.tanh,
    "exp": sp.exp,
    "log": sp.log,
    "relu": lambda u: sp.Max(0, u),
    "softplus": lambda u: sp.log(1 + sp.exp(u)),
    "step": lambda u: sp.Heaviside(u, 0),
    "dsigma": lambda u: sp.exp(-u) / (1 + sp.exp(-u)) ** 2,
    "dtanh": lambda u: 1 - sp.tanh(u) ** 2,
}


def _softmax(a: sp.Matrix) -> sp.Matrix:
    e = a.applyfunc(sp.exp)
    return e / sum(e)


SP_EVAL: dict[type, Callable[..., sp.Matrix]] = {
    o.MatMul: lambda n, a, b: a * b,
    o.Add: lambda n, *ts: sum(ts[1:], ts[0]),
    o.Scale: lambda n, s, b: s[0, 0] * b,
    o.Hadamard: lambda n, a, b: a.multiply_elementwise(b),
    o.Transpose: lambda n, a: a.T,
    o.Apply: lambda n, a: a.applyfunc(SP_FUNCS[n.fn]),
    o.Pow: lambda n, a: a.applyfunc(lambda u: u ** sp.Rational(n.k.numerator, n.k.denominator)),
    o.Inverse: lambda n, a: a.inv(),
    o.Det: lambda n, a: sp.Matrix([[a.det()]]),
    o.Trace: lambda n, a: sp.Matrix([[a.trace()]]),
    o.Sum: lambda n, a: sp.Matrix([[sum(a)]]),
    o.Diag: lambda n, a: sp.diag(*a),
    o.DiagPart: lambda n, a: sp.Matrix([a[i, i] for i in range(a.rows)]),
    o.Softmax: lambda n, a: _softmax(a),
    o.LogSoftmax: lambda n, a: a - sp.Matrix.ones(a.rows, 1) * sp.log(sum(a.applyfunc(sp.exp))),
}


def to_sympy(e: Expr, leaves: dict[str, sp.Matrix], dims: dict[str, int]) -> sp.Matrix:
    """An explicit SymPy matrix for an expression, given explicit matrices for its Vars."""
    memo: dict[int, sp.Matrix] = {}

    def size(d: o.Dim) -> int:
        d = o.find(d)
        return d if isinstance(d, int) else dims[d]  # type: ignore[index]

    for x in reversed(_postorder(e)):
        if isinstance(x, o.Var):
            v = leaves[x.name]
        elif isinstance(x, o.Const):
            v = sp.Matrix([[sp.Rational(x.value.numerator, x.value.denominator)]])
        elif isinstance(x, o.Ones):
            v = sp.ones(size(x.shape[0]), size(x.shape[1]))
        elif isinstance(x, o.Zero):
            v = sp.zeros(size(x.shape[0]), size(x.shape[1]))
        elif isinstance(x, o.Eye):
            v = sp.eye(size(x.n))
        else:
            v = SP_EVAL[type(x)](x, *(memo[id(a)] for a in x.args))
        memo[id(x)] = sp.Matrix(v)
    return memo[id(e)]


def _postorder(e: Expr) -> list[Expr]:
    """Parents before children (reverse it to evaluate children first)."""
    order: list[Expr] = []
    seen: set[int] = set()
    stack: list[tuple[Expr, bool]] = [(e, False)]
    while stack:
        x, done = stack.pop()
        if done:
            order.append(x)
            continue
        if id(x) in seen:
            continue
        seen.add(id(x))
        stack.append((x, True))
        stack.extend((a, False) for a in x.args)
    order.reverse()
    return order


def explicit_model(model: Model, dims: dict[str, int],
                   inputs: dict[str, sp.Matrix] | None = None) -> dict[str, sp.Matrix]:
    """Explicit matrices for every symbol: inputs as `MatrixSymbol(...).as_explicit()` (or the
    given ones), nodes by their definitions."""
    env: dict[str, sp.Matrix] = {}
    for name in model.inputs:
        r, c = (dims[d] if isinstance(d, str) else d for d in model.shape(name))
        env[name] = inputs[name] if inputs else sp.MatrixSymbol(_plain(name), r, c).as_explicit()
    for node in model.nodes:
        env[node] = to_sympy(model.symbols[node].definition, env, dims)  # type: ignore[arg-type]
    return env


def _plain(name: str) -> str:
    return name.replace("\\", "").replace("{", "").replace("}", "").replace("^", "")


SYMPY_CASES = {
    # model name -> explicit sizes (distinct >= 2) and whether the comparison is exact (rational)
    "gated_unit": ({"a": 2, "b": 3, "c": 4}, False),
    "mlp_tanh": ({"d": 2, "h": 3, "k": 4}, False),
    "softmax_ce": ({"d": 2, "k": 3}, False),
    "log_det": ({"n": 3}, True),
    "trace_xbxt": ({"m": 2, "n": 3}, True),
    "x_twice": ({"n": 2, "m": 3}, False),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SYMPY_CASES))
def test_expanded_adjoints_match_sympy_diff(zoo, name: str) -> None:  # type: ignore[no-untyped-def]
    """SymPy differentiates the explicit-entry loss entry by entry; our expanded adjoint,
    rendered on the same explicit matrices, must equal it: exactly at a random rational
    point for rational losses, to 40 digits otherwise."""
    case = zoo[name]()
    dims, exact = SYMPY_CASES[name]
    model = case.model
    adj = derive(model)
    env = explicit_model(model, dims)
    loss = env[model.loss][0, 0]
    rng = np.random.default_rng(11)
    point: dict[sp.Expr, sp.Expr] = {}
    for n in model.inputs:
        m = env[n]
        for i in range(m.rows):
            for j in range(m.cols):
                if model.symbols[n].domain == "binary":
                    point[m[i, j]] = sp.Integer(int(rng.integers(0, 2)))
                else:
                    point[m[i, j]] = sp.Rational(int(rng.integers(-9, 10)), 7) + (3 if i == j and m.rows == m.cols else 0)
    for n in model.inputs:
        ours = to_sympy(adj.expanded(n), env, dims)
        m = env[n]
        for i in range(m.rows):
            for j in range(m.cols):
                want = sp.diff(loss, m[i, j]).xreplace(point)
                got = ours[i, j].xreplace(point)
                if exact:
                    assert sp.nsimplify(want - got) == 0 or sp.simplify(want - got) == 0, (n, i, j)
                else:
                    diff = abs(sp.N(want - got, 40))
                    assert diff < sp.Float("1e-30") * (1 + abs(sp.N(want, 40))), (n, i, j, want, got)


def test_trace_gradient_is_symbolically_equal_to_sympy(zoo) -> None:  # type: ignore[no-untyped-def]
    """A full symbolic proof on one polynomial model: tr(X B X^T) at 2x3."""
    case = zoo["trace_xbxt"]()
    dims = {"m": 2, "n": 3}
    env = explicit_model(case.model, dims)
    loss = env["l"][0, 0]
    adj = derive(case.model)
    for n in ("X", "B"):
        ours = to_sympy(adj.expanded(n), env, dims)
        want = env[n].applyfunc(lambda e: sp.diff(loss, e))
        assert sp.expand(ours - want) == sp.zeros(*want.shape)


class TestSympyOwnMatrixDiff:
    """What SymPy 1.14's MatrixExpr.diff gets wrong, the reason symderiv has its own rules.

    Each test asserts the behaviour observed in 1.14 and skips (not fails) when a later
    SymPy behaves correctly."""

    def test_elementwise_sigma_raises(self) -> None:
        from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

        a, b, c = 3, 4, 2
        x, eta = sp.MatrixSymbol("x", a, 1), sp.MatrixSymbol("eta", b, 1)
        W, U = sp.MatrixSymbol("W", c, a), sp.MatrixSymbol("U", c, b)
        v, r = sp.MatrixSymbol("v", c, 1), sp.MatrixSymbol("r", a, 1)
        z_y = v.T * sp.HadamardProduct(W * x, U * eta) + r.T * x
        y = ElementwiseApplyFunction(sp.Lambda(_U, 1 / (1 + sp.exp(-_U))), z_y)
        try:
            y.diff(W)
        except TypeError as e:
            assert "Mix of Matrix and Scalar symbols" in str(e)
            return
        pytest.skip(f"SymPy {sp.__version__} differentiates an elementwise sigma now")

    def test_log_det_derivative_is_zero(self) -> None:
        X = sp.MatrixSymbol("X", 3, 3)
        got = sp.log(sp.Determinant(X)).diff(X)
        if not (got == 0 or getattr(got, "is_ZeroMatrix", False)):
            pytest.skip(f"SymPy {sp.__version__} gives {got} for d log det X / dX now")
        # the truth is X^{-T}, which symderiv derives
        m = Model()
        Xv = m.declare("X", ("n", "n"))
        m.define("l", o.apply("log", o.Det(Xv)))
        adj = derive(m)
        env = Sampler(m, seed=1).envs[-1]
        assert np.allclose(evaluate(adj.expanded("X"), env), np.linalg.inv(env.values["X"]).T)


# ---- deep networks ----------------------------------------------------------------------

def tanh_network(layers: int) -> Model:
    """h_{k+1} = tanh(W_k h_k), loss = h_L^T h_L."""
    m = Model()
    h: Expr = m.declare("x", ("n", 1))
    ws = [m.declare(f"W_{k}", ("n", "n")) for k in range(layers)]
    for k, w in enumerate(ws):
        h = m.define(f"h_{k + 1}", o.apply("tanh", o.matmul(w, h)))
    m.define("l", o.matmul(o.transpose(h), h))
    return m


def test_64_layer_tanh_network_derives_and_evaluates() -> None:
    m = tanh_network(64)
    adj = derive(m)
    expanded = {n: adj.expanded(n) for n in adj.order()}
    assert all(len(dag(e)) < 50 * 64 for e in expanded.values())  # shared, not one copy per use
    env = Sampler(m, seed=2).envs[-1]
    fill_local_bars(adj, env)
    for n in ("x", "W_0", "W_31", "W_63", "h_1"):
        assert np.allclose(evaluate(expanded[n], env), env.bars[n], rtol=1e-9, atol=1e-12), n
        assert np.all(np.isfinite(env.bars[n]))
    assert_fd(env.bars["x"], fd_adjoint(m, env, "x"), "x through 64 layers")
    assert_fd(env.bars["W_0"], fd_adjoint(m, env, "W_0"), "W_0 through 64 layers")


def test_64_block_residual_network_is_linear_not_exponential() -> None:
    """h_{k+1} = h_k + tanh(W h_k) with one shared W: every adjoint is a sum of two paths, so
    the expanded forms are DAGs with 2^64 paths; they must stay shared (this took 35 s at 20
    blocks when structural keys nested)."""
    m = Model()
    h: Expr = m.declare("x", ("n", 1))
    W = m.declare("W", ("n", "n"))
    for k in range(64):
        h = m.define(f"h_{k + 1}", o.add(h, o.apply("tanh", o.matmul(W, h))))
    m.define("l", o.matmul(o.transpose(h), h))
    adj = derive(m)
    x_bar, w_bar = adj.expanded("x"), adj.expanded("W")
    assert len(dag(x_bar)) < 50 * 64 and len(dag(w_bar)) < 50 * 64
    env = Sampler(m, seed=4).envs[-1]
    fill_local_bars(adj, env)
    assert np.allclose(evaluate(x_bar, env), env.bars["x"], rtol=1e-9)
    assert np.allclose(evaluate(w_bar, env), env.bars["W"], rtol=1e-9)


# ---- bad input --------------------------------------------------------------------------

def test_mismatched_matmul_names_both_shapes() -> None:
    m = Model()
    W = m.declare("W", ("c", "a"))
    eta = m.declare("\\eta", ("b", 1))
    with pytest.raises(ShapeError) as info:
        m.define("z", o.matmul(W, eta))
    msg = str(info.value)
    assert "c×a" in msg and "b" in msg


def test_mismatched_sum_names_both_shapes() -> None:
    m = Model()
    with pytest.raises(ShapeError) as info:
        o.add(m.declare("A", ("m", "n")), m.declare("B", ("n", "m")))
    assert "m×n" in str(info.value) and "n×m" in str(info.value)


def test_non_scalar_loss_is_a_model_error() -> None:
    m = Model()
    W = m.declare("W", ("c", "a"))
    x = m.declare("x", ("a", 1))
    m.define("z", o.matmul(W, x))
    with pytest.raises(ModelError, match="scalar"):
        derive(m)


def test_no_definitions_is_a_model_error() -> None:
    m = Model()
    m.declare("x", ("a", 1))
    with pytest.raises(ModelError):
        derive(m)


def test_redefinition_is_a_model_error() -> None:
    m = Model()
    x = m.declare("x", ("a", 1))
    m.define("s", o.matmul(o.transpose(x), x))
    with pytest.raises(ModelError):
        m.define("s", o.matmul(o.transpose(x), x))
    with pytest.raises(ModelError):
        m.declare("x", ("a", 1))


# ---- soundness: mutants of every correct adjoint must be told apart ----------------------

KINDS = ("sign", "drop_transpose", "add_transpose", "swap_matmul", "drop_term", "scale2",
         "hadamard_to_matmul")


def _replace(root: Expr, target: Expr, new: Expr) -> Expr:
    return rebuild(root, lambda x: new if x is target else None)


def _square(e: Expr) -> bool:
    return not e.is_scalar and o.same(e.shape[0], e.shape[1])


def _local_mutations(n: Expr) -> Iterator[tuple[str, Callable[[], Expr]]]:
    """(kind, a thunk building the replacement for node n)."""
    if isinstance(n, o.Transpose):
        yield "drop_transpose", lambda: n.a
    if isinstance(n, (o.MatMul, o.Hadamard)):
        for i, a in enumerate(n.args):
            if _square(a):
                args = list(n.args)
                args[i] = o.transpose(a)
                yield "add_transpose", lambda args=args: BUILD[type(n)](n, args)
    if isinstance(n, o.MatMul):
        yield "swap_matmul", lambda: o.matmul(n.b, n.a)
    if isinstance(n, o.Hadamard):
        yield "hadamard_to_matmul", lambda: o.matmul(n.a, n.b)
    if isinstance(n, o.Add):
        for i in range(len(n.terms)):
            rest = n.terms[:i] + n.terms[i + 1:]
            yield "drop_term", lambda rest=rest: o.add(*rest)
            yield "sign", lambda i=i: o.add(*(o.neg(t) if j == i else t for j, t in enumerate(n.terms)))


def mutants(truth: Expr) -> Iterator[tuple[str, Expr]]:
    """Well-shaped mutants of `truth` (same shape), each a single mistake a student makes."""
    yield "sign", o.neg(truth)
    yield "scale2", o.scale(o.const(2), truth)
    for n in dag(truth):
        for kind, make in _local_mutations(n):
            try:
                new = make()
                if not (o.same(new.shape[0], n.shape[0]) and o.same(new.shape[1], n.shape[1])):
                    continue
                m = _replace(truth, n, new)
            except ShapeError:
                continue
            if o.same(m.shape[0], truth.shape[0]) and o.same(m.shape[1], truth.shape[1]):
                yield kind, m


def _precise_inputs(model: Model, env: Env) -> dict[str, sp.Matrix]:
    return {n: sp.Matrix(env.values[n].shape[0], env.values[n].shape[1],
                         [sp.Float(float(v), 50) for v in env.values[n].ravel()]) for n in model.inputs}


def genuinely_equal(model: Model, env: Env, precise: dict[str, sp.Matrix], a: Expr, b: Expr) -> bool:
    """Equal at one random instance in 50-digit arithmetic (distinct sizes, another seed)."""
    va, vb = to_sympy(a, precise, env.dims), to_sympy(b, precise, env.dims)
    scale = 1 + max(abs(x) for x in vb)
    return all(abs(x - y) < sp.Float("1e-35") * scale for x, y in zip(va, vb))


def test_mutants_cover_every_kind(zoo) -> None:  # type: ignore[no-untyped-def]
    kinds: set[str] = set()
    for build in zoo.values():
        case = build()
        adj = adjoints_of(case)
        for name in adj.order():
            kinds.update(k for k, _ in mutants(adj.expanded(name)))
    assert kinds == set(KINDS)


def test_no_mutant_passes_the_spot_checks(model_case) -> None:  # type: ignore[no-untyped-def]
    """Every mutant of every (expanded) adjoint disagrees with the truth on the Sampler's
    instances, unless it is genuinely equal (e.g. a transpose of a symmetric matrix): those
    are told apart first by a 50-digit evaluation at an independent instance with distinct
    sizes (seed 99), and counted, not tested."""
    model = model_case.model
    adj = adjoints_of(model_case)
    inst = Instances(adj)
    ref = next(e for e in reversed(Sampler(model, seed=99).envs) if len(set(e.dims.values())) == len(e.dims))
    precise = explicit_model(model, ref.dims, _precise_inputs(model, ref))
    tested, equal, unsound = 0, [], []
    for name in adj.order():
        if name == model.loss:
            continue
        truth = adj.expanded(name)
        bars = inst.bars(name)
        for kind, mutant in mutants(truth):
            tested += 1
            if agree(inst.values(mutant), bars):
                if genuinely_equal(model, ref, precise, mutant, truth):
                    equal.append((name, kind))
                else:
                    unsound.append((name, kind))
    assert tested >= 10
    assert not unsound, f"mutants that the spot checks call correct: {unsound}"
    assert len(equal) <= tested // 2, f"too many mutants are no mistake at all: {equal}"


def test_mutant_filter_recognises_a_symmetric_transpose() -> None:
    """The filter's own check: (B + B^T)^T is B + B^T, and B^T is not B."""
    m = Model()
    B = m.declare("B", ("n", "n"))
    m.define("l", o.Trace(B))
    env = Sampler(m, seed=99).envs[-1]
    precise = explicit_model(m, env.dims, _precise_inputs(m, env))
    sym = o.add(B, o.transpose(B))
    assert genuinely_equal(m, env, precise, o.transpose(sym), sym)
    assert not genuinely_equal(m, env, precise, o.transpose(B), B)
    assert not genuinely_equal(m, env, precise, o.scale(o.const(Fraction(2)), B), B)
