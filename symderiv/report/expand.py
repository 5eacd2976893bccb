"""`symderiv latex --expanded`: every adjoint in the inputs and parameters only.

Forward nodes are replaced by their definitions (recursively, sharing kept). A forward value
that the printed rows would use in more than one place is named once instead: it gets a
definition row of its own (itself in inputs, parameters and earlier named values), so the
output grows with the model, not with the number of paths through it. This is the one
function that decides which subexpressions are named.
"""
from __future__ import annotations

from typing import Any

from ..derive.scalar import scalar_simplify_all
from ..derive.simplify import rebuild
from ..derive.tidy import Facts, tidy_all
from ..model import ops as o
from ..model.ops import Expr
from ..model.walk import KeyMemo
from ..names import bar_latex, name_latex


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
        stack = [r]
        while stack:  # every distinct node once over all rows
            x = stack.pop()
            if id(x) in seen:
                continue
            seen.add(id(x))
            for a in {id(b): b for b in x.args}.values():
                use(a)
                stack.append(a)
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
    facts = Facts.of(model)
    simple = tidy_all(scalar_simplify_all(tidy_all(out, facts)), facts)
    return list(zip(named, simple[len(rows):])), simple[:len(rows)]


#: a subexpression printed in more than one place is named when it has more nodes than this
MAX_REPEATED = 24
_LEAVES = (o.Var, o.Bar, o.Const, o.Ones, o.Eye, o.Zero)


def fresh_letter(model: Any) -> str:
    """The letter of the abbreviations (`\\delta_1, \\delta_2, ...`), one no model symbol uses."""
    for letter in ("\\delta", "g", "u", "q", "\\zeta"):
        plain = letter.lstrip("\\")
        if not any(n.split("_")[0].lstrip("\\") == plain for n in model.symbols):
            return letter
    return "\\delta^{\\prime}"  # pragma: no cover - every candidate letter taken


def abbreviate(rows: list[tuple[str, Expr]], letter: str = "\\delta",
               limit: int = MAX_REPEATED) -> list[tuple[str, Expr]]:
    """Adjoint rows (name, expression) with every repeated subexpression of more than `limit`
    nodes named once, so that the output grows linearly with the model.

    Returns (left side in LaTeX, expression) in print order: abbreviation rows `\\delta_k`
    placed before the first row that uses them, and the adjoint rows `\\bar{h}`. A
    repeated subexpression that is a whole earlier row is referred to by that row's adjoint
    (`\\bar{h}_3`). Which nodes repeat is decided by structure (hash-consed keys), in three
    linear passes: the distinct nodes, how many times each is printed under distinct parents,
    then (children first) its size with named children counting one."""
    key = KeyMemo()
    post: list[tuple] = []           # distinct keys, children first
    node: dict[tuple, Expr] = {}
    uses: dict[tuple, int] = {}
    for _, r in rows:
        uses[key(r)] = uses.get(key(r), 0) + 1
        post += _postorder(r, key, node)
    for k in post:
        for a in node[k].args:
            uses[key(a)] = uses.get(key(a), 0) + 1
    size: dict[tuple, int] = {}
    named: set[tuple] = set()
    for k in post:
        x = node[k]
        size[k] = 1 + sum(1 if key(a) in named else size[key(a)] for a in x.args)
        if uses.get(k, 0) >= 2 and size[k] > limit and not isinstance(x, _LEAVES):
            named.add(k)
    if not named:
        return [(bar_latex(n), r) for n, r in rows]
    first: dict[tuple, int] = {}     # the first row each named key occurs in
    seen: dict[tuple, Expr] = {}
    for i, (_, r) in enumerate(rows):
        for x in _postorder(r, key, seen):
            if x in named:
                first[x] = i
    root_of = {key(r): (i, n) for i, (n, r) in reversed(list(enumerate(rows)))}
    refs: dict[tuple, Expr] = {}
    bodies: dict[tuple, Expr] = {}
    count = 0
    for k in post:                   # children first: a body uses earlier references only
        if k not in named:
            continue
        x = node[k]
        row = root_of.get(k)
        if row is not None and row[0] == first[k]:
            refs[k] = o.Bar(row[1], x.shape)
        else:
            count += 1
            refs[k] = o.Var(f"{letter}_{count}" if count < 10 else f"{letter}_{{{count}}}", x.shape)
            bodies[k] = _with_refs(x, refs, key)
    before: dict[int, list[tuple]] = {}  # row -> the abbreviations it uses first, children first
    for k in post:
        if k in bodies:
            before.setdefault(first[k], []).append(k)
    out: list[tuple[str, Expr]] = []
    for i, (n, r) in enumerate(rows):
        out += [(name_latex(refs[k].name), bodies[k]) for k in before.get(i, [])]  # type: ignore[attr-defined]
        out.append((bar_latex(n), _with_refs(r, refs, key)))
    return out


def _postorder(e: Expr, key: KeyMemo, node: dict[tuple, Expr]) -> list[tuple]:
    """The keys of `e`'s distinct nodes not yet in `node`, children before parents."""
    out: list[tuple] = []
    stack: list[tuple[Expr, bool]] = [(e, False)]
    while stack:
        x, ready = stack.pop()
        k = key(x)
        if k in node and (not ready or node[k] is not x):
            continue
        if ready:
            out.append(k)
            continue
        node[k] = x
        stack.append((x, True))
        stack.extend((a, False) for a in x.args)
    return out


def _with_refs(e: Expr, refs: dict[tuple, Expr], key: KeyMemo) -> Expr:
    """`e` with every named strict subexpression replaced by its reference."""
    return rebuild(e, lambda x: None if x is e else refs.get(key(x)))
