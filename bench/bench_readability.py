"""Readability of `symderiv latex`: printed length against the textbook form.

For each reference (a small problem, a symbol, and the result as a textbook or the Matrix
Cookbook writes it) the expanded adjoint is printed and both are counted in tokens: a
command (`\\top`, `\\odot`, `\\frac`), a name, a number or one operator symbol; braces and
`\\left`/`\\right` are not counted. The ratio printed/reference is reported per identity,
with the median and the maximum. Goal (issue 16): median <= 1.25, none above 2.

    python bench/bench_readability.py
"""
from __future__ import annotations

import re
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
    ("sigmoid BCE (seed)", None, None, "z_y", r"y - t"),
    ("sigmoid BCE (seed)", None, None, "W", r"(y - t) (v \odot s) x^\top"),
]

TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z]|\d+|[^\s{}]")
IGNORED = {r"\left", r"\right", r"\operatorname", r"\mathbf", r"\mathrm"}


def tokens(latex: str) -> int:
    return sum(1 for t in TOKEN.findall(latex) if t not in IGNORED)


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
