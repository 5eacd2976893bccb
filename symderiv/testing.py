"""Assertions for users' own tests: is this LaTeX the adjoint of that symbol?

    from symderiv.testing import assert_adjoint

    def test_w_gradient():
        assert_adjoint("derivations/gated-unit/problem.md", "W", r"\\bar{z} x^\\top")

A failure raises `AssertionError` whose message is symderiv's report of the claim (the
step, the diagnosis, the counterexample and the derived answer), as `symderiv check` prints
it. The LaTeX is read exactly as a line `\\bar{W} = ...` of an answer sheet would be, so it
may chain steps (`\\bar{z} \\frac{\\partial z}{\\partial W} = \\bar{z} x^\\top`) and use `\\bar{u}`
for other nodes' true adjoints.
"""
from __future__ import annotations

import os
from typing import Any

from .verify.verdicts import Claim

__all__ = ["assert_adjoint", "check_adjoint"]


def _model(problem: Any) -> Any:
    """The model `problem` stands for: a path (a problem, or a sheet naming its problem), a
    `Model`, or the `SymModel` that `symderiv.new_model()` returns."""
    from .model.graph import Model
    if isinstance(problem, Model):
        return problem
    graph = getattr(problem, "graph", None)
    if isinstance(graph, Model):
        return graph
    from .load import load_documents
    from .meaning.build import model_of
    return model_of(load_documents([os.fspath(problem)])[0])


def _checker(problem: Any, seed: int) -> Any:
    from .errors import no_model
    from .verify.check import Checker

    checker = Checker(seed, _model(problem))
    if not checker.model.nodes:
        raise no_model(str(problem))
    checker.start()
    return checker


def check_adjoint(problem: Any, target: str, latex: str, *, seed: int = 0) -> tuple[Claim, Any]:
    """The claim `\\bar{target} = latex`, judged; and the report it belongs to (for answers).

    `problem` is a path to a problem (or to an answer sheet naming its problem), a `Model`, or
    the model `symderiv.new_model()` returns.
    Raises symderiv's own errors (`InputError`, `ModelError`) when there is no usable model."""
    from .names import bar_latex
    from .read.document import read_text
    from .verify.verdicts import Report

    if "$" in latex:
        raise ValueError("give the LaTeX without `$` delimiters")
    checker = _checker(problem, seed)
    doc = read_text(f"$${bar_latex(target)} = {latex}$$\n", file="<assert_adjoint>")
    claims = [c for st in doc.statements for c in checker.check(st)]
    if len(claims) != 1:
        raise ValueError(f"expected one statement, read {len(claims)} from {latex!r}")
    report = Report(["<assert_adjoint>"], checker.model.loss, claims, checker.model)
    return claims[0], report


def assert_adjoint(problem: Any, target: str, latex: str, *, seed: int = 0, show_answer: bool = True) -> Claim:
    """Assert that every step of `latex` equals the adjoint of `target` (d loss / d target).

    Returns the (correct) claim; raises AssertionError with symderiv's report otherwise."""
    __tracebackhide__ = True
    claim, report = check_adjoint(problem, target, latex, seed=seed)
    if claim.verdict != "correct":
        from .report.text import plain_claim
        raise AssertionError(plain_claim(claim, show_answer))
    return claim
