"""The HTML report: structure, escaping, MathML fallback, and a real browser's rendering."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from symderiv.cli import main
from symderiv.load import load_documents
from symderiv.model import ops as o
from symderiv.report.html import claim_fragment, gradescope_results, math, prose, render, top_level_parts
from symderiv.report.notebook import adjoints_latex, model_latex, report_html, scoped_css
from symderiv.spans import Span
from symderiv.verify.check import check_documents
from symderiv.verify.verdicts import Answer, Claim, Report, Step

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = ROOT / "derivations" / "gated-unit" / "problem.md"
SEED = ROOT / "derivations" / "gated-unit" / "seed-answers.md"


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def names(self) -> list[str]:
        return [t for t, _ in self.tags]


def parse(page: str) -> Tags:
    p = Tags()
    p.feed(page)
    p.close()
    return p


@pytest.fixture(scope="module")
def seed_report() -> Report:
    docs = load_documents([str(PROBLEM), str(SEED)])
    return check_documents(docs)


@pytest.fixture(scope="module")
def seed_page(seed_report: Report) -> str:
    return render(seed_report)


# ---- structure -------------------------------------------------------------------------

def test_page_structure(seed_report: Report, seed_page: str) -> None:
    assert seed_page.startswith("<!DOCTYPE html>")
    tags = parse(seed_page)
    names = tags.names()
    listed = [c for c in seed_report.claims if c.listed]
    assert names.count("article") == len(listed)
    assert names.count("style") == 1 and "script" not in names
    assert names.count("math") > len(listed)  # rendered as MathML
    s = seed_report.summary()
    assert f"{s['correct']} correct" in seed_page and f"{s['invalid']} invalid" in seed_page
    # marks and colours: one class per verdict, on claims and steps
    for v in ("correct", "incorrect", "invalid"):
        assert f'class="claim v-{v}"' in seed_page and f'class="step v-{v}"' in seed_page
    for mark in ("✓", "✗", "!"):
        assert f'<span class="mark">{mark}</span>' in seed_page


def test_page_has_diagnosis_counterexample_and_answer(seed_page: str) -> None:
    tags = parse(seed_page)
    classes = [a.get("class") or "" for _, a in tags.tags]
    assert any("cex" == c for c in classes)
    assert any(c == "matrix" or c == "num" for c in classes)
    answers = [a for t, a in tags.tags if t == "details" and a.get("class") == "answer"]
    assert answers and all("open" not in a for a in answers)
    assert "show answer" in "".join(tags.text)
    assert '<span class="reason">sign</span>' in seed_page
    assert '<span class="reason">carried-forward</span>' in seed_page
    assert "<mark>" in seed_page  # the offending text of a shape error, highlighted


def test_page_is_self_contained(seed_page: str) -> None:
    tags = parse(seed_page)
    for tag, attrs in tags.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        for k, v in attrs.items():
            assert not k.startswith("on"), (tag, k)
            if k in ("href", "src"):
                assert v is not None and v.startswith("#"), (tag, k, v)
    assert "http://" not in seed_page.replace('xmlns="http://www.w3.org/1998/Math/MathML"', "")
    assert "https://" not in seed_page and "@import" not in seed_page and "url(" not in seed_page


def test_show_answer_opens_the_details(seed_report: Report) -> None:
    page = render(seed_report, show_answer=True)
    opened = [a for t, a in parse(page).tags if t == "details" and a.get("class") == "answer"]
    assert opened and all("open" in a for a in opened)


def test_all_claims_lists_definitions(seed_report: Report, seed_page: str) -> None:
    page = render(seed_report, all_claims=True)
    assert parse(page).names().count("article") > parse(seed_page).names().count("article")


# ---- escaping --------------------------------------------------------------------------

HOSTILE = [
    r"\text{<script>alert(1)</script>}",
    '<script>alert("x")</script>',
    r"\href{javascript:alert(1)}{x}",
    "<img src=x onerror=alert(1)>",
    r"x \text{</math><script>alert(2)</script>}",
    r"a & b <b>bold</b> \\",
]


def hostile_report() -> Report:
    span = Span("<evil>.md", 3, 1, 3, 40)
    steps = [Step(h, "incorrect", "sign", "numeric", message=f"see `{h}` and {h}", hint=f"did you mean {h}? {h}",
                  counterexample={"sizes": {"<n>": 2}, "values": {"<x>": [[1.0], ["<i>"]]},
                                  "expected": [["<b>"]], "got": [[2.0, 3.0], [4.0, 5.0]]},
                  span=Span("<evil>.md", 3, 2, 3, 9))
             for h in HOSTILE]
    evil = o.Var(HOSTILE[1] + HOSTILE[3], ("<n>", 1))  # the derived answer names a hostile symbol
    claim = Claim("<evil>.md", 3, "adjoint", "<W>", r"\bar{W} = " + " = ".join(HOSTILE), steps, span,
                  answer=Answer("<W>", evil, o.add(evil, evil)))
    ident = Claim("<evil>.md", 4, "identity", None, HOSTILE[0],
                  [Step(HOSTILE[1], "invalid", "parse", message=HOSTILE[3], span=span)], span)
    return Report(["<evil>.md"], "<script>", [claim, ident])


def test_hostile_latex_is_escaped() -> None:
    page = render(hostile_report(), show_answer=True)
    tags = parse(page)
    for tag, attrs in tags.tags:
        assert tag not in ("script", "img", "b", "i", "iframe"), tag
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        assert "href" not in attrs or (attrs["href"] or "").startswith("#"), attrs
        assert all("javascript:" not in (v or "") for k, v in attrs.items() if k != "title"), attrs
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page  # still shown, as text
    assert page.count('class="answer"') == len(HOSTILE)  # the hostile answer too


def test_hostile_fragment_for_gradescope() -> None:
    frag = claim_fragment(hostile_report().claims[0], show_answer=True)
    assert "<script" not in frag.lower() and "<img" not in frag.lower()


# ---- math ------------------------------------------------------------------------------

def test_math_is_mathml() -> None:
    m = math(r"\bar{W} = \bar{z} x^\top", display=True)
    assert m.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML"') and 'displaystyle="true"' in m
    assert "<mover>" in m and "<msup>" in m


@pytest.mark.parametrize("bad", [r"x^{", r"\frac{a}{", r"\foo{x} + y", r"\text{<script>}"])
def test_math_falls_back_to_escaped_source(bad: str) -> None:
    out = math(bad)
    assert out.startswith('<code class="tex">') and "<math" not in out and "<script" not in out


def test_math_drops_unsafe_attributes_and_maps_variants() -> None:
    assert " href=" not in math(r"\href{https://example.com}{x}")
    assert "𝟙" in math(r"\mathbb{1}[u > 0]") and "𝟏" in math(r"\mathbf{1}")


def test_prose_renders_latex_in_messages() -> None:
    out = prose(r"right given your earlier \bar{y} (line 22) and `W^\top x` <b>")
    assert out.count("<math") == 2 and "(line 22)" in out and "&lt;b&gt;" in out


def test_left_side_split_at_top_level_equals() -> None:
    assert top_level_parts(r"\sigma'(z_y) = (\sigma(z_y)(1-\sigma(z_y)))") == [
        r"\sigma'(z_y)", r"(\sigma(z_y)(1-\sigma(z_y)))"]
    assert top_level_parts(r"\bar{x} = \frac{a=b}{c} = d") == [r"\bar{x}", r"\frac{a=b}{c}", "d"]


# ---- command line, Gradescope, notebooks ------------------------------------------------

def test_cli_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["check", str(PROBLEM), str(SEED), "--format", "html", "-o", str(out)]) == 1
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<article") > 10


def test_gradescope_html_outputs(seed_report: Report) -> None:
    res = gradescope_results(seed_report)
    assert res["tests"] and all(t["output_format"] == "html" for t in res["tests"])
    assert all(t["output"].startswith("<p>") for t in res["tests"])
    answered = [t for t in res["tests"] if "not answered" not in t["output"]]
    assert answered and all("<article" in t["output"] for t in answered)  # the claim scored, as HTML
    assert "<script" not in json.dumps(res)


def test_notebook_reprs(seed_report: Report) -> None:
    from symderiv.derive.adjoints import derive
    from symderiv.meaning.build import model_of
    model = model_of(load_documents([str(PROBLEM)])[0])
    tex = model_latex(model)
    assert tex.startswith("$$") and r"W &\in \mathbb{R}^{c \times a}" in tex and r"t &\in \{0,1\}" in tex
    assert r"z &= W x" in tex
    adj = adjoints_latex(derive(model))
    assert r"\begin{aligned}" in adj and r"\bar{W} &= \bar{z} x^\top" in adj
    frag = report_html(seed_report)
    assert frag.startswith('<div class="symderiv-report"><style>') and "<body" not in frag
    for rule in scoped_css().split("}"):
        sel = rule.split("{")[0].strip()
        if sel:
            assert all(s.strip().startswith(".symderiv-report") for s in sel.split(",")), sel


# ---- a real browser --------------------------------------------------------------------

def _chromium() -> str | None:
    env = os.environ.get("SYMDERIV_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    return width, height, zlib.decompress(idat)


def test_page_renders_in_headless_chromium(seed_page: str, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium not installed (apt-get install chromium, or set SYMDERIV_CHROMIUM)")
    page = tmp_path / "report.html"
    page.write_text(seed_page, encoding="utf-8")
    png = tmp_path / "shot.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1200,1600",
           page.as_uri()]
    try:
        subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("chromium did not finish within 120 s")
    assert png.exists(), "chromium wrote no screenshot"
    width, height, raw = _png_pixels(png.read_bytes())
    assert (width, height) == (1200, 1600)
    assert png.stat().st_size > 30_000  # a blank or error page compresses to a few kB
    assert len(set(raw)) > 64  # many distinct byte values: text, colours, math
