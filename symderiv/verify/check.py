"""A document's statements -> claims with verdicts: the TA.

The first document (the problem) builds the model: declarations, then definitions of new
names, in order; its last definition is the loss. Every other statement, in every document,
is a claim: a declaration of a known symbol, an adjoint (`\\bar{z} = ...`), a restated
definition, an identity, or a new abbreviation of the student's own (kept for later lines).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import field

from ..derive.adjoints import Adjoints, derive
from ..errors import SymderivError, no_model
from ..fastdataclass import dataclass
from ..meaning import indices, squares
from ..meaning.build import build_model, declared_shape
from ..meaning.resolve import Scope, resolve
from ..model import ops as o
from ..model.graph import Model
from ..read import tree as t
from ..read.document import Document, blame_macro
from ..read.unicode import normalise
from ..spans import Span
from .budget import Budget, Clock, memory_limit, memory_message
from .equivalence import Instances
from .judge import Judge
from .sheet_layout import judge_in_layouts
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

    # ---- the problem ---------------------------------------------------------------------
    def build(self, doc: Document) -> list[t.Statement]:
        """Declarations and new definitions build the model; the rest is returned as claims."""
        _, rest = build_model(doc, self.model)
        return rest

    def start(self, prepared: tuple[Adjoints, Instances] | None = None) -> Adjoints:
        """`prepared`: this model's derivation and sampled instances, from an earlier check."""
        _ = self.model.loss  # raises ModelError when there is none
        adjoints, inst = prepared or (None, None)
        if adjoints is None or inst is None:
            adjoints = derive(self.model)
            inst = Instances(adjoints, self.seed)
        self.judge = Judge(self.model, adjoints, inst.fresh())
        return adjoints

    # ---- the claims ----------------------------------------------------------------------
    def check(self, st: t.Statement) -> list[Claim]:
        judge = self.judge
        assert judge is not None
        st = squares.rewrite(st, self.model, self.local)  # `\sigma^2` as the name of a node
        if st.error is not None or st.relation == "in" or len(st.parts) < 2:
            claims = self._check(st)
        else:
            claims = judge_in_layouts(judge.sheets, st.span.file, st.span.line, lambda: self._check(st),
                                      judge.save, judge.restore)
        if st.annotation is not None and st.error is None and claims and claims[-1].steps:
            claims[-1].steps.append(self._annotation(st))
        return claims

    def _annotation(self, st: t.Statement) -> Step:
        """A trailing `\\in \\mathbb{R}^{q}`: the last part's shape must be the one written."""
        assert st.annotation is not None
        text = st.latex[st.latex.rfind("\\in"):] if "\\in" in st.latex else "\\in"
        try:
            want, _ = declared_shape(st.annotation)
            got = resolve(st.parts[-1], Scope.at(self.model, st, self.local)).shape
        except SymderivError as err:
            return Step(text, "invalid", err.reason, message=err.message, span=err.span or st.annotation.span)
        if all(o.same(a, b) for a, b in zip(want, got)):
            return Step(text, "correct", method="symbolic", message=f"the last part is {o.shape_str(got)}")
        return Step(text, "incorrect", "shape", "symbolic", span=st.annotation.span,
                    message=f"the last part is {o.shape_str(got)}, not {o.shape_str(want)}")

    def _check(self, st: t.Statement) -> list[Claim]:
        assert self.judge is not None
        if st.error is not None:
            return [self._unparsable(st)]
        if st.relation == "in":
            return [self.judge.declaration(st, n) for n in st.names]
        if st.relation == "maps":
            return [self._signature(st)]
        if st.relation != "=":
            return [Claim(st.span.file, st.span.line, "identity", None, st.latex,
                          [Step(st.latex, "invalid", "unsupported", span=st.span,
                                message="an inequality is a premise: only a problem states premises, "
                                        "beside its declarations")], st.span, st.side)]
        if len(st.parts) < 2:
            return [Claim(st.span.file, st.span.line, "identity", None, st.latex,
                          [Step(st.latex, "invalid", "parse", message="not a claim: there is no `=`",
                                span=st.span)], st.span, st.side)]
        lhs = self._loss_operator(st.parts[0])
        if lhs is not st.parts[0]:
            st = dataclasses.replace(st, parts=(lhs,) + st.parts[1:])
        scope = Scope.at(self.model, st, self.local)
        entry = indices.left_indices(lhs, scope)
        if entry is not None:  # \bar{W}_{ij} = ..., \frac{\partial L}{\partial z_j} = ...
            return [self.judge.adjoint(st, entry[0], self.local, kind="entrywise", indices=entry[1])]
        if indices.uses_indices(lhs, scope):
            return [self.judge.identity(st, self.local, kind=self._entrywise_kind(lhs),
                                        target=self._jacobian_target(lhs, scope))]
        target = self._adjoint_target(lhs)
        if target is not None:
            return [self.judge.adjoint(st, target, self.local)]
        if isinstance(lhs, t.Name) and lhs.name in self.model.symbols and self.model.symbols[lhs.name].is_node:
            return [self.judge.identity(st, self.local, kind="definition", target=lhs.name)]
        if (isinstance(lhs, t.Name) and len(st.parts) == 2 and lhs.name not in self.model.symbols
                and lhs.name not in self.local):
            return [self._abbreviation(st, lhs.name)]
        kind = "jacobian" if isinstance(lhs.arg if isinstance(lhs, t.Transpose) else lhs, t.Partial) else "identity"
        return [self.judge.identity(st, self.local, kind=kind)]

    def _loss_operator(self, lhs: t.Node) -> t.Node:
        """`\\frac{\\partial}{\\partial W}\\mathcal{L}` (an operator on the loss, transposed or not) is
        `\\frac{\\partial \\mathcal{L}}{\\partial W}`: an adjoint claim, in the sheet's layout."""
        inner = lhs.arg if isinstance(lhs, t.Transpose) else lhs
        if not (isinstance(inner, t.Derivative) and inner.order == 1 and isinstance(inner.arg, t.Name)
                and Scope(self.model).canonical(inner.arg.name) == self.model.loss):
            return lhs
        form = {"d": "d", "nabla": "nabla"}.get(inner.form, "frac")
        p = t.Partial(inner.span, inner.arg.name, inner.wrt, form)
        return t.Transpose(lhs.span, p) if isinstance(lhs, t.Transpose) else p

    def _signature(self, st: t.Statement) -> Claim:
        """`\\phi : \\mathbb{R} \\to \\mathbb{R}` in answers: right when the problem declares it so."""
        name = st.names[0].name
        if name.lstrip("\\") in self.model.functions:
            step = Step(st.latex, "correct", method="symbolic", message=f"the problem declares {name} so")
        else:
            step = Step(st.latex, "invalid", "unsupported", span=st.span,
                        message=f"the problem does not declare {name}: only a problem declares a generic function")
        return Claim(st.span.file, st.span.line, "declaration", None, st.latex, [step], st.span, st.side)

    def _jacobian_target(self, lhs: t.Node, scope: Scope) -> str | None:
        """The numerator's node of a Jacobian entry `\\frac{\\partial y_i}{\\partial z_j}`."""
        num: str | None = None
        if isinstance(lhs, t.Partial):
            split = indices.split_entry(lhs.num, scope)
            num = split[0] if split else lhs.num
        elif isinstance(lhs, (t.PartialOf, t.Derivative)):
            arg = lhs.num if isinstance(lhs, t.PartialOf) else lhs.arg
            if isinstance(arg, t.Call) and arg.args and isinstance(arg.args[0], t.Name):
                split = indices.split_entry(arg.args[0].name, scope)
                num = split[0] if split else None
        return scope.canonical(num) if num else None

    @staticmethod
    def _entrywise_kind(lhs: t.Node) -> str:
        """A Jacobian entry (`\\frac{\\partial y_i}{\\partial z_j}`) is a `jacobian` claim; an
        `entrywise` claim is always about an adjoint (it is scored like one)."""
        if isinstance(lhs, (t.Partial, t.PartialOf)) or (isinstance(lhs, t.Derivative) and lhs.order == 1):
            return "jacobian"
        return "identity"

    def _adjoint_target(self, lhs: t.Node) -> str | None:
        scope = Scope(self.model)
        if isinstance(lhs, t.Transpose) and isinstance(lhs.arg, (t.Bar, t.Partial)):
            inner = self._adjoint_target(lhs.arg)  # \bar{h}^\top: a row claim about h-bar
            return inner if inner in self.model.symbols else None
        if isinstance(lhs, t.Bar):
            return scope.canonical(lhs.name) or lhs.name
        if isinstance(lhs, t.Partial) and scope.canonical(lhs.num) == self.model.loss:
            return scope.canonical(lhs.den) or lhs.den
        return None

    def _abbreviation(self, st: t.Statement, name: str) -> Claim:
        claim = Claim(st.span.file, st.span.line, "definition", name, st.latex, [], st.span, st.side, listed=False)
        try:
            self.local[name] = resolve(st.parts[1], Scope.at(self.model, st, self.local))
        except SymderivError as err:
            claim.listed = True
            claim.steps.append(Step(st.latex, "invalid", err.reason, message=err.message, span=err.span))
        return claim

    def _unparsable(self, st: t.Statement) -> Claim:
        err = st.error
        return self.unchecked(st, getattr(err, "reason", "parse"), getattr(err, "message", str(err)),
                              getattr(err, "span", None) or st.span)

    def unchecked(self, st: t.Statement, reason: str, message: str, span: Span | None) -> Claim:
        """An `invalid` claim for a statement that was not judged, its target read from the text."""
        text = normalise(st.latex)[0].lstrip()  # `\bar{λ}` names the target `\lambda`
        adjoint = text.startswith(("\\bar", "\\overline", "\\frac{\\partial", "\\nabla"))
        kind = "adjoint" if adjoint else "identity"
        m = _TARGET.match(text)
        target = (m.group(1) + (f"_{m.group(2)}" if m.group(2) else "")) if m and kind == "adjoint" else None
        step = Step(st.latex, "invalid", reason, message=message, span=span)
        return Claim(st.span.file, st.span.line, kind, target, st.latex, [step], st.span, st.side)


