"""The scoring policy (SPEC 4): targets from the problem, scored once from the final answer;
nothing else earns points, so no sheet can game its way past an honest one."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from symderiv import check_files
from symderiv.cli import main
from symderiv.read.document import read_text
from symderiv.scoring import check_scored

ROOT = Path(__file__).resolve().parents[1]
DERIVATIONS = ROOT / "derivations"
GATED = DERIVATIONS / "gated-unit"
PROBLEM_TEXT = (GATED / "problem.md").read_text(encoding="utf-8")

HALF = r"""
$$\bar{z}_y = y - t$$
$$\bar{W} = (y - t) \operatorname{diag}(s) v x^\top$$
$$\bar{v} = (y - t) (z \odot s)$$
$$\bar{r} = (y - t) x$$
"""
TARGETS = ["x", "\\eta", "t", "W", "U", "v", "r"]
GAMING = {
    "tautologies": "\n".join(f"$$\\bar{{{n}}} = \\bar{{{n}}}$$" for n in TARGETS) + "\n$$x = x$$\n$$1 = 1$$\n",
    "duplicates": "$$\\bar{r} = (y - t) x$$\n" * 12,
    "restatements": "$$z = W x$$\n$$s = U \\eta$$\n$$h = z \\odot s$$\n$$y = \\sigma(z_y)$$\n",
    "declarations": "$$x \\in \\mathbb{R}^{a}, \\quad W \\in \\mathbb{R}^{c \\times a}, \\quad "
                    "U \\in \\mathbb{R}^{c \\times b}$$\n",
    "problem-itself": PROBLEM_TEXT,
    "empty": "",
    "partials": "\n".join(f"$$\\bar{{{n}}} = \\frac{{\\partial l}}{{\\partial {n}}}$$" for n in TARGETS) + "\n",
    "abbreviations": "".join(f"$$G_{{{i}}} = \\bar{{{n}}}$$\n$$\\bar{{{n}}} = G_{{{i}}}$$\n"
                             for i, n in enumerate(TARGETS))
                     + "$$P = \\frac{\\partial l}{\\partial W}$$\n$$\\bar{W} = P$$\n",
    "identities": "$$\\sigma'(z_y) = \\sigma(z_y)(1 - \\sigma(z_y)) = y (1 - y)$$\n"
                  "$$z \\odot s = \\operatorname{diag}(z) s$$\n" * 5,
}


def score(sheet: str, problem: str = PROBLEM_TEXT):
    report = check_scored([read_text(problem, "problem.md"), read_text(sheet, "answers.md")])
    return report.score


def test_an_honest_half_sheet_beats_every_gaming_sheet() -> None:
    honest = score(HALF)
    assert honest.score == 3.0 and honest.max_score == 7.0
    for name, text in GAMING.items():
        s = score(text)
        assert s.max_score == 7.0, name  # fixed by the problem, whatever the sheet says
        assert s.score < honest.score, (name, s.score)
    assert score(GAMING["duplicates"]).score == 1.0  # counted once
    assert all(s == 0 for s in score(GAMING["tautologies"]).targets.values())
    assert {i.status for i in score(GAMING["abbreviations"]).items} == {"not explicit"}
    # an abbreviation of another node's adjoint is fine: the local form
    assert score("$$G = \\bar{z}$$\n$$\\bar{W} = G x^\\top$$\n").targets["W"] == 1.0


def test_gaming_lines_still_get_feedback() -> None:
    report = check_scored([read_text(PROBLEM_TEXT, "problem.md"), read_text(GAMING["tautologies"], "a.md")])
    listed = [c for c in report.claims if c.listed and c.file == "a.md"]
    assert len(listed) == 9 and all(c.verdict == "correct" for c in listed)  # true, but worth nothing
    assert {i.status for i in report.score.items} == {"not explicit"}
    assert "not explicit" in report.score.items[0].message


def test_not_answered_and_wrong_final_parts_earn_nothing() -> None:
    s = score("$$\\bar{W} = \\bar{z} x^\\top = -\\bar{z} x^\\top$$\n")
    (w,) = [i for i in s.items if i.name == "W"]
    assert w.status == "incorrect" and w.score == 0
    assert [i.status for i in s.items if i.name == "U"] == ["not answered"]
    # the final answer (the last part of the last claim) is what is scored
    assert score("$$\\bar{W} = -\\bar{z} x^\\top = \\bar{z} x^\\top$$\n").targets["W"] == 1.0
    assert score("$$\\bar{W} = \\bar{z} x^\\top$$\n$$\\bar{W} = -\\bar{z} x^\\top$$\n").targets["W"] == 0.0
    assert score("$$\\bar{W} = -\\bar{z} x^\\top$$\n$$\\bar{W} = (y - t) \\operatorname{diag}(s) v x^\\top$$\n"
                 ).targets["W"] == 1.0


@pytest.mark.parametrize("name", [p.name for p in sorted(DERIVATIONS.iterdir()) if (p / "answers.md").exists()])
def test_a_complete_correct_sheet_gets_exactly_max_score(name: str) -> None:
    report = check_files([str(DERIVATIONS / name / "answers.md")])
    assert report.score.score == report.score.max_score > 0
    problem_only = check_files([str(DERIVATIONS / name / "problem.md"), str(DERIVATIONS / name / "problem.md")])
    assert problem_only.score.score == 0


def test_the_rubric_in_front_matter() -> None:
    problem = "---\nscoring:\n  targets: {W: 2, U: 3, eta: 1}  # asked\n  carried_forward: 0.25\n---\n" + PROBLEM_TEXT
    s = score(HALF, problem)
    assert s.max_score == 6.0 and s.targets == {"W": 2.0, "U": 0.0, "\\eta": 0.0} and s.score == 2.0
    steps = "---\nscoring:\n  targets: [W]\n  steps: 0.5\n---\n" + PROBLEM_TEXT
    s = score(HALF, steps)  # five intermediate nodes besides the loss: l -> y, z_y, h, s, z
    assert s.max_score == 1.0 + 0.5 * 5 and s.score == 1.0 + 0.5  # W and the step z_y
    assert [i.name for i in s.items if i.step] == ["y", "z_y", "h", "s", "z"]


def test_carried_forward_share_of_the_final_answer() -> None:
    problem = "---\nscoring:\n  targets: {W: 2, U: 2}\n  carried_forward: 0.25\n---\n" + PROBLEM_TEXT
    sheet = "$$\\bar{z} = -(y - t) (v \\odot s)$$\n$$\\bar{W} = -(y - t) (v \\odot s) x^\\top$$\n"
    s = score(sheet, problem)
    (w,) = [i for i in s.items if i.name == "W"]
    assert w.status == "carried-forward" and w.score == 0.5


def test_check_json_and_gradescope_use_the_same_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problem = tmp_path / "problem.md"
    problem.write_text("---\nscoring:\n  targets: {W: 2, U: 2, x: 1}\n---\n" + PROBLEM_TEXT)
    sheet = tmp_path / "answers.md"
    sheet.write_text(HALF)
    main(["check", str(problem), str(sheet), "--format", "json"])
    block = json.loads(capsys.readouterr().out)["score"]
    assert block["score"] == 2.0 and block["max_score"] == 5.0 and block["targets"] == {"W": 2.0, "U": 0.0, "x": 0.0}
    main(["check", str(problem), str(sheet), "--format", "gradescope"])
    gs = json.loads(capsys.readouterr().out)
    assert gs["score"] == 2.0 and sum(t["max_score"] for t in gs["tests"]) == 5.0
    assert [t["name"] for t in gs["tests"]] == ["\\bar{W}", "\\bar{U}", "\\bar{x}"]
    w = gs["tests"][0]
    assert w["status"] == "passed" and "line 3" in w["output"] and w["visibility"] == "visible"
    assert gs["tests"][1]["status"] == "failed" and "not answered" in gs["tests"][1]["output"]
    assert "\\bar{r}" in gs["output"]  # an unscored claim still gets feedback


def test_grading_contexts_take_the_problem_from_the_ta(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sheet naming `problem.md` at another path (even an identical copy) is still graded."""
    (tmp_path / "ta").mkdir()
    (tmp_path / "student").mkdir()
    problem = tmp_path / "ta" / "problem.md"
    problem.write_text(PROBLEM_TEXT)
    (tmp_path / "student" / "problem.md").write_text(PROBLEM_TEXT)
    sheet = tmp_path / "student" / "answers.md"
    sheet.write_text("---\nproblem: problem.md\n---\n" + HALF)
    out = tmp_path / "results.json"
    assert main(["check", str(problem), str(sheet), "--format", "gradescope", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["score"] == 3.0
    assert main(["check", str(problem), str(sheet), "--format", "json"]) == 0  # an identical copy
    (tmp_path / "student" / "problem.md").write_text(PROBLEM_TEXT.replace("r^\\top x", "2 r^\\top x"))
    capsys.readouterr()
    assert main(["check", str(problem), str(sheet), "--format", "gradescope", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["score"] == 3.0  # graded against the TA's problem


INDEX_PROBLEM = (DERIVATIONS / "softmax-index-form" / "problem.md").read_text(encoding="utf-8")
INDEX_HALF = r"""
$$\bar{z}_j = p_j \sum_{k} y_k - y_j$$
$$\frac{\partial \mathcal{L}}{\partial W_{ij}} = \bar{z}_i x_j$$
$$\bar{b}_i = \bar{z}_i$$
"""


def test_entrywise_final_answers_score_like_the_adjoint_form() -> None:
    s = score(INDEX_HALF, INDEX_PROBLEM)
    assert (s.targets, s.max_score) == ({"x": 0.0, "W": 1.0, "b": 1.0, "y": 0.0}, 4.0)
    assert score(r"$$\bar{x}_j = \sum_{i=1}^{m} W_{ij} \bar{z}_i$$", INDEX_PROBLEM).targets["x"] == 1.0
    assert score(r"$$\bar{x}_j = \sum_{i=1}^{m} W_{ji} \bar{z}_i$$", INDEX_PROBLEM).targets["x"] == 0.0
    matrix = score(r"$$\bar{W} = \bar{z} x^\top$$", INDEX_PROBLEM).targets["W"]
    assert matrix == score(r"$$\bar{W}_{ij} = \bar{z}_i x_j$$", INDEX_PROBLEM).targets["W"] == 1.0


def test_entrywise_gaming_earns_nothing() -> None:
    honest = score(INDEX_HALF, INDEX_PROBLEM).score
    gaming = {
        "tautologies": r"$$\bar{W}_{ij} = \bar{W}_{ij}$$" "\n" r"$$\bar{x}_j = \bar{x}_j$$" "\n"
                       r"$$\bar{b}_i = (\bar{b})_i$$",
        "abbreviation": "$$G = \\bar{W}$$\n$$\\bar{W}_{ij} = G_{ij}$$\n",
        "partials": r"$$\bar{W}_{ij} = \frac{\partial \mathcal{L}}{\partial W_{ij}}$$" "\n"
                    r"$$\bar{x}_j = \sum_{i} \frac{\partial \mathcal{L}}{\partial z_i} \frac{\partial z_i}{\partial x_j}$$",
        "jacobian entries": r"$$\frac{\partial z_i}{\partial x_j} = W_{ij}$$" "\n"
                            r"$$\frac{\partial z_i}{\partial W_{kj}} = \delta_{ik} x_j$$",
    }
    for name, text in gaming.items():
        s = score(text, INDEX_PROBLEM)
        assert s.score == 0 and s.score < honest, (name, s.targets)


def test_a_jacobian_claim_does_not_replace_a_targets_answer() -> None:
    sheet = INDEX_HALF + r"$$\frac{\partial p_i}{\partial z_j} = p_i(\delta_{ij} - p_j)$$" "\n"
    report = check_scored([read_text(INDEX_PROBLEM, "problem.md"), read_text(sheet, "answers.md")])
    kinds = [c.kind for c in report.claims if c.file == "answers.md" and c.listed]
    assert kinds == ["entrywise", "entrywise", "entrywise", "jacobian"]
    assert report.score.score == 2.0


def test_row_layout_and_transposed_final_answers_score() -> None:
    problem = "---\nlayout: numerator\nscoring:\n  targets: [v, x]\n---\n" + PROBLEM_TEXT
    sheet = ("$$\\frac{\\partial l}{\\partial v} = (y - t) (z \\odot s)^\\top$$\n"
             "$$\\bar{x}^\\top = (y - t) ((v \\odot s)^\\top W + r^\\top)$$\n")
    s = score(sheet, problem)
    assert s.targets == {"v": 1.0, "x": 1.0}
    assert score(sheet.replace("W + r", "W - r"), problem).targets["x"] == 0.0


def test_family_final_answers_score() -> None:
    """A family problem is checked unrolled at several counts: a final answer right at every
    count is explicit there too, and a target's entrywise form scores it."""
    rnn = ROOT / "tests" / "families" / "rnn"
    problem = "---\nscoring:\n  targets: [W, U, V, h_0]\n---\n" + (rnn / "problem.md").read_text(encoding="utf-8")
    lines = [ln for ln in (rnn / "answers.md").read_text(encoding="utf-8").splitlines() if ln.startswith("$$")]
    s = score("\n".join(lines), problem)
    assert s.score == s.max_score == 4.0, s.targets
    assert score(r"$$\bar{W}_{ij} = \sum_{t=1}^{T} (\bar{a}_t)_i (h_{t-1})_j$$", problem).targets["W"] == 1.0
    assert score(r"$$\bar{W} = \bar{W}$$", problem).targets["W"] == 0.0


def test_an_operator_on_the_loss_is_an_adjoint_answer() -> None:
    s = score("$$\\frac{\\partial}{\\partial r} l = (y - t) x$$\n$$\\frac{d}{dW} l = (y - t) \\operatorname{diag}(s) v x^\\top$$\n")
    assert (s.targets["r"], s.targets["W"]) == (1.0, 1.0)
    assert score("$$\\frac{\\partial}{\\partial r} l = (t - y) x$$\n").targets["r"] == 0.0
    row = "---\nlayout: numerator\n---\n" + PROBLEM_TEXT  # a row by a vector in the numerator layout
    assert score("$$\\frac{\\partial}{\\partial r} l = (y - t) x^\\top$$\n", row).targets["r"] == 1.0
    assert score("$$\\frac{\\partial}{\\partial r} l = (y - t) x$$\n", row).targets["r"] == 0.0
