"""Shapes and their unification: sizes of `\\mathbf{1}` and `I` are unknowns bound by use.

A dim is an int, a dimension name (str), or a `SizeVar`; a shape is (rows, cols). A 1x1
shape is a scalar.
"""
from __future__ import annotations

from typing import Union


class SizeVar:
    """An unknown size, bound by unification (union-find)."""

    _count = 0

    def __init__(self) -> None:
        SizeVar._count += 1
        self.id = SizeVar._count
        self.parent: Dim | None = None

    def __repr__(self) -> str:
        d = find(self)
        return f"?{self.id}" if d is self else repr(d)


Dim = Union[int, str, SizeVar]  # noqa: UP007 (a runtime alias: `|` on a class needs 3.10 types)
Shape = tuple[Dim, Dim]
SCALAR: Shape = (1, 1)


def find(d: Dim) -> Dim:
    while isinstance(d, SizeVar) and d.parent is not None:
        d = d.parent
    return d


def same(a: Dim, b: Dim) -> bool:
    a, b = find(a), find(b)
    return a is b if isinstance(a, SizeVar) or isinstance(b, SizeVar) else a == b


def unify(a: Dim, b: Dim) -> bool:
    """Make two dims equal if one is still unknown; False when they are known and differ."""
    a, b = find(a), find(b)
    if isinstance(a, SizeVar):
        if a is not b:
            a.parent = b
        return True
    if isinstance(b, SizeVar):
        b.parent = a
        return True
    return a == b


def dim_str(d: Dim) -> str:
    d = find(d)
    return "?" if isinstance(d, SizeVar) else str(d)


def shape_str(s: Shape) -> str:
    if is_scalar_shape(s):
        return "scalar"
    return f"{dim_str(s[0])}×{dim_str(s[1])}"


def is_scalar_shape(s: Shape) -> bool:
    return find(s[0]) == 1 and find(s[1]) == 1
