"""Our expressions in the notation students write, and the derivation as an `align*` block.

Precedence follows the reader (`read/latex.lark`), lowest first: sum, `\\odot` (left
associative), juxtaposition (matrix product, scalar multiple), unary minus, postfix
(`^\\top`, `^{-1}`, `^{2}`), atoms. Each printed piece carries its precedence; an operand is
put in `\\left( \\right)` only when its precedence is below what the operator needs. A leading
minus may float to the front of a product or `\\odot` chain (negation commutes with both), so
`-a \\odot b` is printed bare; anywhere else a negated operand gets parentheses.

Printing is iterative (an explicit stack, one visit per shared node), so a 64-layer network's
expanded adjoints print without touching the recursion limit.

`scalar_simplify` rewrites the 1x1 parts of an expression through SymPy (imported lazily):
the seed's `((1-t)/(1-y) - t/y) y (1-y)` becomes `y - t`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..model import ops as o
from ..model.ops import Expr

SUM, HAD, PROD, POST, ATOM = 1, 2, 3, 4, 5
Piece = tuple[str, int]
Get = Callable[[Expr], Piece]

FUNCS = {"sigma": "\\sigma", "tanh": "\\tanh", "exp": "\\exp", "log": "\\log",
         "relu": "\\mathrm{ReLU}", "softplus": "\\operatorname{softplus}",
         "dsigma": "\\sigma'", "dtanh": "\\tanh'"}
MATRIX_FUNCS: dict[type, str] = {o.Det: "\\det", o.Trace: "\\operatorname{tr}", o.Diag: "\\operatorname{diag}",
                o.DiagPart: "\\operatorname{diag}", o.Softmax: "\\operatorname{softmax}"}


# ---- names -----------------------------------------------------------------------------

def _split_sub(name: str) -> tuple[str, str | None]:
    """`z_y` -> (`z`, `y`); `W_{12}` -> (`W`, `{12}`); the first `_` outside braces."""
    depth = 0
    for i, c in enumerate(name):
        depth += (c == "{") - (c == "}")
        if c == "_" and depth == 0:
            sub = name[i + 1:]
            if len(sub) > 1 and not (sub.startswith("{") and sub.endswith("}")):
                sub = "{" + sub + "}"
            return name[:i], sub
    return name, None


def name_latex(name: str) -> str:
    """A symbol's name as LaTeX: `W_12` gets its braces, `W_{12}`."""
    base, sub = _split_sub(name)
    return base if sub is None else f"{base}_{sub}"


def bar_latex(name: str) -> str:
    """`\\bar{z}_y` for `z_y`, `\\bar{W}_2` for `W_2`, `\\bar{\\eta}`, `\\bar{\\mathcal{L}}`."""
    base, sub = _split_sub(name)
    return f"\\bar{{{base}}}" + ("" if sub is None else f"_{sub}")


def _name_prec(text: str) -> int:
    return POST if "^" in text else ATOM


# ---- pieces ----------------------------------------------------------------------------

def paren(s: str) -> str:
    return f"\\left({s}\\right)"


def wrap(p: Piece, need: int, first: bool = True) -> str:
    """The piece as an operand needing precedence `need`; a leading minus only when first."""
    s, prec = p
    if prec < need or (s.startswith("-") and not first):
        return paren(s)
    return s


def _as_operand(p: Piece, need: int, first: bool = True) -> Piece:
    s = wrap(p, need, first)
    return (s, ATOM) if s != p[0] else p


def _juxt(items: list[Piece], first: bool = True) -> Piece:
    """Juxtaposition (product) of pieces; one piece alone keeps its precedence."""
    if len(items) == 1:
        return _as_operand(items[0], 0, first)
    return " ".join(wrap(p, PROD, first and i == 0) for i, p in enumerate(items)), PROD


