"""Named functions as written (`\\sigma'(z)`, `\\tanh^2(a)`, `\\text{diag}(s)`) -> ops."""
from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from ..errors import ShapeError, UnsupportedError
from ..model import ops as o
from ..model.elementwise import MAX_ORDER, as_written, generic_name
from ..model.ops import Expr
from ..read import tree as t

if TYPE_CHECKING:  # resolution recurses through scope.resolve: no import of resolve.py
    from .resolve import Scope

MAX_EXPONENT = 64

#: the reader's other functions with their primes, beside the elementwise records'
_POWERS: dict[tuple[str, int], object] = {
    ("sqrt", 0): lambda a: o.power(a, Fraction(1, 2)),
    ("sqrt", 1): lambda a: o.scale(o.Const(Fraction(1, 2)), o.power(a, Fraction(-1, 2))),
}


#: letters that are only ever generic functions before a call (`\\sigma`, `\\Phi` have fixed meanings)
GENERIC_ONLY = frozenset({"phi", "psi", "Psi"})


def elementwise(func: str, primes: int):
    """How an elementwise function as written (with its primes) is built from its argument;
    None when it is not elementwise (index notation applies only these to entries). A generic
    function's letter (`phi`) is one here; `call` and index notation check it is declared."""
    if func in GENERIC_ONLY and primes <= MAX_ORDER:
        return lambda a: o.apply(generic_name(func, primes), a)
    return as_written(func, primes) or _POWERS.get((func, primes))


def exponent(node: t.Node) -> Fraction:
    """An exponent must be a small exact number: 2, -1, \\frac{1}{2}, 1/2."""
    if isinstance(node, t.Number):
        if len(node.text) > 12:
            raise UnsupportedError("exponent too long", node.span)
        v = Fraction(node.text)
    elif isinstance(node, t.Add) and len(node.terms) == 1:
        v = node.terms[0][0] * exponent(node.terms[0][1])
    elif isinstance(node, t.Frac):
        num, den = exponent(node.num), exponent(node.den)
        if den == 0:
            raise UnsupportedError("division by zero in an exponent", node.span)
        v = num / den
    elif isinstance(node, t.Product) and len(node.factors) == 1:
        v = exponent(node.factors[0])
    else:
        raise UnsupportedError("only exact numbers are supported as exponents", node.span)
    if abs(v) > MAX_EXPONENT or v.denominator > 8:
        raise UnsupportedError(f"exponent {v} is outside the supported range (|k| <= {MAX_EXPONENT})", node.span)
    return v


def _square(name: str, n: t.Call, a: Expr) -> None:
    if not o.unify(a.shape[0], a.shape[1]):
        raise ShapeError(f"{name} needs a square matrix, not {o.shape_str(a.shape)}", n.span)


def _column(name: str, n: t.Call, a: Expr) -> None:
    if not o.unify(a.shape[1], 1):
        raise ShapeError(f"{name} needs a column vector, not {o.shape_str(a.shape)}", n.span)


def _diag(n: t.Call, a: Expr) -> Expr:
    if a.is_scalar:
        return a
    if o.find(a.shape[1]) == 1:
        return o.Diag(a)
    if o.same(a.shape[0], a.shape[1]):
        return o.DiagPart(a)
    raise ShapeError(f"diag needs a vector or a square matrix, not {o.shape_str(a.shape)}", n.span)


def _batch_rows(name: str, n: t.Call, a: Expr, batch: str) -> bool:
    """Along which axis softmax of `a` acts: a column vector is one group, a row vector too;
    a matrix's groups are its rows (`batch: rows`, the default) or its columns."""
    cols = o.find(a.shape[1])
    if isinstance(cols, o.SizeVar):
        _column(name, n, a)
        return False
    if cols == 1:
        return False
    if o.find(a.shape[0]) == 1:
        return True
    return batch != "columns"


def _matrix_fn(n: t.Call, a: Expr, batch: str = "rows") -> Expr:
    f = n.func
    if f == "diag":
        return _diag(n, a)
    if f == "tr":
        _square("the trace", n, a)
        return o.Trace(a)
    if f == "det":
        _square("det", n, a)
        return o.Det(a)
    if f == "sum":
        return o.Sum(a)
    if f in ("softmax", "logsoftmax"):
        rows = _batch_rows(f, n, a, batch)
        return o.Softmax(a, rows) if f == "softmax" else o.LogSoftmax(a, rows)
    raise UnsupportedError(f"unknown function {f}", n.span)


