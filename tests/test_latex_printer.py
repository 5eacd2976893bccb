"""The LaTeX printer: students' notation, the reader's precedence, deep expressions."""
from __future__ import annotations

import shutil
import subprocess
import sys
import traceback
from fractions import Fraction

import pytest

from symderiv.derive.adjoints import derive
from symderiv.derive.scalar import scalar_simplify
from symderiv.model import ops as o
from symderiv.model.graph import Model
from symderiv.report.latex import bar_latex, derivation_latex, to_latex

F = Fraction


def v(name: str, rows: o.Dim = "n", cols: o.Dim = 1) -> o.Var:
    return o.Var(name, (rows, cols))


def s(name: str) -> o.Var:
    return o.Var(name, (1, 1))


x, h, z, u = v("x"), v("h"), v("z"), v("u")
W, X = v("W", "m", "n"), v("X", "n", "n")
t, y = s("t"), s("y")
hbar = o.Bar("h", ("n", 1))


CASES = [
    # Hadamard inside a product needs parentheses; the bar of a node
    (o.matmul(o.hadamard(hbar, h), o.transpose(x)), r"\left(\bar{h} \odot h\right) x^\top"),
    (o.hadamard(o.matmul(v("A", "n", "m"), o.matmul(W, x)), h), r"A W x \odot h"),
    (o.matmul(o.transpose(W), o.add(o.matmul(W, x), v("b", "m"))),
     r"W^\top \left(W x + b\right)"),
    (o.transpose(o.matmul(W, x)), r"\left(W x\right)^\top"),
    (o.hadamard(h, o.hadamard(x, z)), r"h \odot x \odot z"),
    (o.hadamard(o.add(h, x), z), r"\left(h + x\right) \odot z"),
    # functions
    (o.apply("sigma", z), r"\sigma(z)"),
    (o.apply("dsigma", z), r"\sigma'(z)"),
    (o.apply("dtanh", z), r"\tanh'(z)"),
    (o.apply("step", u), r"\mathbb{I}[u > 0]"),
    (o.apply("relu", u), r"\mathrm{ReLU}(u)"),
    (o.apply("log", y), r"\log(y)"),
    (o.apply("exp", x), r"\exp(x)"),
    (o.apply("softplus", x), r"\operatorname{softplus}(x)"),
    (o.Diag(x), r"\operatorname{diag}(x)"),
    (o.DiagPart(X), r"\operatorname{diag}(X)"),
    (o.Trace(X), r"\operatorname{tr}(X)"),
    (o.Det(X), r"\det(X)"),
    (o.Softmax(z), r"\operatorname{softmax}(z)"),
    (o.LogSoftmax(z), r"\log(\operatorname{softmax}(z))"),
    (o.Inverse(X), r"X^{-1}"),
    (o.transpose(o.Inverse(X)), r"X^{-\top}"),
    # constants
    (o.Ones(("n", 1)), r"\mathbf{1}"),
    (o.Ones((1, "n")), r"\mathbf{1}^\top"),
    (o.Ones(("n", "m")), r"\mathbf{1}\mathbf{1}^\top"),
    (o.Eye("n"), "I"),
    (o.Zero(("n", 1)), "0"),
    (o.sub(o.Ones(("n", 1)), o.hadamard(h, h)), r"\mathbf{1} - h \odot h"),
    # scalars, fractions and signs
    (o.scale(o.const(F(1, 2)), x), r"\frac{1}{2} x"),
    (o.const(F(-3, 4)), r"-\frac{3}{4}"),
    (o.sub(x, o.scale(o.const(2), h)), r"x - 2 h"),
    (o.neg(o.matmul(W, x)), r"-W x"),
    (o.neg(o.add(x, h)), r"-\left(x + h\right)"),
    (o.neg(o.hadamard(x, h)), r"-x \odot h"),
    (o.matmul(o.transpose(W), o.neg(o.matmul(W, x))), r"-W^\top W x"),  # the minus floats to the front
    (o.scale(t, o.power(y, F(-1))), r"\frac{t}{y}"),
    (o.power(o.sub(o.const(1), y), F(-1)), r"\frac{1}{1 - y}"),
    (o.scale(o.scale(o.sub(t, y), o.power(y, F(-1))), o.power(o.sub(o.const(1), y), F(-1))),
     r"\frac{t - y}{y \left(1 - y\right)}"),
    (o.scale(o.sub(y, t), x), r"\left(y - t\right) x"),
    (o.scale(o.scale(t, o.power(y, F(-2))), x), r"\frac{t}{y^{2}} x"),
    (o.power(y, F(2)), r"y^{2}"),
    (o.power(y, F(1, 2)), r"y^{\frac{1}{2}}"),
    # elementwise powers of vectors and matrices
    (o.power(h, F(2)), r"h \odot h"),
    (o.power(h, F(3)), r"h^{3}"),
    (o.power(X, F(3)), r"X \odot X \odot X"),
    (o.power(h, F(-1)), r"\frac{1}{h}"),
    (o.power(h, F(-2)), r"\frac{1}{h \odot h}"),
    (o.hadamard(x, o.power(h, F(-1))), r"\frac{x}{h}"),
    (o.hadamard(o.power(h, F(-2)), o.add(x, z)), r"\frac{x + z}{h \odot h}"),
    (o.matmul(W, o.hadamard(x, o.power(h, F(-1)))), r"W \frac{x}{h}"),
    # sums of entries
    (o.Sum(o.hadamard(h, h)), r"\|h\|^2"),
    (o.Sum(o.power(X, F(2))), r"\|X\|_F^2"),
    (o.Sum(h), r"\mathbf{1}^\top h"),
    (o.Sum(W), r"\mathbf{1}^\top W \mathbf{1}"),
    (o.matmul(o.transpose(v("v")), h), r"v^\top h"),
]


