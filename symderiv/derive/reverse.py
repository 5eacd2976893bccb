"""The reverse sweep: no op-specific code, only the rule table.

`vjp` pulls a cotangent back through one expression (a node's defining equation) to the
occurrences of a symbol, the others held fixed: exactly what `\\bar{a}\\frac{\\partial a}
{\\partial b}` means. Each occurrence's contribution is kept apart (a "term"), so that a
missing or extra term can be named. Cost is linear in the size of the expression DAG.
"""
from __future__ import annotations

from ..errors import ShapeError
from ..model import ops as o
from ..model.ops import Expr
from .rules import rule_for


def _depends(e: Expr, names: frozenset[str], memo: dict[int, bool]) -> bool:
    k = id(e)
    if k not in memo:
        if isinstance(e, o.Var):
            memo[k] = e.name in names
        else:
            memo[k] = any([_depends(a, names, memo) for a in e.args])  # noqa: C419 (visit every arg)
    return memo[k]


def _topo(root: Expr, keep: dict[int, bool]) -> list[Expr]:
    """Nodes that lead to a wanted leaf, parents before children (iterative DFS)."""
    order: list[Expr] = []
    seen: set[int] = set()
    stack: list[tuple[Expr, bool]] = [(root, False)]
    while stack:
        e, done = stack.pop()
        if done:
            order.append(e)
            continue
        if id(e) in seen or not keep.get(id(e)):
            continue
        seen.add(id(e))
        stack.append((e, True))
        for a in e.args:
            stack.append((a, False))
    order.reverse()
    return order


def vjp_terms(expr: Expr, wrt: str, cot: Expr, out: Expr | None = None) -> list[Expr]:
    """The contributions of each occurrence of `wrt` in `expr` to its adjoint, given the
    cotangent `cot` of `expr`; `out` stands for the value of `expr` itself in rules."""
    if not (o.same(cot.shape[0], expr.shape[0]) and o.same(cot.shape[1], expr.shape[1])):
        raise ShapeError(f"the adjoint is {o.shape_str(cot.shape)} but the expression it pulls back "
                         f"through is {o.shape_str(expr.shape)}")
    memo: dict[int, bool] = {}
    if not _depends(expr, frozenset((wrt,)), memo):
        return []
    grads: dict[int, list[Expr]] = {id(expr): [cot]}
    terms: list[Expr] = []
    for node in _topo(expr, memo):
        gs = grads.pop(id(node), [])
        if not gs:
            continue
        if isinstance(node, o.Var):
            terms.extend(gs)
            continue
        g = o.add(*gs)
        node_out = out if (node is expr and out is not None) else node
        for i, a in enumerate(node.args):
            if memo.get(id(a)):
                grads.setdefault(id(a), []).append(rule_for(node, i)(node, node_out, g))
    return terms


def vjp(expr: Expr, wrt: str, cot: Expr, out: Expr | None = None, shape: o.Shape | None = None) -> Expr:
    """The adjoint contribution of `wrt` through `expr` (zero when it does not occur)."""
    terms = vjp_terms(expr, wrt, cot, out)
    if terms:
        return o.add(*terms)
    if shape is None:
        raise ShapeError(f"{wrt} does not occur in the expression")
    return o.Zero(shape)
