"""`symderiv` (cli.run) ends a `check` with os._exit once its output is flushed: the output
and the exit status must be exactly main()'s, and a reader that goes away is no traceback."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

from symderiv import cli

ROOT = Path(__file__).resolve().parent.parent
PROBLEM, SHEET = ROOT / "derivations" / "gated-unit" / "problem.md", ROOT / "derivations" / "gated-unit" / "seed-answers.md"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def _command(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symderiv.cli", *args], env=ENV, capture_output=True, **kw)


def test_check_output_and_status_are_mains() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["check", str(PROBLEM), str(SHEET)])
    got = _command("check", str(PROBLEM), str(SHEET), text=True)
    assert got.returncode == code == 1  # the seed sheet has wrong lines
    assert got.stdout == out.getvalue() and "26 claims" in got.stdout
    assert got.stderr == ""


def test_check_into_a_closed_pipe_is_quiet() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "symderiv.cli", "check", str(PROBLEM), str(SHEET)],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # a reader gone before the report is written (`| head -0`)
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert b"Traceback" not in err and b"Exception ignored" not in err


def test_an_error_status_survives_the_quick_exit(tmp_path: Path) -> None:
    got = _command("check", str(tmp_path / "missing.md"), text=True)
    assert got.returncode == 2 and "missing.md" in got.stderr and "Traceback" not in got.stderr
