"""The scoring policy (SPEC 4): what a problem asks for, what it is worth, how a sheet scores.

One `Policy`, read from the problem's front matter, is used by `check` (the JSON `score`
block, `--format gradescope`), `grade`, the Gradescope autograder, the PrairieLearn grading
function, `symderiv.check_files` and the pytest plugin::

    scoring:
      targets: {W: 2, U: 2, x: 1}   # adjoints asked, with points (or a list: 1 each);
                                    # default: every input and parameter, 1 each
      carried_forward: 0.5          # share of a target's points for a carried-forward final answer
      steps: 0                      # points per correct intermediate adjoint (default 0)

A target is scored once, from the student's final answer for it: the last part of the last
adjoint claim of that target in the student's files. Full points when that part is correct
and explicit (no partial-derivative symbol, not the target's own adjoint), the
carried-forward share when its only fault is carried forward, 0 otherwise ("not answered"
when there is no claim). With `steps`, each node of the model that is neither the loss nor a
target is an intermediate step worth `steps`, scored the same way. Nothing else earns
anything: declarations, restated definitions, identities, tautologies and repeats get
feedback in the report but no points, so `max_score` depends only on the problem.
"""
from __future__ import annotations

from dataclasses import field
from typing import Any

from .errors import InputError
from .fastdataclass import dataclass
from .names import bar_latex
from .verify.verdicts import Claim, Report

DEFAULT_CARRIED_FORWARD = 0.5
#: claims that give a target's adjoint: `\\bar{W} = ...` in any layout (`\\bar{h}^\\top`, a row
#: `\\frac{\\partial L}{\\partial h}`), and its entries (`\\frac{\\partial L}{\\partial W_{ij}} = ...`)
SCORED_KINDS = ("adjoint", "entrywise")


class PolicyError(InputError):
    """A `scoring:` block that cannot be used (a usage error: exit 2)."""


@dataclass(frozen=True)
class Policy:
    """Targets (canonical node names, in order) with points; steps; the carried-forward share."""

    targets: tuple[tuple[str, float], ...]
    carried_forward: float = DEFAULT_CARRIED_FORWARD
    steps: float = 0.0
    step_nodes: tuple[str, ...] = ()
    #: with families: each target's and step's (count, member) pairs its answer must give
    members: tuple[tuple[str, frozenset[tuple[int, str]]], ...] = ()

    @property
    def max_score(self) -> float:
        return round(sum(p for _, p in self.targets) + self.steps * len(self.step_nodes), 4)

    def as_dict(self) -> dict[str, Any]:
        return {"targets": dict(self.targets), "carried_forward": self.carried_forward, "steps": self.steps,
                "max_score": self.max_score}


@dataclass
class Item:
    """One scored thing: a target, or an intermediate step when `steps` > 0."""

    name: str
    max_score: float
    score: float = 0.0
    status: str = "not answered"  # correct, carried-forward, not explicit, incorrect, invalid, not answered
    claim: Claim | None = None
    step: bool = False

    @property
    def label(self) -> str:
        return bar_latex(self.name)

    @property
    def message(self) -> str:
        """One sentence for a TA or a student: what was scored, and why it earned what it did."""
        if self.claim is None:
            return f"{self.label}: not answered (no line gives {self.label})."
        cell = getattr(self.claim, "cell", None)
        where = f"cell {cell}, line {self.claim.line}" if cell else f"line {self.claim.line}"
        final = self.claim.steps[-1] if self.claim.steps else None
        text = final.latex if final is not None else self.claim.latex
        head = f"{self.label}, final answer on {where}: {text}"
        if self.status == "correct":
            return f"{head}\ncorrect."
        if self.status == "not explicit":
            return (f"{head}\nnot explicit: the final part still has a partial derivative or {self.label} "
                    f"itself; end the line with an expression in the problem's symbols.")
        why = f"{final.reason}: " if final is not None and final.reason else ""
        msg = final.message if final is not None else ""
        credit = " (carried forward: partial credit)" if self.status == "carried-forward" else ""
        return f"{head}\n{self.status}{credit}: {why}{msg}".rstrip()


