"""Every op class and every elementwise record is complete: a missing entry fails here, not a user.

Per `Expr` subclass: a VJP rule, evaluation, the simplifier's rebuild, a printer case and SymPy
both ways (checked numerically). Per record (model/elementwise.py): its derivative against
central differences (hypothesis, through the public strategies), the printer's text read back
by the reader, and SymPy both ways. The derivative's own table test is in test_rules.py.
"""
from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symderiv.derive.rules import RULES
from symderiv.derive.simplify import BUILD
from symderiv.meaning.resolve import Scope, resolve
from symderiv.model import ops as o
from symderiv.model.elementwise import BY_NAME, RECORDS
from symderiv.model.graph import Model
from symderiv.model.sympy_bridge import from_sympy, to_sympy
from symderiv.read.parse import parse_expression
from symderiv.report.latex import to_latex
from symderiv.verify.numeric import EVAL, Env, evaluate
from symderiv.verify.sampling import Sampler
from symderiv.verify.strategies import instances

N = ("n", "n")
COL = ("n", 1)


def _model() -> Model:
    m = Model()
    m.declare("A", N)
    m.declare("x", COL)
    m.declare("s", (1, 1))
    m.declare("p", COL, "positive")
    m.declare("q", COL, "unit")
    return m


M = _model()
A, X, S, P, Q = (M.symbols[k].var() for k in ("A", "x", "s", "p", "q"))

#: one instance of every concrete op class (a new class without one fails test_every_op_has_a_sample)
SAMPLES: dict[type, Callable[[], o.Expr]] = {
    o.Var: lambda: A,
    o.Bar: lambda: o.Bar("x", COL),
    o.Const: lambda: o.const(3),
    o.Ones: lambda: o.Ones(COL),
    o.Eye: lambda: o.Eye("n"),
    o.Zero: lambda: o.Zero(N),
    o.MatMul: lambda: o.MatMul(A, X),
    o.Add: lambda: o.Add((X, P)),
    o.Scale: lambda: o.Scale(S, X),
    o.Hadamard: lambda: o.Hadamard(X, P),
    o.Transpose: lambda: o.Transpose(A),
    o.Apply: lambda: o.Apply("tanh", X),
    o.Pow: lambda: o.Pow(P, Fraction(3)),
    o.Inverse: lambda: o.Inverse(A),
    o.Det: lambda: o.Det(A),
    o.Trace: lambda: o.Trace(A),
    o.Sum: lambda: o.Sum(X),
    o.Diag: lambda: o.Diag(X),
    o.DiagPart: lambda: o.DiagPart(A),
    o.Softmax: lambda: o.Softmax(X),
    o.LogSoftmax: lambda: o.LogSoftmax(X),
}
ABSTRACT = {o.Unary, o.Binary}


def _subclasses(cls: type) -> set[type]:
    out = set()
    for c in cls.__subclasses__():
        out |= {c} | _subclasses(c)
    return out


def _env() -> Env:
    """A sampled instance with every size >= 2 (SymPy's evaluation misbehaves at size 1)."""
    envs = [e for e in Sampler(M, seed=3).envs if min(e.dims.values()) >= 2]
    env = envs[0]
    env.bars["x"] = np.linspace(-1.0, 1.0, env.dims["n"]).reshape(-1, 1)
    return env


ENV = _env()


def _sym_eval(e: sp.Basic, dims: dict[str, sp.Symbol]) -> np.ndarray:
    from test_sympy_bridge import sym_eval
    return sym_eval(e, ENV, dims)


def test_every_op_has_a_sample() -> None:
    # an index expression's value (meaning/indices.Entries) lives only in claims: evaluated,
    # never derived, printed or converted (a problem's index form is lowered to these ops)
    from symderiv.meaning.indices import Entries
    assert set(SAMPLES) == _subclasses(o.Expr) - ABSTRACT - {Entries}


