"""check's behaviour on small sheets: kinds, verdicts, diagnoses, exit codes, formats."""
from __future__ import annotations

import json

import pytest

from symderiv.cli import main
from symderiv.read.document import read_text
from symderiv.verify.check import check_documents

MLP = r"""
$$x \in \mathbb{R}^{n}$$
$$t \in \mathbb{R}^{p}$$
$$W_1 \in \mathbb{R}^{m \times n}$$
$$W_2 \in \mathbb{R}^{p \times m}$$
$$a = W_1 x$$
$$h = \tanh(a)$$
$$y = W_2 h$$
$$\mathcal{L} = \frac{1}{2}\|y - t\|^2$$
"""


def check(answers: str, problem: str = MLP):
    docs = [read_text(problem, "problem.md"), read_text(answers, "answers.md")]
    return [c for c in check_documents(docs).claims if c.listed]


def one(answers: str, problem: str = MLP):
    claims = check(answers, problem)
    assert len(claims) == 1, claims
    return claims[0]


def verdicts(claim):
    return [(s.verdict, s.reason) for s in claim.steps]


@pytest.mark.parametrize("line", [
    r"\bar{y} = y - t",
    r"\bar{W}_2 = (y - t) h^\top",
    r"\frac{\partial \mathcal{L}}{\partial W_2} = \bar{y} h^T",
    r"\nabla_{W_2} \mathcal{L} = \bar{y} \, h'",
    r"\bar{h} = W_2^\top \bar{y} = \frac{\partial y}{\partial h} \bar{y}",
    r"\bar{a} = \bar{h} \odot (\mathbf{1} - h \odot h) = \operatorname{diag}(1 - h^2) W_2^T (y - t)",
    r"\bar{a} = \bar{h} \frac{\partial h}{\partial a} = \bar{h} \odot \tanh'(a)",
    r"\bar{\mathbf{x}} = W_1^\top \bar{a}",
    r"\bar{t} = t - y",
    r"\bar{\mathcal{L}} = 1",
])
def test_right_answers_are_correct(line):
    c = one(f"$${line}$$")
    assert c.verdict == "correct", verdicts(c)


@pytest.mark.parametrize("line,reason", [
    (r"\bar{y} = t - y", "sign"),
    (r"\bar{y} = 2 (y - t)", "scale"),
    (r"\bar{W}_2 = h (y - t)^\top", "shape"),
    (r"\bar{h} = W_2 \bar{y}", "shape"),
    (r"\bar{a} = \bar{h} \odot (\mathbf{1} - h)", None),
    (r"\bar{W}_1 = \bar{h} x^\top", "wrong-adjoint"),
    (r"\bar{a} = \bar{h} \odot (\mathbf{1} - h \odot h) + \bar{h}", "extra-term"),
])
def test_wrong_answers_are_not_correct(line, reason):
    c = one(f"$${line}$$")
    assert c.verdict != "correct"
    if reason == "shape":
        assert c.steps[0].verdict == "invalid" and c.steps[0].reason == "shape"
    elif reason is not None:
        assert c.steps[0].reason == reason, c.steps[0].message


def test_incorrect_step_has_counterexample_with_distinct_sizes_available():
    c = one(r"$$\bar{W}_2 = \bar{y} h^\top + \bar{y} h^\top$$")
    cex = c.steps[0].counterexample
    assert set(cex) == {"sizes", "values", "expected", "got"}
    assert set(cex["sizes"]) == {"n", "p", "m"}


def test_carried_forward_follows_the_students_own_value():
    claims = check("$$\\bar{y} = t - y$$\n\n$$\\bar{h} = W_2^\\top (t - y)$$\n")
    assert verdicts(claims[1]) == [("incorrect", "carried-forward")]
    assert "line 1" in claims[1].steps[0].message


def test_a_later_right_answer_resets_the_carried_value():
    claims = check("$$\\bar{y} = t - y$$\n\n$$\\bar{y} = y - t$$\n\n$$\\bar{h} = W_2^\\top (t - y)$$\n")
    assert verdicts(claims[2]) == [("incorrect", "sign")]


def test_declaration_claims():
    claims = check("$$W_1 \\in \\mathbb{R}^{n \\times m}, \\quad x \\in \\mathbb{R}^{n}$$")
    assert [(c.target, c.verdict) for c in claims] == [("W_1", "incorrect"), ("x", "correct")]
    assert claims[0].steps[0].reason == "shape"


