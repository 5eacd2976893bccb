"""`symderiv.lazyre.lazy` behaves as the compiled pattern and compiles only when first used."""
from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from symderiv.lazyre import lazy

PATTERNS = [(r"\\(?:bar|overline)\s*\{?(\\?[A-Za-z]+)\}?", 0), (r"^(?P<base>.+)\^\{(?P<w>[A-Za-z]{2,})\}$", 0),
            (r"a.b", re.DOTALL), (r"[-+]?(\d+\.\d*|\.\d+|\d+)", 0)]


@given(text=st.text(alphabet="ab\n\\{}^_+-.0123 xyzbaroverline", max_size=30))
def test_same_results_as_the_compiled_pattern(text: str) -> None:
    for pattern, flags in PATTERNS:
        ours, std = lazy(pattern, flags), re.compile(pattern, flags)
        for method in ("match", "fullmatch", "search"):
            a, b = getattr(ours, method)(text), getattr(std, method)(text)
            assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups()))
        assert ours.sub("X", text) == std.sub("X", text) and ours.findall(text) == std.findall(text)
        assert (ours.pattern, ours.flags, ours.groupindex) == (std.pattern, std.flags, std.groupindex)


def test_compiled_at_first_use_only() -> None:
    p = lazy(r"x+y")
    assert p._compiled is None
    assert p.match("xxy").group() == "xxy"
    first = p._compiled
    assert isinstance(first, re.Pattern) and p.search("axy") and p._compiled is first


def test_a_bad_pattern_fails_at_first_use_with_re_error() -> None:
    p = lazy(r"(unclosed")
    try:
        p.match("x")
    except re.error:
        return
    raise AssertionError("no re.error")
