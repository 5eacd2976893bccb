"""The pytest plugin (entry point `pytest11: symderiv`): derivation Markdown files as tests.

`pytest derivations/` collects every derivation file under the paths given on the command
line, one test item per listed claim, named `file::\\bar{W}@12` (adjoints), `file::W@8`
(declarations), `file::z@14` (restated definitions), `file::identity@20` (identities); two
claims of one line that would share a name get the column too (`identity@20:41`).

Which files (README "pytest"):
- With the ini option `symderiv_files` unset (the default), Markdown files (`*.md`) are
  collected only from paths given explicitly on the command line: `pytest derivations/`,
  `pytest sheet.md`. A bare `pytest` (testpaths, or the current directory) collects none,
  so a project's own docs are never picked up by accident.
- With `symderiv_files` set (glob patterns, e.g. `symderiv_files = "*answers*.md problem.md"`),
  files matching a pattern are collected wherever pytest looks, testpaths included. A pattern
  without `/` matches the file name; with `/`, the end of the path.
- Of those, a file is a derivation when it names its problem in front matter (`problem:`), or
  declares symbols in display math and defines a model. A file found in a directory without
  any math is skipped unread (README-like); one with math but no declarations and no
  `problem:` (a README showing an example) yields no items; so does a problem file without
  claims. A broken problem or a missing `problem:` file is a
  collection error with symderiv's message.

Other ini options: `symderiv_seed` (the spot checks' seed, default 0) and
`symderiv_show_answer` (print the derived adjoint beside wrong steps, default false).

Each file is checked once, at collection; an item passes when its claim is `correct`. Each
sheet's score under its problem's `scoring:` policy (`scoring.py`, the same as `check` and
`grade`) is printed in a "symderiv scores" section at the end of the run. A
failing item prints symderiv's report of the claim (the step, the diagnosis, the
counterexample), never a traceback. symderiv itself is imported only when a Markdown file is
collected, so the plugin costs nothing in projects that do not use it.
"""
from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

DEFAULT_PATTERNS = ("*.md", "*.tex", "*.ipynb")
_MATH = re.compile(r"\$|\\\[|\\begin\s*\{")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("symderiv_files", type="args", default=None,
                  help="symderiv: glob patterns of derivation Markdown files to collect wherever pytest "
                       "looks (unset: *.md, only under paths given on the command line)")
    parser.addini("symderiv_seed", type="string", default="0",
                  help="symderiv: seed of the random spot checks (default 0)")
    parser.addini("symderiv_show_answer", type="bool", default=False,
                  help="symderiv: show the derived adjoint beside wrong steps")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "symderiv: a claim of a derivation Markdown file (symderiv plugin)")
    _seed(config)  # a bad value is a usage error now, not a collection error per file


SCORES = pytest.StashKey[dict]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Each sheet's score under its problem's `scoring:` policy (the same as `check` and `grade`)."""
    scores = config.stash.get(SCORES, {})
    if not scores:
        return
    terminalreporter.section("symderiv scores")
    for path, score in scores.items():
        parts = ", ".join(f"{i.label} {i.score:g}/{i.max_score:g}" for i in score.items)
        terminalreporter.line(f"{path}: {score.score:g} / {score.max_score:g} ({parts})")


def _matches(path: Path, patterns: Any) -> bool:
    posix = path.as_posix()
    for pat in patterns:
        if "/" in pat:
            if fnmatch.fnmatch(posix, pat) or fnmatch.fnmatch(posix, "*/" + pat.lstrip("/")):
                return True
        elif fnmatch.fnmatch(path.name, pat):
            return True
    return False


def _arg_paths(config: pytest.Config) -> list[Path]:
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return []
    base = config.invocation_params.dir
    return [(base / arg.split("::", 1)[0]).resolve() for arg in config.args]


def _explicit(path: Path, config: pytest.Config) -> bool:
    """Is `path` one of the command-line arguments, or under one of them?"""
    target = path.resolve()
    return any(target == p or p in target.parents for p in _arg_paths(config))


def _named(path: Path, config: pytest.Config) -> bool:
    """Is `path` itself a command-line argument (so "not found" would be wrong)?"""
    return path.resolve() in _arg_paths(config)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    patterns = config.getini("symderiv_files")
    if patterns:
        if not _matches(file_path, patterns):
            return None
    elif not (_matches(file_path, DEFAULT_PATTERNS) and _explicit(file_path, config)):
        return None
    if not _named(file_path, config):  # found by walking a directory: skip README-like files
        try:
            text = file_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        if not _MATH.search(text):
            return None
    return DerivationFile.from_parent(parent, path=file_path)


class ClaimNotCorrect(Exception):
    """Raised by a failing item; `repr_failure` prints the claim's report instead of a traceback."""


