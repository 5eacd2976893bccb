"""Leibniz chains read as matrices in a layout, every transpose honoured (SPEC 3.2).

In the numerator layout `\\frac{\\partial a}{\\partial b}` of vectors is the m×n Jacobian J
and the derivative of a scalar by a vector is a row; in the denominator layout they are Jᵀ
and a column. A product of such factors and ordinary matrices is evaluated from its vector
end: a column on the right folds right to left (J v, Jᵀ c), a row on the left folds left to
right. A product that is a matrix (a Jacobian claim) is applied to a random probe vector.
A derivative of or by a matrix (a 3- or 4-index tensor) keeps the formal meaning: it pulls
back the cotangent beside it.
"""
from __future__ import annotations

from ..errors import ShapeError, UnsupportedError
from ..fastdataclass import dataclass
from ..model import ops as o
from ..model.ops import Expr
from ..read import tree as t
from .jacobian import Function, function_of, of_expression, shape_kind

LAYOUTS = ("denominator", "numerator")


def probe(dim: o.Dim) -> o.Var:
    """The random vector a matrix claim is applied to (the instances give it values)."""
    return o.Var(f"\\probe:{o.dim_str(o.find(dim))}", (o.find(dim), 1))


def partial_latex(p: t.Partial) -> str:
    d = "d" if p.form == "d" else "\\partial "
    return f"\\frac{{{d}{p.num}}}{{{d}{p.den}}}"


@dataclass(frozen=True)
class Jac:
    """J (numerator layout, a×b) or, when `t`, its transpose."""

    fn: Function
    t: bool
    label: str

    @property
    def shape(self) -> o.Shape:
        m, n = self.fn.shape[0], self.fn.wrt_shape[0]
        return (n, m) if self.t else (m, n)

    def times(self, v: Expr) -> Expr:  # self · v, v a column
        return self.fn.vjp(v) if self.t else self.fn.jvp(v)

    def after(self, w: Expr) -> Expr:  # w · self, w a row
        wt = o.transpose(w)
        return o.transpose(self.fn.jvp(wt) if self.t else self.fn.vjp(wt))


@dataclass(frozen=True)
class Tensor:
    """A derivative of or by a matrix: only its formal meaning, a pull-back of the cotangent."""

    fn: Function
    label: str
    entry: str = "\\frac{\\partial z_i}{\\partial W_{jk}}"  # how to write it in index notation


def _entry_form(num: str, den: str, a: str, b: str) -> str:
    """`\\frac{\\partial u_i}{\\partial W_{jk}}`: the index-notation way to write a tensor derivative."""
    top = {"vector": "_i", "matrix": "_{ij}"}.get(a, "")
    low = {"vector": "_k", "matrix": "_{pq}"}.get(b, "")
    return f"\\frac{{\\partial {num or 'E'}{top}}}{{\\partial {den}{low}}}"


Item = Expr | Jac | Tensor


def _fn(scope, p: t.Partial) -> tuple[str, str, Function]:
    num, den = scope.node(p.num, p.span), scope.node(p.den, p.span)
    fn = function_of(scope.model, num, den, p.form == "d", p.span)
    if num != den and p.form != "d" and not fn.occurs() and num != scope.model.loss:
        scope.notes.append(f"{partial_latex(p)} is zero: {p.den} does not occur in {p.num}'s equation")
    return num, den, fn


def gradient(scope, num: str, den: str, fn: Function, total: bool) -> Expr:
    """The derivative of a scalar by `den`, in den's shape."""
    model = scope.model
    if num == model.loss and (total or not fn.occurs()):
        return o.Bar(den, model.shape(den))  # dL/du: u's adjoint (nobody means a zero partial)
    return fn.vjp(o.const(1))


def item(scope, p: t.Partial, layout: str, label: str | None = None, fn: Function | None = None,
         sensitive: bool = True) -> Item:
    """What `\\frac{\\partial a}{\\partial b}` stands for as a factor, in a layout."""
    if fn is None:
        num, den, fn = _fn(scope, p)
    else:
        num, den = "", fn.wrt
    label = label or partial_latex(p)
    a, b = shape_kind(fn.shape), shape_kind(fn.wrt_shape)
    if a == "scalar":
        g = gradient(scope, num, den, fn, p.form == "d") if num else fn.vjp(o.const(1))
        if b == "vector":
            _sensitive(scope, sensitive)
            return o.transpose(g) if layout == "numerator" else g
        return g  # by a scalar: a scalar; by a matrix: the matrix's shape (the Cookbook's)
    if b == "scalar":
        col = fn.jvp(o.const(1))
        if a == "vector":
            _sensitive(scope, sensitive)
            return col if layout == "numerator" else o.transpose(col)
        return col  # a matrix by a scalar: entrywise, the matrix's shape
    if a == "vector" and b == "vector":
        _sensitive(scope, sensitive)
        return Jac(fn, layout == "denominator", label)
    return Tensor(fn, label, _entry_form(num, den, a, b))


def _sensitive(scope, really: bool = True) -> None:
    if really and scope.ctx is not None:
        scope.ctx.sensitive = True


def layout_of(scope) -> str:
    return scope.ctx.layout if scope.ctx is not None and scope.ctx.layout else "denominator"


def transposed(x: Item, span) -> Item:
    if isinstance(x, Jac):
        return Jac(x.fn, not x.t, x.label)
    if isinstance(x, Tensor):
        raise UnsupportedError(f"{x.label} is a 3- or 4-index tensor: its transpose has no meaning; "
                               f"write the chain as \\bar{{a}}\\frac{{\\partial a}}{{\\partial b}}", span)
    return o.transpose(x)


def _shape(x: Item) -> o.Shape | None:
    return None if isinstance(x, Tensor) else x.shape


