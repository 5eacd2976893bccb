"""The right answer beside a wrong step (`--show-answer`, HTML): a claim's derived answer in LaTeX.

The answer is data on the claim (`Claim.answer`, set by the judge); this renders it, once per
answer: the local form, then `= expanded` when that reads differently.
"""
from __future__ import annotations

from functools import lru_cache

from ..verify.verdicts import Answer, Claim, Step


@lru_cache(maxsize=256)
def answer_latex(answer: Answer) -> str:
    from ..derive.scalar import scalar_simplify
    from .latex import to_latex

    local = to_latex(answer.local)
    expanded = to_latex(scalar_simplify(answer.expanded))
    return local if local == expanded else f"{local} = {expanded}"


def expected(c: Claim, s: Step) -> str | None:
    """The answer to show beside step `s` of claim `c`: none beside a correct step."""
    if c.answer is None or s.verdict == "correct":
        return None
    return answer_latex(c.answer)
