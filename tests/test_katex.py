"""`symderiv latex` output renders in KaTeX (what course sites and notebooks use).

For the shipped problem and every devset problem (`$SYMDERIV_DEVSET`, default
../shared/devset beside the checkout, when present), the local and the `--expanded` derivation are rendered
with `katex.renderToString(src, {throwOnError: true, displayMode: true})`: the whole
`align*` block, and each row alone inside `\\begin{aligned}` (so a failure names its row).
Skipped where `node` or `tests/js/node_modules/katex` is missing (`cd tests/js && npm
install katex@0.16`; `.ci/run` does it).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from devset import DEVSET, problems

from symderiv.cli import main

ROOT = Path(__file__).resolve().parent.parent
JS = Path(__file__).resolve().parent / "js"
PROBLEMS = sorted(ROOT.glob("derivations/*/problem.md")) + [DEVSET / n / "problem.md" for n in problems()]


def _one_model(problem: Path) -> bool:
    """A problem without steps or layers: one model object, what the notebook reprs show (a
    family problem is unrolled per count; its LaTeX is `symderiv latex`, tested above)."""
    from symderiv.meaning.families import read_families
    from symderiv.read.document import read_document
    return read_families(read_document(str(problem)).statements) is None


MODEL_PROBLEMS = [p for p in PROBLEMS if _one_model(p)]


def _node() -> str:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed")
    if not (JS / "node_modules" / "katex").is_dir():
        pytest.skip("KaTeX is not installed: run `npm install katex@0.16` in tests/js")
    return node


def katex_errors(sources: list[str]) -> list[str | None]:
    """KaTeX's error for each source (None when it renders)."""
    proc = subprocess.run([_node(), str(JS / "render.js")], input=json.dumps(sources), capture_output=True,
                          text=True, cwd=JS, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return [None if r["ok"] else r["error"] for r in json.loads(proc.stdout)]


def rows(block: str) -> list[str]:
    body = block.split("\\begin{align*}", 1)[1].split("\\end{align*}", 1)[0]
    return [r.strip() for r in body.split("\\\\\n") if r.strip()]


def derivation(problem: Path, tmp_path: Path, expanded: bool) -> str:
    out = tmp_path / ("expanded.tex" if expanded else "local.tex")
    assert main(["latex", str(problem), "-o", str(out)] + (["--expanded"] if expanded else [])) == 0
    return out.read_text(encoding="utf-8")


def test_katex_renders_a_known_good_and_rejects_a_bad_source() -> None:
    good, bad = katex_errors([r"\bar{W} = \bar{z} x^\top", r"\frac{a}{"])
    assert good is None and bad is not None


@pytest.mark.parametrize("expanded", [False, True], ids=["local", "expanded"])
@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.parent.name for p in PROBLEMS])
def test_derivation_renders_in_katex(problem: Path, expanded: bool, tmp_path: Path) -> None:
    _node()
    block = derivation(problem, tmp_path, expanded)
    each = rows(block)
    assert each, block
    sources = [block] + [f"\\begin{{aligned}}{r}\\end{{aligned}}" for r in each]
    errors = katex_errors(sources)
    bad = [f"{src}\n  -> {err}" for src, err in zip(sources[1:], errors[1:]) if err]
    assert not bad, "KaTeX rejects:\n" + "\n".join(bad)
    assert errors[0] is None, f"KaTeX rejects the align* block: {errors[0]}"


@pytest.mark.parametrize("problem", MODEL_PROBLEMS, ids=[p.parent.name for p in MODEL_PROBLEMS])
def test_notebook_latex_renders_in_katex(problem: Path) -> None:
    from symderiv.derive.adjoints import derive
    from symderiv.load import load_model
    from symderiv.report.notebook import adjoints_latex, model_latex

    _node()
    model = load_model([str(problem)])
    adjoints = derive(model)
    sources = [t.strip().removeprefix("$$").removesuffix("$$")
               for t in (model_latex(model), adjoints_latex(adjoints), adjoints_latex(adjoints, expanded=True))]
    errors = katex_errors(sources)
    assert errors == [None, None, None], errors
