"""Index notation (SPEC 3.3): entries, free indices, Kronecker deltas and sums -> values.

A statement part that uses indices is read into a small index tree (`ir.py`): entries of
model arrays (`W_{ij}`, `\\bar{z}_i`, `(\\bar{z} x^\\top)_{ij}`), Kronecker deltas, Jacobian
entries (`\\frac{\\partial y_i}{\\partial z_j}`), sums, and elementwise arithmetic. Its value is
computed by numpy broadcasting and einsum over whole arrays (never a loop over entries); an
`Entries` expression wraps it for the verifier, with its free indices in the order of the
claim's left side. A problem's index-form definition (`z_i = \\sum_j W_{ij} x_j + b_i`) is
lowered to matrix operations (`lower.py`) so the reverse sweep derives it like any other.

Names: declared names win. `z_y`, `W_1`, `b_2` are names when declared so; otherwise a
subscript on a declared array is an index when it is made of letters that are neither
declared symbols nor sizes (`W_{ij}`, `W_{i,j}`, `x_j`); a size letter is never an index.
"""
from __future__ import annotations

import re
from dataclasses import field
from fractions import Fraction
from typing import TYPE_CHECKING

from ..errors import ShapeError, UnsupportedError
from ..fastdataclass import dataclass
from ..model import ops as o
from ..model.ops import Expr
from ..read import tree as t
from ..spans import Span
from . import ir
from .functions import GENERIC_ONLY, elementwise, exponent

if TYPE_CHECKING:  # resolution recurses through scope.resolve: no import of resolve.py
    from .resolve import Scope

#: a name with a trailing subscript: base and the subscript's text
_SUBSCRIPTED = re.compile(r"^(?P<base>.+?)_(?:\{(?P<braced>[^{}]*)\}|(?P<one>[A-Za-z0-9]))$")
KRONECKER = "[=]"  # the base split_entry gives a Kronecker delta: \delta_{ij}, [i = j], \mathbb{1}[i=j]
_IVERSON = re.compile(r"^\[([A-Za-z])=([A-Za-z])\]$")


class IndexError_(ShapeError):
    """Free indices that do not match, with the `\\sum` the line probably means."""

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None,
                 repair: t.Node | None = None) -> None:
        super().__init__(message, span, hint)
        self.repair = repair


def _letters(sub: str) -> list[str] | None:
    """`ij` -> [i, j]; `i,j` -> [i, j]; None when the subscript is not made of index letters."""
    sub = sub.strip()
    parts = [p.strip() for p in sub.split(",")] if "," in sub else list(sub.replace(" ", ""))
    if not parts or not all(len(p) == 1 and p.isalpha() for p in parts):
        return None
    return parts


def is_index_letter(letter: str, scope: Scope) -> bool:
    """A letter that is neither a declared symbol, a local name, nor a size."""
    return (len(letter) == 1 and letter.isalpha() and letter not in scope.local
            and scope.canonical(letter) is None and letter not in scope.model.dims)


def split_entry(name: str, scope: Scope) -> tuple[str, list[str]] | None:
    """(base, index letters) when `name` is an entry of a known array (or a Kronecker delta),
    None when it is a name (declared names win) or not an entry."""
    if name in scope.local or scope.canonical(name) is not None:
        return None
    iv = _IVERSON.match(name)
    if iv:
        pair = [iv.group(1), iv.group(2)]
        return (KRONECKER, pair) if all(is_index_letter(x, scope) for x in pair) else None
    m = _SUBSCRIPTED.match(name)
    if not m:
        return None
    base = m.group("base")
    letters = _letters(m.group("braced") if m.group("braced") is not None else m.group("one"))
    if letters is None or not all(is_index_letter(x, scope) for x in letters):
        return None
    if base in scope.local or scope.canonical(base) is not None:
        return base, letters
    if base == "\\delta" and len(letters) == 2:
        return KRONECKER, letters
    return None


# ---- does a part use index notation? --------------------------------------------------------

