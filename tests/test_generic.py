"""Generic functions (`\\phi : \\mathbb{R} \\to \\mathbb{R}`, SPEC 1): a claim with φ must hold for
every smooth φ, so it is checked against several unrelated concrete functions, one per
instance, and read symbolically with φ opaque."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_check import check, one

from symderiv.model import ops as o
from symderiv.model.elementwise import CHOICES, MAX_ORDER, generic_name, generic_of, record
from symderiv.read.parse import parse_statement
from symderiv.report.latex import to_latex
from symderiv.verify.numeric import Env, evaluate

PHI = r"""
$$x \in \mathbb{R}^{n}$$
$$W \in \mathbb{R}^{m \times n}$$
$$v \in \mathbb{R}^{m}$$
$$\phi : \mathbb{R} \to \mathbb{R}$$
$$z = W x$$
$$h = \phi(z)$$
$$\mathcal{L} = v^\top h$$
"""


def verdict(line: str, problem: str = PHI) -> str:
    return one(f"$${line}$$", problem).steps[-1].verdict


# ---- the concrete choices --------------------------------------------------------------------

@pytest.mark.parametrize("choice", range(len(CHOICES)))
@pytest.mark.parametrize("order", range(MAX_ORDER))
def test_choice_derivatives_against_central_differences(choice: int, order: int) -> None:
    x = np.linspace(-2.5, 2.5, 41)
    f, df = CHOICES[choice][order], CHOICES[choice][order + 1]
    h = 1e-5
    assert np.max(np.abs((f(x + h) - f(x - h)) / (2 * h) - df(x))) < 1e-7


def test_choices_are_distinct_and_none_is_tanh_or_sigma() -> None:
    x = np.linspace(-2, 2, 9)
    values = [c[0](x) for c in CHOICES]
    assert len(CHOICES) >= 3
    for i, a in enumerate(values):
        assert not np.allclose(a, np.tanh(x)) and not np.allclose(a, 1 / (1 + np.exp(-x)))
        for b in values[i + 1:]:
            assert not np.allclose(a, b)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 50), st.integers(0, MAX_ORDER), st.floats(-3, 3))
def test_a_generic_record_evaluates_as_the_instance_choice(choice: int, order: int, x: float) -> None:
    e = o.apply(generic_name("phi", order), o.Var("u", (1, 1)))
    got = evaluate(e, Env({}, {"u": np.array([[x]])}, choice=choice))
    assert np.isclose(got[0, 0], CHOICES[choice % len(CHOICES)][order](np.array(x)))


def test_generic_record_names_and_printing() -> None:
    assert generic_of(generic_name("phi", 2)) == ("phi", 2)
    assert generic_of("tanh") is None
    assert record(generic_name("phi", 1)).latex == "\\phi'"
    assert to_latex(o.apply(generic_name("psi", 1), o.Var("z", ("m", 1)))) == "\\psi'(z)"
    with pytest.raises(KeyError):
        record("nonesuch")


def test_the_sampler_meets_every_choice() -> None:
    from symderiv.meaning.build import model_of
    from symderiv.read.document import read_text
    from symderiv.verify.sampling import Sampler
    envs = Sampler(model_of(read_text(PHI, "p.md"))).envs
    assert {e.choice % len(CHOICES) for e in envs} == set(range(len(CHOICES)))
    sizes = {tuple(sorted(e.dims.values())) for e in envs if e.choice % len(CHOICES) == 0}
    assert len(sizes) >= 2  # each choice at more than one size tuple


# ---- reading the declaration ----------------------------------------------------------------

@pytest.mark.parametrize("text, name", [
    (r"\phi : \mathbb{R} \to \mathbb{R}", "\\phi"),
    (r"\phi: \mathbb R\to\mathbb R", "\\phi"),
    ("φ : ℝ → ℝ", "\\phi"),
    (r"\varphi : \mathbb{R} \rightarrow \mathbb{R}", "\\phi"),
    (r"\psi:\R\to\R.", "\\psi"),
])
def test_declaration_spellings(text: str, name: str) -> None:
    st_ = parse_statement(text)
    assert st_.error is None and st_.relation == "maps" and st_.names[0].name == name


@pytest.mark.parametrize("text, words", [
    (r"f : \mathbb{R} \to \mathbb{R}", "reads as a product"),
    (r"\phi : \mathbb{R}^{n} \to \mathbb{R}^{n}", "scalars to scalars"),
    (r"\alpha : \mathbb{R} \to \mathbb{R}", "cannot name a generic function"),
])
def test_declarations_not_supported_say_so(text: str, words: str) -> None:
    err = parse_statement(text).error
    assert err is not None and words in err.message


def test_an_undeclared_generic_letter_says_how_to_declare_it() -> None:
    problem = PHI.replace(r"$$\phi : \mathbb{R} \to \mathbb{R}$$", r"$$\psi : \mathbb{R} \to \mathbb{R}$$") \
        .replace(r"\phi(z)", r"\psi(z)")
    step = one(r"$$\bar{z} = v \odot \phi'(z)$$", problem).steps[-1]
    assert step.verdict == "invalid" and "\\phi : \\mathbb{R} \\to \\mathbb{R}" in step.message


def test_a_declaration_restated_in_answers() -> None:
    assert verdict(r"\phi : \mathbb{R} \to \mathbb{R}") == "correct"
    assert verdict(r"\psi : \mathbb{R} \to \mathbb{R}") == "invalid"


# ---- claims ------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    r"\bar{z} = v \odot \phi'(z)",
    r"\bar{z} = \phi'(z) \odot v",
    r"\bar{z} = \operatorname{diag}(\phi'(z)) v",
    r"\bar{z} = v \odot \phi^\prime(z)",
    r"\bar{z} = v ⊙ φ′(z)",
    r"\bar{z} = v \odot \varphi'(z)",
    r"\bar{z} = v \odot \dot{\phi}(z)",
    r"\bar{z} = v \odot \dot\phi(z)",
    r"\bar{x} = W^\top (v \odot \phi'(z))",
    r"\bar{W} = (v \odot \phi'(z)) x^\top",
    r"\frac{\partial h}{\partial z} = \operatorname{diag}(\phi'(z))",
    r"\bar{z}_i = v_i \phi'(z_i)",
    r"\frac{\partial h_i}{\partial z_j} = \phi'(z_i) \delta_{ij}",
    r"\frac{\partial}{\partial z}\left(\mathbf{1}^\top \phi'(z)\right) = \phi''(z)",
    r"\bar{v} = \phi(z)",
])
def test_right_lines_are_correct(line: str) -> None:
    assert verdict(line) == "correct"


def test_a_right_line_is_proved_with_phi_opaque() -> None:
    step = one(r"$$\bar{z} = \bar{h} \odot \phi'(z)$$", PHI).steps[-1]
    assert step.method == "symbolic"


@pytest.mark.parametrize("line", [
    r"\phi'(z) = \mathbf{1} - \phi(z) \odot \phi(z)",  # true for tanh only
    r"\phi'(z) = \phi(z) \odot (\mathbf{1} - \phi(z))",  # true for the sigmoid only
    r"\phi'(z) = \sigma(z)",  # true for one choice (softplus) only
    r"\phi''(z) = \frac{1}{2} z - \phi(z)",  # true for one choice (sin(z) + z/2) only
    r"\phi'''(z) = \phi'(z) - \frac{1}{2} \mathbf{1}",  # ... and here false for it too
])
def test_a_line_right_for_one_function_only_is_incorrect(line: str) -> None:
    assert verdict(line) == "incorrect"


@pytest.mark.parametrize("line", [
    r"\bar{z} = -v \odot \phi'(z)",  # sign
    r"\bar{z} = v^\top \odot \phi'(z)",  # transpose
    r"\bar{z} = v \odot \phi(z)",  # phi for phi'
    r"\bar{z} = v \odot \phi''(z)",  # phi'' for phi'
    r"\bar{z} = v",  # dropped phi'
    r"\bar{z} = 2 v \odot \phi'(z)",  # x2
    r"\bar{x} = W^\top v",  # dropped phi'
    r"\bar{x} = W (v \odot \phi'(z))",  # transpose
    r"\bar{W} = x (v \odot \phi'(z))^\top",  # swapped factors
    r"\bar{v} = \phi'(z)",  # phi' for phi
    r"\frac{\partial h}{\partial z} = \operatorname{diag}(\phi(z))",
    r"\bar{z}_i = v_i \phi(z_i)",
])
def test_mutants_are_not_accepted(line: str) -> None:
    assert verdict(line) in ("incorrect", "invalid")


def test_an_adjoint_through_phi_prime_uses_the_second_derivative() -> None:
    problem = PHI.replace(r"$$h = \phi(z)$$", r"$$h = \phi(z)$$" + "\n" + r"$$g = \phi(h)$$") \
        .replace(r"\mathcal{L} = v^\top h", r"\mathcal{L} = v^\top g")
    claims = check("$$\\bar{z} = (v \\odot \\phi'(h)) \\odot \\phi'(z)$$\n"
                   "$$\\bar{z} = (v \\odot \\phi(h)) \\odot \\phi'(z)$$\n", problem)
    assert [c.steps[-1].verdict for c in claims] == ["correct", "incorrect"]


def test_the_derived_gradients_print_phi_prime_and_read_back() -> None:
    from symderiv.derive.adjoints import derive
    from symderiv.meaning.build import model_of
    from symderiv.read.document import read_text
    adj = derive(model_of(read_text(PHI, "p.md")))
    text = to_latex(adj.local["z"])
    assert "\\phi'(z)" in text
    assert verdict(f"\\bar{{z}} = {text}") == "correct"


def test_sigma_declared_generic_is_not_the_sigmoid() -> None:
    problem = PHI.replace(r"\phi :", r"\sigma :").replace(r"\phi(z)", r"\sigma(z)")
    assert verdict(r"\bar{z} = v \odot \sigma'(z)", problem) == "correct"
    assert verdict(r"\bar{z} = v \odot \sigma(z) \odot (\mathbf{1} - \sigma(z))", problem) == "incorrect"


def test_sympy_round_trip_keeps_phi_opaque() -> None:
    import sympy as sp

    from symderiv.model.graph import Model
    from symderiv.model.sympy_bridge import from_sympy, to_sympy
    m = Model()
    m.declare("z", (1, 1))
    m.declare("W", ("m", "n"))
    m.declare("x", ("n", 1))
    z = o.Var("z", (1, 1))
    for k in range(3):
        s = to_sympy(o.apply(generic_name("phi", k), z))
        assert s == sp.diff(sp.Function("phi")(sp.Symbol("z")), sp.Symbol("z"), k)
        assert to_latex(from_sympy(s, m)) == "\\phi" + "'" * k + "(z)"
    wx = o.matmul(o.Var("W", ("m", "n")), o.Var("x", ("n", 1)))
    assert to_latex(from_sympy(to_sympy(o.apply(generic_name("phi", 1), wx)), m)) == "\\phi'(W x)"


HESSIAN = r"""
$$X \in \mathbb{R}^{n \times d}$$
$$w \in \mathbb{R}^{d}$$
$$\phi : \mathbb{R} \to \mathbb{R}$$
$$z = X w$$
$$\mathcal{L} = \mathbf{1}^\top \phi(z)$$
"""


@pytest.mark.parametrize("line, want", [
    (r"\nabla^2_w \mathcal{L} = X^\top \operatorname{diag}(\phi''(z)) X", "correct"),
    (r"\nabla^2_w \mathcal{L} = X^\top \operatorname{diag}(\phi'(z)) X", "incorrect"),  # one derivative short
    (r"\nabla^2_w \mathcal{L} = X^\top \operatorname{diag}(\phi'(z) \odot (\mathbf{1} - \phi'(z))) X", "incorrect"),
    (r"\nabla^2_w \mathcal{L} = -X^\top \operatorname{diag}(\phi''(z)) X", "incorrect"),
])
def test_a_hessian_needs_the_second_derivative(line: str, want: str) -> None:
    assert verdict(line, HESSIAN) == want
