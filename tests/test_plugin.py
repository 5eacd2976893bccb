"""The pytest plugin (derivation Markdown files as tests) and `symderiv.testing.assert_adjoint`."""
from __future__ import annotations

from pathlib import Path

import pytest

from symderiv.testing import assert_adjoint, check_adjoint

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
GATED = ROOT / "derivations" / "gated-unit" / "problem.md"

PROBLEM = r"""# A linear map and a squared norm

$$x \in \mathbb{R}^{n}, \quad W \in \mathbb{R}^{m \times n}$$

$$z = W x$$
$$\mathcal{L} = \frac{1}{2}\|z\|^2$$
"""

ANSWERS = r"""---
problem: problem.md
---
# Answers

$$\bar{z} = z$$
$$\bar{W} = -z x^\top$$
$$\bar{x} = W^\top \bar{z} = W^\top z$$
$$W \in \mathbb{R}^{n \times m}$$
$$z^\top z = \|z\|^2$$
"""
# lines:        6: \bar{z} ok, 7: \bar{W} sign, 8: \bar{x} ok, 9: W wrong shape, 10: identity ok

README = "# Notes\n\nThese are notes about the course; no maths here.\n"
EXAMPLE = "# How to write answers\n\nWrite adjoints like this:\n\n$$\\bar{W} = \\bar{z} x^\\top$$\n"


@pytest.fixture(scope="module", autouse=True)
def _import_everything_first() -> None:
    """`runpytest()` runs in this process and afterwards drops the modules first imported
    during the run; symderiv imports lazily, so import (and use) all of it before, or later
    tests would meet second copies of its classes."""
    from symderiv.load import load_documents
    from symderiv.report.answers import expected
    from symderiv.report.text import plain_claim
    from symderiv.scoring import check_scored

    docs = load_documents([str(GATED), str(GATED.parent / "seed-answers.md")])
    report = check_scored(docs)
    assert all(plain_claim(c, True) for c in report.claims)
    assert any(expected(c, s) for c in report.claims for s in c.steps)


@pytest.fixture
def sheet(pytester: pytest.Pytester) -> pytest.Pytester:
    (pytester.path / "problem.md").write_text(PROBLEM, encoding="utf-8")
    (pytester.path / "answers.md").write_text(ANSWERS, encoding="utf-8")
    (pytester.path / "README.md").write_text(README, encoding="utf-8")
    (pytester.path / "HOWTO.md").write_text(EXAMPLE, encoding="utf-8")
    return pytester


# ---- collection ------------------------------------------------------------------------

def test_explicit_file_one_item_per_claim(sheet: pytest.Pytester) -> None:
    result = sheet.runpytest("answers.md")
    result.assert_outcomes(passed=3, failed=2)


def test_item_names_and_real_lines(sheet: pytest.Pytester) -> None:
    items, _ = sheet.inline_genitems("answers.md")
    assert [i.name for i in items] == ["\\bar{z}@6", "\\bar{W}@7", "\\bar{x}@8", "W@9", "identity@10"]
    assert all(i.nodeid == f"answers.md::{i.name}" for i in items)
    assert [i.reportinfo()[1] + 1 for i in items] == [6, 7, 8, 9, 10]
    assert [i.location[1] + 1 for i in items] == [6, 7, 8, 9, 10]
    assert all(i.get_closest_marker("symderiv") for i in items)


def test_explicit_directory(sheet: pytest.Pytester) -> None:
    """The problem (no claims), a README without math and one with only an example yield nothing."""
    sub = sheet.path / "hw1"
    sub.mkdir()
    for name in ("problem.md", "answers.md", "README.md", "HOWTO.md"):
        (sheet.path / name).rename(sub / name)
    result = sheet.runpytest("hw1")
    result.assert_outcomes(passed=3, failed=2)
    result = sheet.runpytest("hw1/problem.md", "hw1/README.md", "hw1/HOWTO.md")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_bare_pytest_collects_no_markdown(sheet: pytest.Pytester) -> None:
    sheet.makepyfile(test_unit="def test_one():\n    pass\n")
    result = sheet.runpytest()
    result.assert_outcomes(passed=1)


def test_testpaths_collect_no_markdown(sheet: pytest.Pytester) -> None:
    tests = sheet.mkdir("tests")
    (tests / "answers.md").write_text(ANSWERS.replace("problem.md", "../problem.md"), encoding="utf-8")
    (tests / "test_unit.py").write_text("def test_one():\n    pass\n", encoding="utf-8")
    sheet.makeini("[pytest]\ntestpaths = tests\n")
    sheet.runpytest().assert_outcomes(passed=1)


