"""An index tree -> matrix operations, for a problem's index-form definitions.

`z_i = \\sum_j W_{ij} x_j + b_i` becomes `W x + b`, `-\\sum_i t_i \\log y_i` becomes
`-\\operatorname{sum}(t \\odot \\log y)`, so the reverse sweep derives them with its own rules.
Every intermediate value is a matrix over at most two indices (rows, columns); a sum over an
index shared by two groups of factors is a matrix product. What needs three indices at once
is `unsupported` in a definition (a claim may still use it: claims are evaluated directly).
"""
from __future__ import annotations

from fractions import Fraction

from ..errors import UnsupportedError
from ..model import ops as o
from ..model.ops import Expr
from ..spans import Span
from . import ir

Lowered = tuple[Expr, tuple[str | None, str | None]]


def _col(n: o.Dim) -> Expr:
    return o.Ones((n, 1))


def _norm(v: Lowered) -> Lowered:
    """A single index always on the rows."""
    e, (r, c) = v
    if r is None and c is not None:
        return o.transpose(e), (c, None)
    return v


class _Lower:
    def __init__(self, dims: dict[str, o.Dim], span: Span | None) -> None:
        self.dims, self.span = dims, span

    def fail(self, what: str) -> UnsupportedError:
        return UnsupportedError(f"this index-form definition needs {what}: write it in matrix form",
                                self.span)

    def to(self, v: Lowered, target: tuple[str | None, str | None]) -> Expr:
        """v broadcast to the index pair `target` (a superset of v's indices)."""
        e, (r, c) = _norm(v)
        tr, tc = target
        if (r, c) == (tr, tc):
            return e
        if r is None:
            return e  # a scalar scales
        if c is not None:
            if (c, r) == (tr, tc):
                return o.transpose(e)
            raise self.fail("an index pair it cannot align")
        if tc is None:
            raise self.fail("an index it cannot align")
        if r == tr:
            return o.matmul(e, o.transpose(_col(self.dims[tc])))
        if r == tc and tr is not None:
            return o.matmul(_col(self.dims[tr]), o.transpose(e))
        raise self.fail("an index it cannot align")

    def union(self, vals: list[Lowered]) -> tuple[str | None, str | None]:
        out: list[str] = []
        for _, axes in vals:
            out.extend(x for x in axes if x is not None and x not in out)
        if len(out) > 2:
            raise self.fail("three indices at once")
        return (out + [None, None])[0], (out + [None, None])[1]  # type: ignore[return-value]

    def times(self, vals: list[Lowered]) -> Lowered:
        target = self.union(vals)
        acc: Expr | None = None
        for v in vals:
            e = self.to(v, target)
            acc = e if acc is None else o.hadamard(acc, e, self.span)
        assert acc is not None
        return acc, target

    def go(self, n: ir.INode) -> Lowered:
        if isinstance(n, ir.IArr):
            r, c = n.axes
            if r is not None and r == c:
                return o.DiagPart(n.expr), (r, None)
            return _norm((n.expr, n.axes))
        if isinstance(n, ir.IConst):
            return o.Const(n.value), (None, None)
        if isinstance(n, ir.IDelta):
            if n.i == n.j:
                return _col(self.dims[n.i]), (n.i, None)
            return o.Eye(self.dims[n.i]), (n.i, n.j)
        if isinstance(n, ir.IMul):
            return self.times([self.go(x) for x in n.items])
        if isinstance(n, ir.IAdd):
            vals = [self.go(x) for _, x in n.terms]
            target = self.union(vals)
            terms = [self.to(v, target) if s > 0 else o.neg(self.to(v, target))
                     for (s, _), v in zip(n.terms, vals)]
            if target != (None, None):
                terms = [o.scale(e, o.Ones(self.shape(target))) if e.is_scalar else e for e in terms]
            return o.add(*terms, span=self.span), target
        if isinstance(n, ir.IDiv):
            num, den = self.go(n.num), self.go(n.den)
            inv = (o.power(den[0], Fraction(-1)), den[1])
            return self.times([num, inv])
        if isinstance(n, ir.IPow):
            e, axes = self.go(n.arg)
            return o.power(e, n.k), axes
        if isinstance(n, ir.IFn):
            from .functions import elementwise
            e, axes = self.go(n.arg)
            func, primes = n.fn.rstrip("'"), len(n.fn) - len(n.fn.rstrip("'"))
            return elementwise(func, primes)(e), axes  # type: ignore[misc]
        if isinstance(n, ir.ISum):
            return self.sum(n)
        raise self.fail(type(n).__name__)

    def shape(self, target: tuple[str | None, str | None]) -> o.Shape:
        r, c = target
        return (self.dims[r] if r else 1, self.dims[c] if c else 1)

    def sum(self, n: ir.ISum) -> Lowered:
        if n.lo is not None or n.hi is not None or n.skip is not None:
            raise self.fail("a sum over part of a range")
        j = n.index
        items = list(n.body.items) if isinstance(n.body, ir.IMul) else [n.body]
        vals = [self.go(x) for x in items]
        with_j = [v for v in vals if j in v[1]]
        without = [v for v in vals if j not in v[1]]
        if not with_j:  # nothing depends on j: n times the body
            body = self.times(vals)
            count = o.Sum(_col(self.dims[j]))
            return o.scale(count, body[0]), body[1]
        others = [x for v in with_j for x in v[1] if x not in (None, j)]
        others = list(dict.fromkeys(others))
        if len(others) > 2:
            raise self.fail("three indices at once")
        p = others[0] if others else None
        q = others[1] if len(others) > 1 else None
        left = [v for v in with_j if p is not None and p in v[1]]
        right = [v for v in with_j if v not in left]
        if any(q is not None and q in v[1] for v in left):
            raise self.fail("three indices in one factor")
        acc: Lowered
        if left and right:
            lm = self.to(self.times(left), (p, j))
            rm = self.times(right)
            r_axes = (j, q)
            acc = (o.matmul(lm, self.to(rm, r_axes) if q else self.to(rm, (j, None)), self.span), (p, q))
        elif left:
            lm = self.to(self.times(left), (p, j))
            acc = (o.matmul(lm, _col(self.dims[j])), (p, None))
        else:
            rm = self.times(right)
            if q is None and rm[1] == (j, None):
                acc = (o.Sum(rm[0]), (None, None))
            else:
                acc = (o.transpose(o.matmul(o.transpose(_col(self.dims[j])), self.to(rm, (j, q)))), (q, None))
        return self.times([acc] + without) if without else acc


def lower(tree: ir.INode, out: tuple[str, ...], dims: dict[str, o.Dim], span: Span | None) -> Expr:
    """The matrix form of `tree`, rows and columns in the order of `out`."""
    low = _Lower(dims, span)
    v = low.go(tree)
    target = (out + (None, None))[0], (out + (None, None))[1]
    if len(out) > 2:
        raise low.fail("more than two free indices")
    e = low.to(v, target) if v[1] != (None, None) or not out else o.scale(v[0], o.Ones(low.shape(target)))
    return e