def test_restated_definition_and_identity():
    claims = check("$$h = \\tanh(W_1 x)$$\n\n$$\\|y - t\\|^2 = (y - t)^\\top (y - t)$$\n\n$$\\tanh'(a) = 1 - h$$")
    assert [(c.kind, c.verdict) for c in claims] == [("definition", "correct"), ("identity", "correct"),
                                                      ("identity", "incorrect")]


def test_abbreviation_is_usable_later():
    claims = check("$$\\delta = W_2^\\top (y - t)$$\n\n$$\\bar{a} = \\delta \\odot (\\mathbf{1} - h \\odot h)$$")
    assert [c.verdict for c in claims] == ["correct"]


def test_parse_error_is_positioned_and_others_still_checked():
    claims = check("$$\\bar{y} = (y - t$$\n\n$$\\bar{y} = y - t$$")
    assert claims[0].verdict == "invalid" and claims[0].steps[0].reason == "parse"
    assert claims[0].steps[0].span.line == 1
    assert claims[1].verdict == "correct"


def test_unknown_symbol_with_suggestion():
    c = one("$$\\bar{W}_2 = \\bar{y} H^\\top$$")
    assert c.steps[0].reason == "unknown-symbol"
    assert c.steps[0].hint and "h" in c.steps[0].hint


def test_huge_exponent_is_refused_not_computed():
    c = one("$$\\bar{y} = (y - t)^{9^{9^{9^9}}}$$")
    assert c.verdict == "invalid" and c.steps[0].reason == "unsupported"


def test_single_expression_is_reported():
    c = one("$$\\bar{y}$$")
    assert c.verdict == "invalid"


def test_transpose_diagnosis_for_non_symmetric_matrix():
    problem = "$$X \\in \\mathbb{R}^{n \\times m}$$\n$$B \\in \\mathbb{R}^{m \\times m}$$\n$$f = \\operatorname{tr}(X B X^\\top)$$"
    step = one("$$\\bar{X} = 2 X B$$", problem).steps[0]
    assert (step.reason, step.message) == ("premise", "right if `B^\\top = B`, which the problem does not state")
    assert one("$$\\bar{X} = X B$$", problem).steps[0].reason == "missing-term"
    assert one("$$\\bar{X} = X (B + B^\\top)$$", problem).verdict == "correct"


# ---- the command line ---------------------------------------------------------------------

@pytest.fixture
def files(tmp_path):
    (tmp_path / "problem.md").write_text(MLP)
    (tmp_path / "good.md").write_text("---\nproblem: problem.md\n---\n$$\\bar{y} = y - t$$\n")
    (tmp_path / "bad.md").write_text("---\nproblem: problem.md\n---\n$$\\bar{y} = t - y$$\n")
    return tmp_path


