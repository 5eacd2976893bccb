"""Every notation of the dialect, one small case each, pinned as a whole tree (see read/show.py)."""
from __future__ import annotations

import pytest

from symderiv.errors import ParseError
from symderiv.read import tree as T
from symderiv.read.parse import parse_expression, parse_statement
from symderiv.read.show import sexpr, sexpr_statement

EXPRESSIONS = [
    # names and their decorations
    (r"W_1", "W_1"), (r"W_{1}", "W_1"), (r"z_y", "z_y"), (r"z_{y}", "z_y"), (r"b_{12}", "b_{12}"),
    (r"\eta", r"\eta"), (r"\lambda", r"\lambda"), (r"\mu", r"\mu"), (r"\sigma", r"\sigma"),
    (r"\sigma^2", r"(^ \sigma 2)"), (r"\ell", r"\ell"), (r"\mathcal{L}", r"\mathcal{L}"),
    (r"\mathbf{x}", "x"), (r"\boldsymbol{x}", "x"), (r"\bm{x}", "x"), (r"\vec{x}", "x"),
    (r"\vec x", "x"), (r"\mathit{x}", "x"), (r"\mathbf{W}_1", "W_1"), (r"\boldsymbol{\mu}", r"\mu"),
    (r"\hat{y}", r"\hat{y}"), (r"\hat y", r"\hat{y}"), (r"\tilde{x}", r"\tilde{x}"),
    (r"W^{(1)}", "W^{(1)}"), (r"h^{[2]}", "h^{[2]}"), (r"\bar{W}^{(1)}", "bar(W^{(1)})"),
    (r"W^{(1)} x^{(1)}", "(* W^{(1)} x^{(1)})"), (r"W^{(1)}^T", "(T W^{(1)})"),
    (r"\varepsilon", r"\epsilon"), (r"xy", "(* x y)"), (r"I", "I"), (r"x_1y", "(* x_1 y)"),
    # adjoints
    (r"\bar{z}", "bar(z)"), (r"\bar z", "bar(z)"), (r"\overline{z}", "bar(z)"),
    (r"\bar{z}_y", "bar(z_y)"), (r"\bar{z_y}", "bar(z_y)"), (r"\bar{z}_{y}", "bar(z_y)"),
    (r"\bar{W}_2", "bar(W_2)"), (r"\bar{\mathcal{L}}", r"bar(\mathcal{L})"),
    (r"\overline{\mathcal{L}}", r"bar(\mathcal{L})"), (r"\bar{\eta}", r"bar(\eta)"),
    (r"\bar{\boldsymbol{x}}", "bar(x)"), (r"\bar{W}_2^T", "(T bar(W_2))"),
    # numbers and fractions
    ("2", "2"), ("0.5", "0.5"), (r"\frac{a}{b}", "(/ a b)"), (r"\tfrac{1}{2}", "(/ 1 2)"),
    (r"\dfrac{1}{2}", "(/ 1 2)"), (r"\frac 1 2", "(/ 1 2)"), ("a / b", "(/ a b)"),
    ("a b / c d", "(* (/ (* a b) c) d)"),
    # sums, products, Hadamard and precedence
    ("a + b - c", "(+ a b -c)"), ("-a + b", "(+ -a b)"), ("-a b", "(+ -(* a b))"),
    ("a - (b - c)", "(+ a -(+ b -c))"), (r"a \cdot b", "(* a b)"), (r"a \times b", "(* a b)"),
    ("a * b", "(* a b)"), ("(a b) c", "(* a b c)"), (r"a \cdot -b", "(* a (+ -b))"),
    (r"a \odot b", "(o a b)"), (r"a \circ b", "(o a b)"), (r"a \odot b \odot c", "(o (o a b) c)"),
    (r"a \odot -b", "(o a (+ -b))"), (r"a + b \odot c d", "(+ a (o b (* c d)))"),
    (r"(v) \odot \text{diag}(s) x^T", "(o v (* diag(s) (T x)))"),
    # postfix
    ("x^T", "(T x)"), (r"x^\top", "(T x)"), (r"x^{\top}", "(T x)"), (r"x^{\intercal}", "(T x)"),
    (r"x^\intercal", "(T x)"), ("x^{T}", "(T x)"), (r"x^{\mathsf{T}}", "(T x)"),
    (r"x^\mathsf{T}", "(T x)"), (r"x^\mathrm{T}", "(T x)"), ("W'", "(T W)"), ("(V W)'", "(T (* V W))"),
    ("x^Ty", "(* (T x) y)"), ("X^{-1}", "(^ X (+ -1))"), ("x^2", "(^ x 2)"), ("x^23", "(* (^ x 2) 3)"),
    ("x^{1/2}", "(^ x (/ 1 2))"), ("x^n", "(^ x n)"), (r"x^{9^{9^{9^9}}}", "(^ x (^ 9 (^ 9 (^ 9 9))))"),
    (r"(U)^T", "(T U)"), (r"W_2^{\top}", "(T W_2)"),
    # grouping and spacing
    (r"\left( a + b \right)", "(+ a b)"), (r"\left[ a \right]", "a"), (r"\big( a \big)", "a"),
    (r"\Big( a \Big)", "a"), (r"\bigl( a \bigr)", "a"), (r"\Bigl( a \Bigr)", "a"),
    (r"\bigg( a \bigg)", "a"), ("[a + b]", "(+ a b)"), ("{a + b}", "(+ a b)"),
    (r"a\,b\;c\:d\!e\ f~g", "(* a b c d e f g)"), (r"\displaystyle a \quad b", "(* a b)"),
    # functions
    (r"\sigma(z)", "sigma(z)"), (r"\sigma'(z)", "sigma'(z)"), (r"\sigma^{\prime}(z)", "sigma'(z)"),
    (r"\sigma^\prime(z)", "sigma'(z)"), (r"\sigma \left( z \right)", "sigma(z)"),
    (r"\tanh(a)", "tanh(a)"), (r"\tanh'(a)", "tanh'(a)"), (r"\tanh^2(a)", "tanh^2(a)"),
    (r"\exp(x)", "exp(x)"), (r"\log(x)", "log(x)"), (r"\ln(x)", "log(x)"), (r"\sqrt{x}", "sqrt(x)"),
    (r"\mathrm{ReLU}(u)", "relu(u)"), (r"\operatorname{ReLU}(u)", "relu(u)"), (r"\text{ReLU}(u)", "relu(u)"),
    (r"\mathrm{relu}(u)", "relu(u)"), ("ReLU(u)", "relu(u)"), ("relu(u)", "relu(u)"),
    (r"\mathrm{ReLU}'(u)", "relu'(u)"), (r"\operatorname{softmax}(z)", "softmax(z)"),
    ("softmax(z)", "softmax(z)"), (r"\operatorname{diag}(s)", "diag(s)"), (r"\text{diag}(s)", "diag(s)"),
    (r"\mathrm{diag}(s)", "diag(s)"), ("diag(s)", "diag(s)"), (r"\operatorname{tr}(X)", "tr(X)"),
    (r"\mathrm{tr}(X)", "tr(X)"), (r"\text{tr}(X)", "tr(X)"), (r"\operatorname{Tr}(X)", "tr(X)"),
    (r"\operatorname{trace}(X)", "tr(X)"), (r"\det(X)", "det(X)"), (r"\det X", "det(X)"),
    (r"\operatorname{softplus}(x)", "softplus(x)"), (r"\operatorname{sum}(x)", "sum(x)"),
    (r"\operatorname{sigmoid}(x)", "sigma(x)"), (r"\text{sigmoid}(x)", "sigma(x)"),
    (r"\log y", "log(y)"), (r"\ln y", "log(y)"), (r"\exp x", "exp(x)"), (r"\tanh a", "tanh(a)"),
    (r"\log y x", "(* log(y) x)"), (r"\log y^2", "log((^ y 2))"), (r"\exp(-z)", "exp((+ -z))"),
    (r"\operatorname{foo}(x)", "foo(x)"), (r"\mathrm{foo}(x)", "foo(x)"), (r"\text{foo}(x, y)", "foo(x, y)"),
    (r"\tanh(a)^T", "(T tanh(a))"), (r"\mathrm{ReLU}(u)^\top", "(T relu(u))"),
    # derivatives
    (r"\frac{\partial a}{\partial b}", "d(a/b)"), (r"\frac{\partial \mathcal{L}}{\partial W_1}", r"d(\mathcal{L}/W_1)"),
    (r"\frac{\partial L}{\partial \boldsymbol{x}}", "d(L/x)"), (r"\partial a / \partial b", "d(a/b)"),
    (r"\dfrac{\partial f}{\partial X}", "d(f/X)"), (r"\nabla_{x} \mathcal{L}", r"grad_x(\mathcal{L})"),
    (r"\nabla_x L", "grad_x(L)"), (r"\nabla_{\boldsymbol{x}} L", "grad_x(L)"),
    (r"\nabla_{W_1}\mathcal{L}", r"grad_W_1(\mathcal{L})"),
    # norms
    (r"\|x\|", "norm2(x)"), (r"\lVert x \rVert", "norm2(x)"), (r"\Vert x \Vert", "norm2(x)"),
    (r"\left\| x \right\|", "norm2(x)"), (r"\|X\|_F", "normF(X)"), (r"\|X\|_{F}", "normF(X)"),
    (r"\|x\|_2", "norm2(x)"), (r"\|x\|^2", "(^ norm2(x) 2)"), (r"\|X\|_F^2", "(^ normF(X) 2)"),
    (r"\|X\|^2_F", "(^ normF(X) 2)"), (r"\left\| y - t \right\|^2", "(^ norm2((+ y -t)) 2)"),
    (r"\|\|a\| b\|", "norm2((* norm2(a) b))"), ("||x||", "norm2(x)"),
    # ones and indicators
    (r"\mathbf{1}", "1vec"), (r"\boldsymbol{1}", "1vec"), (r"\vec{1}", "1vec"), (r"\mathbb{1}", "1vec"),
    (r"\bm{1}", "1vec"), (r"\mathbf{1}^\top x", "(* (T 1vec) x)"), (r"\mathbf{1} - u", "(+ 1vec -u)"),
    (r"\mathbb{1}[u > 0]", "[u > 0]"), (r"\mathbb{1}(u>0)", "[u > 0]"), (r"\mathbb{I}(z > 0)", "[z > 0]"),
    (r"\mathbb{I}[z>0]", "[z > 0]"), (r"\mathbf{1}[z>0]", "[z > 0]"), (r"\mathbb{1}_{z > 0}", "[z > 0]"),
    (r"\mathbb{1}\{z>0\}", "[z > 0]"), (r"\mathbb{1}[z \geq 0]", "[z >= 0]"), (r"\mathbb{1}[z \ge 0]", "[z >= 0]"),
    (r"\mathbb{1}[z >= 0]", "[z >= 0]"), (r"\mathbb{1}[z < 0]", "[z < 0]"), (r"\mathbb{1}[z \leq 0]", "[z <= 0]"),
    (r"\mathbb{1}[z \le 0]", "[z <= 0]"), (r"\mathbb{1}\left[ z > 0 \right]", "[z > 0]"),
    (r"\mathbf{1} [W x]", "(* 1vec W x)"),
]


