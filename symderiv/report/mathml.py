"""LaTeX -> MathML that is safe to put in a page: latex2mathml's output, re-serialised through a
whitelist of MathML elements and attributes.

latex2mathml passes `\\text{<script>}` through verbatim, so its output is never trusted:
it is parsed, every element and attribute is checked against `TAGS`/`ATTRS`, all text is
escaped, and anything rejected (or left as an unknown `\\command`) is shown as escaped
LaTeX source in `<code class="tex">`. Used by the HTML report, Gradescope's HTML output,
notebooks and the PrairieLearn feedback.
"""
from __future__ import annotations

from html import escape
from xml.etree import ElementTree as ET

NS = "{http://www.w3.org/1998/Math/MathML}"
TAGS = {"math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "ms", "msub", "msup", "msubsup", "mfrac", "msqrt",
        "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom",
        "menclose", "merror", "mmultiscripts", "mprescripts", "none", "semantics", "annotation"}
ATTRS = {"mathvariant", "stretchy", "fence", "form", "width", "height", "depth", "accent", "accentunder",
         "movablelimits", "lspace", "rspace", "minsize", "maxsize", "linethickness", "displaystyle",
         "scriptlevel", "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines",
         "frame", "separator", "symmetric", "largeop", "notation", "encoding"}
# MathML Core renders mathvariant only as "normal": map the common ones to Unicode letters.
_ALPHA = {"bold": (0x1D400, 0x1D41A, 0x1D7CE), "bold-italic": (0x1D468, 0x1D482, None),
          "double-struck": (None, None, 0x1D7D8)}


def _styled(text: str, variant: str) -> str | None:
    upper, lower, digit = _ALPHA.get(variant, (None, None, None))
    out = []
    for ch in text:
        if "A" <= ch <= "Z" and upper:
            out.append(chr(upper + ord(ch) - 65))
        elif "a" <= ch <= "z" and lower:
            out.append(chr(lower + ord(ch) - 97))
        elif "0" <= ch <= "9" and digit:
            out.append(chr(digit + ord(ch) - 48))
        else:
            return None
    return "".join(out)


def _serialise(el: ET.Element, out: list[str]) -> None:
    tag = el.tag.removeprefix(NS)
    if tag not in TAGS:
        raise ValueError(f"element {tag} is not allowed")
    attrs = {k: v for k, v in el.attrib.items() if k in ATTRS}
    text = el.text or ""
    if "\\" in text:
        raise ValueError("an unknown command")  # latex2mathml keeps `\foo` as text
    variant = attrs.get("mathvariant")
    if variant in _ALPHA and text and (styled := _styled(text, variant)) is not None:
        text = styled
        del attrs["mathvariant"]
    out.append(f"<{tag}" + "".join(f' {k}="{escape(v)}"' for k, v in attrs.items()) + ">")
    out.append(escape(text, quote=False))
    for child in el:
        _serialise(child, out)
        if child.tail and child.tail.strip():
            raise ValueError("text between elements")
    out.append(f"</{tag}>")


def math(latex: str, display: bool = False) -> str:
    """`latex` as sanitised MathML, or as escaped source in `<code class="tex">`."""
    src = latex.strip()
    try:
        from latex2mathml.converter import convert
        root = ET.fromstring(convert(src))
        out: list[str] = []
        for child in root:
            _serialise(child, out)
    except Exception:  # noqa: BLE001 -- whatever latex2mathml rejects (or we do) is shown as source
        return f'<code class="tex">{escape(src)}</code>'
    style = ' displaystyle="true"' if display else ""
    return (f'<math xmlns="http://www.w3.org/1998/Math/MathML" title="{escape(src)}"{style}>'
            + "".join(out) + "</math>")
