"""A compact one-line form of parse trees, so tests and debugging can show whole trees.

`sexpr(node)`: names as written (`W_1`, `bar(z_y)`), operators prefix: `(* a b)` product,
`(+ a -b)` sum, `(o a b)` Hadamard, `(/ a b)` fraction, `(^ a 2)` power, `(T a)` transpose;
calls `sigma'(z)`, `tanh^2(a)`; `d(y/z)` Leibniz, `grad_x(L)` nabla; `norm2(x)`, `normF(X)`;
`1vec` ones; `[u > 0]` indicator; `R^mxn`, `R+`, `{0,1}` sets.
"""
from __future__ import annotations

from . import tree as T


def sexpr(node: object) -> str:
    """The one-line form of a node (see the module docstring)."""
    n = node
    if isinstance(n, T.Name):
        return n.name
    if isinstance(n, T.Bar):
        return f"bar({n.name})"
    if isinstance(n, T.Number):
        return n.text
    if isinstance(n, T.Ones):
        return "1vec"
    if isinstance(n, T.Add):
        return "(+ " + " ".join(("" if s > 0 else "-") + sexpr(t) for s, t in n.terms) + ")"
    if isinstance(n, T.Product):
        return "(* " + " ".join(sexpr(f) for f in n.factors) + ")"
    if isinstance(n, T.Hadamard):
        return f"(o {sexpr(n.left)} {sexpr(n.right)})"
    if isinstance(n, T.Frac):
        return f"(/ {sexpr(n.num)} {sexpr(n.den)})"
    if isinstance(n, T.Power):
        return f"(^ {sexpr(n.base)} {sexpr(n.exponent)})"
    if isinstance(n, T.Transpose):
        return f"(T {sexpr(n.arg)})"
    if isinstance(n, T.Call):
        mods = "'" * n.deriv + (f"^{sexpr(n.power)}" if n.power is not None else "")
        return f"{n.func}{mods}(" + ", ".join(sexpr(a) for a in n.args) + ")"
    if isinstance(n, T.Partial):
        return f"d({n.num}/{n.den})" if n.form == "frac" else f"grad_{n.den}({n.num})"
    if isinstance(n, T.Norm):
        return f"norm{n.kind}({sexpr(n.arg)})"
    if isinstance(n, T.Indicator):
        return f"[{sexpr(n.left)} {n.op} {sexpr(n.right)}]"
    if isinstance(n, T.RealSpace):
        return "R" + ("+" if n.positive else "") + ("^" + "x".join(sexpr(d) for d in n.dims) if n.dims else "")
    if isinstance(n, T.BinarySet):
        return "{0,1}"
    if isinstance(n, T.BigSum):
        skip = f"!={n.skip}" if n.skip else ""
        rng = f"={n.lo}..{n.hi or ''}" if n.lo else ""
        return f"(sum_{n.index}{skip}{rng} {sexpr(n.body)})"
    if isinstance(n, T.Subscript):
        return f"(_ {sexpr(n.base)} {n.sub})"
    if isinstance(n, T.PartialOf):
        return f"d({sexpr(n.num)}/{n.den})"
    raise TypeError(type(n))


def sexpr_statement(st: T.Statement) -> str:
    if st.error is not None:
        return f"ERROR {getattr(st.error, 'message', st.error)}"
    if st.relation == "in":
        return ", ".join(n.name for n in st.names) + " in " + sexpr(st.parts[0])
    if st.relation == "maps":
        return f"{st.names[0].name} : R -> R"
    return " = ".join(sexpr(p) for p in st.parts)
