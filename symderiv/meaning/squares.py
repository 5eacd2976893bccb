"""Squared names: `\\sigma^2` as the name of a node of its own (batch norm's variance).

A problem may define `\\sigma^2 = \\frac{1}{N}\\sum_{i=1}^{N} (x_i - \\mu)^2` when `\\sigma` itself is
not one of its symbols (it stays the sigmoid): `\\sigma^2` is then one name. The reader folds a
squared name into one token only where a symbol is required (`\\overline{\\sigma^2}`,
`\\frac{\\partial \\mathcal{L}}{\\partial \\sigma^2}`, `read/names.py`); everywhere else `X^2` is
a power, and this module gives it its meaning once the model is known, by rewriting the
statement's trees before anything else reads them:

- `X^2` (a Power of the name X) is the name `X^2` when the model has that name and X is not
  a symbol; `X_j^2` and `X^2_j` are its entry `X^2_j`;
- a derivative of the name, `\\frac{\\partial \\sigma^2}{\\partial x_i}`, is the partial of its
  equation like that of any node (a Partial, not a derivative of an expression).
Problems without a squared name are never rewritten.
"""
from __future__ import annotations

import dataclasses

from ..lazyre import lazy
from ..model.graph import Model
from ..read import tree as t

_ENTRY = lazy(r"^(?P<stem>[^_^]+)(?P<sub>_(?:\{[^{}]*\}|[^{}]))$")
_SQUARED_ENTRY = lazy(r"^(?P<stem>[^_]+\^2)_(?:\{[^{}]*\}|[^{}])$")  # `\sigma^2_j`
_FORMS = {"partial": "frac", "d": "d", "nabla": "nabla"}


def _squared(n: t.Node) -> str | None:
    """The name `X^2` (or `X^2_j`) that `X^2` (or `X_j^2`) would be, or None."""
    if not (isinstance(n, t.Power) and isinstance(n.base, t.Name) and isinstance(n.exponent, t.Number)
            and n.exponent.text == "2" and "^" not in n.base.name):
        return None
    m = _ENTRY.match(n.base.name)
    return m.group("stem") + "^2" + m.group("sub") if m else n.base.name + "^2"


def _stem(name: str) -> str:
    return name.split("^2", 1)[0]


def defined_name(lhs: t.Node, model: Model) -> t.Node:
    """A problem definition's left side `X^2` (X not a symbol) as the name it defines; `X_j^2`
    and `X^2_j` are the entry `X^2_j` of an index-form definition."""
    if isinstance(lhs, t.Subscript) and _squared(lhs.base) is not None and "_" not in _squared(lhs.base):
        sub = lhs.sub if len(lhs.sub) == 1 else "{" + lhs.sub + "}"
        lhs = t.Power(lhs.span, t.Name(lhs.base.base.span, f"{lhs.base.base.name}_{sub}"),  # type: ignore[attr-defined]
                      lhs.base.exponent)  # type: ignore[attr-defined]
    name = _squared(lhs)
    if name is None or _stem(name) in model.symbols:
        return lhs
    return t.Name(lhs.span, name)


def _names(model: Model, local: dict) -> set[str]:
    return {k for k in model.symbols if k.endswith("^2") and _stem(k) not in model.symbols
            and _stem(k) not in local}


def rewrite(st: t.Statement, model: Model, local: dict | None = None) -> t.Statement:
    """`st` with the model's squared names read as names (unchanged when it has none), so
    that what looks at a claim's left side (`\\sigma^2 = ...` restates a definition) sees them."""
    names = _names(model, local or {})
    if not names or st.error is not None or not st.parts:
        return st
    parts = tuple(_node(p, names) for p in st.parts)
    return dataclasses.replace(st, parts=parts)


def rewrite_node(n: t.Node, model: Model, local: dict | None = None) -> t.Node:
    """One expression with the model's squared names read as names (`Scope.resolve`'s entry)."""
    names = _names(model, local or {})
    return _node(n, names) if names else n


def _known(name: str, names: set[str]) -> bool:
    m = _SQUARED_ENTRY.match(name)
    return name in names or (m is not None and m.group("stem") in names)


def _node(n: t.Node, names: set[str]) -> t.Node:
    name = _squared(n)
    if name is not None and _known(name, names):
        return t.Name(n.span, name)
    changes: dict = {}
    for f in dataclasses.fields(n):
        value = getattr(n, f.name)
        if isinstance(value, t.Node):
            new = _node(value, names)
            if new is not value:
                changes[f.name] = new
        elif isinstance(value, tuple) and any(isinstance(x, (t.Node, tuple)) for x in value):
            items = tuple((x[0], _node(x[1], names)) if isinstance(x, tuple) else
                          (_node(x, names) if isinstance(x, t.Node) else x) for x in value)
            if any(a is not b for a, b in zip(items, value)):
                changes[f.name] = items
    out = dataclasses.replace(n, **changes) if changes else n
    if isinstance(out, t.Subscript) and isinstance(out.base, t.Name) and out.base.name in names:
        sub = out.sub if len(out.sub) == 1 else "{" + out.sub + "}"  # `\sigma^2_j`: an entry's name
        out = t.Name(out.span, f"{out.base.name}_{sub}")
    if (isinstance(out, t.Derivative) and out.order == 1 and isinstance(out.arg, t.Name)
            and _known(out.arg.name, names) and out.form in _FORMS):
        return t.Partial(out.span, out.arg.name, out.wrt, _FORMS[out.form])
    return out