class DerivationFile(pytest.File):
    expect_mistakes = False

    def _display_path(self) -> str:
        rel = os.path.relpath(self.path)
        return str(self.path) if rel.startswith("..") else rel

    def collect(self) -> Iterator[pytest.Item]:
        from .errors import SymderivError

        try:
            claims = self._claims()
        except SymderivError as err:
            raise self.CollectError(f"symderiv: {err}") from None
        seen: dict[str, int] = {}
        for c in claims:
            name = claim_item_name(c)
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                col = c.span.col if c.span is not None else seen[name]
                name = f"{name}:{col}"
            item = ClaimItem.from_parent(self, name=name, claim=c)
            item.add_marker("symderiv")
            if self.expect_mistakes and c.verdict != "correct":
                item.add_marker(pytest.mark.xfail(reason=_summary(c), strict=True))
            yield item

    def _claims(self) -> list:
        from .errors import ModelError
        from .load import load_documents
        from .meaning.build import build_model
        from .scoring import check_scored

        docs = load_documents([self._display_path()])
        own = os.path.realpath(self.path)
        mine = next((d for d in docs if os.path.realpath(d.file) == own), None)
        fm = getattr(mine, "front_matter", None) or {}
        # a sheet of deliberate mistakes (`expect: mistakes`): its wrong claims are xfail
        self.expect_mistakes = str(fm.get("expect", "")).lower() in ("mistakes", "fail", "failures")
        if os.path.realpath(docs[0].file) == own and not _is_problem(docs[0]):
            return []  # math, but not a derivation (no declarations, no `problem:`)
        seed = _seed(self.config)
        try:
            report = check_scored(docs, seed=seed)
        except ModelError:
            if len(docs) == 1:
                model, _ = build_model(docs[0])  # a bad definition raises again, with its own message
                if not model.nodes:
                    return []  # declarations only: nothing to check against
            raise
        if os.path.realpath(docs[0].file) != own:  # a sheet: its score under the problem's policy
            self.config.stash.setdefault(SCORES, {})[self._display_path()] = report.score
        return [c for c in report.claims if c.listed and os.path.realpath(c.file) == own]


def _seed(config: pytest.Config) -> int:
    raw = str(config.getini("symderiv_seed")).strip() or "0"
    try:
        return int(raw)
    except ValueError:
        raise pytest.UsageError(f"symderiv_seed must be a whole number, not {raw!r}") from None


def _is_problem(doc: Any) -> bool:
    fm = getattr(doc, "front_matter", None)
    if isinstance(fm, dict) and fm.get("problem"):
        return True
    return any(st.error is None and st.relation == "in" and not st.inline for st in doc.statements)


def claim_item_name(c: Any) -> str:
    """`\\bar{W}@12` (also an entrywise adjoint claim), `W@8`, `z@14`, `jacobian@16`,
    `identity@20`: the item's name for claim `c`; in a notebook `\\bar{W}@3:12` (cell 3, line 12)."""
    if c.kind in ("adjoint", "entrywise"):
        what = f"\\bar{{{c.target}}}" if c.target else "adjoint"
    elif c.kind in ("declaration", "definition"):
        what = c.target or c.kind
    else:
        what = "jacobian" if c.kind == "jacobian" else "identity"
    cell = getattr(c, "cell", None)
    return f"{what}@{cell}:{c.line}" if cell else f"{what}@{c.line}"


class ClaimItem(pytest.Item):
    def __init__(self, *, claim: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.claim = claim

    def runtest(self) -> None:
        if self.claim.verdict != "correct":
            raise ClaimNotCorrect(self.claim.verdict)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ClaimNotCorrect):
            from .report.text import plain_claim
            text = plain_claim(self.claim, bool(self.config.getini("symderiv_show_answer")))
            return ClaimRepr(text, _summary(self.claim), str(self.path), self.claim.line)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.claim.line - 1, self.name


def _summary(claim: Any) -> str:
    """`incorrect: sign: the sign is wrong ...`: the short summary line's message."""
    bad = next((s for s in claim.steps if s.verdict != "correct"), None)
    if bad is None:
        return claim.verdict
    return ": ".join(x for x in (bad.verdict, bad.reason, bad.message) if x)


class _Crash:
    """What pytest's short summary, `--tb=line` and junitxml read from a failure."""

    def __init__(self, path: str, lineno: int, message: str) -> None:
        self.path, self.lineno, self.message = path, lineno, message

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: {self.message}"


class ClaimRepr:
    """A failing claim's report (plain text, coloured by mark on a terminal); no traceback."""

    COLOURS: ClassVar[dict[str, dict[str, bool]]] = {"✓": {"green": True}, "✗": {"red": True}, "!": {"yellow": True}}

    def __init__(self, text: str, summary: str, path: str, lineno: int) -> None:
        self.text = text
        self.reprcrash = _Crash(path, lineno, summary)

    def toterminal(self, tw: Any) -> None:
        for i, line in enumerate(self.text.splitlines()):
            mark = line.split(" ", 2)[1][:1] if i == 0 and " " in line else line.lstrip()[:1]
            tw.line(line, bold=(i == 0), **self.COLOURS.get(mark, {}))

    def __str__(self) -> str:
        return self.text