def uses_indices(node: t.Node, scope: Scope) -> bool:
    """Whether a parse tree holds a sum, an entry or a Kronecker delta (iteratively)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (t.BigSum, t.Subscript, t.PartialOf)):
            return True
        if isinstance(n, t.Derivative) and any(split_entry(w, scope) is not None
                                               for w in (n.wrt, n.wrt2) if w is not None):
            return True
        if isinstance(n, (t.Name, t.Bar)) and split_entry(n.name, scope) is not None:
            return True
        if isinstance(n, t.Partial) and (split_entry(n.den, scope) or split_entry(n.num, scope)):
            return True
        stack.extend(t.children(n))
    return False


# ---- the Entries expression -----------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Entries(Expr):
    """An index expression's value as an array: axes in the order of `out`, reshaped to `shp`
    (a matrix for two free indices, a column for one, a scalar for none)."""

    tree: ir.INode
    out: tuple[str, ...]
    dims: tuple[tuple[str, o.Dim], ...]
    shp: o.Shape

    def _shape_of(self) -> o.Shape:
        return self.shp

    def evaluate_in(self, env, ev) -> object:
        """The value on one instance; `ev(expr, env)` is the verifier's matrix evaluator."""
        import numpy as np
        dims = dict(self.dims)
        arr = ir.align(ir.evaluate(self.tree, env, dims, ev), self.out, env, dims)
        if len(self.out) <= 2:
            return np.asarray(arr, dtype=float).reshape(env.shape(self.shp))
        return np.asarray(arr, dtype=float).reshape(arr.shape[0], -1)

    def own_key(self) -> tuple:
        return ("Entries", id(self))

    def summands(self) -> list[Expr]:
        """The top-level terms, each with its sign, as index expressions of the same axes
        (for the term diagnoses: one term extra, or off by a sign or a factor)."""
        tree = self.tree
        if isinstance(tree, ir.IJac) and isinstance(tree.pulled, o.Add):  # a Hessian's λδ_jk
            return [Entries(ir.IJac(x, tree.num_shape, tree.num_axes, tree.den_axes), self.out, self.dims,
                            self.shp) for x in tree.pulled.terms]
        if not isinstance(tree, ir.IAdd) or len(tree.terms) < 2:
            return []
        return [Entries(ir.IMul((ir.IConst(Fraction(s)), x)), self.out, self.dims, self.shp)
                for s, x in tree.terms]


def _shape_for(out: tuple[str, ...], dims: dict[str, o.Dim]) -> o.Shape:
    if not out:
        return o.SCALAR
    if len(out) == 1:
        return (dims[out[0]], 1)
    if len(out) == 2:
        return (dims[out[0]], dims[out[1]])
    return (dims[out[0]], "·".join(o.dim_str(dims[x]) for x in out[1:]))


@dataclass
class _Ctx:
    scope: Scope
    dims: dict[str, o.Dim] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # index -> the text that fixed its range

    def fix(self, letter: str, dim: o.Dim, what: str, span: Span | None) -> None:
        if letter in self.dims:
            if not o.unify(self.dims[letter], dim):
                raise ShapeError(f"index {letter} runs over {o.dim_str(self.dims[letter])} in "
                                 f"{self.where[letter]} but over {o.dim_str(dim)} in {what}", span)
            return
        self.dims[letter] = dim
        self.where[letter] = what


def _text(ctx: _Ctx, node: t.Node, fallback: str) -> str:
    return f"`{ctx.scope.text(node) or fallback}`"


def _entry(ctx: _Ctx, e: Expr, letters: list[str], node: t.Node, name: str) -> ir.INode:
    """Entry `letters` of the array `e` (a matrix takes two indices, a vector one)."""
    rows, cols = o.find(e.shape[0]), o.find(e.shape[1])
    what = _text(ctx, node, name)
    if len(letters) == 1:
        if cols == 1:
            ctx.fix(letters[0], rows, what, node.span)
            return ir.IArr(e, (letters[0], None))
        if rows == 1:
            ctx.fix(letters[0], cols, what, node.span)
            return ir.IArr(e, (None, letters[0]))
        raise ShapeError(f"{name} is a matrix ({o.shape_str(e.shape)}): an entry needs two indices, "
                         f"as in {name}_{{ij}}", node.span)
    if len(letters) == 2:
        if cols == 1 or rows == 1:
            raise ShapeError(f"{name} is {o.shape_str(e.shape)}: an entry takes one index, not two",
                             node.span)
        ctx.fix(letters[0], rows, what, node.span)
        ctx.fix(letters[1], cols, what, node.span)
        return ir.IArr(e, (letters[0], letters[1]))
    raise UnsupportedError("only entries of vectors and matrices (one or two indices) are supported",
                           node.span)


def _plain(ctx: _Ctx, node: t.Node) -> Expr:
    return ctx.scope.resolve(node)


