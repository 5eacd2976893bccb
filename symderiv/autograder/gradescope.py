"""`symderiv autograder gradescope PROBLEM -o autograder.zip`: a Gradescope autograder bundle.

The zip holds, at its root (Gradescope unpacks it into `/autograder/source`):

- `setup.sh`: run once by Gradescope, as root, when it builds the autograder image. It
  makes sure a Python >= 3.11 with `venv` is there (else it installs one with apt-get:
  Ubuntu 22.04's `python3` is 3.10, so `python3.11` from Ubuntu's own archive), makes a
  virtual environment in `/autograder/symderiv-venv` (Ubuntu 24.04 refuses `pip install`
  into the system Python) and installs `requirements.txt`: symderiv's dependencies pinned
  to the versions that were running when the bundle was made. Its root, Python, venv and
  pip options can be overridden by environment variables, to try it outside Gradescope.
- `vendor/symderiv/`: symderiv's own source, copied from the running installation. symderiv
  is not installed from PyPI: the bundle carries the exact code the TA tried the problem
  with, so the autograder grades as the TA's `symderiv check` does (same version, same
  scores). `symderiv-autograder.json` records that version.
- `problem.md`: the TA's problem (with its `scoring:` front matter).
- `run_autograder`: finds the submission's `.md`/`.tex`/`.ipynb` files in
  `/autograder/submission` (a PDF gets a message asking for the source), grades them as one
  derivation against `problem.md`, in a worker process under a time and a memory limit,
  and writes `/autograder/results/results.json`. The root `/autograder` can be moved with
  `SYMDERIV_AUTOGRADER_ROOT`, and the Python with `SYMDERIV_PYTHON` (the tests run the
  generated script against a temporary directory laid out like `/autograder`).
"""
from __future__ import annotations

import io
import json
import os
import re
import stat
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from ..atomic import write_atomic

CONFIG = "symderiv-autograder.json"
DEFAULT_TIMEOUT = 120.0
DEFAULT_MEMORY = 2048

