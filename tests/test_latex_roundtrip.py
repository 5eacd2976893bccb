"""Printed LaTeX read back by our own reader means the same thing; scalar_simplify keeps values.

parse -> resolve -> evaluate of every printed definition, local adjoint and expanded adjoint
must agree with the printed expression on the sampled instances (and the adjoints with the
truth), for every model of the zoo and a kitchen-sink model that uses every op.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from symderiv.derive.adjoints import Adjoints, derive
from symderiv.derive.scalar import scalar_simplify
from symderiv.model import ops as o
from symderiv.model import walk
from symderiv.model.graph import Model
from symderiv.report.latex import to_latex
from symderiv.verify.equivalence import Instances, agree

F = Fraction


def kitchen() -> Model:
    """Every op once: inverse, diag both ways, det, trace, sums, powers, all functions."""
    m = Model()
    x = m.declare("x", ("n", 1), "positive")
    A = m.declare("A", ("n", "n"))
    B = m.declare("B_2", ("m", "n"))
    c = m.declare("c", (1, 1), "positive")
    u = m.declare("u", ("m", 1))
    X = m.declare("X", ("m", "n"))
    p = m.define("p", o.matmul(o.Inverse(A), x))
    q = m.define("q", o.matmul(o.Diag(x), o.matmul(o.transpose(B), u)))
    g = m.define("g", o.hadamard(o.hadamard(o.DiagPart(A), o.apply("exp", x)), o.apply("softplus", x)))
    k = m.define("k", o.apply("relu", o.matmul(B, x)))
    w = m.define("w", o.add(o.power(x, F(3)), o.power(x, F(-1)), o.scale(o.const(F(-1, 2)), o.power(x, F(-2)))))
    d = m.define("d", o.add(o.Det(A), o.Trace(o.matmul(A, o.matmul(o.transpose(B), B))), o.Sum(X)))
    e = m.define("e", o.add(o.apply("dsigma", q), o.apply("dtanh", g), o.apply("tanh", p), o.power(w, F(2))))
    f = m.define("f", o.Softmax(o.add(k, u)))
    h = m.define("h", o.LogSoftmax(k))
    m.define("\\mathcal{L}", o.add(
        o.scale(o.power(c, F(2)), o.Sum(e)), o.scale(d, o.power(c, F(-1))), o.matmul(o.transpose(f), h),
        o.scale(o.const(F(1, 2)), o.Sum(o.hadamard(p, p))), o.Sum(o.power(x, F(1, 2)))))
    return m


def _models() -> dict[str, Model]:
    """The zoo, the kitchen sink, the shipped problems and the supported development set."""
    import conftest
    import devset
    out = {name: make().model for name, make in conftest.ZOO.items()}
    out["kitchen"] = kitchen()
    root = Path(__file__).resolve().parents[1]
    for problem in sorted((root / "derivations").glob("*/problem.md")):
        out[f"shipped:{problem.parent.name}"] = _model_of(problem)
    for name in devset.problems():
        out[f"devset:{name}"] = _model_of(devset.DEVSET / name / "problem.md")
    return out


def _model_of(problem: Path) -> Model:
    """The problem's model; a problem over steps or layers, unrolled at a count of 3 (its
    generic rows' round trip is in test_families)."""
    import dataclasses

    from symderiv.load import load_documents, load_model
    from symderiv.meaning.build import build_model
    from symderiv.meaning.families import read_families, unrolled
    doc = load_documents([str(problem)])[0]
    fp = read_families(doc.statements)
    if fp is None:
        return load_model([str(problem)])
    return build_model(dataclasses.replace(doc, statements=tuple(unrolled(fp, {c: 3 for c in fp.counts}))))[0]


MODELS = _models()


@pytest.fixture(scope="module", params=sorted(MODELS), ids=str)
def derived(request: pytest.FixtureRequest) -> tuple[Adjoints, Instances]:
    adj = derive(MODELS[request.param])
    return adj, Instances(adj)


def test_scalar_simplify_seed_gives_y_minus_t() -> None:
    import conftest
    adj = derive(conftest.gated_unit().model)
    raw = adj.expanded("z_y")
    assert to_latex(raw) != "y - t"
    assert to_latex(scalar_simplify(raw)) == "y - t"
    assert to_latex(scalar_simplify(adj.expanded("W"))) == r"\left(y - t\right) \left(v \odot s\right) x^\top"


