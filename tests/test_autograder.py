"""The Gradescope bundle, run end to end against a directory laid out like /autograder, and
the PrairieLearn grading function with a question data dict of PrairieLearn's shape."""
from __future__ import annotations

import json
import os
import runpy
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from autograding import layout, pl_data, run_autograder

from symderiv.autograder import prairielearn
from symderiv.autograder.submission import find_sources
from symderiv.cli import main

ROOT = Path(__file__).resolve().parents[1]
GATED = ROOT / "derivations" / "gated-unit"
EXAMPLE = ROOT / "examples" / "prairielearn" / "questions" / "gated-unit"
HALF = "$$\\bar{z}_y = y - t$$\n$$\\bar{W} = (y - t) \\operatorname{diag}(s) v x^\\top$$\n$$\\bar{r} = (y - t) x$$\n"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    assert main(["autograder", "gradescope", str(GATED / "problem.md"), "-o", str(out)]) == 0
    return out


def test_the_bundle_holds_what_gradescope_runs(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        reqs = z.read("requirements.txt").decode().splitlines()
        setup = z.read("setup.sh").decode()
        config = json.loads(z.read("symderiv-autograder.json"))
    assert {"setup.sh", "run_autograder", "requirements.txt", "problem.md"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    package = ROOT / "symderiv"
    shipped = {f"vendor/symderiv/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")
               if "__pycache__" not in p.parts}
    assert shipped <= names and "vendor/symderiv/read/latex.lark" in names
    assert all("==" in r for r in reqs) and any(r.startswith("numpy==") for r in reqs)
    assert "python3.11" in setup and "venv" in setup and "requirements.txt" in setup
    assert config["max_score"] == 7.0 and config["symderiv"]


def test_setup_sh_builds_a_working_autograder(bundle: Path, tmp_path: Path) -> None:
    """setup.sh run for real, as on Gradescope but offline and without apt-get: from the test's
    Python, in a venv that sees its site-packages, pip told to use no index (the pins are the
    running versions, so they are satisfied). run_autograder then grades with that venv."""
    root = layout(tmp_path / "ag", bundle)
    if sys.prefix != sys.base_prefix:  # the test runs in a venv (CI does): the venv setup.sh makes
        _venv_seeing_ours(root / "symderiv-venv")  # must see its packages, not the base Python's
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SYMDERIV_PYTHON")}
    env.update(SYMDERIV_AUTOGRADER_ROOT=str(root), SYMDERIV_SETUP_PYTHON=sys.executable,
               SYMDERIV_VENV_ARGS="--system-site-packages", SYMDERIV_PIP_ARGS="--no-index", PIP_NO_INPUT="1")
    proc = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "the problem reads; max score 7" in proc.stdout
    (root / "submission" / "answers.md").write_text(HALF)
    env = {k: v for k, v in env.items() if not k.startswith("SYMDERIV_")}
    env["SYMDERIV_AUTOGRADER_ROOT"] = str(root)  # and no SYMDERIV_PYTHON: the venv setup.sh made
    proc = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))["score"] == 2.0
    bad = subprocess.run(["bash", str(root / "source" / "setup.sh")], capture_output=True, text=True, timeout=60,
                         env={**env, "SYMDERIV_SETUP_PYTHON": str(tmp_path / "no-python")}, check=False)
    assert bad.returncode == 1 and "not a Python >= 3.11" in bad.stderr


def _venv_seeing_ours(venv: Path) -> None:
    """Make setup.sh's venv beforehand (it reuses an existing one) with a .pth file naming the
    test Python's site-packages, which `--system-site-packages` would not show from a venv."""
    import site
    import venv as venv_module
    venv_module.create(venv, system_site_packages=True, with_pip=True)
    inner = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    (Path(inner) / "symderiv-test.pth").write_text("\n".join(site.getsitepackages()) + "\n")


def test_bundle_of_a_problem_without_a_model_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "p.md"
    bad.write_text("$$x \\in \\mathbb{R}^{a}$$\n")
    assert main(["autograder", "gradescope", str(bad), "-o", str(tmp_path / "a.zip")]) == 2
    assert "defines no model" in capsys.readouterr().err and not (tmp_path / "a.zip").exists()


def test_run_autograder_end_to_end(bundle: Path, tmp_path: Path) -> None:
    root = layout(tmp_path / "ag", bundle)
    (root / "submission" / "answers.md").write_text(HALF)
    res = run_autograder(root)
    assert res["score"] == 2.0 and len(res["tests"]) == 7 and res["execution_time"] >= 0
    w = next(t for t in res["tests"] if t["name"] == "\\bar{W}")
    assert w["score"] == w["max_score"] == 1.0 and w["status"] == "passed" and "line 2" in w["output"]
    assert "answers.md:1" in res["output"] and str(root) not in res["output"]  # the student's own paths


