"""The per-sheet job of `symderiv grade`: the problem, read once; one submission -> its entry.

`prepare` reads the problem and checks that it defines a model (and that its scoring
policy is usable) before any sheet is read. `grade_sheet` runs in a worker (`limits.py`):
it reads the submission (`limits.read_sheet`: what a submission may be), checks it against
the problem, scores it with the problem's `scoring.Policy` and returns a plain entry (the
parent writes it). A submission's own `problem:` front matter is ignored: the problem is
the TA's.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

from ..fastdataclass import dataclass
from ..limits import read_sheet

MAX_LATEX = 2000  # characters of a claim's text kept in the results (a hostile line can be 1 MB)


@dataclass
class Problem:
    path: str
    doc: Any
    seed: int
    policy: Any  # scoring.Policy
    gradescope: bool
    sha256: str


_PREPARED: dict[tuple, Problem] = {}


def prepare(path: str, seed: int, gradescope: bool) -> Problem:
    """Read the problem; raises SymderivError without a model or with a bad `scoring:` block."""
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size)  # an edited problem is read again
    except OSError:
        stamp = None  # read_document says what is wrong
    key = (os.path.abspath(path), stamp, seed, gradescope)
    if key not in _PREPARED:
        from ..read.document import read_document
        from ..scoring import read_policy
        from ..verify.check import check_documents

        doc = read_document(path)
        report = check_documents([doc], seed=seed)  # raises ModelError without a model; warms every import
        policy = read_policy(doc.front_matter, report.model, path, report.families)
        with open(path, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        _PREPARED[key] = Problem(path, doc, seed, policy, gradescope, sha)
    return _PREPARED[key]


def setup_worker(path: str, seed: int, gradescope: bool) -> Callable[[str], dict]:
    """In a worker: the problem (inherited when forked, else read again) -> the job."""
    problem = prepare(path, seed, gradescope)
    return lambda sheet: grade_sheet(problem, sheet)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LATEX else f"{text[:MAX_LATEX]}… ({len(text):,} characters)"


def grade_sheet(problem: Problem, path: str) -> dict:
    """One submission -> its entry (score, max score, per-target scores, per-claim verdicts)."""
    return grade_files(problem, [path], path)


def check_submission(problem: Problem, paths: list[str], label: str) -> Any:
    """The files of one submission, read in order as one derivation -> its Report (only the
    submission's claims) with `.score` under the problem's policy. Raises SymderivError."""
    from ..errors import InputError
    from ..scoring import score_report
    from ..verify.check import check_documents
    from ..verify.verdicts import Report

    sheets = [read_sheet(p) for p in paths]
    if not any(s.statements for s in sheets):
        raise InputError(f"{label}: no math found (no display or inline math): nothing to grade")
    full = check_documents([problem.doc, *sheets], seed=problem.seed)
    score = score_report(full, problem.policy)
    mine = {s.file for s in sheets}
    return Report(full.files, full.loss, [c for c in full.claims if c.file in mine], full.model, score)


def grade_files(problem: Problem, paths: list[str], label: str, gradescope: bool | None = None) -> dict:
    """One submission's entry. Used by `grade` (one file per submission) and the Gradescope
    autograder (every source file of the submission)."""
    from ..report.json import report_dict

    report = check_submission(problem, paths, label)
    score = report.score
    entry: dict[str, Any] = {"file": label, "status": "graded", "score": score.score,
                             "max_score": score.max_score, "targets": score.targets}
    for c in report.claims:
        c.latex = _clip(c.latex)
        for s in c.steps:
            s.latex = _clip(s.latex)
    if problem.gradescope if gradescope is None else gradescope:
        from ..report.gradescope import results
        entry["_gradescope"] = results(report, score)
    entry["report"] = report_dict(report)
    return entry
