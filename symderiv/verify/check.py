"""A document's statements -> claims with verdicts: the TA.

The first document (the problem) builds the model: declarations, then definitions of new
names, in order; its last definition is the loss. Every other statement, in every document,
is a claim: a declaration of a known symbol, an adjoint (`\\bar{z} = ...`), a restated
definition, an identity, or a new abbreviation of the student's own (kept for later lines).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..derive.adjoints import Adjoints, derive
from ..errors import ModelError, SymderivError, no_model
from ..model import ops as o
from ..model.graph import Model
from ..meaning.premises import implied_sizes, read_premise
from ..meaning.resolve import Scope, resolve
from ..read import tree as t
from ..read.document import Document
from .equivalence import Instances
from .judge import Judge, declared_shape
from .verdicts import Claim, Report, Step

#: best effort at the target of a line that does not parse: \bar{W}_2, \overline{z_y}
_TARGET = re.compile(r"\\(?:bar|overline)\s*\{?\s*(?:\\(?:mathbf|boldsymbol|vec)\{)?(\\?[A-Za-z]+)\}?"
                     r"(?:_\{?([A-Za-z0-9]+)\}?)?")


@dataclass
class Checker:
    seed: int = 0
    model: Model = field(default_factory=Model)
    claims: list[Claim] = field(default_factory=list)
    judge: Judge | None = None
    local: dict[str, o.Expr] = field(default_factory=dict)
    lines: dict[str, tuple[str, ...]] = field(default_factory=dict)  # file -> its text, for quoting

    # ---- the problem ---------------------------------------------------------------------
    def build(self, doc: Document) -> list[t.Statement]:
        """Declarations and new definitions build the model; the rest is returned as claims."""
        rest: list[t.Statement] = []
        self.lines[doc.file] = getattr(doc, "lines", ())
        self.model.batch = batch_axis(doc)
        for st in doc.statements:
            if st.error is not None and not rest and not st.inline:
                err = st.error
                raise ModelError(f"the problem does not parse: {getattr(err, 'message', err)}",
                                 getattr(err, "span", None) or st.span)
            if st.error is None and st.relation == "in":
                for name in st.names:
                    if name.name in self.model.symbols:
                        rest.append(st)
                        break
                    shape, domain = declared_shape(st.parts[0])
                    self.model.declare(name.name, shape, domain, st.span)
                continue
            if not rest and self._constraint(st):
                continue
            if (st.error is None and st.relation == "=" and len(st.parts) == 2
                    and isinstance(st.parts[0], t.Name) and st.parts[0].name not in self.model.symbols
                    and not rest):
                try:
                    expr = resolve(st.parts[1], Scope.at(self.model, st, self.lines))
                    self.model.define(st.parts[0].name, expr, st.span)
                except SymderivError as err:
                    raise ModelError(f"the problem's definition of {st.parts[0].name} is not usable: "
                                     f"{err.message}", err.span or st.span) from None
                continue
            if not st.inline:
                rest.append(st)
        return rest

    def _constraint(self, st: t.Statement) -> bool:
        """A premise of the problem (meaning/premises.py): recorded for the sampler."""
        premise = read_premise(st, self.model)
        if premise is None:
            return False
        self.model.premises.append(premise)
        self.model.premises.extend(implied_sizes(premise, self.model))
        return True

    def start(self) -> Adjoints:
        _ = self.model.loss  # raises ModelError when there is none
        adjoints = derive(self.model)
        self.judge = Judge(self.model, adjoints, Instances(adjoints, self.seed), lines=self.lines)
        return adjoints

    # ---- the claims ----------------------------------------------------------------------
    def check(self, st: t.Statement) -> list[Claim]:
        assert self.judge is not None
        if st.error is not None:
            return [self._unparsable(st)]
        if st.relation == "in":
            return [self.judge.declaration(st, n) for n in st.names]
        if st.relation != "=":
            return [Claim(st.span.file, st.span.line, "identity", None, st.latex,
                          [Step(st.latex, "invalid", "unsupported", span=st.span,
                                message="an inequality is a premise: only a problem states premises, "
                                        "beside its declarations")], st.span, st.side)]
        if len(st.parts) < 2:
            return [Claim(st.span.file, st.span.line, "identity", None, st.latex,
                          [Step(st.latex, "invalid", "parse", message="not a claim: there is no `=`",
                                span=st.span)], st.span, st.side)]
        lhs = st.parts[0]
        target = self._adjoint_target(lhs)
        if target is not None:
            return [self.judge.adjoint(st, target, self.local)]
        if isinstance(lhs, t.Name) and lhs.name in self.model.symbols and self.model.symbols[lhs.name].is_node:
            return [self.judge.identity(st, self.local, kind="definition", target=lhs.name)]
        if (isinstance(lhs, t.Name) and len(st.parts) == 2 and lhs.name not in self.model.symbols
                and lhs.name not in self.local):
            return [self._abbreviation(st, lhs.name)]
        return [self.judge.identity(st, self.local)]

    def _adjoint_target(self, lhs: t.Node) -> str | None:
        scope = Scope(self.model)
        if isinstance(lhs, t.Bar):
            return scope.canonical(lhs.name) or lhs.name
        if isinstance(lhs, t.Partial) and scope.canonical(lhs.num) == self.model.loss:
            return scope.canonical(lhs.den) or lhs.den
        return None

    def _abbreviation(self, st: t.Statement, name: str) -> Claim:
        claim = Claim(st.span.file, st.span.line, "definition", name, st.latex, [], st.span, st.side, listed=False)
        try:
            self.local[name] = resolve(st.parts[1], Scope.at(self.model, st, self.lines, self.local))
        except SymderivError as err:
            claim.listed = True
            claim.steps.append(Step(st.latex, "invalid", err.reason, message=err.message, span=err.span))
        return claim

    def _unparsable(self, st: t.Statement) -> Claim:
        err = st.error
        text = st.latex.lstrip()
        kind = "adjoint" if text.startswith(("\\bar", "\\overline", "\\frac{\\partial", "\\nabla")) else "identity"
        m = _TARGET.match(text)
        target = (m.group(1) + (f"_{m.group(2)}" if m.group(2) else "")) if m and kind == "adjoint" else None
        reason = getattr(err, "reason", "parse")
        msg = getattr(err, "message", str(err))
        step = Step(st.latex, "invalid", reason, message=msg, span=getattr(err, "span", None) or st.span)
        return Claim(st.span.file, st.span.line, kind, target, st.latex, [step], st.span, st.side)


def batch_axis(doc: Document) -> str:
    """The problem's front matter `batch` (SPEC 1): `rows` (the default) or `columns`."""
    fm = doc.front_matter if isinstance(doc.front_matter, dict) else {}
    batch = str(fm.get("batch", "rows")).strip().lower()
    if batch not in ("rows", "columns"):
        raise ModelError(f"{doc.file}: front matter `batch: {batch}` must be `rows` or `columns`")
    return batch