@pytest.mark.parametrize("expr,want", CASES, ids=[w for _, w in CASES])
def test_printer_case(expr: o.Expr, want: str) -> None:
    assert to_latex(expr) == want


@pytest.mark.parametrize("name,want", [
    ("z_y", r"\bar{z}_y"), ("W_2", r"\bar{W}_2"), ("\\eta", r"\bar{\eta}"), ("W", r"\bar{W}"),
    ("\\mathcal{L}", r"\bar{\mathcal{L}}"), ("W_{12}", r"\bar{W}_{12}"), ("W_12", r"\bar{W}_{12}"),
    ("\\hat{y}", r"\bar{\hat{y}}"),
])
def test_bar_names(name: str, want: str) -> None:
    assert bar_latex(name) == want
    assert to_latex(o.Bar(name, ("n", 1))) == want


def test_names_as_declared_and_renamed() -> None:
    e = o.scale(o.Var("\\eta", (1, 1)), o.Var("z_y", ("n", 1)))
    assert to_latex(e) == r"\eta z_y"
    assert to_latex(e, {"\\eta": "\\alpha", "z_y": "\\mathbf{z}_y"}) == r"\alpha \mathbf{z}_y"
    assert to_latex(o.Bar("z_y", ("n", 1)), {"z_y": "q_y"}) == r"\bar{q}_y"


def test_shared_subtree_printed_once_per_use() -> None:
    a = o.add(x, h)
    e = o.hadamard(a, a)
    assert to_latex(e) == r"\left(x + h\right) \odot \left(x + h\right)"


def _seed_model() -> Model:
    import conftest
    return conftest.gated_unit().model


def test_derivation_local_seed() -> None:
    adj = derive(_seed_model())
    out = derivation_latex(adj)
    rows = out.strip().splitlines()
    assert rows[0] == r"\begin{align*}" and rows[-1] == r"\end{align*}"
    assert rows[1] == r"\bar{l} &= 1 \\"
    assert r"\bar{z}_y &= \bar{y} y \left(1 - y\right) \\" in rows
    assert r"\bar{W} &= \bar{z} x^\top \\" in rows
    assert r"\bar{\eta} &= U^\top \bar{s} \\" in rows
    # one row per symbol, in backprop order, no trailing \\ on the last row
    assert len(rows) == 2 + len(adj.order())
    assert [r.split(" &=")[0] for r in rows[1:-1]] == [bar_latex(n) for n in adj.order()]
    assert not rows[-2].endswith("\\\\")