@dataclass
class Score:
    score: float
    max_score: float
    items: list[Item] = field(default_factory=list)

    @property
    def targets(self) -> dict[str, float]:
        return {i.name: i.score for i in self.items if not i.step}

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's `score` block (SPEC 5)."""
        out: dict[str, Any] = {"score": self.score, "max_score": self.max_score, "targets": self.targets}
        steps = {i.name: i.score for i in self.items if i.step}
        if steps:
            out["steps"] = steps
        out["items"] = [{"name": i.name, "score": i.score, "max_score": i.max_score, "status": i.status,
                         "line": i.claim.line if i.claim else None, "step": i.step}
                        | ({"cell": i.claim.cell} if i.claim is not None and i.claim.cell else {})
                        for i in self.items]
        return out


# ---- reading the policy --------------------------------------------------------------------
def _number(value: Any, what: str, where: str, low: float, high: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise PolicyError(f"{where}: `scoring: {what}` must be a number, not {value!r}")
    if value < low or (high is not None and value > high) or value in (float("inf"), float("-inf")):
        bound = f"between {low:g} and {high:g}" if high is not None else f"a finite number >= {low:g}"
        raise PolicyError(f"{where}: `scoring: {what}` must be {bound} (it is {value!r})")
    return float(value)


def _canonical(model: Any, key: Any, where: str, families: Any = None) -> str:
    from .meaning.resolve import Scope

    scope = Scope(model)
    text = str(key).strip()
    if families is not None:
        from .verify import family_targets

        generic = family_targets.generic_name(families, text)
        if generic is not None:
            return generic
        name = _canonical(model, key, where)
        family = family_targets.member_of(families, name)
        if family is not None and family != name:
            raise PolicyError(f"{where}: `scoring: targets` names {key}, one member of the family {family}: "
                              f"name the family ({family}), which is scored at every step")
        return name
    for cand in (text, "\\" + text, text.replace("{", "").replace("}", "")):
        name = scope.canonical(cand)
        if name is not None:
            if name == model.loss:
                raise PolicyError(f"{where}: `scoring: targets` names the loss {key}; its adjoint is 1")
            return name
    known = ", ".join(model.symbols)
    raise PolicyError(f"{where}: `scoring: targets` names {key}, which is not a symbol of the problem "
                      f"(its symbols: {known})")


def read_policy(front_matter: Any, model: Any, where: str = "the problem", families: Any = None) -> Policy:
    """The Policy of a problem: its front matter's `scoring:` block over the defaults;
    `families` is the problem's FamilyProblem (`Report.families`) when it has steps or layers:
    then targets are named as written (`x_t`, `W^{(l)}`, a shared `W`), never by member."""
    fm = front_matter if isinstance(front_matter, dict) else {}
    for old in ("points", "carried_forward"):
        if old in fm:
            raise PolicyError(f"{where}: front matter `{old}:` is now set under `scoring:` "
                              "(README \"Scoring\"): scoring: {targets: {W: 2}, carried_forward: 0.5}")
    block = fm.get("scoring")
    if block is None:
        block = {}
    if not isinstance(block, dict):
        raise PolicyError(f"{where}: `scoring:` must be a mapping (targets, carried_forward, steps)")
    unknown = set(block) - {"targets", "carried_forward", "steps"}
    if unknown:
        raise PolicyError(f"{where}: `scoring:` has unknown keys {', '.join(sorted(map(str, unknown)))} "
                          "(it takes targets, carried_forward, steps)")
    raw = block.get("targets")
    if raw is None and families is not None:
        from .verify.family_targets import default_targets

        pairs = [(n, 1.0) for n in default_targets(families, model)]
    elif raw is None:
        pairs = [(n, 1.0) for n in model.inputs]
    elif isinstance(raw, dict):
        pairs = [(_canonical(model, k, where, families), _number(v, f"targets: {k}", where, 0, None))
                 for k, v in raw.items()]
    elif isinstance(raw, list):
        pairs = [(_canonical(model, k, where, families), 1.0) for k in raw]
    else:
        raise PolicyError(f"{where}: `scoring: targets` must map names to points, or list names")
    if not pairs:
        raise PolicyError(f"{where}: `scoring: targets` is empty: nothing would be scored")
    seen: dict[str, float] = {}
    for name, pts in pairs:
        if name in seen:
            raise PolicyError(f"{where}: `scoring: targets` names {name} twice")
        seen[name] = pts
    cf = _number(block.get("carried_forward", DEFAULT_CARRIED_FORWARD), "carried_forward", where, 0, 1)
    steps = _number(block.get("steps", 0), "steps", where, 0, None)
    loss = model.loss
    if families is not None:
        from .verify import family_targets

        step_nodes = tuple(family_targets.nodes(families, model, set(seen))) if steps else ()
        members = tuple((n, family_targets.members_for(families, n)) for n in (*seen, *step_nodes))
        return Policy(tuple(seen.items()), cf, steps, step_nodes, members)
    step_nodes = tuple(n for n in reversed(model.nodes) if n != loss and n not in seen) if steps else ()
    return Policy(tuple(seen.items()), cf, steps, step_nodes)


# ---- scoring a report ----------------------------------------------------------------------
def _students(report: Report) -> list[Claim]:
    problem = report.files[0] if report.files else None
    return [c for c in report.claims if c.kind in SCORED_KINDS and c.target and c.listed and c.file != problem]


def final_claims(report: Report) -> dict[str, Claim]:
    """The last adjoint claim of each node in the student's files (not the problem's)."""
    return {c.target: c for c in _students(report) if c.target}


def final_family_claims(report: Report, policy: Policy) -> dict[str, Claim]:
    """With families: the last claim of the student's that answers each target at every
    member and count (`\\bar{x}_t = ...` for x_t; `\\bar{W} = \\sum_t ...` for a shared W),
    or a line for it that could not be checked at all (its target as written)."""
    last: dict[str, Claim] = {}
    wanted = dict(policy.members)
    for c in _students(report):
        for name, members in wanted.items():
            if (c.members is not None and members <= c.members.keys()) or (c.members is None and c.target == name):
                last[name] = c
    return last


def _members_agree(item: Item, claim: Claim, policy: Policy) -> None:
    """A family answer is correct only when every member's instance was (the merged verdict
    is the worst already; this keeps the rule explicit for a member checked on its own)."""
    if item.status != "correct" or claim.members is None:
        return
    wanted = dict(policy.members)[item.name]
    bad = sorted({claim.members[k] for k in wanted if claim.members[k] != "correct"})
    if bad:
        item.status, item.score = bad[0], 0.0


def _judge(item: Item, claim: Claim | None, policy: Policy) -> None:
    item.claim = claim
    if claim is None or not claim.steps:
        return
    final = claim.steps[-1]
    if final.verdict == "correct":
        item.status = "correct" if claim.explicit else "not explicit"
        item.score = item.max_score if claim.explicit else 0.0
    elif final.verdict == "incorrect" and final.reason == "carried-forward" and claim.explicit:
        item.status = "carried-forward"
        item.score = round(item.max_score * policy.carried_forward, 4)
    else:
        item.status = final.verdict


def score_report(report: Report, policy: Policy) -> Score:
    """The Score of a checked sheet under `policy`."""
    last = final_family_claims(report, policy) if policy.members else final_claims(report)
    items = [Item(name, pts) for name, pts in policy.targets]
    items += [Item(name, policy.steps, step=True) for name in policy.step_nodes]
    for item in items:
        _judge(item, last.get(item.name), policy)
        if policy.members and item.claim is not None:
            _members_agree(item, item.claim, policy)
    return Score(round(sum(i.score for i in items), 4), policy.max_score, items)


def score_of(report: Report) -> Score:
    """The report's Score: the one attached by `check_scored`, else under the default policy."""
    if report.score is None:
        report.score = score_report(report, read_policy({}, report.model, families=report.families))
    return report.score


def check_scored(docs: list, seed: int = 0, budget: Any = None) -> Report:
    """Check `docs` (the problem first) and attach the Score under the problem's policy;
    `budget` is the work budget per document (`symderiv.verify.budget.Budget`)."""
    from .verify.check import check_documents

    report = check_documents(docs, seed=seed, budget=budget)
    policy = read_policy(docs[0].front_matter, report.model, docs[0].file, report.families)
    report.score = score_report(report, policy)
    return report


__all__ = ["Item", "Policy", "PolicyError", "Score", "check_scored", "final_claims", "final_family_claims",
           "read_policy", "score_of", "score_report"]
