"""The work budget of `check` (CPU time and memory per document) and the table-cell cap."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from symderiv.load import load_documents
from symderiv.read.document import read_text
from symderiv.read.markdown import MAX_TABLE_CELLS, table_cells
from symderiv.verify.budget import ENV_MIB, ENV_SECONDS, Budget
from symderiv.verify.check import check_documents

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "derivations" / "gated-unit"
LONG = "$$\\bar{W} = " + " + ".join([r"(\bar{z} \odot s) x^\top"] * 150) + "$$\n"


def _claims(report):  # type: ignore[no-untyped-def]
    return [c for c in report.claims if c.listed]


def test_past_the_time_budget_every_statement_is_invalid_never_dropped(tmp_path: Path) -> None:
    sheet = tmp_path / "big.md"
    sheet.write_text((SEED / "seed-answers.md").read_text(encoding="utf-8") + LONG * 20, encoding="utf-8")
    docs = load_documents([str(SEED / "problem.md"), str(sheet)])
    full = _claims(check_documents(docs, budget=Budget(seconds=None)))
    cut = _claims(check_documents(docs, budget=Budget(seconds=1e-6)))
    assert [c.line for c in cut] == [c.line for c in full]
    unchecked = [c for c in cut if "work budget" in c.steps[0].message]
    assert len(unchecked) >= len(cut) - 1 > 20
    assert all(c.verdict == "invalid" and c.steps[0].reason == "unsupported" for c in unchecked)
    assert {c.target for c in unchecked if c.line > 44} == {"W"}  # the target is still named


def test_each_document_gets_its_own_budget() -> None:
    docs = load_documents([str(SEED / "problem.md"), str(SEED / "seed-answers.md"), str(SEED / "answers.md")])
    report = check_documents(docs, budget=Budget(seconds=1e-6))
    first = {c.file: c for c in reversed(_claims(report))}
    assert all("work budget" not in c.steps[0].message for c in first.values())  # each file's first claim


def test_the_budget_comes_from_flags_then_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(ENV_SECONDS, raising=False)
    monkeypatch.delenv(ENV_MIB, raising=False)
    assert Budget.from_env() == Budget(20.0, None)
    monkeypatch.setenv(ENV_SECONDS, "5")
    monkeypatch.setenv(ENV_MIB, "300")
    assert Budget.from_env() == Budget(5.0, 300)
    assert Budget.from_env(7, 0) == Budget(7, None)   # explicit wins; 0 is no limit
    monkeypatch.setenv(ENV_SECONDS, "0")
    assert Budget.from_env().seconds is None
    monkeypatch.setenv(ENV_SECONDS, "nonsense")
    assert Budget.from_env().seconds == 20.0


@pytest.mark.parametrize("flag", [["--budget", "inf"], ["--budget", "nan"], ["--budget", "-1"],
                                  ["--budget", "1e308"], ["--memory", "x"], ["--memory", "-5"]])
def test_bad_budget_flags_are_usage_errors(flag: list[str]) -> None:
    r = subprocess.run([sys.executable, "-m", "symderiv.cli", "check", str(SEED / "problem.md"), *flag],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr and flag[0] in r.stderr


def test_the_memory_budget_stops_an_allocation_and_is_restored() -> None:
    code = ("import resource\n"
            "from symderiv.verify.budget import memory_limit\n"
            "before = resource.getrlimit(resource.RLIMIT_AS)\n"
            "try:\n"
            "    with memory_limit(64):\n"
            "        bytearray(512 * 2**20)\n"
            "    print('allocated')\n"
            "except MemoryError:\n"
            "    print('refused')\n"
            "assert resource.getrlimit(resource.RLIMIT_AS) == before\n"
            "bytearray(512 * 2**20)\n"
            "print('restored')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.stdout.split() == ["refused", "restored"], r.stderr


@pytest.mark.parametrize("flag, env, want", [([], None, 1024), (["--memory", "77"], "5", 77),
                                            ([], "300", 300), (["--memory", "0"], None, None)])
def test_check_command_applies_the_memory_budget(  # type: ignore[no-untyped-def]
        flag, env, want, monkeypatch, capsys) -> None:
    from symderiv import cli
    from symderiv.verify import check

    seen = []
    real = check.memory_limit
    monkeypatch.setattr(check, "memory_limit", lambda mib: seen.append(mib) or real(mib))
    if env is None:
        monkeypatch.delenv(ENV_MIB, raising=False)
    else:
        monkeypatch.setenv(ENV_MIB, env)
    assert cli.main(["check", str(SEED / "problem.md"), str(SEED / "answers.md"), *flag]) == 0
    assert seen and set(seen) == {want}


def test_wide_tables_are_capped() -> None:
    cols = 20_000
    wide = "|" + "a|" * cols + "\n|" + "-|" * cols + "\n" + "|x\n" * 400
    text = wide + "\n$$\\bar{W} = \\bar{z} x^\\top$$\n| $$\\bar{U} = 1$$ |\n"
    assert table_cells(text) > MAX_TABLE_CELLS
    doc = read_text(text, "t.md")
    assert [s.latex for s in doc.statements] == ["\\bar{W} = \\bar{z} x^\\top", "\\bar{U} = 1"]
    assert [s.span.line for s in doc.statements] == [404, 405]


def test_ordinary_tables_are_still_tables() -> None:
    text = "| a | b |\n|---|:-:|\n| 1 | 2 |\n\n$$x = 1$$\n"
    assert 6 <= table_cells(text) <= 12  # an upper bound: 2 columns x 3 rows
    assert read_text(text).statements[0].latex == "x = 1"


@pytest.mark.slow
def test_a_two_megabyte_table_is_read_in_bounded_memory(tmp_path: Path) -> None:
    cols = 4000
    head = "|" + "a|" * cols + "\n|" + "-|" * cols + "\n"
    text = head + "|x\n" * ((2_000_000 - len(head)) // 3 - 10)
    sheet = tmp_path / "table.md"
    sheet.write_text(text + "$$\\bar{W} = 1$$\n", encoding="utf-8")
    code = ("import resource, sys\n"
            "from symderiv.read.document import read_document\n"
            "d = read_document(sys.argv[1])\n"
            "print(len(d.statements), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n")
    r = subprocess.run([sys.executable, "-c", code, str(sheet)], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    n, mib = map(int, r.stdout.split())
    assert n == 1 and mib < 300, (n, mib)
