"""No control character from a sheet reaches the terminal: the text report (plain and rich),
the one-line errors on stderr, and the JSON report printed to stdout."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import symderiv
from symderiv.report.escape import json_safe, terminal_safe
from symderiv.report.json import render as render_json
from symderiv.report.text import print_rich, render_plain

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT / "derivations" / "gated-unit" / "problem.md"
# OSC title, OSC 52 clipboard write, clear screen, cursor home, 8-bit CSI, cursor up, CR, BEL, bidi override
ATTACK = "\x1b]0;PWNED\x07\x1b]52;c;aGVsbG8=\x07\x1b[2J\x1b[H\x9b2J\x1b[1A\r\x07\u202e\x1bP+q\x1b\\"
SHEET = (f"$$\\bar{{W}} = \\bar{{z}} x^\\top + Q{ATTACK}$$\n"
         f"$$\\bar{{x}} = W^\\top \\bar{{z}} \\quad \\text{{{ATTACK}}}$$\n"
         f"$$\\bar{{U}} = \\bar{{z}} \\eta^\\top{ATTACK}$$\n")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own colours, the only escapes allowed


def _unsafe(text: str) -> list[str]:
    return [c for c in text if (unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in "\n\t")]


def _report(tmp_path: Path, name: str = "answers.md"):  # type: ignore[no-untyped-def]
    sheet = tmp_path / name
    sheet.write_text(SHEET, encoding="utf-8")
    return symderiv.check_files([str(PROBLEM), str(sheet)])


@given(st.text())
def test_escaped_text_has_no_control_characters(text: str) -> None:
    out = terminal_safe(text)
    assert not _unsafe(out)
    if not _unsafe(text):
        assert out == text  # ordinary text, Unicode math included, is untouched


def test_every_control_character_is_shown_visibly() -> None:
    for c in [*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), "\u202e", "\u2066", "\u2028"]:
        if c in "\n\t":
            continue
        out = terminal_safe(f"a{c}b")
        assert out.startswith("a\\") and out.endswith("b") and c not in out


def test_plain_report_escapes_the_sheet(tmp_path: Path) -> None:
    text = render_plain(_report(tmp_path), all_claims=True, show_answer=True)
    assert not _unsafe(text)
    assert "\\x1b]0;PWNED" in text  # shown, so the TA sees what was written


def test_rich_report_on_a_colour_terminal_escapes_the_sheet(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = io.StringIO()
    print_rich(_report(tmp_path), all_claims=True, show_answer=True, file=out)
    text = out.getvalue()
    assert SGR.search(text), "rich did not colour: the test would not see its escapes"
    assert not _unsafe(SGR.sub("", text))


def test_a_file_name_with_escapes_is_escaped(tmp_path: Path) -> None:
    text = render_plain(_report(tmp_path, "a\x1b[2Jb\x07.md"))
    assert not _unsafe(text) and "a\\x1b[2Jb\\x07.md" in text


def test_json_report_keeps_the_value_without_raw_c1_or_bidi(tmp_path: Path) -> None:
    report = _report(tmp_path)
    text = render_json(report)
    assert not _unsafe(text.replace("\n", ""))
    listed = [c for c in report.claims if c.listed]
    assert [c["latex"] for c in json.loads(text)["claims"]] == [c.latex for c in listed]
    assert any("\x9b" in c.latex for c in listed)
    assert json_safe('"\x9b\u202e"') == '"\\u009b\\u202e"'


def test_stderr_message_is_escaped(tmp_path: Path) -> None:
    missing = str(tmp_path / "no\x1b]0;PWNED\x07such.md")
    r = subprocess.run([sys.executable, "-m", "symderiv.cli", "check", str(PROBLEM), missing],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 2 and "\\x1b]0;PWNED\\x07" in r.stderr
    assert not _unsafe(r.stderr.replace("\n", ""))
