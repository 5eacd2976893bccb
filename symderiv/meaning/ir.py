"""The index tree of an entrywise expression, and its value by broadcasting and einsum.

A value is an array with one axis per free index (`(array, ("i", "j"))`); products are
`np.einsum` over the union of their indices, sums reduce one axis (with a 0/1 weight vector
for a partial range or `\\sum_{j \\neq i}`), elementwise functions act on the whole array.
Nothing loops over entries; a Jacobian entry's tensor is built with one pull-back per
entry of its numerator (a basis cotangent each).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..fastdataclass import dataclass
from ..model import ops as o
from ..model.ops import Expr

COTANGENT = "\\cot"
Axes = tuple[str | None, str | None]
Value = tuple[np.ndarray, tuple[str, ...]]
Bound = tuple[int, o.Dim | None, int]


class INode:
    """Base of the index tree's nodes."""


@dataclass(frozen=True, eq=False)
class IArr(INode):
    """A model array with its rows and columns labelled by indices (None: not indexed)."""

    expr: Expr
    axes: Axes


@dataclass(frozen=True, eq=False)
class IConst(INode):
    value: Fraction


@dataclass(frozen=True, eq=False)
class IDelta(INode):
    """The Kronecker delta δ_ij."""

    i: str
    j: str


@dataclass(frozen=True, eq=False)
class IJac(INode):
    """∂num/∂den of num's own equation: `pulled` is its VJP with the cotangent COTANGENT."""

    pulled: Expr
    num_shape: o.Shape
    num_axes: Axes
    den_axes: Axes


@dataclass(frozen=True, eq=False)
class IMul(INode):
    items: tuple[INode, ...]


@dataclass(frozen=True, eq=False)
class IAdd(INode):
    terms: tuple[tuple[int, INode], ...]


@dataclass(frozen=True, eq=False)
class IDiv(INode):
    num: INode
    den: INode


@dataclass(frozen=True, eq=False)
class IPow(INode):
    arg: INode
    k: Fraction


@dataclass(frozen=True, eq=False)
class IFn(INode):
    """An elementwise function by its written name and primes: `sigma'`, `log`, `exp`."""

    fn: str
    arg: INode


@dataclass(frozen=True, eq=False)
class ISum(INode):
    """Sum over `index`; lo/hi None: from 1 / to the index's range; `skip`: `\\sum_{i \\neq j}`."""

    index: str
    body: INode
    lo: Bound | None = None
    hi: Bound | None = None
    skip: str | None = None


def children(n: INode) -> tuple[INode, ...]:
    if isinstance(n, IMul):
        return n.items
    if isinstance(n, IAdd):
        return tuple(x for _, x in n.terms)
    if isinstance(n, IDiv):
        return (n.num, n.den)
    if isinstance(n, (IPow, IFn)):
        return (n.arg,)
    if isinstance(n, ISum):
        return (n.body,)
    return ()


def _own(n: INode) -> list[str]:
    if isinstance(n, IArr):
        return [x for x in n.axes if x is not None]
    if isinstance(n, IDelta):
        return [n.i, n.j]
    if isinstance(n, IJac):
        return [x for x in n.num_axes + n.den_axes if x is not None]
    return []


def occurrences(n: INode) -> list[str]:
    """Every index as often as it is written, in order."""
    out: list[str] = []
    stack = [n]
    while stack:
        x = stack.pop()
        out.extend(_own(x))
        stack.extend(reversed(children(x)))
    return out


def free(n: INode) -> set[str]:
    if isinstance(n, ISum):
        inner = free(n.body) - {n.index}
        return inner | ({n.skip} if n.skip else set())
    out = set(_own(n))
    for c in children(n):
        out |= free(c)
    return out


def has_values(n: INode) -> bool:
    """Whether the tree reads any model value (a constant or a delta alone does not)."""
    stack = [n]
    while stack:
        x = stack.pop()
        if isinstance(x, (IArr, IJac)):
            return True
        stack.extend(children(x))
    return False


# ---- evaluation -----------------------------------------------------------------------------

def _ids(axes: tuple[str, ...], table: dict[str, int]) -> list[int]:
    return [table.setdefault(a, len(table)) for a in axes]


def _labelled(arr: np.ndarray, labels: list[str | None]) -> Value:
    """Drop unlabelled (size-1) axes; a repeated label takes the diagonal."""
    keep = [k for k, lab in enumerate(labels) if lab is not None]
    arr = arr.reshape([arr.shape[k] for k in keep]) if len(keep) < arr.ndim else arr
    labs = [labels[k] for k in keep]
    uniq = tuple(dict.fromkeys(labs))  # type: ignore[arg-type]
    if len(uniq) < len(labs):
        table: dict[str, int] = {}
        arr = np.einsum(arr, _ids(tuple(labs), table), _ids(uniq, table))  # type: ignore[arg-type]
    return arr, uniq  # type: ignore[return-value]


def _mul(a: Value, b: Value) -> Value:
    out = a[1] + tuple(x for x in b[1] if x not in a[1])
    table: dict[str, int] = {}
    ia, ib, io = _ids(a[1], table), _ids(b[1], table), _ids(out, table)
    return np.einsum(a[0], ia, b[0], ib, io), out


def _expand(v: Value, order: tuple[str, ...]) -> np.ndarray:
    """v's array transposed to `order` with size-1 axes where it lacks an index (broadcastable)."""
    arr, axes = v
    present = [x for x in order if x in axes]
    arr = np.transpose(arr, [axes.index(x) for x in present]) if axes else arr
    shape = [arr.shape[present.index(x)] if x in axes else 1 for x in order]
    return arr.reshape(shape)


