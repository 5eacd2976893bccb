"""Derivative notation (SPEC 3.2): Jacobian claims, layouts per sheet, derivative operators,
total derivatives, Hessians, `|X|` as the determinant; J v and H v checked against finite
differences."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.meaning.jacobian import function_of, hessian_vector
from symderiv.model import ops as o
from symderiv.read.document import read_text
from symderiv.verify.check import Checker, check_documents
from symderiv.verify.numeric import Env, evaluate

LAYER = r"""
$$x \in \mathbb{R}^{n}$$
$$W \in \mathbb{R}^{m \times n}$$
$$b \in \mathbb{R}^{m}$$
$$V \in \mathbb{R}^{m \times m}$$
$$t \in \mathbb{R}^{m}$$
$$z = W x + b$$
$$h = \sigma(z)$$
$$u = V h$$
$$\mathcal{L} = \frac{1}{2}\|u - t\|^2$$
"""

LOGISTIC = r"""
$$X \in \mathbb{R}^{N \times d}$$
$$w \in \mathbb{R}^{d}$$
$$t \in \{0, 1\}^{N}$$
$$\lambda \in \mathbb{R}$$
$$z = X w$$
$$y = \sigma(z)$$
$$\mathcal{L} = -t^\top \log y - (\mathbf{1} - t)^\top \log(\mathbf{1} - y) + \frac{\lambda}{2}\|w\|^2$$
"""

COOKBOOK = r"""
$$X \in \mathbb{R}^{n \times n}$$
$$A \in \mathbb{R}^{m \times n}$$
$$B \in \mathbb{R}^{n \times m}$$
$$v \in \mathbb{R}^{n}$$
$$K \in \mathbb{R}^{n \times n}$$
$$y = X v$$
$$\mathcal{L} = \operatorname{tr}(A X B) + y^\top K y - \log|X|$$
"""


def sheet(lines: list[str], problem: str = LAYER, layout: str | None = None):
    front = f"---\nlayout: {layout}\n---\n" if layout else ""
    docs = [read_text(front + problem, "problem.md"), read_text("\n".join(f"$${x}$$" for x in lines), "a.md")]
    return [c for c in check_documents(docs).claims if c.listed and c.file == "a.md"]


def verdict(line: str, problem: str = LAYER, layout: str | None = None):
    claims = sheet([line], problem, layout)
    assert len(claims) == 1
    return claims[0]


# ---- Jacobian claims -------------------------------------------------------------------
@pytest.mark.parametrize("layout,line,ok", [
    ("numerator", r"\frac{\partial z}{\partial x} = W", True),
    ("denominator", r"\frac{\partial z}{\partial x} = W^\top", True),
    ("denominator", r"\frac{\partial u}{\partial h} = V^\top", True),
    ("numerator", r"\frac{\partial u}{\partial h} = V", True),
    ("numerator", r"\frac{\partial u}{\partial h} = V^\top", False),
    ("denominator", r"\frac{\partial u}{\partial h} = V", False),
    ("numerator", r"\frac{\partial h}{\partial z} = \operatorname{diag}(\sigma'(z))", True),
    ("denominator", r"\frac{\partial h}{\partial z} = \operatorname{diag}(h \odot (\mathbf{1} - h))", True),
    ("denominator", r"\frac{\partial h}{\partial z} = \sigma'(z)", True),  # the diagonal, as a vector
    ("denominator", r"\frac{\partial h}{\partial z} = \operatorname{diag}(h)", False),
    ("numerator", r"\frac{\partial h}{\partial z} = h", False),
    ("numerator", r"\frac{\partial z}{\partial b} = I", True),
])
def test_jacobian_claims(layout, line, ok):
    c = verdict(line, layout=layout)
    assert (c.verdict == "correct") == ok, [(s.verdict, s.reason, s.message) for s in c.steps]


def test_a_row_is_neither_a_jacobian_nor_its_diagonal():
    c = verdict(r"\frac{\partial h}{\partial z} = \sigma'(z)^\top", layout="denominator")
    assert c.steps[0].verdict == "invalid" and c.steps[0].reason == "shape"


def test_a_tensor_alone_is_unsupported_with_the_index_notation_way():
    c = verdict(r"\frac{\partial z}{\partial W} = x^\top")
    assert c.steps[0].verdict == "invalid" and c.steps[0].reason == "unsupported"
    assert "index notation" in c.steps[0].message
    assert verdict(r"\bar{W} = \bar{z} \frac{\partial z}{\partial W}").verdict == "correct"  # formal in a chain


# ---- one layout per sheet ----------------------------------------------------------------
def test_first_line_only_one_layout_makes_right_fixes_the_sheet():
    claims = sheet([r"\frac{\partial z}{\partial x} = W",            # numerator only (m != n)
                    r"\frac{\partial u}{\partial h} = V^\top",       # right only in the other layout
                    r"\frac{\partial u}{\partial h} = V"])
    assert [c.verdict for c in claims] == ["correct", "incorrect", "correct"]
    assert claims[1].steps[0].reason == "layout" and "line 1" in claims[1].steps[0].message
    assert "numerator" in claims[1].steps[0].message


def test_problem_front_matter_sets_the_layout():
    c = verdict(r"\frac{\partial \mathcal{L}}{\partial u} = (u - t)^\top", layout="denominator")
    assert c.verdict == "incorrect" and c.steps[0].reason == "layout" and "problem" in c.steps[0].message
    assert verdict(r"\frac{\partial \mathcal{L}}{\partial u} = (u - t)^\top", layout="numerator").verdict == "correct"


def test_nothing_fixed_either_layout_is_accepted():
    claims = sheet([r"\bar{h} = \frac{\partial u}{\partial h} \bar{u}",
                    r"\bar{h}^\top = \bar{u}^\top \frac{\partial u}{\partial h}"])
    assert [c.verdict for c in claims] == ["correct", "incorrect"]  # the first fixed denominator
    claims = sheet([r"\bar{u} = u - t", r"\bar{h}^\top = \bar{u}^\top \frac{\partial u}{\partial h}"])
    assert [c.verdict for c in claims] == ["correct", "correct"]


@pytest.mark.parametrize("line", [
    r"\bar{x} = \frac{\partial z}{\partial x} \bar{z}^\top",
    r"\bar{x} = \bar{z}^\top \frac{\partial z}{\partial x}",
])
def test_ill_shaped_in_every_layout_names_both(line):
    s = verdict(line).steps[0]
    assert s.verdict == "invalid" and s.reason == "shape"
    assert "every layout" in s.message and "numerator" in s.message and "denominator" in s.message


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_a_forgotten_jacobian_transpose_is_caught_with_a_square_jacobian(layout):
    right = r"\bar{h} = \frac{\partial u}{\partial h} \bar{u}" if layout == "denominator" else \
        r"\bar{h} = \left(\frac{\partial u}{\partial h}\right)^\top \bar{u}"
    wrong = r"\bar{h} = \left(\frac{\partial u}{\partial h}\right)^\top \bar{u}" if layout == "denominator" else \
        r"\bar{h} = \frac{\partial u}{\partial h} \bar{u}"
    assert verdict(right, layout=layout).verdict == "correct"
    assert verdict(wrong, layout=layout).verdict == "incorrect"


# ---- operators, total derivatives, |X| ---------------------------------------------------
@pytest.mark.parametrize("line,ok", [
    (r"\frac{\partial}{\partial X}\operatorname{tr}(A X B) = A^\top B^\top", True),
    (r"\frac{\partial}{\partial X}\operatorname{tr}(A X B) = B A", False),
    (r"\frac{\partial}{\partial X}\log|X| = X^{-\top}", True),
    (r"\frac{\partial}{\partial X}\log|X| = X^{-1}", False),
    (r"\frac{d}{dX}|X| = |X| X^{-\top}", True),
    (r"\frac{\mathrm{d}}{\mathrm{d}X}|X| = X^{-\top}", False),
    (r"\nabla_{y} (y^\top K y) = (K + K^\top) y", True),
    (r"\frac{\partial}{\partial v}\left(y^\top K y\right) = X^\top (K + K^\top) X v", True),
    (r"\frac{\partial (y^\top K y)}{\partial v} = X^\top (K + K^\top) X v", True),
    (r"\frac{\partial}{\partial X}\operatorname{tr}(X^{-1}) = -(X^{-2})^\top", True),
    (r"\frac{\partial}{\partial X}\operatorname{tr}(X^{-1}) = -X^{-2}", False),
    (r"\frac{d\mathcal{L}}{dX} = A^\top B^\top - X^{-\top} + (K + K^\top) X v v^\top", True),
    (r"\frac{d\mathcal{L}}{dX} = A^\top B^\top - X^{-\top}", False),
])
def test_operators_and_total_derivatives(line, ok):
    c = verdict(line, COOKBOOK)
    assert (c.verdict == "correct") == ok, [(s.verdict, s.reason, s.message) for s in c.steps]


def test_2ky_without_the_premise_names_it():
    s = verdict(r"\nabla_{y} (y^\top K y) = 2 K y", COOKBOOK).steps[0]
    assert s.reason == "premise" and "K^\\top = K" in s.message


def test_a_size_named_d_is_not_a_value_in_a_total_derivative():
    assert verdict(r"\frac{d\mathcal{L}}{dw} = X^\top (y - t) + \lambda w", LOGISTIC).verdict == "correct"
    c = verdict(r"\frac{d\mathcal{L}}{dw} = X^\top (y - t)", LOGISTIC)
    assert c.verdict == "incorrect" and c.steps[0].reason == "missing-term"


def test_absolute_value_of_a_vector_is_elementwise_not_a_determinant():
    c = verdict(r"\bar{x} = |x|")
    assert c.steps[0].verdict == "incorrect"  # |x| elementwise (the `abs` record), and not the adjoint


def test_bars_of_a_square_matrix_are_its_determinant_not_an_absolute_value():
    assert verdict(r"\frac{\partial}{\partial X}|X| = |X| X^{-\top}", COOKBOOK).verdict == "correct"
    assert verdict(r"\bar{x} = |x|").verdict != "correct"


# ---- Hessians ----------------------------------------------------------------------------
@pytest.mark.parametrize("line,ok", [
    (r"\nabla^2_{w} \mathcal{L} = X^\top \operatorname{diag}(y \odot (\mathbf{1} - y)) X + \lambda I", True),
    (r"\frac{\partial^2 \mathcal{L}}{\partial w \partial w^\top} = X^\top \operatorname{diag}(\sigma'(z)) X + \lambda I",
     True),
    (r"\nabla^2_{w} \mathcal{L} = X^\top \operatorname{diag}(y) X + \lambda I", False),
    (r"\nabla^2_{w} \mathcal{L} = X^\top X + \lambda I", False),
    (r"\nabla^2_{w} \mathcal{L} = -X^\top \operatorname{diag}(y \odot (\mathbf{1} - y)) X + \lambda I", False),
])
def test_hessian_claims(line, ok):
    c = verdict(line, LOGISTIC)
    assert (c.verdict == "correct") == ok, [(s.verdict, s.reason, s.message) for s in c.steps]


def test_hessian_missing_penalty_is_a_missing_term():
    c = verdict(r"\nabla^2_{w} \mathcal{L} = X^\top \operatorname{diag}(y \odot (\mathbf{1} - y)) X", LOGISTIC)
    assert c.steps[0].reason == "missing-term"


@pytest.mark.parametrize("line,ok", [
    ((r"\frac{\partial^2 \mathcal{L}}{\partial w_j \partial w_k} = \sum_{i=1}^{N} X_{ij} y_i (1 - y_i) X_{ik}"
      r" + \lambda \delta_{jk}"), True),
    ((r"\frac{\partial^2 L}{\partial w_j\,\partial w_k} = \left(X^\top \operatorname{diag}(\sigma'(z)) X"
      r" + \lambda I\right)_{jk}"), True),
    (r"\frac{\partial^2 L}{\partial w_j^2} = \sum_{i=1}^{N} X_{ij}^2 y_i (1 - y_i) + \lambda", True),
    (r"\frac{\partial^2 L}{\partial w_j^2} = \sum_{i=1}^{N} X_{ij}^2 y_i (1 - y_i)", False),
    ((r"\frac{\partial^2 \mathcal{L}}{\partial w_j \partial w_k} = \sum_{i=1}^{N} X_{ij} y_i (1 - y_i) X_{ij}"
      r" + \lambda \delta_{jk}"), False),
    ((r"\frac{\partial^2 \mathcal{L}}{\partial w_j \partial w_k} = \sum_{i=1}^{N} X_{ij} y_i (1 - y_i) X_{ik}"
      r" + \lambda"), False),
    (r"\nabla_w^2 L = X^\top \operatorname{diag}(y \odot (\mathbf{1} - y)) X + \lambda I", True),
    (r"\nabla_{w}^{2} L = X^\top \operatorname{diag}(y) X + \lambda I", False),
])
def test_entrywise_hessian_and_subscript_first_nabla(line, ok):
    c = verdict(line, LOGISTIC)
    assert (c.verdict == "correct") == ok, [(s.verdict, s.reason, s.message) for s in c.steps]


def test_entrywise_hessian_without_its_penalty_is_a_missing_term():
    c = verdict(r"\frac{\partial^2 \mathcal{L}}{\partial w_j \partial w_k} = \sum_{i=1}^{N} X_{ij} y_i (1 - y_i)"
                r" X_{ik}", LOGISTIC)
    assert (c.kind, c.steps[0].reason) == ("identity", "missing-term")  # like the matrix Hessian


def test_nabla_with_the_subscript_first_reads_as_the_hessian():
    from symderiv.read.parse import parse_expression
    first, second = parse_expression(r"\nabla_w^2 L"), parse_expression(r"\nabla^2_{w} L")
    assert (first.wrt, first.order, first.form) == (second.wrt, second.order, second.form) == ("w", 2, "nabla")
    assert parse_expression(r"\nabla_w L^2").order == 1  # the square of L, not a Hessian


@pytest.mark.parametrize("line,words", [
    (r"\frac{\partial^2 \mathcal{L}}{\partial w \partial t} = 1", "mixed second derivative"),
    (r"\frac{\partial^2 \mathcal{L}}{\partial w_j \partial t} = 1", "two entries of one vector"),
    (r"\frac{\partial^2 \mathcal{L}}{\partial X_{ij} \partial X_{pq}} = 1", "4-index tensor"),
    (r"\frac{\partial^2 y_i}{\partial w_j \partial w_k} = 1", "3-index tensor"),
])
def test_unsupported_second_derivatives_say_why(line, words):
    c = verdict(line, LOGISTIC)
    assert c.verdict == "invalid" and words in c.steps[0].message, c.steps[0].message


def _model(problem: str):
    ch = Checker()
    ch.build(read_text(problem, "p.md"))
    return ch.model


def _env(model, rng, sizes):
    env = Env(dict(sizes))
    for name in model.inputs:
        env.values[name] = rng.standard_normal(env.shape(model.shape(name)))
    for name in model.nodes:
        env.values[name] = evaluate(model.symbols[name].definition, env)
    return env


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(2, 4))
def test_hessian_vector_product_matches_finite_differences(seed, n, d):
    model = _model(LOGISTIC.replace(r"\{0, 1\}^{N}", r"\mathbb{R}^{N}"))
    rng = np.random.default_rng(seed)
    env = _env(model, rng, {"N": n, "d": d})
    p = o.Var("p", model.shape("w"))
    env.values["p"] = rng.standard_normal((d, 1))
    loss = model.symbols[model.loss].var()
    hv = evaluate(hessian_vector(model, loss, "w", p), env)
    grad = function_of(model, model.loss, "w", True, None).vjp(o.const(1))

    def g(wv):
        e = Env(env.dims, dict(env.values))
        e.values["w"] = wv
        return evaluate(grad, e)
    eps = 1e-6
    fd = (g(env.values["w"] + eps * env.values["p"]) - g(env.values["w"] - eps * env.values["p"])) / (2 * eps)
    assert np.allclose(hv, fd, rtol=1e-5, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(2, 4))
def test_jacobian_vector_product_matches_finite_differences(seed, n, m):
    model = _model(LAYER)
    rng = np.random.default_rng(seed)
    env = _env(model, rng, {"n": n, "m": m})
    for num, den in (("z", "x"), ("h", "z"), ("u", "h")):
        fn = function_of(model, num, den, False, None)
        v = o.Var("v", model.shape(den))
        env.values["v"] = rng.standard_normal(env.shape(model.shape(den)))
        jv = evaluate(fn.jvp(v), env)

        def f(bv, den=den, num=num):
            e = Env(env.dims, dict(env.values))
            e.values[den] = bv
            return evaluate(model.symbols[num].definition, e)
        eps = 1e-6
        fd = (f(env.values[den] + eps * env.values["v"]) - f(env.values[den] - eps * env.values["v"])) / (2 * eps)
        assert np.allclose(jv, fd, rtol=1e-5, atol=1e-6)


def test_nabla_of_an_expression_is_a_column_in_any_layout():
    for layout in ("numerator", "denominator"):
        assert verdict(r"\nabla_{y} (y^\top K y) = (K + K^\top) y", COOKBOOK, layout).verdict == "correct"
    c = verdict(r"\frac{\partial}{\partial y}(y^\top K y) = (K + K^\top) y", COOKBOOK, "numerator")
    assert c.verdict == "incorrect" and c.steps[0].reason == "layout"


def test_a_tensor_derivative_alone_says_how_to_write_its_entries():
    c = verdict(r"\frac{\partial z}{\partial W} = x^\top")
    assert c.steps[0].reason == "unsupported" and "\\frac{\\partial z_i}{\\partial W_{pq}}" in c.steps[0].message
    entry = verdict(r"\frac{\partial z_i}{\partial W_{pq}} = \delta_{ip} x_q")  # the form it suggests reads
    assert entry.verdict == "correct", [(s.verdict, s.message) for s in entry.steps]


def test_one_misplaced_transpose_of_a_repeated_input_is_diagnosed():
    c = verdict(r"\frac{d\mathcal{L}}{dv} = X (K + K^\top) X v", COOKBOOK)  # X^\top (K + K^\top) X v
    assert (c.verdict, c.steps[0].reason) == ("incorrect", "transpose"), c.steps[0].message