def test_derivation_expanded_seed() -> None:
    out = derivation_latex(derive(_seed_model()), expanded=True)
    assert r"\bar{z}_y &= y - t \\" in out
    assert r"\bar{W} &= \left(y - t\right) \left(v \odot s\right) x^\top \\" in out
    assert r"\bar{h} &= \left(y - t\right) v \\" in out


def test_standalone_document() -> None:
    doc = derivation_latex(derive(_seed_model()), expanded=True, standalone=True)
    assert doc.startswith("\\documentclass")
    assert "\\usepackage{amsmath,amssymb}" in doc
    assert doc.index("\\begin{document}") < doc.index("\\begin{align*}") < doc.index("\\end{document}")
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed; the document's structure was checked")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_standalone_compiles(tmp_path) -> None:  # pragma: no cover - needs TeX
    """Every shipped model and the kitchen sink (every op), local and expanded, typeset cleanly."""
    import conftest
    from test_latex_roundtrip import kitchen
    models = [make().model for make in conftest.ZOO.values()] + [kitchen()]
    for i, model in enumerate(models):
        for expanded in (False, True):
            doc = derivation_latex(derive(model), expanded=expanded, standalone=True)
            assert "\\mathbb{1}" not in doc  # amssymb has no blackboard 1 (it prints as another glyph)
            (tmp_path / f"d{i}.tex").write_text(doc)
            r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"d{i}.tex"],
                               cwd=tmp_path, capture_output=True, timeout=120, check=False)
            log = (tmp_path / f"d{i}.log").read_text(errors="replace")
            assert r.returncode == 0, log[-2000:]
            assert "Missing character" not in log and "Undefined control sequence" not in log


# ---- deep networks ---------------------------------------------------------------------

def _depth(e: o.Expr) -> int:
    best, stack, seen = 0, [(e, 1)], set()
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        if (id(node), d) not in seen:
            seen.add((id(node), d))
            stack.extend((a, d + 1) for a in node.args)
    return best


def tanh_net(layers: int = 64) -> Model:
    m = Model()
    a = m.declare("x", ("d", 1))
    for i in range(1, layers + 1):
        w = m.declare(f"W_{{{i}}}", ("d", "d"))
        a = m.define(f"h_{{{i}}}", o.apply("tanh", o.matmul(w, a)))
    m.define("\\mathcal{L}", o.scale(o.const(F(1, 2)), o.Sum(o.hadamard(a, a))))
    return m


class _ShallowStack:
    """Run with the recursion limit only `room` frames above the current depth."""

    def __init__(self, room: int = 60) -> None:
        self.room = room

    def __enter__(self) -> None:
        self.old = sys.getrecursionlimit()
        sys.setrecursionlimit(len(traceback.extract_stack()) + self.room)

    def __exit__(self, *exc: object) -> None:
        sys.setrecursionlimit(self.old)


def test_64_layer_tanh_net() -> None:
    m = tanh_net(64)
    adj = derive(m)
    deep = adj.expanded("x")
    assert _depth(deep) > 128
    with _ShallowStack():
        text = to_latex(deep)
    assert text.startswith(r"W_{1}^\top \left(W_{2}^\top \left(")
    assert text.count(r"\left(") == text.count(r"\right)")
    with _ShallowStack():
        doc = derivation_latex(adj, expanded=True, standalone=True)
    named = [r for r in doc.splitlines() if " &= " in r and not r.startswith("\\bar")]
    assert doc.count(" &= ") == len(adj.order()) + len(named)
    assert any(r.startswith("h_{63} &= ") for r in named)  # used by several rows: named once
    assert r"\bar{h}_{64} &= h_{64}" in doc
    assert derivation_latex(adj).count(" &= ") == len(adj.order())


