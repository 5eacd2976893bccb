"""Named functions of arguments (`CE(y, t) = -t^\\top \\log y`) and the textbook's `\\text{prod}`.

A named function is defined in a problem and used in later lines (SPEC 1). It is kept as its
parse tree: a call `CE(a, b)` is the body with each parameter's Name replaced by the argument's
tree (a tree, so no precedence question arises), then read in the caller's scope. A body may
call only functions defined before it, so there is no recursion; `MAX_EXPANSION` bounds the
size a call can expand to (a chain of functions each calling the one before twice would
otherwise double at every link).

`\\text{prod}(a, b)` (Dive into Deep Learning's "multiply after the necessary transpositions
and swaps") is the formal product of SPEC 3.2: `\\text{prod}(\\frac{\\partial J}{\\partial o},
\\frac{\\partial o}{\\partial W})` is `\\bar{o}\\frac{\\partial o}{\\partial W}`, o's contribution to
W-bar, whatever the shapes. The loss's gradient may be written either side.
"""
from __future__ import annotations

import re
from dataclasses import fields, replace
from typing import TYPE_CHECKING

from ..errors import ModelError, UnsupportedError
from ..fastdataclass import dataclass
from ..model.ops import Expr
from ..read import tree as t
from ..spans import Span

if TYPE_CHECKING:  # resolution recurses through scope.resolve: no import of resolve.py
    from ..model.graph import Model
    from .resolve import Scope

MAX_EXPANSION = 20_000  #: parse-tree nodes one call of a named function may expand to
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*$")


@dataclass(frozen=True)
class Named:
    """A named function: its parameters (names), its body (a parse tree) and its size expanded."""

    name: str
    params: tuple[str, ...]
    body: t.Node
    size: int
    span: Span | None = None


def _nodes(n: t.Node) -> list[t.Node]:
    out, stack = [], [n]
    while stack:
        x = stack.pop()
        out.append(x)
        stack.extend(t.children(x))
    return out


def definition(st: t.Statement, model: Model) -> Named | None:
    """`CE(y, t) = body` (a call of names on the left, one part on the right): the named
    function, or None when the statement is not of that form. ModelError when it is, but the
    function cannot be defined (a name taken, a repeated parameter, too large)."""
    if st.error is not None or st.relation != "=" or len(st.parts) != 2:
        return None
    lhs, body = st.parts
    if not (isinstance(lhs, t.Call) and lhs.deriv == 0 and lhs.power is None and lhs.args
            and all(isinstance(a, t.Name) for a in lhs.args) and _NAME.match(lhs.func)):
        return None
    from ..model.elementwise import BY_NAME
    from ..read.tokens import FUNC_CMDS, WORD_FUNCS
    name = lhs.func
    if name in BY_NAME or name in WORD_FUNCS or name in FUNC_CMDS.values() or name == "prod":
        raise ModelError(f"{name} is a function symderiv knows: a named function needs a new name", lhs.span)
    if name in model.named or name in model.symbols or name in model.functions:
        raise ModelError(f"{name} is defined twice", lhs.span)
    params = tuple(a.name for a in lhs.args)  # type: ignore[attr-defined]
    if len(set(params)) != len(params):
        raise ModelError(f"the parameters of {name} must be different names", lhs.span)
    size = 0
    for x in _nodes(body):
        size += 1
        if isinstance(x, t.Call) and x.func in model.named:
            size += model.named[x.func].size
    if size > MAX_EXPANSION:
        raise ModelError(f"{name} expands to more than {MAX_EXPANSION:,} terms", st.span)
    return Named(name, params, body, size, st.span)


def _rename(name: str, params: dict[str, t.Node], span: Span) -> str | None:
    """`t_i` with parameter t bound to the name `T`: `T_i` (an entry of the argument)."""
    base, sep, sub = name.partition("_")
    if not sep or base not in params:
        return None
    arg = params[base]
    if not isinstance(arg, t.Name) or "_" in arg.name:
        raise UnsupportedError(f"the entry {name} of a named function's parameter {base} needs a "
                               "plain name as that argument", span)
    return f"{arg.name}_{sub}"


def substitute(n: t.Node, params: dict[str, t.Node]) -> t.Node:
    """`n` with each parameter's Name replaced by its argument's tree."""
    if isinstance(n, t.Name):
        if n.name in params:
            return params[n.name]
        renamed = _rename(n.name, params, n.span)
        return replace(n, name=renamed) if renamed else n
    changes = {}
    for f in fields(n):
        value = getattr(n, f.name)
        if isinstance(value, t.Node):
            new = substitute(value, params)
        elif isinstance(value, tuple) and any(isinstance(v, (t.Node, tuple)) for v in value):
            new = tuple(substitute(v, params) if isinstance(v, t.Node)
                        else (*v[:-1], substitute(v[-1], params)) if isinstance(v, tuple) and v
                        and isinstance(v[-1], t.Node) else v for v in value)
        else:
            continue
        if new != value:
            changes[f.name] = new
    return replace(n, **changes) if changes else n


def call(n: t.Call, scope: Scope) -> Expr:
    """`CE(a, b)` of a named function: its body with the arguments put in, read here."""
    f = scope.model.named[n.func]
    if n.deriv or n.power is not None:
        raise UnsupportedError(f"{n.func} is a named function: a derivative or power of it is not supported",
                               n.span)
    if len(n.args) != len(f.params):
        raise UnsupportedError(f"{n.func} takes {len(f.params)} argument{'s' * (len(f.params) != 1)} "
                               f"({', '.join(f.params)}), not {len(n.args)}", n.span)
    return scope.resolve(substitute(f.body, dict(zip(f.params, n.args))))


def _loss_gradient(a: t.Node, scope: Scope) -> t.Node | None:
    """`\\frac{\\partial J}{\\partial o}` (J the loss) as the adjoint `\\bar{o}`; a written adjoint as itself."""
    if isinstance(a, t.Bar):
        return a
    if isinstance(a, t.Partial) and a.form != "nabla" and scope.node(a.num, a.span) == scope.model.loss:
        return t.Bar(a.span, a.den)
    return None


def prod(n: t.Call, scope: Scope) -> Expr:
    """`\\text{prod}(\\frac{\\partial J}{\\partial o}, \\frac{\\partial o}{\\partial W})`: the formal
    product `\\bar{o}\\frac{\\partial o}{\\partial W}` (SPEC 3.2), in either order."""
    from .leibniz import formal
    if len(n.args) != 2 or n.deriv or n.power is not None:
        raise UnsupportedError("prod takes two arguments: the loss's gradient with respect to a node "
                               "and that node's partial derivative, prod(\\frac{\\partial J}{\\partial o}, "
                               "\\frac{\\partial o}{\\partial W})", n.span)
    a, b = n.args
    for up, local in ((a, b), (b, a)):
        bar = _loss_gradient(up, scope)
        if bar is not None and isinstance(local, t.Partial) and local.form != "nabla" and \
                scope.node(local.num, local.span) != scope.model.loss:
            return formal(t.Product(n.span, (bar, local)), scope)
    raise UnsupportedError("prod needs the loss's gradient with respect to a node (or its adjoint) and "
                           "that node's partial derivative, as in prod(\\frac{\\partial J}{\\partial o}, "
                           "\\frac{\\partial o}{\\partial W})", n.span)
