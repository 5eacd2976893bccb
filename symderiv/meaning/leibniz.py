"""Leibniz notation: `\\bar{a}\\frac{\\partial a}{\\partial b}` is a's contribution to b-bar.

`\\frac{\\partial a}{\\partial b}` differentiates a's defining equation with the other
symbols held fixed, so the product is the vector-Jacobian product, in whatever order the
factors are written. A chain of partials is pulled back one link at a time.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..derive.reverse import vjp
from ..errors import ShapeError, UnsupportedError, WrongAdjointError
from ..model import ops as o
from ..model.graph import leaves
from ..model.ops import Expr
from ..names import bar_latex
from ..read import tree as t

if TYPE_CHECKING:  # resolution recurses through scope.resolve: no import of resolve.py
    from .resolve import Scope


def _node(scope: Scope, name: str, span) -> str:
    return scope.node(name, span)


def _definition(scope: Scope, p: t.Partial) -> tuple[str, str, Expr]:
    num, den = _node(scope, p.num, p.span), _node(scope, p.den, p.span)
    sym = scope.model.symbols[num]
    if sym.definition is None:
        raise UnsupportedError(f"{num} is an input of the model: it has no defining equation "
                               f"to differentiate", p.span)
    return num, den, sym.definition


def _pull(scope: Scope, p: t.Partial, cot: Expr) -> Expr:
    num, den, definition = _definition(scope, p)
    if den not in leaves(definition):
        scope.notes.append(f"\\frac{{\\partial {p.num}}}{{\\partial {p.den}}} is zero: {p.den} does not "
                           f"occur in {p.num}'s equation")
    return vjp(definition, den, cot, o.Var(num, scope.model.shape(num)), scope.model.shape(den))


def _chain(partials: list[t.Partial], scope: Scope, start: str | None) -> list[t.Partial]:
    nums = {_node(scope, p.num, p.span): p for p in partials}
    dens = {_node(scope, p.den, p.span) for p in partials}
    if start is None:
        heads = [n for n in nums if n not in dens]
        if len(heads) != 1:
            raise UnsupportedError("these partial derivatives do not form one chain", partials[0].span)
        start = heads[0]
    chain: list[t.Partial] = []
    cur = start
    while cur in nums and len(chain) < len(partials):
        chain.append(nums[cur])
        cur = _node(scope, nums[cur].den, nums[cur].span)
    if len(chain) != len(partials):
        raise UnsupportedError("these partial derivatives do not form one chain", partials[0].span)
    return chain


def is_partial(f: t.Node) -> bool:
    """`\\frac{\\partial a}{\\partial b}`, or its transpose (the Jᵀv way of writing a VJP), or a
    derivative operator on an expression."""
    inner = f.arg if isinstance(f, t.Transpose) else f
    return isinstance(inner, (t.Partial, t.Derivative))


def is_formal(n: t.Product) -> bool:
    """`\\bar{a}\\frac{\\partial a}{\\partial b}\\cdots`: the adjoint first, then partials, no
    transposes: the course's notation, a VJP whatever the shapes (SPEC 3.2, first bullet)."""
    f = n.factors
    return (len(f) >= 2 and isinstance(f[0], t.Bar) and all(isinstance(x, t.Partial) for x in f[1:]))


def leibniz(n: t.Product, scope: Scope, allow_probe: bool = False) -> Expr:
    if is_formal(n):
        return formal(n, scope)
    _adjacent_adjoints(n, scope)
    from .layouts import chain
    out, matrix = chain(scope, list(n.factors), allow_probe, n.span)
    if matrix is not None:
        scope.probed = matrix
    return out


def _adjacent_adjoints(n: t.Product, scope: Scope) -> None:
    """An adjoint written next to another node's partial is the wrong adjoint in any layout."""
    fs = n.factors
    for i, f in enumerate(fs):
        bar = f.arg if isinstance(f, t.Transpose) and isinstance(f.arg, t.Bar) else f
        if not isinstance(bar, t.Bar):
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(fs) and is_partial(fs[j]):
                p = fs[j].arg if isinstance(fs[j], t.Transpose) else fs[j]
                if not isinstance(p, t.Partial) or p.form == "nabla":
                    continue
                if _node(scope, bar.name, bar.span) != _node(scope, p.num, p.span):
                    raise WrongAdjointError(
                        f"{bar_latex(_node(scope, bar.name, bar.span))} is paired with "
                        f"\\frac{{\\partial {p.num}}}{{\\partial {p.den}}}: the chain rule pairs "
                        f"{bar_latex(_node(scope, p.num, p.span))} with it", n.span)


