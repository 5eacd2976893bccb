"""Premises (SPEC 1): read from a problem, satisfied by every sampled instance, errors that
name their line, the `premise` diagnosis, and inverses kept well conditioned (SPEC 2)."""
from __future__ import annotations

import numpy as np
import pytest

from symderiv.errors import ModelError
from symderiv.read.document import read_text
from symderiv.verify.check import Checker, check_documents
from symderiv.verify.sampling import Sampler


def model_of(problem: str):
    checker = Checker()
    checker.build(read_text(problem, "problem.md"))
    return checker.model


def claims(problem: str, answers: str):
    docs = [read_text(problem, "problem.md"), read_text(answers, "answers.md")]
    return [c for c in check_documents(docs).claims if c.listed]


QUAD = r"""
$$v \in \mathbb{R}^{m}$$
$$W \in \mathbb{R}^{n \times m}$$
$$C \in \mathbb{R}^{n \times n}$$
{premise}
$$u \in \mathbb{R}^{n}$$

$$x = W v$$
$$f = x^\top C x + u^\top x$$
"""


@pytest.mark.parametrize("text, kind, name", [
    (r"C^\top = C", "symmetric", "C"),
    (r"C = C^T", "symmetric", "C"),
    (r"C \succ 0", "posdef", "C"),
    (r"v > 0", "positive", "v"),
    (r"m \geq n", "size", "m"),
    (r"n \leq m", "size", "m"),
    (r"m > n", "size", "m"),
])
def test_premises_are_read(text, kind, name):
    premises = model_of(QUAD.replace("{premise}", f"$${text}$$")).premises
    assert [(p.kind, p.name) for p in premises] == [(kind, name)]


BATCH = r"""
$$T \in \mathbb{R}^{N \times c}$$
$$S \in \{0,1\}^{N \times c}$$
$$Q \in \mathbb{R}^{m \times k}$$
$$t \in \mathbb{R}^{c}$$
$$\epsilon \in \mathbb{R}$$
$$T\mathbf{1} = \mathbf{1}$$
$$\mathbf{1}^\top S = \mathbf{1}^\top$$
$$Q^\top Q = I$$
$$\mathbf{1}^\top t = 1$$
$$\epsilon > 0$$
$$\mathcal{L} = \mathbf{1}^\top T \mathbf{1} + \mathbf{1}^\top S \mathbf{1} + \mathbf{1}^\top Q \mathbf{1} + \mathbf{1}^\top t + \epsilon$$
"""


@pytest.mark.parametrize("seed", range(3))
def test_the_sampler_satisfies_every_premise(seed):
    model = model_of(BATCH)
    kinds = {(p.kind, p.name) for p in model.premises}
    assert {("rows1", "T"), ("cols1", "S"), ("orthonormal-cols", "Q"), ("sum1", "t"), ("positive", "\\epsilon"),
            ("size", "m")} <= kinds
    envs = Sampler(model, seed).envs
    assert len(envs) >= 8
    for env in envs:
        v = env.values
        assert np.allclose(v["T"].sum(axis=1), 1) and np.all(v["T"] > 0)
        assert np.allclose(v["S"].sum(axis=0), 1) and set(np.unique(v["S"])) <= {0.0, 1.0}
        assert np.allclose(v["Q"].T @ v["Q"], np.eye(v["Q"].shape[1]))
        assert env.dims["m"] >= env.dims["k"]
        assert np.isclose(v["t"].sum(), 1)
        assert v["\\epsilon"][0, 0] > 0


@pytest.mark.parametrize("seed", range(3))
def test_symmetric_and_positive_definite_instances(seed):
    for premise, check in ((r"C^\top = C", lambda c: np.allclose(c, c.T)),
                           (r"C \succ 0", lambda c: np.allclose(c, c.T) and np.linalg.eigvalsh(c).min() > 0)):
        for env in Sampler(model_of(QUAD.replace("{premise}", f"$${premise}$$")), seed).envs:
            assert check(env.values["C"])


@pytest.mark.parametrize("seed", range(3))
def test_size_premises_hold_at_every_drawn_size(seed):
    for premise, ok in ((r"m \geq n", lambda d: d["m"] >= d["n"]), (r"m > n", lambda d: d["m"] > d["n"]),
                        (r"n \geq 3", lambda d: d["n"] >= 3)):
        envs = Sampler(model_of(QUAD.replace("{premise}", f"$${premise}$$")), seed).envs
        assert envs and all(ok(e.dims) for e in envs)
        assert any(len(set(e.dims.values())) == len(e.dims) and min(e.dims.values()) >= 2 for e in envs)


@pytest.mark.parametrize("premises, line", [
    ([r"m > n", r"n > m"], 6),          # together they cannot hold: the error names a line
    ([r"m > m"], 5),
])
def test_a_premise_the_sampler_cannot_satisfy_names_its_line(premises, line):
    text = QUAD.replace("{premise}", "\n".join(f"$${p}$$" for p in premises))
    with pytest.raises(ModelError) as err:
        Sampler(model_of(text))
    assert err.value.span is not None and err.value.span.line in (5, line)
    assert "premise" in err.value.message


