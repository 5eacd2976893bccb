"""Parse tree -> `tree.py` nodes. Imported lazily by `parse.py`; the parser is `lalr.py`.

One method per `->` alias of `latex.lark`. The transformer is non-recursive, so no input
depth can raise RecursionError here; products, sums and postfix chains arrive flat.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import ParseError
from ..spans import Span
from .lalr import Token, Transformer
from .tree import (
    Abs,
    Add,
    Bar,
    BigSum,
    BinarySet,
    Call,
    Derivative,
    Frac,
    Hadamard,
    Indicator,
    Name,
    Node,
    Norm,
    Number,
    Ones,
    Partial,
    Power,
    Product,
    RealSpace,
    Subscript,
    Transpose,
)


def _join(a: Span, b: Span) -> Span:
    return Span(a.file, a.line, a.col, b.end_line, b.end_col)


class Builder(Transformer):
    """Builds nodes whose spans are in the file, for a statement that starts at (line, col)."""

    def __init__(self, file: str, line: int, col: int) -> None:
        self.file, self.line, self.col = file, line, col

    def _span(self, m: Any) -> Span:
        return Span(self.file, m.line, m.column, m.end_line, m.end_column).shifted(self.line, self.col)

    def _tok(self, t: Token) -> Span:
        assert t.line is not None and t.column is not None and t.end_line is not None
        assert t.end_column is not None
        return Span(self.file, t.line, t.column, t.end_line, t.end_column).shifted(self.line, self.col)

    # statements
    def statement(self, m: Any, ch: list) -> Any:
        return ch[0]

    def expression(self, m: Any, ch: list) -> Any:
        return ch[0]

    def chain(self, m: Any, ch: list) -> Any:
        return ("=", tuple(ch), ())

    def declaration(self, m: Any, ch: list) -> Any:
        names = tuple(Name(self._tok(t), str(t)) for t in ch[:-1])
        return ("in", (ch[-1],), names)

    def premise(self, m: Any, ch: list) -> Any:
        return (str(ch[1]), (ch[0], ch[2]), ())

    def reals(self, m: Any, ch: list) -> RealSpace:
        head = ch[0]
        if head.type == "NAME" and str(head) != "R":
            raise ParseError(f"expected a set such as `\\mathbb{{R}}^n` after `\\in`, not `{head}`",
                             self._tok(head))
        dims = ch[2] if len(ch) > 2 else ()
        return RealSpace(self._span(m), dims, positive=head.type == "REALS" and head == "+")

    def dims(self, m: Any, ch: list) -> tuple:
        return tuple(ch)

    def binary_set(self, m: Any, ch: list) -> BinarySet:
        labels = [c for c in ch if isinstance(c, Token) and c.type == "NUMBER"]
        if sorted(str(t) for t in labels) != ["0", "1"]:
            raise ParseError("only the label set `\\{0,1\\}` is supported", self._span(m))
        dims = next((c for c in ch if isinstance(c, tuple)), ())
        return BinarySet(self._span(m), dims)

    # expressions
    def name(self, m: Any, ch: list) -> Name:
        return Name(self._span(m), str(ch[0]))

    def number(self, m: Any, ch: list) -> Number:
        return Number(self._span(m), str(ch[0]))

    def bar(self, m: Any, ch: list) -> Bar:
        return Bar(self._span(m), str(ch[0]))

    def ones(self, m: Any, ch: list) -> Ones:
        return Ones(self._span(m))

    def add(self, m: Any, ch: list) -> Add:
        terms, sign = [], 1
        for c in ch:
            if isinstance(c, Token):
                sign = -1 if c.type == "MINUS" else 1
            else:
                terms.append((sign, c))
                sign = 1
        return Add(self._span(m), tuple(terms))

    def neg(self, m: Any, ch: list) -> Add:
        return Add(self._span(m), ((-1, ch[-1]),))

    def hadamard(self, m: Any, ch: list) -> Node:
        """Left to right; `a \\oslash b` is the elementwise quotient, a Frac of equal shapes."""
        acc, divide = ch[0], False
        for right in ch[1:]:
            if isinstance(right, Token):
                divide = True
                continue
            span = _join(acc.span, right.span)
            acc = Frac(span, acc, right) if divide else Hadamard(span, acc, right)
            divide = False
        return acc

    def product(self, m: Any, ch: list) -> Node:
        acc: list[Node] = []
        divide = False
        for c in ch:
            if isinstance(c, Token):
                divide = True
                continue
            if divide:
                num = acc[0] if len(acc) == 1 else Product(_join(acc[0].span, acc[-1].span), tuple(acc))
                acc, divide = [Frac(_join(num.span, c.span), num, c)], False
            elif isinstance(c, Product):
                acc.extend(c.factors)
            else:
                acc.append(c)
        return acc[0] if len(acc) == 1 else Product(self._span(m), tuple(acc))

    def group(self, m: Any, ch: list) -> Node:
        """`(a + b)`: the inside, with a span that includes the brackets."""
        return replace(ch[0], span=self._span(m))

    def postfix(self, m: Any, ch: list) -> Node:
        acc, i = ch[0], 1
        while i < len(ch):
            c = ch[i]
            if c.type == "SUB":
                text = str(c.value).strip()
                text = text[1:-1].strip() if text.startswith("{") and text.endswith("}") else text
                if not text:
                    raise ParseError("empty subscript", self._tok(c))
                acc, i = Subscript(_join(acc.span, self._tok(c)), acc, text), i + 1
                continue
            if c.type == "CARET":
                exp = ch[i + 1]
                acc, i = Power(_join(acc.span, exp.span), acc, exp), i + 2
            else:
                acc, i = Transpose(_join(acc.span, self._tok(c)), acc), i + 1
        return replace(acc, span=self._span(m))

    def _call(self, m: Any, ch: list, args: tuple) -> Call:
        primes = sum(1 for c in ch if isinstance(c, Token) and c.type == "PRIME")
        power = next((ch[i + 1] for i, c in enumerate(ch) if isinstance(c, Token) and c.type == "CARET"),
                     None)
        return Call(self._span(m), str(ch[0]), args, primes, power)

    def call(self, m: Any, ch: list) -> Call:
        return self._call(m, ch[:-1], ch[-1])

    def call_bare(self, m: Any, ch: list) -> Call:
        return self._call(m, ch[:-1], (ch[-1],))

    def args(self, m: Any, ch: list) -> tuple:
        return tuple(ch)

    def frac(self, m: Any, ch: list) -> Frac:
        return Frac(self._span(m), ch[0], ch[1])

    def partial(self, m: Any, ch: list) -> Partial:
        num, den = [str(t) for t in ch if t.type == "NAME"]
        sub = next((str(t.value).strip() for t in ch if t.type == "SUB"), None)
        if sub:  # \partial W^{(l)}_{ij}: the entry's subscript belongs to the name
            den += "_" + (sub if sub.startswith("{") or len(sub) == 1 else "{" + sub + "}")
        return Partial(self._span(m), num, den)

    def bigsum(self, m: Any, ch: list) -> BigSum:
        tok, body = ch[0], ch[1]
        sub, _, sup = str(tok.value).partition("\t")
        sub = " ".join(sub.split())
        span = self._tok(tok)
        skip = None
        for neq in ("\\neq", "\\ne", "\\not="):
            if neq in sub:
                sub, _, skip = sub.partition(neq)
                skip = skip.strip()
                break
        index, _, lo = sub.partition("=")
        index = index.strip()
        if not (len(index) == 1 and index.isalpha()) or (skip is not None and not skip.isalpha()):
            raise ParseError(f"`\\sum_{{{sub}}}`: the index of a sum is one letter, as in `\\sum_{{i=1}}^{{n}}`",
                             span)
        if sup and not lo.strip():
            raise ParseError("a sum with an upper bound needs its lower one: `\\sum_{i=1}^{n}`", span)
        return BigSum(self._span(m), index, body, lo.strip() or None, sup.strip() or None, skip)

    def nabla(self, m: Any, ch: list) -> Node:
        """`\\nabla_x L` of a name is the gradient (a Partial); of anything else, an operator."""
        wrt, arg, marks = str(ch[0]), ch[1], 0
        while isinstance(arg, Transpose) and marks < 8:
            arg, marks = arg.arg, marks + 1
        if isinstance(arg, Name):
            out: Node = Partial(self._span(m), arg.name, wrt, form="nabla")
            for _ in range(marks):
                out = Transpose(self._span(m), out)
            return out
        return Derivative(self._span(m), wrt, ch[1], "nabla")

    def derivative(self, m: Any, ch: list) -> Derivative:
        form, wrt, *end = str(ch[0]).split("|")
        span = self._span(m)
        if end:  # the numerator was an expression: the derivative ends after its denominator
            tok = self._tok(ch[0])
            span = Span(span.file, span.line, span.col, tok.line, tok.col + int(end[0]) - ch[0].start_pos)
        wrt, _, wrt2 = wrt.partition("\t")  # `\partial w_j \partial w_k`: two variables
        return Derivative(span, wrt, ch[1], form, 2 if ch[0].type == "HESS" else 1, wrt2 or None)

    def total(self, m: Any, ch: list) -> Partial:
        num, den = str(ch[0]).split("|", 1)
        return Partial(self._span(m), num, den, form="d")

    def absval(self, m: Any, ch: list) -> Abs:
        return Abs(self._span(m), ch[0])

    def norm(self, m: Any, ch: list) -> Norm:
        return Norm(self._span(m), ch[0], str(ch[1]) or "2")

    def indicator(self, m: Any, ch: list) -> Indicator:
        return Indicator(self._span(m), ch[0], str(ch[1]), ch[2])