def _negate(p: Piece) -> Piece:
    s, prec = p
    if s.startswith("-"):
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
    """A product of scalars (and at most one matrix): coef * num / den * rest."""

    coef: Fraction = Fraction(1)
    num: list[Expr] = field(default_factory=list)
    den: list[tuple[Expr, Fraction]] = field(default_factory=list)
    rest: list[Expr] = field(default_factory=list)


def _is_product(x: Expr) -> bool:
    if isinstance(x, (o.Const, o.Scale)):
        return True
    if isinstance(x, (o.Hadamard, o.MatMul)):
        return x.a.is_scalar or x.b.is_scalar
    return isinstance(x, o.Pow) and x.is_scalar and x.k < 0


def _factors(e: Expr) -> _Factors:
    f = _Factors()
    work = [e]
    while work:
        x = work.pop()
        if isinstance(x, o.Const):
            f.coef *= x.value
        elif isinstance(x, o.Scale) or (isinstance(x, (o.Hadamard, o.MatMul)) and _is_product(x)):
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


class StructuralKey:
    """Like `ops.KeyMemo` (equal keys for equal trees), but iterative: any depth is fine."""

    def __init__(self) -> None:
        self.memo: dict[int, tuple] = {}
        self.keep: list[Expr] = []

    def __call__(self, e: Expr) -> tuple:
        memo = self.memo
        stack: list[tuple[Expr, bool]] = [(e, False)]
        while stack:
            x, ready = stack.pop()
            if id(x) in memo:
                continue
            if not ready and x.args:
                stack.append((x, True))
                stack.extend((a, False) for a in x.args if id(a) not in memo)
                continue
            memo[id(x)] = _own_key(x) + tuple(memo[id(a)] for a in x.args)
            self.keep.append(x)
        return memo[id(e)]


def _own_key(x: Expr) -> tuple:
    if isinstance(x, (o.Var, o.Bar)):
        return (type(x).__name__, x.name)
    if isinstance(x, o.Const):
        return ("Const", x.value)
    if isinstance(x, (o.Ones, o.Zero)):
        return (type(x).__name__, o.dim_str(x.shape[0]), o.dim_str(x.shape[1]))
    if isinstance(x, o.Eye):
        return ("Eye", o.dim_str(x.n))
    if isinstance(x, o.Apply):
        return ("Apply", x.fn)
    if isinstance(x, o.Pow):
        return ("Pow", x.k)
    return (type(x).__name__,)


# ---- the printer -----------------------------------------------------------------------

class Printer:
    """Pieces for nodes, memoised by identity; `names` maps a symbol's name to its LaTeX."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = names or {}
        self.memo: dict[int, Piece] = {}
        self.plans: dict[int, tuple[list[Expr], Callable[[Get], Piece]]] = {}
        self.keep: list[Expr] = []
        self.key = StructuralKey()

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
            return [x.a, x.b], lambda g: (f"{wrap(g(x.a), PROD)} {wrap(g(x.b), PROD, False)}", PROD)
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

    def _sum_plan(self, x: o.Sum) -> tuple[list[Expr], Callable[[Get], Piece]]:
        a = x.a
        if a.is_scalar:
            return [a], lambda g: g(a)
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
    if fn == "step":
        return f"\\mathbb{{1}}[{arg[0]} > 0]", ATOM
    return f"{FUNCS[fn]}({arg[0]})", ATOM


def _power(x: o.Pow, base: Piece) -> Piece:
    """Scalars: `y^{2}`; vectors and matrices elementwise: `h \\odot h`, `\\frac{1}{h}`, `h^{3}`."""
    k = x.k
    if x.is_scalar:
        return _sup(base, _number(k))
    if k < 0:
        inner = base if k == -1 else _power(o.Pow(x.a, -k), base)
        return f"\\frac{{1}}{{{inner[0]}}}", ATOM
    square = o.same(x.shape[0], x.shape[1])
    if k.denominator == 1 and (k == 2 or (square and k <= 8)):
        return " \\odot ".join(wrap(base, PROD, i == 0) for i in range(int(k))), HAD
    return _sup(base, _number(k))


def to_latex(expr: Expr, names: dict[str, str] | None = None) -> str:
    """The expression in students' notation (see the module docstring)."""
    return Printer(names).latex(expr)


