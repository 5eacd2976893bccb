"""Rich display in Jupyter: the functions behind `_repr_latex_` / `_repr_html_`.

    Model._repr_latex_    -> model_latex(model)        declarations and the forward pass
    Adjoints._repr_latex_ -> adjoints_latex(adjoints)  every adjoint, local form
    Report._repr_html_    -> report_html(report)       the HTML report as a fragment

LaTeX is returned inside `$$ ... $$` with `aligned` (what MathJax and KaTeX both render in
notebook front ends). The HTML fragment carries its own stylesheet, scoped under
`.symderiv-report` so it cannot restyle the notebook around it.
"""
from __future__ import annotations

import re
from typing import Any


def _space(shape: Any, domain: str) -> str:
    from ..model import ops as o

    if domain == "binary":
        return "\\{0,1\\}"
    field = "\\mathbb{R}_{>0}" if domain == "positive" else "\\mathbb{R}"
    if o.is_scalar_shape(shape):
        return field
    rows, cols = (o.dim_str(d) for d in shape)
    return f"{field}^{{{rows}}}" if cols == "1" else f"{field}^{{{rows} \\times {cols}}}"


def model_latex(model: Any) -> str:
    """`x \\in \\mathbb{R}^{a}` for every declared symbol, then `z = W x` for every node, in order."""
    from .latex import name_latex, to_latex

    rows = []
    for name, sym in model.symbols.items():
        if not sym.is_node:
            rows.append(f"{name_latex(name)} &\\in {_space(sym.shape, sym.domain)}")
    for name in model.nodes:
        rows.append(f"{name_latex(name)} &= {to_latex(model.symbols[name].definition)}")
    if not rows:
        return "$$\\text{(an empty model)}$$"
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$"


def adjoints_latex(adjoints: Any, expanded: bool = False) -> str:
    """The derivation (`symderiv latex`) as one `aligned` display."""
    from .latex import derivation_latex

    body = derivation_latex(adjoints, expanded=expanded)
    body = body.replace("\\begin{align*}", "\\begin{aligned}").replace("\\end{align*}", "\\end{aligned}")
    return "$$\n" + body.strip() + "\n$$"


def scoped_css(scope: str = ".symderiv-report") -> str:
    """The report's stylesheet with every selector moved under `scope` (`:root`, `body` -> scope)."""
    from .html import css

    def rule(m: re.Match[str]) -> str:
        sels = []
        for sel in m.group(1).split(","):
            sel = sel.strip()
            if sel in (":root", "body", "*"):
                sels.append(scope if sel != "*" else f"{scope} *")
            else:
                sels.append(f"{scope} {sel}")
        return ", ".join(sels) + " {"

    text = re.sub(r"/\*.*?\*/", "", css(), flags=re.DOTALL)
    text = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*\s*\}", "", text)  # page-only rules
    return re.sub(r"([^{}]+?)\s*\{", rule, text)


def report_html(report: Any, all_claims: bool = False, show_answer: bool = False) -> str:
    """The report as an HTML fragment (summary, then every claim), for `_repr_html_`."""
    from .html import MARK, claim_fragment

    claims = [c for c in report.claims if c.listed or all_claims]
    s = report.summary(all_claims)
    chips = "".join(f'<span class="chip v-{k}">{MARK[k]} {n} {k}</span>' for k, n in s.items())
    body = "".join(claim_fragment(c, show_answer, answers=show_answer) for c in claims)
    return (f'<div class="symderiv-report"><style>{scoped_css()}</style>'
            f'<p class="summary">{chips}</p>{body}</div>')
