"""Gradescope autograder `results.json`: one test per scored target (SPEC 4, `scoring.py`).

Each target (and each intermediate step when the problem's `scoring: steps` is set) is a
test: `name` (`\\bar{W}`), `score`, `max_score`, `status` (`passed` when it earned all its
points), `output` (what was scored: the final answer's line and text, and the diagnosis),
`visibility`. The top level has the `score`, `execution_time`, and `output`: the verdict
of every claim of the sheet, scored or not, so identities, declarations and restatements
still get feedback. `max_score` of each test comes from the problem, never from the sheet.
"""
from __future__ import annotations

import json
from typing import Any

from ..scoring import Score
from ..verify.verdicts import Report
from .text import plain_claim, summary_line

VISIBILITY = "visible"


def test_entry(item: Any, output: str) -> dict[str, Any]:
    return {"name": item.label + (" (step)" if item.step else ""), "score": item.score,
            "max_score": item.max_score, "status": "passed" if item.score >= item.max_score else "failed",
            "output": output, "visibility": VISIBILITY}


def item_output(item: Any) -> str:
    text = item.message
    if item.claim is not None and item.status != "correct":
        text += "\n\n" + plain_claim(item.claim)
    return text


def results(r: Report, score: Score, execution_time: float | None = None) -> dict[str, Any]:
    """The results.json of one sheet; `score` is `scoring.score_report(r, policy)`."""
    tests = [test_entry(i, item_output(i)) for i in score.items]
    feedback = [plain_claim(c) for c in r.claims if c.listed and c.file != (r.files[0] if r.files else None)]
    head = f"Score {score.score:g} / {score.max_score:g}. {summary_line(r)}."
    out: dict[str, Any] = {"score": score.score, "output": "\n\n".join([head, *feedback]),
                           "visibility": VISIBILITY, "stdout_visibility": "hidden", "tests": tests}
    if execution_time is not None:
        out["execution_time"] = round(execution_time, 3)
    return out


def error_results(message: str, execution_time: float | None = None) -> dict[str, Any]:
    """A submission that could not be graded: score 0, the reason as the output."""
    out: dict[str, Any] = {"score": 0.0, "output": message, "visibility": VISIBILITY, "tests": []}
    if execution_time is not None:
        out["execution_time"] = round(execution_time, 3)
    return out


def render(r: Report, score: Score, execution_time: float | None = None) -> str:
    return json.dumps(results(r, score, execution_time), indent=2, ensure_ascii=False) + "\n"