# ---- the derivation --------------------------------------------------------------------

PREAMBLE = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\allowdisplaybreaks\n"
            "\\begin{document}\n")


def derivation_latex(adjoints: Any, expanded: bool = False, standalone: bool = False) -> str:
    """Every symbol's adjoint in backprop order (the loss's `\\bar{l} = 1` first) as `align*`.

    Local form (in the downstream adjoints) by default; with `expanded`, in the inputs,
    parameters and forward values, with the scalar parts simplified."""
    printer = Printer()
    rows = []
    for name in adjoints.order():
        e = scalar_simplify(adjoints.expanded(name)) if expanded else adjoints.local[name]
        rows.append(f"{bar_latex(name)} &= {printer.latex(e)}")
    body = "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
    return PREAMBLE + body + "\\end{document}\n" if standalone else body


# ---- scalar simplification through SymPy ----------------------------------------------

MAX_REGION = 300   # nodes (counted as a tree) of one 1x1 region handed to SymPy
MAX_DEPTH = 60     # its depth: SymPy's own passes recurse


def _scalar_op(x: Expr) -> bool:
    """A 1x1 node that SymPy can take apart: an operation on 1x1 operands."""
    if not x.is_scalar or not x.args:
        return False
    if isinstance(x, (o.Add, o.Pow, o.Apply, o.Transpose)):
        return all(a.is_scalar for a in x.args)
    if isinstance(x, (o.Scale, o.Hadamard, o.MatMul)):
        return x.a.is_scalar and x.b.is_scalar  # type: ignore[attr-defined]
    return False


def scalar_simplify(expr: Expr) -> Expr:
    """Rewrite every maximal 1x1 subexpression through SymPy (`cancel`, `factor_terms`), keeping
    the shortest form by `count_ops`. Other 1x1 nodes (`v^T h`, traces) are opaque atoms whose
    insides are simplified on their own. Values never change: only SymPy identities are used."""
    from ..derive.simplify import BUILD

    roots = _region_roots(expr)
    memo: dict[int, Expr] = {}
    keep: list[Expr] = []
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    conv: _Sympy | None = None  # SymPy is imported only when there is something to simplify
    while stack:
        x, ready = stack.pop()
        if id(x) in memo:
            continue
        if not ready and x.args:
            stack.append((x, True))
            stack.extend((a, False) for a in x.args if id(a) not in memo)
            continue
        new = [memo[id(a)] for a in x.args]
        y = x if all(n is a for n, a in zip(new, x.args)) else BUILD[type(x)](x, new)
        if id(x) in roots:
            conv = conv or _Sympy()
            y = conv.simplify(y)
        memo[id(x)] = y
        keep.append(x)
    return memo[id(expr)]


def _region_roots(expr: Expr) -> set[int]:
    """Ids of the 1x1 operation nodes reached from a node outside any 1x1 region (or the root)."""
    roots: set[int] = set()
    seen: set[tuple[int, bool]] = set()
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        x, inside = stack.pop()
        if (id(x), inside) in seen:
            continue
        seen.add((id(x), inside))
        op = _scalar_op(x)
        if op and not inside:
            roots.add(id(x))
        stack.extend((a, op) for a in x.args)
    return roots


