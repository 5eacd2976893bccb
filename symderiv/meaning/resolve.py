"""Parse tree -> expression: give what was written its meaning, with the symbol table.

`Scope.resolve` is the one entry: it dispatches on the node's type through `RESOLVE`, and
the rules (here, in `functions.py` and in `leibniz.py`) recurse through `scope.resolve`, so
those modules need no import of this one (they name `Scope` for type checking only).

Decides what the grammar cannot: whether a name is a symbol, the identity, or unknown;
every shape (sizes of `\\mathbf{1}` and `I` by unification; a 1x1 acts as a scalar); what a
Leibniz product `\\bar{a}\\frac{\\partial a}{\\partial b}` pulls back. Errors carry spans.
Exponents must be small exact numbers: nothing is ever computed from a written size.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..errors import ShapeError, SymderivError, UnknownSymbolError, UnsupportedError, WrongAdjointError  # noqa: F401 (re-exported)
from ..lazyre import lazy
from ..model import ops as o
from ..model.graph import Model
from ..model.ops import Expr
from ..names import GREEK_LETTERS
from ..read import tree as t
from ..spans import Span, excerpt
from .functions import call, exponent
from .leibniz import is_partial, leibniz, partial_alone

#: names that may stand for the loss when the loss was given another one of them
LOSS_SPELLINGS = ("\\mathcal{L}", "L", "\\ell", "l", "\\mathcal{l}", "J", "\\mathcal{J}", "E")
#: a superscript word the reader folded into a name (`h^{out}`), and a layer name (`W^{(2)}`)
_WORD_SUP = lazy(r"^(?P<base>.+)\^\{(?P<word>[A-Za-z]{2,})\}$")
_LAYER_SUP = lazy(r"^(?P<base>.+)\^\{[(\[][^{}]*[)\]]\}$")
_GREEK = lazy(r"^\\(" + "|".join(GREEK_LETTERS) + r")(?![A-Za-z])")  # `\mu_1` -> `mu_1`


@dataclass
class Scope:
    """What names mean while resolving one statement; `source` is the text its spans are in
    (lines, the first of them line `first_line` of the file), to quote operands as written."""

    model: Model
    local: dict[str, Expr] = field(default_factory=dict)  # the student's own abbreviations
    source: tuple[str, ...] | str = ()
    first_line: int = 1
    notes: list[str] = field(default_factory=list)  # worth saying even when the step is right
    ctx: Any = None  # the sheet's layout while judging (verify.layouts.LayoutContext), or None
    probed: o.Shape | None = None  # set when a part is a Jacobian matrix applied to a probe
    #: an entrywise claim's left-side free indices and their ranges (None: not entrywise)
    indices: tuple[tuple[str, Any], ...] | None = None
    inside: bool = False  # resolving inside a statement part (index notation already decided)
    #: id(node) -> (node, value or error): the subtrees already read, shared by the scopes of
    #: one "did you mean" search (its candidates are one edit apart, so share most subtrees)
    memo: dict[int, tuple[t.Node, Any]] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.source, str):
            self.source = tuple(self.source.split("\n"))

    def canonical(self, name: str) -> str | None:
        """The model's name for a written one: itself, `mu` for `\\mu` (a model built from
        SymPy's `MatrixSymbol("mu")`), or the loss for any of its usual names."""
        if name in self.model.symbols:
            return name
        plain = _GREEK.sub(r"\1", name)
        if plain != name and plain in self.model.symbols:
            return plain
        if name in LOSS_SPELLINGS and self.model.nodes:
            return self.model.nodes[-1]  # one loss: any of its usual names means it
        return None

    def node(self, name: str, span: Span) -> str:
        """The canonical name of a model symbol, or an unknown-symbol error at `span`."""
        c = self.canonical(name)
        if c is None:
            raise self.unknown(name, span)
        return c

    @classmethod
    def at(cls, model: Model, st: t.Statement, local: dict[str, Expr] | None = None,
           ctx: Any = None) -> Scope:
        """A scope for statement `st`, quoting from its source."""
        return cls(model, dict(local or {}), st.source, st.span.line, ctx=ctx)

    def text(self, node: t.Node) -> str:
        """The written text of a node (brackets included), when it lies on one line."""
        return excerpt(self.source, node.span, self.first_line)  # type: ignore[arg-type]

    def resolve(self, node: t.Node) -> Expr:
        """What `node` means here (an expression of the model's symbols), or an error with a span.
        A part in index notation (SPEC 3.3) is read by `meaning.indices`."""
        if self.inside:
            return self._dispatch(node) if self.memo is None else self._memoised(node)
        self.inside = True
        try:
            from . import indices, squares
            node = squares.rewrite_node(node, self.model, self.local)  # `\sigma^2`, a node's name
            if self.indices is not None or indices.uses_indices(node, self):
                return indices.entries(node, self)
            return self._dispatch(node)
        finally:
            self.inside = False

    def _memoised(self, node: t.Node) -> Expr:
        """`_dispatch` through `memo`. A value whose shape still has an unknown size (`I`, a
        ones vector not yet bound) is not kept: the next use may bind it otherwise."""
        assert self.memo is not None
        hit = self.memo.get(id(node))
        if hit is not None and hit[0] is node:  # (the node is kept alive: its id is not reused)
            if isinstance(hit[1], SymderivError):
                del hit  # no local holds the error its traceback's frames would keep (a cycle)
                raise self.memo[id(node)][1].with_traceback(None)
            return hit[1]
        try:
            e = self._dispatch(node)
        except SymderivError:
            self.memo[id(node)] = (node, sys.exc_info()[1])  # (not bound to a local: as above)
            raise
        if not any(isinstance(o.find(d), o.SizeVar) for d in e.shape):
            self.memo[id(node)] = (node, e)
        return e

    def _dispatch(self, node: t.Node) -> Expr:
        fn: Callable[[Any, Scope], Expr] | None = RESOLVE.get(type(node))
        if fn is None:
            raise UnsupportedError(f"{type(node).__name__} is not a value here", node.span)
        return fn(node, self)

    def unknown(self, name: str, span: Span) -> UnknownSymbolError:
        known = list(self.model.symbols) + list(self.local)
        base = re.sub(r"^\\(?:hat|tilde|check|dot|ddot|mathrm|mathit|mathsf)\{(.*)\}$", r"\1", name)
        close = [k for k in known if k.lower() in (name.lower(), base.lower())]
        if not close:
            import difflib  # only for a name not known (~1.5 ms of a cold start otherwise)
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}?" if close else None
        sup = _LAYER_SUP.match(name) or _WORD_SUP.match(name)
        if sup:  # W^{(2)}, h^{in}: another superscript of the same letter first
            base = sup.group("base")
            same = [k for k in known if k.startswith(base + "^")]
            hint = f"did you mean {same[0]}?" if same else hint
            if self.canonical(base) is not None:
                hint = (hint + " " if same else "") + \
                    f"({name} is not declared, {base} is; a power is written {base}^{{2}})"
        return UnknownSymbolError(f"unknown symbol {name}", span, hint)


