"""Mean and variance in index form, batch norm's `\\sigma^2` as a name, and total derivatives of
entries (SPEC 3.1, 3.3): each rule against finite differences or a hand-computed truth, and the
wrong versions rejected."""
from __future__ import annotations

import finite_differences
import numpy as np
import pytest

from symderiv.derive.adjoints import derive
from symderiv.read.document import read_text
from symderiv.read.lex import tokenize
from symderiv.verify.check import Checker, check_documents
from symderiv.verify.numeric import evaluate
from symderiv.verify.sampling import Sampler

ONE_FEATURE = r"""
$$x \in \mathbb{R}^{N}$$
$$t \in \mathbb{R}^{N}$$
$$\epsilon \in \mathbb{R}$$
$$\epsilon > 0$$

$$\mu = \frac{1}{N}\sum_{i=1}^{N} x_i$$
$$\sigma^2 = \frac{1}{N}\sum_{i=1}^{N} (x_i - \mu)^2$$
$$\hat{x}_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}$$
$$\mathcal{L} = \frac{1}{2}\sum_{i=1}^{N} (\hat{x}_i - t_i)^2 + \sigma(\sigma^2)$$
"""

MATRIX = r"""
$$x \in \mathbb{R}^{N \times d}$$
$$\gamma \in \mathbb{R}^{d}$$
$$\epsilon \in \mathbb{R}$$
$$\epsilon > 0$$

$$\mu_j = \frac{1}{N}\sum_{i=1}^{N} x_{ij}$$
$$\sigma^2_j = \frac{1}{N}\sum_{i=1}^{N} (x_{ij} - \mu_j)^2$$
$$\hat{x}_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}$$
$$\mathcal{L} = \sum_{i=1}^{N}\sum_{j=1}^{d} \gamma_j \hat{x}_{ij}^3$$
"""


def verdicts(problem: str, lines: list[str]) -> list[str]:
    docs = [read_text(problem, "problem.md"), read_text("\n".join(f"$${x}$$" for x in lines), "answers.md")]
    return [c.verdict for c in check_documents(docs).claims if c.listed]


def model_of(problem: str):
    checker = Checker()
    checker.build(read_text(problem, "problem.md"))
    return checker.model


@pytest.mark.parametrize("problem", [ONE_FEATURE, MATRIX], ids=["vector", "matrix"])
def test_index_form_mean_and_variance_adjoints_match_finite_differences(problem):
    model = model_of(problem)
    assert "\\sigma^2" in model.symbols and "\\sigma" not in model.symbols
    adj = derive(model)
    for env in Sampler(model, 3).envs[-4:]:
        x = env.values["x"]
        mu = x.mean(axis=0)
        assert np.allclose(env.values["\\mu"].reshape(-1), mu)  # the batch mean, per feature
        assert np.allclose(env.values["\\sigma^2"].reshape(-1), ((x - mu) ** 2).mean(axis=0))
        for name in model.inputs:
            got = evaluate(adj.expanded(name), env)
            fd = finite_differences.gradient(model, env, name)
            assert np.allclose(got, fd, rtol=1e-5, atol=1e-6), name


def test_the_variance_is_a_name_and_sigma_stays_the_sigmoid():
    right = [
        r"\overline{\sigma^2} = \sigma'(\sigma^2) - \frac{1}{2}(\sigma^2 + \epsilon)^{-3/2} \sum_{i=1}^{N} \bar{\hat{x}}_i (x_i - \mu)",
        r"\frac{\partial \mathcal{L}}{\partial \sigma^2} = \sigma(\sigma^2)(1 - \sigma(\sigma^2)) - \frac{1}{2}(\sigma^{2} + \epsilon)^{-3/2} \sum_{i=1}^{N} \bar{\hat{x}}_i (x_i - \mu)",
        r"\bar{\epsilon} = \overline{\sigma^2} - \sigma'(\sigma^2)",  # sigma^2's path through x-hat
        r"\nabla_{\sigma^2} \mathcal{L} = \overline{\sigma^2}",
        r"\frac{\partial \sigma^2}{\partial x_i} = \frac{2}{N}(x_i - \mu)",
        r"\sigma^2 = \frac{1}{N}\|x - \mu\mathbf{1}\|^2 = \frac{1}{N} x^\top x - \mu^2",
    ]
    assert verdicts(ONE_FEATURE, right) == ["correct"] * len(right)
    wrong = [
        r"\overline{\sigma^2} = -\frac{1}{2}(\sigma^2 + \epsilon)^{-3/2} \sum_{i=1}^{N} \bar{\hat{x}}_i (x_i - \mu)",
        r"\bar{\epsilon} = \overline{\sigma^2}",
        r"\frac{\partial \sigma^2}{\partial x_i} = \frac{2}{N-1}(x_i - \mu)",
        r"\sigma^2 = \frac{1}{N-1}\|x - \mu\mathbf{1}\|^2",
    ]
    assert "correct" not in verdicts(ONE_FEATURE, wrong)


def test_a_square_of_a_symbol_stays_a_power():
    problem = r"""
$$s \in \mathbb{R}$$
$$u = s^2$$
$$\mathcal{L} = u^{2}$$
"""
    assert verdicts(problem, [r"\bar{s} = 4 s^3", r"\frac{\partial s^2}{\partial s} = 2 s",
                              r"\frac{\partial u^2}{\partial u} = 2 u"]) == ["correct"] * 3
    assert verdicts(problem, [r"\bar{s} = 2 s"]) == ["incorrect"]


