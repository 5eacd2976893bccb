"""Checking a sheet against a problem with families: every count, every step.

The problem is unrolled at each count in `COUNTS` (1, and distinct counts >= 2), each with
its own checker (sizes and values drawn as usual). A statement with a free step letter
(`\\bar{h}_t = ...`) is instantiated at every step of the range where all the family members
it names exist, at every count; a boundary statement (`\\bar{h}_T`) and a sum over steps at
every count. The claim's verdict is the worst of all of them, its message says where it was
checked, and a failure names the step and the count of its counterexample.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..errors import SymderivError, no_model
from ..meaning import families as fam
from ..read import tree as t
from ..read.document import Document
from .verdicts import ORDER, Claim, Report, Step

COUNTS = (1, 2, 3)


def _members(st: t.Statement, steps: set[str], counts: set[str]) -> list[str]:
    """The names of a statement that name family members at its free step (`h_{t-1}`, `o_T`);
    members inside a sum over steps exist by the sum's own range."""
    out: list[str] = []
    # a new name on the left (`\delta^{(l)} = ...`, the student's abbreviation) need not exist
    parts = list(st.parts[1:]) if st.parts and isinstance(st.parts[0], t.Name) else list(st.parts)
    stack: list[t.Node] = parts + list(st.names)
    while stack:
        n = stack.pop()
        if isinstance(n, t.BigSum) and n.index in steps:
            continue
        for name in fam._names(n):
            if fam.mentions(name, steps | counts):
                out.append(name)
        stack.extend(t.children(n))
    return out


def _lhs_name(node: t.Node) -> str | None:
    if isinstance(node, (t.Bar, t.Name)):
        return node.name
    if isinstance(node, t.Partial):
        return node.den
    return None


def _exists(checker, name: str) -> bool:
    from ..meaning import indices
    from ..meaning.resolve import Scope
    scope = Scope(checker.model, dict(checker.local))
    if name in checker.local or scope.canonical(name) is not None:
        return True
    split = indices.split_entry(name, scope)
    return split is not None


def _range_text(over: dict[int, list[int]], letter: str, count: str) -> str:
    """`t = 1..T-1` when every count checked the same steps relative to it, else a list."""
    for lo in (0, 1, 2):
        for off in (0, -1, -2):
            if all(vs == list(range(lo, c + off + 1)) for c, vs in over.items() if c + off >= lo) and any(
                    vs for vs in over.values()):
                end = count if off == 0 else f"{count}{off}"
                return f"{letter} = {lo}..{end}"
    return "; ".join(f"{count} = {c}: {letter} = {', '.join(map(str, vs)) or 'none'}" for c, vs in over.items())


def _merge(st: t.Statement, got: list[tuple[dict[str, int], Claim]], where: str) -> Claim:
    first = got[0][1]
    same = all(c.target == first.target for _, c in got)  # W at every count; h_2, h_3 for \bar{h}_T
    target = _lhs_name(st.parts[0]) if first.target is not None and st.parts and not same else None
    claim = Claim(st.span.file, st.span.line, first.kind, target or first.target, st.latex, [], st.span, st.side,
                  listed=any(c.listed for _, c in got), explicit=all(c.explicit for _, c in got))
    n_steps = max(len(c.steps) for _, c in got)
    for k in range(n_steps):
        worst: tuple[dict[str, int], Step] | None = None
        for env, c in got:
            if k < len(c.steps) and (worst is None or ORDER[c.steps[k].verdict] > ORDER[worst[1].verdict] or (
                    # as bad, and diagnosed where the first was not (`L = 1` often says less)
                    ORDER[c.steps[k].verdict] == ORDER[worst[1].verdict] and worst[1].reason is None
                    and c.steps[k].reason is not None)):
                worst = (env, c.steps[k])
        assert worst is not None
        env, step = worst
        step = dataclasses.replace(step)
        if step.verdict == "correct":
            step.message = f"{step.message}; checked at {where}"
        else:
            at = ", ".join(f"{k_} = {v}" for k_, v in env.items())
            step.message = f"{step.message} (at {at})"
        claim.steps.append(step)
    return claim


def check_family_documents(docs: list[Document], fp: fam.FamilyProblem, checker: Callable[[int], Any],
                           seed: int = 0, one: Callable[[Any, t.Statement], list[Claim]] | None = None) -> Report:
    """`checker(seed)` makes the per-count checker (verify.check.Checker, passed in: check.py
    imports this module); `one(checker, statement)` checks one statement within the sheet's
    budget (check.py's), by default `_one`."""
    one = one or _one
    checkers = []
    for c in COUNTS:
        counts = {k: c for k in fp.counts}
        problem = dataclasses.replace(docs[0], statements=tuple(fam.unrolled(fp, counts)))
        ch = checker(seed)
        pending = ch.build(problem)
        if not ch.model.nodes:
            raise no_model(docs[0].file)
        ch.start()
        layout = str(docs[0].front_matter.get("layout", "any")).strip().lower()
        assert ch.judge is not None
        ch.judge.sheets.problem = layout if layout in ("numerator", "denominator") else None
        checkers.append((counts, ch, pending))
    steps, count_letters = set(fp.letters), set(fp.counts)
    claims: list[Claim] = []
    for st in checkers[-1][2] + [s for d in docs[1:] for s in d.statements]:
        claims.extend(_check(st, checkers, fp, steps, count_letters, one))
    last = checkers[-1][1]
    unlisted = [Claim(sym.span.file, sym.span.line, "definition" if sym.is_node else "declaration", name,
                      name, [], sym.span, listed=False)
                for name, sym in last.model.symbols.items() if sym.span is not None]
    return Report([d.file for d in docs], last.model.loss, unlisted + claims, last.model, families=fp)