@pytest.mark.parametrize("cls", sorted(SAMPLES, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_op_is_in_every_table(cls: type) -> None:
    e = SAMPLES[cls]()
    assert type(e) is cls
    if e.args:
        assert len(RULES[cls]) in (1, len(e.args)), "a VJP rule per argument (or one for all)"
        assert cls in BUILD, "the simplifier cannot rebuild it"
        assert cls in EVAL or cls is o.Add, "no evaluation"
    value = evaluate(e, ENV)
    assert value.shape == ENV.shape(e.shape)
    assert to_latex(e), "no printer case"
    rebuilt = BUILD[cls](e, list(e.args)) if e.args else e
    assert np.allclose(evaluate(rebuilt, ENV), value)
    dims: dict[str, sp.Symbol] = {}
    s = to_sympy(e, dims)
    assert np.allclose(_sym_eval(s, dims), value), f"to_sympy: {s}"
    assert np.allclose(evaluate(from_sympy(s, M), ENV), value), f"from_sympy: {s}"


# ---- the elementwise records -----------------------------------------------------------

def _argument(f) -> o.Expr:
    return P if f.domain == "positive" else Q if f.domain == "unit" else X


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_record_is_documented(name: str) -> None:
    """The derivative is a named function whose docstring states the identity."""
    d = BY_NAME[name].derivative
    assert d.__name__.startswith("d_") and d.__doc__ and "=" in d.__doc__


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_record_prints_and_reads_back(name: str) -> None:
    """The printer's text, read by the reader, is the same function (numerically)."""
    f = BY_NAME[name]
    e = o.apply(name, _argument(f))
    text = to_latex(e)
    back = resolve(parse_expression(text), Scope(M, source=text))
    assert np.allclose(evaluate(back, ENV), evaluate(e, ENV)), text


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_record_sympy_round_trip(name: str) -> None:
    """A vector argument (an ElementwiseApplyFunction) and a scalar one (the body itself)."""
    f = BY_NAME[name]
    for arg in (_argument(f), o.Var("s", (1, 1)) if f.domain == "real" else None):
        if arg is None:
            continue
        e = o.apply(name, arg)
        dims: dict[str, sp.Symbol] = {}
        s = to_sympy(e, dims)
        assert np.allclose(_sym_eval(s, dims), evaluate(e, ENV)), f"to_sympy: {s}"
        back = from_sympy(s, M)
        assert np.allclose(evaluate(back, ENV), evaluate(e, ENV)), f"from_sympy({s}) is {back}"
        if not arg.is_scalar:  # a scalar body is read as written: sigma(1 - sigma) is a product
            assert isinstance(back, o.Apply) and back.fn == name, f"from_sympy({s}) is {back}"


@pytest.mark.parametrize("name", sorted(n for n, f in BY_NAME.items() if f.called))
def test_record_reads_by_its_spellings(name: str) -> None:
    f = BY_NAME[name]
    spelled = [f"\\{c}" for c in f.commands] + [f"\\operatorname{{{w}}}" for w in f.words] + list(f.plain)
    for text in spelled or [f"\\operatorname{{{name}}}"]:
        e = resolve(parse_expression(f"{text}(x)"), Scope(M, source=text))
        assert isinstance(e, o.Apply) and e.fn == name, text


@pytest.mark.parametrize("name", sorted(n for n, f in BY_NAME.items() if f.prime))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_prime_as_written_is_the_derivative(name: str, data: st.DataObject) -> None:
    """`f'(x)` as a student writes it is f' (central differences of the record's numpy)."""
    f = BY_NAME[name]
    m = Model()
    x = m.declare("X", ("m", "n"), f.domain)
    m.define("C", o.apply(name, x))
    env = data.draw(instances(m, max_size=4), label="instance")
    xs = env.values["X"]
    if f.kink:
        assume(np.min(np.abs(xs)) > 1e-3)
    text = f"{f.latex}'(X)" if f.called and f.latex.startswith("\\") else f"\\operatorname{{{name}}}'(X)"
    e = resolve(parse_expression(text), Scope(m, source=text))
    h = 1e-6
    fd = (f.numpy(xs + h) - f.numpy(xs - h)) / (2 * h)
    assert np.allclose(evaluate(e, env), fd, atol=1e-6), text


# ---- \sin and \cos: a derivation through them, and its mutants -------------------------

SINCOS = r"""
$$x \in \mathbb{R}^{n}$$
$$W \in \mathbb{R}^{m \times n}$$
$$a = W x$$
$$h = \sin(a) \odot \cos(a)$$
$$\mathcal{L} = \mathbf{1}^\top h$$
"""


@pytest.mark.parametrize("answer, verdict", [
    (r"\bar{a} = \bar{h} \odot (\cos(a) \odot \cos(a) - \sin(a) \odot \sin(a))", "correct"),
    (r"\bar{a} = \bar{h} \odot (\cos^2(a) - \sin^2(a))", "correct"),
    (r"\bar{a} = \bar{h} \odot (\sin'(a) \odot \cos(a) + \sin(a) \odot \cos'(a))", "correct"),
    (r"\bar{a} = \bar{h} \odot (\cos(a) \odot \cos(a) + \sin(a) \odot \sin(a))", "incorrect"),  # cos' = +sin
    (r"\bar{a} = \bar{h} \odot \cos(a) \odot \cos(a)", "incorrect"),  # a dropped term
    (r"\bar{a} = 2 \bar{h} \odot (\cos^2(a) - \sin^2(a))", "incorrect"),  # x2
    (r"\bar{a} = -\bar{h} \odot (\cos^2(a) - \sin^2(a))", "incorrect"),  # sign
    (r"\bar{a} = \bar{h} \odot (\cos^2(a) - \sin^2(h))", "incorrect"),  # shifted argument
    (r"\bar{x} = W \bar{a}", "incorrect"),  # transpose dropped
    (r"\bar{x} = W^\top \bar{a}", "correct"),
])
def test_sin_cos_derivation(answer: str, verdict: str) -> None:
    from test_check import one
    claim = one(f"$${answer}$$", SINCOS)
    got = [s.verdict for s in claim.steps]
    assert got == [verdict] if verdict == "correct" else got in (["incorrect"], ["invalid"]), (answer, claim.steps)


def test_records_are_unique_and_complete() -> None:
    assert len({f.name for f in RECORDS}) == len(RECORDS)
    for f in RECORDS:
        assert isinstance(f.prime, bool) or f.prime in BY_NAME
        assert f.domain in ("real", "positive", "unit")
        assert f.indicator in (None, ">", "\\geq")


# ---- the layers: imports only go down, and no module imports itself back -----------------

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "symderiv"
#: lowest first; a module may import its own layer and those below
LAYERS = ["fastdataclass", "spans", "errors", "names", "model", "read", "derive", "meaning", "verify", "scoring", "report"]


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def _imports(path: Path) -> list[tuple[str, bool, str]]:
    """(imported module, at module level (not lazy, not for type checking), enclosing function)."""
    tree = ast.parse(path.read_text())
    here = _module(path).split(".")
    pkg = here[:-1] if path.name != "__init__.py" else here
    out: list[tuple[str, bool, str]] = []

    def visit(node: ast.AST, top: bool, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, False, child.name)
                continue
            if isinstance(child, ast.ImportFrom) and child.level:
                base = pkg[: len(pkg) - child.level + 1]
                mod = ".".join(base + ([child.module] if child.module else []))
                names = [mod] if child.module else [f"{mod}.{a.name}" for a in child.names]
                out.extend((n, top, func) for n in names)
            elif isinstance(child, ast.ImportFrom) and (child.module or "").startswith("symderiv"):
                out.append((child.module, top, func))  # type: ignore[arg-type]
            visit(child, top, func)
    visit(tree, True, "")
    return out


def _layer(module: str) -> int:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else ""
    return LAYERS.index(name) if name in LAYERS else len(LAYERS)  # api, cli, load, ...: the top


def test_no_upward_imports() -> None:
    """Only the notebook hooks (`_repr_*_`) reach up, to render themselves."""
    bad = []
    for path in PACKAGE.rglob("*.py"):
        mod = _module(path)
        for target, _, func in _imports(path):
            if _layer(target) > _layer(mod) and not func.startswith("_repr_"):
                bad.append(f"{mod} imports {target}" + (f" (in {func})" if func else ""))
    assert not bad, "\n".join(bad)


def test_no_import_circles() -> None:
    """Lazy imports count too (a lazy import is how a circle hides); only the hooks do not."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        graph[_module(path)] = {t for t, _, func in _imports(path) if not func.startswith("_repr_")}
    modules = set(graph)
    for m in graph:
        graph[m] = {t if t in modules else t.rsplit(".", 1)[0] for t in graph[m]} & modules - {m}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            assert state.get(n) != 1, "import circle: " + " -> ".join(path + [m, n])
            if n not in state:
                visit(n, path + [m])
        state[m] = 2
    for m in sorted(graph):
        if m not in state:
            visit(m, [])


# ---- source text: a step is quoted as written, brackets included -------------------------

@pytest.mark.parametrize("written", [
    r"(h - t) \odot (1 - h \odot h)",
    r"\left(h - t\right) \odot \left(1 - h^2\right)",
    r"[h - t] \odot (1 - h \odot h)",
    r"(1 - h \odot h) \odot (h - t)",
])
def test_step_text_keeps_its_brackets(written: str) -> None:
    from test_check import one
    problem = r"""
$$x \in \mathbb{R}^{n}$$
$$t \in \mathbb{R}^{n}$$
$$a = x$$
$$h = \tanh(a)$$
$$\mathcal{L} = \frac{1}{2}\|h - t\|^2$$
"""
    claim = one(rf"$$\bar{{a}} = \bar{{h}} \odot (1 - h \odot h) = {written}$$", problem)
    assert [s.latex for s in claim.steps] == [r"\bar{h} \odot (1 - h \odot h)", written]
    assert [s.verdict for s in claim.steps] == ["correct", "correct"]


# ---- the public API takes the model new_model() returns; reprs stay small; Greek names -----

def _sym_model():
    from sympy import MatrixSymbol, Symbol

    import symderiv
    a, c = sp.symbols("a c", integer=True, positive=True)
    m = symderiv.new_model()
    x = m.input(MatrixSymbol("x", a, 1))
    W = m.input("W", (c, a))
    mu = m.input(MatrixSymbol("mu", c, 1))
    v = m.input("v", ("c", 1))
    t = m.input(Symbol("t"), domain="binary")
    z = m.define("z", W * x + mu)
    y = m.define("y", symderiv.elementwise("sigma", v.T * z))
    m.define("l", -t * sp.log(y) - (1 - t) * sp.log(1 - y))
    return m


def test_assert_adjoint_takes_new_model() -> None:
    from symderiv.testing import assert_adjoint
    m = _sym_model()
    assert assert_adjoint(m, "W", r"(y - t) v x^\top").verdict == "correct"
    assert assert_adjoint(m, "mu", r"\bar{z}").verdict == "correct"  # `\mu` is the model's `mu`
    with pytest.raises(AssertionError, match=r"answer: .*y - t"):
        assert_adjoint(m, "mu", r"(y + t) v")


@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_strategies_take_new_model(data: st.DataObject) -> None:
    from symderiv.verify.strategies import sizes, values
    m = _sym_model()
    env = data.draw(instances(m))
    assert set(env.values) >= {"x", "W", "mu", "v", "t"}
    dims = data.draw(sizes(m))
    assert set(data.draw(values(m, dims)).values) >= {"x", "W"}


def test_reprs_are_bounded() -> None:
    import symderiv
    m = _sym_model()
    symderiv.check_expression(m, "W", r"(y - t) v x^\top")
    symderiv.gradient(m, "W")
    assert len(repr(m)) < 500 and "mu" in repr(m)
    assert len(repr(m.derived())) < 500 and len(repr(m.instances())) < 500
    e: o.Expr = X
    for _ in range(40):  # a shared DAG: the full repr would have 2^40 leaves
        e = o.Hadamard(e, e)
    assert len(repr(e)) <= o.REPR_BUDGET + 1 and repr(e).startswith("Hadamard(a=Hadamard(")
    assert repr(o.Apply("tanh", X)) == "Apply(fn='tanh', a=Var(name='x', shp=('n', 1)))"


def test_greek_names_print_as_commands() -> None:
    import symderiv
    from symderiv.names import bar_latex, name_latex
    assert r"\bar{\mu} &= \bar{z}" in symderiv.latex(_sym_model())
    assert name_latex("mu_1") == r"\mu_1" and bar_latex("eta") == r"\bar{\eta}"
    assert name_latex("\\mu") == "\\mu" and name_latex("mux") == "mux" and name_latex("m") == "m"


# ---- a fresh clone runs every test: the vendored development set is the shared one -------

def test_vendored_devset_is_current() -> None:
    """tests/data/devset holds every supported problem; where the shared set is beside this
    checkout, the copy equals it (refresh with `python tests/devset.py`)."""
    import devset
    held = devset.vendored_files(devset.VENDORED)
    assert {rel.split("/")[0] for rel in held if "/" in rel} == set(devset.SUPPORTED)
    assert all(f"{name}/problem.md" in held for name in devset.SUPPORTED)
    if devset.SHARED.is_dir():
        assert held == devset.vendored_files(devset.SHARED), "run `python tests/devset.py`"
