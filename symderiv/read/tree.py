"""The parse tree of one statement: what was written, with spans, before any meaning is given.

The reader only decides syntax. Whether `h(x)` is an application or a product, whether `I`
is the identity or a declared matrix, and every shape, are decided later by `meaning.resolve`
with the symbol table. Names are canonical LaTeX strings: `x` for `\\mathbf{x}`, `W_1` for
`W_{1}`, `z_y` for `\\bar{z}_y`'s base, `\\eta`, `\\mathcal{L}`.
"""
from __future__ import annotations

from dataclasses import field

from ..fastdataclass import dataclass
from ..spans import Span, excerpt


@dataclass(frozen=True)
class Node:
    span: Span


@dataclass(frozen=True)
class Name(Node):
    """A symbol or a dimension letter: `x`, `W_1`, `\\eta`, `\\mathcal{L}`, `I`."""

    name: str


@dataclass(frozen=True)
class Bar(Node):
    """`\\bar{z}`, `\\overline{z}`, `\\bar{z}_y` (name `z_y`): the adjoint of a node."""

    name: str


@dataclass(frozen=True)
class Number(Node):
    """A decimal literal, kept as written (`2`, `0.5`)."""

    text: str


@dataclass(frozen=True)
class Add(Node):
    """A sum; each term carries its sign (+1 or -1). A leading unary minus is a -1 term."""

    terms: tuple[tuple[int, Node], ...]


@dataclass(frozen=True)
class Product(Node):
    """Juxtaposition, `\\cdot` or `\\times` between operands, in written order."""

    factors: tuple[Node, ...]


@dataclass(frozen=True)
class Hadamard(Node):
    """`\\odot` or `\\circ`."""

    left: Node
    right: Node


@dataclass(frozen=True)
class Frac(Node):
    """`\\frac{a}{b}`, `\\tfrac`, `\\dfrac`, or `a / b`."""

    num: Node
    den: Node


@dataclass(frozen=True)
class Power(Node):
    """`base^{exponent}` other than a transpose."""

    base: Node
    exponent: Node


@dataclass(frozen=True)
class Transpose(Node):
    """`^T`, `^\\top`, `^{\\intercal}`, `^{\\mathsf{T}}`, or `'` after a non-function."""

    arg: Node


@dataclass(frozen=True)
class Call(Node):
    """A named function applied to arguments: `\\sigma'(z)` is func `sigma`, deriv 1.

    func is canonical lower-case (`sigma`, `tanh`, `exp`, `log`, `relu`, `softplus`,
    `softmax`, `logsoftmax`, `diag`, `tr`, `det`, `sqrt`, ...) or the written name of an
    unknown `\\operatorname{...}`/`\\text{...}`/`\\mathrm{...}` word, for the resolver to
    reject. `power` is the `2` of `\\tanh^2(a)`.
    """

    func: str
    args: tuple[Node, ...]
    deriv: int = 0
    power: Node | None = None


@dataclass(frozen=True)
class Partial(Node):
    """`\\frac{\\partial a}{\\partial b}` or `\\nabla_{b} a` (form `nabla`)."""

    num: str
    den: str
    form: str = "frac"


@dataclass(frozen=True)
class Derivative(Node):
    """`\\frac{\\partial}{\\partial X}(E)`, `\\nabla_X E`, `\\frac{d}{dX}E` (order 1) or the Hessian
    `\\nabla^2_x f`, `\\frac{\\partial^2 f}{\\partial x \\partial x^\\top}` (order 2) of an expression.
    form: `partial`, `d` or `nabla`. `wrt2`: the second variable of a mixed second derivative
    (`\\frac{\\partial^2 L}{\\partial w_j \\partial w_k}`: w_j then w_k); None when it is `wrt`."""

    wrt: str
    arg: Node
    form: str = "partial"
    order: int = 1
    wrt2: str | None = None