def _q(scope: Scope, node: t.Node, e: Expr) -> str:
    text = scope.text(node)
    return f"`{text}` ({o.shape_str(e.shape)})" if text else o.shape_str(e.shape)


def _binary(scope: Scope, what: str, fn, a_node: t.Node, a: Expr, b_node: t.Node, b: Expr, span: Span) -> Expr:
    try:
        return fn(a, b, span)
    except ShapeError:
        raise ShapeError(f"{what}: {_q(scope, a_node, a)} and {_q(scope, b_node, b)} do not fit", span) from None


def resolve(node: t.Node, scope: Scope) -> Expr:
    """`scope.resolve(node)`, for callers that hold the node first."""
    return scope.resolve(node)


def _name(n: t.Name, scope: Scope) -> Expr:
    if n.name in scope.local:
        return scope.local[n.name]
    name = scope.canonical(n.name)
    if name is not None:
        return scope.model.symbols[name].var()
    if n.name in ("I", "\\mathbb{I}", "\\mathbf{I}"):
        return o.Eye(o.SizeVar())
    if n.name in scope.model.dims:
        return o.size_value(n.name)  # \frac{1}{N}: a dimension letter as a value is its size
    m = _WORD_SUP.match(n.name)
    if m:  # h^{out} is a name only when declared: otherwise a power, as written
        from ..read.parse import parse_expression
        power = t.Power(n.span, t.Name(n.span, m.group("base")), parse_expression(m.group("word")))
        try:
            return scope.resolve(power)
        except (UnsupportedError, UnknownSymbolError):
            err = scope.unknown(n.name, n.span)
            raise UnknownSymbolError(f"{err.message}: it is not declared, and `{m.group('word')}` is not a "
                                     "number to raise to", n.span, err.hint) from None
    raise scope.unknown(n.name, n.span)


