"""Our expressions in the notation students write, and the derivation as an `align*` block.

Precedence is the reader's, from the one table in `read/precedence.py`: sum, `\\odot`,
juxtaposition, postfix, atoms. Each printed piece carries its level; an operand is put in
`\\left( \\right)` only when its level is below what the operator needs. A leading minus may
float to the front of a product or `\\odot` chain (negation commutes with both), so
`-a \\odot b` is printed bare; a negated sum is `-\\left(a + b\\right)`, and anywhere else a
negated operand gets parentheses. Two numbers are never juxtaposed (`3 \\cdot 2^{x}`).

Printing is iterative (an explicit stack, one visit per shared node), so a 64-layer network's
expanded adjoints print without touching the recursion limit.

What is printed is first put in its shortest form by the rewrite rules of `derive/tidy.py`
(and, expanded, with the scalar parts through `derive.scalar.scalar_simplify`).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import field
from fractions import Fraction
from typing import Any

from ..fastdataclass import dataclass
from ..model import ops as o
from ..model.elementwise import record
from ..model.ops import Expr
from ..model.walk import KeyMemo
from ..names import bar_latex, name_latex
from ..read.precedence import ATOM, HAD, POST, PROD, SUM, paren

Piece = tuple[str, int]
Get = Callable[[Expr], Piece]

MATRIX_FUNCS: dict[type, str] = {o.Det: "\\det", o.Trace: "\\operatorname{tr}", o.Diag: "\\operatorname{diag}",
                o.DiagPart: "\\operatorname{diag}", o.Softmax: "\\operatorname{softmax}"}


# ---- names -----------------------------------------------------------------------------

def _name_prec(text: str) -> int:
    return POST if "^" in text else ATOM


# ---- pieces ----------------------------------------------------------------------------

def wrap(p: Piece, need: int, first: bool = True) -> str:
    """The piece as an operand needing precedence `need`; a leading minus only when first."""
    s, prec = p
    if prec < need or (s.startswith("-") and not first) or (need >= PROD and _ones_product(p)):
        return paren(s)
    return s


def _ones_product(p: Piece) -> bool:
    """`\\mathbf{1}^\\top h` among factors: `\\mathbf{1}^\\top h x` would size the ones by `h x`."""
    return p[1] == PROD and p[0].startswith("\\mathbf{1}")


def _as_operand(p: Piece, need: int, first: bool = True) -> Piece:
    s = wrap(p, need, first)
    return (s, ATOM) if s != p[0] else p


def _juxt(items: list[Piece], first: bool = True) -> Piece:
    """Juxtaposition (product) of pieces; one piece alone keeps its precedence."""
    if len(items) == 1:
        return _as_operand(items[0], 0, first)
    out = wrap(items[0], PROD, first)
    for p in items[1:]:
        out += _glue(wrap(p, PROD, False))
    return out, PROD


def _glue(right: str) -> str:
    """The space of a juxtaposition, or `\\cdot` before a number (`3 2` would read as 32)."""
    return (" \\cdot " if right[:1].isdigit() else " ") + right


def _negate(p: Piece) -> Piece:
    s, prec = p
    if s.startswith("-") or prec < HAD:
        return "-" + paren(s), PROD
    return "-" + s, min(prec, PROD)


def _number(k: Fraction) -> str:
    sign = "-" if k < 0 else ""
    k = abs(k)
    return sign + (str(k.numerator) if k.denominator == 1 else f"\\frac{{{k.numerator}}}{{{k.denominator}}}")


def _sup(p: Piece, exp: str) -> Piece:
    return f"{wrap(p, ATOM, False)}^{{{exp}}}", POST


@dataclass
class _Factors:
    """A product: coef * num / den * rest, the scalars first and the matrices (rest) in order."""

    coef: Fraction = Fraction(1)
    num: list[Expr] = field(default_factory=list)
    den: list[tuple[Expr, Fraction]] = field(default_factory=list)
    rest: list[Expr] = field(default_factory=list)


def _is_product(x: Expr) -> bool:
    if isinstance(x, (o.Const, o.Scale)):
        return True
    if isinstance(x, o.Hadamard):
        return x.a.is_scalar or x.b.is_scalar
    if isinstance(x, o.MatMul):  # a chain with a scalar inside: the scalar goes first
        return x.a.is_scalar or x.b.is_scalar or _is_product(x.a) or _is_product(x.b)
    return isinstance(x, o.Pow) and x.is_scalar and x.k < 0


def _inner_product(x: Expr) -> bool:
    """A 1x1 product of matrices (`a^\\top b`): one factor, never merged into the outer chain."""
    return x.is_scalar and isinstance(x, o.MatMul) and not x.a.is_scalar


def _factors(e: Expr) -> _Factors:
    f = _Factors()
    work = [e]
    while work:
        x = work.pop()
        if isinstance(x, o.Const):
            f.coef *= x.value
        elif isinstance(x, (o.Eye, o.Ones)) and x.is_scalar:
            continue  # a 1x1 identity or ones (the trace of a 1x1) is the number 1
        elif isinstance(x, o.Scale) or (isinstance(x, (o.Hadamard, o.MatMul)) and _is_product(x)
                                        and (x is e or not _inner_product(x))):
            a, b = x.a, x.b  # type: ignore[attr-defined]
            if b.is_scalar and not a.is_scalar:
                a, b = b, a
            work.extend((b, a))  # a (the scalar) is taken first
        elif isinstance(x, o.Pow) and x.is_scalar and x.k < 0:
            f.den.append((x.a, -x.k))
        elif x.is_scalar:
            f.num.append(x)
        else:
            f.rest.append(x)
    return f


# ---- the printer -----------------------------------------------------------------------

class Printer:
    """Pieces for nodes, memoised by identity; `names` maps a symbol's name to its LaTeX."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = names or {}
        self.memo: dict[int, Piece] = {}
        self.plans: dict[int, tuple[list[Expr], Callable[[Get], Piece]]] = {}
        self.keep: list[Expr] = []
        self.key = KeyMemo()

    def latex(self, e: Expr) -> str:
        return self.piece(e)[0]

    def memo_of(self, x: Expr) -> Piece:
        return self.memo[id(x)]

    def piece(self, root: Expr) -> Piece:
        get: Get = self.memo_of
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            x, ready = stack.pop()
            if id(x) in self.memo:
                continue
            deps, render = self._plan(x)
            if not ready:
                todo = [d for d in deps if id(d) not in self.memo]
                if todo:
                    stack.append((x, True))
                    stack.extend((d, False) for d in todo)
                    continue
            self.memo[id(x)] = render(get)
            self.keep.append(x)
        return self.memo[id(root)]

    def _plan(self, x: Expr) -> tuple[list[Expr], Callable[[Get], Piece]]:
        plan = self.plans.get(id(x))
        if plan is None:
            plan = self.plans[id(x)] = self._make_plan(x)
        return plan

    def _make_plan(self, x: Expr) -> tuple[list[Expr], Callable[[Get], Piece]]:
        if isinstance(x, o.Var):
            text = name_latex(self.names.get(x.name, x.name))
            return [], lambda g: (text, _name_prec(text))
        if isinstance(x, o.Bar):
            text = bar_latex(self.names.get(x.name, x.name))
            return [], lambda g: (text, _name_prec(text))
        if isinstance(x, (o.Ones, o.Eye, o.Zero)):
            piece = _constant(x)
            return [], lambda g: piece
        if _is_product(x):
            f = _factors(x)
            return f.num + [b for b, _ in f.den] + f.rest, lambda g: _product(f, g)
        if isinstance(x, o.Add):
            return list(x.terms), lambda g: _sum([g(t) for t in x.terms])
        if isinstance(x, o.Hadamard):
            for num, den in ((x.a, x.b), (x.b, x.a)):
                if isinstance(den, o.Pow) and den.k < 0:  # y ⊙ p^{∘-1} is \frac{y}{p}
                    return [num, den.a], lambda g, n=num, d=den: _quotient(g(n), d, g(d.a))
            return [x.a, x.b], lambda g: (f"{wrap(g(x.a), HAD)} \\odot {wrap(g(x.b), HAD, False)}", HAD)
        if isinstance(x, o.MatMul):
            runs = self._runs(x)
            if runs is not None:  # X X X is X^{3} (a square matrix: it reads back as the matrix power)
                return [b for b, _ in runs], lambda g: _juxt([g(b) if k == 1 else _sup(g(b), str(k))
                                                              for b, k in runs])
            return [x.a, x.b], lambda g: (wrap(g(x.a), PROD) + _glue(wrap(g(x.b), PROD, False)), PROD)
        if isinstance(x, o.Inverse) and isinstance(x.a, o.MatMul):
            runs = self._runs(x.a)
            if runs is not None and len(runs) == 1:  # (X X)^{-1} is X^{-2}
                base, k = runs[0]
                return [base], lambda g: _sup(g(base), f"-{k}")
        if isinstance(x, o.Transpose) and isinstance(x.a, o.Inverse):  # X^{-\top}
            inv = x.a.a
            return [inv], lambda g: _sup(g(inv), "-\\top")
        if isinstance(x, o.Transpose):
            return [x.a], lambda g: (f"{wrap(g(x.a), ATOM, False)}^\\top", POST)
        if isinstance(x, o.Inverse):
            return [x.a], lambda g: _sup(g(x.a), "-1")
        if isinstance(x, o.Apply):
            return [x.a], lambda g: _apply(x.fn, g(x.a))
        if isinstance(x, o.Pow):
            return [x.a], lambda g: _power(x, g(x.a))
        if isinstance(x, o.Sum):
            return self._sum_plan(x)
        if isinstance(x, o.LogSoftmax):
            return [x.a], lambda g: (f"\\log(\\operatorname{{softmax}}({g(x.a)[0]}))", ATOM)
        fn = MATRIX_FUNCS.get(type(x))
        if fn is not None:
            a = x.args[0]
            return [a], lambda g: (f"{fn}({g(a)[0]})", ATOM)
        raise TypeError(f"no LaTeX for {type(x).__name__}")

    def _runs(self, x: o.MatMul) -> list[tuple[Expr, int]] | None:
        """The factors of a product chain as (factor, repeats) of equal neighbours, or None
        when no factor repeats."""
        chain: list[Expr] = []
        stack: list[Expr] = [x]
        while stack:
            y = stack.pop()
            if isinstance(y, o.MatMul) and not _is_product(y):
                stack += [y.b, y.a]
            else:
                chain.append(y)
        runs: list[tuple[Expr, int]] = []
        for f in chain:
            if runs and self.key(runs[-1][0]) == self.key(f):
                runs[-1] = (runs[-1][0], runs[-1][1] + 1)
            else:
                runs.append((f, 1))
        return runs if len(runs) < len(chain) else None

    def _sum_plan(self, x: o.Sum) -> tuple[list[Expr], Callable[[Get], Piece]]:
        a = x.a
        size = o.size_of_value(x)
        if size is not None:  # N = 𝟏ᵀ𝟏: the size as a value, as it was written
            text = o.dim_str(size)
            return [], lambda g: (text, ATOM)
        if a.is_scalar:
            return [a], lambda g: g(a)
        if _is_product(a):  # linear: the sum of s Y is s times the sum of Y
            f = _factors(a)
            if len(f.rest) == 1:
                f.rest = [o.Sum(f.rest[0])]
                self.keep.append(f.rest[0])
                return f.num + [b for b, _ in f.den] + f.rest, lambda g: _product(f, g)
        squared = isinstance(a, o.Pow) and a.k == 2
        if squared or (isinstance(a, o.Hadamard) and (a.a is a.b or self.key(a.a) == self.key(a.b))):
            base = a.args[0]
            kind = "" if o.find(base.shape[0]) == 1 or o.find(base.shape[1]) == 1 else "_F"
            return [base], lambda g: (f"\\|{g(base)[0]}\\|{kind}^2", POST)
        if o.find(a.shape[1]) == 1:
            return [a], lambda g: (f"\\mathbf{{1}}^\\top {wrap(g(a), PROD, False)}", PROD)
        if o.find(a.shape[0]) == 1:
            return [a], lambda g: (f"{wrap(g(a), PROD)} \\mathbf{{1}}", PROD)
        return [a], lambda g: (f"\\mathbf{{1}}^\\top {wrap(g(a), PROD, False)} \\mathbf{{1}}", PROD)


