"""Small repairs of an ill-shaped step, for "did you mean": one edit each, on the parse tree.

Edits: drop or add one transpose; swap two neighbouring factors, or read them as an
elementwise product (`h * (1 - h^2)`); read `v ⊙ diag(s)` as
`v ⊙ s` or `diag(s) v`; and re-group `⊙` against juxtaposition (the precedence students
disagree on). Bounded: at most MAX_CANDIDATES are tried.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..read import tree as t

MAX_CANDIDATES = 120


def _children(n: t.Node) -> list[tuple[str, int | None, t.Node]]:
    if isinstance(n, t.Add):
        return [("terms", i, term) for i, (_, term) in enumerate(n.terms)]
    if isinstance(n, t.Product):
        return [("factors", i, f) for i, f in enumerate(n.factors)]
    if isinstance(n, t.Hadamard):
        return [("left", None, n.left), ("right", None, n.right)]
    if isinstance(n, t.Frac):
        return [("num", None, n.num), ("den", None, n.den)]
    if isinstance(n, (t.Transpose, t.Norm)):
        return [("arg", None, n.arg)]
    if isinstance(n, t.Power):
        return [("base", None, n.base)]
    if isinstance(n, t.Call):
        return [("args", i, a) for i, a in enumerate(n.args)]
    return []


def _put(n: t.Node, field: str, i: int | None, new: t.Node) -> t.Node:
    changes: dict[str, Any]
    if i is None:
        changes = {field: new}
    elif field == "terms":
        terms = list(getattr(n, field))
        terms[i] = (terms[i][0], new)
        changes = {field: tuple(terms)}
    else:
        items = list(getattr(n, field))
        items[i] = new
        changes = {field: tuple(items)}
    return replace(n, **changes)  # type: ignore[arg-type]


def _local(n: t.Node) -> Iterator[t.Node]:
    """Edits at this node only."""
    if isinstance(n, t.Transpose):
        yield n.arg
    elif isinstance(n, (t.Name, t.Bar, t.Call, t.Add, t.Product, t.Hadamard)):
        yield t.Transpose(n.span, n)
    if isinstance(n, t.Product):
        fs = list(n.factors)
        for i in range(len(fs) - 1):
            sw = fs[:i] + [fs[i + 1], fs[i]] + fs[i + 2:]
            yield replace(n, factors=tuple(sw))
        for i in range(len(fs) - 1):  # `h * (1 - h^2)` meant elementwise
            had = t.Hadamard(n.span, fs[i], fs[i + 1])
            rest = fs[:i] + [had] + fs[i + 2:]
            yield had if len(rest) == 1 else replace(n, factors=tuple(rest))
        if isinstance(fs[-1], t.Hadamard):  # a (b ⊙ c) read as (a b) ⊙ c
            h = fs[-1]
            yield t.Hadamard(n.span, t.Product(n.span, tuple(fs[:-1]) + (h.left,)), h.right)
    if isinstance(n, t.Hadamard):
        left, right = n.left, n.right
        for diag, other, flip in ((right, left, False), (left, right, True)):
            if isinstance(diag, t.Call) and diag.func == "diag" and len(diag.args) == 1:
                yield t.Hadamard(n.span, diag.args[0], other) if flip else t.Hadamard(n.span, other, diag.args[0])
                yield t.Product(n.span, (diag, other))
            if isinstance(diag, t.Product) and isinstance(diag.factors[0], t.Call) \
                    and diag.factors[0].func == "diag" and not flip:
                d = diag.factors[0]
                after = tuple(diag.factors[1:])
                yield t.Product(n.span, (t.Hadamard(n.span, other, d.args[0]), *after))
                yield t.Product(n.span, (t.Product(n.span, (d, other)), *after))
        if isinstance(right, t.Product) and len(right.factors) > 1:  # (a ⊙ b) c
            yield t.Product(n.span, (t.Hadamard(n.span, left, right.factors[0]),) + right.factors[1:])
        if isinstance(left, t.Product) and len(left.factors) > 1:
            yield t.Product(n.span, left.factors[:-1] + (t.Hadamard(n.span, left.factors[-1], right),))


def repairs(root: t.Node) -> Iterator[t.Node]:
    """Every one-edit variant of `root`, outermost edits first."""
    count = 0
    stack: list[tuple[t.Node, list]] = [(root, [])]
    while stack and count < MAX_CANDIDATES:
        node, path = stack.pop(0)
        for variant in _local(node):
            new = variant
            for parent, field, i in reversed(path):
                new = _put(parent, field, i, new)
            count += 1
            yield new
            if count >= MAX_CANDIDATES:
                return
        for field, i, child in _children(node):
            stack.append((child, path + [(node, field, i)]))
