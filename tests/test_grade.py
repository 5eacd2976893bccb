"""`symderiv grade`: results layout, scoring policy, limits, resume after a kill."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symderiv import grade as g
from symderiv.cli import main
from symderiv.limits import Outcome, SheetPool

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT / "derivations" / "gated-unit" / "problem.md"
SEED = ROOT / "derivations" / "gated-unit" / "seed-answers.md"

CORRECT = r"""# all right
$$\bar{l} = 1$$
$$\bar{y} = -\frac{t}{y} + \frac{1 - t}{1 - y}$$
$$\bar{z}_y = \bar{y} y (1 - y)$$
$$\bar{h} = \bar{z}_y v$$
$$\bar{s} = \bar{h} \odot z$$
$$\bar{z} = \bar{h} \odot s$$
$$\bar{W} = \bar{z} x^\top$$
$$\bar{U} = \bar{s} \eta^\top$$
"""
WRONG = CORRECT.replace(r"\bar{W} = \bar{z} x^\top", r"\bar{W} = -\bar{z} x^\top")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def sheets(tmp_path: Path) -> Path:
    d = tmp_path / "sheets"
    d.mkdir()
    (d / "right.md").write_text(CORRECT)
    (d / "wrong.md").write_text(WRONG)
    (d / "seed.md").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    return d


def test_json_results_per_submission(sheets: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "results.json"
    files = [str(sheets / n) for n in ("right.md", "wrong.md", "seed.md")]
    rc = main(["grade", str(PROBLEM), *files, "--out", str(out), "--jobs", "2", "--csv", str(tmp_path / "r.csv")])
    assert rc == 0
    res = _load(out)
    assert res["complete"] and res["summary"] == {"submissions": 3, "graded": 3, "errors": 0, "pending": 0,
                                                  "mean_score": res["summary"]["mean_score"]}
    assert [e["file"] for e in res["submissions"]] == files  # the order given
    right, wrong, seed = res["submissions"]
    # the default policy: every input and parameter is a target worth 1; these sheets answer W and U
    assert right["score"] == 2.0 and right["max_score"] == wrong["max_score"] == seed["max_score"] == 7.0
    assert wrong["score"] == 1.0 and wrong["targets"] == {"x": 0, "\\eta": 0, "t": 0, "W": 0, "U": 1, "v": 0, "r": 0}
    claims = {c["target"]: c for c in wrong["report"]["claims"]}
    assert claims["W"]["verdict"] == "incorrect"
    assert all(c["file"] == files[1] for c in wrong["report"]["claims"])
    assert 0 < seed["score"] < seed["max_score"]
    assert oct(out.stat().st_mode & 0o777) != "0o600"
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert [r["file"] for r in rows] == files and rows[1]["score"] == "1.0" and rows[1]["incorrect"] == "1"
    assert not list(out.parent.glob("*.tmp"))


def test_policy_from_front_matter(sheets: Path, tmp_path: Path) -> None:
    problem = tmp_path / "problem.md"
    problem.write_text("---\nscoring:\n  targets: {W: 2, U: 3}\n  carried_forward: 0.25\n---\n"
                       + PROBLEM.read_text())
    out = tmp_path / "r.json"
    assert main(["grade", str(problem), str(sheets / "wrong.md"), "--out", str(out)]) == 0
    res = _load(out)
    assert res["policy"] == {"targets": {"W": 2.0, "U": 3.0}, "carried_forward": 0.25, "steps": 0.0,
                             "max_score": 5.0}
    (entry,) = res["submissions"]
    assert entry["max_score"] == 5.0 and entry["score"] == 3.0


def test_policy_carried_forward_credit() -> None:
    from symderiv.scoring import Policy, score_report
    from symderiv.verify.verdicts import Claim, Report, Step

    policy = Policy((("W", 2.0),), carried_forward=0.25)

    def scored(reason: str, explicit: bool = True) -> float:
        c = Claim("a.md", 1, "adjoint", "W", "", [Step("", "incorrect", reason)], explicit=explicit)
        return score_report(Report(["p.md", "a.md"], "l", [c]), policy).score

    assert scored("carried-forward") == 0.5 and scored("sign") == 0.0
    assert scored("carried-forward", explicit=False) == 0.0


@pytest.mark.parametrize("front", ["scoring: {targets: {W: two}}", "scoring: {targets: {Q: 1}}",
                                   "scoring: {carried_forward: 1.5}", "scoring: {targets: {W: true}}",
                                   "points: 2", "scoring: {steps: -1}", "scoring: {targets: {l: 1}}",
                                   "scoring: {target: [W]}", "scoring: {targets: {}}"])
def test_bad_policy_is_a_usage_error(front: str, sheets: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    problem = tmp_path / "problem.md"
    problem.write_text(f"---\n{front}\n---\n" + PROBLEM.read_text())
    assert main(["grade", str(problem), str(sheets / "right.md"), "--out", str(tmp_path / "r.json")]) == 2
    assert "scoring" in capsys.readouterr().err


def test_problem_without_model_stops_the_run(sheets: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    problem = tmp_path / "p.md"
    problem.write_text("$$x \\in \\mathbb{R}^{a}$$\n")
    assert main(["grade", str(problem), str(sheets / "right.md"), "--out", str(tmp_path / "r.json")]) == 2
    assert "defines no model" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_gradescope_layout(tmp_path: Path) -> None:
    for who in ("alice", "bob"):
        (tmp_path / who).mkdir()
        (tmp_path / who / "answers.md").write_text(CORRECT if who == "alice" else WRONG)
    (tmp_path / "carol.md").write_text(WRONG)
    out = tmp_path / "results"
    files = [str(tmp_path / "alice" / "answers.md"), str(tmp_path / "bob" / "answers.md"),
             str(tmp_path / "carol.md"), str(tmp_path / "nobody.md")]
    assert main(["grade", str(PROBLEM), *files, "--out", str(out), "--format", "gradescope"]) == 1
    summary = _load(out / "summary.json")
    names = [e.get("results") for e in summary["submissions"]]
    assert names == ["alice__answers.json", "bob__answers.json", "carol.json", "nobody.json"]
    alice, bob = _load(out / "alice__answers.json"), _load(out / "bob__answers.json")
    assert alice["score"] == 2.0 and bob["score"] == 1.0 and len(bob["tests"]) == 7
    assert _load(out / "nobody.json")["score"] == 0.0
    assert "no such file" in _load(out / "nobody.json")["output"]


def test_sheet_keys_are_unique() -> None:
    keys = g.sheet_keys(["a/x.md", "b/x.md", "summary.md", "c/y.md", "c/y.md"])
    assert len(set(keys.values())) == len(keys) and "summary" not in keys.values()


def test_duplicates_are_graded_once(sheets: Path, tmp_path: Path) -> None:
    f = str(sheets / "right.md")
    assert main(["grade", str(PROBLEM), f, f, "--out", str(tmp_path / "r.json")]) == 0
    assert len(_load(tmp_path / "r.json")["submissions"]) == 1


def test_resume_skips_graded_and_retries_errors(sheets: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "r.json"
    late = sheets / "late.md"
    assert main(["grade", str(PROBLEM), str(sheets / "right.md"), str(late), "--out", str(out)]) == 1
    first = _load(out)["submissions"]
    assert first[1]["status"] == "error"
    late.write_text(CORRECT)
    graded: list[str] = []
    real = g.job.grade_sheet
    monkeypatch.setattr(g.job, "grade_sheet", lambda p, path: graded.append(path) or real(p, path))
    assert main(["grade", str(PROBLEM), str(sheets / "right.md"), str(late), "--out", str(out), "--resume",
                 "--jobs", "1"]) == 0
    res = _load(out)
    assert res["complete"] and [e["status"] for e in res["submissions"]] == ["graded", "graded"]
    assert res["submissions"][0] == first[0]  # kept as it was


def test_resume_refuses_another_problem(sheets: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    assert main(["grade", str(PROBLEM), str(sheets / "right.md"), "--out", str(out)]) == 0
    other = tmp_path / "p.md"
    other.write_text(PROBLEM.read_text() + "\n$$q = l$$\n")
    assert main(["grade", str(other), str(sheets / "right.md"), "--out", str(out), "--resume"]) == 2
    assert "different problem" in capsys.readouterr().err


# ---- limits: a slow, a crashing and a greedy sheet, among good ones ------------------------------
def _misbehave(real):  # type: ignore[no-untyped-def]
    def job(problem, path):  # type: ignore[no-untyped-def]
        name = Path(path).stem
        if name == "slow":
            time.sleep(60)
        if name == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        if name == "greedy":
            hog = b"x" * (1536 << 20)
            return {"file": path, "status": "graded", "len": len(hog)}
        return real(problem, path)
    return job


def test_limits_in_grade(sheets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers are forked, so a patched job runs in them; each bad sheet gets its error, the
    worker is replaced and the good sheets after it are graded."""
    monkeypatch.setattr(g.job, "grade_sheet", _misbehave(g.job.grade_sheet))
    names = ["slow", "right", "crash", "wrong", "greedy", "seed"]
    for n in ("slow", "crash", "greedy"):
        (sheets / f"{n}.md").write_text(CORRECT)
    out = tmp_path / "r.json"
    rc = main(["grade", str(PROBLEM), *[str(sheets / f"{n}.md") for n in names], "--out", str(out),
               "--jobs", "2", "--timeout", "3", "--memory", "512"])
    assert rc == 1
    entries = {Path(e["file"]).stem: e for e in _load(out)["submissions"]}
    assert entries["slow"]["error"]["reason"] == "timeout"
    assert entries["crash"]["error"]["reason"] == "crash"
    assert entries["greedy"]["error"]["reason"] == "memory"
    assert all(entries[n]["status"] == "graded" for n in ("right", "wrong", "seed"))