def _array(ctx: _Ctx, name: str, node: t.Node, bar: bool) -> ir.INode:
    split = split_entry(name, ctx.scope)
    if split is None:
        e = _plain(ctx, t.Bar(node.span, name) if bar else t.Name(node.span, name))
        return _whole(ctx, e, node)
    base, letters = split
    if base == KRONECKER and not bar:
        return ir.IDelta(letters[0], letters[1])
    e = _plain(ctx, t.Bar(node.span, base) if bar else t.Name(node.span, base))
    return _entry(ctx, e, letters, node, ("\\bar{" + base + "}") if bar else base)


def _whole(ctx: _Ctx, e: Expr, node: t.Node) -> ir.INode:
    if not e.is_scalar:
        shown = ctx.scope.text(node) or "this"
        raise ShapeError(f"`{shown}` is {o.shape_str(e.shape)} inside an index expression: write an "
                         f"entry, as in `{shown}_{{i}}`", node.span)
    return ir.IArr(e, (None, None))


def _partial(ctx: _Ctx, n: t.Partial) -> ir.INode:
    from .leibniz import partial_alone
    scope = ctx.scope
    den = split_entry(n.den, scope)
    num = split_entry(n.num, scope)
    den_base = den[0] if den else n.den
    loss = scope.canonical(n.num) == scope.model.loss if num is None else False
    if loss:
        e = partial_alone(t.Partial(n.span, n.num, den_base, form=n.form), scope)
        if den is None:
            return _whole(ctx, e, n)
        return _entry(ctx, e, den[1], n, den_base)
    return _jacobian(ctx, n, num[0] if num else n.num, num[1] if num else [], den_base,
                     den[1] if den else [], total=n.form == "d")


def _jacobian(ctx: _Ctx, n: t.Node, num: str, num_letters: list[str], den: str,
              den_letters: list[str], total: bool = False) -> ir.INode:
    """`\\frac{\\partial y_i}{\\partial z_j}`: the partial of y's own equation, entry (i, j);
    `\\frac{d y_i}{d z_j}` (total): through every path of the model from z to y."""
    from .jacobian import function_of
    scope = ctx.scope
    cn, cd = scope.canonical(num), scope.canonical(den)
    if cn is None or cd is None:
        raise scope.unknown(num if cn is None else den, n.span)
    sym = scope.model.symbols[cn]
    if sym.definition is None and cn != cd:
        raise UnsupportedError(f"{cn} is an input of the model: it has no defining equation to "
                               f"differentiate", n.span)
    cot = o.Var(ir.COTANGENT, sym.shape)
    pulled = function_of(scope.model, cn, cd, total, n.span).vjp(cot)
    num_axes = _axes_of(ctx, o.Var(cn, sym.shape), num_letters, n, cn)
    den_axes = _axes_of(ctx, o.Var(cd, scope.model.shape(cd)), den_letters, n, cd)
    return ir.IJac(pulled, sym.shape, num_axes, den_axes)


def _hessian_entry(ctx: _Ctx, n: t.Derivative) -> ir.INode:
    """`\\frac{\\partial^2 f}{\\partial w_j \\partial w_k}`: entry (j, k) of the Hessian of a scalar
    f by a vector w, through the model: the Jacobian of the derived gradient, each row an exact
    Hessian-vector product (reverse mode over the gradient), never finite differences."""
    from .jacobian import hessian_vector, shape_kind
    scope = ctx.scope
    first, second = split_entry(n.wrt, scope), split_entry(n.wrt2 or n.wrt, scope)
    if first is None or second is None or first[0] != second[0]:
        raise UnsupportedError("a second derivative in index notation is by two entries of one vector, "
                               "as in \\frac{\\partial^2 f}{\\partial w_j \\partial w_k}", n.span)
    base = scope.node(first[0], n.span)
    shape = scope.model.shape(base)
    if shape_kind(shape) != "vector":
        raise UnsupportedError(f"a second derivative by entries of the matrix {base} is a 4-index tensor: "
                               f"only a Hessian by a vector is supported", n.span)
    if uses_indices(n.arg, scope):
        raise UnsupportedError("a second derivative of an entry is a 3-index tensor: only the Hessian of "
                               "a scalar is supported", n.span)
    f = _plain(ctx, n.arg)
    if not f.is_scalar:
        raise UnsupportedError(f"a Hessian is of a scalar: `{scope.text(n.arg) or 'this'}` is "
                               f"{o.shape_str(f.shape)}", n.span)
    pulled = hessian_vector(scope.model, f, base, o.Var(ir.COTANGENT, shape))
    var = o.Var(base, shape)
    return ir.IJac(pulled, shape, _axes_of(ctx, var, first[1], n, base), _axes_of(ctx, var, second[1], n, base))


