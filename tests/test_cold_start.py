"""What a cold `symderiv check` imports and sets up (its cost is measured in bench/bench_check.py;
here only what it loads, asserted on `sys.modules` in a fresh interpreter, never on time)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT / "derivations" / "gated-unit" / "problem.md"
SHEET = ROOT / "derivations" / "gated-unit" / "seed-answers.md"
BLAS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _fresh(code: str, **env: str) -> dict:
    """Run `code` in a new interpreter; it prints a JSON value as its last line."""
    clean = {k: v for k, v in os.environ.items() if k not in BLAS}
    clean.update(env, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean,
                         cwd=ROOT, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


LOADED = "import json, os, sys; print(json.dumps({{'mods': sorted(sys.modules), 'env': {{v: os.environ.get(v) for v in {blas}}}}}))"


def _after(prelude: str, **env: str) -> dict:
    return _fresh(prelude + "\n" + LOADED.format(blas=BLAS), **env)


def test_importing_the_cli_loads_nothing_heavy_and_sets_nothing() -> None:
    got = _after("import symderiv.cli")
    heavy = [m for m in got["mods"] if m.split(".")[0] in ("numpy", "sympy", "markdown_it", "lark", "rich")
             or m.startswith(("symderiv.read", "symderiv.verify", "symderiv.meaning"))]
    assert heavy == []
    assert got["env"] == {v: None for v in BLAS}  # only running a command sets the BLAS threads


CHECK = (f"import contextlib, io\nfrom symderiv.cli import main\n"
         f"with contextlib.redirect_stdout(io.StringIO()):\n    main(['check', {str(PROBLEM)!r}, {str(SHEET)!r}])")


def test_a_check_runs_with_one_blas_thread_and_without_sympy() -> None:
    got = _after(CHECK)
    assert got["env"] == {v: "1" for v in BLAS}
    assert "numpy" in got["mods"] and "symderiv.verify.check" in got["mods"]
    assert not [m for m in got["mods"] if m.split(".")[0] in ("sympy", "lark")]


def test_the_users_blas_setting_wins() -> None:
    got = _after(CHECK, OPENBLAS_NUM_THREADS="3", MKL_NUM_THREADS="2")
    assert got["env"] == {"OPENBLAS_NUM_THREADS": "3", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "2"}


def test_the_blas_threads_are_set_before_numpy_is_imported() -> None:
    """numpy reads OPENBLAS_NUM_THREADS once, when it is first imported: the CLI must set it first."""
    got = _fresh("import builtins, json, os\nseen = {}\nreal = builtins.__import__\n"
                 "def spy(name, *a, **k):\n"
                 "    if name.split('.')[0] == 'numpy' and 'v' not in seen:\n"
                 "        seen['v'] = os.environ.get('OPENBLAS_NUM_THREADS')\n"
                 "    return real(name, *a, **k)\n"
                 "builtins.__import__ = spy\n" + CHECK + "\nprint(json.dumps(seen))")
    assert got == {"v": "1"}


def test_syntax_and_model_modules_do_not_load_the_markdown_reader() -> None:
    got = _after("import symderiv.read.tree, symderiv.read.parse, symderiv.model.ops, symderiv.meaning.build")
    assert not [m for m in got["mods"] if m.split(".")[0] in ("markdown_it", "mdit_py_plugins", "sympy")]
