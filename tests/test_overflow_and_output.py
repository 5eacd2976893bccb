"""Huge constants get a verdict (never "cannot evaluate", never a hang), and `check -o` writes
through an unpredictable temporary file, never through a link planted at a guessable name."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import symderiv
from symderiv import cli

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "derivations" / "gated-unit"


def _steps(tmp_path: Path, text: str) -> list:
    sheet = tmp_path / "s.md"
    sheet.write_text(text, encoding="utf-8")
    report = symderiv.check_files([str(SEED / "problem.md"), str(sheet)])
    return [s for c in report.claims if c.listed for s in c.steps]


def test_a_constant_beyond_float_range_is_incorrect(tmp_path: Path) -> None:
    steps = _steps(tmp_path, "$$\\bar{l} = (10^{64})^{6}$$\n$$\\bar{l} = -(10^{64})^{6}$$\n")
    assert [s.verdict for s in steps] == ["incorrect", "incorrect"]
    assert all("cannot evaluate" not in s.message and s.counterexample for s in steps)


def test_huge_constants_that_cancel_are_still_correct(tmp_path: Path) -> None:
    steps = _steps(tmp_path, "$$\\bar{l} = (10^{64})^{6} \\cdot (10^{-64})^{6}$$\n")
    assert [s.verdict for s in steps] == ["correct"]


def test_nested_powers_of_constants_do_not_hang(tmp_path: Path) -> None:
    sheet = tmp_path / "s.md"
    sheet.write_text("$$\\bar{l} = ((((10^{64})^{64})^{64})^{64})^{64}$$\n"
                     "$$\\bar{W} = ((((2^{64})^{64})^{-64})^{64})^{64} \\bar{z} x^\\top$$\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "symderiv.cli", "check", str(SEED / "problem.md"), str(sheet)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "2 claims: 0 correct, 2 incorrect" in r.stdout


def test_check_output_never_follows_a_planted_link(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "report.txt"
    planted = [f"{out}.tmp{os.getpid()}", f"{out}.tmp", f"{tmp_path}/.report.txt.tmp"]
    for name in planted:
        os.symlink(victim, name)
    rc = cli.main(["check", str(SEED / "problem.md"), str(SEED / "answers.md"), "-o", str(out)])
    assert rc == 0 and victim.read_text() == "precious\n"
    assert out.is_file() and not out.is_symlink() and "claims:" in out.read_text()
    assert all(os.path.islink(p) for p in planted)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()]
    assert leftovers == []


def test_check_output_replaces_a_link_instead_of_writing_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "report.txt"
    out.symlink_to(victim)
    assert cli.main(["check", str(SEED / "problem.md"), str(SEED / "answers.md"), "-o", str(out)]) == 0
    assert victim.read_text() == "precious\n" and not out.is_symlink()
