"""A Jacobian as a linear map: J v and Jᵀ c, exactly, from the reverse-mode rules alone.

`\\frac{\\partial a}{\\partial b}` of vectors a (m) and b (n) is the m×n matrix J (numerator
layout). It is never formed: Jᵀc is the vector–Jacobian product (one reverse sweep), and Jv
is reverse over reverse — Jᵀc is linear in c, so its own VJP with cotangent v is Jv. The
same trick gives a Hessian-vector product from a gradient. Partial derivatives hold the
other symbols of a's defining equation fixed; total ones (`\\frac{da}{db}`) go through
every path of the model, a node standing for its definition.
"""
from __future__ import annotations

from ..errors import UnsupportedError
from ..fastdataclass import dataclass
from ..model import ops as o
from ..model.graph import Model, leaves
from ..model.ops import Expr


def expand(model: Model, e: Expr, keep: str | None = None) -> Expr:
    """`e` with every node of the model replaced by its definition, except `keep` (the
    variable being differentiated by): what "through the model" means."""
    from ..derive.simplify import rebuild

    def leaf(x: Expr) -> Expr | None:
        if isinstance(x, o.Var) and x.name != keep:
            sym = model.symbols.get(x.name)
            if sym is not None and sym.definition is not None:
                return expand(model, sym.definition, keep)
        return None
    return rebuild(e, leaf)


def shape_kind(shape: o.Shape) -> str:
    """scalar, vector (a column) or matrix (anything else: a derivative by or of it is a tensor)."""
    if o.is_scalar_shape(shape):
        return "scalar"
    if o.find(shape[1]) == 1:
        return "vector"
    return "matrix"


@dataclass(frozen=True)
class Function:
    """a as a function of b: the expression (a's equation, or a expanded through the model),
    and what stands for a's value in the rules."""

    expr: Expr
    out: Expr | None
    wrt: str
    wrt_shape: o.Shape

    @property
    def shape(self) -> o.Shape:
        return self.expr.shape

    def occurs(self) -> bool:
        return self.wrt in leaves(self.expr)

    def vjp(self, cot: Expr) -> Expr:
        """Jᵀ cot (cot has a's shape; the result has b's)."""
        from ..derive.reverse import vjp
        return vjp(self.expr, self.wrt, cot, self.out, self.wrt_shape)

    def jvp(self, v: Expr) -> Expr:
        """J v (v has b's shape; the result has a's): the VJP of the VJP, by its cotangent."""
        from ..derive.reverse import vjp
        c = o.Var("\\cot", self.shape)
        inner = self.vjp(c)
        return vjp(inner, c.name, v, None, self.shape)


def function_of(model: Model, num: str, den: str, total: bool, span) -> Function:
    """num as a function of den: its defining equation (partial) or through the model (total)."""
    sym = model.symbols[num]
    if num == den:
        v = sym.var()
        return Function(v, None, den, model.shape(den))
    if sym.definition is None:
        raise UnsupportedError(f"{num} is an input of the model: it has no defining equation "
                               f"to differentiate", span)
    if total:
        return Function(expand(model, sym.definition, den), None, den, model.shape(den))
    return Function(sym.definition, o.Var(num, model.shape(num)), den, model.shape(den))


def of_expression(model: Model, e: Expr, den: str) -> Function:
    """An expression as a function of den, through the model: `\\frac{\\partial}{\\partial X}(E)`."""
    return Function(expand(model, e, den), None, den, model.shape(den))


def hessian_vector(model: Model, f: Expr, wrt: str, v: Expr) -> Expr:
    """H v for scalar f by vector `wrt`: reverse mode over the derived gradient (H is symmetric)."""
    from ..derive.reverse import vjp
    fn = of_expression(model, f, wrt)
    grad = fn.vjp(o.const(1))
    return vjp(grad, wrt, v, None, fn.wrt_shape)