def test_entries_of_a_squared_name():
    right = [
        r"\frac{\partial \mathcal{L}}{\partial \sigma^2_j} = -\frac{1}{2}(\sigma^2_j + \epsilon)^{-3/2} \sum_{i=1}^{N} \bar{\hat{x}}_{ij} (x_{ij} - \mu_j)",
        r"\overline{\sigma_j^2} = -\frac{1}{2}(\sigma_j^2 + \epsilon)^{-3/2} \sum_{i=1}^{N} \bar{\hat{x}}_{ij} (x_{ij} - \mu_j)",
        r"\bar{\epsilon} = \sum_{j=1}^{d} \overline{\sigma^2_j}",
        r"\frac{\partial \sigma^2_j}{\partial x_{ij}} = \frac{2}{N}(x_{ij} - \mu_j)",
    ]
    assert verdicts(MATRIX, right) == ["correct"] * len(right)
    wrong = [  # a sum over the wrong index, the wrong bound, a sign
        r"\bar{\epsilon} = \sum_{j=1}^{d-1} \overline{\sigma^2_j}",
        r"\overline{\sigma_j^2} = \frac{1}{2}(\sigma_j^2 + \epsilon)^{-3/2} \sum_{i=1}^{N} \bar{\hat{x}}_{ij} (x_{ij} - \mu_j)",
        r"\overline{\sigma_j^2} = -\frac{1}{2}(\sigma_j^2 + \epsilon)^{-3/2} \sum_{j=1}^{d} \bar{\hat{x}}_{ij} (x_{ij} - \mu_j)",
    ]
    assert "correct" not in verdicts(MATRIX, wrong)


def test_a_total_derivative_of_an_entry_goes_through_every_path():
    """`\\frac{d \\hat{x}_i}{d x_j}` goes through mu and sigma^2; the partial holds them fixed."""
    total = r"\frac{1}{\sqrt{\sigma^2 + \epsilon}} \left(\delta_{ij} - \frac{1}{N} - \frac{1}{N} \hat{x}_i \hat{x}_j\right)"
    direct = r"\frac{\delta_{ij}}{\sqrt{\sigma^2 + \epsilon}}"
    assert verdicts(ONE_FEATURE, [rf"\frac{{d \hat{{x}}_i}}{{d x_j}} = {total}",
                                  rf"\frac{{\partial \hat{{x}}_i}}{{\partial x_j}} = {direct}"]) == ["correct"] * 2
    assert verdicts(ONE_FEATURE, [rf"\frac{{d \hat{{x}}_i}}{{d x_j}} = {direct}",
                                  rf"\frac{{\partial \hat{{x}}_i}}{{\partial x_j}} = {total}"]) == ["incorrect"] * 2


@pytest.mark.parametrize("text,name", [
    (r"\frac{\partial \mathcal{L}}{\partial \sigma^2}", "\\sigma^2"),
    (r"\frac{\partial \mathcal{L}}{\partial \sigma^{2}}", "\\sigma^2"),
    (r"\frac{\partial \mathcal{L}}{\partial \sigma_j^2}", "\\sigma^2_j"),
    (r"\frac{\partial \mathcal{L}}{\partial (W_2)_{jk}}", "W_2_{jk}"),
    (r"\frac{\partial \mathcal{L}}{\partial [b_1]_j}", "b_1_j"),
])
def test_a_derivative_variable_is_read_as_one_name(text, name):
    toks = tokenize(text)
    assert [t.value for t in toks if t.type == "NAME"] == ["\\mathcal{L}", name]


@pytest.mark.parametrize("text,name", [(r"\overline{\sigma^2}", "\\sigma^2"), (r"\bar{\sigma^2_j}", "\\sigma^2_j"),
                                       (r"\bar{\sigma_j^{2}}", "\\sigma^2_j")])
def test_a_bar_over_a_squared_name(text, name):
    assert [(t.type, t.value) for t in tokenize(text)] == [("BAR", name)]


def test_a_batch_entry_of_a_bracketed_parameter_is_checked():
    problem = r"""
---
batch: rows
---
$$X \in \mathbb{R}^{N \times d}$$
$$W_2 \in \mathbb{R}^{d \times c}$$
$$b_2 \in \mathbb{R}^{c}$$
$$Z = X W_2 + b_2$$
$$\mathcal{L} = \frac{1}{2N}\|Z\|_F^2$$
"""
    right = [r"\frac{\partial \mathcal{L}}{\partial (W_2)_{jk}} = \frac{1}{N}\sum_{i=1}^{N} X_{ij} Z_{ik}",
             r"\frac{\partial \mathcal{L}}{\partial (b_2)_k} = \frac{1}{N}\sum_{i} Z_{ik}"]
    assert verdicts(problem, right) == ["correct"] * 2
    wrong = [r"\frac{\partial \mathcal{L}}{\partial (W_2)_{jk}} = \frac{1}{N}\sum_{i=1}^{N} X_{ik} Z_{ij}",
             r"\frac{\partial \mathcal{L}}{\partial (b_2)_k} = \sum_{i} Z_{ik}",
             r"\frac{\partial \mathcal{L}}{\partial (b_2)_k} = \frac{1}{N - 1}\sum_{i} Z_{ik}"]
    assert "correct" not in verdicts(problem, wrong)
