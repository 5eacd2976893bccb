"""Gradescope autograder `results.json`: one test per claim.

Scoring (documented in README "Grading"): each listed claim is worth `points` (default 1);
a correct claim earns all of it, an incorrect one whose every wrong step is `carried-forward`
earns `carried_forward` of it (default 0.5, follow-through credit), anything else earns 0.
"""
from __future__ import annotations

import json
from typing import Any

from ..names import bar_latex
from ..verify.verdicts import Claim, Report
from .text import plain_claim

DEFAULT_POLICY = {"points": 1.0, "carried_forward": 0.5}


def claim_score(c: Claim, policy: dict[str, float]) -> float:
    pts = float(policy.get("points", 1.0))
    if c.verdict == "correct":
        return pts
    bad = [s for s in c.steps if s.verdict != "correct"]
    if bad and all(s.verdict == "incorrect" and s.reason == "carried-forward" for s in bad):
        return pts * float(policy.get("carried_forward", 0.5))
    return 0.0


def claim_name(c: Claim) -> str:
    what = bar_latex(c.target) if c.kind == "adjoint" and c.target else (c.target or c.kind)
    return f"{c.where.rsplit('/', 1)[-1]} {what}"


def results(r: Report, policy: dict[str, float] | None = None) -> dict[str, Any]:
    policy = {**DEFAULT_POLICY, **(policy or {})}
    tests: list[dict[str, Any]] = []
    for c in r.claims:
        if not c.listed:
            continue
        score = claim_score(c, policy)
        tests.append({"name": claim_name(c), "score": round(score, 4), "max_score": float(policy["points"]),
                      "status": "passed" if c.verdict == "correct" else "failed",
                      "output": plain_claim(c)})
    s = r.summary()
    return {"score": round(sum(float(t["score"]) for t in tests), 4),  # type: ignore[arg-type]
            "output": f"{s['correct']} correct, {s['incorrect']} incorrect, {s['invalid']} invalid",
            "tests": tests}


def render(r: Report, policy: dict[str, float] | None = None) -> str:
    return json.dumps(results(r, policy), indent=2, ensure_ascii=False) + "\n"