def test_exit_codes(files, capsys):
    assert main(["check", str(files / "good.md"), "--format", "json"]) == 0
    assert main(["check", str(files / "bad.md"), "--format", "json"]) == 1
    assert main(["check", str(files / "missing.md")]) == 2
    (files / "plain.md").write_text("$$\\bar{y} = y - t$$\n")
    (files / "noloss.md").write_text("$$x \\in \\mathbb{R}^{n}$$\n")
    assert main(["check", str(files / "noloss.md"), str(files / "plain.md")]) == 2
    assert main(["check", str(files / "noloss.md"), str(files / "good.md")]) == 2  # good.md names another
    (files / "vecloss.md").write_text("$$x \\in \\mathbb{R}^{n}$$\n$$y = 2 x$$\n")
    assert main(["check", str(files / "vecloss.md"), str(files / "plain.md")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "scalar" in err


def test_json_schema(files, capsys):
    main(["check", str(files / "bad.md"), "--format", "json"])
    rep = json.loads(capsys.readouterr().out)
    assert set(rep) == {"files", "loss", "claims", "summary", "score"}
    assert set(rep["score"]) >= {"score", "max_score", "targets"}
    assert rep["loss"] == "\\mathcal{L}"
    c = rep["claims"][0]
    assert {"file", "line", "kind", "target", "latex", "verdict", "steps"} <= set(c)
    assert {"latex", "verdict", "reason", "method", "message", "counterexample"} <= set(c["steps"][0])
    assert rep["files"][0].endswith("problem.md")


def test_all_lists_the_model(files, capsys):
    main(["check", str(files / "good.md"), "--format", "json", "--all"])
    rep = json.loads(capsys.readouterr().out)
    kinds = {(c["kind"], c["target"]) for c in rep["claims"]}
    assert ("definition", "a") in kinds and ("declaration", "x") in kinds


def test_gradescope_results(files, capsys):
    main(["check", str(files / "bad.md"), "--format", "gradescope"])
    res = json.loads(capsys.readouterr().out)
    t = res["tests"][0]
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(t)
    assert t["status"] == "failed" and t["score"] == 0


SOFTMAX = r"""
$$x \in \mathbb{R}^{d}, \quad W \in \mathbb{R}^{k \times d}, \quad y \in \{0,1\}^{k}, \quad \mathbf{1}^\top y = 1$$
$$z = W x$$
$$p = \operatorname{softmax}(z)$$
$$\mathcal{L} = -y^\top \log(p)$$
"""


def test_one_hot_constraint_makes_p_minus_y_right():
    assert one("$$\\bar{z} = p - y$$", SOFTMAX).verdict == "correct"
    assert one("$$\\bar{W} = (p - y) x^\\top$$", SOFTMAX).verdict == "correct"
    assert one("$$\\bar{z} = p - 2 y$$", SOFTMAX).verdict == "incorrect"
    assert one("$$\\bar{p} = -y \\oslash p = -\\frac{y}{p}$$", SOFTMAX).verdict == "correct"


def test_without_the_constraint_y_is_any_binary_vector():
    problem = SOFTMAX.replace(r", \quad \mathbf{1}^\top y = 1", "")
    assert one("$$\\bar{z} = p - y$$", problem).verdict == "incorrect"
    assert one("$$\\bar{z} = p \\mathbf{1}^\\top y - y$$", problem).verdict == "correct"
    assert one("$$y \\in \\{0,1\\}^{k}$$", problem).verdict == "correct"
    assert one("$$y \\in \\mathbb{R}^{k}$$", problem).verdict == "incorrect"


def test_sech_and_cosh_spell_tanh_prime():
    assert one(r"$$\bar{a} = \bar{h} \odot \operatorname{sech}^2(a)$$").verdict == "correct"
    assert one(r"$$\bar{a} = \bar{h} \odot \frac{1}{\cosh^2(a)}$$").verdict == "correct"
    assert one(r"$$\bar{a} = \bar{h} \odot \operatorname{sech}(a)$$").verdict == "incorrect"


def test_star_between_vectors_suggests_odot():
    c = one(r"$$\bar{a} = \bar{h} * (1 - h^2)$$")
    assert c.steps[0].reason == "shape"
    assert "\\odot" in c.steps[0].hint and "would then be correct" in c.steps[0].hint


def test_decorated_unknown_name_suggests_its_base():
    c = one(r"$$\bar{y} = \hat{y} - t$$")
    assert c.steps[0].reason == "unknown-symbol" and c.steps[0].hint == "did you mean y?"


@pytest.mark.parametrize("line", [
    r"\bar{W}_1 = \frac{\partial \mathcal{L}}{\partial a} x^\top",
    r"\bar{W}_1 = \frac{\partial \mathcal{L}}{\partial a} \frac{\partial a}{\partial W_1}",
    r"\bar{h}^\top = \frac{\partial \mathcal{L}}{\partial y} \frac{\partial y}{\partial h}",
    r"\bar{h} = \frac{\partial y}{\partial h} \frac{\partial \mathcal{L}}{\partial y}",
    r"\bar{W}_2 = \frac{\partial \mathcal{L}}{\partial y} h^\top",
])
def test_loss_partials_in_products_read_as_gradients(line):
    assert one(f"$${line}$$").verdict == "correct"


def test_a_row_chain_for_a_column_adjoint_is_ill_shaped_in_every_layout():
    c = one(r"$$\bar{h} = \frac{\partial \mathcal{L}}{\partial y} \frac{\partial y}{\partial h}$$")
    assert c.steps[0].verdict == "invalid" and c.steps[0].reason == "shape"
    assert "every layout" in c.steps[0].message and "numerator" in c.steps[0].message


def test_loss_partial_in_a_product_is_still_checked():
    assert one(r"$$\bar{W}_1 = x \frac{\partial \mathcal{L}}{\partial a}^\top$$").verdict != "correct"
    assert one(r"$$\bar{W}_2 = \frac{\partial \mathcal{L}}{\partial h} h^\top$$").verdict != "correct"


HALF = r"""
$$x \in \mathbb{R}^{n}, \quad t \in \mathbb{R}^{p}, \quad W \in \mathbb{R}^{p \times n}$$
$$y = W x$$
$$e = y - t$$
$$\mathcal{L} = \frac12 e^\top e$$
"""


def test_frac_with_unbraced_digits_is_tex():
    assert one(r"$$\bar{e} = e$$", HALF).verdict == "correct"
    assert one(r"$$\bar{e} = 0 e$$", HALF).verdict == "incorrect"
    assert one(r"$$\mathcal{L} = \frac 12 e^\top e$$", HALF).verdict == "correct"


@pytest.mark.parametrize("line", [
    r"\bar{h} = \left(\frac{\partial y}{\partial h}\right)^\top \bar{y}",
    r"\bar{h} = \frac{\partial y}{\partial h}^\top \bar{y}",
    r"\bar{W}_2 = \bar{y}^\top \frac{\partial y}{\partial W_2}",
    r"\bar{a} = \bar{h} \odot e^{0} \odot (1 - h^2)",
])
def test_jacobian_transpose_and_e_power_forms(line):
    assert one(f"$${line}$$").verdict == "correct"


def test_scalar_broadcasts_beside_vectors_not_matrices():
    problem = SOFTMAX.replace(r", \quad \mathbf{1}^\top y = 1", "")
    assert one(r"$$\bar{z} = p \odot (\bar{p} - p^\top \bar{p})$$", problem).verdict == "correct"
    c = one(r"$$\bar{z} = (\operatorname{diag}(p) - p^\top p) \bar{p}$$", problem)
    assert c.verdict == "invalid" and c.steps[0].reason == "shape"


def test_inverse_of_a_non_square_matrix_is_a_shape_error():
    c = one(r"$$\bar{h} = W_2^{-1} \bar{y}$$")
    assert c.steps[0].reason == "shape" and "square" in c.steps[0].message


def test_a_model_that_overflows_everywhere_is_exit_2(tmp_path, capsys):
    (tmp_path / "p.md").write_text("$$x \\in \\mathbb{R}^{n}$$\n$$f = \\exp(\\mathbf{1}^\\top x + 800)$$\n")
    (tmp_path / "a.md").write_text("$$\\bar{x} = \\mathbf{1}$$\n")
    assert main(["check", str(tmp_path / "p.md"), str(tmp_path / "a.md")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "not finite" in err


def test_a_zero_partial_is_right_but_noted():
    c = one(r"$$\bar{W}_1 = \bar{a} \frac{\partial a}{\partial W_1} + \bar{h} \frac{\partial h}{\partial W_1}$$")
    assert c.verdict == "correct"
    assert "is zero: W_1 does not occur in h's equation" in c.steps[0].message


def test_wrong_derivative_is_not_called_a_missing_term():
    problem = r"""
$$x \in \mathbb{R}^{n}, \quad t \in \mathbb{R}^{n}$$
$$u = \sigma(x)$$
$$\mathcal{L} = \frac{1}{2}\|u - t\|^2$$
"""
    c = one(r"$$\bar{x} = \bar{u} \odot u$$", problem)
    assert c.verdict == "incorrect" and c.steps[0].reason != "missing-term"


def test_max_with_zero_is_relu():
    problem = r"""
$$x \in \mathbb{R}^{n}, \quad W \in \mathbb{R}^{n \times n}$$
$$u = W x$$
$$a = \mathrm{ReLU}(u)$$
$$\mathcal{L} = \mathbf{1}^\top a$$
"""
    assert one(r"$$a = \max(u, 0)$$", problem).verdict == "correct"
    assert one(r"$$a = \max(0, u)$$", problem).verdict == "correct"
    assert one(r"$$a = \max(u, 1)$$", problem).verdict == "incorrect"  # elementwise max, not ReLU


def test_outputs_never_overwrite_inputs_and_bad_paths_are_exit_2(files, capsys):
    good = files / "good.md"
    before = good.read_text()
    assert main(["check", str(good), "-o", str(good)]) == 2
    assert main(["check", str(good), "-o", str(files / "problem.md")]) == 2
    assert main(["check", str(good), "-o", str(files)]) == 2
    assert main(["check", str(good), "-o", str(files / "no" / "such" / "dir.json")]) == 2
    assert good.read_text() == before and not list(files.glob("*.tmp*"))
    assert "Traceback" not in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["check", str(good), "--seed", "-5"])
    assert exc.value.code == 2


def test_sheets_naming_different_problems_are_a_usage_error(files, tmp_path):
    (files / "other.md").write_text("$$x \\in \\mathbb{R}^{n}$$\n$$f = \\mathbf{1}^\\top x$$\n")
    (files / "b.md").write_text("---\nproblem: other.md\n---\n$$\\bar{x} = \\mathbf{1}$$\n")
    assert main(["check", str(files / "b.md"), str(files / "good.md")]) == 2
    assert main(["check", str(files / "problem.md"), str(files / "b.md")]) == 2
    assert main(["check", str(files / "b.md"), str(files / "b.md")]) == 0  # the same file once


RELU = r"""
$$u \in \mathbb{R}^{n}, \quad v \in \mathbb{R}^{n}, \quad \beta \in \mathbb{R}, \quad \tau \in \mathbb{R}$$
$$a = \mathrm{ReLU}(u)$$
$$s = \frac{\beta}{\tau}$$
$$\mathcal{L} = v^\top a + \frac{1}{2} s^2$$
"""


@pytest.mark.parametrize("line", [
    r"\bar{u} = v \odot \mathbb{1}[a \geq 0]",       # a >= 0 everywhere: not the ReLU mask
    r"\bar{u} = v \odot \mathbb{1}[0 \leq a]",
    r"\bar{\beta} = \frac{s}{\sqrt{\tau \tau}}",      # |tau| for tau
    r"\bar{\tau} = -\frac{s^2}{\sqrt{\tau^2}}",
    r"\bar{s} = \sqrt{s^2}",                          # |s| for s
    r"\bar{s} = (s^2)^{1/2}",
])
def test_sign_and_boundary_mistakes_are_caught(line):
    assert one(f"$${line}$$", RELU).verdict != "correct"


@pytest.mark.parametrize("line", [
    r"\bar{u} = v \odot \mathbb{1}[a > 0]",
    r"\bar{u} = v \odot \mathbb{1}[u \geq 0]",
    r"\bar{\tau} = -\frac{s^2}{\tau}",
])
def test_their_right_versions_are_accepted(line):
    assert one(f"$${line}$$", RELU).verdict == "correct"


def test_norm_kinds_other_than_2_and_F_are_refused():
    c = one(r"$$\mathcal{L} = v^\top a + \frac{1}{2}\|s\|_1^2$$", RELU)
    assert c.verdict == "invalid" and c.steps[0].reason == "unsupported"


def test_a_positive_claim_for_a_real_symbol_is_wrong():
    assert one(r"$$u \in \mathbb{R}_{+}^{n}$$", RELU).verdict == "incorrect"


MLPRELU = r"""
$$x \in \mathbb{R}^{n}, \quad t \in \mathbb{R}^{p}, \quad W_1 \in \mathbb{R}^{m \times n}, \quad W_2 \in \mathbb{R}^{p \times m}$$
$$u = W_1 x$$
$$h = \mathrm{ReLU}(u)$$
$$y = W_2 h$$
$$\mathcal{L} = \frac{1}{2}\|y - t\|^2$$
"""


@pytest.mark.parametrize("threshold", ["0.2", "0.05", "0.01", "-0.01"])
def test_a_mask_with_a_wrong_threshold_is_caught(threshold):
    c = one(f"$$\\bar{{u}} = \\bar{{h}} \\odot \\mathbb{{1}}[u > {threshold}]$$", MLPRELU)
    assert c.verdict == "incorrect"
    assert c.steps[0].reason != "transpose"  # no square matrix here to be symmetric


def test_right_mask_still_right():
    assert one(r"$$\bar{u} = \bar{h} \odot \mathbb{1}[u > 0]$$", MLPRELU).verdict == "correct"


def test_inverse_function_notation_is_refused():
    c = one(r"$$\tanh^{-1}(u) = \frac{1}{\tanh(u)}$$", MLPRELU)
    assert c.verdict == "invalid" and c.steps[0].reason == "unsupported"


@pytest.mark.parametrize("threshold", ["0.0000001", "-0.0000001"])
def test_a_mask_threshold_too_close_for_samples_is_caught_symbolically(threshold):
    c = one(f"$$\\bar{{u}} = \\bar{{h}} \\odot \\mathbb{{1}}[u > {threshold}]$$", MLPRELU)
    assert c.verdict == "incorrect" and c.steps[0].method == "symbolic" and "mask" in c.steps[0].message


def test_a_label_threshold_is_fine():
    problem = r"""
$$x \in \mathbb{R}^{n}, \quad w \in \mathbb{R}^{n}, \quad t \in \{0,1\}$$
$$z = w^\top x$$
$$\mathcal{L} = \frac{1}{2}(z - t)^2$$
"""
    assert one(r"$$\bar{z} = z - \mathbb{1}[t > 0.5]$$", problem).verdict == "correct"
