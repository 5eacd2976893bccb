"""Soundness of the Hessian notations (issue 12): the entrywise Hessian
`\\frac{\\partial^2 \\mathcal{L}}{\\partial w_j \\partial w_k}`, its diagonal `\\partial w_j^2`, and
`\\nabla_w^2` with the subscript first.

Every single mutation of a right side (sign, ×2, dropped term, swapped or transposed factors,
swapped, repeated or dropped indices, changed sum bounds; see `mutate.py`) is checked against
the Hessian computed here by central second differences of the test oracle's loss, which owes
nothing to symderiv's reverse mode: a mutant that is wrong there must not be accepted.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devset import DEVSET
from mutate import Oracle, Undecidable, all_mutants, check_lines_robust, dedupe, parse_statement, unparse

from symderiv.read.document import read_document

PROBLEM = DEVSET / "logistic-newton-hessian" / "problem.md"
H = 1e-4

#: (left side, right side, left-side indices: None for the whole matrix)
LINES = [
    (r"\frac{\partial^2 \mathcal{L}}{\partial w_j \partial w_k}",
     r"\sum_{i=1}^{N} X_{ij} y_i (1 - y_i) X_{ik} + \lambda \delta_{jk}", ["j", "k"]),
    (r"\frac{\partial^2 L}{\partial w_j\,\partial w_k}",
     r"\lambda \delta_{kj} + \sum_{i} X_{ik} \sigma'(z_i) X_{ij}", ["j", "k"]),
    (r"\frac{\partial^2 L}{\partial w_j^2}", r"\sum_{i=1}^{N} X_{ij}^2 \sigma'(z_i) + \lambda", ["j"]),
    (r"\nabla_w^2 \mathcal{L}", r"X^\top \operatorname{diag}(y \odot (\mathbf{1} - y)) X + \lambda I", None),
    (r"\nabla_{w}^{2} \mathcal{L}", r"\lambda I + X^\top \operatorname{diag}(\sigma'(z)) X", None),
]


def _hessian(orc: Oracle, inst) -> np.ndarray:
    """The loss's Hessian in w by central second differences of the oracle's forward pass."""
    w = inst.values["w"]
    d = w.shape[0]
    out = np.zeros((d, d))
    for j in range(d):
        for k in range(d):
            def at(a: float, b: float) -> float:
                v = w.copy()
                v[j, 0] += a
                v[k, 0] += b
                return orc._loss_with(inst, "w", v)
            out[j, k] = (at(H, H) - at(H, -H) - at(-H, H) + at(-H, -H)) / (4 * H * H)
    return out


def _value(orc: Oracle, part, letters: list[str] | None, inst) -> np.ndarray:
    if letters is None:
        return np.atleast_2d(orc.resolve(part, inst.values, inst, inst.sizes))
    d = inst.values["w"].shape[0]
    return orc._ix.array(part, letters, None, inst.values, inst, inst.sizes, {x: d for x in letters})


def _equal(orc: Oracle, part, letters: list[str] | None, truths: list[np.ndarray]) -> bool | None:
    try:
        with np.errstate(all="raise"):
            got = [_value(orc, part, letters, inst) for inst in orc.instances]
    except Undecidable:
        return None
    except Exception:  # noqa: BLE001 - ill-formed (a shape, an index out of range): wrong
        return False
    for g, want in zip(got, truths):
        want = np.diag(want).reshape(-1, 1) if letters is not None and len(letters) == 1 else want
        if np.shape(g) != np.shape(want) or not np.allclose(g, want, rtol=1e-4, atol=1e-5):
            return False
    return True


@pytest.mark.skipif(not PROBLEM.exists(), reason="no devset")
def test_mutants_of_hessian_claims_are_not_accepted():
    orc = Oracle(PROBLEM)
    truths = [_hessian(orc, inst) for inst in orc.instances]
    lines: list[str] = []
    truth: list[bool | None] = []
    for lhs, rhs, letters in LINES:
        part = parse_statement(f"{lhs} = {rhs}").parts[1]
        assert _equal(orc, part, letters, truths) is True, f"the test's own right side is wrong: {rhs}"
        lines.append(f"{lhs} = {rhs}")
        truth.append(True)
        swapped = lhs.replace("w_j", "w_@").replace("w_k", "w_j").replace("w_@", "w_k")
        for kind, _tree, latex in dedupe(all_mutants(part, orc), unparse(part)):
            reparsed = parse_statement(f"{lhs} = {latex}")
            same = False if reparsed.error else _equal(orc, reparsed.parts[1], letters, truths)
            lines.append(f"{lhs} = {latex}")
            truth.append(same)
            if letters == ["j", "k"] and kind.startswith("index"):  # the left side's indices swapped
                lines.append(f"{swapped} = {latex}")
                mirrored = None if same is None else _equal(orc, reparsed.parts[1], ["k", "j"], truths)
                truth.append(False if reparsed.error else mirrored)
    doc = read_document(str(PROBLEM))
    doc = dataclasses.replace(doc, front_matter={**doc.front_matter, "layout": "denominator"})
    results, crashes = check_lines_robust(doc, lines)
    assert not crashes, {lines[i - 1]: repr(e) for i, e in crashes.items()}
    bad, right_rejected = [], []
    for i, (latex, same) in enumerate(zip(lines, truth), 1):
        claims = [c for c in results.get(i, []) if not c.side]
        verdict = claims[0].verdict if claims else None
        if same is False and verdict == "correct":
            bad.append(latex)
        if same is True and verdict != "correct" and latex in {f"{a} = {b}" for a, b, _ in LINES}:
            right_rejected.append(latex)
    wrong = sum(1 for x in truth if x is False)
    print(f"{len(lines)} Hessian lines, {wrong} wrong, {len(bad)} accepted")
    assert wrong >= 60
    assert not right_rejected, right_rejected
    assert not bad, "wrong Hessian mutants reported correct:\n" + "\n".join(bad)
