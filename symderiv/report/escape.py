"""Text from a sheet made safe to print on a terminal.

A sheet's bytes reach the text report (its LaTeX, names, file names in messages). Printed raw,
ESC/CSI/OSC sequences could set the window title, write the clipboard (OSC 52), clear the
screen or move the cursor over earlier verdicts, and bidi overrides could reorder what a TA
reads. Every C0 and C1 control (but newline and tab), DEL, the Unicode line separators and the
bidi/format controls are shown as visible escapes (`\\x1b`, `\\u202e`) instead.
"""
from __future__ import annotations

import re

from ..lazyre import lazy

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
                     "\u2060-\u206f\ufeff\ufff9-\ufffb]")
_JSON_UNSAFE = lazy("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def terminal_safe(text: str) -> str:
    """`text` with every terminal control character replaced by a visible escape."""
    return _UNSAFE.sub(_visible, text)


def json_safe(text: str) -> str:
    """JSON text (from `json.dumps`, which escapes only C0) with C1, DEL and bidi controls
    written as `\\uXXXX`: the same JSON value, harmless when printed to a terminal."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
