"""One layout per sheet (SPEC 3.2): set by the problem, else fixed by the first line that only
one layout makes right, else either.

A claim whose reading depends on the layout (a vector Jacobian, the derivative of a scalar by
a vector standing as a matrix) is judged in each layout it may be in, the judge's memory of
the student's earlier answers restored between tries. A claim that is right only in the
other layout than the sheet's is `incorrect` (`layout`); one ill-shaped in every layout says
what it is in each.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import field

from ..fastdataclass import dataclass
from .verdicts import Claim

LAYOUTS = ("denominator", "numerator")


@dataclass
class LayoutContext:
    """What the meaning layer reads and reports while one claim is judged."""

    layout: str | None = None
    sensitive: bool = False


@dataclass
class SheetLayouts:
    problem: str | None = None  # the problem's front matter `layout` (None: any)
    fixed: dict[str, tuple[str, int]] = field(default_factory=dict)  # file -> (layout, line)
    ctx: LayoutContext = field(default_factory=LayoutContext)

    def of(self, file: str) -> tuple[str, str] | None:
        """(layout, why) for a sheet, when something fixed it."""
        if self.problem:
            return self.problem, "the problem sets it"
        if file in self.fixed:
            layout, line = self.fixed[file]
            return layout, f"line {line} fixed it"
        return None


def _ok(claims: list[Claim]) -> bool:
    return all(s.verdict == "correct" for c in claims for s in c.steps) and any(c.steps for c in claims)


def _score(claims: list[Claim]) -> tuple[int, int]:
    steps = [s for c in claims for s in c.steps]
    return (sum(s.verdict == "correct" for s in steps), -sum(s.verdict == "invalid" for s in steps))


def _other(layout: str) -> str:
    return LAYOUTS[1 - LAYOUTS.index(layout)]


def judge_in_layouts(sheets: SheetLayouts, file: str, line: int, run: Callable[[], list[Claim]],
                     save: Callable[[], object], restore: Callable[[object], None]) -> list[Claim]:
    ctx = sheets.ctx
    known = sheets.of(file)

    def attempt(layout: str) -> tuple[list[Claim], bool]:
        ctx.layout, ctx.sensitive = layout, False
        claims = run()
        return claims, ctx.sensitive

    start = save()
    first, sensitive = attempt(known[0] if known else LAYOUTS[0])
    if not sensitive or (known and _ok(first)):
        return first
    after_first = save()
    restore(start)
    if known:
        layout, why = known
        other, _ = attempt(_other(layout))
        restore(after_first)
        _explain(first, other, layout, why)
        return first
    second, _ = attempt(LAYOUTS[1])
    ok = [_ok(first), _ok(second)]
    if ok[0] and ok[1]:
        restore(after_first)
        return first
    if ok[0] != ok[1]:
        chosen = LAYOUTS[0] if ok[0] else LAYOUTS[1]
        claims = first if ok[0] else second
        if ok[0]:
            restore(after_first)
        sheets.fixed[file] = (chosen, line)
        for c in claims:
            for s in c.steps:
                s.message = (s.message + " " if s.message else "") + \
                    f"(right only in the {chosen} layout: this line fixes the sheet's layout)"
        return claims
    if _score(second) > _score(first):
        return second
    restore(after_first)
    _every_layout(first, second)
    return first


def _explain(mine: list[Claim], other: list[Claim], layout: str, why: str) -> None:
    for c, d in zip(mine, other):
        for s, u in zip(c.steps, d.steps):
            if s.verdict == "correct":
                continue
            if u.verdict == "correct":
                s.verdict, s.reason, s.counterexample, s.hint = "incorrect", "layout", None, None
                s.method = "numeric"
                s.message = (f"right only in the {_other(layout)} layout, but this sheet is in the "
                             f"{layout} layout ({why})")
            elif s.reason == "shape" and u.reason == "shape":
                s.message = _both(layout, s.message, u.message)


def _every_layout(first: list[Claim], second: list[Claim]) -> None:
    for c, d in zip(first, second):
        for s, u in zip(c.steps, d.steps):
            if s.reason == "shape" and u.reason == "shape":
                s.message = _both(LAYOUTS[0], s.message, u.message)


def _both(layout: str, mine: str | None, theirs: str | None) -> str:
    if mine and mine.startswith("ill-shaped in every layout"):
        return mine
    parts = {layout: mine or "", _other(layout): theirs or ""}
    for k, v in parts.items():
        parts[k] = v.removeprefix(f"in the {k} layout ")
    said = "; ".join(f"in the {k} layout: {v}" for k, v in parts.items())
    return f"ill-shaped in every layout (tried {', '.join(LAYOUTS)}): {said}"


__all__ = ["LAYOUTS", "LayoutContext", "SheetLayouts", "judge_in_layouts"]
