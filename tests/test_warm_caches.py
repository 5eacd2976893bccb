"""The warm path's caches (issue 11, "Speed"): the problem read once per content, and the
"did you mean" search reading the subtrees its candidates share once. Neither may change a
verdict, a reason or a hint, and neither may hold a sheet's text."""
from __future__ import annotations

import os
import shutil

import pytest

import symderiv
from symderiv import load
from symderiv.errors import InputError
from symderiv.meaning import resolve as resolve_mod
from symderiv.meaning.resolve import Scope

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEVSET = os.path.join(os.path.dirname(ROOT), "shared", "devset")
SEED = os.path.join(ROOT, "derivations", "gated-unit")

PROBLEM = r"""$$x \in \mathbb{R}^{n}, \quad t \in \mathbb{R}^{p}$$
$$W \in \mathbb{R}^{p \times n}$$
$$y = W x$$
$$\mathcal{L} = \frac{1}{2}\|y - t\|^2$$
"""


def steps(report) -> list[tuple]:
    return [(c.line, c.kind, c.target, s.verdict, s.reason, s.message, s.hint,
             s.repair[0] if s.repair else None) for c in report.claims for s in c.steps]


def test_a_problem_changed_on_disk_is_read_again(tmp_path):
    problem, sheet = tmp_path / "problem.md", tmp_path / "answers.md"
    problem.write_text(PROBLEM)
    sheet.write_text("$$\\bar{y} = y - t$$\n")
    first = symderiv.check_files([str(problem), str(sheet)])
    assert [c.verdict for c in first.claims if c.listed] == ["correct"]
    problem.write_text(PROBLEM.replace(r"\frac{1}{2}\|y - t\|^2", r"\|y - t\|^2"))  # now 2(y - t)
    again = symderiv.check_files([str(problem), str(sheet)])
    assert [c.verdict for c in again.claims if c.listed] == ["incorrect"]


def test_the_problem_is_remembered_and_a_sheet_never(tmp_path):
    problem, sheet = tmp_path / "problem.md", tmp_path / "answers.md"
    problem.write_text(PROBLEM)
    sheet.write_text("$$\\bar{y} = y - t$$\n")
    symderiv.check_files([str(problem), str(sheet)])
    held = {path for path, _ in load._PROBLEMS}
    assert str(problem) in held and str(sheet) not in held
    doc = load.load_documents([str(problem), str(sheet)])[0]
    assert doc is load.load_documents([str(problem), str(sheet)])[0]  # read once
    sheet.write_text("$$\\bar{y} = t - y$$\n")  # a sheet is read every time
    report = symderiv.check_files([str(problem), str(sheet)])
    assert [(c.verdict, c.steps[0].reason) for c in report.claims if c.listed] == [("incorrect", "sign")]


def test_a_problem_named_by_the_sheet_is_remembered(tmp_path):
    problem, sheet = tmp_path / "problem.md", tmp_path / "answers.md"
    problem.write_text(PROBLEM)
    sheet.write_text("---\nproblem: problem.md\n---\n$$\\bar{y} = y - t$$\n")
    docs = load.load_documents([str(sheet)])
    assert docs[0].file == os.path.realpath(problem)
    assert load.load_documents([str(sheet)])[0] is docs[0]
    assert str(sheet) not in {path for path, _ in load._PROBLEMS}


def test_a_missing_or_unreadable_problem_is_still_an_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load.load_documents([str(tmp_path / "nothing.md")])
    os.mkfifo(tmp_path / "fifo.md")
    with pytest.raises(InputError, match="not a regular file"):
        load.load_documents([str(tmp_path / "fifo.md")])


SHEETS = [  # sheets with many "did you mean" hints, some with ones vectors (sizes unified by use)
    (os.path.join(SEED, "problem.md"), os.path.join(SEED, "seed-answers.md")),
    (os.path.join(SEED, "problem.md"), os.path.join(SEED, "mistakes.md")),
    (os.path.join(DEVSET, "batch-softmax-ce", "problem.md"), os.path.join(DEVSET, "batch-softmax-ce", "answers-2.md")),
    (os.path.join(DEVSET, "batch-softmax-ce", "problem.md"), os.path.join(DEVSET, "batch-softmax-ce", "answers-3.md")),
    (os.path.join(DEVSET, "gru-style-gate", "problem.md"), os.path.join(DEVSET, "gru-style-gate", "answers-2.md")),
    (os.path.join(DEVSET, "two-step-linear-chain", "problem.md"),
     os.path.join(DEVSET, "two-step-linear-chain", "answers-2.md")),
]