def formal(n: t.Product, scope: Scope) -> Expr:
    factors = list(n.factors)
    partials = [f for f in factors if isinstance(f, t.Partial)]
    others = [f for f in factors if not isinstance(f, t.Partial)]
    bar = others[0] if len(others) == 1 and isinstance(others[0], t.Bar) else None
    start = _node(scope, bar.name, bar.span) if bar is not None else None
    first_nums = {_node(scope, p.num, p.span) for p in partials}
    if start is not None and start not in first_nums:
        p = partials[0]
        raise WrongAdjointError(
            f"{bar_latex(start)} is paired with \\frac{{\\partial {p.num}}}{{\\partial {p.den}}}: "
            f"the chain rule pairs {bar_latex(_node(scope, p.num, p.span))} with it", n.span)
    chain = _chain(partials, scope, start)
    cot = scope.resolve(others[0] if len(others) == 1 else t.Product(n.span, tuple(others)))
    return _pull_chain(scope, chain, cot, n)


def _pull_chain(scope: Scope, chain: list[t.Partial], cot: Expr, n: t.Node) -> Expr:
    for p in chain:
        num = _node(scope, p.num, p.span)
        shape = scope.model.shape(num)
        if not (o.same(cot.shape[0], shape[0]) and o.same(cot.shape[1], shape[1])):
            raise ShapeError(f"the adjoint pulled back through \\frac{{\\partial {p.num}}}{{\\partial {p.den}}} "
                             f"is {o.shape_str(cot.shape)} but {p.num} is {o.shape_str(shape)}", n.span)
        cot = _pull(scope, p, cot)
    return cot


def partial_alone(p: t.Node, scope: Scope, allow_probe: bool = False) -> Expr:
    """A partial with no adjoint beside it, read in the sheet's layout: a gradient, a Jacobian
    (a claim of its own: applied to a probe), or inside an expression the elementwise
    shorthand f'(a) of an elementwise node (its diagonal Jacobian, written as a vector)."""
    from .layouts import chain
    inner = p.arg if isinstance(p, t.Transpose) else p
    if isinstance(inner, t.Derivative) and inner.order == 2:
        return hessian(inner, scope, allow_probe, transposed=isinstance(p, t.Transpose))
    if not allow_probe and isinstance(inner, t.Partial) and not isinstance(p, t.Transpose):
        num, den, definition = _definition(scope, inner)
        shape = scope.model.shape(num)
        if (not o.is_scalar_shape(shape) and isinstance(definition, o.Apply)
                and isinstance(definition.a, o.Var) and definition.a.name == den):
            return _pull(scope, inner, o.Ones(shape))
    out, matrix = chain(scope, [p], allow_probe, p.span)
    if matrix is not None:
        scope.probed = matrix
    return out


def resolve_part(node: t.Node, scope: Scope) -> tuple[Expr, o.Shape | None]:
    """A claim's part: its value, and when it is a matrix of Jacobians (a Jacobian claim), the
    matrix's shape; the value is then the matrix applied to the probe vector."""
    scope.probed = None
    if isinstance(node, t.Product) and any(is_partial(f) for f in node.factors):
        e = leibniz(node, scope, True)
    elif is_partial(node):
        e = partial_alone(node, scope, True)
    else:
        e = scope.resolve(node)
    return e, scope.probed


def hessian(n: t.Derivative, scope: Scope, allow_probe: bool, transposed: bool = False) -> Expr:
    """`\\nabla^2_w f` of a scalar f by a vector w, applied to the probe: H p, exactly, by reverse
    mode over the derived gradient (H is symmetric, so its transpose is itself)."""
    from .jacobian import hessian_vector, shape_kind
    from .layouts import probe
    if n.wrt2 is not None:
        raise UnsupportedError(f"a mixed second derivative by {n.wrt} and {n.wrt2}: only the Hessian by one "
                               f"vector is supported, \\nabla^2_{{w}} f, or its entries "
                               f"\\frac{{\\partial^2 f}}{{\\partial w_j \\partial w_k}}", n.span)
    wrt = _node(scope, n.wrt, n.span)
    f = scope.resolve(n.arg)
    shape = scope.model.shape(wrt)
    if not f.is_scalar or shape_kind(shape) != "vector":
        raise UnsupportedError("a Hessian is supported for a scalar by a vector only; write the "
                               "entries in index notation, \\frac{\\partial^2 f}{\\partial x_i \\partial x_j}", n.span)
    if not allow_probe:
        raise UnsupportedError("a Hessian has no matrix form inside an expression: write it as a claim "
                               "of its own, \\nabla^2_{x} f = H", n.span)
    scope.probed = (shape[0], shape[0])
    return hessian_vector(scope.model, f, wrt, probe(shape[0]))
