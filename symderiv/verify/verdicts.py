"""Verdicts are data: every report format reads these, nothing else."""
from __future__ import annotations

from dataclasses import field
from typing import Any

from ..derive.tidy import Facts
from ..fastdataclass import dataclass
from ..model.ops import Expr
from ..spans import Span

ORDER = {"correct": 0, "incorrect": 1, "invalid": 2}


@dataclass
class Step:
    """One `=`-separated part of a claim, judged against the truth."""

    latex: str
    verdict: str
    reason: str | None = None
    method: str | None = None
    message: str = ""
    counterexample: dict[str, Any] | None = None
    hint: str | None = None
    span: Span | None = None
    #: the "did you mean" candidate of the hint: (its text in the hint, what it means), so that
    #: reports can print it in its simplest form (report/answers.py: `hint_text`)
    repair: tuple[str, Expr] | None = field(default=None, repr=False)


@dataclass(frozen=True, eq=False)
class Answer:
    """The derived adjoint of a claim's target: its local form (in downstream adjoints) and
    its expanded form (in inputs and forward values). Reports render it (report/answers.py)."""

    target: str
    local: Expr = field(repr=False)
    expanded: Expr = field(repr=False)
    facts: Facts = field(default_factory=Facts, repr=False)  # the premises printing may use


@dataclass
class Claim:
    file: str
    line: int
    kind: str
    target: str | None
    latex: str
    steps: list[Step] = field(default_factory=list)
    span: Span | None = None
    side: bool = False
    listed: bool = True  # new definitions are listed only with --all
    explicit: bool = False  # an adjoint whose final part has no partial derivative and not its own adjoint
    answer: Answer | None = None  # set by the judge when an adjoint claim is not correct
    #: with families: the (count, adjoint target) of every instance checked -> its final verdict
    #: (`\\bar{x}_t` -> (1, x_1), (2, x_1), (2, x_2), ...); None otherwise. Scoring reads it.
    members: dict[tuple[int, str], str] | None = None

    @property
    def cell(self) -> int | None:
        """In a notebook, the claim's cell (1-based among all cells); its `line` is in that cell."""
        return self.span.cell if self.span is not None else None

    @property
    def where(self) -> str:
        """`file:line`, or `file:cell N:line` in a notebook."""
        return f"{self.file}:cell {self.cell}:{self.line}" if self.cell else f"{self.file}:{self.line}"

    @property
    def verdict(self) -> str:
        if not self.steps:
            return "correct"
        return max((s.verdict for s in self.steps), key=ORDER.__getitem__)

    @property
    def reason(self) -> str | None:
        bad = [s for s in self.steps if s.verdict != "correct"]
        return bad[0].reason if bad else None


@dataclass
class Report:
    files: list[str]
    loss: str | None
    claims: list[Claim]
    model: Any = field(default=None, repr=False)  # the problem's Model, for scoring (not serialised)
    score: Any = None  # the scoring.Score under the problem's policy, when scored
    families: Any = None  # the problem's meaning.families.FamilyProblem, when it has families

    def summary(self, all_claims: bool = False) -> dict[str, int]:
        out = {"correct": 0, "incorrect": 0, "invalid": 0}
        for c in self.claims:
            if c.listed or all_claims:
                out[c.verdict] += 1
        return out

    def _repr_html_(self) -> str:
        from ..report.notebook import report_html
        return report_html(self)

    @property
    def ok(self) -> bool:
        return all(c.verdict == "correct" for c in self.claims)
