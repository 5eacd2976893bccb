"""Bracket checks before parsing: balance, nesting depth, and the direction of `\\|` bars.

Run before the grammar so that "unclosed brace `{`" and "one `)` too many" point at the
bracket itself, not at wherever the parser happens to give up. Both passes are linear.
"""
from __future__ import annotations

from .tokens import LexError, Tok

OPENERS = {"_LPAR": "_RPAR", "_LBRACK": "_RBRACK", "_LBRACE": "_RBRACE", "_LSET": "_RSET",
           "_NORM_OPEN": "NORM_CLOSE"}
CLOSERS = {"_RPAR": ")", "_RBRACK": "]", "_RBRACE": "}", "_RSET": "\\}", "NORM_CLOSE": "\\|"}
OPERAND_END = {"NAME", "BAR", "NUMBER", "ONES", "_RPAR", "_RBRACK", "_RBRACE", "_RSET",
               "NORM_CLOSE", "TRANSPOSE", "PRIME"}


def check_brackets(s: str, max_depth: int) -> None:
    """Braces must balance and brackets of any kind nest at most `max_depth` deep."""
    stack: list[int] = []
    depth, i, n = 0, 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c in "([{":
            depth += 1
            if depth > max_depth:
                raise LexError(f"brackets nested deeper than {max_depth} levels", i)
            if c == "{":
                stack.append(i)
        elif c in ")]}":
            depth = max(0, depth - 1)
            if c == "}":
                if not stack:
                    raise LexError("unbalanced brace: one `}` too many", i)
                stack.pop()
        i += 1
    if stack:
        raise LexError("unclosed brace `{`", stack[-1], hint="add the matching `}`")


def pair(tokens: list[Tok]) -> list[Tok]:
    """Pair brackets (reporting the first imbalance) and direct the `\\|` norm bars."""
    out: list[Tok] = []
    stack: list[Tok] = []
    for t in tokens:
        if t.type == "NORMBAR":
            closes = stack and stack[-1].type == "_NORM_OPEN" and out and out[-1].type in OPERAND_END
            if closes:
                t = Tok("NORM_CLOSE", t.value or "2", t.start, t.end)
            elif t.value:
                raise LexError("a subscript belongs after the closing `\\|`", t.start, t.end)
            else:
                t = Tok("_NORM_OPEN", "", t.start, t.end)
        elif t.type == "SUB" and (_fold_norm_kind(out, t) or _fold_late_subscript(out, t)):
            continue
        if t.type in OPENERS or t.type == "_IND_OPEN":
            stack.append(t)
        elif t.type in CLOSERS:
            _close(stack, t)
            if t.type == "NORM_CLOSE" and not t.value:
                t = t._replace(value="2")
        out.append(t)
    if stack:
        o = stack[-1]
        what = {"_LPAR": "parenthesis `(`", "_LBRACK": "bracket `[`", "_LBRACE": "brace `{`",
                "_LSET": "`\\{`", "_NORM_OPEN": "norm `\\|`", "_IND_OPEN": "indicator bracket"}[o.type]
        if o.sized:
            raise LexError(f"unclosed `\\left`: its {what} is never closed by `\\right`", o.start, o.end)
        raise LexError(f"unclosed {what}", o.start, o.end)
    return out


def _fold_late_subscript(out: list[Tok], sub: Tok) -> bool:
    """`W^T_2` (valid TeX) is `W_2^T`: move the subscript onto the name before the transpose."""
    if len(out) < 2 or out[-1].type != "TRANSPOSE" or out[-2].type != "NAME" or "_" in out[-2].value:
        return False
    text = sub.value.strip().strip("{}").strip()
    if not text or not text.isalnum():
        return False
    name = out[-2]
    out[-2] = name._replace(value=f"{name.value}_{text}" if len(text) == 1 else f"{name.value}_{{{text}}}")
    return True


def _close(stack: list[Tok], t: Tok) -> None:
    shown = ("\\right" if t.sized else "") + CLOSERS[t.type]
    if not stack:
        if t.sized:
            raise LexError(f"`{shown}` without a matching `\\left`", t.start, t.end)
        kind = {"_RPAR": "parenthesis", "_RBRACK": "bracket", "_RBRACE": "brace"}.get(t.type, "delimiter")
        raise LexError(f"unbalanced {kind}: one `{shown}` too many", t.start, t.end)
    o = stack[-1]
    want = o.value if o.type == "_IND_OPEN" else OPENERS[o.type]
    if want != t.type:
        raise LexError(f"`{shown}` does not match the opening one", t.start, t.end,
                       hint=f"expected `{CLOSERS[want]}`")
    if bool(o.sized) != bool(t.sized):
        raise LexError(f"`{shown}` closes a bracket opened without `\\left`" if t.sized
                       else f"`\\left` bracket closed by a plain `{shown}`", t.start, t.end,
                       hint="pair `\\left(` with `\\right)`")
    stack.pop()


def _fold_norm_kind(out: list[Tok], sub: Tok) -> bool:
    """`\\|X\\|^2_F`: the subscript after the power still names the norm."""
    j = len(out) - 1
    if j >= 0 and out[j].type == "_RBRACE":
        depth = 0
        while j >= 0:
            depth += (out[j].type == "_RBRACE") - (out[j].type == "_LBRACE")
            if depth == 0:
                break
            j -= 1
    j -= 1
    if j < 1 or out[j].type != "CARET" or out[j - 1].type != "NORM_CLOSE" or sub.value.strip("{} ") == "":
        return False
    kind = sub.value.strip("{} ")
    out[j - 1] = out[j - 1]._replace(value="F" if kind in ("F", "fro") else kind)
    return True
