"""PrairieLearn: grade a derivation from a question's `server.py`.

    # server.py of a question folder holding problem.md (the TA's problem)
    import symderiv.autograder.prairielearn as symderiv_pl

    def grade(data):
        symderiv_pl.grade(data)  # problem: data["options"]["question_path"]/problem.md

What the student submitted is read from `data["submitted_answers"]`: the files of a
`pl-file-upload` or `pl-file-editor` element (`_files`: a list of `{"name", "contents"}`,
contents base64-encoded; every `.md`, `.tex` and `.ipynb` file, in name order, as one
derivation), or else the text of the answer named `answer` (a string: Markdown). Nothing
to grade (no source file, only a PDF) is a format error (`data["format_errors"]`), which
PrairieLearn shows without using up an attempt.

It fills, per target of the problem's `scoring:` policy (SPEC 4, the same policy as
`check`, `grade` and the Gradescope autograder), `data["partial_scores"][TARGET]` with
`score` (0 to 1), `weight` (the target's points) and `feedback` (HTML: what was scored and
why); `data["score"]` (earned / max_score, 0 to 1); and `data["feedback"]["symderiv"]`
(HTML: every claim of the sheet with its verdict, for `{{{feedback.symderiv}}}` in
`question.html`). All HTML goes through symderiv's MathML sanitiser; no student text is
put in a page unescaped.
"""
from __future__ import annotations

import base64
import binascii
import os
import tempfile
from html import escape
from typing import Any

from .submission import ASK_FOR_SOURCE, RENDERED, SOURCES

FEEDBACK_KEY = "symderiv"
MAX_BYTES = 2 * 1024 * 1024


def _submitted(data: dict[str, Any], answer: str) -> tuple[list[tuple[str, bytes]], str]:
    """The submission's source files as (name, bytes), or a message saying why there are none."""
    answers = data.get("submitted_answers") or {}
    files = answers.get("_files")
    out: list[tuple[str, bytes]] = []
    rendered: list[str] = []
    if isinstance(files, list):
        for f in files:
            if not isinstance(f, dict):
                continue
            name = os.path.basename(str(f.get("name", "")))
            low = name.lower()
            if low.endswith(RENDERED):
                rendered.append(name)
                continue
            if not low.endswith(SOURCES) or name.startswith("."):
                continue
            try:
                raw = base64.b64decode(str(f.get("contents", "")), validate=True)
            except (binascii.Error, ValueError):
                return [], f"{name}: the uploaded file could not be decoded"
            if len(raw) > MAX_BYTES:
                return [], f"{name}: larger than {MAX_BYTES // (1024 * 1024)} MB"
            out.append((name, raw))
    if not out and isinstance(answers.get(answer), str) and answers[answer].strip():
        out.append(("answer.md", answers[answer].encode("utf-8", "replace")))
    if out:
        return sorted(out), ""
    if rendered:
        return [], f"{ASK_FOR_SOURCE} (found {', '.join(rendered[:5])})"
    return [], "No derivation submitted: upload a .md, .tex or .ipynb file."


def _html_lines(text: str) -> str:
    return "".join(f"<p>{escape(line)}</p>" for line in text.split("\n") if line)


def grade(data: dict[str, Any], problem: str | None = None, answer: str = "answer") -> dict[str, Any]:
    """Grade the submission in `data` against `problem` (a path; default `problem.md` in the
    question's folder, `data["options"]["question_path"]`); fills `data` in place and returns it."""
    from ..errors import SymderivError
    from ..grade.job import check_submission, prepare
    from ..report.html import claim_fragment

    for key in ("partial_scores", "feedback", "format_errors"):
        if not isinstance(data.get(key), dict):
            data[key] = {}
    files, why = _submitted(data, answer)
    if not files:
        data["format_errors"]["_files"] = why
        return data
    if problem is None:
        problem = os.path.join(str((data.get("options") or {}).get("question_path", ".")), "problem.md")
    prob = prepare(os.path.abspath(problem), 0, False)
    with tempfile.TemporaryDirectory(prefix="symderiv-pl-") as tmp:
        names = []
        for i, (name, raw) in enumerate(files):
            safe = f"{i:02d}-{name}" if sum(n == name for n, _ in files) > 1 else name
            with open(os.path.join(tmp, safe), "wb") as f:
                f.write(raw)
            names.append(safe)
        cwd = os.getcwd()
        os.chdir(tmp)  # the student sees `answers.md:12`
        try:
            report = check_submission(prob, names, "the submission")
        except SymderivError as err:
            data["format_errors"]["_files"] = str(err)
            return data
        finally:
            os.chdir(cwd)
    score = report.score
    for item in score.items:
        parts = [_html_lines(item.message)]
        if item.claim is not None:
            parts.append(claim_fragment(item.claim))
        data["partial_scores"][item.name] = {
            "score": (item.score / item.max_score) if item.max_score else 0.0,
            "weight": item.max_score, "feedback": "".join(parts)}
    data["score"] = score.score / score.max_score if score.max_score else 0.0
    summary = f"Score {score.score:g} / {score.max_score:g}."
    listed = [c for c in report.claims if c.listed]
    data["feedback"][FEEDBACK_KEY] = (f'<div class="symderiv-feedback"><p>{escape(summary)}</p>'
                                      + "".join(claim_fragment(c) for c in listed) + "</div>")
    return data


__all__ = ["grade"]
