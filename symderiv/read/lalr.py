"""The LALR driver for the tables in `_lalr.py`: tokens in, a parse tree with positions out.

It builds the trees lark builds for `latex.lark` (parser="lalr", propagate_positions=True,
maybe_placeholders=False): a `?rule` with one child is that child, `_`-named rules are inlined,
`_`-named terminals are dropped, and a tree's position runs from its first written symbol to its
last, brackets included. lark itself is only needed to regenerate the tables (`build_parser.py`);
its stand-alone runtime cost a third of the reader's time and 12 ms of every cold start.
`tests/test_parser_tables.py` holds the trees equal to lark's.
"""
from __future__ import annotations

from typing import Any, Self

from ._lalr import END, RULES, START, STATES


class Token(str):
    """A terminal: its text, its type and where it is (1-based lines and columns, 0-based offsets)."""

    __slots__ = ("column", "end_column", "end_line", "end_pos", "line", "start_pos", "type", "value")

    def __new__(cls, type: str, value: Any, start_pos: int | None = None, line: int | None = None,
                column: int | None = None, end_line: int | None = None, end_column: int | None = None,
                end_pos: int | None = None) -> Self:
        self = super().__new__(cls, value)
        self.type, self.value, self.start_pos = type, value, start_pos
        self.line, self.column, self.end_line, self.end_column, self.end_pos = line, column, end_line, end_column, end_pos
        return self

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"


class Meta:
    """Where a tree is: `line`/`column` of its first symbol, `end_*` of its last. `container_*` is
    the extent of the rule that produced it, which is wider when a `?rule` handed up its one child
    (`(a + b)`: the sum's container includes the brackets)."""

    __slots__ = ("column", "container_column", "container_end_column", "container_end_line", "container_end_pos",
                 "container_line", "container_start_pos", "empty", "end_column", "end_line", "end_pos", "line",
                 "start_pos")

    def __init__(self) -> None:
        self.empty = True
        self.line = self.end_line = self.container_line = self.container_end_line = None


class Tree:
    __slots__ = ("children", "data", "meta")

    def __init__(self, data: str, children: list, meta: Meta | None = None) -> None:
        self.data, self.children, self.meta = data, children, meta if meta is not None else Meta()

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"


class UnexpectedToken(Exception):
    """`token` cannot continue the statement here (its type is `$END` at the end)."""

    def __init__(self, token: Token) -> None:
        super().__init__(f"unexpected {token.type} {str(token)!r}")
        self.token = token


def _first(children: Any) -> Any:
    """The position of the first child that has one (a token, or a tree's meta)."""
    for c in children:
        if type(c) is Token:
            return c
        if type(c) is Tree and not c.meta.empty:
            return c.meta
    return None


def _positioned(res: Tree, children: list) -> None:
    """lark's PropagatePositions: set `res.meta` from the first and last written symbols."""
    meta = res.meta
    first = _first(children)
    if first is not None:
        line, column, start = first.line, first.column, first.start_pos
        if type(first) is Meta and first.container_line is not None:
            line, column, start = first.container_line, first.container_column, first.container_start_pos
        if meta.line is None:
            meta.line, meta.column, meta.start_pos, meta.empty = line, column, start, False
        meta.container_line, meta.container_column, meta.container_start_pos = line, column, start
    last = _first(reversed(children))
    if last is not None:
        line, column, end = last.end_line, last.end_column, last.end_pos
        if type(last) is Meta and last.container_end_line is not None:
            line, column, end = last.container_end_line, last.container_end_column, last.container_end_pos
        if meta.end_line is None:
            meta.end_line, meta.end_column, meta.end_pos, meta.empty = line, column, end, False
        meta.container_end_line, meta.container_end_column, meta.container_end_pos = line, column, end


def _reduce(rule: tuple, children: list) -> Any:
    _, _, name, expand1, include = rule
    kept: list = []
    for i in include:
        if i < 0:
            kept += children[~i].children  # an inlined `_rule`
        else:
            kept.append(children[i])
    res = kept[0] if expand1 and len(kept) == 1 else Tree(name, kept)
    if type(res) is Tree:
        _positioned(res, children)
    return res


# a `?rule: x` reduction hands its one child up unchanged (its positions stay those of the child)
_UNIT = tuple(len(symbols) == 1 and expand1 and keep == (0,) for _, symbols, _, expand1, keep in RULES)


def parse(tokens: list[Token], start: str) -> Any:
    """The tree of `tokens` read as `start`; raises UnexpectedToken. The end is a `$END` token
    at the last token's position."""
    states, rules, unit, end_state = STATES, RULES, _UNIT, END[start]
    state_stack, value_stack = [START[start]], []
    last = tokens[-1]
    eof = Token("$END", "", last.start_pos, last.line, last.column, last.end_line, last.end_column, last.end_pos)
    for tok in [*tokens, eof]:
        is_end = tok is eof
        while True:
            action = states[state_stack[-1]].get(tok.type)
            if action is None:
                raise UnexpectedToken(tok)
            if action >= 0:
                assert not is_end and action != end_state
                state_stack.append(action)
                value_stack.append(tok)
                break
            rule = rules[~action]
            if unit[~action]:
                del state_stack[-1]
            else:
                size = len(rule[1])
                if size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                value_stack.append(_reduce(rule, children))
            state_stack.append(states[state_stack[-1]][rule[0]])
            if is_end and state_stack[-1] == end_state:
                return value_stack[-1]
    raise AssertionError("the end token always returns or raises")  # pragma: no cover


class Transformer:
    """Trees to values, bottom-up and without recursion (any depth): a tree named `x` becomes
    `self.x(meta, children)`; one with no such method stays a tree of the transformed children."""

    def transform(self, tree: Any) -> Any:
        order, todo = [], [tree]
        while todo:
            t = todo.pop()
            order.append(t)
            if type(t) is Tree:
                todo += t.children
        stack: list = []
        for x in reversed(order):
            if type(x) is Tree:
                size = len(x.children)
                if size:
                    args = stack[-size:]
                    del stack[-size:]
                else:
                    args = []
                method = getattr(self, x.data, None)
                stack.append(Tree(x.data, args, x.meta) if method is None else method(x.meta, args))
            else:
                stack.append(x)
        (result,) = stack
        return result
