"""The functions ML derivations use (SPEC 3.1), each one record (model/elementwise.py): tan,
arcsin, arccos, arctan, |x|, sign, erf, Φ, GELU, leaky ReLU; `|A|` of a square matrix is its
determinant; `\\max(a, b)` is elementwise; `e^{X}` of a square matrix is refused. The records'
own derivatives are checked against central differences in test_house.py; here a derivation
through them, right lines and their mutants."""
from __future__ import annotations

import numpy as np
import pytest

from symderiv.read.document import read_text
from symderiv.verify.check import check_documents

TRIG = r"""
$$x \in \mathbb{R}^{n}$$
$$W \in \mathbb{R}^{m \times n}$$
$$X \in \mathbb{R}^{n \times n}$$
$$u \in \mathbb{R}^{m}$$
$$v \in \mathbb{R}^{m}$$
$$\lambda \in \mathbb{R}$$
$$\lambda > 0$$

$$a = W x$$
$$s = \sin(a)$$
$$c = \cos(a)$$
$$\mathcal{L} = u^\top \arctan(s) + v^\top \tan(c) + \lambda \mathbf{1}^\top |x| + \log|X|$$
"""


def verdicts(problem: str, lines: list[str]) -> list[str]:
    docs = [read_text(problem, "problem.md"), read_text("\n".join(f"$${x}$$" for x in lines), "answers.md")]
    return [c.verdict for c in check_documents(docs).claims if c.listed]


RIGHT = [
    r"\bar{s} = \frac{u}{1 + s \odot s}",
    r"\bar{s} = u \odot \arctan'(s)",
    r"\bar{c} = v \odot (1 + \tan^2(c))",
    r"\bar{c} = v \oslash \cos^2(c)",
    r"\bar{c} = v \odot \tan'(c)",
    r"\bar{a} = \bar{s} \odot \cos(a) - \bar{c} \odot \sin(a)",
    r"\bar{x} = W^\top \bar{a} + \lambda \operatorname{sign}(x)",
    r"\bar{x} = W^\top \bar{a} + \lambda \frac{x}{|x|}",
    r"\bar{X} = X^{-\top}",
    r"\bar{\lambda} = \mathbf{1}^\top |x|",
    r"\bar{u} = \arctan(s)",
    r"|x| = \max(x, -x) = \sqrt{x \odot x} = \left| x \right| = \lvert x \rvert",
    r"\arcsin(s) \odot \arcsin(s) = \arcsin(s)^2",
    r"\log|X| = \log\det X",
]
WRONG = [
    r"\bar{s} = \frac{u}{1 - s \odot s}",            # arctan' read as arctanh'
    r"\bar{c} = v \odot (1 - \tan^2(c))",            # sign inside tan'
    r"\bar{c} = v \oslash \sin^2(c)",                # the wrong function
    r"\bar{a} = \bar{s} \odot \cos(a) + \bar{c} \odot \sin(a)",  # cos' = -sin
    r"\bar{a} = \bar{s} \odot \cos(a)",              # a dropped term
    r"\bar{x} = W^\top \bar{a} + \lambda x",          # |x|' is not x
    r"\bar{x} = W^\top \bar{a} - \lambda \operatorname{sign}(x)",
    r"\bar{x} = W \bar{a} + \lambda \operatorname{sign}(x)",
    r"\bar{X} = X^{-1}",                              # the transpose
    r"\bar{\lambda} = 2 \mathbf{1}^\top |x|",
    r"\bar{u} = \arcsin(s)",
    r"|x| = \max(x, 0)",
    r"\bar{x} = W^\top \bar{a} + \lambda \operatorname{sign}(W^\top \bar{a})",
]


def test_right_lines_through_the_new_functions_are_correct():
    got = verdicts(TRIG, RIGHT)
    assert got == ["correct"] * len(RIGHT), [(r, g) for r, g in zip(RIGHT, got) if g != "correct"]


def test_wrong_lines_through_the_new_functions_are_not():
    got = verdicts(TRIG, WRONG)
    assert len(got) == len(WRONG) and "correct" not in got, [(w, g) for w, g in zip(WRONG, got) if g == "correct"]