def _bar(n: t.Bar, scope: Scope) -> Expr:
    name = scope.canonical(n.name)
    if name is None:
        raise scope.unknown(n.name, n.span)
    return o.Bar(name, scope.model.shape(name))


def _number(n: t.Number, scope: Scope) -> Expr:
    if len(n.text) > 30:
        raise UnsupportedError("number too long", n.span)
    return o.Const(Fraction(n.text))


def _add(n: t.Add, scope: Scope) -> Expr:
    terms = [(sign, node, scope.resolve(node)) for sign, node in n.terms]
    big = next((e for _, _, e in terms if not e.is_scalar and not _is_vector(e)), None) \
        or next((e for _, _, e in terms if not e.is_scalar), None)
    out: Expr | None = None
    prev: tuple[t.Node, Expr] | None = None
    for sign, node, e in terms:
        if big is not None and e.is_scalar and (isinstance(e, o.Const) or _is_vector(big)):
            e = o.scale(e, o.Ones(big.shape))  # 1 - u, p̄ - pᵀp̄: a 1x1 term acts as a scalar
        elif big is not None and _is_vector(e) and not _is_vector(big):
            e = o.broadcast_row(e, big) or e  # XW + b: b (as long as a row) added to every row
        e = e if sign > 0 else o.neg(e)
        if out is None:
            out = e
        else:
            assert prev is not None
            out = _binary(scope, "sum", lambda a, b, s: o.add(a, b, span=s), prev[0], out, node, e, n.span)
        prev = (node, out)
    assert out is not None
    return out


def _is_vector(e: Expr) -> bool:
    return o.find(e.shape[1]) == 1 or o.find(e.shape[0]) == 1


def _product(n: t.Product, scope: Scope) -> Expr:
    if any(is_partial(f) for f in n.factors):
        return leibniz(n, scope)
    acc_node: t.Node = n.factors[0]
    acc = scope.resolve(acc_node)
    for f in n.factors[1:]:
        e = scope.resolve(f)
        acc = _binary(scope, "matrix product", o.matmul, acc_node, acc, f, e, n.span)
        acc_node = t.Product(_join(acc_node.span, f.span), (acc_node, f))
    return acc


def _join(a: Span, b: Span) -> Span:
    return Span(a.file, a.line, a.col, b.end_line, b.end_col)


def _hadamard(n: t.Hadamard, scope: Scope) -> Expr:
    a, b = scope.resolve(n.left), scope.resolve(n.right)
    return _binary(scope, "elementwise product", o.hadamard, n.left, a, n.right, b, n.span)


def _frac(n: t.Frac, scope: Scope) -> Expr:
    num, den = scope.resolve(n.num), scope.resolve(n.den)
    if isinstance(den, o.Const) and den.value == 0:
        raise UnsupportedError("division by zero", n.den.span)
    if den.is_scalar:
        if isinstance(num, o.Const) and isinstance(den, o.Const):
            return o.Const(num.value / den.value)
        return o.scale(o.power(den, Fraction(-1)), num)
    if num.is_scalar:
        return o.scale(num, o.power(den, Fraction(-1)))
    if _is_vector(den) and not _is_vector(num):
        den = o.broadcast_row(den, num) or den  # a matrix divided by a row: each row divided by it
    return _binary(scope, "elementwise division", lambda a, b, s: o.hadamard(a, o.power(b, Fraction(-1)), s),
                   n.num, num, n.den, den, n.span)


def _norm_kind(n: t.Norm) -> None:
    if n.kind not in ("2", "F"):
        raise UnsupportedError(f"only the 2-norm and the Frobenius norm are supported, not the {n.kind}-norm",
                               n.span)