SETUP = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder (symderiv {version}).
# Overrides, for trying it elsewhere (README "Deploying on Gradescope"): SYMDERIV_AUTOGRADER_ROOT
# (default /autograder), SYMDERIV_SETUP_PYTHON (a Python >= 3.11 with venv: no apt-get),
# SYMDERIV_VENV_ARGS (e.g. --system-site-packages), SYMDERIV_PIP_ARGS (e.g. --no-index
# --find-links DIR, or --index-url URL); pip's own PIP_* variables work too.
set -euo pipefail
ROOT="${{SYMDERIV_AUTOGRADER_ROOT:-/autograder}}"
SRC="$ROOT/source"
VENV="$ROOT/symderiv-venv"
read -r -a VENV_ARGS <<< "${{SYMDERIV_VENV_ARGS:-}}"
read -r -a PIP_ARGS <<< "${{SYMDERIV_PIP_ARGS:-}}"
usable() {{  # a Python >= 3.11 that can make a virtual environment with pip
    "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}}
PY="${{SYMDERIV_SETUP_PYTHON:-python3}}"
if ! usable "$PY"; then
    if [ -n "${{SYMDERIV_SETUP_PYTHON:-}}" ] || ! command -v apt-get >/dev/null; then
        echo "setup.sh: $PY is not a Python >= 3.11 with venv, and there is no apt-get to install one" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-venv python3-pip ca-certificates
    PY=python3
    if ! usable python3; then
        # Ubuntu 22.04: python3 is 3.10; its archive has python3.11 (universe)
        apt-get install -y --no-install-recommends python3.11 python3.11-venv
        PY=python3.11
    fi
fi
"$PY" -m venv "${{VENV_ARGS[@]}}" "$VENV"
"$VENV/bin/python" -m pip install "${{PIP_ARGS[@]}}" --upgrade pip
"$VENV/bin/python" -m pip install "${{PIP_ARGS[@]}}" -r "$SRC/requirements.txt"
# a smoke test: the carried source imports and reads the problem
cd "$SRC/vendor"
PYTHONPATH="$SRC/vendor" "$VENV/bin/python" -m symderiv.autograder.gradescope check "$SRC"
"""

RUN = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission (symderiv {version}); it writes results/results.json.
ROOT="${{SYMDERIV_AUTOGRADER_ROOT:-/autograder}}"
PY="${{SYMDERIV_PYTHON:-$ROOT/symderiv-venv/bin/python}}"
[ -x "$PY" ] || PY=python3
export PYTHONPATH="$ROOT/source/vendor"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
cd "$ROOT/source/vendor" || exit 1  # `python -m` puts the working directory first on the path
exec "$PY" -m symderiv.autograder.gradescope run "$ROOT"
"""


class BundleError(Exception):
    """The bundle cannot be made (exit 2)."""


# ---- making the bundle ---------------------------------------------------------------------------
def running_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("symderiv")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _dependencies() -> list[str]:
    """symderiv's runtime dependencies: from pyproject.toml beside the package when it is a
    source tree (the truth while developing), else from the installed metadata."""
    from importlib import metadata

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        if data.get("project", {}).get("name") == "symderiv":
            return list(data["project"].get("dependencies", []))
    try:
        return [r for r in (metadata.requires("symderiv") or []) if "extra ==" not in r]
    except metadata.PackageNotFoundError:
        raise BundleError("cannot tell symderiv's dependencies (no pyproject.toml and no metadata)") from None


def requirements() -> str:
    """Each dependency, and each of theirs, pinned to the version running now (the one the TA
    tried the problem with); a requirement's environment marker is kept for pip to evaluate."""
    from importlib import metadata

    lines: dict[str, str] = {}
    todo = [(spec, "") for spec in _dependencies()]
    while todo:
        spec, marker = todo.pop(0)
        name = re.split(r"[<>=!~;\[ (]", spec.strip(), maxsplit=1)[0]
        key = re.sub(r"[-_.]+", "-", name).lower()
        if not name or key in lines:
            continue
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            if not marker:
                lines[key] = spec.strip()  # not installed here: as the project states it
            continue
        lines[key] = f"{name}=={version}" + (f"; {marker}" if marker else "")
        for req in metadata.requires(name) or []:
            req_marker = req.split(";", 1)[1].strip() if ";" in req else ""
            if "extra" not in req_marker:  # optional extras are not installed for us
                todo.append((req.split(";", 1)[0], req_marker))
    return "\n".join(lines.values()) + "\n"


def _source_files() -> list[tuple[str, Path]]:
    package = Path(__file__).resolve().parents[1]
    out = []
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if path.is_file() and "__pycache__" not in rel.parts and path.suffix not in (".pyc", ".pyo"):
            out.append((f"vendor/symderiv/{rel.as_posix()}", path))
    return out


def _add(z: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, data)


def build_bundle(problem: str, timeout: float = DEFAULT_TIMEOUT, memory: int = DEFAULT_MEMORY) -> bytes:
    """The zip's bytes. The problem is checked first (a model, a usable `scoring:` block)."""
    from ..grade.job import prepare

    policy = prepare(problem, 0, True).policy
    version = running_version()
    config = {"symderiv": version, "problem": "problem.md", "timeout": timeout, "memory": memory,
              "max_score": policy.max_score, "targets": dict(policy.targets)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        _add(z, "setup.sh", SETUP.format(version=version).encode(), executable=True)
        _add(z, "run_autograder", RUN.format(version=version).encode(), executable=True)
        _add(z, "requirements.txt", requirements().encode())
        _add(z, "problem.md", Path(problem).read_bytes())
        _add(z, CONFIG, (json.dumps(config, indent=2) + "\n").encode())
        for name, path in _source_files():
            _add(z, name, path.read_bytes())
    return buf.getvalue()


def bundle_command(problem: str, out: str) -> int:
    """`symderiv autograder gradescope PROBLEM -o OUT`."""
    from ..atomic import OutputError, check_destination
    from ..errors import SymderivError

    try:
        check_destination(out, [problem])
        write_atomic(out, build_bundle(problem), [problem])
    except (SymderivError, BundleError, OutputError) as err:
        print(f"symderiv autograder: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"symderiv autograder: cannot write {out} ({err.strerror or err})", file=sys.stderr)
        return 2
    print(f"wrote {out}: upload it as the assignment's autograder (README \"Deploying on Gradescope\")",
          file=sys.stderr)
    return 0


# ---- running it ------------------------------------------------------------------------------
def _config(source: str) -> dict[str, Any]:
    try:
        with open(os.path.join(source, CONFIG), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _job(problem_path: str, submission: str):
    from ..grade.job import grade_files, prepare

    problem = prepare(problem_path, 0, True)
    os.chdir(submission)  # the student sees `answers.md:12`, not the grader's paths
    return lambda files: grade_files(problem, files, "submission", gradescope=True)


def grade_submission(root: str) -> dict[str, Any]:
    """Gradescope results for `root`/submission against `root`/source/problem.md."""
    from ..limits import SheetPool
    from ..report.gradescope import error_results
    from .submission import find_sources

    started = time.monotonic()
    source = os.path.join(root, "source")
    config = _config(source)
    problem = os.path.abspath(os.path.join(source, str(config.get("problem", "problem.md"))))
    submission = os.path.abspath(os.path.join(root, "submission"))
    found = find_sources(submission)
    if not found.files:
        return error_results(found.message, time.monotonic() - started)
    outcome: list[Any] = []
    relative = [os.path.relpath(f, submission) for f in found.files]
    pool = SheetPool(_job, (problem, submission), jobs=1, timeout=float(config.get("timeout", DEFAULT_TIMEOUT)),
                     memory_mib=int(config.get("memory", DEFAULT_MEMORY)))
    try:
        pool.run([(0, relative)], lambda i, o: outcome.append(o))
    except Exception as err:  # noqa: BLE001 - the pool could not start: say so, score 0
        return error_results(f"symderiv could not start grading: {err}", time.monotonic() - started)
    done = outcome[0]
    if not done.ok:
        return error_results(f"symderiv could not grade this submission: {done.message}",
                             time.monotonic() - started)
    results = done.value["_gradescope"]
    results["execution_time"] = round(time.monotonic() - started, 3)
    return results


def run(root: str) -> int:
    results_dir = os.path.join(root, "results")
    os.makedirs(results_dir, exist_ok=True)
    try:
        results = grade_submission(root)
    except Exception as err:  # noqa: BLE001 - Gradescope must always get a results.json
        from ..report.gradescope import error_results
        results = error_results(f"symderiv could not grade this submission ({type(err).__name__}: {err})")
    write_atomic(os.path.join(results_dir, "results.json"), json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m symderiv.autograder.gradescope run ROOT` (run_autograder) or `check SOURCE` (setup.sh)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] == "run":
        return run(args[1])
    if len(args) == 2 and args[0] == "check":
        from ..grade.job import prepare
        config = _config(args[1])
        policy = prepare(os.path.join(args[1], str(config.get("problem", "problem.md"))), 0, True).policy
        version = config.get("symderiv", running_version())  # the bundled copy has no metadata
        print(f"symderiv {version}: the problem reads; max score {policy.max_score:g}")
        return 0
    print("usage: python -m symderiv.autograder.gradescope run ROOT | check SOURCE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["build_bundle", "bundle_command", "grade_submission", "requirements", "run"]
