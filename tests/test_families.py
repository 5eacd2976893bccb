"""Families over steps and layers (SPEC 1, 3.3): right lines at every step, mutants caught.

The mutants shift a step (`t` <-> `t+1`, `t-1`), move a boundary (`T` -> `T-1`), change a
sum's bounds (`t=1` -> `t=2`, `T` -> `T-1`) or drop a term. Whether a mutant is genuinely
wrong is decided independently of symderiv: this file unrolls the problem by plain string
substitution (not symderiv's `meaning/families.py`) at T = 2 and 3, instantiates the line at
every step where the members it names exist, and asks `mutate.Oracle` (finite differences)
at each. symderiv must then not say `correct`.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutate import Oracle, Undecidable, check_lines  # noqa: E402

from symderiv.read.document import read_document, read_text  # noqa: E402
from symderiv.read.parse import parse_statement  # noqa: E402
from symderiv.read import tree as t  # noqa: E402
from symderiv.verify.check import check_documents  # noqa: E402

HERE = Path(__file__).resolve().parent / "families"
RNN = HERE / "rnn"
MLP = HERE / "mlp-layers"

_SUB = re.compile(r"_(?:\{([^{}]*)\}|([A-Za-z0-9]))")
_SUP = re.compile(r"\^\{\(([^{}()]*)\)\}")
_RANGE = re.compile(r"\s*(?:,\s*\\;|\\quad\s*\(|\\quad\s*\\text\{for\s*\}|\\quad)\s*[a-z]\s*=\s*1\s*,\s*\\dots\s*,\s*[A-Z]\s*\)?\s*$")


def _affine(text: str, env: dict[str, int]) -> int | None:
    m = re.fullmatch(r"([A-Za-z])(?:([+-])(\d+))?", text.replace(" ", ""))
    if not m or m.group(1) not in env:
        return None
    return env[m.group(1)] + (int(m.group(3) or 0) * (-1 if m.group(2) == "-" else 1))


def inst(text: str, env: dict[str, int]) -> str:
    """Steps and counts replaced by numbers: `h_{t-1}` -> `h_{1}`, `W^{(l+1)}` -> `W^{(3)}`."""
    def sub(m: re.Match) -> str:
        v = _affine(m.group(1) if m.group(1) is not None else m.group(2), env)
        return m.group(0) if v is None else f"_{{{v}}}"

    def sup(m: re.Match) -> str:
        v = _affine(m.group(1), env)
        return m.group(0) if v is None else f"^{{({v})}}"
    return _SUP.sub(sup, _SUB.sub(sub, text))


def expand_sum(rhs: str, env: dict[str, int]) -> str:
    """`\\sum_{t=a}^{b} REST` (a sum over the whole right side) as the sum of its terms."""
    m = re.match(r"\s*(.*?)\\sum_\{([a-z])=(\d)\}\^\{([^{}]*)\}(.*)$", rhs)
    if not m:
        return inst(rhs, env)
    pre, x, lo, hi, rest = m.groups()
    top = _affine(hi, env) if not hi.isdigit() else int(hi)
    assert top is not None
    terms = [f"\\left({inst(rest, {**env, x: v})}\\right)" for v in range(int(lo), top + 1)]
    return inst(pre, env) + "\\left(" + (" + ".join(terms) or "0") + "\\right)"


def unrolled_problem(src: Path, count: int, tmp: Path) -> Path:
    """The problem written out at one count, by string substitution."""
    out: list[str] = []
    fams: list[tuple[str, str]] = []
    for line in src.read_text().splitlines():
        if not line.startswith("$$"):
            continue
        body = line.strip().strip("$")
        decl = re.match(r"(.+?)(_1|\^\{\(1\)\})\s*,\s*\\dots\s*,.*?\\in\s*(.+)$", body)
        if decl:
            base, mark, space = decl.groups()
            for k in range(1, count + 1):
                out.append(f"{base}_{{{k}}} \\in {space}" if mark == "_1" else f"{base}^{{({k})}} \\in {space}")
            continue
        rng = _RANGE.search(body)
        if rng:
            letter = re.search(r"([a-z])\s*=\s*1", body[rng.start():]).group(1)  # type: ignore[union-attr]
            fams.append((letter, body[:rng.start()]))
            continue
        if fams:
            for k in range(1, count + 1):
                out.extend(inst(d, {letter: k, "T": count, "L": count}) for letter, d in fams)
            fams = []
        lhs, _, rhs = body.partition("=")
        out.append(f"{lhs}= {expand_sum(rhs, {'T': count, 'L': count})}" if rhs else body)
    path = tmp / f"unrolled-{count}.md"
    path.write_text("\n".join(f"$${s}$$" for s in out) + "\n")
    return path


def _lines(path: Path) -> list[str]:
    return [ln.strip().strip("$") for ln in path.read_text().splitlines() if ln.startswith("$$")]


def judged(problem: Path, line: str, tmp: Path, letter: str, count_letter: str) -> bool | None:
    """Is the line right at every step of T = 2, 3 where its members exist? None: nowhere."""
    lhs, _, rhs = line.partition("=")
    seen = False
    for count in (2, 3):
        orc = oracles(problem, count, tmp)
        for v in range(1, count + 1):
            env = {letter: v, count_letter: count}
            l_inst, r_inst = inst(lhs, env), expand_sum(rhs, env)
            st = parse_statement(f"{l_inst} = {r_inst}")
            if st.error is not None:
                return False
            names = [n.name for n in _walk(st.parts[1]) if isinstance(n, (t.Name, t.Bar))]
            if any(re.search(r"_\{?\d+\}?$|\^\{\(\d+\)\}", n) and orc.canonical(n) is None for n in names):
                continue
            target = st.parts[0]
            name = target.name if isinstance(target, t.Bar) else None
            if name is None or orc.canonical(name) is None:
                continue
            seen = True
            try:
                if not orc.equal(st.parts[1], name):
                    return False
            except Undecidable:
                return None
    return True if seen else None


_ORACLES: dict = {}


def oracles(problem: Path, count: int, tmp: Path) -> Oracle:
    key = (problem, count)
    if key not in _ORACLES:
        _ORACLES[key] = Oracle(unrolled_problem(problem / "problem.md", count, tmp))
    return _ORACLES[key]


def _walk(n: t.Node):
    stack = [n]
    while stack:
        x = stack.pop()
        yield x
        for value in vars(x).values():
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                item = item[-1] if isinstance(item, tuple) else item
                if isinstance(item, t.Node):
                    stack.append(item)


def step_mutants(rhs: str) -> list[str]:
    """Shift one step or boundary, change one bound, or drop one top-level term."""
    out = []
    for m in re.finditer(r"_(?:\{(t|t-1|t\+1|T|T-1)\}|(t|T))(?![A-Za-z{])", rhs):
        cur = m.group(1) or m.group(2)
        for new in {"t": ("t+1", "t-1"), "t-1": ("t",), "t+1": ("t",), "T": ("T-1",), "T-1": ("T",)}[cur]:
            out.append(rhs[:m.start()] + f"_{{{new}}}" + rhs[m.end():])
    for m in re.finditer(r"\^\{\((l|l-1|l\+1|L)\)\}", rhs):
        for new in {"l": ("l+1", "l-1"), "l-1": ("l",), "l+1": ("l",), "L": ("L-1",)}[m.group(1)]:
            out.append(rhs[:m.start()] + f"^{{({new})}}" + rhs[m.end():])
    if "\\sum_{t=1}" in rhs:
        out.append(rhs.replace("\\sum_{t=1}", "\\sum_{t=2}", 1))
        out.append(rhs.replace("^{T}", "^{T-1}", 1))
    if " + " in rhs and "\\sum" not in rhs:
        a, _, b = rhs.partition(" + ")
        out.extend([a, b])
    return out


def test_every_right_rnn_line_is_correct_at_every_step():
    report = check_documents([read_document(str(RNN / "problem.md")), read_document(str(RNN / "answers.md"))])
    claims = [c for c in report.claims if c.file.endswith("answers.md")]
    assert len(claims) == len(_lines(RNN / "answers.md"))
    bad = [f"{c.line}: {c.latex} {c.verdict} {c.reason}" for c in claims if c.verdict != "correct"]
    assert not bad, "\n".join(bad)
    by_line = {c.line: c for c in claims}
    assert "t = 1..T-1" in by_line[6].steps[0].message  # \bar{h}_t with a_{t+1}: not at T
    assert "t = 1..T for" in by_line[4].steps[0].message


def test_every_right_layer_line_is_correct_at_every_layer():
    report = check_documents([read_document(str(MLP / "problem.md")), read_document(str(MLP / "answers.md"))])
    bad = [f"{c.line}: {c.latex} {c.verdict} {c.reason}" for c in report.claims
           if c.file.endswith("answers.md") and c.verdict != "correct"]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("family,letter,count", [(RNN, "t", "T"), (MLP, "l", "L")], ids=["rnn", "mlp"])
def test_step_and_bound_mutants_are_caught(family, letter, count, tmp_path):
    lines = [ln for ln in _lines(family / "answers.md") if ln.startswith("\\bar")]
    assert lines
    for line in lines:  # the right lines are right by the independent oracle too
        assert judged(family, line, tmp_path, letter, count) is not False, line
    mutated = []
    for line in lines:
        lhs, _, rhs = line.partition("=")
        for m in step_mutants(rhs):
            candidate = f"{lhs}= {m}"
            if judged(family, candidate, tmp_path, letter, count) is False:
                mutated.append(candidate)
    assert len(mutated) >= 5, mutated
    got = check_lines(read_document(str(family / "problem.md")), mutated)
    accepted = [mutated[i - 1] for i, claims in got.items() if claims and claims[0].verdict == "correct"]
    assert not accepted, "wrong step mutants accepted:\n" + "\n".join(accepted)


@pytest.mark.parametrize("text,words", [
    (r"\bar{W}_{ij} = (\bar{a}_t)_i (h_{t-1})_j", "free on the right side"),
    (r"\bar{h}_{t+5} = W^\top \bar{a}_{t+6}", "no step or count"),
])
def test_family_lines_that_cannot_hold_are_invalid(text, words):
    got = check_lines(read_document(str(RNN / "problem.md")), [text])
    c = got[1][0]
    assert c.verdict == "invalid" and words in " ".join(s.message for s in c.steps)


def test_a_family_problem_states_its_range_three_ways():
    doc = read_text((RNN / "problem.md").read_text(), "p.md")
    from symderiv.meaning.families import read_families
    fp = read_families(doc.statements)
    assert fp is not None and fp.letters == {"t": "T"} and fp.counts == ["T"]
    assert sum(1 for x in fp.items if type(x).__name__ == "Family") == 3


@pytest.mark.parametrize("family", [RNN, MLP], ids=["rnn", "mlp"])
def test_latex_of_a_family_problem_is_generic_and_reads_back_correct(family, tmp_path):
    from symderiv.cli import main
    out = tmp_path / "d.tex"
    assert main(["latex", str(family / "problem.md"), "-o", str(out)]) == 0
    body = out.read_text().split("\\begin{align*}")[1].split("\\end{align*}")[0]
    rows = [r.strip().replace("&=", "=") for r in body.split("\\\\\n") if r.strip()]
    assert any("\\sum_{" in r or "(l)" in r for r in rows)  # generic, not one count written out
    assert not any(re.search(r"_\{?[2-9]\}?|\^\{\([2-9]\)\}", r) for r in rows), rows
    doc = read_text("\n".join(f"$${r}$$" for r in rows) + "\n", "d.md")
    report = check_documents([read_document(str(family / "problem.md")), doc])
    bad = [f"{c.latex}: {c.verdict}" for c in report.claims if c.file == "d.md" and c.verdict != "correct"]
    assert not bad and len([c for c in report.claims if c.file == "d.md"]) == len(rows), bad