def _axes_of(ctx: _Ctx, e: Expr, letters: list[str], node: t.Node, name: str) -> tuple[str | None, str | None]:
    if not letters:
        if not e.is_scalar:
            raise UnsupportedError(f"a derivative of or by the whole array {name} inside an index "
                                   f"expression: write its entries, as in {name}_{{i}}", node.span)
        return (None, None)
    leaf = _entry(ctx, e, letters, node, name)
    assert isinstance(leaf, ir.IArr)
    return leaf.axes


def _bound(ctx: _Ctx, text: str | None, node: t.BigSum) -> tuple[int, o.Dim | None, int] | None:
    """A bound as (whole number part, size letter or None, offset): `n` -> (0, n, 0),
    `T-1` -> (0, T, -1), `2` -> (2, None, 0)."""
    if text is None:
        return None
    s = text.replace(" ", "").replace("{", "").replace("}", "")
    if s.isdigit():
        return (int(s), None, 0)
    m = re.fullmatch(r"([A-Za-z])(?:([+-])(\d+))?", s)
    if m and m.group(1) in ctx.scope.model.dims:
        off = int(m.group(3) or 0) * (-1 if m.group(2) == "-" else 1)
        return (0, m.group(1), off)
    raise UnsupportedError(f"the bound `{text}` of this sum: write a whole number or a size "
                           f"(`n`, `T-1`)", node.span)


def _sum(ctx: _Ctx, n: t.BigSum, bound: tuple[str, ...]) -> ir.INode:
    i = n.index
    if not is_index_letter(i, ctx.scope):
        raise UnsupportedError(f"`{i}` is a symbol or a size of the problem: it cannot be the index of "
                               f"a sum", n.span)
    if i in bound:
        raise UnsupportedError(f"index {i} is summed twice", n.span)
    body = build(ctx, n.body, bound + (i,))
    lo, hi = _bound(ctx, n.lo, n), _bound(ctx, n.hi, n)
    if hi is not None and hi[1] is not None and hi[2] == 0 and (lo is None or lo == (1, None, 0)):
        ctx.fix(i, hi[1], f"`\\sum_{{{i}=1}}^{{{n.hi}}}`", n.span)
        lo = hi = None  # the whole range
    if lo is not None and lo[1] is None and lo[0] == 1 and hi is None:
        lo = None
    if i not in ctx.dims:
        raise ShapeError(f"the range of index {i} cannot be inferred: write it, as in "
                         f"\\sum_{{{i}=1}}^{{n}}", n.span)
    if n.skip is not None and n.skip not in ir.free(body) | set(bound) and n.skip not in ctx.dims:
        raise ShapeError(f"`\\sum_{{{i} \\neq {n.skip}}}`: {n.skip} is not an index here", n.span)
    return ir.ISum(i, body, lo, hi, n.skip)


def build(ctx: _Ctx, node: t.Node, bound: tuple[str, ...] = ()) -> ir.INode:
    """The index tree of a parse tree."""
    if isinstance(node, t.Name):
        return _array(ctx, node.name, node, bar=False)
    if isinstance(node, t.Bar):
        return _array(ctx, node.name, node, bar=True)
    if isinstance(node, t.Subscript):
        letters = _letters(node.sub)
        if letters is None or not all(is_index_letter(x, ctx.scope) for x in letters):
            raise UnsupportedError(f"the subscript `{node.sub}` is not made of indices", node.span)
        e = _plain(ctx, node.base)
        return _entry(ctx, e, letters, node, ctx.scope.text(node.base) or "this")
    if isinstance(node, t.Number):
        if len(node.text) > 30:
            raise UnsupportedError("number too long", node.span)
        return ir.IConst(Fraction(node.text))
    if isinstance(node, t.Add):
        return ir.IAdd(tuple((s, build(ctx, x, bound)) for s, x in node.terms))
    if isinstance(node, t.Product):
        return ir.IMul(tuple(build(ctx, f, bound) for f in node.factors))
    if isinstance(node, t.Hadamard):
        return ir.IMul((build(ctx, node.left, bound), build(ctx, node.right, bound)))
    if isinstance(node, t.Frac):
        return ir.IDiv(build(ctx, node.num, bound), build(ctx, node.den, bound))
    if isinstance(node, t.Power):
        if isinstance(node.base, t.Name) and node.base.name == "e" and ctx.scope.canonical("e") is None:
            return ir.IFn("exp", build(ctx, node.exponent, bound))
        return ir.IPow(build(ctx, node.base, bound), exponent(node.exponent))
    if isinstance(node, t.Call):
        return _call(ctx, node, bound)
    if isinstance(node, t.Abs) and uses_indices(node, ctx.scope):  # |x_j|: an entry is a scalar
        return ir.IFn("abs", build(ctx, node.arg, bound))
    if isinstance(node, t.BigSum):
        return _sum(ctx, node, bound)
    if isinstance(node, t.Partial):
        return _partial(ctx, node)
    if isinstance(node, t.PartialOf):
        return _partial_of(ctx, node, bound)
    if isinstance(node, t.Derivative) and node.order == 2 and node.form != "nabla":
        return _hessian_entry(ctx, node)
    if isinstance(node, t.Derivative) and node.form == "partial" and node.order == 1:
        return _partial_of(ctx, t.PartialOf(node.span, node.arg, node.wrt), bound)
    if uses_indices(node, ctx.scope):
        raise UnsupportedError(f"{type(node).__name__} of index expressions is not supported", node.span)
    return _whole(ctx, _plain(ctx, node), node)


