"""Named functions (`CE(y, t) = -t^\\top \\log y`, SPEC 1) and the textbook's two-argument
`\\text{prod}(a, b)`, the formal product of SPEC 3.2."""
from __future__ import annotations

from itertools import pairwise

import pytest
from test_check import check

from symderiv.errors import ModelError
from symderiv.meaning.build import model_of
from symderiv.meaning.named import MAX_EXPANSION, substitute
from symderiv.read.document import read_text
from symderiv.read.parse import parse_expression
from symderiv.read.show import sexpr

CE = r"""
$$x \in \mathbb{R}^{n}$$
$$t \in \mathbb{R}^{c}$$
$$W \in \mathbb{R}^{c \times n}$$
$$b \in \mathbb{R}^{c}$$
$$CE(y, t) = -t^\top \log y$$
$$z = W x + b$$
$$y = \operatorname{softmax}(z)$$
$$\mathcal{L} = CE(y, t)$$
"""

#: Dive into Deep Learning, 5.3: o = W2 h, s = (λ/2)(‖W1‖² + ‖W2‖²), J = L + s
D2L = r"""
$$x \in \mathbb{R}^{d}$$
$$y \in \mathbb{R}^{q}$$
$$W_1 \in \mathbb{R}^{h \times d}$$
$$W_2 \in \mathbb{R}^{q \times h}$$
$$\lambda \in \mathbb{R}$$
$$\phi : \mathbb{R} \to \mathbb{R}$$
$$z = W_1 x$$
$$h = \phi(z)$$
$$o = W_2 h$$
$$L = \frac{1}{2}\|o - y\|^2$$
$$s = \frac{\lambda}{2}\left(\|W_1\|_F^2 + \|W_2\|_F^2\right)$$
$$J = L + s$$
"""


def verdicts(answers: str, problem: str = CE) -> list[str]:
    return [c.steps[-1].verdict if c.steps else "none" for c in check(answers, problem)]


def test_the_call_reads_as_a_call_and_the_body_is_kept() -> None:
    model = model_of(read_text(CE, "p.md"))
    f = model.named["CE"]
    assert f.params == ("y", "t") and "CE" not in model.symbols
    assert sexpr(parse_expression(r"CE(y, t)")) == sexpr(parse_expression(r"\text{CE}(y, t)"))


def test_substitution_puts_argument_trees_in() -> None:
    body = parse_expression(r"-t^\top \log y")
    out = substitute(body, {"t": parse_expression("(a + b)"), "y": parse_expression("W x")})
    assert sexpr(out) == sexpr(parse_expression(r"-(a + b)^\top \log (W x)"))
    entries = parse_expression(r"-\sum_i t_i \log y_i")
    out = substitute(entries, {"t": parse_expression("T"), "y": parse_expression("y")})
    assert sexpr(out) == sexpr(parse_expression(r"-\sum_i T_i \log y_i"))
    from symderiv.errors import UnsupportedError
    with pytest.raises(UnsupportedError, match="plain name"):
        substitute(entries, {"t": parse_expression("a + b"), "y": parse_expression("y")})


@pytest.mark.parametrize("line, verdict", [
    (r"\mathcal{L} = CE(y, t)", "correct"),
    (r"\mathcal{L} = \operatorname{CE}(y, t)", "correct"),
    (r"\mathcal{L} = -\mathbf{1}^\top (t \odot \log y)", "correct"),
    (r"CE(y, t) = -t^\top \log y", "correct"),
    (r"CE(\operatorname{softmax}(z), t) = CE(y, t)", "correct"),
    (r"\bar{y} = -\frac{t}{y}", "correct"),
    (r"\mathcal{L} = CE(t, y)", "incorrect"),  # swapped arguments
    (r"\mathcal{L} = -CE(y, t)", "incorrect"),  # sign
    (r"\mathcal{L} = 2 CE(y, t)", "incorrect"),  # x2
    (r"CE(y, t) = -y^\top \log t", "incorrect"),
    (r"CE(y, t) = -t^\top y", "incorrect"),
    (r"\mathcal{L} = CE(y)", "invalid"),  # one argument: C E (y), a product of unknowns
    (r"\mathcal{L} = CE(y, t, t)", "invalid"),
    (r"\mathcal{L} = MSE(y, t)", "invalid"),
])
def test_named_function_claims(line: str, verdict: str) -> None:
    assert verdicts(f"$${line}$$") == [verdict]


def test_wrong_arity_and_unknown_names_say_what_to_write() -> None:
    (c,) = check(r"$$\mathcal{L} = CE(y, t, t)$$", CE)
    assert "takes 2 arguments (y, t), not 3" in c.steps[-1].message
    (c,) = check(r"$$\mathcal{L} = MSE(y, t)$$", CE)
    assert "defined in the problem first" in c.steps[-1].message


@pytest.mark.parametrize("definition, words", [
    (r"$$CE(y, y) = y^\top y$$", "different names"),
    (r"$$\operatorname{tanh}(y, t) = y^\top t$$", "a new name"),
])
def test_bad_definitions_are_model_errors(definition: str, words: str) -> None:
    with pytest.raises(ModelError, match=words):
        model_of(read_text(CE.replace(r"$$CE(y, t) = -t^\top \log y$$", definition), "p.md"))


