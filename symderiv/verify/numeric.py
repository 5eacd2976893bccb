"""Evaluate expressions on numbers: float64 arrays, always 2-D (a scalar is 1x1).

Tolerance: two results agree when max|a - b| <= RTOL * (1 + max|b|). Values are drawn of
order 1 at sizes below 8, so correct answers agree to ~1e-13; RTOL = 1e-9 leaves four orders
of margin for round-off (inverse, log near 0) while a real mistake is off by order 1. (A
term with a deliberately tiny written coefficient, below ~1e-9, is the one thing this cannot
see; such a term is not a mistake anyone makes by hand.)
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import UnsupportedError
from ..model import ops as o
from ..model.elementwise import RECORDS, realise
from ..model.ops import Expr
from ..model.walk import KeyMemo, fold, own_key

RTOL = 1e-9
Array = np.ndarray


@dataclass
class Env:
    """Sizes of the dims, values of the symbols, (true or assumed) adjoints, and which concrete
    function realises every generic one (`choice`, elementwise.CHOICES) on this instance."""

    dims: dict[str, int]
    values: dict[str, Array] = field(default_factory=dict)
    bars: dict[str, Array] = field(default_factory=dict)
    choice: int = 0

    def size(self, d: o.Dim) -> int:
        d = o.find(d)
        if isinstance(d, int):
            return d
        if isinstance(d, str):
            return self.dims[d]
        raise UnsupportedError("a size that could not be inferred")

    def shape(self, s: o.Shape) -> tuple[int, int]:
        return (self.size(s[0]), self.size(s[1]))


def _softmax(x: Array, axis: int = 0) -> Array:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


FUNCS: dict[str, Callable[[Array], Array]] = {f.name: f.numpy for f in RECORDS}


def _pow(a: Array, k) -> Array:
    if k.denominator == 1:
        return a ** int(k) if k > 0 else 1.0 / a ** int(-k)
    return np.power(a, float(k))


def _scale(s: Array, b: Array) -> Array:
    return s[0, 0] * b


EVAL: dict[type, Callable] = {
    o.MatMul: lambda n, env, a, b: a @ b,
    o.Scale: lambda n, env, s, b: _scale(s, b),
    o.Hadamard: lambda n, env, a, b: a * b,
    o.Transpose: lambda n, env, a: a.T,
    o.Apply: lambda n, env, a: (FUNCS.get(n.fn) or realise(n.fn, env.choice))(a),
    o.Pow: lambda n, env, a: _pow(a, n.k),
    o.Inverse: lambda n, env, a: np.linalg.inv(a),
    o.Det: lambda n, env, a: np.array([[np.linalg.det(a)]]),
    o.Trace: lambda n, env, a: np.array([[np.trace(a)]]),
    o.Sum: lambda n, env, a: np.array([[a.sum()]]),
    o.Diag: lambda n, env, a: np.diag(a[:, 0]),
    o.DiagPart: lambda n, env, a: np.diag(a).reshape(-1, 1).copy(),
    o.Softmax: lambda n, env, a: _softmax(a, int(n.rows)),
    o.LogSoftmax: lambda n, env, a: np.log(_softmax(a, int(n.rows))),
}


def _leaf(e: Expr, env: Env) -> Array:
    if isinstance(e, o.Var):
        return env.values[e.name]
    if isinstance(e, o.Bar):
        return env.bars[e.name]
    if isinstance(e, o.Const):
        try:
            return np.array([[float(e.value)]])
        except OverflowError:  # beyond 1.8e308: the value is infinite for the spot checks
            return np.array([[np.inf if e.value > 0 else -np.inf]])
    if isinstance(e, o.Ones):
        return np.ones(env.shape(e.shape))
    if isinstance(e, o.Zero):
        return np.zeros(env.shape(e.shape))
    if isinstance(e, o.Eye):
        return np.eye(env.size(e.n))
    own = getattr(e, "evaluate_in", None)  # an index expression (meaning/indices.Entries)
    if own is not None:
        return own(env, evaluate)
    raise UnsupportedError(f"cannot evaluate {type(e).__name__}")


def _apply(x: Expr, args: list[Array], env: Env) -> Array:
    if not args:
        return _leaf(x, env)
    if isinstance(x, o.Add):
        v = args[0]
        for a in args[1:]:
            v = v + a
        return v
    try:
        return np.asarray(EVAL[type(x)](x, env, *args), dtype=float)
    except np.linalg.LinAlgError:
        return np.full(env.shape(x.shape), np.nan)


#: node types whose rule gives a float array of the right shape from float arrays (no
#: conversion, no linear algebra that can fail)
_PLAIN = frozenset({o.MatMul, o.Hadamard, o.Transpose, o.Scale})


def _compiled(x: Expr, ix: tuple[int, ...]) -> Callable[[Env, list[Array]], Array]:
    """One step of a plan: the value of `x` from the values of the steps before it (`ix`,
    its arguments' places). A closure per node, so a walk pays no dispatch per instance."""
    t = type(x)
    if not ix:
        if t is o.Var:
            name = x.name  # type: ignore[attr-defined]
            return lambda env, v: env.values[name]
        if t is o.Bar:
            name = x.name  # type: ignore[attr-defined]
            return lambda env, v: env.bars[name]
        return lambda env, v: _leaf(x, env)
    if t is o.Add and len(ix) == 2:
        i, j = ix
        return lambda env, v: v[i] + v[j]
    if t in _PLAIN:
        rule = EVAL[t]
        if len(ix) == 1:
            (i,) = ix
            return lambda env, v: rule(x, env, v[i])
        i, j = ix
        return lambda env, v: rule(x, env, v[i], v[j])
    return lambda env, v: _apply(x, [v[j] for j in ix], env)


def evaluate(e: Expr, env: Env, memo: dict[int, Array] | None = None) -> Array:
    """The value of `e` (iterative, so deep expressions cannot overflow the stack)."""
    if memo is None:
        return Plan(e).run([env])[0]
    with np.errstate(all="ignore"):
        return fold(e, lambda x, args: _apply(x, args, env), memo=memo)


class Plan:
    """`e`'s distinct nodes in evaluation order (children first), walked once: evaluating on
    many instances pays the walk once, not once per instance (the walk costs more than the
    numpy calls at the sizes sampled)."""

    __slots__ = ("argix", "order", "root", "steps")

    def __init__(self, e: Expr) -> None:
        index: dict[int, int] = {}
        order: list[Expr] = []
        argix: list[tuple[int, ...]] = []
        stack: list[tuple[Expr, bool]] = [(e, False)]
        while stack:  # iterative: any depth
            x, ready = stack.pop()
            if id(x) in index:
                continue
            if not ready and x.args:
                stack.append((x, True))
                stack.extend((a, False) for a in reversed(x.args) if id(a) not in index)
                continue
            index[id(x)] = len(order)
            order.append(x)
            argix.append(tuple(index[id(a)] for a in x.args))
        self.root, self.order, self.argix = e, order, argix
        self.steps = [_compiled(x, ix) for x, ix in zip(order, argix)]

    def run(self, envs: list[Env]) -> list[Array]:
        """The value of the expression on each instance."""
        out = []
        steps = self.steps
        with np.errstate(all="ignore"):
            for env in envs:
                vals: list[Array] = []
                for step in steps:
                    vals.append(step(env, vals))
                out.append(vals[-1])
        return out


def evaluate_all(e: Expr, envs: list[Env]) -> list[Array]:
    """The value of `e` on each of `envs` (one walk of `e`)."""
    return Plan(e).run(envs)


class _Keys(KeyMemo):
    """Structural keys for values: a ones vector, zero or identity whose size is not yet
    known is keyed by itself (its size may be bound later; it must not share a value)."""

    def _key(self, x: Expr, args: list[tuple]) -> tuple:
        own = own_key(x)
        if isinstance(x, (o.Ones, o.Zero, o.Eye)) and "?" in own:
            own = ("unsized", id(x))
        k = own + tuple(args)
        return self.table.setdefault(k, (k[0], len(self.table)))


class Shared:
    """The values of every subexpression met so far, per instance: the lines and steps of
    one sheet, and the candidates of its repairs, repeat most of their subexpressions (on
    the seed sheet, a third of the nodes evaluated are distinct). One per sheet; it holds
    the instances it has seen (so an id is never reused) and must not outlive their values."""

    def __init__(self) -> None:
        self.keys = _Keys()
        self.tables: dict[int, dict[tuple, Array]] = {}
        self.envs: list[Env] = []

    def _table(self, env: Env) -> dict[tuple, Array]:
        t = self.tables.get(id(env))
        if t is None:
            t = self.tables[id(env)] = {}
            self.envs.append(env)
        return t

    def values(self, e: Expr, envs: list[Env]) -> list[Array]:
        tables = [self._table(env) for env in envs]
        self.keys(e)
        key = self.keys.memo

        def known(x: Expr) -> list[Array] | None:
            t = type(x)
            if t is o.Var or t is o.Bar:  # a lookup: nothing to share
                table = "values" if t is o.Var else "bars"
                return [getattr(env, table)[x.name] for env in envs]  # type: ignore[attr-defined]
            k = key[id(x)]
            if k not in tables[0]:  # most often: a node not met before
                return None
            col = [t.get(k) for t in tables]
            return None if any(v is None for v in col) else col

        def value(x: Expr, args: list[list[Array]]) -> list[Array]:
            k = key[id(x)]
            col = []
            for i, (t, env) in enumerate(zip(tables, envs)):
                v = t.get(k)
                if v is None:
                    v = _apply(x, [a[i] for a in args], env)
                    if args:
                        v.flags.writeable = False  # shared from now on: never changed in place
                    t[k] = v
                col.append(v)
            return col

        with np.errstate(all="ignore"):
            return list(fold(e, value, leaf=known))


def close(a: Array, b: Array) -> bool:
    """Same shape and equal within RTOL (see module docstring); NaN never agrees. (b finite
    and a - b finite make a finite: two reductions, and no warning to silence.)"""
    if a.shape != b.shape:
        return False
    scale = float(np.abs(b).max(initial=0.0))
    if not math.isfinite(scale):
        return False
    return float(np.abs(a - b).max(initial=0.0)) <= RTOL * (1.0 + scale)
