"""The golden test: the real student's sheet gets the verdicts a careful TA would give."""
from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict

import pytest

from symderiv.cli import main

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROBLEM = os.path.join(ROOT, "derivations", "gated-unit", "problem.md")
SHEET = os.path.join(ROOT, "derivations", "gated-unit", "seed-answers.md")
SHARED_SEED = os.path.join(ROOT, "..", "shared", "seeds", "csc413-2.3-handwritten-answers.md")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed") / "report.json"
    code = main(["check", PROBLEM, SHEET, "--format", "json", "-o", str(out)])
    assert code == 1  # the sheet has mistakes
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def by_line(report):
    lines = defaultdict(list)
    for c in report["claims"]:
        lines[c["line"]].append(c)
    return lines


def steps(claim):
    return [(s["verdict"], s["reason"]) for s in claim["steps"]]


def main_claim(by_line, line):
    return next(c for c in by_line[line] if not c["side"])


#: SHA-256 of the real student's sheet (../shared/seeds/csc413-2.3-handwritten-answers.md)
SEED_SHA256 = "58413d07603d539d5db04c7409a1f8a8892be81242b082d930829bceeb528737"


def test_shipped_copy_is_the_real_seed():
    """The copy is the real sheet, byte for byte: by its recorded hash, and against the
    shared original when that is beside this checkout."""
    with open(SHEET, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == SEED_SHA256
    if os.path.exists(SHARED_SEED):
        with open(SHARED_SEED, "rb") as a, open(SHEET, "rb") as b:
            assert a.read() == b.read()


def test_every_math_line_gets_a_verdict(by_line):
    with open(SHEET, encoding="utf-8") as f:
        math_lines = [i for i, line in enumerate(f, 1) if line.lstrip("- ").startswith("$$")]
    assert len(math_lines) == 13
    for line in math_lines:
        assert by_line[line], f"line {line} has no claim"


def test_declarations(by_line):
    decl = {c["target"]: c for c in by_line[16]}
    assert set(decl) == {"W", "U", "v", "r"}
    assert decl["W"]["verdict"] == "incorrect" and steps(decl["W"]) == [("incorrect", "shape")]
    assert "c×a" in decl["W"]["steps"][0]["message"]
    for name in "Uvr":
        assert decl[name]["verdict"] == "correct"
    # inline declarations in the prose (lines 10-14) are all right
    for line in range(10, 15):
        assert by_line[line] and all(c["verdict"] == "correct" for c in by_line[line])


def test_loss_adjoint(by_line):
    assert steps(main_claim(by_line, 20)) == [("correct", None)]


def test_y_bar_sign_error(by_line):
    c = main_claim(by_line, 22)
    assert c["target"] == "y" and c["verdict"] == "incorrect"
    assert steps(c) == [("correct", None), ("incorrect", "sign")]
    cex = c["steps"][1]["counterexample"]
    assert cex["expected"] == [[-v for v in row] for row in cex["got"]]


@pytest.mark.parametrize("line,target,n_expanded", [(24, "z_y", 2), (26, "h", 1), (28, "v", 1), (30, "r", 1)])
def test_leibniz_right_expanded_carried_forward(by_line, line, target, n_expanded):
    c = main_claim(by_line, line)
    assert c["target"] == target
    assert steps(c) == [("correct", None)] + [("incorrect", "carried-forward")] * n_expanded
    assert "line 22" in c["steps"][1]["message"]


def test_side_identity_sigma_prime(by_line):
    side = [c for c in by_line[26] if c["side"]]
    assert len(side) == 1 and side[0]["kind"] == "identity" and side[0]["verdict"] == "correct"


@pytest.mark.parametrize("line,target,first", [(32, "z", "correct"), (36, "\\eta", "correct"),
                                               (38, "U", "correct"), (40, "W", "correct")])
def test_odot_diag_steps_are_shape_errors(by_line, line, target, first):
    c = main_claim(by_line, line)
    assert c["target"] == target
    assert [s["verdict"] for s in c["steps"]] == [first, "invalid"]
    bad = c["steps"][1]
    assert bad["reason"] == "shape" and bad["column"] > 1
    assert "diag" in bad["message"] or "do not fit" in bad["message"]


def test_did_you_mean_for_odot_diag(by_line):
    hint = main_claim(by_line, 40)["steps"][1].get("hint") or ""
    assert hint.startswith("did you mean") and "\\odot s" in hint and "carried forward" in hint


def test_s_bar_wrong_adjoint(by_line):
    c = main_claim(by_line, 34)
    assert steps(c)[0] == ("incorrect", "wrong-adjoint")
    assert "\\bar{z}" in c["steps"][0]["message"]
    assert c["steps"][1]["verdict"] == "invalid"


def test_x_bar_pairs_r_bar_with_z_y(by_line):
    c = main_claim(by_line, 42)
    assert c["verdict"] != "correct"
    assert steps(c)[0] == ("incorrect", "wrong-adjoint")
    assert "\\bar{r}" in c["steps"][0]["message"]


def test_side_identity_with_ill_shaped_part(by_line):
    side = [c for c in by_line[32] if c["side"]]
    assert len(side) == 1
    assert [s["verdict"] for s in side[0]["steps"]] == ["correct", "invalid"]


def test_summary_counts_match_claims(report):
    counts = defaultdict(int)
    for c in report["claims"]:
        counts[c["verdict"]] += 1
    assert report["summary"] == {k: counts[k] for k in ("correct", "incorrect", "invalid")}
