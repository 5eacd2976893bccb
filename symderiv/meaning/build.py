"""A problem document -> its model: declarations, premises, then definitions in order.

The last definition is the loss. Everything else the problem says (a restated symbol, a
claim after the first one) is returned for judging. This lives in `meaning/`, not in the
verifier, so `load`, `testing` and the pytest plugin get a model without importing `verify/`.
"""
from __future__ import annotations

from dataclasses import replace

from ..errors import ModelError, SymderivError, UnsupportedError, no_model
from ..model import ops as o
from ..model.graph import Model
from ..read import tree as t
from ..read.document import Document
from . import named, squares
from .premises import implied_sizes, read_premise
from .resolve import Scope

#: the largest written size: spot checks allocate arrays of the sizes a problem declares
MAX_SIZE = 256


def declared_shape(space: t.Node) -> tuple[o.Shape, str]:
    """The shape and domain a set stands for: R^{c x a} -> (c, a)."""
    if not isinstance(space, (t.RealSpace, t.BinarySet)):
        raise UnsupportedError("a declaration needs a set such as \\mathbb{R}^{n}", space.span)
    dims: list[o.Dim] = []
    for d in space.dims:
        if isinstance(d, t.Number) and d.text.isdigit() and int(d.text[:6]) <= MAX_SIZE and len(d.text) < 6:
            dims.append(int(d.text))
        elif isinstance(d, t.Name):
            dims.append(d.name)
        else:
            raise UnsupportedError(f"a dimension must be a letter or a whole number up to {MAX_SIZE}", d.span)
    if len(dims) > 2:
        raise UnsupportedError("only vectors and matrices are supported", space.span)
    shape = (dims + [1, 1])[:2] if dims else [1, 1]
    if isinstance(space, t.BinarySet):
        return (shape[0], shape[1]), "binary"
    return (shape[0], shape[1]), "positive" if space.positive else "real"


def premise(model: Model, st: t.Statement) -> bool:
    """A premise of the problem (meaning/premises.py), recorded on the model for the sampler."""
    found = read_premise(st, model)
    if found is None:
        return False
    model.premises.append(found)
    model.premises.extend(implied_sizes(found, model))
    return True


def batch_axis(doc: Document) -> str:
    """The problem's front matter `batch` (SPEC 1): `rows` (the default) or `columns`."""
    fm = doc.front_matter if isinstance(doc.front_matter, dict) else {}
    batch = str(fm.get("batch", "rows")).strip().lower()
    if batch not in ("rows", "columns"):
        raise ModelError(f"{doc.file}: front matter `batch: {batch}` must be `rows` or `columns`")
    return batch


def build_model(doc: Document, model: Model | None = None) -> tuple[Model, list[t.Statement]]:
    """The model `doc` declares and defines (into `model` when given), and the statements
    left for judging. Raises ModelError when the problem does not parse or a definition is
    not usable."""
    model = Model() if model is None else model
    model.batch = batch_axis(doc)
    rest: list[t.Statement] = []
    for st in doc.statements:
        st = squares.rewrite(st, model)
        if st.error is None and st.relation == "=" and len(st.parts) == 2 and not rest:
            lhs = squares.defined_name(st.parts[0], model)  # `\sigma^2 = ...`: the name sigma^2
            st = replace(st, parts=(lhs, st.parts[1])) if lhs is not st.parts[0] else st
        if st.error is not None and not rest and not st.inline:
            err = st.error
            raise ModelError(f"the problem does not parse: {getattr(err, 'message', err)}",
                             getattr(err, "span", None) or st.span)
        if st.error is None and st.relation == "in":
            for name in st.names:
                if name.name in model.symbols:
                    rest.append(st)
                    break
                shape, domain = declared_shape(st.parts[0])
                model.declare(name.name, shape, domain, st.span)
            continue
        if st.error is None and st.relation == "maps" and not rest:
            model.declare_function(st.names[0].name, st.span)
            continue
        fn = named.definition(st, model) if not rest else None
        if fn is not None:  # CE(y, t) = -t^\top \log y
            model.named[fn.name] = fn
            continue
        if not rest and premise(model, st):
            continue
        if (st.error is None and st.relation == "=" and len(st.parts) == 2
                and isinstance(st.parts[0], t.Name) and st.parts[0].name not in model.symbols
                and not rest):
            try:
                from . import indices
                scope = Scope.at(model, st)
                name = st.parts[0].name
                entrywise = indices.definition(st.parts[0], st.parts[1], scope)
                if entrywise is not None:  # z_i = \sum_j W_{ij} x_j + b_i: the vector z
                    name, expr = entrywise
                else:
                    expr = scope.resolve(st.parts[1])
                    if isinstance(expr, indices.Entries):  # L = -\sum_i t_i \log y_i
                        expr = indices.lowered(expr, st.span)
                model.define(name, expr, st.span)
            except SymderivError as err:
                raise ModelError(f"the problem's definition of {st.parts[0].name} is not usable: "
                                 f"{err.message}", err.span or st.span) from None
            continue
        if not st.inline:
            rest.append(st)
    return model, rest


def model_of(doc: Document) -> Model:
    """The model of a problem, with a scalar loss; ModelError when there is none."""
    model, _ = build_model(doc)
    if not model.nodes:
        raise no_model(doc.file)
    _ = model.loss  # raises ModelError when the last definition is not a scalar
    return model