@dataclass(frozen=True)
class Abs(Node):
    """`|A|`: the determinant of a square matrix."""

    arg: Node


@dataclass(frozen=True)
class PartialOf(Node):
    """`\\frac{\\partial E}{\\partial b}` with an expression E in the numerator (`\\log y_i`)."""

    num: Node
    den: str


@dataclass(frozen=True)
class BigSum(Node):
    """`\\sum_{i=1}^{n} body`, `\\sum_i body`, `\\sum_{j \\neq i} body`: the index, its bounds
    as written (None when not written) and the index it skips."""

    index: str
    body: Node
    lo: str | None = None
    hi: str | None = None
    skip: str | None = None


@dataclass(frozen=True)
class Subscript(Node):
    """`(W)_{ij}`, `[W]_{ij}`, `W^{(2)}_{ij}`, `(\\bar{a}_t)_i`: an entry of a bracketed array."""

    base: Node
    sub: str


@dataclass(frozen=True)
class Norm(Node):
    """`\\|x\\|` (kind `2`) or `\\|X\\|_F` (kind `F`); squaring is a Power around it."""

    arg: Node
    kind: str = "2"


@dataclass(frozen=True)
class Ones(Node):
    """`\\mathbf{1}` and its spellings: the ones vector, size inferred."""


@dataclass(frozen=True)
class Indicator(Node):
    """`\\mathbb{1}[z > 0]`, `\\mathbb{I}(z > 0)`, `\\mathbb{1}_{z > 0}`: op one of > >= < <=."""

    left: Node
    op: str
    right: Node


@dataclass(frozen=True)
class RealSpace(Node):
    """`\\mathbb{R}`, `\\mathbb{R}^{a}`, `\\mathbb{R}^{c \\times a}`; dims are Name or Number.

    `positive` for `\\mathbb{R}_{+}` / `\\mathbb{R}_{>0}`.
    """

    dims: tuple[Node, ...]
    positive: bool = False


@dataclass(frozen=True)
class BinarySet(Node):
    """`\\{0,1\\}`: a scalar label; `\\{0,1\\}^{k}` a vector of them."""

    dims: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Statement:
    """One statement of a document: a `=` chain of parts, or a declaration.

    relation `=`: parts are the =-separated expressions (at least one; one part alone is an
    expression with no claim). relation `in`: names are the declared symbols (Name nodes),
    parts is (space,). relation `>`, `>=`, `<`, `<=`, `succ`, `succeq`: a premise (`m \\geq n`,
    `A \\succ 0`), parts are (left, right). relation `maps`: a generic function's declaration
    (`\\phi : \\mathbb{R} \\to \\mathbb{R}`), names is (its name,), parts is empty. `side` marks a statement that followed a top-level `\\quad *`.
    `inline` marks one read from `$...$` in prose (declarations and adjoint or Jacobian claims). When `error` is set the
    statement could not be parsed and parts is empty. `source` is its file's text from the
    statement's first line to its last, so its nodes can be quoted as written (`excerpt`).
    """

    span: Span
    latex: str
    relation: str
    parts: tuple[Node, ...] = ()
    names: tuple[Name, ...] = ()
    side: bool = False
    inline: bool = False
    error: Exception | None = None
    annotation: Node | None = None  # a trailing `\\in \\mathbb{R}^{q}`: a shape claim on the last part
    source: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def excerpt(self, span: Span) -> str:
        """The written text of `span` (a node of this statement); "" when it is not known."""
        return excerpt(self.source, span, self.span.line)


def children(n: Node) -> list[Node]:
    """The sub-trees of a node, in field order (fields hold nodes, tuples of them, or pairs
    ending in one, as `Add.terms` does)."""
    out: list[Node] = []
    for value in vars(n).values():
        for item in value if isinstance(value, tuple) else (value,):
            item = item[-1] if isinstance(item, tuple) and item else item
            if isinstance(item, Node):
                out.append(item)
    return out
