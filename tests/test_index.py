"""Index notation (SPEC 3.3): every notation reads, right lines are correct, wrong ones are not.

The problems are small and written here; the independent oracle of `mutate.py` confirms,
for the property tests, that what must be correct is right.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.read.document import read_text
from symderiv.verify.check import check_documents

PROBLEM = r"""
$$x \in \mathbb{R}^{n}$$
$$W \in \mathbb{R}^{c \times n}$$
$$W_1 \in \mathbb{R}^{c \times n}$$
$$b \in \mathbb{R}^{c}$$
$$t \in \mathbb{R}^{c}$$
$$z_i = \sum_{j=1}^{n} W_{ij} x_j + b_i$$
$$u = W_1 x$$
$$y = \operatorname{softmax}(z)$$
$$s = \sigma(u)$$
$$z_y = t^\top s$$
$$\mathcal{L} = -\sum_{i=1}^{c} t_i \log y_i + z_y$$
"""


def verdicts(*lines: str) -> list[tuple[str, str | None, str]]:
    doc = read_text("\n".join(f"$${s}$$" for s in lines) + "\n", "a.md")
    report = check_documents([read_text(PROBLEM, "p.md"), doc])
    got = {c.line: c for c in report.claims if c.file == "a.md" and not c.side}
    out = []
    for i in range(1, len(lines) + 1):
        c = got[i]
        hint = " ".join(s.hint or "" for s in c.steps)
        out.append((c.verdict, c.reason, hint + " ".join(s.message for s in c.steps)))
    return out


RIGHT = [
    r"\frac{\partial \mathcal{L}}{\partial y_i} = -\frac{t_i}{y_i}",
    r"\bar{y}_i = -t_i / y_i",
    r"\frac{\partial y_i}{\partial z_j} = y_i(\delta_{ij} - y_j)",
    r"\frac{\partial y_i}{\partial z_j} = y_i(\mathbb{1}[i = j] - y_j)",
    r"\frac{\partial y_i}{\partial z_j} = y_i([i=j] - y_j)",
    r"\frac{\partial y_i}{\partial z_j} = y_i(\mathbb{1}_{i=j} - y_j)",
    r"\frac{\partial \log y_i}{\partial z_j} = \delta_{ij} - y_j",
    r"\sum_{j} \frac{\partial y_i}{\partial z_j} = 0",
    r"\sum_{i=1}^{c} y_i = 1",
    r"\log y_i = z_i - \log\sum_{k} \exp(z_k)",
    r"\bar{z}_j = \sum_{i} \bar{y}_i \frac{\partial y_i}{\partial z_j}",
    r"\bar{z}_j = y_j \sum_{i} t_i - t_j",
    r"\bar{z}_j = \sum_{i \neq j} t_i y_j - t_j (1 - y_j)",
    r"\bar{z}_j = \sum\limits_{i=1}^{c} t_i (y_j - \delta_{ij})",
    r"\frac{\partial z_i}{\partial x_j} = W_{ij}",
    r"\frac{\partial z_i}{\partial W_{kj}} = \delta_{ik} x_j",
    r"\bar{W}_{ij} = \bar{z}_i x_j",
    r"\bar{W}_{ji} = \bar{z}_j x_i",
    r"\frac{\partial \mathcal{L}}{\partial W_{i,j}} = \bar{z}_i x_j",
    r"(\bar{W})_{ij} = (\bar{z} x^\top)_{ij}",
    r"\bar{W}_{ij} = [\bar{z} x^\top]_{ij}",
    r"\bar{b}_i = \bar{z}_i",
    r"\bar{x}_j = \sum_{i=1}^{c} W_{ij} \bar{z}_i + \sum_k (W_1)_{kj} \bar{u}_k",
    r"\bar{u}_i = t_i \sigma'(u_i)",
    r"\sigma'(u_i) = s_i (1 - s_i)",
    r"\bar{W_1}_{ij} = \bar{u}_i x_j",
    r"\bar{W}_{1} = \bar{u} x^\top",
    r"\bar{z_y} = 1",
]


def test_every_index_notation_is_read_and_right():
    bad = [(line, v) for line, v in zip(RIGHT, verdicts(*RIGHT)) if v[0] != "correct"]
    assert not bad, "\n".join(f"{line}: {v}" for line, v in bad)


WRONG = [
    (r"\frac{\partial y_i}{\partial z_j} = y_i(1 - y_j)", "incorrect", None),
    (r"\bar{y}_i = t_i / y_i", "incorrect", "sign"),
    (r"\bar{W}_{ij} = \bar{z}_j x_i", "invalid", "shape"),            # swapped: ranges c and n
    (r"\bar{x}_j = W_{ij} \bar{z}_i", "invalid", "shape"),            # repeated without \sum
    (r"\bar{b}_i = \sum_{j} \bar{z}_j", "invalid", "shape"),          # the sum swallows i
    (r"\bar{b}_i = \bar{z}_i x_j", "invalid", "shape"),               # a stray index
    (r"\bar{z}_j = \sum_{i=2}^{c} t_i (y_j - \delta_{ij})", "incorrect", None),
    (r"\bar{z}_j = \sum_{i=1}^{c-1} t_i (y_j - \delta_{ij})", "incorrect", None),
    (r"\bar{z}_j = \sum_{i \neq j} t_i y_j + t_j (1 - y_j)", "incorrect", "sign"),
    (r"\bar{z}_j = 2 y_j \sum_{i} t_i - 2 t_j", "incorrect", "scale"),
    (r"\frac{\partial \log y_i}{\partial z_j} = \delta_{ij} - y_i", "incorrect", "transpose"),
    (r"\bar{x}_n = W_{ij}", "invalid", None),                          # a size is not an index
    (r"\bar{u}_i = t_i \sigma'(u_j)", "invalid", "shape"),
]


def test_wrong_index_lines_are_caught_with_their_reasons():
    got = verdicts(*(w[0] for w in WRONG))
    for (line, verdict, reason), (v, r, _) in zip(WRONG, got):
        assert v == verdict, f"{line}: {v} {r}"
        if reason is not None:
            assert r == reason, f"{line}: {r}"


def test_a_repeated_index_says_which_sum_it_probably_means():
    (v, r, text), = verdicts(r"\bar{x}_j = W_{ij} \bar{z}_i + \sum_k (W_1)_{kj} \bar{u}_k")
    assert (v, r) == ("invalid", "shape")
    assert "\\sum_{i}" in text and "summation convention" in text


def test_declared_names_win_over_indices():
    # W_1 is declared and z_y defined: names, never entries of W or z
    (a, b, c) = verdicts(r"\bar{W}_1 = \bar{u} x^\top", r"\bar{z}_y = 1", r"\bar{W_1} = \bar{u} x^\top")
    assert a[0] == b[0] == c[0] == "correct"


@settings(max_examples=25, deadline=None)
@given(st.sampled_from("ijkmpq"), st.sampled_from("ijkmpq"), st.booleans())
def test_entry_letters_are_free_names_for_the_axes(a, b, swap):
    """Any two distinct letters work as the axes; writing them the other way round on the
    right side is a range error (c and n differ), never `correct`."""
    if a == b:
        return
    rhs = rf"\bar{{z}}_{b} x_{a}" if swap else rf"\bar{{z}}_{a} x_{b}"
    (v, r, _), = verdicts(rf"\bar{{W}}_{{{a}{b}}} = {rhs}")
    assert v == ("invalid" if swap else "correct")


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_einsum_evaluation_matches_matrix_algebra(rows, cols, seed):
    """Σ_j W_ij x_j, Σ_i W_ij v_i, δ_ij u_j and Σ_{j≠i} x_j against numpy, at any sizes."""
    from symderiv.meaning import ir
    from symderiv.model import ops as o
    from symderiv.verify.numeric import Env, evaluate
    rng = np.random.default_rng(seed)
    env = Env({"c": rows, "n": cols}, {"W": rng.normal(size=(rows, cols)), "x": rng.normal(size=(cols, 1)),
                                       "v": rng.normal(size=(rows, 1))})
    dims = {"i": "c", "j": "n"}
    W, x, v = o.Var("W", ("c", "n")), o.Var("x", ("n", 1)), o.Var("v", ("c", 1))
    wx = ir.ISum("j", ir.IMul((ir.IArr(W, ("i", "j")), ir.IArr(x, ("j", None)))))
    arr, axes = ir.evaluate(wx, env, dims, evaluate)
    assert axes == ("i",) and np.allclose(arr, (env.values["W"] @ env.values["x"])[:, 0])
    wv = ir.ISum("i", ir.IMul((ir.IArr(W, ("i", "j")), ir.IArr(v, ("i", None)))))
    arr, axes = ir.evaluate(wv, env, dims, evaluate)
    assert axes == ("j",) and np.allclose(arr, (env.values["W"].T @ env.values["v"])[:, 0])
    skip = ir.ISum("k", ir.IArr(x, ("k", None)), skip="j")
    arr, axes = ir.evaluate(skip, env, {"k": "n", "j": "n"}, evaluate)
    assert axes == ("j",) and np.allclose(arr, env.values["x"].sum() - env.values["x"][:, 0])


@pytest.mark.parametrize("text,words", [
    (r"\bar{z}_j = \sum_{c} t_c", "symbol or a size"),
    (r"\bar{z}_j = \sum_{i} \sum_{i} t_i", "summed twice"),
    (r"\bar{z}_j = \sum_{i=1}^{q} t_i", "bound"),
])
def test_bad_sums_are_explained(text, words):
    (v, _, msg), = verdicts(text)
    assert v == "invalid" and words in msg


ABS_PROBLEM = r"""
$$x \in \mathbb{R}^{n}$$
$$W \in \mathbb{R}^{m \times n}$$
$$\lambda \in \mathbb{R}$$
$$a = W x$$
$$\mathcal{L} = \mathbf{1}^\top \sin(a) + \lambda \mathbf{1}^\top |x|$$
"""


def _abs_verdicts(*lines: str) -> list[str]:
    doc = read_text("\n".join(f"$${s}$$" for s in lines) + "\n", "a.md")
    report = check_documents([read_text(ABS_PROBLEM, "p.md"), doc])
    return [c.verdict for c in report.claims if c.file == "a.md" and not c.side]


def test_absolute_value_of_an_entry_is_elementwise():
    """`|x_j|` of an entry is a scalar's absolute value; its mutants are all caught."""
    assert _abs_verdicts(r"\frac{\partial \mathcal{L}}{\partial \lambda} = \sum_{j} |x_j|",
                         r"\frac{\partial \mathcal{L}}{\partial x_j} = \sum_{i} W_{ij} \cos(a_i)"
                         r" + \lambda \frac{x_j}{|x_j|}") == ["correct", "correct"]
    mutants = [r"\bar{\lambda} = \sum_{j} x_j", r"\bar{\lambda} = -\sum_{j} |x_j|",
               r"\bar{\lambda} = 2 \sum_{j} |x_j|", r"\bar{\lambda} = \sum_{j} |x_j|^2",
               r"\bar{x}_j = \sum_{i} W_{ji} \cos(a_i) + \lambda \frac{x_j}{|x_j|}",
               r"\bar{x}_j = \sum_{i} W_{ij} \cos(a_i) + \lambda |x_j|",
               r"\bar{x}_j = \sum_{i} W_{ij} \cos(a_i)"]
    assert "correct" not in _abs_verdicts(*mutants)


