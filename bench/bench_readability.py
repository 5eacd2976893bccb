"""Readability of `symderiv latex`: printed length against the textbook form.

For each reference (a small problem, a symbol, and the result as a textbook or the Matrix
Cookbook writes it) the expanded adjoint is printed and both are counted in tokens: a
command (`\\top`, `\\odot`, `\\frac`), a name, a number or one operator symbol; braces and
`\\left`/`\\right` are not counted. The ratio printed/reference is reported per identity,
with the median and the maximum. Goal (issue 16): median <= 1.25, none above 2.

    python bench/bench_readability.py
"""
from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: (name, declarations, forward pass, symbol, the textbook result)
REFERENCES = [
    ("cookbook (69) a^T X b", r"a \in \mathbb{R}^{n}, \quad b \in \mathbb{R}^{m}, \quad X \in \mathbb{R}^{n \times m}",
     [r"f = a^\top X b"], "X", r"a b^\top"),
    ("cookbook (70) a^T X^T b", r"a \in \mathbb{R}^{n}, \quad b \in \mathbb{R}^{m}, \quad X \in \mathbb{R}^{m \times n}",
     [r"f = a^\top X^\top b"], "X", r"b a^\top"),
    ("cookbook (81) x^T B x", r"x \in \mathbb{R}^{n}, \quad B \in \mathbb{R}^{n \times n}",
     [r"f = x^\top B x"], "x", r"B x + B^\top x"),
    ("cookbook (100) tr(A X B)", r"A \in \mathbb{R}^{p \times n}, \quad X \in \mathbb{R}^{n \times m}, \quad B \in \mathbb{R}^{m \times p}",
     [r"f = \operatorname{tr}(A X B)"], "X", r"A^\top B^\top"),
    ("cookbook (103) tr(X^T X)", r"X \in \mathbb{R}^{n \times m}",
     [r"f = \operatorname{tr}(X^\top X)"], "X", r"2 X"),
    ("cookbook (57) log det X", r"X \in \mathbb{R}^{n \times n}",
     [r"f = \log \det X"], "X", r"X^{-\top}"),
    ("cookbook (49) det X", r"X \in \mathbb{R}^{n \times n}",
     [r"f = \det X"], "X", r"\det(X) X^{-\top}"),
    ("cookbook (117) tr(X B X^T)", r"X \in \mathbb{R}^{n \times m}, \quad B \in \mathbb{R}^{m \times m}",
     [r"f = \operatorname{tr}(X B X^\top)"], "X", r"X B^\top + X B"),
    ("least squares", r"x \in \mathbb{R}^{n}, \quad b \in \mathbb{R}^{m}, \quad A \in \mathbb{R}^{m \times n}",
     [r"r = A x - b", r"f = r^\top r"], "x", r"2 A^\top (A x - b)"),
    ("squared error scalar", r"y, t \in \mathbb{R}", [r"L = \frac{1}{2}(y - t)^2"], "t", r"t - y"),
    ("negated affine", r"a, x \in \mathbb{R}^{n}, \quad c, \nu \in \mathbb{R}",
     [r"L = -\nu(a^\top x + c)"], "\\nu", r"-a^\top x - c"),
    ("trace of a 1x1", r"x \in \mathbb{R}^{n}", [r"f = \operatorname{tr}(x^\top x)"], "x", r"2 x"),
    ("linear layer", r"x \in \mathbb{R}^{n}, \quad t \in \mathbb{R}^{m}, \quad W \in \mathbb{R}^{m \times n}",
     [r"e = W x - t", r"L = \frac{1}{2} e^\top e"], "W", r"(W x - t) x^\top"),
    ("cookbook (100') tr(A X)", r"A \in \mathbb{R}^{m \times n}, \quad X \in \mathbb{R}^{n \times m}",
     [r"f = \operatorname{tr}(A X)"], "X", r"A^\top"),
    ("cookbook (101) tr(X^T A)", r"A \in \mathbb{R}^{n \times m}, \quad X \in \mathbb{R}^{n \times m}",
     [r"f = \operatorname{tr}(X^\top A)"], "X", r"A"),
    ("cookbook (106) tr(X X)", r"X \in \mathbb{R}^{n \times n}",
     [r"f = \operatorname{tr}(X X)"], "X", r"2 X^\top"),
    ("cookbook (108) tr(X^T B X)", r"X \in \mathbb{R}^{n \times m}, \quad B \in \mathbb{R}^{n \times n}",
     [r"f = \operatorname{tr}(X^\top B X)"], "X", r"B X + B^\top X"),
    ("cookbook (116) tr(A X^T)", r"A \in \mathbb{R}^{n \times m}, \quad X \in \mathbb{R}^{n \times m}",
     [r"f = \operatorname{tr}(A X^\top)"], "X", r"A"),
    ("cookbook (61) a^T X^-1 b", r"a, b \in \mathbb{R}^{n}, \quad X \in \mathbb{R}^{n \times n}",
     [r"f = a^\top X^{-1} b"], "X", r"-X^{-\top} a b^\top X^{-\top}"),
    ("cookbook (113) tr(A X^-1 B)", r"A, B, X \in \mathbb{R}^{n \times n}",
     [r"f = \operatorname{tr}(A X^{-1} B)"], "X", r"-X^{-\top} A^\top B^\top X^{-\top}"),
    ("cookbook (72) a^T X a", r"a \in \mathbb{R}^{n}, \quad X \in \mathbb{R}^{n \times n}",
     [r"f = a^\top X a"], "X", r"a a^\top"),
    ("cookbook (77) b^T X^T X c", r"b, c \in \mathbb{R}^{m}, \quad X \in \mathbb{R}^{n \times m}",
     [r"f = b^\top X^\top X c"], "X", r"X c b^\top + X b c^\top"),
    ("x^T A x, A symmetric", r"x \in \mathbb{R}^{n}, \quad A \in \mathbb{R}^{n \times n}, \quad A^\top = A",
     [r"f = x^\top A x"], "x", r"2 A x"),
    ("x^T x", r"x \in \mathbb{R}^{n}", [r"f = x^\top x"], "x", r"2 x"),
    ("sum of exp", r"x \in \mathbb{R}^{n}", [r"f = \mathbf{1}^\top \exp(x)"], "x", r"\exp(x)"),
    ("weight decay", r"w \in \mathbb{R}^{n}, \quad \lambda \in \mathbb{R}",
     [r"f = \frac{\lambda}{2} w^\top w"], "w", r"\lambda w"),
    ("logistic regression", r"x, w \in \mathbb{R}^{n}, \quad t \in \{0,1\}",
     [r"y = \sigma(w^\top x)", r"L = -t \log(y) - (1 - t) \log(1 - y)"], "w", r"(y - t) x"),
    ("softmax CE, one-hot", r"z, t \in \mathbb{R}^{k}, \quad \mathbf{1}^\top t = 1",
     [r"p = \operatorname{softmax}(z)", r"L = -t^\top \log(p)"], "z", r"p - t"),
    ("softmax CE, any target", r"z, t \in \mathbb{R}^{k}",
     [r"p = \operatorname{softmax}(z)", r"L = -t^\top \log(p)"], "z", r"(\mathbf{1}^\top t) p - t"),
    ("tanh layer", r"x \in \mathbb{R}^{n}, \quad W \in \mathbb{R}^{m \times n}, \quad t \in \mathbb{R}^{m}",
     [r"h = \tanh(W x)", r"L = \frac{1}{2} (h - t)^\top (h - t)"], "W",
     r"((h - t) \odot (1 - h \odot h)) x^\top"),
    ("sigmoid BCE (seed)", None, None, "z_y", r"y - t"),
    ("sigmoid BCE (seed)", None, None, "W", r"(y - t) (v \odot s) x^\top"),
]

