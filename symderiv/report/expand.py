"""`symderiv latex --expanded`: every adjoint in the inputs and parameters only.

Forward nodes are replaced by their definitions (recursively, sharing kept). A forward value
that the printed rows would use in more than one place is named once instead: it gets a
definition row of its own (itself in inputs, parameters and earlier named values), so the
output grows with the model, not with the number of paths through it. This is the one
function that decides which subexpressions are named.
"""
from __future__ import annotations

from typing import Any

from ..derive.scalar import scalar_simplify
from ..derive.simplify import rebuild
from ..model import ops as o
from ..model.ops import Expr
from ..model.walk import nodes


def _inlined(model: Any, rows: list[Expr], keep: set[str]) -> tuple[list[Expr], dict[int, str]]:
    """The rows with every forward node not in `keep` replaced by its definition (one shared
    object per node), and which node each replacement object stands for."""
    memo: dict[int, Expr] = {}
    defs: dict[str, Expr] = {}

    def leaf(x: Expr) -> Expr | None:
        return defs.get(x.name) if isinstance(x, o.Var) else None

    for n in model.nodes:  # forward order: a definition uses only earlier nodes (no recursion)
        if n not in keep:
            defs[n] = rebuild(model.symbols[n].definition, leaf, memo=memo)
    out = [rebuild(r, leaf, memo=memo) for r in rows]
    return out, {id(e): n for n, e in defs.items()}


def _uses(rows: list[Expr], stands: dict[int, str], keep: set[str]) -> dict[str, int]:
    """How many distinct parent nodes (and rows) use each forward value, inlined or named."""
    count: dict[str, int] = {}

    def which(x: Expr) -> str | None:
        if isinstance(x, o.Var) and x.name in keep:
            return x.name
        return stands.get(id(x))

    def use(x: Expr) -> None:
        n = which(x)
        if n is not None:
            count[n] = count.get(n, 0) + 1

    seen: set[int] = set()
    for r in rows:
        use(r)
        for x in nodes(r):
            if id(x) not in seen:
                seen.add(id(x))
                for a in {id(b): b for b in x.args}.values():
                    use(a)
    return count


def name_shared(model: Any, rows: list[Expr]) -> tuple[list[tuple[str, Expr]], list[Expr]]:
    """(named forward values with their definitions, rows) in inputs, parameters and names.

    A forward node is kept as a name when the fully inlined output would use it twice or
    more; its definition row uses only inputs, parameters and earlier names."""
    forward = [n for n in model.nodes if n != model.loss]
    keep: set[str] = set()
    while True:  # naming one value can leave another used only once: fixed point, at most |nodes|
        defs = [model.symbols[n].definition for n in forward if n in keep]
        count = _uses(*_inlined(model, rows + defs, keep), keep)
        new = {n for n in forward if count.get(n, 0) >= 2 and n not in keep
               and model.symbols[n].definition.args}
        if not new:
            break
        keep |= new
    named = [n for n in forward if n in keep]
    out, _ = _inlined(model, rows + [model.symbols[n].definition for n in named], keep)
    where = [(n, scalar_simplify(e)) for n, e in zip(named, out[len(rows):])]
    return where, [scalar_simplify(e) for e in out[:len(rows)]]