def _constant(x: Expr) -> Piece:
    if x.is_scalar:
        return ("0", ATOM) if isinstance(x, o.Zero) else ("1", ATOM)
    if isinstance(x, o.Zero):
        return "0", ATOM
    if isinstance(x, o.Eye):
        return "I", ATOM
    rows, cols = (o.find(d) for d in x.shape)
    if cols == 1:
        return "\\mathbf{1}", ATOM
    if rows == 1:
        return "\\mathbf{1}^\\top", POST
    return "\\mathbf{1}\\mathbf{1}^\\top", PROD


def _product(f: _Factors, g: Get) -> Piece:
    neg, c = f.coef < 0, abs(f.coef)
    num: list[Piece] = ([(str(c.numerator), ATOM)] if c.numerator != 1 else []) + [g(n) for n in f.num]
    den: list[Piece] = ([(str(c.denominator), ATOM)] if c.denominator != 1 else [])
    den += [g(b) if k == 1 else _sup(g(b), _number(k)) for b, k in f.den]
    items = num
    if den:
        top = _juxt(num)[0] if num else "1"
        items = [(f"\\frac{{{top}}}{{{_juxt(den)[0]}}}", ATOM)]
    rest = [g(r) for r in f.rest]
    if not items and not rest:
        items = [("1", ATOM)]
    if not items:
        body = rest[0] if len(rest) == 1 else _juxt(rest)
        return _negate(_as_operand(body, HAD)) if neg else body
    body = _juxt(items + rest, first=not neg)
    return _negate(body) if neg else body


