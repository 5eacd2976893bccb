"""Finding what a student submitted: the source files of a derivation, never a PDF.

Used by the Gradescope autograder (a submission directory) and PrairieLearn (uploaded
files). A derivation is every `.md`, `.tex` and `.ipynb` file of the submission, read in
path order as one derivation (a student may split it over files); hidden files, macOS
`__MACOSX` folders and links out of the submission are skipped. A submission with only
PDFs (or images) gets a message asking for the source file.
"""
from __future__ import annotations

import os

from ..fastdataclass import dataclass

SOURCES = (".md", ".tex", ".ipynb")
RENDERED = (".pdf", ".png", ".jpg", ".jpeg", ".heic", ".docx")
MAX_FILES = 20

ASK_FOR_SOURCE = ("symderiv reads the source of a derivation, not a PDF or a picture: submit the "
                  "Markdown (.md), LaTeX (.tex) or Jupyter notebook (.ipynb) file you wrote it in.")


@dataclass
class Found:
    files: list[str]
    message: str = ""  # why there is nothing to grade, for the student


def find_sources(root: str) -> Found:
    """The source files under `root` (a submission directory), in path order."""
    files: list[str] = []
    rendered: list[str] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        for name in sorted(names):
            if name.startswith("."):
                continue
            low = name.lower()
            path = os.path.join(folder, name)
            if low.endswith(SOURCES):
                files.append(path)
            elif low.endswith(RENDERED):
                rendered.append(path)
    files.sort(key=lambda p: os.path.relpath(p, root))
    if not files:
        if rendered:
            names = ", ".join(os.path.relpath(p, root) for p in rendered[:5])
            return Found([], f"{ASK_FOR_SOURCE} (found {names})")
        return Found([], "No derivation found in the submission: submit a .md, .tex or .ipynb file.")
    if len(files) > MAX_FILES:
        return Found([], f"The submission has {len(files)} source files; symderiv grades at most {MAX_FILES}.")
    return Found(files)