def _power(n: t.Power, scope: Scope) -> Expr:
    if isinstance(n.base, t.Name) and n.base.name == "e" and "e" not in scope.local \
            and scope.canonical("e") is None:
        arg = scope.resolve(n.exponent)  # e^{h}: Euler's number, when e is no symbol
        rows, cols = (o.find(d) for d in arg.shape)
        if rows != 1 and cols != 1 and o.same(rows, cols):
            raise UnsupportedError("e^{X} of a square matrix is ambiguous (the matrix exponential, or "
                                   "elementwise?): write \\exp(X) for the elementwise exponential", n.span)
        return o.apply("exp", arg)
    k = exponent(n.exponent)
    if isinstance(n.base, t.Norm) and k == 2:
        _norm_kind(n.base)
        a = scope.resolve(n.base.arg)
        return o.Sum(o.hadamard(a, a))
    base = scope.resolve(n.base)
    if base.is_scalar:
        return o.power(base, k)
    rows, cols = base.shape
    if o.same(rows, cols) and not isinstance(o.find(rows), o.SizeVar):
        if k == -1:
            return o.Inverse(base)
        if k.denominator == 1 and k != 0:
            one = base if k > 0 else o.Inverse(base)  # X^{-2} = (X^{-1})^2
            out = one
            for _ in range(abs(int(k)) - 1):
                out = o.matmul(out, one)
            return out
        raise UnsupportedError(f"matrix power {k} is not supported", n.span)
    if o.find(rows) != 1 and o.find(cols) != 1:
        what = "an inverse" if k == -1 else "a power"
        raise ShapeError(f"`{scope.text(n.base) or 'this'}` is {o.shape_str(base.shape)}: only a square "
                         f"matrix has {what}", n.span)
    return o.power(base, k)  # a vector: elementwise, as in 1 - h^2


def _transpose(n: t.Transpose, scope: Scope) -> Expr:
    if isinstance(n.arg, (t.Partial, t.Derivative)):
        return partial_alone(n, scope)
    return o.transpose(scope.resolve(n.arg))


def _norm(n: t.Norm, scope: Scope) -> Expr:
    _norm_kind(n)
    a = scope.resolve(n.arg)
    return o.power(o.Sum(o.hadamard(a, a)), Fraction(1, 2))


def _ones(n: t.Ones, scope: Scope) -> Expr:
    return o.Ones((o.SizeVar(), 1))


def _indicator(n: t.Indicator, scope: Scope) -> Expr:
    if n.op not in (">", ">=", "<", "<="):
        raise UnsupportedError(f"`\\{n.op}` compares matrices; an indicator compares entries with > >= < <=",
                               n.span)
    left, right = scope.resolve(n.left), scope.resolve(n.right)
    if isinstance(right, o.Const) and not left.is_scalar:
        right = o.scale(right, o.Ones(left.shape))
    if isinstance(left, o.Const) and not right.is_scalar:
        left = o.scale(left, o.Ones(right.shape))
    diff = _binary(scope, "comparison", o.sub, n.left, left, n.right, right, n.span)
    fn = "stepge" if n.op in (">=", "<=") else "step"  # [a >= 0] is not [a > 0] where a = ReLU(u)
    return o.apply(fn, diff if n.op in (">", ">=") else o.neg(diff))


def _abs(n: t.Abs, scope: Scope) -> Expr:
    a = scope.resolve(n.arg)
    rows, cols = a.shape
    if o.same(rows, cols) and o.find(rows) != 1 and not isinstance(o.find(rows), o.SizeVar):
        return o.Det(a)  # |A| of a square matrix is its determinant (SPEC 3.1)
    return o.apply("abs", a)  # of a scalar or elementwise (the `abs` record)


RESOLVE: dict[type, Callable[[Any, Scope], Expr]] = {
    t.Name: _name, t.Bar: _bar, t.Number: _number, t.Add: _add, t.Product: _product,
    t.Hadamard: _hadamard, t.Frac: _frac, t.Power: _power, t.Transpose: _transpose,
    t.Norm: _norm, t.Ones: _ones, t.Indicator: _indicator, t.Partial: partial_alone, t.Call: call,
    t.Abs: _abs, t.Derivative: partial_alone,
}