def _is_zero(node: t.Node) -> bool:
    return isinstance(node, t.Number) and float(node.text) == 0


def _generic(n: t.Call, scope: Scope) -> Expr:
    """`\\phi(z)`, `\\phi'(z)`, `\\phi''(z)` of a declared generic function, elementwise."""
    if n.deriv > MAX_ORDER:
        raise UnsupportedError(f"derivatives of \\{n.func} beyond order {MAX_ORDER} are not supported", n.span)
    out = o.apply(generic_name(n.func, n.deriv), scope.resolve(n.args[0]))
    if n.power is not None:  # \phi^2(z): elementwise
        k = exponent(n.power)
        if k < 0:
            raise UnsupportedError(f"\\{n.func}^{{{k}}} is ambiguous (the inverse function, or a reciprocal?)",
                                   n.span)
        out = o.power(out, k)
    return out


#: the reader's functions that are not elementwise records (`_matrix_fn`, `_POWERS`, max)
_KNOWN = frozenset({"max", "min", "diag", "tr", "det", "sum", "softmax", "logsoftmax", "sqrt"})


def call(n: t.Call, scope: Scope) -> Expr:
    if n.func in scope.model.named or n.func == "prod":
        from . import named
        return named.call(n, scope) if n.func in scope.model.named else named.prod(n, scope)
    if n.func == "max" and len(n.args) == 2 and n.deriv == 0 and n.power is None \
            and any(_is_zero(a) for a in n.args):  # \max(u, 0), \max(0, u): ReLU
        return o.apply("relu", scope.resolve(next(a for a in n.args if not _is_zero(a))))
    if n.func == "max" and len(n.args) == 2 and n.deriv == 0:  # elementwise: (a + b + |a - b|)/2
        a, b = (scope.resolve(x) for x in n.args)
        if a.is_scalar and not b.is_scalar:
            a = o.scale(a, o.Ones(b.shape))
        if b.is_scalar and not a.is_scalar:
            b = o.scale(b, o.Ones(a.shape))
        try:
            diff = o.sub(a, b, n.span)
        except ShapeError:
            raise ShapeError(f"\\max of {o.shape_str(a.shape)} and {o.shape_str(b.shape)}: the shapes differ",
                             n.span) from None
        return o.scale(o.Const(Fraction(1, 2)), o.add(a, b, o.apply("abs", diff)))
    if len(n.args) != 1 and as_written(n.func, 0) is None and n.func not in _KNOWN:
        raise UnsupportedError(f"unknown function {n.func}: a function of several arguments is defined in the "
                               f"problem first, as {n.func}(y, t) = -t^\\top \\log y", n.span)
    if len(n.args) != 1:
        raise UnsupportedError(f"{n.func} takes one argument, not {len(n.args)}", n.span)
    if n.func in scope.model.functions:
        return _generic(n, scope)
    if ("\\" + n.func) in scope.model.symbols or n.func in scope.model.symbols:
        name = ("\\" + n.func) if ("\\" + n.func) in scope.model.symbols else n.func
        return o.matmul(scope.model.symbols[name].var(), scope.resolve(n.args[0]), n.span)
    if n.func in GENERIC_ONLY:
        raise UnsupportedError(f"\\{n.func} is not declared: a generic function is declared in the problem as "
                               f"\\{n.func} : \\mathbb{{R}} \\to \\mathbb{{R}}", n.span)
    a = scope.resolve(n.args[0])
    # \operatorname{abs}(A) is elementwise whatever the shape: only the bars |A| of a square
    # matrix are its determinant (SPEC 3.1), and the printer writes elementwise abs this way
    build = as_written(n.func, n.deriv) or _POWERS.get((n.func, n.deriv))
    if build is not None:
        out = build(a)  # type: ignore[operator]
    elif n.deriv == 0:
        out = _matrix_fn(n, a, scope.model.batch)
    else:
        raise UnsupportedError(f"the derivative {n.func}{chr(39) * n.deriv} is not supported", n.span)
    if n.power is not None:  # \tanh^2(a): elementwise, whatever the shape
        k = exponent(n.power)
        if k < 0:
            raise UnsupportedError(f"{n.func}^{{{k}}} is ambiguous (the inverse function, or 1/{n.func}?): "
                                   f"write \\frac{{1}}{{\\{n.func}(\\cdot)}} for the reciprocal", n.span)
        out = o.power(out, k)
    return out
