"""Compact text form of parse trees, so tests can pin whole trees in one line."""
from __future__ import annotations

from symderiv.read import tree as T


def sx(node: object) -> str:
    """`Bar(z_y)`, `(* a b)`, `(+ a -b)`, `(o a b)`, `(/ a b)`, `(^ a 2)`, `(T a)`, ..."""
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
        return "(+ " + " ".join(("" if s > 0 else "-") + sx(t) for s, t in n.terms) + ")"
    if isinstance(n, T.Product):
        return "(* " + " ".join(sx(f) for f in n.factors) + ")"
    if isinstance(n, T.Hadamard):
        return f"(o {sx(n.left)} {sx(n.right)})"
    if isinstance(n, T.Frac):
        return f"(/ {sx(n.num)} {sx(n.den)})"
    if isinstance(n, T.Power):
        return f"(^ {sx(n.base)} {sx(n.exponent)})"
    if isinstance(n, T.Transpose):
        return f"(T {sx(n.arg)})"
    if isinstance(n, T.Call):
        mods = "'" * n.deriv + (f"^{sx(n.power)}" if n.power is not None else "")
        return f"{n.func}{mods}(" + ", ".join(sx(a) for a in n.args) + ")"
    if isinstance(n, T.Partial):
        return f"d({n.num}/{n.den})" if n.form == "frac" else f"grad_{n.den}({n.num})"
    if isinstance(n, T.Norm):
        return f"norm{n.kind}({sx(n.arg)})"
    if isinstance(n, T.Indicator):
        return f"[{sx(n.left)} {n.op} {sx(n.right)}]"
    if isinstance(n, T.RealSpace):
        return "R" + ("+" if n.positive else "") + ("^" + "x".join(sx(d) for d in n.dims) if n.dims else "")
    if isinstance(n, T.BinarySet):
        return "{0,1}"
    raise TypeError(type(n))


def sx_statement(st: T.Statement) -> str:
    if st.error is not None:
        return f"ERROR {st.error.message}"
    if st.relation == "in":
        return ", ".join(n.name for n in st.names) + " in " + sx(st.parts[0])
    return " = ".join(sx(p) for p in st.parts)
