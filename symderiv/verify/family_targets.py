"""The targets of a problem with families (steps t = 1..T, layers l = 1..L), for scoring.

A family problem is checked unrolled at several counts (`verify.unrolled.COUNTS`), so its
model's inputs are members (`x_1`, `W^{(3)}`); a rubric and a student both speak of the
family as written (`x_t`, `W^{(l)}`, a shared `W`). Each generic name here stands for the
members it must answer at every count: `x_t` for x_1 at T = 1, x_1 and x_2 at T = 2, ...;
a shared `W` or a boundary `h_0` for itself at every count.
"""
from __future__ import annotations

import re
from typing import Any

from ..meaning import families as fam
from ..read import tree as t
from .unrolled import COUNTS

#: a generic name -> the (count, member) pairs it stands for
Members = dict[str, frozenset[tuple[int, str]]]


def _letter(fp: fam.FamilyProblem, count: str) -> str:
    """The step letter of a count (`t` for `T`): the one the problem's families use."""
    for letter, c in fp.letters.items():
        if c == count:
            return letter
    return count.lower()


def _family(generic: str, letter: str, count: str) -> frozenset[tuple[int, str]]:
    return frozenset((c, fam.rename(generic, {letter: v, count: c})) for c in COUNTS for v in range(1, c + 1))


def generic_members(fp: fam.FamilyProblem) -> tuple[Members, dict[str, str]]:
    """The problem's families by their generic names, and each member's generic name (at
    every count): declared families (`x_1, \\dots, x_T`) and defined ones (`a_t = ...`)."""
    members: Members = {}
    for item in fp.items:
        if isinstance(item, tuple):  # ("decl", base, sup, count, space, statement)
            _, base, sup, count, _, _ = item
            letter = _letter(fp, count)
            generic = f"{base}^{{{sup}{letter}{')' if sup == '(' else ']'}}}" if sup else f"{base}_{letter}"
            members[generic] = _family(generic, letter, count)
        elif isinstance(item, fam.Family):
            lhs = item.statement.parts[0] if item.statement.parts else None
            names = [lhs.name] if isinstance(lhs, t.Name) else [n.name for n in item.statement.names]
            for generic in names:
                members[generic] = _family(generic, item.letter, item.count)
    of = {m: g for g, ms in members.items() for _, m in ms}
    return members, of


def _plain(name: str) -> frozenset[tuple[int, str]]:
    return frozenset((c, name) for c in COUNTS)


def default_targets(fp: fam.FamilyProblem, model: Any) -> Members:
    """Every input and parameter as written: members of a family by its generic name, in
    the problem's order."""
    members, of = generic_members(fp)
    out: Members = {}
    for name in model.inputs:
        g = of.get(name, name)
        out.setdefault(g, members.get(g) or _plain(g))
    return out


def nodes(fp: fam.FamilyProblem, model: Any, skip: set[str]) -> Members:
    """The intermediate nodes (for `steps`), generic, from the loss back; not `skip`."""
    members, of = generic_members(fp)
    out: Members = {}
    for name in reversed(model.nodes):
        g = of.get(name, name)
        if name != model.loss and g not in skip:
            out.setdefault(g, members.get(g) or _plain(g))
    return out


def _spelling(text: str) -> str:
    return re.sub(r"[\s{}()\[\]\\]", "", text)


def generic_name(fp: fam.FamilyProblem, key: str) -> str | None:
    """A rubric's name for a family (`W^{(l)}`, `W^{(l)}`, `W^l`, `x_{t}`), or None."""
    members, _ = generic_members(fp)
    want = _spelling(key)
    for g in members:
        if _spelling(g) == want:
            return g
    return None


def member_of(fp: fam.FamilyProblem, name: str) -> str | None:
    """The generic name of the family `name` (`x_1`, `W^{(3)}`) is a member of, or None."""
    return generic_members(fp)[1].get(name)


def members_for(fp: fam.FamilyProblem, name: str) -> frozenset[tuple[int, str]]:
    members, _ = generic_members(fp)
    return members.get(name) or _plain(name)