def check_documents(docs: list[Document], seed: int = 0) -> Report:
    """Judge every statement of `docs`; docs[0] is the problem. Raises ModelError when the
    problem does not define a model with a scalar loss."""
    checker = Checker(seed)
    pending = checker.build(docs[0])
    if not checker.model.nodes:
        raise no_model(docs[0].file)
    adjoints = checker.start()
    claims: list[Claim] = []
    for d in docs[1:]:
        checker.lines[d.file] = getattr(d, "lines", ())
    for st in pending + [s for d in docs[1:] for s in d.statements]:
        try:
            claims.extend(checker.check(st))
        except SymderivError as err:  # a bad line never stops the others
            claims.append(Claim(st.span.file, st.span.line, "identity", None, st.latex,
                                [Step(st.latex, "invalid", err.reason, message=err.message, span=err.span)],
                                st.span, st.side))
        except (ArithmeticError, ValueError, RecursionError, MemoryError) as err:
            claims.append(Claim(st.span.file, st.span.line, "identity", None, st.latex,
                                [Step(st.latex, "invalid", "unsupported", span=st.span,
                                      message=f"cannot evaluate this line ({type(err).__name__})")],
                                st.span, st.side))
    unlisted = [Claim(sym.span.file, sym.span.line, "definition" if sym.is_node else "declaration", name,
                      name, [], sym.span, listed=False)
                for name, sym in checker.model.symbols.items() if sym.span is not None]
    return Report([d.file for d in docs], checker.model.loss, unlisted + claims, adjoints)


__all__ = ["Checker", "check_documents"]