@pytest.mark.parametrize("files", [f for f in SHEETS if all(map(os.path.exists, f))],
                         ids=lambda f: os.path.relpath(f[1], os.path.dirname(ROOT)))
def test_hints_are_the_same_without_the_memo(files, monkeypatch, tmp_path):
    calls = {"n": 0}
    dispatch = Scope._dispatch

    def counted(self, node):
        calls["n"] += 1
        return dispatch(self, node)
    symderiv.check_files(list(files))  # the problem's model built and sampled (not counted)
    monkeypatch.setattr(Scope, "_dispatch", counted)
    with_memo = steps(symderiv.check_files(list(files)))
    memo_calls = calls["n"]
    calls["n"] = 0
    monkeypatch.setattr(Scope, "_memoised", lambda self, node: self._dispatch(node))
    without = steps(symderiv.check_files(list(files)))
    assert with_memo == without
    assert any(h is not None and h.startswith("did you mean") for *_, h, _ in with_memo)
    assert memo_calls <= calls["n"]
    if files == SHEETS[0]:  # the seed's ill-shaped steps have dozens of candidates each
        assert memo_calls < calls["n"] * 0.8  # the memo was used: fewer subtrees were read


def test_a_value_of_unknown_size_is_not_remembered():
    """`I` alone has no size until used: each use gets its own, so it is never kept."""
    from symderiv.meaning.build import model_of
    from symderiv.read.document import read_text
    from symderiv.read.parse import parse_expression
    model = model_of(read_text(PROBLEM, "problem.md"))
    scope = Scope(model, memo={}, inside=True)
    eye = parse_expression("I")
    a = scope.resolve(eye)
    assert id(eye) not in scope.memo
    b = scope.resolve(eye)
    assert a is not b
    sized = parse_expression(r"(I - W^\top W) x")
    scope.resolve(sized)
    assert id(sized) in scope.memo and scope.resolve(sized) is scope.memo[id(sized)][1]


def test_an_error_is_remembered_and_raised_again():
    from symderiv.meaning.build import model_of
    from symderiv.read.document import read_text
    from symderiv.read.parse import parse_expression
    model = model_of(read_text(PROBLEM, "problem.md"))
    scope = Scope(model, memo={}, inside=True)
    bad = parse_expression("W W")
    for _ in range(2):
        with pytest.raises(resolve_mod.ShapeError, match="matrix product"):
            scope.resolve(bad)
    assert isinstance(scope.memo[id(bad)][1], resolve_mod.ShapeError)


def test_a_copied_problem_is_its_own_entry(tmp_path):
    """Two paths with the same bytes are two entries: a document carries its file name."""
    shutil.copy(os.path.join(SEED, "problem.md"), tmp_path / "problem.md")
    a = load.load_documents([os.path.join(SEED, "problem.md")])[0]
    b = load.load_documents([str(tmp_path / "problem.md")])[0]
    assert a.file != b.file and a.statements[0].span.file != b.statements[0].span.file


def test_the_search_ends_at_a_repair_right_given_the_earlier_answers(monkeypatch):
    """The seed's `\\bar{z}` line: its first well-shaped repair is right in the student's world
    (their sign slip in `\\bar{y}` carried forward), and no later candidate is read."""
    from symderiv.verify import judge
    files = list(SHEETS[0])
    symderiv.check_files(files)
    pulled: dict[tuple, list] = {}
    every = judge.repairs

    def counted(part):
        seen = pulled.setdefault((part.span.line, part.span.col), [0, sum(1 for _ in every(part))])
        for cand in every(part):
            seen[0] += 1
            yield cand
    monkeypatch.setattr(judge, "repairs", counted)
    report = symderiv.check_files(files)
    step = next(s for c in report.claims if c.line == 32 and c.target == "z" for s in c.steps if s.hint)
    assert "carried forward" in step.hint
    tried, total = pulled[(32, step.span.col)]
    assert tried < total / 4  # the search stopped early
    searched_all = [line for line, (n, total) in pulled.items() if n == total]
    assert searched_all  # a step with no repair that fits reads every candidate


def test_the_memo_leaves_no_reference_cycles(monkeypatch):
    """A kept error's traceback holds the frames that read it: the memo is emptied when its
    search ends, so what it kept is freed at once (not left to the cycle collector)."""
    import gc
    files = list(SHEETS[0])
    symderiv.check_files(files)

    def garbage() -> int:
        gc.collect()
        was = gc.isenabled()
        gc.disable()
        try:
            symderiv.check_files(files)
            return gc.collect()
        finally:
            if was:
                gc.enable()
    with_memo = garbage()
    monkeypatch.setattr(Scope, "_memoised", lambda self, node: self._dispatch(node))
    assert with_memo <= garbage()
