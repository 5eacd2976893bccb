"""The model: declared symbols and the forward nodes, in order; the last node is the loss."""
from __future__ import annotations

from dataclasses import field

from ..errors import ModelError
from ..fastdataclass import dataclass
from ..spans import Span
from . import ops as o
from .ops import Expr, Shape

REPR_MAX = 400


def _clip(text: str) -> str:
    return text if len(text) <= REPR_MAX else text[:REPR_MAX] + "…)"


#: onehot: a {0,1} vector whose entries sum to 1; simplex: positive entries summing to 1
DOMAINS = ("real", "binary", "positive", "onehot", "simplex", "unit")  # unit: in (-1, 1)


@dataclass
class Symbol:
    """A declared input/parameter/target, or a forward node (with its definition)."""

    name: str
    shape: Shape
    domain: str = "real"
    definition: Expr | None = None
    span: Span | None = None

    @property
    def is_node(self) -> bool:
        return self.definition is not None

    def var(self) -> o.Var:
        return o.Var(self.name, self.shape)


@dataclass
class Model:
    """Symbols in declaration order; `nodes` are the defined ones in forward order."""

    symbols: dict[str, Symbol] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)
    dims: list[str] = field(default_factory=list)
    premises: list = field(default_factory=list)  # meaning.premises.Premise, in the problem's order
    batch: str = "rows"  # front matter `batch`: the axis softmax of a matrix normalises (rows or columns)
    #: generic functions (`\\phi : \\mathbb{R} \\to \\mathbb{R}`): the called name (`phi`) -> its declaration
    functions: dict[str, Span | None] = field(default_factory=dict)
    #: named functions (`CE(y, t) = -t^\\top \\log y`): name -> meaning.named.Named
    named: dict[str, object] = field(default_factory=dict)

    # ---- building ------------------------------------------------------------------------
    def declare(self, name: str, shape: Shape, domain: str = "real", span: Span | None = None) -> o.Var:
        if name in self.symbols:
            raise ModelError(f"{name} is declared twice", span)
        if domain not in DOMAINS:
            raise ModelError(f"unknown domain {domain!r} for {name}", span)
        for d in shape:
            if isinstance(d, str) and d not in self.dims:
                self.dims.append(d)
        self.symbols[name] = Symbol(name, shape, domain, None, span)
        return o.Var(name, shape)

    def declare_function(self, name: str, span: Span | None = None) -> str:
        """A generic function, by the name a call has (`phi` for `\\phi`); its record's name."""
        from .elementwise import generic_name
        key = name.lstrip("\\")
        if key in self.functions or name in self.symbols:
            raise ModelError(f"{name} is declared twice", span)
        self.functions[key] = span
        return generic_name(key)

    def define(self, name: str, expr: Expr, span: Span | None = None) -> o.Var:
        if name in self.symbols:
            raise ModelError(f"{name} is already defined", span)
        for d in expr.shape:
            if isinstance(o.find(d), o.SizeVar):
                raise ModelError(f"the size of {name} cannot be inferred", span)
        shape = (o.find(expr.shape[0]), o.find(expr.shape[1]))
        self.symbols[name] = Symbol(name, shape, "real", expr, span)  # type: ignore[arg-type]
        self.nodes.append(name)
        return o.Var(name, shape)  # type: ignore[arg-type]

    def _repr_latex_(self) -> str:
        from ..report.notebook import model_latex
        return model_latex(self)

    def __repr__(self) -> str:
        """Bounded: names and shapes, never the definitions."""
        inputs = ", ".join(f"{n} {o.shape_str(s.shape)}" for n, s in self.symbols.items() if not s.is_node)
        nodes = ", ".join(self.nodes)
        return _clip(f"Model(inputs: {inputs or '-'}; nodes: {nodes or '-'})")

    # ---- reading -------------------------------------------------------------------------
    @property
    def loss(self) -> str:
        if not self.nodes:
            raise ModelError("the problem defines no forward node, so there is no loss")
        name = self.nodes[-1]
        if not o.is_scalar_shape(self.symbols[name].shape):
            raise ModelError(f"the loss {name} (the last definition) must be scalar, "
                             f"not {o.shape_str(self.symbols[name].shape)}", self.symbols[name].span)
        return name

    @property
    def inputs(self) -> list[str]:
        return [n for n, s in self.symbols.items() if not s.is_node]

    def shape(self, name: str) -> Shape:
        return self.symbols[name].shape

    def consumers(self) -> dict[str, list[str]]:
        """For each symbol, the nodes whose definitions use it, in forward order."""
        used: dict[str, list[str]] = {n: [] for n in self.symbols}
        for node in self.nodes:
            for leaf in leaves(self.symbols[node].definition):  # type: ignore[arg-type]
                if node not in used[leaf]:
                    used[leaf].append(node)
        return used

    def backward_order(self) -> list[str]:
        """Nodes from the loss back, then the inputs: every adjoint after those it needs."""
        return list(reversed(self.nodes)) + self.inputs


def leaves(e: Expr) -> list[str]:
    """Names of the Var leaves of an expression, each once, in first-seen order."""
    from .walk import nodes
    return list(dict.fromkeys(x.name for x in nodes(e) if isinstance(x, o.Var)))
