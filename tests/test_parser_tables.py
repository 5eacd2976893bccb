"""The committed LALR tables (`read/_lalr.py`) are those of `read/latex.lark`, and nothing
of the parser is ever read from disk: lark's pickle cache let a planted file run code."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from symderiv.read import build_parser

ROOT = Path(__file__).resolve().parents[1]
SHEETS = sorted((ROOT / "derivations").glob("*/*.md"))


def test_tables_are_built_from_the_current_grammar() -> None:
    from symderiv.read import _lalr
    assert _lalr.GRAMMAR_SHA256 == build_parser.grammar_digest(), (
        "symderiv/read/_lalr.py is stale: latex.lark changed since it was generated. "
        f"Regenerate it (one command, from the repository root): {build_parser.COMMAND}")


def test_generated_tables_parse_like_lark_itself() -> None:
    """The shipped tables and a fresh lark build of latex.lark give the same trees."""
    pytest.importorskip("lark")
    from lark import Lark
    from lark.lexer import Lexer

    from symderiv.read import lex
    from symderiv.read._lalr import Lark_StandAlone
    from symderiv.read.document import read_document

    class Fed(Lexer):
        def __init__(self, conf: object) -> None:
            pass

        def lex(self, *_: object) -> None:  # pragma: no cover
            raise RuntimeError

    fresh = Lark(build_parser.GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer=Fed,
                 propagate_positions=True, maybe_placeholders=False, start=build_parser.STARTS)
    shipped = Lark_StandAlone()

    def plain(t: object) -> object:
        if hasattr(t, "children"):
            return (str(t.data), tuple(plain(c) for c in t.children))  # type: ignore[attr-defined]
        return (t.type, str(t))  # type: ignore[attr-defined]

    def tree(parser: object, toks: list, token_class: type) -> str:
        ip = parser.parse_interactive(None, start="statement")  # type: ignore[attr-defined]
        try:
            for t in toks:
                ip.feed_token(token_class(t.type, t.value))
            return plain(ip.feed_eof())
        except Exception as e:  # noqa: BLE001 - both parsers must reject the same statements
            return type(e).__name__

    from lark import Token as LarkToken

    from symderiv.read._lalr import Token
    compared = 0
    for sheet in SHEETS:
        for st in read_document(sheet).statements:
            try:
                toks = lex.tokenize(st.latex, 64)
            except lex.LexError:
                continue
            if toks:
                assert tree(fresh, toks, LarkToken) == tree(shipped, toks, Token), st.latex
                compared += 1
    assert compared > 100


def test_a_planted_cache_pickle_is_never_loaded(tmp_path: Path) -> None:
    """A pickle where lark used to cache its tables, with a payload that leaves a mark."""
    marker = tmp_path / "PWNED"
    cache = tmp_path / "cache" / "symderiv"
    cache.mkdir(parents=True)

    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (open, (str(marker), "w"))

    for name in ("latex-lark.cache", "lark.cache"):
        (cache / name).write_bytes(pickle.dumps(Payload()))
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path),
               PYTHONPATH=str(ROOT))
    code = ("import sys, symderiv.cli as c\n"
            "rc = c.main(['check', sys.argv[1], sys.argv[2]])\n"
            "assert 'lark' not in sys.modules, 'lark was imported at check time'\n"
            "print('rc', rc)\n")
    seed = ROOT / "derivations" / "gated-unit"
    r = subprocess.run([sys.executable, "-c", code, str(seed / "problem.md"), str(seed / "seed-answers.md")],
                       capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert "rc 1" in r.stdout, r.stderr[-2000:]
    assert not marker.exists()
    assert sorted(p.name for p in cache.iterdir()) == ["lark.cache", "latex-lark.cache"]
