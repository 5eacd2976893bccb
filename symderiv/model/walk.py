"""Iterative walks over expression DAGs: deep networks never hit the recursion limit, and a
shared subtree is visited once."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from . import ops as o
from .ops import Expr


def nodes(e: Expr) -> Iterator[Expr]:
    """Every distinct node of `e`, each once (parents before children)."""
    seen: set[int] = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        yield x
        stack.extend(reversed(x.args))


def fold(e: Expr, f: Callable[[Expr, list[Any]], Any], leaf: Callable[[Expr], Any] | None = None,
         memo: dict[int, Any] | None = None, keep: list[Expr] | None = None) -> Any:
    """f(node, [results of its arguments]) bottom-up; `leaf(node)`, when not None, replaces a
    node (and its subtree) before it is walked. A `memo` that outlives the call needs a `keep`
    list that lives as long: it holds the visited nodes, so that no id is ever reused."""
    memo = {} if memo is None else memo
    keep = [] if keep is None else keep
    stack: list[tuple[Expr, bool]] = [(e, False)]
    while stack:
        x, ready = stack.pop()
        if id(x) in memo:
            continue
        if not ready:
            r = leaf(x) if leaf is not None else None
            if r is not None:
                memo[id(x)] = r
                keep.append(x)
                continue
            if x.args:
                stack.append((x, True))
                stack.extend((a, False) for a in x.args if id(a) not in memo)
                continue
        memo[id(x)] = f(x, [memo[id(a)] for a in x.args])
        keep.append(x)
    return memo[id(e)]


def own_key(x: Expr) -> tuple:
    """What identifies a node apart from its arguments."""
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
    if isinstance(x, (o.Softmax, o.LogSoftmax)):
        return (type(x).__name__, x.rows)
    own = getattr(x, "own_key", None)  # a leaf defined outside ops (an index expression)
    return own() if own is not None else (type(x).__name__,)


class KeyMemo:
    """Structural keys for identity-compared nodes: equal keys for equal trees.

    Hash-consed (a node's key is a short tuple naming its structure's entry in `table`), so a
    key never nests and hashing it is O(1), not exponential on a shared DAG; memoised per
    node and computed iteratively, so any depth is fine. Keys compare within one KeyMemo."""

    def __init__(self) -> None:
        self.memo: dict[int, tuple] = {}
        self.table: dict[tuple, tuple] = {}
        self.keep: list[Expr] = []

    def _key(self, x: Expr, args: list[tuple]) -> tuple:
        k = own_key(x) + tuple(args)
        return self.table.setdefault(k, (k[0], len(self.table)))

    def __call__(self, e: Expr) -> tuple:
        got = self.memo.get(id(e))
        return got if got is not None else fold(e, self._key, memo=self.memo, keep=self.keep)
