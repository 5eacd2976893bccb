"""The right answer beside a wrong step (`--show-answer`, HTML): a claim's derived answer in LaTeX.

The answer is data on the claim (`Claim.answer`, set by the judge); this renders it, once per
answer: the local form, then `= expanded` when that reads differently.
"""
from __future__ import annotations

from functools import lru_cache

from ..model.ops import Expr
from ..verify.verdicts import Answer, Claim, Step
from .latex import tokens


@lru_cache(maxsize=256)
def answer_latex(answer: Answer) -> str:
    """In the simplest form (`derive/tidy.py`, and the scalar parts through SymPy)."""
    from ..derive.scalar import scalar_simplify
    from ..derive.tidy import tidy
    from .latex import to_latex

    local = to_latex(tidy(answer.local, answer.facts))
    expanded = to_latex(tidy(scalar_simplify(tidy(answer.expanded, answer.facts)), answer.facts))
    return local if local == expanded else f"{local} = {expanded}"


def hint_text(s: Step) -> str | None:
    """A step's hint, its "did you mean" repair in the simplest form when that is shorter
    than the repair as edited on the student's text."""
    if s.hint is None or s.repair is None:
        return s.hint
    written, meaning = s.repair
    simplest = _simplest(meaning)
    if simplest is None or tokens(simplest) >= tokens(written):
        return s.hint
    return s.hint.replace(f"did you mean {written}?", f"did you mean {simplest}?", 1)


def _simplest(e: Expr) -> str | None:
    """The repair tidied and printed; None for what the printer has no notation for (an
    entrywise repair in index notation keeps the student's own). Tidied only: a hint is printed
    by every `check`, and SymPy's scalar simplification would import SymPy there (0.35 s, most
    of a cold check; issue 11)."""
    from ..derive.tidy import tidy
    from .latex import to_latex
    try:
        return to_latex(tidy(e))
    except TypeError:  # `Printer` raises it for an op it cannot print
        return None


def expected(c: Claim, s: Step) -> str | None:
    """The answer to show beside step `s` of claim `c`: none beside a correct step."""
    if c.answer is None or s.verdict == "correct":
        return None
    return answer_latex(c.answer)
