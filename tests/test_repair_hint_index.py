"""A "did you mean" repair in index notation keeps the student's own edit (no matrix form
to print): `\bar{x}_j = W_{ij} \bar{z}_i`, a repeated index without its sum, raised TypeError."""
from pathlib import Path

from symderiv.read.document import read_document, read_text
from symderiv.report.text import render_plain
from symderiv.verify.check import check_documents

PROBLEM = Path(__file__).resolve().parents[1] / "derivations" / "softmax-index-form" / "problem.md"


def test_an_index_repair_renders() -> None:
    sheet = read_text("$$\\bar{x}_j = W_{ij} \\bar{z}_i$$\n", "m.md")
    report = check_documents([read_document(str(PROBLEM)), sheet])
    text = render_plain(report, all_claims=True, show_answer=False)
    assert "did you mean" in text and "\\sum" in text