def test_ini_patterns_collect_everywhere(sheet: pytest.Pytester) -> None:
    sheet.makeini("[pytest]\nsymderiv_files = answers*.md\n")
    sheet.runpytest().assert_outcomes(passed=3, failed=2)
    sheet.makeini("[pytest]\nsymderiv_files = other*.md\n")
    result = sheet.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_ini_patterns_in_pyproject(sheet: pytest.Pytester) -> None:
    sheet.makepyprojecttoml('[tool.pytest.ini_options]\nsymderiv_files = ["other.md", "answ*.md"]\n')
    sheet.runpytest().assert_outcomes(passed=3, failed=2)


def test_select_one_claim_by_node_id(sheet: pytest.Pytester) -> None:
    result = sheet.runpytest("answers.md::\\bar{W}@7")
    result.assert_outcomes(failed=1)


def test_ini_patterns_with_a_directory(sheet: pytest.Pytester) -> None:
    hw = sheet.mkdir("hw")
    (sheet.path / "answers.md").rename(hw / "answers.md")
    (hw / "answers.md").write_text(ANSWERS.replace("problem.md", "../problem.md"), encoding="utf-8")
    sheet.makeini("[pytest]\nsymderiv_files = hw/*.md\n")
    sheet.runpytest().assert_outcomes(passed=3, failed=2)


