"""The right answer beside a wrong step (`--show-answer`, HTML): the derived adjoint in LaTeX."""
from __future__ import annotations

from ..verify.verdicts import Report


def attach_answers(report: Report) -> None:
    adjoints = report.derived
    if adjoints is None:
        return
    from ..derive.scalar import scalar_simplify
    from .latex import to_latex

    cache: dict[str, str] = {}
    for c in report.claims:
        if c.kind != "adjoint" or c.target is None or c.target not in adjoints.local:
            continue
        if c.target not in cache:
            local = to_latex(adjoints.local[c.target])
            expanded = to_latex(scalar_simplify(adjoints.expanded(c.target)))
            cache[c.target] = local if local == expanded else f"{local} = {expanded}"
        for s in c.steps:
            if s.verdict != "correct":
                s.expected = cache[c.target]
