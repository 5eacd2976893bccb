"""One claim's steps against the truth: resolve, check the shape, compare, explain."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from ..derive.adjoints import Adjoints
from ..derive.tidy import Facts
from ..errors import ShapeError, SymderivError, WrongAdjointError
from ..meaning import ir
from ..meaning.build import declared_shape
from ..meaning.indices import Entries, split_entry, uses_indices
from ..meaning.jacobian import shape_kind
from ..meaning.leibniz import resolve_part
from ..meaning.resolve import Scope, resolve
from ..model import ops as o
from ..model.graph import Model
from ..model.walk import nodes
from ..names import bar_latex
from ..read import tree as t
from ..read.unparse import unparse
from .diagnose import Target, diagnose
from .equivalence import Instances, agree, first_disagreement, structurally_equal
from .jacobian_world import jacobian_entry_terms, jacobian_world, remember_jacobian
from .numeric import Env
from .repair import repairs
from .sheet_layout import SheetLayouts
from .thresholds import foreign_threshold
from .verdicts import Answer, Claim, Step

#: instances a "did you mean" candidate must match before it is evaluated on all of them
PROBE = 3


def _shape_fits(e: o.Expr, shape: o.Shape) -> bool:
    return o.unify(e.shape[0], shape[0]) and o.unify(e.shape[1], shape[1])


def _unresolved(e: o.Expr) -> bool:
    return any(isinstance(o.find(d), o.SizeVar) for x in nodes(e) for d in x.shape)


def _explicit(node: t.Node, target: str, scope: Scope) -> bool:
    """A final answer (SPEC 4): no derivative symbol, no adjoint of the target itself (nor an
    entry of it: `\\bar{W}_{ij}`)."""
    stack: list = [node]
    while stack:  # iterative: a sheet's tree can be deep
        value = stack.pop()
        if isinstance(value, tuple):
            stack.extend(value)
        elif isinstance(value, (t.Partial, t.PartialOf, t.Derivative)) or isinstance(value, t.Bar) and _adjoint_of(value.name, scope) == target:
            return False
        elif isinstance(value, t.Node):
            stack.extend(getattr(value, f.name) for f in fields(value))
    return True


def _adjoint_of(name: str, scope: Scope) -> str:
    """The node whose adjoint `\\bar{name}` is: an entry `W_{ij}` stands for W."""
    entry = split_entry(name, scope)
    return (scope.canonical(entry[0]) or entry[0]) if entry else (scope.canonical(name) or name)


def _uses_own_adjoint(expr: o.Expr, target: str) -> bool:
    """Whether a value reads the target's adjoint (`G = \\bar{W}`, then `\\bar{W}_{ij} = G_{ij}`),
    inside index expressions too."""
    stack: list = [expr]
    while stack:
        value = stack.pop()
        if isinstance(value, ir.INode):
            stack.extend(ir.children(value))
            stack.extend(x for x in (getattr(value, "expr", None), getattr(value, "pulled", None)) if x is not None)
            continue
        for x in nodes(value):
            if isinstance(x, o.Bar) and x.name == target:
                return True
            if isinstance(x, Entries):
                stack.append(x.tree)
    return False


@dataclass
class Judge:
    model: Model
    adjoints: Adjoints
    inst: Instances
    overrides: dict[str, o.Expr] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # node -> "line N" of the override
    version: int = 0
    _consumers: dict[str, list[str]] | None = None
    roots: dict[str, bool] = field(default_factory=dict)  # node -> its override is an original mistake
    sheets: SheetLayouts = field(default_factory=SheetLayouts)
    #: (num, den) -> (the student's wrong Jacobian, num x den per instance; its text and line)
    jacobians: dict[tuple[str, str], tuple[list, str]] = field(default_factory=dict)

    def save(self) -> object:
        return (dict(self.overrides), dict(self.sources), dict(self.roots), dict(self.jacobians))

    def restore(self, state: object) -> None:
        overrides, sources, roots, jacobians = state  # type: ignore[misc]
        self.overrides, self.sources, self.roots = dict(overrides), dict(sources), dict(roots)
        self.jacobians = dict(jacobians)
        self.version += 1  # the world cache is keyed by version: never reuse one

    def _scope(self, st: t.Statement, local: dict[str, o.Expr]) -> Scope:
        return Scope.at(self.model, st, local, self.sheets.ctx)

    # ---- claims --------------------------------------------------------------------------
    def declaration(self, st: t.Statement, name: t.Name) -> Claim:
        claim = Claim(st.span.file, st.span.line, "declaration", name.name, st.latex, [], st.span, st.side)
        sym = self.model.symbols.get(Scope(self.model).canonical(name.name) or "")
        try:
            shape, domain = declared_shape(st.parts[0])
        except SymderivError as err:
            claim.steps.append(Step(st.latex, "invalid", err.reason, message=err.message, span=err.span))
            return claim
        if sym is None:
            claim.steps.append(Step(st.latex, "invalid", "unknown-symbol", span=name.span,
                                    message=f"{name.name} is not a symbol of the problem"))
            return claim
        where = {"binary": " in {0,1}", "onehot": " one-hot in {0,1}", "positive": " positive",
                 "simplex": " (entries summing to 1)"}
        want = f"{o.shape_str(sym.shape)}{where.get(sym.domain, '')}"
        got = f"{o.shape_str(shape)}{where.get(domain, '')}"
        actual = {"onehot": "binary", "simplex": "real"}.get(sym.domain, sym.domain)
        # a real claim for a positive symbol is true (a superset); anything else must match
        same = all(o.same(a, b) for a, b in zip(shape, sym.shape)) and (
            domain == actual or (domain == "real" and actual == "positive"))
        if same:
            claim.steps.append(Step(st.latex, "correct", method="symbolic",
                                    message=f"{name.name} is {want}"))
        else:
            claim.steps.append(Step(st.latex, "incorrect", "shape", "symbolic", span=st.span,
                                    message=f"{name.name} is {want}, not {got}"))
        return claim

    def _flipped(self, lhs: t.Node, target: str) -> bool:
        """Whether the left side is the adjoint's transpose: `\\bar{h}^\\top`, or in the
        numerator layout `\\frac{\\partial L}{\\partial h}` of a vector h (a row)."""
        flip = isinstance(lhs, t.Transpose)
        inner = lhs.arg if flip else lhs
        if isinstance(inner, t.Partial) and inner.form != "nabla" and \
                shape_kind(self.model.shape(target)) == "vector":
            self.sheets.ctx.sensitive = True
            flip ^= self.sheets.ctx.layout == "numerator"
        return flip

    def adjoint(self, st: t.Statement, target: str, local: dict[str, o.Expr], kind: str = "adjoint",
                indices: tuple | None = None) -> Claim:
        """`indices`: an entrywise claim's left-side free indices and their ranges."""
        claim = Claim(st.span.file, st.span.line, kind, target, st.latex, [], st.span, st.side)
        if target not in self.model.symbols:
            claim.steps.append(Step(st.latex, "invalid", "unknown-symbol", span=st.parts[0].span,
                                    message=f"{target} is not a symbol of the problem"))
            return claim
        tgt = self._adjoint_target(target)
        flip = indices is None and self._flipped(st.parts[0], target)
        expr = None
        for part in st.parts[1:]:
            # the transpose of a row claim is a claim about the adjoint itself
            step, expr = self._step(st, t.Transpose(part.span, part) if flip else part, tgt, local,
                                    self.model.shape(target), flip=flip, indices=indices)
            claim.steps.append(step)
        claim.explicit = (len(st.parts) > 1 and _explicit(st.parts[-1], target, Scope(self.model, dict(local)))
                          and not (expr is not None and _uses_own_adjoint(expr, target)))  # G = \bar{W}; \bar{W} = G
        if claim.verdict != "correct":
            claim.answer = Answer(target, self.adjoints.local[target], self.adjoints.expanded(target),
                                  Facts.of(self.model))
        final = claim.steps[-1] if claim.steps else None
        if final is not None and final.verdict == "correct":
            self._forget(target)
        elif final is not None and final.verdict == "incorrect" and expr is not None:
            # the student's answer, carried forward; a root unless itself carried forward
            self._remember(target, expr, st.span.line, final.reason != "carried-forward")
        return claim

    def identity(self, st: t.Statement, local: dict[str, o.Expr], kind: str = "identity",
                 target: str | None = None) -> Claim:
        claim = Claim(st.span.file, st.span.line, kind, target, st.latex, [], st.span, st.side)
        scope = self._scope(st, local)
        try:
            if uses_indices(st.parts[0], scope):  # an entrywise left side: its own free indices
                lhs, matrix = scope.resolve(st.parts[0]), None
            else:
                lhs, matrix = resolve_part(st.parts[0], scope)
            if _unresolved(lhs):
                raise ShapeError("the size of a ones vector or identity cannot be inferred", st.parts[0].span)
        except SymderivError as err:
            claim.steps.append(self._error_step(st, st.parts[0], err, None, None, scope))
            return claim
        truth = self.inst.values(lhs)
        # the left side's own summands (a Hessian's λI): what a missing term can be
        terms = None
        summands = lhs.terms if isinstance(lhs, o.Add) else lhs.summands() if isinstance(lhs, Entries) else ()
        if len(summands) <= 6:  # one summand, or two (w ⊙ w gives two halves)
            vals = [self.inst.values(x) for x in summands]
            terms = [("", v) for v in vals] + [("", [a + b for a, b in zip(vals[i], vals[j])])
                                                 for i in range(len(vals)) for j in range(i + 1, len(vals))]
        if terms is None:
            terms = jacobian_entry_terms(self.inst, lhs)
        tgt = Target(None, scope.text(st.parts[0]) or "the left side", truth, terms=terms)
        truth_sym = (lambda envs, e=lhs: self.inst.values(e, envs))
        free = tuple((x, dict(lhs.dims)[x]) for x in lhs.out) if isinstance(lhs, Entries) else None
        expr = None
        for part in st.parts[1:]:
            step, expr = self._step(st, part, tgt, local, lhs.shape, truth_sym, matrix=matrix, indices=free)
            claim.steps.append(step)
        if claim.steps:
            remember_jacobian(self, st, lhs, scope, claim.steps[-1], expr)
        return claim

    # ---- the student's world -------------------------------------------------------------
    def _remember(self, name: str, expr: o.Expr, line: int, root: bool = True) -> None:
        self.roots[name] = root
        self.overrides[name] = expr
        self.sources[name] = f"line {line}"
        self.version += 1

    def _forget(self, name: str) -> None:
        if self.overrides.pop(name, None) is not None:
            self.sources.pop(name, None)
            self.version += 1

    def _adjoint_target(self, name: str) -> Target:
        truth = self.inst.bars(name)
        world = None
        origin = ""
        later = [n for n in self.overrides if n in self._downstream(name)]
        if later:
            own, world_envs = self.inst.world(self.overrides, (self.version,))
            w = [d[name] for d in own]
            if not agree(w, truth):
                world = w
                cited = [n for n in later if self.roots.get(n)] or later  # the original mistakes
                origin = " and ".join(f"{bar_latex(n)} ({self.sources[n]})" for n in cited)
        def consumers() -> list[tuple[str, list[np.ndarray]]]:
            return [(tm.consumer, self.inst.values(tm.expr)) for tm in self.adjoints.terms.get(name, [])]

        def terms() -> list[tuple[str, list[np.ndarray]]]:
            local = self.adjoints.local[name]  # its summands (softmax: p ⊙ p̄ and -p pᵀp̄), not the
            # distributed insides of one derivative (σ' = σ - σ²), which is a wrong derivative instead
            if isinstance(local, o.Scale) and isinstance(local.a, o.Const) and isinstance(local.b, o.Add):
                summands = [o.scale(local.a, x) for x in local.b.terms]  # ½(‖W⁽¹⁾‖² + ... + ‖W⁽ᴸ⁾‖²)
            else:
                summands = list(local.terms) if isinstance(local, o.Add) else []
            return consumers() + [("", self.inst.values(x)) for x in summands]
        jac = jacobian_world(self, name, truth, consumers()) if world is None and self.jacobians else None
        if jac is not None and not agree(jac[0], truth):
            (world, origin), world_envs = jac, None
        tgt = Target(name, bar_latex(name), truth, world, origin, make_terms=terms)
        if world is not None:
            tgt.world_envs = world_envs
        return tgt

    def _downstream(self, name: str) -> set[str]:
        """The nodes whose adjoints flow into name's: its consumers, transitively."""
        if self._consumers is None:
            self._consumers = self.model.consumers()
        out: set[str] = set()
        stack = list(self._consumers.get(name, []))
        while stack:
            n = stack.pop()
            if n not in out:
                out.add(n)
                stack.extend(self._consumers.get(n, []))
        return out

    # ---- one step ------------------------------------------------------------------------
    def _step(self, st: t.Statement, part: t.Node, tgt: Target, local: dict[str, o.Expr],
              shape: o.Shape, truth_sym: Callable | None = None, flip: bool = False,
              matrix: o.Shape | None = None, indices: tuple | None = None) -> tuple[Step, o.Expr | None]:
        scope = self._scope(st, local)
        scope.indices = indices
        written = part.arg if flip and isinstance(part, t.Transpose) else part
        text = scope.text(written) or unparse(written)
        if truth_sym is None and tgt.name is not None:
            truth_sym = (lambda envs, n=tgt.name: [e.bars[n] for e in envs])
        try:
            if matrix is not None:
                expr = self._applied(part, scope, matrix, tgt)
            else:
                expr = resolve(part, scope)
            if not _shape_fits(expr, shape) and (o.is_const(expr, 0) or isinstance(expr, o.Zero)):
                expr = o.Zero(shape)  # `\bar{t} = 0` (as `symderiv latex` prints it): the zero of its shape
            if not _shape_fits(expr, shape):
                got, want, who = expr.shape, shape, tgt.latex
                if flip:
                    got, want, who = (got[1], got[0]), (want[1], want[0]), scope.text(st.parts[0]) or who
                row = (o.find(got[0]) == 1 and o.same(got[1], want[0]) and o.find(want[1]) == 1
                       and o.find(want[0]) != 1 and tgt.name is not None and not flip)
                what = f" (a row: it is {tgt.latex}^\\top)" if row else ""
                raise ShapeError(f"this is {o.shape_str(got)}{what}, but {who} is {o.shape_str(want)}", part.span)
            if _unresolved(expr):
                raise ShapeError("the size of a ones vector or identity cannot be inferred", part.span)
        except WrongAdjointError as err:
            return Step(text, "incorrect", "wrong-adjoint", "symbolic", err.message, span=err.span), None
        except SymderivError as err:
            return self._error_step(st, part, err, tgt, shape, scope), None
        s = self.inst.values(expr)
        right = agree(s, tgt.truth)
        shifted = foreign_threshold(expr, self.model, self.inst) if right else None
        if shifted is not None:
            return Step(text, "incorrect", None, "symbolic",
                        f"a mask compares with {-shifted} where the model's masks compare with 0: they "
                        f"differ for values in between (none fell there in the spot checks)",
                        span=part.span), expr
        if right:
            method = "numeric"
            msg = f"agrees with {tgt.latex} on {len(s)} random instances"
            if tgt.name is not None and (structurally_equal(expr, self.adjoints.local[tgt.name])):
                method, msg = "symbolic", f"the same expression as the derived {tgt.latex}"
            if scope.notes:
                msg += " (note: " + "; ".join(dict.fromkeys(scope.notes)) + ")"
            return Step(text, "correct", None, method, msg, span=part.span), expr
        with np.errstate(all="ignore"):
            reason, why = diagnose(expr, s, tgt, self.inst, truth_sym)
        i = first_disagreement(s, tgt.truth)
        cex = self._counterexample(self.inst.envs[i or 0], s[i or 0], tgt.truth[i or 0])
        return Step(text, "incorrect", reason, "numeric", why or f"not equal to {tgt.latex}",
                    counterexample=cex, span=part.span), expr

    def _applied(self, part: t.Node, scope: Scope, matrix: o.Shape, tgt: Target) -> o.Expr:
        """A part of a Jacobian claim, applied to the probe the left side was applied to; a
        vector beside a square Jacobian is its diagonal (the elementwise shorthand f'(b))."""
        from ..meaning.layouts import probe
        expr, own = resolve_part(part, scope)
        if own is not None:
            return expr
        p = probe(matrix[1])
        if _shape_fits(expr, matrix):
            return o.matmul(expr, p)
        if o.same(matrix[0], matrix[1]) and _shape_fits(expr, (matrix[0], 1)):
            return o.hadamard(expr, p)
        layout = self.sheets.ctx.layout or "denominator"
        raise ShapeError(f"this is {o.shape_str(expr.shape)}, but {tgt.latex} is {o.shape_str(matrix)} in the "
                         f"{layout} layout" + (" (or its diagonal, a column)" if o.same(matrix[0], matrix[1])
                                               else ""), part.span)

    def _error_step(self, st: t.Statement, part: t.Node, err: SymderivError, tgt: Target | None,
                    shape: o.Shape | None, scope: Scope) -> Step:
        text = scope.text(part) or unparse(part)
        step = Step(text, "invalid", err.reason, message=err.message, span=err.span or part.span, hint=err.hint)
        if isinstance(err, ShapeError) and tgt is not None and shape is not None:
            found = self._did_you_mean(part, tgt, shape, scope, getattr(err, "repair", None))
            step.hint, step.repair = found if found is not None else (None, None)
        return step

    def _did_you_mean(self, part: t.Node, tgt: Target, shape: o.Shape, scope: Scope,
                      first: t.Node | None = None) -> tuple[str, tuple[str, o.Expr]] | None:
        """The hint for the first repair that is right, or right given the student's earlier
        answers (else the first that fits), and the repair (as written in the hint, and what
        it means)."""
        cands = [first] if first is not None else repairs(part)  # an index error knows its repair
        # a repair moves a transpose or a factor and adds no index: a part without index notation
        # has repairs without it, read directly (not walked for indices once per candidate)
        plain = first is None and scope.indices is None and not uses_indices(part, scope)
        # one scope for every candidate (resolving keeps no state in it that a candidate reads),
        # and a memo: the candidates share most subtrees, each is read once
        again = Scope(self.model, dict(scope.local), ctx=self.sheets.ctx, indices=scope.indices,
                      memo={} if plain else None)
        try:
            return self._first_repair(cands, again, plain, tgt, shape)
        finally:  # the errors kept hold their frames, which hold the memo: no cycle outlives the search
            if again.memo is not None:
                again.memo.clear()

    def _first_repair(self, cands, again: Scope, plain: bool, tgt: Target,
                      shape: o.Shape) -> tuple[str, tuple[str, o.Expr]] | None:
        """`_did_you_mean`'s search over `cands`, each read in `again`."""
        fallback: tuple[str, tuple[str, o.Expr]] | None = None
        for cand in cands:
            try:
                again.inside = plain  # (resolve's own flag: "the index reading is decided")
                e = resolve(cand, again)
                if not _shape_fits(e, shape) or _unresolved(e):
                    continue
            except SymderivError:
                continue
            text = unparse(cand)
            repair = (text, e)
            head = self.inst.values(e, self.inst.envs[:PROBE])  # most candidates fail here: lazily
            # once a hint is found, only a right repair can replace it: the world no longer counts
            if not any(w is not None and first_disagreement(head, w[:PROBE]) is None
                       for w in ((tgt.truth, tgt.world) if fallback is None else (tgt.truth,))):
                fallback = fallback or (f"did you mean {text}? (It would still not be right)", repair)
                continue
            s = head + self.inst.values(e, self.inst.envs[PROBE:])
            if agree(s, tgt.truth):
                return f"did you mean {text}? It would then be correct", repair
            if tgt.world is not None and agree(s, tgt.world) and fallback is None:
                # right given the student's earlier answers: the repair they meant (one that is
                # right outright as well would need two edits of one line to differ by exactly
                # the carried mistake), so the search ends here too
                return (f"did you mean {text}? It would then be right given your earlier "
                        + f"{tgt.world_from} (carried forward)", repair)
            if fallback is None:
                fallback = (f"did you mean {text}? (It would still not be right)", repair)
        return fallback

    def _counterexample(self, env: Env, got: np.ndarray, want: np.ndarray) -> dict:
        def arr(a: np.ndarray) -> list:
            return np.round(a, 4).tolist()
        return {"sizes": dict(env.dims),
                "values": {n: arr(env.values[n]) for n in self.model.inputs},
                "expected": arr(want), "got": arr(got)}


__all__ = ["Judge"]