@pytest.mark.parametrize("premise", [r"W^\top = W", r"W \succ 0"])
def test_a_premise_that_cannot_hold_for_its_shape_names_its_line(premise):
    with pytest.raises(ModelError) as err:
        model_of(QUAD.replace("{premise}", f"$${premise}$$"))
    assert err.value.span.line == 5 and "not square" in err.value.message


def test_a_premise_about_an_unknown_symbol_is_an_error():
    with pytest.raises(ModelError) as err:
        model_of(QUAD.replace("{premise}", r"$$K^\top = K$$"))
    assert err.value.span.line == 5 and "K" in err.value.message


LSQ = r"""
$$X \in \mathbb{R}^{m \times n}$$
{premise}
$$y \in \mathbb{R}^{m}$$
$$c \in \mathbb{R}^{n}$$

$$A = X^\top X$$
$$w = A^{-1} X^\top y$$
$$\mathcal{L} = c^\top w$$
"""


@pytest.mark.parametrize("premise", ["", r"$$m \geq n$$"])
@pytest.mark.parametrize("seed", range(3))
def test_sizes_under_which_an_inverse_is_always_singular_are_skipped(premise, seed):
    envs = Sampler(model_of(LSQ.replace("{premise}", premise)), seed).envs
    assert len(envs) >= 8
    for env in envs:
        assert env.dims["m"] >= env.dims["n"]
        a = env.values["A"]
        assert np.linalg.cond(a) < 1e6


def test_when_every_size_makes_an_inverse_singular_the_error_names_the_matrix():
    with pytest.raises(ModelError) as err:
        Sampler(model_of(LSQ.replace("{premise}", r"$$n > m$$")))
    assert "singular" in err.value.message and "A" in err.value.message
    assert err.value.span.line == 8  # the definition that inverts it


def test_right_lines_under_a_tall_design_matrix_are_accepted():
    problem = LSQ.replace("{premise}", r"$$m \geq n$$")
    lines = [r"\bar{w} = c", r"\bar{y} = X A^{-1} c", r"\bar{y} = X (X^\top X)^{-1} c",
             r"\bar{A} = -A^{-1} c w^\top", r"\bar{X} = (y - X w) c^\top A^{-1} - X A^{-1} c w^\top"]
    got = claims(problem, "\n".join(f"$${x}$$" for x in lines))
    assert [c.verdict for c in got] == ["correct"] * len(lines)


def test_a_right_line_under_a_stated_premise_is_correct_and_its_mutants_are_not():
    problem = QUAD.replace("{premise}", r"$$C^\top = C$$")
    right = [r"\bar{x} = 2 C x + u", r"\bar{x} = 2 C^\top x + u", r"\bar{x} = (C + C^\top) x + u",
             r"\bar{v} = 2 W^\top C W v + W^\top u", r"\bar{C} = x x^\top"]
    wrong = [r"\bar{x} = C x + u", r"\bar{x} = 2 C x - u", r"\bar{x} = -2 C x + u", r"\bar{v} = 2 W C x + W^\top u",
             r"\bar{v} = 2 W^\top C x", r"\bar{C} = 2 x x^\top", r"\bar{C} = x^\top x", r"\bar{x} = 4 C x + u",
             r"\bar{v} = W^\top (2 C x + u) v^\top v"]
    got = claims(problem, "\n".join(f"$${x}$$" for x in right + wrong))
    assert [c.verdict for c in got[:len(right)]] == ["correct"] * len(right)
    assert all(c.verdict != "correct" for c in got[len(right):])


@pytest.mark.parametrize("line", [r"\bar{x} = 2 C x + u", r"\bar{x} = 2 C^\top x + u",
                                  r"\bar{v} = W^\top (2 C x + u)"])
def test_the_premise_diagnosis_names_the_unstated_premise(line):
    [c] = claims(QUAD.replace("{premise}", ""), f"$${line}$$")
    assert c.verdict == "incorrect"
    assert (c.steps[0].reason, c.steps[0].message) == (
        "premise", "right if `C^\\top = C`, which the problem does not state")


SOFTMAX = r"""
$$x \in \mathbb{R}^{n}$$
$$W \in \mathbb{R}^{c \times n}$$
$$t \in \mathbb{R}^{c}$$
{premise}
$$z = W x$$
$$p = \operatorname{softmax}(z)$$
$$\mathcal{L} = -t^\top \log p$$
"""


def test_a_probability_premise_makes_p_minus_t_right_and_its_absence_is_diagnosed():
    [right] = claims(SOFTMAX.replace("{premise}", r"$$\mathbf{1}^\top t = 1$$"), r"$$\bar{z} = p - t$$")
    assert right.verdict == "correct"
    [c] = claims(SOFTMAX.replace("{premise}", ""), r"$$\bar{z} = p - t$$")
    assert (c.verdict, c.steps[0].reason) == ("incorrect", "premise")
    assert c.steps[0].message == "right if `\\mathbf{1}^\\top t = 1`, which the problem does not state"


def test_an_inequality_on_an_answer_sheet_is_invalid_not_a_claim():
    [c] = claims(QUAD.replace("{premise}", ""), r"$$m \geq n$$")
    assert c.verdict == "invalid" and "premise" in c.steps[0].message