def _printed(decl: str | None, forward: list[str] | None, symbol: str) -> str:
    from symderiv.derive.adjoints import derive
    from symderiv.load import load_model
    from symderiv.report.expand import name_shared
    from symderiv.report.latex import to_latex

    if decl is None:
        path = ROOT / "derivations" / "gated-unit" / "problem.md"
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write(f"$${decl}$$\n\n" + "\n".join(f"$${line}$$" for line in forward or []) + "\n")
            path = Path(f.name)
    model = load_model([str(path)])
    adj = derive(model)
    order = adj.order()
    _, rows = name_shared(model, [adj.expanded(n) for n in order])
    return to_latex(rows[order.index(symbol)])


def main() -> int:
    from symderiv.report.latex import tokens
    ratios = []
    print(f"{'identity':28} {'ratio':>6}  printed  |  reference")
    for name, decl, forward, symbol, ref in REFERENCES:
        try:
            got = _printed(decl, forward, symbol)
        except Exception as err:  # a reference symderiv cannot derive is a failure of the bench
            print(f"{name:28}  error  {type(err).__name__}: {err}")
            ratios.append(float("inf"))
            continue
        r = tokens(got) / tokens(ref)
        ratios.append(r)
        print(f"{name:28} {r:6.2f}  {got}  |  {ref}")
    med, worst = statistics.median(ratios), max(ratios)
    print(f"\nmedian ratio {med:.2f} (goal <= 1.25), max {worst:.2f} (goal <= 2); "
          f"{sum(r > 2 for r in ratios)} of {len(ratios)} above 2x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
