"""`grade` refuses unsafe outputs and arguments, locks its results, reads submissions safely,
and resumes by content (issue 11's grade items; issue 17's `--resume`)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from symderiv.atomic import OutputError, write_atomic
from symderiv.cli import main
from symderiv.grade.results import Lock

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT / "derivations" / "gated-unit" / "problem.md"
RIGHT = "$$\\bar{W} = (y - t) \\operatorname{diag}(s) v x^\\top$$\n"
WRONG = "$$\\bar{W} = -(y - t) \\operatorname{diag}(s) v x^\\top$$\n"


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    p = tmp_path / "answers.md"
    p.write_text(RIGHT)
    return p


def _grade(*args: str) -> int:
    return main(["grade", str(PROBLEM), *args])


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_out_onto_a_device_is_refused_and_the_device_kept(sheet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = os.stat("/dev/full")
    assert _grade(str(sheet), "--out", "/dev/full") == 2
    assert _grade(str(sheet), "--out", str(sheet.parent / "r.json"), "--csv", "/dev/full") == 2
    after = os.stat("/dev/full")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    err = capsys.readouterr().err
    assert "not a regular file" in err and "Traceback" not in err
    with pytest.raises(OutputError):
        write_atomic("/dev/full", "x")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_out_and_csv_onto_a_fifo_are_refused(sheet: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert _grade(str(sheet), "--out", str(fifo)) == 2
    assert _grade(str(sheet), "--out", str(tmp_path / "r.json"), "--csv", str(fifo)) == 2
    assert main(["check", str(PROBLEM), str(sheet), "--format", "json", "-o", str(fifo)]) == 2
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert not (tmp_path / "r.json").exists()  # refused before anything was written


def test_results_are_locked_while_a_run_writes_them(sheet: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    held = Lock(str(out), directory=False)
    held.acquire()
    try:
        assert _grade(str(sheet), "--out", str(out), "--resume") == 2
        assert "locked" in capsys.readouterr().err
    finally:
        held.release()
    assert _grade(str(sheet), "--out", str(out), "--resume") == 0


def test_two_resumed_runs_at_once_lose_no_entry(tmp_path: Path) -> None:
    sheets = []
    for i in range(30):
        p = tmp_path / f"s{i:02d}.md"
        p.write_text(RIGHT if i % 2 else WRONG)
        sheets.append(str(p))
    out = tmp_path / "r.json"
    cmd = [sys.executable, "-m", "symderiv.cli", "grade", str(PROBLEM), *sheets, "--out", str(out),
           "--resume", "--jobs", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    codes = [p.wait(timeout=300) for p in procs]
    errs = [p.stderr.read() for p in procs]  # type: ignore[union-attr]
    assert sorted(codes) in ([0, 0], [0, 2]), errs
    if 2 in codes:
        assert "locked" in errs[codes.index(2)]
    res = json.loads(out.read_text())
    assert res["complete"] and [e["file"] for e in res["submissions"]] == sheets
    for p in procs:
        p.stdout.close()  # type: ignore[union-attr]
        p.stderr.close()  # type: ignore[union-attr]


def test_a_link_to_a_directory_inside_the_path_is_resolved(tmp_path: Path) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "answers.md").write_text(RIGHT)
    subs = tmp_path / "subs"
    (subs / "carol").mkdir(parents=True)
    (subs / "carol" / "answers.md").write_text(RIGHT)
    (subs / "alice").symlink_to(outside)           # out of subs/: refused
    (subs / "bob").symlink_to("carol")             # a sibling inside subs/: followed
    out = tmp_path / "r.json"
    assert _grade(str(subs / "alice" / "answers.md"), str(subs / "bob" / "answers.md"), "--out", str(out)) == 1
    alice, bob = json.loads(out.read_text())["submissions"]
    assert alice["status"] == "error" and "out of the submission's directory" in alice["error"]["message"]
    assert bob["status"] == "graded" and bob["targets"]["W"] == 1.0


@pytest.mark.parametrize("args", [["--timeout", "1e10"], ["--timeout", "1e308"], ["--timeout", "inf"],
                                  ["--timeout", "nan"], ["--timeout", "0"], ["--timeout", "-3"],
                                  ["--memory", "0"], ["--memory", "1e9"], ["--jobs", "-1"], ["--jobs", "1e6"]])
def test_bad_arguments_are_usage_errors(args: list[str], sheet: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _grade(str(sheet), "--out", str(tmp_path / "r.json"), *args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert args[0] in err and "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


def test_resume_regrades_a_changed_sheet_and_says_so(sheet: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.md"
    other.write_text(RIGHT)
    out = tmp_path / "r.json"
    assert _grade(str(sheet), str(other), "--out", str(out)) == 0
    first = json.loads(out.read_text())["submissions"]
    assert first[0]["targets"]["W"] == 1.0 and len(first[0]["sha256"]) == 64
    sheet.write_text(WRONG)  # resubmitted
    capsys.readouterr()
    assert _grade(str(sheet), str(other), "--out", str(out), "--resume") == 0
    again = json.loads(out.read_text())["submissions"]
    assert again[0]["targets"]["W"] == 0.0 and "changed" in again[0]["regraded"]
    assert again[1] == first[1]  # unchanged: kept as it was
    line = capsys.readouterr().out
    assert "1 changed since and regraded" in line and "1 kept from the results" in line