def _label(scope, node: t.Node, x: Item) -> str:
    if isinstance(x, (Jac, Tensor)):
        return x.label
    return f"`{scope.text(node)}`" if scope.text(node) else "a factor"


def chain(scope, nodes: list[t.Node], allow_probe: bool, span) -> tuple[Expr, o.Shape | None]:
    """The product of `nodes` in the scope's layout; (value, the matrix's shape when the
    product is a matrix applied to a probe)."""
    layout = layout_of(scope)
    items: list[Item] = []
    where: list[t.Node] = []
    scalars: list[Expr] = []
    for f in nodes:
        x = factor(scope, f, layout)
        if isinstance(x, Expr) and x.is_scalar:
            scalars.append(x)
            continue
        items.append(x)
        where.append(f)
    for i in range(len(items) - 1):
        a, b = _shape(items[i]), _shape(items[i + 1])
        if a is not None and b is not None and not o.unify(a[1], b[0]):
            raise ShapeError(f"in the {layout} layout {_label(scope, where[i], items[i])} is "
                             f"{o.shape_str(a)} and {_label(scope, where[i + 1], items[i + 1])} is "
                             f"{o.shape_str(b)}: they do not multiply", span)
    matrix: o.Shape | None = None
    if len(items) == 1 and isinstance(items[0], Tensor):
        raise UnsupportedError(f"{items[0].label} would be a 3- or 4-index tensor, which has no matrix "
                               f"form: write it in index notation ({items[0].entry}) or pair it with an adjoint",
                               span)
    if not items:
        out: Expr = o.const(1)
    elif all(isinstance(x, Expr) for x in items):
        out = items[0]  # type: ignore[assignment]
        for x in items[1:]:
            out = o.matmul(out, x, span)  # type: ignore[arg-type]
    else:
        first, last = items[0], items[-1]
        if isinstance(last, Expr) and o.find(last.shape[1]) == 1:
            out = _fold_right(items, span)
        elif isinstance(first, Expr) and o.find(first.shape[0]) == 1:
            out = _fold_left(items, span)
        elif isinstance(last, Tensor) or isinstance(first, Tensor):
            out = _fold_right(items, span) if isinstance(first, Tensor) else _fold_left(items, span)
        elif allow_probe:
            shp = (_shape(first)[0], _shape(last)[1])  # type: ignore[index]
            matrix = shp
            out = _fold_right(items + [probe(shp[1])], span)
        else:
            raise UnsupportedError("a Jacobian has no matrix form inside an expression: write it as a "
                                   "claim of its own, or pair it with an adjoint", span)
    for s in scalars:
        out = o.scale(s, out)
    return out, matrix


def factor(scope, f: t.Node, layout: str) -> Item:
    if isinstance(f, t.Transpose) and isinstance(f.arg, (t.Partial, t.Derivative)):
        return transposed(factor(scope, f.arg, layout), f.span)
    if isinstance(f, t.Partial):
        return item(scope, f, layout)
    if isinstance(f, t.Derivative):
        if f.order != 1:
            raise UnsupportedError("a Hessian has no matrix form inside a product: write it as a "
                                   "claim of its own, \\nabla^2_{x} f = H", f.span)
        wrt = scope.node(f.wrt, f.span)
        e = scope.resolve(f.arg)
        if f.form == "nabla":  # a gradient has the variable's shape, in any layout
            return item(scope, t.Partial(f.span, "", wrt), "denominator", _operator_latex(scope, f),
                        of_expression(scope.model, e, wrt), sensitive=False)
        return operator(scope, wrt, e, f.span, _operator_latex(scope, f))
    return scope.resolve(f)


def _operator_latex(scope, f: t.Derivative) -> str:
    text = scope.text(f)
    return f"`{text}`" if text else f"the derivative by {f.wrt}"


def _pull(x: Tensor, cot: Expr, span) -> Expr:
    want = x.fn.shape
    if o.same(cot.shape[0], want[0]) and o.same(cot.shape[1], want[1]):
        return x.fn.vjp(cot)
    if o.same(cot.shape[1], want[0]) and o.same(cot.shape[0], want[1]) and o.find(want[1]) == 1:
        return x.fn.vjp(o.transpose(cot))  # a row gradient (numerator layout) beside it
    raise ShapeError(f"{x.label} pulls back a cotangent of shape {o.shape_str(want)}, not "
                     f"{o.shape_str(cot.shape)}", span)


def _fold_right(items: list[Item], span) -> Expr:
    acc = items[-1]
    if isinstance(acc, (Jac, Tensor)):
        raise UnsupportedError("a chain must end in a vector here", span)
    for x in reversed(items[:-1]):
        if isinstance(x, Jac):
            acc = x.times(acc)
        elif isinstance(x, Tensor):
            acc = _pull(x, acc, span)
        else:
            acc = o.matmul(x, acc, span)
    return acc


def _fold_left(items: list[Item], span) -> Expr:
    acc = items[0]
    if isinstance(acc, (Jac, Tensor)):
        raise UnsupportedError("a chain must start with a vector here", span)
    for x in items[1:]:
        if isinstance(x, Jac):
            acc = x.after(acc)
        elif isinstance(x, Tensor):
            acc = _pull(x, acc, span)
        else:
            acc = o.matmul(acc, x, span)
    return acc


def operator(scope, den_name: str, e: Expr, span, label: str) -> Item:
    """`\\frac{\\partial}{\\partial X}(E)`: E as a function of X, as a factor in the layout."""
    fake = t.Partial(span, "", den_name)
    return item(scope, fake, layout_of(scope), label, of_expression(scope.model, e, den_name))


__all__ = ["LAYOUTS", "Jac", "Tensor", "chain", "factor", "item", "operator", "probe", "transposed"]
