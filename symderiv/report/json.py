"""The JSON report (SPEC section 3): what tools and graders parse. Field names are the contract."""
from __future__ import annotations

import json
from typing import Any

from ..verify.verdicts import Claim, Report, Step
from .answers import expected, hint_text
from .escape import json_safe


def step_dict(s: Step, answer: str | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"latex": s.latex, "verdict": s.verdict, "reason": s.reason, "method": s.method,
                         "message": s.message, "counterexample": s.counterexample}
    hint = hint_text(s)
    if hint:
        d["hint"] = hint
    if s.span is not None:
        d["column"] = s.span.col
        if s.span.line:
            d["line"] = s.span.line
    if answer:
        d["expected"] = answer
    return d


def claim_dict(c: Claim, show_answer: bool = False) -> dict[str, Any]:
    d: dict[str, Any] = {"file": c.file, "line": c.line}
    if c.cell is not None:
        d["cell"] = c.cell
    steps = [step_dict(s, expected(c, s) if show_answer else None) for s in c.steps]
    d.update({"kind": c.kind, "target": c.target, "latex": c.latex, "verdict": c.verdict, "side": c.side,
              "steps": steps})
    return d


def report_dict(r: Report, all_claims: bool = False, show_answer: bool = False) -> dict[str, Any]:
    claims = [c for c in r.claims if c.listed or all_claims]
    out = {"files": r.files, "loss": r.loss, "claims": [claim_dict(c, show_answer) for c in claims],
           "summary": r.summary(all_claims)}
    if r.score is not None:
        out["score"] = r.score.as_dict()
    return out


def render(r: Report, all_claims: bool = False, show_answer: bool = False) -> str:
    return json_safe(json.dumps(report_dict(r, all_claims, show_answer), indent=2, ensure_ascii=False)) + "\n"