@pytest.mark.parametrize(("text", "expected"), EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_expression(text: str, expected: str) -> None:
    assert sexpr(parse_expression(text)) == expected


STATEMENTS = [
    (r"x \in \mathbb{R}^{a}", "x in R^a"), (r"W \in \mathbb{R}^{c \times a}", "W in R^cxa"),
    (r"s \in \mathbb{R}", "s in R"), (r"t \in \{0,1\}", "t in {0,1}"), (r"t \in \{0, 1\}", "t in {0,1}"),
    (r"t \in \lbrace 0,1 \rbrace", "t in {0,1}"),
    (r"x, y \in \mathbb{R}^n", "x, y in R^n"), (r"a \in \mathbb{R}_{+}", "a in R+"),
    (r"a \in \mathbb{R}_{>0}", "a in R+"), (r"x \in \R^n", "x in R^n"), (r"x \in \mathbb{R}^{1}", "x in R^1"),
    (r"X \in \mathbb{R}^{m\times n}", "X in R^mxn"), (r"\mathbf{x} \in \mathbb{R}^n", "x in R^n"),
    (r"W_{1} \in \mathbb{R}^{m \times n}", "W_1 in R^mxn"), (r"x \in R^n", "x in R^n"),
    ("z = W x", "z = (* W x)"), ("a = b = c", "a = b = c"), ("a + b", "(+ a b)"),
    (r"\sigma'(z) = \sigma(z)(1-\sigma(z))", "sigma'(z) = (* sigma(z) (+ 1 -sigma(z)))"),
    (r"z := W x", "z = (* W x)"),
]


@pytest.mark.parametrize(("text", "expected"), STATEMENTS, ids=[s[0] for s in STATEMENTS])
def test_statement(text: str, expected: str) -> None:
    st = parse_statement(text)
    assert st.error is None, st.error
    assert sexpr_statement(st) == expected
    assert st.relation == ("in" if " in " in expected else "=")


ERRORS = [  # text, words of the message, column of the error
    (r"\bar{W}_1 = \bar{a} x^{\top", "unclosed brace `{`", 23),
    (r"\bar{X} = X \left(B + B^\top\right", "`\\right` without its delimiter", 29),
    (r"\bar{X} = W^\top V^\top (Y - T))", "one `)` too many", 32),
    (r"\bar{c} = v \odot (\mathbf{1} - u) \odot", "dangling `\\odot` at the end", 36),
    ("a = (b", "unclosed parenthesis `(`", 5), ("a = b]", "one `]` too many", 6),
    ("a = b}", "one `}` too many", 6), (r"a = \left( b )", "closed by a plain `)`", 14),
    (r"a = ( b \right)", "without `\\left`", 9), (r"a = \left( b", "unclosed `\\left`", 5),
    ("a = (b]", "does not match", 7), (r"a = \|b", "unclosed norm", 5),
    ("a = b +", "dangling `+`", 7), ("= b", "nothing on its left", 1), ("a = = b", "missing operand", 5),
    ("a + * b", "missing operand", 5), (r"a = \text{since} b", "text `\\text{since}`", 5),
    (r"a = \foo", "unknown command `\\foo`", 5), (r"a \neq b", "relation `\\neq`", 3),
    (r"a = \mathbb{R}^n", "belongs in a declaration", 5),
    ("a = x > 0", "outside an indicator", 7), (r"\bar{x} \in \mathbb{R}^n", "`\\in` must follow", 9),
    (r"t \in \{0,2\}", "only the label set", 7), (r"x \in S^n", "expected a set", 7),
    (r"a = \prod_i x_i", "`\\prod` is not supported", 5), ("a = b \\\\ c", "line break", 7),
    ("a = ()", "empty brackets", 5), (r"a = \nabla L", "needs a subscript", 5),
    ("", "empty statement", 1), ("a = _i x", "subscript `_i`", 5), (r"a = b, c", "unexpected `,`", 6),
    (r"\begin{pmatrix} a \end{pmatrix}", "environment `pmatrix`", 1), (r"x^\top'", None, None),
]


@pytest.mark.parametrize(("text", "words", "col"), ERRORS, ids=[e[0] or "empty" for e in ERRORS])
def test_error(text: str, words: str | None, col: int | None) -> None:
    st = parse_statement(text, "f.md", 7, 3)
    if words is None:  # not an error after all
        assert st.error is None
        return
    assert isinstance(st.error, ParseError)
    assert words in st.error.message
    assert st.error.span is not None and st.error.span.file == "f.md" and st.error.span.line == 7
    assert st.error.span.col == col + 2
    assert st.parts == () and st.relation == "="


def test_parse_expression_raises() -> None:
    with pytest.raises(ParseError, match="dangling"):
        parse_expression("a +")


def test_spans_are_file_positions() -> None:
    st = parse_statement(r"\bar{W} = (v) \odot \text{diag}(s) x^T", "s.md", 40, 3)
    lhs, rhs = st.parts
    assert (st.span.line, st.span.col, st.span.end_col) == (40, 3, 41)
    assert (lhs.span.col, lhs.span.end_col) == (3, 10)
    assert isinstance(rhs, T.Hadamard) and isinstance(rhs.right, T.Product)
    call, tr = rhs.right.factors
    assert (call.span.col, call.span.end_col) == (23, 37)  # \text{diag}(s)
    assert (tr.span.col, tr.span.end_col) == (38, 41)  # x^T


def test_multiline_statement_positions() -> None:
    st = parse_statement("a = b\n  + c", "m.md", 10, 5)
    assert st.error is None
    add = st.parts[1]
    assert isinstance(add, T.Add)
    c = add.terms[1][1]
    assert (c.span.line, c.span.col) == (11, 5)
    assert (st.span.line, st.span.col, st.span.end_line, st.span.end_col) == (10, 5, 11, 6)


def test_leading_blanks_move_the_start() -> None:
    st = parse_statement("   x = 1", "f", 2, 4)
    assert (st.span.line, st.span.col) == (2, 7) and st.latex == "x = 1"


def test_flags() -> None:
    st = parse_statement("x \\in \\mathbb{R}", side=True, inline=True)
    assert st.side and st.inline


def _meta(col: int, end: int):  # type: ignore[no-untyped-def]
    from symderiv.read.lalr import Meta
    m = Meta()
    m.line, m.column, m.end_line, m.end_column, m.empty = 1, col, 1, end, False
    return m


def test_builder_on_hand_built_trees() -> None:
    """The Transformer alone: `a b / c \\odot d \\odot e` from a tree, spans from the metas."""
    from symderiv.read.lalr import Token, Tree
    from symderiv.read.transform import Builder

    def name(ch: str, col: int) -> Tree:
        return Tree("name", [Token("NAME", ch)], _meta(col, col + 1))

    prod = Tree("product", [name("a", 1), name("b", 3), Token("SLASH", "/"), name("c", 7)], _meta(1, 8))
    had = Tree("hadamard", [prod, name("d", 15), name("e", 23)], _meta(1, 24))
    node = Builder("h.md", 4, 10).transform(had)
    assert sexpr(node) == "(o (o (/ (* a b) c) d) e)"
    assert (node.span.line, node.span.col, node.span.end_col) == (4, 10, 33)
    assert isinstance(node, T.Hadamard) and (node.left.span.col, node.left.span.end_col) == (10, 25)


def test_subscript_after_the_transpose_belongs_to_the_name():
    from symderiv.read.parse import parse_statement
    from symderiv.read.show import sexpr
    for text in (r"W^T_2 e", r"W^\top_{2} e"):
        st = parse_statement(text)
        assert st.error is None and sexpr(st.parts[0]) == "(* (T W_2) e)"


def test_frac_takes_one_digit_per_unbraced_argument():
    from symderiv.read.parse import parse_statement
    from symderiv.read.show import sexpr
    assert sexpr(parse_statement(r"\frac12 e").parts[0]) == "(* (/ 1 2) e)"
    assert sexpr(parse_statement(r"\frac{12}{5}").parts[0]) == "(/ 12 5)"


@pytest.mark.parametrize("text", ["a = |x", r"a = \left| x", "a = x|"])
def test_an_unclosed_absolute_value_bar_is_a_parse_error(text: str) -> None:
    st = parse_statement(text, "f.md", 7, 3)
    assert isinstance(st.error, ParseError) and st.error.span is not None