def test_run_autograder_uses_the_bundled_source(bundle: Path, tmp_path: Path) -> None:
    root = layout(tmp_path / "ag", bundle)
    probe = root / "source" / "vendor" / "symderiv" / "autograder" / "gradescope.py"
    text = probe.read_text().replace("import io\n", "import io\nraise SystemExit(7)\n", 1)
    probe.write_text(text)  # the copy in the bundle is what runs, not the installed symderiv
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(SYMDERIV_AUTOGRADER_ROOT=str(root), SYMDERIV_PYTHON=sys.executable)
    proc = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, timeout=120,
                          check=False)
    assert proc.returncode == 7


def test_a_pdf_gets_a_request_for_the_source(bundle: Path, tmp_path: Path) -> None:
    root = layout(tmp_path / "ag", bundle)
    (root / "submission" / "hw.pdf").write_bytes(b"%PDF-1.4\n")
    res = run_autograder(root)
    assert res["score"] == 0 and "not a PDF" in res["output"] and "hw.pdf" in res["output"]


def test_a_split_submission_is_one_derivation_and_links_out_are_refused(bundle: Path, tmp_path: Path) -> None:
    root = layout(tmp_path / "ag", bundle)
    (root / "submission" / "part1.md").write_text("$$\\bar{z}_y = y - t$$\n")
    (root / "submission" / "part2.md").write_text("$$\\bar{r} = \\bar{z}_y x$$\n")
    (root / "submission" / "README").write_text("not a derivation")
    assert run_autograder(root)["score"] == 1.0
    secret = tmp_path / "secret.md"
    secret.write_text(HALF)
    (root / "submission" / "part3.md").symlink_to(secret)
    res = run_autograder(root)
    assert res["score"] == 0 and "symbolic link" in res["output"]


def test_the_finder(tmp_path: Path) -> None:
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "__MACOSX" / "a.md").write_text("x")
    (tmp_path / ".hidden.md").write_text("x")
    (tmp_path / "b").mkdir()
    for name in ("b/notes.tex", "a.ipynb", "answers.md", "scan.pdf"):
        (tmp_path / name).write_text("x")
    found = find_sources(str(tmp_path))
    assert [os.path.relpath(f, tmp_path) for f in found.files] == ["a.ipynb", "answers.md", "b/notes.tex"]
    assert find_sources(str(tmp_path / "b")).files and "No derivation" in find_sources(str(tmp_path / "none")).message


# ---- PrairieLearn ------------------------------------------------------------------------------
def test_prairielearn_grade_fills_partial_scores_per_target() -> None:
    data = prairielearn.grade(pl_data([("answers.md", HALF)]), str(GATED / "problem.md"))
    parts = data["partial_scores"]
    assert set(parts) == {"x", "\\eta", "t", "W", "U", "v", "r"}
    assert parts["W"]["score"] == 1.0 and parts["W"]["weight"] == 1.0 and parts["U"]["score"] == 0.0
    assert "not answered" in parts["U"]["feedback"] and "<article" in parts["W"]["feedback"]
    assert data["score"] == pytest.approx(2 / 7)
    weighted = sum(p["score"] * p["weight"] for p in parts.values()) / sum(p["weight"] for p in parts.values())
    assert weighted == pytest.approx(data["score"])  # what PrairieLearn's weighting would give
    assert "<article" in data["feedback"]["symderiv"] and not data["format_errors"]


def test_prairielearn_example_question() -> None:
    server = runpy.run_path(str(EXAMPLE / "server.py"))
    data = pl_data([("answers.md", HALF)])
    server["grade"](data)
    assert set(data["partial_scores"]) == {"W", "U", "x"}  # the example's scoring: targets
    assert data["score"] == pytest.approx(2 / 5)
    assert (EXAMPLE / "info.json").exists() and "pl-file-editor" in (EXAMPLE / "question.html").read_text()


def test_prairielearn_text_answers_pdfs_and_hostile_text() -> None:
    data = prairielearn.grade(pl_data(text=HALF), str(GATED / "problem.md"))
    assert data["score"] == pytest.approx(2 / 7)
    pdf = prairielearn.grade(pl_data([("hw.pdf", "%PDF")]), str(GATED / "problem.md"))
    assert "not a PDF" in pdf["format_errors"]["_files"] and not pdf["partial_scores"]
    empty = prairielearn.grade(pl_data([("answers.md", "no math here")]), str(GATED / "problem.md"))
    assert "no math" in empty["format_errors"]["_files"]
    evil = prairielearn.grade(pl_data([("answers.md", "$$\\bar{W} = \\text{<script>alert(1)</script>}$$\n")]),
                              str(GATED / "problem.md"))
    assert "<script" not in json.dumps(evil)
    assert stat.S_ISDIR(os.stat(EXAMPLE).st_mode)