def test_scalar_simplify_cancels_and_keeps_atoms() -> None:
    d, c = o.Var("d", (1, 1)), o.Var("c", (1, 1))
    X = o.Var("X", ("n", "n"))
    e = o.scale(o.scale(o.power(d, F(-1)), d), o.transpose(o.Inverse(X)))
    assert to_latex(scalar_simplify(e)) == r"X^{-\top}"
    vh = o.matmul(o.transpose(o.Var("v", ("n", 1))), o.Var("h", ("n", 1)))  # a 1x1 atom
    e2 = o.add(o.scale(vh, c), o.scale(o.const(2), o.scale(c, vh)))
    assert to_latex(scalar_simplify(e2)) == r"3 c v^\top h"
    assert scalar_simplify(X) is X


def test_scalar_simplify_keeps_values(derived: tuple[Adjoints, Instances]) -> None:
    adj, inst = derived
    for n in adj.order():
        raw = adj.expanded(n)
        assert agree(inst.values(scalar_simplify(raw)), inst.values(raw)), n


def _reread(text: str, model: Model, like: o.Expr) -> o.Expr:
    from symderiv.meaning.resolve import Scope, resolve
    from symderiv.read.parse import parse_expression
    e = resolve(parse_expression(text), Scope(model, source=text))
    assert o.unify(e.shape[0], like.shape[0]) and o.unify(e.shape[1], like.shape[1])
    return e


def test_printed_latex_reads_back(derived: tuple[Adjoints, Instances]) -> None:
    pytest.importorskip("symderiv.read.parse", reason="the reader (symderiv.read.parse) is not there yet")
    adj, inst = derived
    model = adj.model
    cases = [(n, "definition", model.symbols[n].definition) for n in model.nodes]
    for n in adj.order():
        cases += [(n, "local", adj.local[n]), (n, "expanded", scalar_simplify(adj.expanded(n)))]
    for name, kind, e in cases:
        text = to_latex(e)
        back = _reread(text, model, e)
        assert agree(inst.values(back), inst.values(e)), f"{kind} {name}: {text}"
        if kind != "definition":
            assert agree(inst.values(e), inst.bars(name)), f"{kind} {name}: {text}"


def test_expanded_output_reads_back(derived: tuple[Adjoints, Instances]) -> None:
    """`--expanded`: rows in inputs, parameters and named values only; each reads back true."""
    from symderiv.report.expand import name_shared
    adj, inst = derived
    model = adj.model
    order = adj.order()
    where, rows = name_shared(model, [adj.expanded(n) for n in order])
    named = [n for n, _ in where]
    for n, e in where:  # a named value is the model's own
        back = _reread(to_latex(e), model, e)
        assert agree(inst.values(back), inst.values(o.Var(n, model.shape(n)))), n
    allowed = set(model.inputs) | set(named)
    for n, e in zip(order, rows):
        used = {x.name for x in walk.nodes(e) if isinstance(x, (o.Var, o.Bar))}
        assert used <= allowed, f"{n}: {used - allowed} are neither inputs, parameters nor named"
        text = to_latex(e)
        assert agree(inst.values(_reread(text, model, e)), inst.bars(n)), f"{n}: {text}"
    for i, (n, e) in enumerate(where):  # each named value uses only what is named before it
        used = {x.name for x in walk.nodes(e) if isinstance(x, o.Var)}
        assert used <= set(model.inputs) | set(named[:i]), n