def _sum(terms: list[Piece]) -> Piece:
    """Terms joined by + and -; a positive term goes first (`y - t`, not `-t + y`)."""
    first = next((i for i, (s, _) in enumerate(terms) if not s.startswith("-")), 0)
    terms = [terms[first]] + terms[:first] + terms[first + 1:]
    out = []
    for i, (s, _) in enumerate(terms):  # a sum inside a sum needs no parentheses
        if i == 0:
            out.append(s)
        elif s.startswith("-"):
            out.append(" - " + s[1:])
        else:
            out.append(" + " + s)
    return "".join(out), SUM


def _quotient(num: Piece, den: o.Pow, base: Piece) -> Piece:
    """Elementwise division: `\\frac{y}{p}`, `\\frac{y}{p \\odot p}`."""
    bottom = base if den.k == -1 else _power(o.Pow(den.a, -den.k), base)
    return f"\\frac{{{num[0]}}}{{{bottom[0]}}}", ATOM


def _apply(fn: str, arg: Piece) -> Piece:
    f = record(fn)
    if f.indicator is not None:
        return f"{f.latex}[{arg[0]} {f.indicator} 0]", ATOM
    return f"{f.latex}({arg[0]})", ATOM


def _power(x: o.Pow, base: Piece) -> Piece:
    """Scalars: `y^{2}`; vectors and matrices elementwise: `h \\odot h`, `\\frac{1}{h}`, `h^{3}`
    (a vector), `X \\odot X \\odot X`, `\\sqrt{X}` (a matrix: `X^{3}` reads as a matrix power)."""
    k = x.k
    if x.is_scalar:
        return _sup(base, _number(k))
    if k < 0:
        inner = base if k == -1 else _power(o.Pow(x.a, -k), base)
        return f"\\frac{{1}}{{{inner[0]}}}", ATOM
    vector = 1 in (o.find(x.shape[0]), o.find(x.shape[1]))
    if k.denominator == 1 and (k == 2 or (not vector and k <= 8)):
        return " \\odot ".join(wrap(base, PROD, i == 0) for i in range(int(k))), HAD
    if not vector and k == Fraction(1, 2):
        return f"\\sqrt{{{base[0]}}}", ATOM  # a matrix's X^{k} would be its matrix power
    return _sup(base, _number(k))


_TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z]|\d+|[^\s{}]")
_UNCOUNTED = frozenset({r"\left", r"\right", r"\operatorname", r"\mathbf", r"\mathrm"})


def tokens(latex: str) -> int:
    """Printed length as a reader counts it: commands, letters, numbers and operators; braces
    and `\\left`/`\\right` are not counted (the readability benchmark's measure)."""
    return sum(1 for t in _TOKEN.findall(latex) if t not in _UNCOUNTED)


def to_latex(expr: Expr, names: dict[str, str] | None = None) -> str:
    """The expression in students' notation (see the module docstring)."""
    return Printer(names).latex(expr)


# ---- the derivation --------------------------------------------------------------------

PREAMBLE = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\allowdisplaybreaks\n"
            "\\begin{document}\n")


def derivation_latex(adjoints: Any, expanded: bool = False, standalone: bool = False) -> str:
    """Every symbol's adjoint in backprop order (the loss's `\\bar{l} = 1` first) as `align*`.

    Local form (in the downstream adjoints) by default; with `expanded`, in the inputs and
    parameters only, a forward value used in several places named once in a row of its own
    before the adjoints (`report/expand.py`), with the scalar parts simplified."""
    printer = Printer()
    order = adjoints.order()
    rows = []
    if expanded:
        from .expand import abbreviate, fresh_letter, name_shared
        where, exprs = name_shared(adjoints.model, [adjoints.expanded(n) for n in order])
        rows += [f"{name_latex(n)} &= {printer.latex(e)}" for n, e in where]
        lines = abbreviate(list(zip(order, exprs)), fresh_letter(adjoints.model))
    else:
        from ..derive.tidy import Facts, tidy_all
        local = tidy_all([adjoints.local[n] for n in order], Facts.of(adjoints.model))
        lines = [(bar_latex(n), e) for n, e in zip(order, local)]
    rows += [f"{lhs} &= {printer.latex(e)}" for lhs, e in lines]
    body = "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
    return PREAMBLE + body + "\\end{document}\n" if standalone else body