def _sleepy(item: float) -> float:
    time.sleep(item)
    return item


def test_pool_replaces_timed_out_workers() -> None:
    done: dict[int, Outcome] = {}
    pool = SheetPool(lambda: _sleepy, jobs=2, timeout=1.0, memory_mib=256)
    pool.run(list(enumerate([5.0, 0.01, 5.0, 0.01, 0.01])), lambda i, o: done.__setitem__(i, o))
    assert [done[i].ok for i in range(5)] == [False, True, False, True, True]
    assert done[0].reason == "timeout" and done[1].value == 0.01
    assert not pool.slots


def test_pool_reports_exceptions_as_data() -> None:
    from symderiv.errors import ParseError

    def job(item: int) -> int:
        if item == 1:
            raise ParseError("bad")
        if item == 2:
            raise RecursionError("deep")
        if item == 3:
            raise ValueError("bug")
        return item

    done: dict[int, Outcome] = {}
    SheetPool(lambda: job, jobs=1).run(list(enumerate(range(5))), lambda i, o: done.__setitem__(i, o))
    assert [done[i].reason for i in range(5)] == ["", "parse", "too-deep", "internal", ""]
    assert done[4].value == 4


# ---- a run killed midway, then resumed -----------------------------------------------------------
def test_killed_run_resumes_to_a_complete_file(tmp_path: Path) -> None:
    sheets = []
    for i in range(40):
        p = tmp_path / f"s{i:02d}.md"
        p.write_text(CORRECT if i % 2 else SEED.read_text(encoding="utf-8"), encoding="utf-8")
        sheets.append(str(p))
    out = tmp_path / "results.json"
    cmd = [sys.executable, "-m", "symderiv.cli", "grade", str(PROBLEM), *sheets, "--out", str(out),
           "--jobs", "1", "--csv", str(tmp_path / "r.csv")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        graded = 0
        deadline = time.monotonic() + 120
        while graded < 5 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
            try:
                graded = json.loads(out.read_text())["summary"]["graded"]
            except (OSError, ValueError):
                pass  # not written yet; never half-written
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        _wait_group_gone(proc.pid)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    half = _load(out)
    assert not half["complete"] and 5 <= half["summary"]["graded"] < 40
    kept = {e["file"]: e for e in half["submissions"]}
    resumed = subprocess.run(cmd + ["--resume"], check=False, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr == "" and resumed.stdout.count("\n") == 1  # one summary line, no bar
    assert resumed.stdout.startswith("symderiv grade: graded ") and "kept from the results" in resumed.stdout
    full = _load(out)
    assert full["complete"] and full["summary"]["graded"] == 40 and full["summary"]["pending"] == 0
    assert [e["file"] for e in full["submissions"]] == sheets
    assert all(kept[e["file"]] == e for e in full["submissions"] if e["file"] in kept)
    assert len(list(csv.DictReader((tmp_path / "r.csv").open()))) == 40
    assert not list(tmp_path.glob(".*.tmp"))


def _wait_group_gone(pgid: int) -> None:
    """The workers of a killed parent exit by themselves (their pipe closes)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("workers outlived their killed parent")


def test_fifo_and_links(sheets: Path, tmp_path: Path) -> None:
    """A FIFO would block a reader forever: refused. Links: followed inside the directory only."""
    os.mkfifo(sheets / "pipe.md")
    (sheets / "inside.md").symlink_to("right.md")
    (sheets / "outside.md").symlink_to(SEED)
    (sheets / "dangling.md").symlink_to("nowhere.md")
    names = ["pipe", "inside", "outside", "dangling"]
    out = tmp_path / "r.json"
    assert main(["grade", str(PROBLEM), *[str(sheets / f"{n}.md") for n in names], "--out", str(out),
                 "--timeout", "20"]) == 1
    e = {Path(x["file"]).stem: x for x in _load(out)["submissions"]}
    assert "not a regular file" in e["pipe"]["error"]["message"]
    assert e["inside"]["status"] == "graded" and e["inside"]["score"] == 2.0
    assert "out of the submission's directory" in e["outside"]["error"]["message"]
    assert "no such file" in e["dangling"]["error"]["message"]


def test_summary_gives_cpu_time_per_sheet_beside_wall_time() -> None:
    from symderiv.grade.progress import summary_line
    line = summary_line(2, 2, 0, 0, 0, {"mean_score": 3.5}, 7, 1.5, "r.json", cpu=0.062)
    assert "in 1.5 s (31 ms CPU per sheet) -> r.json" in line
    assert "CPU" not in summary_line(0, 0, 0, 0, 0, {}, 7, 0.0, "r.json", cpu=0.0)