def _union(vals: list[Value]) -> tuple[str, ...]:
    out: list[str] = []
    for _, axes in vals:
        out.extend(x for x in axes if x not in out)
    return tuple(out)


def _pow(a: np.ndarray, k: Fraction) -> np.ndarray:
    if k.denominator == 1:
        return a ** int(k) if k > 0 else 1.0 / a ** int(-k)
    return np.power(a, float(k))


_TEMPLATES: dict[str, Expr] = {}


def _fn(name: str, arr: np.ndarray, env: Any, ev: Any) -> np.ndarray:
    """The elementwise function as the matrix reader builds it, on a flattened copy."""
    if name not in _TEMPLATES:
        from .functions import elementwise
        func, primes = name.rstrip("'"), len(name) - len(name.rstrip("'"))
        _TEMPLATES[name] = elementwise(func, primes)(o.Var("\\arg", ("\\N", 1)))  # type: ignore[misc]
    flat = type(env)({"\\N": arr.size}, {"\\arg": np.asarray(arr, dtype=float).reshape(-1, 1)}, {},
                     getattr(env, "choice", 0))  # the same concrete generic functions as the instance
    return ev(_TEMPLATES[name], flat).reshape(arr.shape)


def _size(env: Any, dims: dict[str, o.Dim], x: str) -> int:
    return int(env.size(dims[x]))


def _end(b: Bound, env: Any) -> int:
    whole, dim, off = b
    return whole if dim is None else int(env.size(dim)) + off


def evaluate(n: INode, env: Any, dims: dict[str, o.Dim], ev: Any) -> Value:
    """The value of an index tree on one instance; `ev(expr, env)` evaluates a matrix
    expression (the verifier's, passed in: meaning does not import verify)."""
    if isinstance(n, IArr):
        return _labelled(ev(n.expr, env), list(n.axes))
    if isinstance(n, IConst):
        return np.array(float(n.value)), ()
    if isinstance(n, IDelta):
        size = _size(env, dims, n.i)
        return (np.ones(size), (n.i,)) if n.i == n.j else (np.eye(size), (n.i, n.j))
    if isinstance(n, IJac):
        rows, cols = env.shape(n.num_shape)
        cot = np.zeros((rows, cols))
        slices = []
        for k in range(rows * cols):  # one pull-back per entry of the numerator
            cot[:] = 0.0
            cot.flat[k] = 1.0
            slices.append(ev(n.pulled, type(env)(env.dims, {**env.values, COTANGENT: cot}, env.bars, getattr(env, "choice", 0))))
        tensor = np.stack(slices).reshape((rows, cols) + slices[0].shape)
        return _labelled(tensor, list(n.num_axes + n.den_axes))
    if isinstance(n, IMul):
        acc = evaluate(n.items[0], env, dims, ev)
        for item in n.items[1:]:
            acc = _mul(acc, evaluate(item, env, dims, ev))
        return acc
    if isinstance(n, IAdd):
        vals = [evaluate(x, env, dims, ev) for _, x in n.terms]
        order = _union(vals)
        total = sum(s * _expand(v, order) for (s, _), v in zip(n.terms, vals))
        return np.broadcast_to(total, [_size(env, dims, x) for x in order]).copy(), order
    if isinstance(n, IDiv):
        a, b = evaluate(n.num, env, dims, ev), evaluate(n.den, env, dims, ev)
        order = _union([a, b])
        with np.errstate(all="ignore"):
            return np.broadcast_to(_expand(a, order) / _expand(b, order),
                                   [_size(env, dims, x) for x in order]).copy(), order
    if isinstance(n, IPow):
        a, axes = evaluate(n.arg, env, dims, ev)
        with np.errstate(all="ignore"):
            return _pow(a, n.k), axes
    if isinstance(n, IFn):
        a, axes = evaluate(n.arg, env, dims, ev)
        return _fn(n.fn, a, env, ev), axes
    if isinstance(n, ISum):
        return _sum(n, env, dims, ev)
    raise TypeError(type(n).__name__)


def _sum(n: ISum, env: Any, dims: dict[str, o.Dim], ev: Any) -> Value:
    arr, axes = evaluate(n.body, env, dims, ev)
    size = _size(env, dims, n.index)
    weights = np.ones(size)
    if n.lo is not None:
        weights[:max(0, _end(n.lo, env) - 1)] = 0.0
    if n.hi is not None:
        weights[max(0, _end(n.hi, env)):] = 0.0
    value: Value = (arr, axes)
    if n.index not in axes:
        value = _mul(value, (np.ones(size), (n.index,)))
    if n.skip is not None:
        value = _mul(value, (1.0 - np.eye(size), (n.index, n.skip)))
    arr, axes = value
    k = axes.index(n.index)
    return np.tensordot(arr, weights, axes=([k], [0])), tuple(x for x in axes if x != n.index)


def align(v: Value, out: tuple[str, ...], env: Any, dims: dict[str, o.Dim]) -> np.ndarray:
    """The value with its axes in the order `out`, broadcast where an index does not occur."""
    arr, axes = v
    extra = [x for x in axes if x not in out]
    if extra:
        raise ValueError(f"index {extra[0]} is left over")
    return np.broadcast_to(_expand(v, out), [_size(env, dims, x) for x in out]).copy()
