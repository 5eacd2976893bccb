"""The printing simplifier: rewrite rules kept as data, applied to a fixed point.

`RULES` is the one table: each rule has a name, the op it rewrites and a function that gives
the replacement (built through the folding constructors) or None when the pattern does not
match. `tidy` rebuilds an expression bottom-up and, at each node, applies the first rule that
matches until none does, within a step budget; a replacement is itself tidied (its children
already are). Every rule is an identity — a rule whose premise the problem states (`C^\\top =
C`, `\\mathbf{1}^\\top t = 1`) holds on every value the problem allows — and each is checked
numerically on random instances of its pattern (tests/test_tidy.py). Rules only ever make the
printed form shorter: a transpose is pushed towards the symbols only when that leaves fewer
transposes, so the rewriting ends.

Used for everything printed to people: `symderiv latex` (local and expanded), the answer of
`--show-answer` and the "did you mean" repairs.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import field
from fractions import Fraction
from typing import Any

from ..fastdataclass import dataclass
from ..model import ops as o
from ..model.ops import Expr
from ..model.walk import KeyMemo, fold
from .simplify import BUILD, _collect, _scalar_out

MAX_STEPS = 50_000  # rewrites per call: a bound, never reached by a rule set that terminates


@dataclass(frozen=True)
class Facts:
    """What the problem states that printing may use (from the model's premises)."""

    symmetric: frozenset[str] = frozenset()   # C^T = C (and A > 0)
    sum1: frozenset[str] = frozenset()        # 1^T t = 1
    rows1: frozenset[str] = frozenset()       # T 1 = 1
    cols1: frozenset[str] = frozenset()       # 1^T T = 1^T

    @classmethod
    def of(cls, model: Any) -> Facts:
        by: dict[str, set[str]] = {"symmetric": set(), "sum1": set(), "rows1": set(), "cols1": set()}
        for p in getattr(model, "premises", ()):
            kind = "symmetric" if p.kind == "posdef" else p.kind
            if kind in by and not getattr(p, "signed", False):
                by[kind].add(p.name)
        return cls(**{k: frozenset(v) for k, v in by.items()})


@dataclass(frozen=True)
class Rule:
    """`op` nodes matching the pattern are rewritten to `rewrite(node, ctx)`."""

    name: str
    op: type
    rewrite: Callable[[Any, Tidy], Expr | None]
    identity: str  # what it states, for people and the tests


# ---- transposes: pushed to the symbols when that leaves fewer -------------------------------

def _flip(x: Expr, c: list[int]) -> int:
    """How many transposes x^T needs beyond x's own, at best (pushed down or kept on top)."""
    if x.is_scalar or isinstance(x, (o.Eye, o.Diag)):
        return 0
    if isinstance(x, o.Transpose):
        return -1
    if isinstance(x, o.Ones):
        r, k = (o.find(d) for d in x.shape)
        return 1 if k == 1 else -1 if r == 1 else 0
    if isinstance(x, o.Zero):
        return 0
    if isinstance(x, (o.MatMul, o.Add, o.Hadamard)):
        return min(1, sum(c))
    if isinstance(x, o.Scale):
        return c[1]
    if isinstance(x, (o.Apply, o.Pow, o.Inverse)):
        return min(1, c[0])
    return 1


def _pushed(node: Expr, ctx: Tidy, build: Callable[[list[Expr]], Expr]) -> Expr | None:
    x = node.a  # type: ignore[attr-defined]
    if ctx.flip_cost(x) >= 1:
        return None
    return build([ctx.transposed(a) for a in x.args])


def _t_matmul(n: o.Transpose, ctx: Tidy) -> Expr | None:
    if not isinstance(n.a, o.MatMul):
        return None
    return _pushed(n, ctx, lambda t: o.matmul(t[1], t[0]))


def _t_add(n: o.Transpose, ctx: Tidy) -> Expr | None:
    return _pushed(n, ctx, lambda t: o.add(*t)) if isinstance(n.a, o.Add) else None


def _t_hadamard(n: o.Transpose, ctx: Tidy) -> Expr | None:
    return _pushed(n, ctx, lambda t: o.hadamard(t[0], t[1])) if isinstance(n.a, o.Hadamard) else None


def _t_elementwise(n: o.Transpose, ctx: Tidy) -> Expr | None:
    a = n.a
    if isinstance(a, o.Apply):
        return _pushed(n, ctx, lambda t: o.apply(a.fn, t[0]))
    if isinstance(a, o.Pow):
        return _pushed(n, ctx, lambda t: o.power(t[0], a.k))
    if isinstance(a, o.Inverse):
        return _pushed(n, ctx, lambda t: o.Inverse(t[0]))
    return None


def _t_symmetric(n: o.Transpose, ctx: Tidy) -> Expr | None:
    return n.a if isinstance(n.a, o.Var) and n.a.name in ctx.facts.symmetric else None


def _inverse_of_transpose(n: o.Inverse, ctx: Tidy) -> Expr | None:
    """(X^T)^{-1} = (X^{-1})^T: one form, printed `X^{-\\top}`."""
    return o.Transpose(o.Inverse(n.a.a)) if isinstance(n.a, o.Transpose) else None


# ---- sums, products, quotients ------------------------------------------------------------

def _scalars_out(n: Expr, ctx: Tidy) -> Expr | None:
    y = _scalar_out(n)
    return None if y is n else y


def _coefficient(t: Expr) -> tuple[list[Expr], Expr]:
    """A term as (its scalar factors, the rest): `s (2 A)` is ([s, 2], A)."""
    coef: list[Expr] = []
    while isinstance(t, o.Scale) and not t.b.is_scalar:
        coef.append(t.a)
        t = t.b
    return coef, t


def _like_terms(n: o.Add, ctx: Tidy) -> Expr | None:
    """a A + b A = (a + b) A for scalars a, b (numbers first: `_collect`)."""
    y = _collect(n, ctx.key)
    if y is not n:
        return y
    if n.is_scalar:
        return None  # the scalar parts are SymPy's (derive/scalar.py)
    groups: dict[tuple, list[tuple[list[Expr], Expr]]] = {}
    order: list[tuple] = []
    for t in n.terms:
        coef, body = _coefficient(t)
        k = ctx.key(body)
        if k not in groups:
            order.append(k)
            groups[k] = []
        groups[k].append((coef, body))
    if len(order) == len(n.terms):
        return None
    terms = []
    for k in order:
        g = groups[k]
        if len(g) == 1:
            coef, body = g[0]
        else:
            total = o.add(*(_product(c) for c, _ in g))
            coef, body = [total], g[0][1]
        terms.append(o.scale(_product(coef), body))
    return o.add(*terms)


def _negated_sum(n: o.Scale, ctx: Tidy) -> Expr | None:
    """-(a + b) = -a - b: no parentheses to print (`-a^\top x - c`)."""
    if o.is_const(n.a, -1) and isinstance(n.b, o.Add):
        return o.add(*(o.neg(t) for t in n.b.terms))
    return None


def _product(factors: list[Expr]) -> Expr:
    out: Expr = o.const(1)
    for f in factors:
        out = o.scale(out, f)
    return out


def _chain(x: Expr, op: type) -> list[Expr]:
    """The factors of a nest of one associative binary op (A B C, a ⊙ b ⊙ c), left to right."""
    out: list[Expr] = []
    stack = [x]
    while stack:
        y = stack.pop()
        if isinstance(y, op):
            stack += [y.b, y.a]
        else:
            out.append(y)
    return out


def _cancel_quotients(n: o.Hadamard, ctx: Tidy) -> Expr | None:
    """y ⊙ t ⊙ y^{∘-1} = t, y ⊙ y^{∘-2} = y^{∘-1}: exponents of one base added up (where the
    quotient is defined, which is where the expression is)."""
    factors = _chain(n, o.Hadamard)
    powers: dict[tuple, list] = {}
    order: list[tuple] = []
    for f in factors:
        base, k = (f.a, f.k) if isinstance(f, o.Pow) else (f, Fraction(1))
        key = ctx.key(base)
        if key not in powers:
            order.append(key)
            powers[key] = [base, Fraction(0), 0]
        powers[key][1] += k
        powers[key][2] += 1
    if len(order) == len(factors) or not any(p[2] > 1 and p[1].denominator == 1 for p in powers.values()):
        return None
    out: Expr = o.Ones(n.shape)
    for key in order:
        base, k, _ = powers[key]
        if k != 0:
            out = o.hadamard(out, o.power(base, k))
    return out


def _reciprocal(p: Expr, q: Expr, ctx: Tidy) -> bool:
    """p = 1/q (or q = 1/p), both scalars: det(X)^{-1} beside det(X)."""
    return p.is_scalar and q.is_scalar and (
        (isinstance(p, o.Pow) and p.k == -1 and ctx.key(p.a) == ctx.key(q))
        or (isinstance(q, o.Pow) and q.k == -1 and ctx.key(q.a) == ctx.key(p)))


def _scalar_ratio(n: o.Scale, ctx: Tidy) -> Expr | None:
    if n.b.is_scalar and _reciprocal(n.a, n.b, ctx):
        return o.const(1)
    if isinstance(n.b, o.Scale) and _reciprocal(n.a, n.b.a, ctx):
        return n.b.b
    return None


def _trace_of_scalar(n: o.Trace, ctx: Tidy) -> Expr | None:
    return n.a if n.a.is_scalar else None


def _trace_rotation(n: o.Trace, ctx: Tidy) -> Expr | None:
    """tr(F_1 ... F_k) = F_{i+1} ... F_k F_1 ... F_i, a 1x1, when F_i is a column and F_{i+1}
    a row (the trace is cyclic): `tr(q g^T K)` is `g^T K q`."""
    fs = _chain(n.a, o.MatMul)
    k = len(fs)
    for i in range(k):
        col, row = fs[i], fs[(i + 1) % k]
        if k > 1 and o.find(col.shape[1]) == 1 and o.find(row.shape[0]) == 1:
            out = fs[(i + 1) % k]
            for f in fs[i + 2:] + fs[:i + 1] if i + 1 < k else fs[1:]:
                out = o.matmul(out, f)
            return out
    return None


def _inner_product_of_quotient(n: o.MatMul, ctx: Tidy) -> Expr | None:
    r"""u^T (c ⊙ u^{∘-1}) = 1^T c: an inner product is the sum of an elementwise product, and
    the quotient cancels (`p^\top \frac{y}{p}` is `\mathbf{1}^\top y`)."""
    a, b = n.a, n.b
    if not (isinstance(a, o.Transpose) and o.find(a.a.shape[1]) == 1 and o.find(b.shape[1]) == 1):
        return None
    u = ctx.key(a.a)
    factors: list[Expr] = []
    factors.extend(_chain(b, o.Hadamard))
    if not any(isinstance(f, o.Pow) and f.k < 0 and ctx.key(f.a) == u for f in factors):
        return None
    return o.matmul(o.Ones((1, a.a.shape[0])), ctx(o.Hadamard(a.a, b)))


# ---- what the problem states ----------------------------------------------------------------

def _ones_row(x: Expr) -> bool:
    return isinstance(x, o.Ones) and o.find(x.shape[0]) == 1


def _normalised_sum(n: Expr, ctx: Tidy) -> Expr | None:
    """With `1^T t = 1`: the sum of t is 1. With `T 1 = 1` / `1^T T = 1^T`: row / column sums."""
    f = ctx.facts
    if isinstance(n, o.Sum):
        a = n.a
        return o.const(1) if isinstance(a, o.Var) and a.name in f.sum1 else None
    if not isinstance(n, o.MatMul):
        return None
    a, b = n.a, n.b
    if _ones_row(a) and isinstance(b, o.Var) and o.find(b.shape[1]) == 1 and b.name in f.sum1:
        return o.const(1)
    if _ones_row(a) and isinstance(b, o.Var) and b.name in f.cols1:
        return o.Ones(n.shape)
    if isinstance(b, o.Ones) and o.find(b.shape[1]) == 1 and isinstance(a, o.Var) and a.name in f.rows1:
        return o.Ones(n.shape)
    return None


RULES: tuple[Rule, ...] = (
    Rule("scalars-out", o.MatMul, _scalars_out, "(s A) B = s (A B)"),
    Rule("scalars-out", o.Hadamard, _scalars_out, "A ⊙ (s B) = s (A ⊙ B)"),
    Rule("scalars-out", o.Scale, _scalars_out, "2 (3 A) = 6 A"),
    Rule("scalars-out", o.Transpose, _scalars_out, "(s A)^T = s A^T"),
    Rule("transpose-of-product", o.Transpose, _t_matmul, "(A B)^T = B^T A^T"),
    Rule("transpose-of-sum", o.Transpose, _t_add, "(A + B)^T = A^T + B^T"),
    Rule("transpose-of-hadamard", o.Transpose, _t_hadamard, "(A ⊙ B)^T = A^T ⊙ B^T"),
    Rule("transpose-of-elementwise", o.Transpose, _t_elementwise, "f(A)^T = f(A^T), (A^{-1})^T = (A^T)^{-1}"),
    Rule("transpose-of-symmetric", o.Transpose, _t_symmetric, "C^T = C when the problem states it"),
    Rule("inverse-of-transpose", o.Inverse, _inverse_of_transpose, "(X^T)^{-1} = (X^{-1})^T"),
    Rule("like-terms", o.Add, _like_terms, "a A + b A = (a + b) A"),
    Rule("negated-sum", o.Scale, _negated_sum, "-(a + b) = -a - b"),
    Rule("cancel-quotients", o.Hadamard, _cancel_quotients, "y ⊙ t ⊙ y^{∘-1} = t"),
    Rule("scalar-ratio", o.Scale, _scalar_ratio, "det(X)^{-1} det(X) A = A (a scalar over itself)"),
    Rule("trace-of-scalar", o.Trace, _trace_of_scalar, "tr(a) = a for a 1x1 a"),
    Rule("trace-rotation", o.Trace, _trace_rotation, "tr(q r^T K) = r^T K q"),
    Rule("inner-product-of-quotient", o.MatMul, _inner_product_of_quotient, "u^T (c ⊙ u^{∘-1}) = 1^T c"),
    Rule("normalised-sum", o.Sum, _normalised_sum, "1^T t = 1 when the problem states it"),
    Rule("normalised-sum", o.MatMul, _normalised_sum, "1^T t = 1, T 1 = 1, 1^T T = 1^T when stated"),
)
BY_OP: dict[type, tuple[Rule, ...]] = {}
for _r in RULES:
    BY_OP[_r.op] = BY_OP.get(_r.op, ()) + (_r,)


@dataclass
class Tidy:
    """One tidying session: nodes already tidied (by identity), structural keys, the budget."""

    facts: Facts = field(default_factory=Facts)
    budget: int = MAX_STEPS
    rules: dict[type, tuple[Rule, ...]] = field(default_factory=lambda: BY_OP)
    applied: dict[str, int] = field(default_factory=dict)
    key: KeyMemo = field(default_factory=KeyMemo)
    memo: dict[int, Expr] = field(default_factory=dict)
    keep: list[Expr] = field(default_factory=list)
    costs: dict[int, int] = field(default_factory=dict)

    def __call__(self, e: Expr) -> Expr:
        return fold(e, self._step, memo=self.memo, keep=self.keep)

    def flip_cost(self, x: Expr) -> int:
        """`_flip` of x, memoised over the DAG (computed iteratively)."""
        def cost(y: Expr, c: list[int]) -> int:
            if isinstance(y, o.Var) and y.name in self.facts.symmetric:
                return 0
            return _flip(y, c)
        return fold(x, cost, memo=self.costs, keep=self.keep)

    def transposed(self, x: Expr) -> Expr:
        """x^T, tidied (pushed further down where that saves transposes)."""
        return self(o.transpose(x))

    def _step(self, x: Expr, new: list[Expr]) -> Expr:
        build = BUILD.get(type(x))  # an op defined elsewhere (index notation) is kept as it is
        same = all(n is a for n, a in zip(new, x.args)) and type(x) is not o.Add
        y = x if same or build is None else build(x, new)
        if y is not x and not all(id(a) in self.memo for a in y.args):
            return self(y)  # the constructor made nodes of its own ((2 A)^T is 2 A^T): tidied too
        while self.budget > 0:
            for rule in self.rules.get(type(y), ()):
                z = rule.rewrite(y, self)
                if z is not None and z is not y:
                    self.budget -= 1
                    self.applied[rule.name] = self.applied.get(rule.name, 0) + 1
                    y = self(z)
                    break
            else:
                break
        self.memo[id(y)] = y  # tidied: never walked again
        self.keep.append(y)
        return y


def tidy(e: Expr, facts: Facts | None = None) -> Expr:
    """`e` in its shortest printed form under `RULES` (see the module docstring)."""
    return tidy_all([e], facts)[0]


def tidy_all(exprs: Iterable[Expr], facts: Facts | None = None) -> list[Expr]:
    """`tidy` of each, sharing the work on shared nodes (linear in the DAG). A rewrite too
    deep for Python's stack leaves the expressions as they were (they are equal anyway)."""
    exprs = list(exprs)
    t = Tidy(facts or Facts())
    try:
        return [t(e) for e in exprs]
    except RecursionError:
        return exprs
