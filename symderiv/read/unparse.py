"""Parse tree -> LaTeX, for "did you mean" repairs: the student's notation, re-grouped."""
from __future__ import annotations

from . import tree as t
from .precedence import ATOM, HAD, POST, PROD, paren, tree_prec

_FUNC = {"sigma": "\\sigma", "tanh": "\\tanh", "cosh": "\\cosh", "sinh": "\\sinh", "exp": "\\exp", "log": "\\log", "sqrt": "\\sqrt",
         "det": "\\det", "relu": "\\mathrm{ReLU}", "diag": "\\operatorname{diag}",
         "tr": "\\operatorname{tr}", "softmax": "\\operatorname{softmax}", "sum": "\\operatorname{sum}",
         "softplus": "\\operatorname{softplus}", "logsoftmax": "\\operatorname{logsoftmax}"}



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
        return f"\\frac{{\\partial {n.num}}}{{\\partial {n.den}}}"
    if isinstance(n, t.Norm):
        sub = "_F" if n.kind == "F" else ""
        return f"\\|{unparse(n.arg)}\\|{sub}"
    if isinstance(n, t.Ones):
        return "\\mathbf{1}"
    if isinstance(n, t.Indicator):
        op = {">=": "\\geq", "<=": "\\leq"}.get(n.op, n.op)
        return f"\\mathbb{{I}}[{unparse(n.left)} {op} {unparse(n.right)}]"
    return "?"
