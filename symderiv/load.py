"""Files -> documents, the problem first (named by an answer sheet's front matter, or given first)."""
from __future__ import annotations

import os

from .errors import InputError
from .read.document import MAX_DOCUMENT_BYTES, Document, read_document

#: problems read lately, by (path, bytes): `check_files` on the sheets of one problem reads
#: the problem once. Only a document that was the problem is kept (never a sheet: a sheet
#: is read every time), and a file whose bytes changed is read again.
_PROBLEMS: dict[tuple[str, bytes], Document] = {}
MAX_PROBLEMS = 4


def _bytes(path: str) -> bytes | None:
    """The file's bytes when it is a regular file of at most the document limit, else None
    (`read_document` then says what is wrong)."""
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_DOCUMENT_BYTES:
            return None
        with open(path, "rb") as f:
            return f.read(MAX_DOCUMENT_BYTES + 1)
    except OSError:
        return None


def _read(path: str, raw: dict[str, bytes | None]) -> Document:
    """`read_document(path)`, or the problem read before from the same bytes; `raw` notes
    the bytes read (to remember the problem by)."""
    data = raw[path] = _bytes(path)
    hit = _PROBLEMS.get((path, data)) if data is not None else None
    return hit if hit is not None else read_document(path)


def _remember(doc: Document, raw: dict[str, bytes | None]) -> None:
    """Keep the problem `doc` by the bytes read before it was parsed, when the file still
    has them (else it changed meanwhile, and the document may be of other bytes)."""
    data = raw.get(doc.file)
    if data is None or (doc.file, data) in _PROBLEMS or _bytes(doc.file) != data:
        return
    while len(_PROBLEMS) >= MAX_PROBLEMS:
        _PROBLEMS.pop(next(iter(_PROBLEMS)))
    _PROBLEMS[(doc.file, data)] = doc


def _named_problem(doc: Document) -> str | None:
    """The problem a sheet names in its front matter, as a real path."""
    fm = doc.front_matter if isinstance(doc.front_matter, dict) else {}
    if not fm.get("problem"):
        return None
    return os.path.realpath(os.path.join(os.path.dirname(doc.file), str(fm["problem"])))


def _same_text(a: str, b: str) -> bool:
    try:
        with open(a, "rb") as fa, open(b, "rb") as fb:
            return fa.read() == fb.read()
    except OSError:
        return False


def load_documents(files: list[str], problem_given: bool = False) -> list:
    raw: dict[str, bytes | None] = {}
    docs = _load(files, problem_given, raw)
    _remember(docs[0], raw)
    return docs


def _load(files: list[str], problem_given: bool, raw: dict[str, bytes | None]) -> list:
    """The documents of `files`, the problem first: named by the sheets' front matter, or
    given first. Sheets that name different problems, or another problem than the one given
    (other than an identical copy of it), are a usage error (a wrong pairing would report
    every line as unknown). With `problem_given` (grading: the TA's problem comes first) the
    sheets' front matter is ignored."""
    if not files:
        raise InputError("no file given")
    files = list(dict.fromkeys(files))  # the same file twice is checked once
    docs = [_read(f, raw) for f in files]
    if problem_given and _named_problem(docs[0]) is None:
        return docs
    named = {p for p in map(_named_problem, docs) if p is not None}
    if len(named) > 1:
        raise InputError("these sheets name different problems in their front matter; check them one "
                         "problem at a time: " + ", ".join(sorted(named)))
    if not named:
        return docs
    path = named.pop()
    real = [os.path.realpath(f) for f in files]
    if path in real:
        idx = real.index(path)
        docs.insert(0, docs.pop(idx))
        return docs
    if _named_problem(docs[0]) is None and _same_text(files[0], path):
        return docs  # the sheets name an identical copy of the problem given
    if _named_problem(docs[0]) is None:
        raise InputError(f"{docs[0].file} is given as the problem, but the sheets name {path}")
    if not os.path.exists(path):
        raise InputError(f"{files[0]}: its problem {docs[0].front_matter['problem']} was not found "
                         f"(looked for {path})")
    docs.insert(0, _read(path, raw))
    return docs


def load_model(files: list[str]):
    """The model of the problem among `files` (for `symderiv latex`)."""
    from .meaning.build import model_of
    return model_of(load_documents(files)[0])


def family_latex_of(files: list[str], expanded: bool = False, standalone: bool = False) -> str | None:
    """`symderiv latex` of a problem with families (the generic local adjoints), or None when
    the problem has none."""
    from .meaning.families import read_families
    docs = load_documents(files)
    fp = read_families(docs[0].statements)
    if fp is None:
        return None
    from .report.family_latex import family_latex
    return family_latex(docs[0], fp, standalone, expanded)