# ---- diagnoses of entrywise lines ------------------------------------------------------------------
def test_a_jacobian_entry_missing_one_of_its_terms_is_missing_term():
    """Each summand of the softmax Jacobian's pull-back (y_i δ_ij, -y_i y_j) can be the one left out."""
    got = verdicts(r"\frac{\partial y_i}{\partial z_j} = y_i \delta_{ij}",
                   r"\frac{\partial y_i}{\partial z_j} = -y_i y_j",
                   r"\frac{\partial y_i}{\partial z_j} = y_i \delta_{ij} + y_i y_j",
                   r"\frac{\partial y_i}{\partial z_j} = y_i (\delta_{ij} - y_j)")
    assert [g[:2] for g in got[:2]] == [("incorrect", "missing-term")] * 2, got
    assert got[2][:2] == ("incorrect", "sign") and got[3][0] == "correct", got


def test_an_adjoint_built_on_a_wrong_jacobian_entry_is_carried_forward():
    got = verdicts(r"\frac{\partial y_i}{\partial z_j} = y_i (1 - y_j)",            # wrong: δ forgotten
                   r"\bar{z}_j = \sum_i \bar{y}_i y_i (1 - y_j)",                    # follows it
                   r"\bar{z}_j = \sum_i \bar{y}_i y_i (1 + y_j)",                    # wrong on its own
                   r"\frac{\partial y_i}{\partial z_j} = y_i (\delta_{ij} - y_j)",  # fixed
                   r"\bar{z}_j = \sum_i \bar{y}_i y_i (1 - y_j)")                    # no longer follows
    assert got[0][0] == "incorrect"
    assert got[1][:2] == ("incorrect", "carried-forward") and "line 1" in got[1][2], got[1]
    assert got[2][0] == "incorrect" and got[2][1] != "carried-forward", got[2]
    assert got[3][0] == "correct"
    assert got[4][0] == "incorrect" and got[4][1] != "carried-forward", got[4]


def test_an_index_line_right_only_under_an_unstated_premise_says_so():
    problem = (PROBLEM.replace(r"$$z_y = t^\top s$$", "").replace(" + z_y$$", "$$")
               .replace(r"$$s = \sigma(u)$$", "").replace(r"$$u = W_1 x$$", ""))
    doc = read_text("$$\\bar{z}_i = y_i - t_i$$\n$$\\bar{z}_i = \\sum_k t_k y_i - t_i$$\n", "a.md")
    got = {c.line: c for c in check_documents([read_text(problem, "p.md"), doc]).claims if c.file == "a.md"}
    assert (got[1].verdict, got[1].reason) == ("incorrect", "premise"), got[1]
    assert "\\mathbf{1}^\\top t = 1" in got[1].steps[-1].message
    assert got[2].verdict == "correct"
