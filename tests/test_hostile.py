"""Hostile answer sheets, through `symderiv check` and through `symderiv grade`.

Every sheet gets a clear error (exit 2 with a one-line message for `check`, an error entry
for `grade`) or `invalid` claims with a line and a column, within its limits; nothing from a
sheet is executed; no size written on a sheet is allocated; no traceback reaches stderr.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT / "derivations" / "gated-unit" / "problem.md"
LIMIT_SECONDS = 30
MAX_RSS_MIB = 400  # a normal check peaks near 60 MiB

CORRECT = "$$\\bar{l} = 1$$\n$$\\bar{W} = \\bar{z} x^\\top$$\n"
PYTHON = """\
$$\\bar{z} = \\text{__import__("os").system("touch PWNED")}$$
$$__import__("os").system("touch PWNED")$$
$$\\bar{W} = eval("open('PWNED', 'w')")$$
$$\\bar{x} = W^T \\bar{z} + exec("import os; os.system('touch PWNED')")$$
$$\\bar{U} = (lambda: __import__('os').system('touch PWNED'))()$$
$$import os; os.system("touch PWNED")$$
Inline too: $__import__('os').system('touch PWNED')$ and ${os.system('touch PWNED')}$ and {{7*7}}.
"""
HUGE = """\
$$W \\in \\mathbb{R}^{100000000 \\times 100000000}$$
$$Q \\in \\mathbb{R}^{100000000 \\times 100000000}, \\quad P \\in \\mathbb{R}^{10^8 \\times 10^8}$$
$$\\bar{W} = \\bar{z} x^T + Q$$
$$\\bar{W} = P \\bar{z} x^T$$
$$\\bar{h} = \\mathbf{1} \\in \\mathbb{R}^{99999999}$$
"""


def _write(name: str, text: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / name).write_text(text, encoding="utf-8")
        return d / name
    return make


def _binary(d: Path) -> Path:
    (d / "garbage.md").write_bytes(bytes(range(256)) * 40 + os.urandom(4000))
    return d / "garbage.md"


def _latin1(d: Path) -> Path:
    (d / "latin1.md").write_bytes(bytes(range(1, 256)) * 20)
    return d / "latin1.md"


def _link_out(d: Path) -> Path:
    outside = d.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "other.md").write_text(CORRECT)
    (d / "link-out.md").symlink_to(outside / "other.md")
    return d / "link-out.md"


def _link_in(d: Path) -> Path:
    (d / "target.md").write_text(CORRECT)
    (d / "link-in.md").symlink_to("target.md")
    return d / "link-in.md"


def _directory(d: Path) -> Path:
    (d / "folder.md").mkdir()
    return d / "folder.md"


# name: (make the sheet, exit status of check (None: 0 or 1), grade: "graded" or "error")
CASES: dict[str, tuple[Callable[[Path], Path], int | None, str]] = {
    "power-tower": (_write("tower.md", "$$\\bar{z} = x^{9^{9^{9^9}}}$$\n$$\\bar{l} = 9^{9^{9^{9^9}}}$$\n"
                                       "$$\\bar{y} = y^{9^{9^{9^{9^{9^{9^9}}}}}}$$\n"), 1, "graded"),
    "nested-parentheses": (_write("parens.md", "$$\\bar{z} = " + "(" * 50_000 + "z" + ")" * 50_000 + "$$\n"),
                           1, "graded"),
    "nested-braces": (_write("braces.md", "$$\\bar{z} = " + "{" * 50_000 + "z" + "}" * 50_000 + "$$\n"),
                      1, "graded"),
    "long-line": (_write("terms.md", "$$\\bar{x} = " + " + ".join(["x"] * 200_000) + "$$\n"), 1, "graded"),
    "too-large": (_write("large.md", "$$\\bar{x} = " + " + ".join(f"x_{{{i}}}" for i in range(200_000))
                         + "$$\n"), 2, "error"),
    "python-in-math": (_write("python.md", PYTHON), 1, "graded"),
    "huge-sizes": (_write("huge.md", HUGE), 1, "graded"),
    "binary": (_binary, 2, "error"),
    "not-utf8": (_latin1, 2, "error"),
    "unclosed-display": (_write("unclosed.md", "# work\n\n$$\\bar{z} = \\bar{h} \\odot s\n\nprose\n"), 1, "graded"),
    "empty": (_write("empty.md", ""), None, "error"),
    "link-out-of-directory": (_link_out, 0, "error"),
    "link-in-directory": (_link_in, 0, "graded"),
    "directory": (_directory, 2, "error"),
    "missing": (lambda d: d / "missing.md", 2, "error"),
}

_RUN = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, resource.RLIM_INFINITY))
from symderiv.cli import main
t0 = time.perf_counter()
try:
    rc = main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as f:
        json.dump({"seconds": time.perf_counter() - t0,
                   "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, f)
sys.exit(rc)
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "sheets").mkdir()
    return root


@pytest.fixture(scope="module")
def sheets(workdir: Path) -> dict[str, Path]:
    return {name: make(workdir / "sheets") for name, (make, _, _) in CASES.items()}


def _no_trace(stderr: str) -> None:
    assert "Traceback" not in stderr and "Error:" not in stderr.replace("symderiv", ""), stderr[-2000:]


def _nothing_ran(workdir: Path) -> None:
    assert not list(workdir.rglob("PWNED")) and not (ROOT / "PWNED").exists()


@pytest.mark.parametrize("case", list(CASES))
def test_check(case: str, sheets: dict[str, Path], workdir: Path) -> None:
    want_rc, path = CASES[case][1], sheets[case]
    report, stats = workdir / f"{case}.json", workdir / f"{case}.stats"
    proc = subprocess.run([sys.executable, "-c", _RUN, str(stats), "check", str(PROBLEM), str(path),
                           "--format", "json", "-o", str(report)],
                          check=False, cwd=workdir, capture_output=True, text=True, timeout=LIMIT_SECONDS * 2)  # a hang guard
    _no_trace(proc.stderr)
    _nothing_ran(workdir)
    measured = json.loads(stats.read_text())
    assert measured["rss_mib"] < MAX_RSS_MIB
    if want_rc is None:
        assert proc.returncode in (0, 1), proc.stderr
    else:
        assert proc.returncode == want_rc, proc.stderr
    if proc.returncode == 2:
        assert proc.stderr.startswith("symderiv: ") and proc.stderr.count("\n") == 1
        assert path.name in proc.stderr
        return
    claims = json.loads(report.read_text())["claims"]
    for claim in claims:
        for step in claim["steps"]:
            if step["verdict"] == "invalid":
                assert step.get("line") and step.get("column"), step
    if want_rc == 1:
        assert any(c["verdict"] == "invalid" for c in claims)


@pytest.fixture(scope="module")
def graded(sheets: dict[str, Path], workdir: Path) -> tuple[subprocess.CompletedProcess, dict[str, dict]]:
    out = workdir / "results.json"
    order = list(CASES)
    proc = subprocess.run([sys.executable, "-m", "symderiv.cli", "grade", str(PROBLEM),
                           *[str(sheets[c]) for c in order], "--out", str(out), "--jobs", "2",
                           "--timeout", str(LIMIT_SECONDS), "--memory", "512"],
                          check=False, cwd=workdir, capture_output=True, text=True, timeout=LIMIT_SECONDS * 4)  # a hang guard
    entries = json.loads(out.read_text())["submissions"]
    return proc, dict(zip(order, entries))


def test_grade_run(graded: tuple[subprocess.CompletedProcess, dict[str, dict]], workdir: Path) -> None:
    proc = graded[0]
    assert proc.returncode == 1  # some sheets got error entries
    assert proc.stderr == "" and proc.stdout.count("\n") == 1  # not a terminal: one summary line, no bar
    assert "Traceback" not in proc.stdout
    _nothing_ran(workdir)


@pytest.mark.parametrize("case", list(CASES))
def test_grade(case: str, graded: tuple[subprocess.CompletedProcess, dict[str, dict]],
               sheets: dict[str, Path]) -> None:
    entry = graded[1][case]
    assert entry["file"] == str(sheets[case])
    assert entry["status"] == CASES[case][2], entry.get("error")
    # (a sheet over grade's --timeout LIMIT_SECONDS would have status "error", reason "timeout")
    if entry["status"] == "error":
        assert entry["error"]["reason"] == "input" and sheets[case].name in entry["error"]["message"]
        assert entry["score"] == 0.0
        return
    for claim in entry["report"]["claims"]:
        assert len(claim["latex"]) < 2100  # a 1 MB line is clipped in the results
        for step in claim["steps"]:
            if step["verdict"] == "invalid":
                assert step.get("line") and step.get("column"), step


def test_link_out_is_refused_with_a_reason(graded: tuple[subprocess.CompletedProcess, dict[str, dict]]) -> None:
    assert "symbolic link out of the submission's directory" in graded[1]["link-out-of-directory"]["error"]["message"]


def test_huge_sizes_are_never_allocated(graded: tuple[subprocess.CompletedProcess, dict[str, dict]]) -> None:
    claims = graded[1]["huge-sizes"]["report"]["claims"]
    assert claims and all(c["verdict"] == "invalid" for c in claims)