def check_documents(docs: list[Document], seed: int = 0, budget: Budget | None = None) -> Report:
    """Judge every statement of `docs`; docs[0] is the problem. Raises ModelError when the
    problem does not define a model with a scalar loss. Each document gets `budget`
    (default `Budget.from_env()`: CPU time only) -- see `symderiv/budget.py`."""
    budget = budget or Budget.from_env()
    from ..meaning.families import read_families
    fp = read_families(docs[0].statements)
    if fp is not None:  # steps or layers: checked on the problem unrolled at several counts
        from .unrolled import check_family_documents
        clock = budget.clock()
        with memory_limit(budget.mib):
            report = check_family_documents(docs, fp, Checker, seed,
                                            one=lambda ch, st: _check_one(ch, st, clock, budget))
        _blame_macros(report.claims, docs)
        return report
    checker, pending = _prepared(docs[0], seed)
    layout = str(docs[0].front_matter.get("layout", "any")).strip().lower()
    assert checker.judge is not None
    checker.judge.sheets.problem = layout if layout in ("numerator", "denominator") else None
    claims: list[Claim] = []
    clock = budget.clock()
    for group in [pending] + [list(d.statements) for d in docs[1:]]:
        with memory_limit(budget.mib):
            for st in group:
                claims.extend(_check_one(checker, st, clock, budget))
    unlisted = [Claim(sym.span.file, sym.span.line, "definition" if sym.is_node else "declaration", name,
                      name, [], sym.span, listed=False)
                for name, sym in checker.model.symbols.items() if sym.span is not None]
    _blame_macros(claims, docs)
    return Report([d.file for d in docs], checker.model.loss, unlisted + claims, checker.model)