def test_expanded_output_grows_linearly() -> None:
    """Shared subexpressions are named once: doubling the layers at most doubles the output
    (a size assert; the time is in bench/bench_expanded.py)."""
    size = {n: len(derivation_latex(derive(tanh_net(n)), expanded=True)) for n in (16, 32, 64)}
    assert size[32] / size[16] < 2.5 and size[64] / size[32] < 2.5, size
    doc = derivation_latex(derive(tanh_net(16)), expanded=True)
    assert "\\delta_1 &= " in doc  # the repeated backward parts have names


def test_deep_forward_expression() -> None:
    e: o.Expr = o.Var("x", ("d", 1))
    for i in range(1, 101):
        e = o.apply("tanh", o.matmul(o.Var(f"W_{{{i}}}", ("d", "d")), e))
    assert _depth(e) > 200
    with _ShallowStack():
        text = to_latex(e)
        assert to_latex(scalar_simplify(e)) == text
    assert text.startswith(r"\tanh(W_{100} \tanh(W_{99} ") and text.endswith("x" + ")" * 100)


def test_zero_adjoint_of_a_vector_reads_back(tmp_path) -> None:
    """An adjoint that is zero prints `0` whatever its shape, and `check` reads the literal 0
    as the zero of the target's shape; a 0 for a nonzero adjoint is still wrong."""
    from symderiv import check_files
    problem = tmp_path / "problem.md"
    problem.write_text("$$a \\in \\mathbb{R}^{n}, \\quad t \\in \\mathbb{R}^{n}, \\quad W \\in \\mathbb{R}^{m \\times n}$$\n\n"
                       "$$L = a^\\top a$$\n")
    from symderiv.load import load_model
    out = derivation_latex(derive(load_model([str(problem)])))
    assert "\\bar{t} &= 0" in out and "\\bar{W} &= 0" in out
    rows = [r.strip().rstrip("\\").replace("&", "").strip() for r in out.splitlines() if r.startswith("\\bar")]
    sheet = tmp_path / "answers.md"
    sheet.write_text("\n\n".join(f"$${r}$$" for r in rows + ["\\bar{a} = 0"]) + "\n")
    verdicts = [c.verdict for c in check_files([str(problem), str(sheet)]).claims if c.file == str(sheet)]
    assert verdicts == ["correct"] * len(rows) + ["incorrect"]


def test_abbreviated_expanded_output_checks_as_correct(tmp_path) -> None:
    """A 10-layer tanh network's `--expanded` output, with its `\\delta_k` rows and rows that
    use earlier adjoints, fed back to `check`: every claim is correct."""
    from symderiv import check_files
    from symderiv.load import load_model
    lines = ["$$x \\in \\mathbb{R}^{d}$$"] + [f"$$W_{{{k}}} \\in \\mathbb{{R}}^{{d \\times d}}$$" for k in range(1, 11)]
    prev = "x"
    for k in range(1, 11):
        lines.append(f"$$h_{{{k}}} = \\tanh(W_{{{k}}} {prev})$$")
        prev = f"h_{{{k}}}"
    lines.append(f"$$\\mathcal{{L}} = \\frac{{1}}{{2}} {prev}^\\top {prev}$$")
    problem = tmp_path / "problem.md"
    problem.write_text("\n\n".join(lines) + "\n")
    out = derivation_latex(derive(load_model([str(problem)])), expanded=True)
    assert "\\delta_1 &= " in out
    rows = [r.strip().rstrip("\\").replace("&", "").strip() for r in out.splitlines() if "&=" in r]
    sheet = tmp_path / "answers.md"
    sheet.write_text("\n\n".join(f"$${r}$$" for r in rows) + "\n")
    report = check_files([str(problem), str(sheet)])
    verdicts = {c.verdict for c in report.claims if c.file == str(sheet)}
    assert verdicts == {"correct"}
    assert sum(1 for c in report.claims if c.file == str(sheet) and c.kind == "adjoint") == 22
