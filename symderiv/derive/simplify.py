"""Readable matrix forms: rebuild through the smart constructors, then rewrite rules as data.

Rules only ever make an expression smaller or move scalars outward; none changes a value
(each is checked numerically in tests/test_simplify.py).
"""
from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from ..model import ops as o
from ..model.ops import Expr
from ..model.walk import KeyMemo, fold

#: how to rebuild each op from new arguments, through the folding constructors.
BUILD: dict[type, Callable[[Expr, list[Expr]], Expr]] = {
    o.MatMul: lambda n, a: o.matmul(a[0], a[1]),
    o.Add: lambda n, a: o.add(*a),
    o.Scale: lambda n, a: o.scale(a[0], a[1]),
    o.Hadamard: lambda n, a: o.hadamard(a[0], a[1]),
    o.Transpose: lambda n, a: o.transpose(a[0]),
    o.Apply: lambda n, a: o.apply(n.fn, a[0]),  # type: ignore[attr-defined]
    o.Pow: lambda n, a: o.power(a[0], n.k),  # type: ignore[attr-defined]
    o.Inverse: lambda n, a: o.Inverse(a[0]),
    o.Det: lambda n, a: o.Det(a[0]),
    o.Trace: lambda n, a: o.Trace(a[0]),
    o.Sum: lambda n, a: o.Sum(a[0]),
    o.Diag: lambda n, a: o.Diag(a[0]),
    o.DiagPart: lambda n, a: o.DiagPart(a[0]),
    o.Softmax: lambda n, a: o.Softmax(a[0], n.rows),  # type: ignore[attr-defined]
    o.LogSoftmax: lambda n, a: o.LogSoftmax(a[0], n.rows),  # type: ignore[attr-defined]
}


def rebuild(e: Expr, leaf: Callable[[Expr], Expr | None] = lambda x: None,
            post: Callable[[Expr], Expr] = lambda x: x, memo: dict[int, Expr] | None = None) -> Expr:
    """Rebuild bottom-up (iteratively, sharing preserved): `leaf` may replace any node first,
    `post` rewrites each rebuilt node."""
    def build(x: Expr, new: list[Expr]) -> Expr:
        if not new:
            return x
        same = all(n is a for n, a in zip(new, x.args))
        return post(x if same and type(x) is not o.Add else BUILD[type(x)](x, new))
    return fold(e, build, leaf, memo)


def substitute(e: Expr, values: dict[str, Expr], kind: type = o.Bar) -> Expr:
    """Replace every `kind` leaf (Bar or Var) named in `values`."""
    return rebuild(e, lambda x: values.get(x.name) if isinstance(x, kind) else None)  # type: ignore[attr-defined]


def _scalar_out(x: Expr) -> Expr:
    """Move scalar factors out of products: (s A) B -> s (A B), A ⊙ (s B) -> s (A ⊙ B)."""
    if isinstance(x, (o.MatMul, o.Hadamard)):
        a, b = x.a, x.b
        build = o.matmul if isinstance(x, o.MatMul) else o.hadamard
        if isinstance(a, o.Scale):
            return o.scale(a.a, _scalar_out(build(a.b, b)))
        if isinstance(b, o.Scale):
            return o.scale(b.a, _scalar_out(build(a, b.b)))
    if isinstance(x, o.Scale) and isinstance(x.b, o.Scale) and isinstance(x.a, o.Const) \
            and isinstance(x.b.a, o.Const):
        return o.scale(o.Const(x.a.value * x.b.a.value), x.b.b)
    if isinstance(x, o.Transpose) and isinstance(x.a, o.Scale):
        return o.scale(x.a.a, o.transpose(x.a.b))
    return x


def _split_coeff(t: Expr) -> tuple[Fraction, Expr]:
    if isinstance(t, o.Scale) and isinstance(t.a, o.Const):
        return t.a.value, t.b
    return Fraction(1), t


def _collect(x: Expr, key: KeyMemo | None = None) -> Expr:
    """a + a -> 2 a, a - a -> 0 (structurally equal terms)."""
    if not isinstance(x, o.Add):
        return x
    key = KeyMemo() if key is None else key
    order: list[tuple] = []
    coeff: dict[tuple, Fraction] = {}
    body: dict[tuple, Expr] = {}
    for t in x.terms:
        c, b = _split_coeff(t)
        k = key(b)
        if k not in coeff:
            order.append(k)
            coeff[k] = Fraction(0)
            body[k] = b
        coeff[k] += c
    if len(order) == len(x.terms):
        return x
    terms = [o.scale(o.Const(coeff[k]), body[k]) for k in order if coeff[k] != 0]
    return o.add(*terms) if terms else o.Zero(x.shape)


def simplify(e: Expr, leaf: Callable[[Expr], Expr | None] = lambda x: None,
             key: KeyMemo | None = None) -> Expr:
    """Simplify bottom-up; `leaf` may substitute already-simplified subtrees, which are then
    not walked again (so expanding a deep network stays linear)."""
    key = KeyMemo() if key is None else key  # keys of shared subtrees are computed once
    return rebuild(e, leaf, post=lambda x: _collect(_scalar_out(x), key))
