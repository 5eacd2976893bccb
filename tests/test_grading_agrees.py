"""One policy everywhere: the same sheets get the same scores from `check`, `grade`, the
generated Gradescope `run_autograder` and the PrairieLearn function (issue 17's acceptance).

The sheets are made from the shipped derivations (answers and mistakes) by dropping,
repeating and mutating lines, seeded. `check`, `grade` and PrairieLearn see all 200;
`run_autograder` (a process per sheet) a seeded sample of them, or all 200 with
SYMDERIV_AGREE_ALL=1 in the environment.
"""
from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest
from autograding import layout, pl_data, run_autograder

from symderiv.autograder import prairielearn
from symderiv.cli import main

ROOT = Path(__file__).resolve().parents[1]
DERIVATIONS = sorted(p for p in (ROOT / "derivations").iterdir() if (p / "problem.md").exists())
SHEETS = 200
SAMPLE = int(os.environ.get("SYMDERIV_AGREE_SAMPLE", "12"))


def _mutate(line: str, rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0 and " + " in line:
        return line.replace(" + ", " - ", 1)
    if kind == 1 and "^\\top" in line:
        return line.replace("^\\top", "", 1)
    if kind == 2 and "= " in line:
        head, _, last = line.rpartition("= ")
        return f"{head}= 2 {last}"
    return line.replace("$$", "$$\\bar{", 1) if kind == 3 else line


def variants(n: int = SHEETS) -> list[tuple[Path, str, str]]:
    """(derivation folder, sheet name, text): seeded edits of the shipped sheets."""
    bases = []
    for d in DERIVATIONS:
        for name in ("answers.md", "mistakes.md"):
            if (d / name).exists():
                text = (d / name).read_text(encoding="utf-8")
                text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)  # the TA's problem is given
                bases.append((d, name, text.split("\n")))
    rng = random.Random(17)
    out = []
    for i in range(n):
        d, name, lines = bases[i % len(bases)]
        new = []
        for line in lines:
            if not line.startswith("$$"):
                new.append(line)
                continue
            r = rng.random()
            if r < 0.25:
                continue  # dropped
            new.append(_mutate(line, rng) if r < 0.4 else line)
            if rng.random() < 0.08:
                new.append(line)  # repeated
        out.append((d, f"s{i:03d}-{name}", "\n".join(new)))
    return out


@pytest.fixture(scope="module")
def sheets(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("sheets")
    made = []
    for d, name, text in variants():
        folder = tmp / d.name
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
        made.append((d, folder / name))
    return made


_CHECKED: dict[Path, float] = {}  # `check`'s score of a sheet, once per session (both tests compare with it)


def _check_scores(sheets: list[tuple[Path, Path]], tmp: Path) -> dict[Path, float]:
    for d, sheet in sheets:
        if sheet not in _CHECKED:
            out = tmp / "check.json"
            assert main(["check", str(d / "problem.md"), str(sheet), "--format", "json", "-o", str(out)]) in (0, 1)
            _CHECKED[sheet] = json.loads(out.read_text())["score"]["score"]
    return {sheet: _CHECKED[sheet] for _, sheet in sheets}


@pytest.mark.slow
def test_check_grade_and_prairielearn_agree(sheets: list[tuple[Path, Path]], tmp_path: Path) -> None:
    checked = _check_scores(sheets, tmp_path)
    assert len(set(checked.values())) > 5  # the sheets really differ
    graded: dict[Path, float] = {}
    for d in DERIVATIONS:
        mine = [s for dd, s in sheets if dd == d]
        out = tmp_path / f"{d.name}.json"
        assert main(["grade", str(d / "problem.md"), *map(str, mine), "--out", str(out), "--jobs", "2"]) in (0, 1)
        for e in json.loads(out.read_text())["submissions"]:
            graded[Path(e["file"])] = e["score"]
    assert graded == checked
    for d, sheet in sheets:
        data = pl_data([(sheet.name, sheet.read_text(encoding="utf-8"))])
        prairielearn.grade(data, str(d / "problem.md"))
        if data["format_errors"]:  # nothing to grade: PrairieLearn keeps the attempt
            assert checked[sheet] == 0
            continue
        weights = sum(p["weight"] for p in data["partial_scores"].values())
        assert data["score"] * weights == pytest.approx(checked[sheet]), sheet


@pytest.mark.slow
def test_run_autograder_agrees(sheets: list[tuple[Path, Path]], tmp_path: Path) -> None:
    every = os.environ.get("SYMDERIV_AGREE_ALL") == "1"
    chosen = sheets if every else random.Random(5).sample(sheets, SAMPLE)
    checked = _check_scores(chosen, tmp_path)
    bundles: dict[Path, Path] = {}
    for i, (d, sheet) in enumerate(chosen):
        if d not in bundles:
            bundles[d] = tmp_path / f"{d.name}.zip"
            assert main(["autograder", "gradescope", str(d / "problem.md"), "-o", str(bundles[d])]) == 0
        root = layout(tmp_path / f"ag{i}", bundles[d])
        (root / "submission" / sheet.name).write_text(sheet.read_text(encoding="utf-8"), encoding="utf-8")
        res = run_autograder(root)
        assert res["score"] == checked[sheet], (sheet, res["output"][:500])

