"""The one precedence table (read/precedence.py) is the grammar's: levels, order, operators."""
from __future__ import annotations

import ast
from pathlib import Path

from symderiv.read import precedence as p
from symderiv.read._lalr import RULES


def _expansions(rule: str) -> list[list[str]]:
    """The rule's alternatives, with lark's helper rules (`__sum_plus_3`) for its repeats."""
    return [list(symbols) for origin, symbols, *_ in RULES if origin == rule or origin.startswith(f"__{rule}_")]


def _unit_chain(start: str, stop: set[str]) -> list[str]:
    """Rules reached from `start` through one-symbol alternatives, until a rule in `stop`."""
    seen, todo, out = {start}, [start], []
    while todo:
        rule = todo.pop()
        for exp in _expansions(rule):
            if len(exp) == 1 and exp[0].islower() and exp[0] not in seen:
                seen.add(exp[0])
                out.append(exp[0])
                if exp[0] not in stop:
                    todo.append(exp[0])
    return out


def test_levels_are_ordered_by_precedence() -> None:
    assert [lv.prec for lv in p.LEVELS] == sorted({lv.prec for lv in p.LEVELS})
    assert (p.SUM, p.HAD, p.PROD, p.POST, p.ATOM) == tuple(lv.prec for lv in p.LEVELS)


def test_each_level_falls_through_to_the_next_in_the_grammar() -> None:
    rules = [lv.rule for lv in p.LEVELS]
    for low, high in zip(rules, rules[1:]):
        reached = _unit_chain(low, set(rules))
        assert high in reached, f"{low} does not fall through to {high}"
        skipped = [r for r in reached if r in rules and r not in (high,)]
        assert not skipped, f"{low} falls through to {skipped} before {high}"


def test_each_level_has_its_operators_and_no_other_levels() -> None:
    mine = {lv.rule: set(lv.terminals) for lv in p.LEVELS}
    for lv in p.LEVELS:
        found = {s for exp in _expansions(lv.rule) for s in exp if not s.islower()}
        assert set(lv.terminals) <= found, f"{lv.name}: grammar lacks {set(lv.terminals) - found}"
        others = set().union(*(t for r, t in mine.items() if r != lv.rule)) - {"MINUS"}
        assert not (found & others), f"{lv.name}: grammar rule {lv.rule} also has {found & others}"


def test_no_printer_keeps_its_own_numbers() -> None:
    """The printer, unparse and the test printer import the levels; none defines them."""
    root = Path(__file__).resolve().parents[1]
    for path in ("symderiv/report/latex.py", "symderiv/read/unparse.py", "tests/test_completeness.py"):
        tree = ast.parse((root / path).read_text())
        names = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)}
        names |= {e.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                  for t in node.targets if isinstance(t, ast.Tuple) for e in t.elts if isinstance(e, ast.Name)}
        assert not names & {"SUM", "HAD", "PROD", "POST", "ATOM", "PREC", "_PREC"}, path
        imports = {a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and (node.module or "").endswith("precedence") for a in node.names}
        assert imports, f"{path} does not read read/precedence.py"
