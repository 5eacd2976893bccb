"""Iterative walks over expression DAGs: deep networks never hit the recursion limit, and a
shared subtree is visited once."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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
         memo: dict[int, Any] | None = None) -> Any:
    """f(node, [results of its arguments]) bottom-up; `leaf(node)`, when not None, replaces a
    node (and its subtree) before it is walked."""
    memo = {} if memo is None else memo
    keep: list[Expr] = []  # keep visited nodes alive so their ids stay unique
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