class _Sympy:
    """Our 1x1 regions <-> SymPy scalars; atoms become symbols, one per structural key."""

    def __init__(self) -> None:
        import sympy
        self.sp = sympy
        self.key = StructuralKey()
        self.atoms: dict[tuple, Any] = {}
        self.back: dict[Any, Expr] = {}
        self.fns = {fn: sympy.Function(fn) for fn in o.FUNCTIONS}

    def simplify(self, region: Expr) -> Expr:
        if _too_big(region):
            return region
        sp = self.sp
        e0 = self.to_sympy(region)
        e1 = sp.cancel(e0)
        best, cost = e0, sp.count_ops(e0)
        for cand in (sp.factor_terms(e1), e1, sp.factor_terms(e0)):
            c = sp.count_ops(cand)
            if c < cost:
                best, cost = cand, c
        try:
            return self.from_sympy(best)
        except _Unsupported:
            return region

    # -- to SymPy (iterative over the region) --
    def atom(self, x: Expr) -> Any:
        k = self.key(x)
        s = self.atoms.get(k)
        if s is None:
            name = x.name if isinstance(x, o.Var) else bar_latex(x.name) if isinstance(x, o.Bar) else None
            taken = name is None or any(str(v) == name for v in self.atoms.values())
            s = self.sp.Dummy("a") if taken else self.sp.Symbol(name)
            self.atoms[k] = s
            self.back[s] = x
        return s

    def to_sympy(self, region: Expr) -> Any:
        sp, memo = self.sp, {}
        stack: list[tuple[Expr, bool]] = [(region, False)]
        while stack:
            x, ready = stack.pop()
            if id(x) in memo:
                continue
            if isinstance(x, o.Const):
                memo[id(x)] = sp.Rational(x.value.numerator, x.value.denominator)
                continue
            if not _scalar_op(x):
                memo[id(x)] = self.atom(x)
                continue
            if not ready:
                stack.append((x, True))
                stack.extend((a, False) for a in x.args)
                continue
            a = [memo[id(c)] for c in x.args]
            if isinstance(x, o.Add):
                memo[id(x)] = sp.Add(*a)
            elif isinstance(x, (o.Scale, o.Hadamard, o.MatMul)):
                memo[id(x)] = a[0] * a[1]
            elif isinstance(x, o.Pow):
                memo[id(x)] = a[0] ** sp.Rational(x.k.numerator, x.k.denominator)
            elif isinstance(x, o.Apply):
                memo[id(x)] = self.fns[x.fn](a[0])
            else:  # Transpose of a 1x1
                memo[id(x)] = a[0]
        return memo[id(region)]

    # -- back from SymPy (bounded by MAX_DEPTH, so recursion is safe) --
    def from_sympy(self, e: Any) -> Expr:
        sp = self.sp
        if e in self.back:
            return self.back[e]
        if e.is_Rational:
            return o.Const(Fraction(int(e.p), int(e.q)))
        if e.is_Add:
            terms = sorted(e.args, key=lambda t: t.could_extract_minus_sign())
            return o.add(*(self.from_sympy(t) for t in terms))
        if e.is_Mul:
            coef, factors = e.as_coeff_mul()
            num = [f for f in factors if not (f.is_Pow and f.exp.is_negative)]
            den = [f for f in factors if f.is_Pow and f.exp.is_negative]
            out: Expr = o.Const(Fraction(int(coef.p), int(coef.q))) if coef.is_Rational else self.from_sympy(coef)
            for f in num + den:
                out = o.scale(out, self.from_sympy(f))
            return out
        if e.is_Pow and e.exp.is_Rational:
            return o.power(self.from_sympy(e.base), Fraction(int(e.exp.p), int(e.exp.q)))
        if isinstance(e, sp.core.function.AppliedUndef) and e.func.__name__ in self.fns:
            return o.apply(e.func.__name__, self.from_sympy(e.args[0]))
        raise _Unsupported(str(e))


class _Unsupported(Exception):
    pass


def _too_big(region: Expr) -> bool:
    """More than MAX_REGION nodes (as a tree) or deeper than MAX_DEPTH inside the region."""
    count = 0
    stack = [(region, 0)]
    while stack:
        x, d = stack.pop()
        count += 1
        if count > MAX_REGION or d > MAX_DEPTH:
            return True
        if _scalar_op(x):
            stack.extend((a, d + 1) for a in x.args)
    return False