def _call(ctx: _Ctx, n: t.Call, bound: tuple[str, ...]) -> ir.INode:
    if n.func in GENERIC_ONLY and n.func not in ctx.scope.model.functions:
        raise UnsupportedError(f"\\{n.func} is not declared: a generic function is declared in the problem as "
                               f"\\{n.func} : \\mathbb{{R}} \\to \\mathbb{{R}}", n.span)
    if len(n.args) != 1 or elementwise(n.func, n.deriv) is None:
        if not uses_indices(n, ctx.scope):
            return _whole(ctx, _plain(ctx, n), n)
        raise UnsupportedError(f"{n.func} of an index expression: apply it to the whole array and take "
                               f"an entry, as in (\\operatorname{{{n.func}}}(z))_i", n.span)
    out: ir.INode = ir.IFn(n.func + "'" * n.deriv, build(ctx, n.args[0], bound))
    if n.power is not None:
        out = ir.IPow(out, exponent(n.power))
    return out


def _partial_of(ctx: _Ctx, n: t.PartialOf, bound: tuple[str, ...]) -> ir.INode:
    """`\\frac{\\partial f(y_i)}{\\partial z_j}` = f'(y_i) `\\frac{\\partial y_i}{\\partial z_j}`."""
    num = n.num
    if (isinstance(num, t.Call) and len(num.args) == 1 and isinstance(num.args[0], t.Name)
            and num.power is None and elementwise(num.func, num.deriv + 1) is not None):
        inner = num.args[0]
        jac = _partial(ctx, t.Partial(n.span, inner.name, n.den))
        return ir.IMul((ir.IFn(num.func + "'" * (num.deriv + 1), build(ctx, inner, bound)), jac))
    raise UnsupportedError("a derivative of this expression is not supported in index form: "
                           "differentiate a node's entry, as in \\frac{\\partial y_i}{\\partial z_j}",
                           n.span)


# ---- the entry points -----------------------------------------------------------------------

def _order(node: ir.INode) -> tuple[str, ...]:
    free = ir.free(node)
    return tuple(x for x in dict.fromkeys(ir.occurrences(node)) if x in free)


def entries(node: t.Node, scope: Scope) -> Entries:
    """See `_entries`; the model arrays inside are resolved as plain matrices."""
    was, scope.inside = scope.inside, True
    try:
        return _entries(node, scope)
    finally:
        scope.inside = was


def _entries(node: t.Node, scope: Scope) -> Entries:
    """The value of an index expression. With `scope.indices` (the left side's free indices and
    their ranges) the part must have exactly those free indices; without, its own free
    indices, in order of appearance, are the axes."""
    ctx = _Ctx(scope)
    want = scope.indices
    if want is not None:
        for letter, dim in want:
            if dim is not None:
                ctx.fix(letter, dim, "the left side", None)
    tree = build(ctx, node)
    have = _order(tree)
    if want is None:
        out = have
    else:
        out = tuple(x for x, _ in want)
        _check_free(tree, node, out, have, scope)
    for x in out:
        if x not in ctx.dims:
            raise ShapeError(f"the range of index {x} cannot be inferred", node.span)
    dims = tuple((k, v) for k, v in ctx.dims.items())
    return Entries(tree, out, dims, _shape_for(out, ctx.dims))