def _one(checker, st: t.Statement) -> list[Claim]:
    try:
        return checker.check(st)
    except SymderivError as err:
        return [Claim(st.span.file, st.span.line, "identity", None, st.latex,
                      [Step(st.latex, "invalid", err.reason, message=err.message, span=err.span)],
                      st.span, st.side)]
    except (ArithmeticError, ValueError, RecursionError, MemoryError) as err:
        return [Claim(st.span.file, st.span.line, "identity", None, st.latex,
                      [Step(st.latex, "invalid", "unsupported", span=st.span,
                            message=f"cannot evaluate this line ({type(err).__name__})")], st.span, st.side)]


def _check(st: t.Statement, checkers, fp: fam.FamilyProblem, steps: set[str], counts: set[str],
           one: Callable[[Any, t.Statement], list[Claim]]) -> list[Claim]:
    if st.error is not None:
        return one(checkers[-1][1], st)
    layers = fam.layer_letters(fp)
    if layers and st.parts:  # `z^l`, `W^{l+1}`, `\\delta^l`: the layer members, without brackets
        st = dataclasses.replace(st, parts=tuple(fam.layer_superscripts(p, layers) for p in st.parts))
    free = set()
    for p in list(st.parts):
        free |= fam.free_steps(p, steps)
    free |= {x for n in st.names for x in fam.mentions(n.name, steps)}
    if len(free) > 1:
        return [Claim(st.span.file, st.span.line, "identity", None, st.latex,
                      [Step(st.latex, "invalid", "unsupported", span=st.span,
                            message="a claim over two step or layer letters at once is not supported")],
                      st.span, st.side)]
    if st.relation == "=" and len(st.parts) >= 2:
        left = fam.free_steps(st.parts[0], steps)
        for p in st.parts[1:]:
            stray = fam.free_steps(p, steps) - left
            if stray:
                x = next(iter(stray))
                count = fp.letters[x]
                return [Claim(st.span.file, st.span.line, "identity", _lhs_name(st.parts[0]), st.latex,
                              [Step(st.latex, "invalid", "shape", span=p.span,
                                    message=f"the step {x} is free on the right side but not on the left",
                                    hint=f"did you mean a sum over the steps, \\sum_{{{x}=1}}^{{{count}}}?")],
                              st.span, st.side)]
    letter = next(iter(free), None)
    members = _members(st, steps, counts)
    got: list[tuple[dict[str, int], Claim]] = []
    over: dict[int, list[int]] = {}
    try:
        for env_counts, ch, _ in checkers:
            c = next(iter(env_counts.values()))
            values = range(1, c + 1) if letter is not None else [None]
            over[c] = []
            for v in values:
                env = dict(env_counts) if v is None else {**env_counts, letter: v}
                u = fam.Unroll(steps, env)
                if not all(_exists(ch, fam.rename(m, env)) for m in members):
                    continue
                inst = u.statement(st)
                for claim in one(ch, inst):
                    got.append((env, claim))
                if v is not None:
                    over[c].append(v)
    except SymderivError as err:
        return [Claim(st.span.file, st.span.line, "identity", None, st.latex,
                      [Step(st.latex, "invalid", err.reason, message=err.message, span=err.span)],
                      st.span, st.side)]
    # a count at which a fixed member (`W^{(2)}` at L = 1) does not exist says nothing
    known = [(e, c) for e, c in got if not (c.verdict == "invalid" and c.reason == "unknown-symbol")]
    got = known or got
    if not got:
        return [Claim(st.span.file, st.span.line, "identity", None, st.latex,
                      [Step(st.latex, "invalid", "unknown-symbol", span=st.span,
                            message="no step or count where every family member of this line exists")],
                      st.span, st.side)]
    count = fp.letters.get(letter, fp.counts[0]) if letter else fp.counts[0]
    where = (_range_text(over, letter, count) + f" for {count} = {', '.join(map(str, COUNTS))}" if letter
             else f"{count} = {', '.join(str(next(iter(e.values()))) for e, _, _ in checkers)}")
    if all(len(c.steps) == 0 for _, c in got):  # a new name of the student's, over the steps
        claim = _with_members(_merge(st, got, where), got, fp)
        if letter is not None and claim.kind == "definition":
            claim.listed = True
            claim.steps.append(Step(st.latex, "correct", method="symbolic", span=st.span,
                                    message=f"your own name for each step ({where}): no claim to check"))
        return [claim]
    return [_with_members(_merge(st, got, where), got, fp)]


def _with_members(claim: Claim, got: list[tuple[dict[str, int], Claim]], fp: fam.FamilyProblem) -> Claim:
    """Record which member's adjoint each instance gave, at which count, and its final verdict:
    scoring gives a generic target (`x_t`, `W^{(l)}`, a shared `W`) only to a claim that
    answered every member at every count."""
    members: dict[tuple[int, str], str] = {}
    for env, c in got:
        if c.target is None or c.kind not in ("adjoint", "entrywise"):
            continue
        key = (env[fp.counts[0]], c.target)
        verdict = c.steps[-1].verdict if c.steps else "invalid"
        if not c.explicit and verdict == "correct":
            verdict = "not explicit"
        old = members.get(key)
        members[key] = verdict if old is None or old == "correct" else old
    claim.members = members
    return claim
