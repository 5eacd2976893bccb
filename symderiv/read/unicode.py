"""Unicode math -> the LaTeX commands it stands for, before lexing (SPEC section 1).

Autocorrect and tablet keyboards write `σ`, `W₁`, `xᵀ`, `∈ ℝ^{m}`, `φ′`, `’`. Each character
of the table is replaced by its command; a run of sub/superscript digits becomes one group
(`W₁₂` -> `W_{12}`, `x²` -> `x^{2}`). The replacement is longer than the character, so the
rewrite returns, beside the new text, the map back to offsets of the original: tokens and
errors keep pointing at what the user wrote.
"""
from __future__ import annotations

_GREEK = "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ"
_GREEK_NAMES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"]
TABLE: dict[str, str] = {g: "\\" + n for g, n in zip(_GREEK, _GREEK_NAMES)}
TABLE.update({
    "ϕ": "\\phi", "ϵ": "\\epsilon", "ς": "\\sigma", "ℓ": "\\ell", "ϑ": "\\theta",
    "⊤": "^{\\top}", "ᵀ": "^{\\top}", "⊙": "\\odot", "∘": "\\circ", "·": "\\cdot", "⋅": "\\cdot",
    "×": "\\times", "−": "-", "–": "-", "∂": "\\partial", "∇": "\\nabla", "∑": "\\sum", "∈": "\\in",
    "ℝ": "\\mathbb{R}", "𝟙": "\\mathbb{1}", "′": "'", "″": "''", "’": "'", "⊘": "\\oslash",
    "≥": "\\geq", "≤": "\\leq", "⇒": "\\Rightarrow", "→": "\\to", "⟹": "\\implies", "∴": "\\therefore",
    "∵": "\\because", "√": "\\sqrt", "‖": "\\|", "∞": "\\infty", "≠": "\\neq", "≈": "\\approx",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ",
})
SUB = {c: str(k) for k, c in enumerate("₀₁₂₃₄₅₆₇₈₉")}
SUB.update({"₊": "+", "₋": "-", "ᵢ": "i", "ⱼ": "j", "ₖ": "k", "ₗ": "l", "ₘ": "m", "ₙ": "n", "ₜ": "t",
            "ₓ": "x"})
SUP = {c: str(k) for k, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}
SUP.update({"⁺": "+", "⁻": "-", "ⁿ": "n"})
#: characters a rewrite may touch: a text without them is returned unchanged (the common case)
SPECIAL = frozenset(TABLE) | frozenset(SUB) | frozenset(SUP)


def normalise(s: str) -> tuple[str, list[int], list[int]]:
    """(text, starts, ends): starts[k] is the original offset of new character k; ends[k] the
    original offset just after new character k-1 (so a token [a, b) maps to
    [starts[a], ends[b])). Both lists have len(text) + 1 entries."""
    if not any(c in SPECIAL for c in s):
        ident = list(range(len(s) + 1))
        return s, ident, ident
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = [0]
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        for table, mark in ((SUB, "_"), (SUP, "^")):
            if c in table:
                j = i
                while j < n and s[j] in table:
                    j += 1
                piece = mark + "{" + "".join(table[x] for x in s[i:j]) + "}"
                break
        else:
            j = i + 1
            piece = TABLE.get(c, c)
            if piece != c and piece[-1].isalpha() and j < n and s[j].isascii() and s[j].isalpha():
                piece += " "  # `σx` is `\sigma x`, not `\sigmax`
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    starts.append(n)
    return "".join(out), starts, ends