def test_an_expansion_bomb_is_refused() -> None:
    names = ["F" + chr(ord("a") + k) for k in range(20)]  # Fa, Fb, ...: each calls the one before twice
    lines = [r"$$x \in \mathbb{R}^{n}$$", r"$$Fa(u, v) = u^\top v$$"]
    lines += [f"$${g}(u, v) = {f}(u, v) + {f}(v, u)$$" for f, g in pairwise(names)]
    lines += [f"$$\\mathcal{{L}} = {names[-1]}(x, x)$$"]
    with pytest.raises(ModelError, match=f"more than {MAX_EXPANSION:,}"):
        model_of(read_text("\n".join(lines), "p.md"))


# ---- \text{prod} ------------------------------------------------------------------------------

@pytest.mark.parametrize("line, verdict", [
    ((r"\frac{\partial J}{\partial W_2} = \text{prod}\left(\frac{\partial J}{\partial o}, \frac{\partial o}{\partial W_2}\right)"
      r" + \text{prod}\left(\frac{\partial J}{\partial s}, \frac{\partial s}{\partial W_2}\right)"), "correct"),
    (r"\frac{\partial J}{\partial W_2} = \frac{\partial J}{\partial o} h^\top + \lambda W_2", "correct"),
    ((r"\frac{\partial J}{\partial h} = \text{prod}\left(\frac{\partial J}{\partial o}, \frac{\partial o}{\partial h}\right)"
      r" = W_2^\top \frac{\partial J}{\partial o}"), "correct"),
    ((r"\frac{\partial J}{\partial z} = \text{prod}\left(\frac{\partial J}{\partial h}, \frac{\partial h}{\partial z}\right)"
      r" = \frac{\partial J}{\partial h} \odot \phi'(z)"), "correct"),
    ((r"\frac{\partial J}{\partial o} = \text{prod}\left(\frac{\partial J}{\partial L}, \frac{\partial L}{\partial o}\right)"
      r" = o - y"), "correct"),
    ((r"\frac{\partial J}{\partial W_1} = \text{prod}\left(\frac{\partial J}{\partial z}, \frac{\partial z}{\partial W_1}\right)"
      r" + \text{prod}\left(\frac{\partial J}{\partial s}, \frac{\partial s}{\partial W_1}\right)"), "correct"),
    (r"\bar{h} = \text{prod}(\frac{\partial o}{\partial h}, \bar{o})", "correct"),  # either order
    (r"\bar{h} = \mathrm{prod}(\bar{o}, \frac{\partial o}{\partial h})", "correct"),
    # mutants
    (r"\frac{\partial J}{\partial W_2} = \text{prod}\left(\frac{\partial J}{\partial o}, \frac{\partial o}{\partial W_2}\right)",
     "incorrect"),  # the regulariser's term dropped
    ((r"\frac{\partial J}{\partial W_2} = -\text{prod}\left(\frac{\partial J}{\partial o}, \frac{\partial o}{\partial W_2}\right)"
      r" - \text{prod}\left(\frac{\partial J}{\partial s}, \frac{\partial s}{\partial W_2}\right)"), "incorrect"),  # sign
    (r"\frac{\partial J}{\partial h} = 2\, \text{prod}\left(\frac{\partial J}{\partial o}, \frac{\partial o}{\partial h}\right)",
     "incorrect"),  # x2
    (r"\frac{\partial J}{\partial z} = \text{prod}\left(\frac{\partial J}{\partial o}, \frac{\partial h}{\partial z}\right)",
     "incorrect"),  # the wrong adjoint
    ((r"\frac{\partial J}{\partial h} = \text{prod}\left(\frac{\partial J}{\partial o}, \frac{\partial o}{\partial h}\right)"
      r" = W_2 \frac{\partial J}{\partial o}"), "invalid"),  # transpose dropped
    ((r"\frac{\partial J}{\partial z} = \text{prod}\left(\frac{\partial J}{\partial h}, \frac{\partial h}{\partial z}\right)"
      r" = \frac{\partial J}{\partial h} \odot \phi(z)"), "incorrect"),  # phi for phi'
    (r"\bar{h} = \text{prod}(\frac{\partial o}{\partial h}, \frac{\partial h}{\partial z})", "invalid"),  # no adjoint
    (r"\bar{h} = \text{prod}(\bar{o}, W_2)", "invalid"),  # no partial
    (r"\bar{h} = \text{prod}(\bar{o})", "invalid"),
])
def test_prod_is_the_formal_product(line: str, verdict: str) -> None:
    claims = check(f"$${line}$$", D2L)
    assert len(claims) == 1
    got = [s.verdict for s in claims[0].steps]
    if verdict == "correct":
        assert set(got) == {"correct"}, claims[0].steps
    else:
        assert verdict in got and "correct" not in got[-1:], claims[0].steps


def test_prod_without_a_partial_says_how_to_write_it() -> None:
    (c,) = check(r"$$\bar{h} = \text{prod}(\bar{o}, W_2)$$", D2L)
    assert "prod(\\frac{\\partial J}{\\partial o}, \\frac{\\partial o}{\\partial W})" in c.steps[-1].message