GELU = r"""
$$x \in \mathbb{R}^{n}$$
$$W \in \mathbb{R}^{m \times n}$$
$$a = W x$$
$$h = \operatorname{GELU}(a)$$
$$g = \operatorname{LeakyReLU}(a)$$
$$\mathcal{L} = \mathbf{1}^\top h + \mathbf{1}^\top g$$
"""


def test_gelu_through_phi_and_erf_and_leaky_relu():
    right = [r"h = a \odot \Phi(a) = \frac{1}{2} a \odot (1 + \operatorname{erf}(\frac{a}{\sqrt{2}}))",
             r"\bar{a} = \Phi(a) + a \odot \Phi'(a) + \operatorname{LeakyReLU}'(a)",
             r"\bar{a} = \Phi(a) + a \odot \Phi'(a) + 0.01 + 0.99 \mathbb{1}[a > 0]",
             r"g = \max(a, 0.01 a)"]
    wrong = [r"\bar{a} = \Phi(a) + \operatorname{LeakyReLU}'(a)",
             r"\bar{a} = \Phi'(a) + \operatorname{LeakyReLU}'(a)",
             r"\bar{a} = \Phi(a) + a \odot \Phi'(a) + \mathbb{1}[a > 0]",
             r"g = \max(a, 0.1 a)", r"h = a \odot \Phi(2 a)"]
    assert verdicts(GELU, right) == ["correct"] * len(right)
    assert "correct" not in verdicts(GELU, wrong)


def test_a_declared_phi_is_a_symbol_not_the_normal_cdf():
    problem = GELU.replace(r"$$a = W x$$", r"$$\Phi \in \mathbb{R}^{m \times m}$$" + "\n" + r"$$a = \Phi(W x)$$")
    assert verdicts(problem, [r"a = \Phi W x"]) == ["correct"]


def test_abs_of_a_square_matrix_is_its_determinant_and_of_a_vector_elementwise():
    assert verdicts(TRIG, [r"|X| = \det(X)", r"|X| = \det X^\top", r"|x| = x"]) == ["correct", "correct", "incorrect"]


def test_e_to_a_square_matrix_is_unsupported():
    docs = [read_text(TRIG, "problem.md"), read_text(r"$$e^{X} = \exp(X)$$", "answers.md")]
    [c] = [c for c in check_documents(docs).claims if c.listed]
    assert c.verdict == "invalid" and c.steps[0].reason == "unsupported" and "ambiguous" in c.steps[0].message


@pytest.mark.parametrize("seed", range(3))
def test_elementwise_max_matches_numpy(seed):
    from symderiv.meaning.resolve import Scope, resolve
    from symderiv.model.graph import Model
    from symderiv.read.parse import parse_expression
    from symderiv.verify.numeric import Env, evaluate
    m = Model()
    m.declare("p", ("n", 1))
    m.declare("q", ("n", 1))
    rng = np.random.default_rng(seed)
    env = Env({"n": 5}, {"p": rng.normal(size=(5, 1)), "q": rng.normal(size=(5, 1))})
    e = resolve(parse_expression(r"\max(p, q)"), Scope(m))
    assert np.allclose(evaluate(e, env), np.maximum(env.values["p"], env.values["q"]))


def test_operatorname_abs_of_a_square_matrix_is_elementwise_not_det():
    """The printer writes elementwise |·| of a matrix as \\operatorname{abs}(M): it must read back so
    (only the bars |M| are the determinant); found by the printed-tree property test."""
    from symderiv.read.document import read_text
    from symderiv.verify.check import check_documents
    problem = read_text("$$M \\in \\mathbb{R}^{n \\times n}$$\n$$a \\in \\mathbb{R}^{n}$$\n"
                        "$$\\ell = a^\\top \\operatorname{abs}(M) a$$\n", "p.md")
    sheet = read_text("$$\\ell = a^\\top |M| a$$\n$$\\ell = |\\det M| a^\\top a$$\n"
                      "$$\\ell = \\mathbf{1}^\\top (\\operatorname{abs}(M) \\odot (a a^\\top)) \\mathbf{1}$$\n", "a.md")
    got = [c.verdict for c in check_documents([problem, sheet]).claims if c.file == "a.md"]
    assert got == ["incorrect", "incorrect", "correct"]