def test_problem_and_claims_in_one_file(pytester: pytest.Pytester) -> None:
    body = PROBLEM + "\n## Answers\n\n$$\\bar{W} = \\bar{z} x^\\top$$\n$$\\bar{x} = W z$$\n"
    (pytester.path / "hw.md").write_text(body, encoding="utf-8")
    result = pytester.runpytest("hw.md", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*hw.md::\\bar{W}@10 PASSED*", "*hw.md::\\bar{x}@11 FAILED*"])


def test_same_name_on_one_line_gets_the_column(pytester: pytest.Pytester) -> None:
    body = PROBLEM + "\n$$z^\\top z = \\|z\\|^2 \\quad z = W x$$\n"
    (pytester.path / "hw.md").write_text(body, encoding="utf-8")
    items, _ = pytester.inline_genitems("hw.md")
    names = [i.name for i in items]
    assert names[0] == "identity@8" and len(set(names)) == len(names)


# ---- failures --------------------------------------------------------------------------

def test_failure_prints_the_report_not_a_traceback(sheet: pytest.Pytester) -> None:
    result = sheet.runpytest("answers.md")
    result.stdout.fnmatch_lines([
        "*_ \\bar{W}@7 _*",
        "answers.md:7 ✗ \\bar{W}",
        "*✗ -z x^\\top",
        "*incorrect (numeric): sign: *",
        "*counterexample at sizes *",
        "FAILED answers.md::\\bar{W}@7 - incorrect: sign*",
        "FAILED answers.md::W@9 - incorrect: shape*",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*.py:[0-9]*")
    result.stdout.no_fnmatch_line("*ClaimNotCorrect*")


def test_show_answer_option(sheet: pytest.Pytester) -> None:
    sheet.makeini("[pytest]\nsymderiv_show_answer = true\n")
    result = sheet.runpytest("answers.md")
    result.stdout.fnmatch_lines(["*answer: *z x^\\top"])


def test_junitxml_message(sheet: pytest.Pytester) -> None:
    result = sheet.runpytest("answers.md", "--junitxml=out.xml")
    result.assert_outcomes(passed=3, failed=2)
    xml = (sheet.path / "out.xml").read_text(encoding="utf-8")
    assert 'message="incorrect: sign' in xml


def test_missing_problem_is_a_clean_collection_error(pytester: pytest.Pytester) -> None:
    (pytester.path / "answers.md").write_text(ANSWERS.replace("problem.md", "nowhere.md"), encoding="utf-8")
    result = pytester.runpytest("answers.md")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*symderiv: *nowhere.md was not found*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_entry_point_in_a_subprocess(sheet: pytest.Pytester) -> None:
    """A fresh interpreter finds the plugin through the `pytest11` entry point alone."""
    result = sheet.runpytest_subprocess("answers.md")
    result.assert_outcomes(passed=3, failed=2)
    result = sheet.runpytest_subprocess("-p", "no:symderiv", "answers.md")
    assert result.ret in (pytest.ExitCode.NO_TESTS_COLLECTED, pytest.ExitCode.USAGE_ERROR)


def test_shipped_answers_with_the_problem(pytester: pytest.Pytester) -> None:
    """The real student's sheet, given with its problem through the ini patterns."""
    hw = pytester.mkdir("hw")
    for name in ("problem.md", "seed-answers.md"):
        (hw / name).write_text((GATED.parent / name).read_text(encoding="utf-8"), encoding="utf-8")
    text = (hw / "seed-answers.md").read_text(encoding="utf-8")
    (hw / "seed-answers.md").write_text("---\nproblem: problem.md\n---\n" + text, encoding="utf-8")
    result = pytester.runpytest("hw")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) > 5 and outcomes.get("failed", 0) > 5
    result.stdout.no_fnmatch_line("*Traceback*")


# ---- assert_adjoint --------------------------------------------------------------------

def test_assert_adjoint_passes() -> None:
    claim = assert_adjoint(GATED, "W", r"\bar{z} x^\top")
    assert claim.verdict == "correct"
    assert_adjoint(str(GATED), "z_y", r"\bar{y} \frac{\partial y}{\partial z_y} = y - t")


def test_assert_adjoint_failure_is_the_report() -> None:
    with pytest.raises(AssertionError) as info:
        assert_adjoint(GATED, "W", r"x \bar{z}^\top")
    text = str(info.value)
    assert text.startswith("<assert_adjoint>:1 ! \\bar{W}")
    assert "shape" in text and "did you mean" in text and "answer: " in text


def test_assert_adjoint_sign() -> None:
    claim, _ = check_adjoint(GATED, "y", r"\frac{t - y}{y (1 - y)}")
    assert claim.verdict == "incorrect" and claim.steps[0].reason == "sign"
    with pytest.raises(AssertionError, match="counterexample"):
        assert_adjoint(GATED, "y", r"\frac{t - y}{y (1 - y)}", show_answer=False)


def test_assert_adjoint_on_a_model(gated) -> None:  # type: ignore[no-untyped-def]
    assert_adjoint(gated.model, "U", r"\bar{s} \eta^\top")
    with pytest.raises(AssertionError, match="unknown-symbol"):
        assert_adjoint(gated.model, "Q", "x")


def test_assert_adjoint_in_a_users_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=f"""
        from symderiv.testing import assert_adjoint

        def test_w():
            assert_adjoint({str(GATED)!r}, "W", r"\\bar{{z}} x^\\top")

        def test_w_wrong():
            assert_adjoint({str(GATED)!r}, "W", r"-\\bar{{z}} x^\\top")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: <assert_adjoint>:1 ✗ \\bar{W}*", "*sign*"])
    result.stdout.no_fnmatch_line("*symderiv/testing.py*")


def test_bad_seed_is_a_usage_error(sheet: pytest.Pytester) -> None:
    result = sheet.runpytest("answers.md", "-o", "symderiv_seed=abc")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*symderiv_seed must be a whole number*"])


def test_sheet_of_expected_mistakes_is_xfail(sheet: pytest.Pytester) -> None:
    text = (sheet.path / "answers.md").read_text(encoding="utf-8")
    (sheet.path / "answers.md").write_text(text.replace("---\n", "---\nexpect: mistakes\n", 1), encoding="utf-8")
    result = sheet.runpytest("answers.md")
    result.assert_outcomes(passed=3, xfailed=2)


def test_notebook_items_are_named_by_cell_and_line(sheet: pytest.Pytester) -> None:
    import json
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["---\n", "problem: problem.md\n", "---\n"]},
             {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": ["1 + 1"]},
             {"cell_type": "markdown", "metadata": {}, "source": ["# Answers\n", "$$\\bar{z} = z$$\n",
                                                                   "$$\\bar{W} = -z x^\\top$$"]}]
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    (sheet.path / "answers.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    items, _ = sheet.inline_genitems("answers.ipynb")
    assert [i.name for i in items] == ["\\bar{z}@3:2", "\\bar{W}@3:3"]
    sheet.runpytest("answers.ipynb").assert_outcomes(passed=1, failed=1)


def test_each_sheet_gets_its_score_under_the_problems_policy(sheet: pytest.Pytester) -> None:
    """The same policy as check and grade: W (wrong sign) earns nothing, x earns its point."""
    result = sheet.runpytest("answers.md")
    result.stdout.fnmatch_lines(["*symderiv scores*", "answers.md: 1 / 2 (\\bar{x} 1/1, \\bar{W} 0/1)"])
