"""Families over steps and layers (SPEC 1, 3.3): right lines at every step, mutants caught.

The mutants shift a step (`t` <-> `t+1`, `t-1`), move a boundary (`T` -> `T-1`), change a
sum's bounds (`t=1` -> `t=2`, `T` -> `T-1`) or drop a term. Whether a mutant is genuinely
wrong is decided independently of symderiv: the problem is unrolled by plain string
substitution (`family_oracle.py`, not symderiv's `meaning/families.py`) at T = 2 and 3, the
line is instantiated at every step where the members it names exist, and `mutate.Oracle`
(finite differences) judges it at each. symderiv must then not say `correct`.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from family_oracle import expand_sum, inst, unrolled_text
from mutate import Oracle, Undecidable, check_lines

from symderiv.read import tree as t
from symderiv.read.document import read_document, read_text
from symderiv.read.parse import parse_statement
from symderiv.verify.check import check_documents

HERE = Path(__file__).resolve().parent / "families"
RNN = HERE / "rnn"
MLP = HERE / "mlp-layers"

def unrolled_problem(src: Path, count: int, tmp: Path) -> Path:
    """The problem written out at one count, by string substitution (family_oracle.py)."""
    path = tmp / f"unrolled-{count}.md"
    path.write_text(unrolled_text(src.read_text(), count))
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
        stack.extend(t.children(x))


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


@pytest.mark.parametrize("expanded", [False, True], ids=["local", "expanded"])
@pytest.mark.parametrize("family", [RNN, MLP], ids=["rnn", "mlp"])
def test_latex_of_a_family_problem_is_generic_and_reads_back_correct(family, expanded, tmp_path):
    """Local form, and `--expanded` (each step's adjoints in the values the step starts from)."""
    from symderiv.cli import main
    out = tmp_path / "d.tex"
    assert main(["latex", str(family / "problem.md"), "-o", str(out)] + ["--expanded"] * expanded) == 0
    body = out.read_text().split("\\begin{align*}")[1].split("\\end{align*}")[0]
    rows = [r.strip().replace("&=", "=") for r in body.split("\\\\\n") if r.strip()]
    assert any("\\sum_{" in r or "(l)" in r for r in rows)  # generic, not one count written out
    assert not any(re.search(r"_\{?[2-9]\}?|\^\{\([2-9]\)\}", r) for r in rows), rows
    doc = read_text("\n".join(f"$${r}$$" for r in rows) + "\n", "d.md")
    report = check_documents([read_document(str(family / "problem.md")), doc])
    bad = [f"{c.latex}: {c.verdict}" for c in report.claims if c.file == "d.md" and c.verdict != "correct"]
    assert not bad and len([c for c in report.claims if c.file == "d.md"]) == len(rows), bad
    if expanded:  # in the step's own values: no adjoint of the same step, the next step's stays
        assert any("\\tanh(" in r or "\\sigma(" in r for r in rows if not r.startswith("\\bar{\\mathcal")), rows
        assert not any(re.search(r"\\bar\{o\}_t", r) for r in rows if r.startswith("\\bar{h}_t")), rows


# ---- `z^l` without brackets, and a count used as a value -----------------------------------------
def _judged_lines(problem: Path, preamble: list[str], lines: list[str]) -> list[bool | None]:
    """The independent oracle's judgement of each line (family_oracle.py: unrolled by itself)."""
    from family_oracle import FamilyOracle
    from mutate import adjoint_lines
    orc = FamilyOracle(problem)
    sheet = problem.parent / "judged.md"
    sheet.write_text("".join(f"$${x}$$\n" for x in preamble + lines))
    try:
        found = {a.line: a for a in adjoint_lines(sheet, orc)}
    finally:
        sheet.unlink()
    out: list[bool | None] = []
    for i in range(len(preamble) + 1, len(preamble) + len(lines) + 1):
        a = found.get(i)
        try:
            out.append(None if a is None else orc.equal(a.parts[-1], a.target, a.letters))
        except Undecidable:
            out.append(None)
    return out


def _shift_exponents(line: str) -> list[str]:
    """Every one-layer shift of one unbracketed layer superscript (`^l`, `^{l+1}`, `^{l-1}`, `^L`)."""
    lhs, _, rhs = line.partition("=")
    out = []
    for m in re.finditer(r"\^(?:\{(l|l-1|l\+1|L)\}|(l|L))(?![A-Za-z])", rhs):
        cur = m.group(1) or m.group(2)
        for new in {"l": ("l+1", "l-1"), "l-1": ("l",), "l+1": ("l",), "L": ("L-1",)}[cur]:
            out.append(f"{lhs}={rhs[:m.start()]}^{{{new}}}{rhs[m.end():]}")
    return out


def _none_accepted(problem: Path, preamble: list[str], wrong: list[str]) -> None:
    """No line of `wrong` (each judged wrong by the oracle) is `correct` after `preamble`."""
    got = check_lines(read_document(str(problem)), preamble + wrong)
    accepted = [wrong[i - 2] for i in range(2, len(wrong) + 2) if got[i][0].verdict == "correct"]
    assert not accepted, "mutants accepted:\n" + "\n".join(accepted)


def test_a_layer_index_without_brackets_is_the_layer(tmp_path):
    problem = tmp_path / "problem.md"
    problem.write_text((MLP / "problem.md").read_text())
    preamble = [r"\delta^{(l)} = \frac{\partial \mathcal{E}}{\partial z^{(l)}}"]
    right = [
        r"\delta^L = (a^L - y) \odot \sigma'(z^L)",
        r"\delta^l = \left((W^{l+1})^\top \delta^{l+1}\right) \odot \sigma'(z^l)",
        r"\bar{b}^l = \delta^l",
        r"\bar{W}^l = \delta^l (a^{l-1})^\top",
        r"\frac{\partial \mathcal{E}}{\partial W^{(l)}_{ij}} = \delta^l_i a^{l-1}_j",
        r"\bar{a}^{l-1} = (W^l)^\top \delta^l",
    ]
    assert all(j is True for j in _judged_lines(problem, preamble, right)), right
    got = check_lines(read_document(str(problem)), preamble + right)
    bad = [f"{right[i - 2]}: {got[i][0].verdict}" for i in range(2, len(right) + 2) if got[i][0].verdict != "correct"]
    assert not bad, bad
    wrong = [m for line in right for m in _shift_exponents(line)]
    judged = _judged_lines(problem, preamble, wrong)
    wrong = [m for m, j in zip(wrong, judged) if j is False]
    assert len(wrong) >= 6, wrong
    _none_accepted(problem, preamble, wrong)


def _derivative_mutants(line: str) -> list[str]:
    """A layer shift on either side, sign, x2, a transpose dropped, an entry's indices swapped,
    and a dropped term or factor."""
    lhs, _, rhs = line.partition("=")
    out = _shift_exponents(line)
    for m in re.finditer(r"\^(?:\{(l|l-1)\}|(l|L))(?![A-Za-z])", lhs):  # `\partial z^{l+1}` on the left
        new = {"l": "l+1", "l-1": "l", "L": "L-1"}[m.group(1) or m.group(2)]
        out.append(f"{lhs[:m.start()]}^{{{new}}}{lhs[m.end():]}={rhs}")
    out += [f"{lhs}= -\\left({rhs}\\right)", f"{lhs}= 2 \\left({rhs}\\right)"]
    out += [f"{lhs}={rhs[:m.start()]}{rhs[m.end():]}" for m in re.finditer(r"\^\\top", rhs)]
    for m in re.finditer(r"_\{([a-z])([a-z])\}", rhs):
        out.append(f"{lhs}={rhs[:m.start()]}_{{{m.group(2)}{m.group(1)}}}{rhs[m.end():]}")
    if "_i" in rhs and "_j" in rhs:
        out.append(f"{lhs}={rhs.replace('_i', '_@').replace('_j', '_i').replace('_@', '_j')}")
    for cut in (r" \odot ", " - "):
        if cut in rhs:
            out.append(f"{lhs}={rhs.partition(cut)[0]}" + ("\\right)" * rhs.partition(cut)[0].count("\\left(")))
    return out


def test_a_layer_index_without_brackets_in_a_derivative(tmp_path):
    """`\\partial z^l`, `\\partial W^l_{ij}`, `\\partial b_j^l` in a derivative are the layer members
    `z^{(l)}`, ... (issue 13): right lines correct at every drawn count, no mutant accepted."""
    problem = tmp_path / "problem.md"
    problem.write_text((MLP / "problem.md").read_text())
    preamble = [r"\delta^l = \frac{\partial \mathcal{E}}{\partial z^l}"]
    right = [
        r"\frac{\partial \mathcal{E}}{\partial z^L} = (a^L - y) \odot \sigma'(z^L)",
        r"\frac{\partial \mathcal{E}}{\partial z^l} = \left((W^{l+1})^\top \delta^{l+1}\right) \odot \sigma'(z^l)",
        r"\frac{\partial \mathcal{E}}{\partial b^l} = \delta^l",
        r"\frac{\partial \mathcal{E}}{\partial W^l} = \delta^l (a^{l-1})^\top",
        r"\frac{\partial \mathcal{E}}{\partial W^{l}_{ij}} = \delta^l_i a^{l-1}_j",
        r"\frac{\partial \mathcal{E}}{\partial z^{l}_j} = \sigma'(z^l_j) \sum_{k} W^{l+1}_{kj} \frac{\partial \mathcal{E}}{\partial z^{l+1}_k}",
        r"\frac{\partial \mathcal{E}}{\partial a^{l-1}} = (W^l)^\top \delta^l",
        r"\frac{\partial \mathcal{E}}{\partial b_j^l} = \delta^l_j",
        r"\partial \mathcal{E} / \partial b^{l} = \delta^{(l)}",
    ]
    assert all(j is True for j in _judged_lines(problem, preamble, right)), right
    right += [r"\frac{\partial L}{\partial W^l} = \delta^l (a^{l-1})^\top",  # the oracle's loss is E only
              r"\frac{\partial \mathcal{E}}{\partial a^{l-1}} = (W^l)^\top \frac{\partial \mathcal{E}}{\partial z^l}",
              r"\frac{\partial a^l}{\partial z^l} = \operatorname{diag}(\sigma'(z^l))"]
    got = check_lines(read_document(str(problem)), preamble + right)
    bad = [f"{right[i - 2]}: {got[i][0].verdict}" for i in range(2, len(right) + 2) if got[i][0].verdict != "correct"]
    assert not bad, bad
    assert all("L = 1, 2, 3" in got[i][0].steps[0].message for i in range(2, len(right) + 2))
    wrong = [m for line in right for m in _derivative_mutants(line)]
    judged = _judged_lines(problem, preamble, wrong)
    wrong = [m for m, j in zip(wrong, judged) if j is False]
    assert len(wrong) >= 30, wrong
    _none_accepted(problem, preamble, wrong)


def test_a_superscript_in_a_derivative_is_a_layer_only_in_a_layer_problem():
    """`\\partial a^l` is one name only where one symbol is required; `^2` stays the square,
    `^T` the transpose, and a non-layer superscript is no power (not a symbol of the problem)."""
    den = {s: parse_statement(s).parts[0] for s in (
        r"\frac{\partial L}{\partial z^l}", r"\frac{\partial L}{\partial z_j^{l+1}}",
        r"\frac{\partial L}{\partial \sigma^2}", r"\frac{\partial a^l}{\partial z^{l}_j}")}
    assert [getattr(n, "den", None) for n in den.values()] == ["z^{l}", "z^{l+1}_j", "\\sigma^2", "z^{l}_j"]
    assert parse_statement(r"\frac{\partial f}{\partial x^T}").error is not None
    assert isinstance(parse_statement("z^l").parts[0], t.Power)
    got = check_lines(read_document(str(HERE.parent.parent / "derivations" / "quadratic-general" / "problem.md")),
                      [r"\frac{\partial f}{\partial x^n} = (C + C^\top) x + u",
                       r"\frac{\partial f}{\partial x^{m}} = (C + C^\top) x + u"])
    assert [(got[i][0].verdict, got[i][0].reason) for i in (1, 2)] == [("invalid", "unknown-symbol")] * 2


MEAN = RNN.parent / "rnn" / "problem.md"


def test_a_count_is_a_value_in_problems_and_answers(tmp_path):
    """`\\frac{1}{T}\\sum_{t=1}^{T}`: the loss is the mean over the steps; `T` is a number at each count."""
    text = MEAN.read_text().replace(r"\mathcal{L} = \frac{1}{2}\sum_{t=1}^{T}\|o_t - y_t\|^2",
                                    r"\mathcal{L} = \frac{1}{T}\sum_{t=1}^{T}\frac{1}{2}\|o_t - y_t\|^2")
    assert r"\frac{1}{T}" in text
    problem = tmp_path / "problem.md"
    problem.write_text(text)
    right = [r"\bar{o}_t = \frac{1}{T}(o_t - y_t)", r"\bar{o}_t = \frac{o_t - y_t}{T}",
             r"\bar{h}_T = \frac{1}{T} V^\top (o_T - y_T)",
             r"\bar{V} = \frac{1}{T}\sum_{t=1}^{T} (o_t - y_t) h_t^\top"]
    wrong = [r"\bar{o}_t = o_t - y_t", r"\bar{o}_t = \frac{1}{T+1}(o_t - y_t)", r"\bar{o}_t = \frac{2}{T}(o_t - y_t)",
             r"\bar{o}_t = \frac{1}{T}(o_{t-1} - y_t)", r"\bar{V} = \sum_{t=1}^{T} (o_t - y_t) h_t^\top",
             r"\bar{V} = \frac{1}{T}\sum_{t=2}^{T} (o_t - y_t) h_t^\top", r"\bar{h}_T = V^\top (o_T - y_T)"]
    assert _judged_lines(problem, [], right) == [True] * len(right)
    assert _judged_lines(problem, [], wrong) == [False] * len(wrong)
    got = check_lines(read_document(str(problem)), right + wrong)
    verdicts = [got[i][0].verdict for i in range(1, len(right) + len(wrong) + 1)]
    assert verdicts[:len(right)] == ["correct"] * len(right), verdicts
    assert "correct" not in verdicts[len(right):], list(zip(wrong, verdicts[len(right):]))
    from symderiv.cli import main
    out = tmp_path / "d.tex"
    assert main(["latex", str(problem), "-o", str(out)]) == 0
    rows = [r.strip().rstrip("\\").strip().replace("&=", "=") for r in out.read_text().splitlines() if "&=" in r]
    assert any(r"\frac{1}{T}" in r for r in rows) and not any(re.search(r"\\frac\{1\}\{[0-9]", r) for r in rows), rows
    report = check_documents([read_document(str(problem)), read_text("".join(f"$${r}$$\n" for r in rows), "d.md")])
    bad = [f"{c.latex}: {c.verdict}" for c in report.claims if c.file == "d.md" and c.verdict != "correct"]
    assert not bad, bad


def test_an_empty_sum_over_steps_is_a_zero_of_its_shape():
    """At T = 1, `\\sum_{t=2}^{T}` has no term: a zero matrix, not the number 0 (no shape error)."""
    lines = [r"\bar{W} = \bar{a}_1 h_0^\top + \sum_{t=2}^{T} \bar{a}_t h_{t-1}^\top",
             r"\bar{U} = \sum_{t=2}^{T} \bar{a}_t x_t^\top"]
    got = check_lines(read_document(str(RNN / "problem.md")), lines)
    assert got[1][0].verdict == "correct", got[1][0]
    assert (got[2][0].verdict, got[2][0].reason) == ("incorrect", "missing-term"), got[2][0]


SUB_LAST = re.compile(r"(\\?[A-Za-z]+)\^\{(\((?:l|l-1|l\+1|L)\))\}_(\{[^{}]*\}|[A-Za-z])")


def _bracketed_mutants(line: str) -> list[str]:
    """One bracketed layer shifted by one (`(l)` -> `(l+1)`, `(l-1)`, ...), or two index letters
    exchanged, on the right side."""
    lhs, _, rhs = line.partition("=")
    out = []
    for m in re.finditer(r"\((l|l-1|l\+1)\)", rhs):
        for new in {"l": ("l+1", "l-1"), "l-1": ("l", "l-2"), "l+1": ("l", "l+2")}[m.group(1)]:
            out.append(f"{lhs}={rhs[:m.start()]}({new}){rhs[m.end():]}")
    for a, b in (("i", "j"), ("j", "k")):
        swapped = re.sub(rf"_({a}|{b})(?![A-Za-z])", lambda m: "_" + (b if m.group(1) == a else a), rhs)
        if swapped != rhs:
            out.append(f"{lhs}={swapped}")
    return out


def _subscript_first(line: str) -> str:
    """`W^{(l)}_{ij}` written `W_{ij}^{(l)}` throughout."""
    return SUB_LAST.sub(lambda m: f"{m.group(1)}_{m.group(3)}^{{{m.group(2)}}}", line)


def test_the_entry_subscript_may_come_before_the_layer(tmp_path):
    """`W_{ij}^{(l)}`, `\\delta_i^{(l)}`, `\\partial z_j^{(l)}`: the subscript written first reads as
    `W^{(l)}_{ij}` does. Lines and their mutants are judged by the oracle in the subscript-last
    spelling; in the subscript-first one the right lines are correct at every drawn count and
    no wrong mutant is accepted."""
    problem = tmp_path / "problem.md"
    problem.write_text((MLP / "problem.md").read_text())
    preamble = [r"\delta^{(l)} = \frac{\partial \mathcal{E}}{\partial z^{(l)}}"]
    right = [
        r"\frac{\partial \mathcal{E}}{\partial W^{(l)}_{ij}} = \delta^{(l)}_i a^{(l-1)}_j",
        r"\frac{\partial \mathcal{E}}{\partial b^{(l)}_{j}} = \delta^{(l)}_j",
        r"\frac{\partial \mathcal{E}}{\partial z^{(l)}_j} = \sigma'(z^{(l)}_j) \sum_{k} W^{(l+1)}_{kj} \delta^{(l+1)}_k",
    ]
    assert all(j is True for j in _judged_lines(problem, preamble, right)), right
    first = [_subscript_first(x) for x in right]
    assert all("^{(l" in x and "}_" not in x.partition("=")[2].replace("\\sum_", "") for x in first), first
    got = check_lines(read_document(str(problem)), preamble + first)
    assert [got[i][0].verdict for i in range(2, len(first) + 2)] == ["correct"] * len(first), first
    assert all("L = 1, 2, 3" in got[i][0].steps[0].message for i in range(2, len(first) + 2))
    wrong = [m for line in right for m in _derivative_mutants(line) + _bracketed_mutants(line)]
    judged = _judged_lines(problem, preamble, wrong)
    wrong = [_subscript_first(m) for m, j in zip(wrong, judged) if j is False]
    assert len(wrong) >= 10, wrong
    _none_accepted(problem, preamble, wrong)
