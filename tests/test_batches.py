"""Batches (SPEC 1, 3.1): sizes as values, softmax of a matrix along the batch axis, the one
broadcasting rule `XW + b`, a matrix divided by a broadcast row; each rule checked against
finite differences or numpy, and mutants of right lines rejected."""
from __future__ import annotations

import finite_differences
import numpy as np
import pytest

from symderiv.derive.adjoints import derive
from symderiv.errors import ModelError
from symderiv.model import ops as o
from symderiv.read.document import read_text
from symderiv.report.latex import derivation_latex
from symderiv.verify.check import Checker, check_documents
from symderiv.verify.numeric import Env, evaluate
from symderiv.verify.sampling import Sampler


def model_of(problem: str):
    checker = Checker()
    checker.build(read_text(problem, "problem.md"))
    return checker.model


def verdicts(problem: str, lines: list[str]) -> list[str]:
    docs = [read_text(problem, "problem.md"), read_text("\n".join(f"$${x}$$" for x in lines), "answers.md")]
    return [c.verdict for c in check_documents(docs).claims if c.listed]


BATCH = r"""---
batch: {batch}
---
$$X \in \mathbb{R}^{N \times d}$$
$$T \in \mathbb{R}^{N \times c}$$
$$T\mathbf{1} = \mathbf{1}$$
$$W \in \mathbb{R}^{d \times c}$$
$$b \in \mathbb{R}^{c}$$

$$Z = X W + b$$
$$Y = \operatorname{softmax}(Z)$$
$$\mathcal{L} = -\frac{1}{N}\mathbf{1}^\top (T \odot \log Y) \mathbf{1}$$
"""
ROWS = BATCH.replace("{batch}", "rows")


@pytest.mark.parametrize("batch", ["rows", "columns"])
def test_batch_softmax_and_broadcast_adjoints_match_finite_differences(batch):
    problem = BATCH.replace("{batch}", batch)
    if batch == "columns":  # examples as columns: Z = W^T X + b 1^T is not written; use the row model's shapes
        problem = problem.replace(r"$$Z = X W + b$$", r"$$Z = X W$$")
    model = model_of(problem)
    adj = derive(model)
    for env in Sampler(model, 3).envs[-4:]:
        y = env.values["Y"]
        axis = 1 if batch == "rows" else 0
        assert np.allclose(y.sum(axis=axis), 1)
        for name in model.inputs:
            got = evaluate(adj.local[name], _with_bars(model, adj, env))
            fd = finite_differences.gradient(model, env, name)
            assert np.allclose(got, fd, atol=1e-6), (batch, name)


def _with_bars(model, adj, env: Env) -> Env:
    e = Env(env.dims, env.values, {})
    for n in model.backward_order():
        e.bars[n] = np.ones((1, 1)) if n == model.loss else evaluate(adj.local[n], e)
    return e


def test_a_size_is_a_value():
    model = model_of(ROWS)
    env = Sampler(model, 0).envs[-1]
    assert evaluate(o.size_value("N"), env)[0, 0] == env.dims["N"]


RIGHT = [
    r"\bar{Y} = -\frac{1}{N} T \oslash Y",
    r"\bar{Z} = Y \odot \left(\bar{Y} - (\bar{Y} \odot Y)\mathbf{1}\mathbf{1}^\top\right)",
    r"\bar{Z} = \frac{1}{N}(Y - T)",
    r"\bar{Z} = \frac{Y - T}{N}",
    r"\bar{W} = \frac{1}{N} X^\top (Y - T)",
    r"\bar{b} = \bar{Z}^\top \mathbf{1}",
    r"\bar{b} = \frac{1}{N}(Y - T)^\top \mathbf{1}",
    r"\bar{X} = \bar{Z} W^\top",
    r"\mathcal{L} = -\frac{1}{N}\operatorname{tr}(T^\top \log Y)",
]
WRONG = [
    r"\bar{Z} = Y - T",                                   # the 1/N dropped
    r"\bar{Z} = \frac{1}{d}(Y - T)",                      # another size
    r"\bar{Z} = \frac{1}{N}(T - Y)",                      # sign
    r"\bar{Z} = Y \odot \left(\bar{Y} - \mathbf{1}\mathbf{1}^\top(\bar{Y} \odot Y)\right)",  # columns, not rows
    r"\bar{b} = \bar{Z} \mathbf{1}",                      # sums the wrong axis (shape)
    r"\bar{b} = \frac{1}{N}(Y - T)^\top \mathbf{1} \cdot 2",
    r"\bar{W} = \frac{1}{N} X^\top (Y - T)^\top",
    r"\bar{W} = \frac{1}{N} (Y - T)^\top X",
    r"\bar{X} = \bar{Z}^\top W",
    r"\mathcal{L} = -\operatorname{tr}(T^\top \log Y)",
    r"\bar{Z} = \sqrt{N}(Y - T)",
]


def test_right_batch_lines_are_correct():
    assert verdicts(ROWS, RIGHT) == ["correct"] * len(RIGHT)


def test_wrong_batch_lines_are_not():
    got = verdicts(ROWS, WRONG)
    assert len(got) == len(WRONG) and "correct" not in got, list(zip(WRONG, got))


def test_only_a_vector_as_long_as_a_row_broadcasts():
    # a vector as long as a column, a vector beside a product or in a Hadamard product: shape errors
    bad = verdicts(ROWS, [r"\bar{Z} = \frac{1}{N}(Y - T) + T\mathbf{1}", r"\bar{W} = X^\top \bar{Z} \odot b",
                          r"\bar{Z} = \frac{1}{N}(Y - T) + \bar{b}"])
    assert bad == ["invalid", "invalid", "incorrect"]  # the last broadcasts (as long as a row), and is wrong


def test_a_matrix_divided_by_a_broadcast_row():
    problem = r"""
$$X \in \mathbb{R}^{N \times d}$$
$$s \in \mathbb{R}_{+}^{d}$$
$$V \in \mathbb{R}^{N \times d}$$
$$Y = \frac{X}{s}$$
$$\mathcal{L} = \mathbf{1}^\top (V \odot Y) \mathbf{1}$$
"""
    model = model_of(problem)
    env = Sampler(model, 1).envs[-1]
    assert np.allclose(env.values["Y"], env.values["X"] / env.values["s"].T)
    assert verdicts(problem, [r"\bar{X} = V \oslash (\mathbf{1} s^\top)", r"\bar{X} = V \oslash (s \mathbf{1}^\top)"]) \
        == ["correct", "invalid"]


def test_the_batch_front_matter_must_be_rows_or_columns():
    with pytest.raises(ModelError):
        model_of(BATCH.replace("{batch}", "diagonal"))


@pytest.mark.parametrize("expanded", [False, True])
def test_latex_output_of_a_batch_problem_checks_as_correct(expanded):
    text = derivation_latex(derive(model_of(ROWS)), expanded=expanded)
    assert "\\frac{1}{N}" in text or "N" in text
    got = verdicts(ROWS, [ln.strip().rstrip("\\").replace("&", "") for ln in text.splitlines()
                          if ln.strip().startswith("\\bar")])
    assert got and set(got) == {"correct"}
