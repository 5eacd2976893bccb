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


def _statements() -> list[str]:
    from symderiv.read.document import read_document
    texts = [st.latex for sheet in SHEETS for st in read_document(sheet).statements]
    devset = Path("/work/shared/devset")
    for sheet in sorted(devset.glob("*/*.md")) if devset.is_dir() else []:
        try:
            texts += [st.latex for st in read_document(sheet).statements]
        except Exception:  # noqa: BLE001, S112 - a sheet the reader refuses has no statements to compare
            continue
    return texts


def _mutants(toks: list) -> list[list]:
    """The statement's tokens, and each with one token dropped or doubled: trees and errors."""
    out = [toks]
    for i in range(len(toks)):
        out += [toks[:i] + toks[i + 1:], toks[:i + 1] + toks[i:]]
    return [m for m in out if m]


def test_the_driver_builds_the_trees_lark_builds() -> None:
    """`lalr.py` on the shipped tables and lark itself on latex.lark give the same trees, with the
    same positions (brackets included), and reject the same token; the Builder gives the same
    nodes from both. Every statement of the shipped sheets (and the devset), and its mutants."""
    pytest.importorskip("lark")
    from lark import Lark
    from lark import Token as LarkToken
    from lark import Tree as LarkTree
    from lark.exceptions import UnexpectedInput
    from lark.lexer import Lexer

    from symderiv.read import lalr, lex
    from symderiv.read.transform import Builder

    class Fed(Lexer):
        def __init__(self, conf: object) -> None:
            pass

        def lex(self, *_: object) -> None:  # pragma: no cover
            raise RuntimeError

    lark = Lark(build_parser.GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer=Fed,
                propagate_positions=True, maybe_placeholders=False, start=build_parser.STARTS)
    where = ("start_pos", "line", "column", "end_line", "end_column", "end_pos")  # Token()'s order

    def plain(t: object) -> object:
        if isinstance(t, (LarkTree, lalr.Tree)):
            return (str(t.data), tuple(getattr(t.meta, k, None) for k in where), tuple(plain(c) for c in t.children))
        return (t.type, str(t), tuple(getattr(t, k) for k in where))  # type: ignore[attr-defined]

    def ours(t: object) -> object:
        """A lark tree as lalr.py's classes, for the Builder."""
        if isinstance(t, LarkTree):
            meta = lalr.Meta()
            for k in where:
                if hasattr(t.meta, k):
                    setattr(meta, k, getattr(t.meta, k))
            meta.empty = t.meta.empty
            return lalr.Tree(str(t.data), [ours(c) for c in t.children], meta)
        return lalr.Token(t.type, t.value, *(getattr(t, k) for k in where))  # type: ignore[attr-defined]

    def built(tree: object) -> str:
        try:
            return repr(Builder("f.md", 3, 5).transform(tree))
        except Exception as e:  # noqa: BLE001 - a ParseError of a part, the same from both
            return f"{type(e).__name__}: {e}"

    compared = rejected = 0
    for text in _statements():
        try:
            toks = lex.tokenize(text, 64)
        except lex.LexError:
            continue
        for variant in _mutants(toks) if len(toks) < 40 else [toks]:
            feed = [lalr.Token(t.type, t.value, t.start, 1, t.start + 1, 1, t.end + 1, t.end) for t in variant]
            for start in build_parser.STARTS:
                ip = lark.parse_interactive(None, start=start)
                given = [LarkToken(t.type, t.value, *(getattr(t, k) for k in where)) for t in feed]
                try:
                    for t in given:
                        ip.feed_token(t)
                    theirs = ip.feed_eof(given[-1])
                except UnexpectedInput as e:
                    with pytest.raises(lalr.UnexpectedToken) as info:
                        lalr.parse(feed, start)
                    assert (info.value.token.type, info.value.token.start_pos) == (e.token.type, e.token.start_pos)
                    rejected += 1
                    continue
                mine = lalr.parse(feed, start)
                assert plain(mine) == plain(theirs), text
                assert built(mine) == built(ours(theirs)), text
                compared += 1
    assert compared > 1000 and rejected > 1000


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