def _check_free(tree: ir.INode, node: t.Node, out: tuple[str, ...], have: tuple[str, ...],
                scope: Scope) -> None:
    extra = [x for x in have if x not in out]
    missing = [x for x in out if x not in have]
    if not extra and (not missing or not ir.has_values(tree)):
        return
    shown = scope.text(node) or "the right side"
    if extra:
        x = extra[0]
        count = ir.occurrences(tree).count(x)
        repair = t.BigSum(node.span, x, node)
        if count >= 2:
            raise IndexError_(f"index {x} appears {count} times in `{shown}` without a \\sum: symderiv "
                              f"does not use the summation convention", node.span, repair=repair)
        raise IndexError_(f"index {x} is free on the right side but not on the left", node.span)
    lhs = ", ".join(out) or "none"
    raise IndexError_(f"the left side has free indices {lhs}, but `{shown}` does not have "
                      f"{', '.join(missing)}: both sides must have the same free indices", node.span)


def _size_entry(name: str, scope: Scope) -> tuple[str, list[str]] | None:
    """`\\bar{x}_n` with n a size: read as an entry only to say that a size is not an index."""
    m = _SUBSCRIPTED.match(name)
    if not m or scope.canonical(name) is not None or scope.canonical(m.group("base")) is None:
        return None
    letters = _letters(m.group("braced") if m.group("braced") is not None else m.group("one"))
    if letters and any(x in scope.model.dims for x in letters):
        return m.group("base"), letters
    return None


def left_indices(node: t.Node, scope: Scope) -> tuple[str, tuple[tuple[str, o.Dim], ...]] | None:
    """An adjoint entry on a left side: `\\bar{z}_j`, `\\bar{W}_{ij}`,
    `\\frac{\\partial \\mathcal{L}}{\\partial W_{ij}}`, `(\\bar{a})_i` -> (target, its indices)."""
    if isinstance(node, t.Bar):
        name, letters = node.name, None
        split = split_entry(name, scope) or _size_entry(name, scope)
        if split is None:
            return None
        name, letters = split
    elif isinstance(node, t.Partial) and scope.canonical(node.num) == scope.model.loss:
        split = split_entry(node.den, scope) or _size_entry(node.den, scope)
        if split is None:
            return None
        name, letters = split
    elif isinstance(node, t.Subscript) and isinstance(node.base, t.Bar):
        name, letters = node.base.name, _letters(node.sub)
        if letters is None or not all(is_index_letter(x, scope) for x in letters):
            return None
    else:
        return None
    target = scope.canonical(name)
    if target is None:
        return None
    sizes = [x for x in letters if x in scope.model.dims]
    if sizes:
        raise UnsupportedError(f"{sizes[0]} is a size of the problem, not an index: write a letter "
                               f"that is neither a size nor a symbol (i, j, k)", node.span)
    ctx = _Ctx(scope)
    leaf = _entry(ctx, o.Var(target, scope.model.shape(target)), list(letters), node, target)
    assert isinstance(leaf, ir.IArr)
    if len(set(letters)) != len(letters):
        raise UnsupportedError("a diagonal entry (a repeated index) on the left side is not supported",
                               node.span)
    order = tuple(x for x in leaf.axes if x is not None)
    return target, tuple((x, ctx.dims[x]) for x in order)


def definition(lhs: t.Name, rhs: t.Node, scope: Scope) -> tuple[str, Expr] | None:
    """A problem's index-form definition `z_i = \\sum_j W_{ij} x_j + b_i` -> (z, matrix form)."""
    m = _SUBSCRIPTED.match(lhs.name)
    if not m or lhs.name in scope.model.symbols:
        return None
    base = m.group("base")
    letters = _letters(m.group("braced") if m.group("braced") is not None else m.group("one"))
    if base in scope.model.symbols or letters is None or not all(is_index_letter(x, scope) for x in letters):
        return None
    if not uses_indices(rhs, scope):
        return None  # `z_y = v^\top h`: a new name that happens to have a subscript
    if len(set(letters)) != len(letters) or len(letters) > 2:
        raise UnsupportedError("an index-form definition has one or two distinct indices", lhs.span)
    inner = type(scope)(scope.model, dict(scope.local), scope.source, scope.first_line)
    inner.indices = tuple((x, None) for x in letters)  # ranges inferred from the right side
    e = entries(rhs, inner)
    return base, lowered(e, lhs.span)


def lowered(e: Entries, span: Span | None = None) -> Expr:
    """An index expression as matrix operations (for a problem's definitions)."""
    from .lower import lower
    return lower(e.tree, e.out, dict(e.dims), span)