def _blame_macros(claims: list[Claim], docs: list[Document]) -> None:
    """A shape or unknown-symbol error inside a .tex macro's expansion names the macro and
    points at the line where it was used (parse errors are blamed when the file is read)."""
    by_file = {d.file: d for d in docs if d.expansions}
    if not by_file:
        return
    for claim in claims:
        doc = by_file.get(claim.file)
        for step in claim.steps if doc is not None else ():
            if step.verdict != "invalid" or step.span is None or "(in the expansion of `" in step.message:
                continue
            x = doc.macro_at(step.span)
            if x is not None:
                step.message, step.span = blame_macro(step.message, step.span, x)


#: problems checked lately, by their text: the model, its derivation and its sampled
#: instances depend on the problem and the seed only, so `grade` (and `check_files` again)
#: builds and samples a problem once, not once per sheet
_PREPARED: dict[tuple, tuple[Model, list[t.Statement], Adjoints, Instances]] = {}
MAX_PREPARED = 4


def _prepared(problem: Document, seed: int) -> tuple[Checker, list[t.Statement]]:
    """A checker for `problem` started on its model, and the problem's own claims."""
    key = (problem.file, problem.lines, repr(problem.front_matter), seed)
    checker = Checker(seed)
    hit = _PREPARED.get(key)
    if hit is not None:
        checker.model, pending, adjoints, inst = hit
        checker.start((adjoints, inst))
        return checker, list(pending)
    pending = checker.build(problem)
    if not checker.model.nodes:
        raise no_model(problem.file)
    adjoints = checker.start()
    if problem.lines:  # a document made in memory without its text is not remembered
        while len(_PREPARED) >= MAX_PREPARED:
            _PREPARED.pop(next(iter(_PREPARED)))
        assert checker.judge is not None
        _PREPARED[key] = (checker.model, list(pending), adjoints, checker.judge.inst.base)
    return checker, pending


def _check_one(checker: Checker, st: t.Statement, clock: Clock, budget: Budget) -> list[Claim]:
    """The claims of one statement; a bad line never stops the others."""
    if clock.spent(st.span.file):
        return [checker.unchecked(st, "unsupported", clock.message(), st.span)]
    try:
        return checker.check(st)
    except SymderivError as err:
        return [checker.unchecked(st, err.reason, err.message, err.span)]
    except MemoryError:
        return [checker.unchecked(st, "unsupported", memory_message(budget.mib), st.span)]
    except (ArithmeticError, ValueError, RecursionError) as err:
        return [checker.unchecked(st, "unsupported", f"cannot evaluate this line ({type(err).__name__})",
                                  st.span)]


__all__ = ["Checker", "check_documents"]
