"""Scalar simplification through SymPy (imported lazily): the 1x1 parts of an expression.

The seed's expanded `((1-t)/(1-y) - t/y) y (1-y)` becomes `y - t`. Only SymPy identities are
used, so values never change (tests/test_latex_printer.py checks them numerically).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..model import ops as o
from ..model.elementwise import FUNCTIONS
from ..model.ops import Expr
from ..model.walk import KeyMemo, fold
from ..names import bar_latex

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
    return scalar_simplify_all([expr])[0]


def scalar_simplify_all(exprs: list[Expr]) -> list[Expr]:
    """`scalar_simplify` of each, sharing the work on nodes they share (linear in the DAG)."""
    from ..derive.simplify import BUILD

    roots = _region_roots(exprs)
    conv: list[_Sympy] = []  # SymPy is imported only when there is something to simplify

    def step(x: Expr, new: list[Expr]) -> Expr:
        y = x if all(n is a for n, a in zip(new, x.args)) else BUILD[type(x)](x, new)
        if id(x) in roots:
            conv[:] = conv or [_Sympy()]
            y = conv[0].simplify(y)
        return y
    memo: dict[int, Expr] = {}
    keep: list[Expr] = []
    return [fold(e, step, memo=memo, keep=keep) for e in exprs]


def _region_roots(exprs: list[Expr]) -> set[int]:
    """Ids of the 1x1 operation nodes reached from a node outside any 1x1 region (or a root)."""
    roots: set[int] = set()
    seen: set[tuple[int, bool]] = set()
    stack: list[tuple[Expr, bool]] = [(e, False) for e in exprs]
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
        self.key = KeyMemo()
        self.atoms: dict[tuple, Any] = {}
        self.back: dict[Any, Expr] = {}
        self.fns = {fn: sympy.Function(fn) for fn in FUNCTIONS}

    def fn(self, name: str) -> Any:
        """The opaque SymPy function standing for one of ours (a generic one's made on use)."""
        if name not in self.fns:
            self.fns[name] = self.sp.Function(name)
        return self.fns[name]

    def simplify(self, region: Expr) -> Expr:
        if _too_big(region):
            return region
        sp = self.sp
        e0 = self.to_sympy(region)
        e1 = sp.cancel(e0)
        best, cost = e0, sp.count_ops(e0)
        for cand in (sp.factor_terms(e1), e1, sp.factor_terms(e0), sp.factor(e1)):
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
                memo[id(x)] = self.fn(x.fn)(a[0])
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
