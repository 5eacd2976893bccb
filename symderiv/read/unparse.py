"""Parse tree -> LaTeX, for "did you mean" repairs: the student's notation, re-grouped."""
from __future__ import annotations

from ..model.elementwise import RECORDS
from . import tree as t
from .precedence import ATOM, HAD, POST, PROD, paren, tree_prec

#: the reader's function names as printed: the elementwise records' commands, and the rest
_FUNC = {f.name: f.latex for f in RECORDS if f.called} | {
    "sqrt": "\\sqrt", "det": "\\det", "diag": "\\operatorname{diag}", "tr": "\\operatorname{tr}",
    "softmax": "\\operatorname{softmax}", "sum": "\\operatorname{sum}",
    "logsoftmax": "\\operatorname{logsoftmax}", "phi": "\\phi", "psi": "\\psi", "Psi": "\\Psi"}



def _wrap(n: t.Node, need: int) -> str:
    s = unparse(n)
    return paren(s) if tree_prec(n) < need else s


def _name(name: str) -> str:
    return name


def unparse(n: t.Node) -> str:
    if isinstance(n, t.Name):
        return _name(n.name)
    if isinstance(n, t.Bar):
        base, _, sub = n.name.partition("_")
        return f"\\bar{{{base}}}_{sub}" if sub and not base.startswith("\\") else f"\\bar{{{n.name}}}"
    if isinstance(n, t.Number):
        return n.text
    if isinstance(n, t.Add):
        out = []
        for i, (sign, term) in enumerate(n.terms):
            s = _wrap(term, HAD)
            out.append(("-" if sign < 0 else "") + s if i == 0 else (" - " if sign < 0 else " + ") + s)
        return "".join(out)
    if isinstance(n, t.Product):
        return " ".join(_wrap(f, POST if isinstance(f, t.Add) else PROD) for f in n.factors)
    if isinstance(n, t.Hadamard):
        return f"{_wrap(n.left, HAD)} \\odot {_wrap(n.right, PROD)}"
    if isinstance(n, t.Frac):
        return f"\\frac{{{unparse(n.num)}}}{{{unparse(n.den)}}}"
    if isinstance(n, t.Power):
        return f"{_wrap(n.base, ATOM)}^{{{unparse(n.exponent)}}}"
    if isinstance(n, t.Transpose):
        return f"{_wrap(n.arg, ATOM)}^\\top"
    if isinstance(n, t.Call):
        f = _FUNC.get(n.func, f"\\operatorname{{{n.func}}}") + "'" * n.deriv
        if n.power is not None:
            f += f"^{{{unparse(n.power)}}}"
        return f + "(" + ", ".join(unparse(a) for a in n.args) + ")"
    if isinstance(n, t.Partial):
        if n.form == "nabla":
            return f"\\nabla_{{{n.den}}} {n.num}"
        d = "d" if n.form == "d" else "\\partial "
        return f"\\frac{{{d}{n.num}}}{{{d}{n.den}}}"
    if isinstance(n, t.Derivative):
        if n.form == "nabla":
            return f"\\nabla{'^2' if n.order == 2 else ''}_{{{n.wrt}}} ({unparse(n.arg)})"
        d = "d" if n.form == "d" else "\\partial"
        if n.order == 2 and n.wrt2 is not None:
            return f"\\frac{{{d}^2}}{{{d} {n.wrt} {d} {n.wrt2}}} ({unparse(n.arg)})"
        if n.order == 2:
            return f"\\frac{{{d}^2}}{{{d} {n.wrt} {d} {n.wrt}^\\top}} ({unparse(n.arg)})"
        return f"\\frac{{{d}}}{{{d} {n.wrt}}} ({unparse(n.arg)})"
    if isinstance(n, t.Abs):
        return f"|{unparse(n.arg)}|"
    if isinstance(n, t.Norm):
        sub = "_F" if n.kind == "F" else ""
        return f"\\|{unparse(n.arg)}\\|{sub}"
    if isinstance(n, t.Ones):
        return "\\mathbf{1}"
    if isinstance(n, t.BigSum):
        sub = n.index + (f" \\neq {n.skip}" if n.skip else "") + (f"={n.lo}" if n.lo else "")
        sup = f"^{{{n.hi}}}" if n.hi else ""
        return f"\\sum_{{{sub}}}{sup} {_wrap(n.body, 3)}"
    if isinstance(n, t.Subscript):
        return f"{_wrap(n.base, 5)}_{{{n.sub}}}"
    if isinstance(n, t.PartialOf):
        return f"\\frac{{\\partial {unparse(n.num)}}}{{\\partial {n.den}}}"
    if isinstance(n, t.Indicator):
        op = {">=": "\\geq", "<=": "\\leq"}.get(n.op, n.op)
        return f"\\mathbb{{I}}[{unparse(n.left)} {op} {unparse(n.right)}]"
    return "?"