def test_abbreviated_output_reads_back(derived: tuple[Adjoints, Instances]) -> None:
    """`--expanded` with every repeated subexpression of more than 3 nodes named (far more
    than the printer names): each abbreviation row is read into the scope, and every
    adjoint row that uses them reads back as the true adjoint."""
    from symderiv.derive.simplify import substitute
    from symderiv.meaning.resolve import Scope, resolve
    from symderiv.read.parse import parse_expression
    from symderiv.report.expand import abbreviate, fresh_letter, name_shared
    adj, inst = derived
    model = adj.model
    order = adj.order()
    _, rows = name_shared(model, [adj.expanded(n) for n in order])
    lines = abbreviate(list(zip(order, rows)), fresh_letter(model), limit=3)
    local: dict[str, o.Expr] = {}
    adjoint_rows = iter(order)
    for lhs, e in lines:
        text = to_latex(e)
        back = resolve(parse_expression(text), Scope(model, dict(local), source=text))
        assert o.unify(back.shape[0], e.shape[0]) and o.unify(back.shape[1], e.shape[1])  # as the left side does
        if lhs.startswith("\\bar"):
            n = next(adjoint_rows)
            assert agree(inst.values(back), inst.bars(n)), f"{lhs} = {text}"
        else:  # its value, the earlier abbreviations replaced by what they were read as
            assert agree(inst.values(back), inst.values(substitute(e, local, kind=o.Var))), f"{lhs} = {text}"
            local[parse_expression(lhs).name] = back  # type: ignore[attr-defined]
    assert next(adjoint_rows, None) is None


def test_printer_precedence_reads_back() -> None:
    """Hand-made operands in every precedence position, evaluated after re-reading."""
    pytest.importorskip("symderiv.read.parse", reason="the reader (symderiv.read.parse) is not there yet")
    m = Model()
    a, b = m.declare("a", ("n", 1)), m.declare("b", ("n", 1))
    M = m.declare("M", ("n", "n"))
    s = m.declare("s", (1, 1), "positive")
    m.define("l", o.matmul(o.transpose(a), b))
    exprs = [
        o.matmul(M, o.neg(o.hadamard(a, b))),
        o.hadamard(o.neg(a), o.neg(b)),
        o.matmul(o.transpose(o.neg(M)), o.sub(a, o.scale(s, b))),
        o.scale(o.sub(s, o.const(1)), o.hadamard(o.add(a, b), o.power(b, F(2)))),
        o.power(o.add(a, b), F(-1)),
        o.scale(o.power(o.add(s, o.const(2)), F(-1)), o.matmul(o.Inverse(M), a)),
        o.sub(o.neg(a), o.neg(o.hadamard(a, o.neg(b)))),
        o.add(o.scale(o.const(F(-1, 3)), a), o.matmul(o.matmul(o.transpose(a), b), b)),
        o.hadamard(o.Ones(("n", 1)), o.sub(o.Ones(("n", 1)), o.apply("tanh", a))),
        o.matmul(o.Diag(a), o.apply("step", o.sub(b, a))),
        o.scale(o.Sum(o.hadamard(a, a)), o.transpose(o.DiagPart(M))),
        o.matmul(o.matmul(o.matmul(M, M), M), a),  # M^{3} a
        o.Inverse(o.matmul(M, M)),  # M^{-2}
        o.transpose(o.Inverse(o.matmul(o.matmul(M, M), M))),
        o.transpose(o.Inverse(M)),  # M^{-\top}
        o.matmul(o.transpose(a), o.matmul(o.matmul(M, o.transpose(M)), o.matmul(M, a))),
    ]
    adj = derive(m)
    inst = Instances(adj)
    for e in exprs:
        text = to_latex(e)
        assert agree(inst.values(_reread(text, m, e)), inst.values(e)), text


def test_instances_are_informative(derived: tuple[Adjoints, Instances]) -> None:
    """The round trips above compare on sizes >= 2 as well as 1 (so transposes would show)."""
    _, inst = derived
    assert any(min(env.dims.values(), default=2) >= 2 for env in inst.envs)
    assert all(np.all(np.isfinite(v)) for env in inst.envs for v in env.values.values())


def test_no_two_numbers_side_by_side(derived: tuple[Adjoints, Instances]) -> None:
    """`2 1 x` typesets as 21x, `\\frac{1}{2} 3` as one half of 3x: a number never follows a
    number or a fraction with only a space between (local and expanded output)."""
    import re

    from symderiv.report.latex import derivation_latex
    adj, _ = derived
    for expanded in (False, True):
        text = derivation_latex(adj, expanded=expanded)
        bad = re.search(r"(\d|\\frac\{[^{}]*\}\{[^{}]*\})\s+\d", text)
        assert bad is None, text[max(0, bad.start() - 40):bad.end() + 40]
