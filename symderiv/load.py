"""Files -> documents, the problem first (named by an answer sheet's front matter, or given first)."""
from __future__ import annotations

import os

from .errors import InputError, no_model
from .read.document import Document, read_document


def load_documents(files: list[str]) -> list:
    if not files:
        raise InputError("no file given")
    for f in files:
        if os.path.exists(f) and not os.path.isfile(f) and not os.path.isdir(f):
            raise InputError(f"{f}: not a regular file")
    docs = [read_document(f) for f in files]
    named = docs[0].front_matter.get("problem") if isinstance(docs[0].front_matter, dict) else None
    if named:
        path = os.path.join(os.path.dirname(files[0]), str(named))
        given = {os.path.realpath(f) for f in files}
        if os.path.realpath(path) not in given:
            if not os.path.exists(path):
                raise InputError(f"{files[0]}: its problem {named} was not found (looked for {path})")
            docs.insert(0, read_document(path))
        else:
            idx = [os.path.realpath(f) for f in files].index(os.path.realpath(path))
            docs.insert(0, docs.pop(idx))
    return docs


def load_model(files: list[str]):
    """The model of the problem among `files` (for `symderiv latex`)."""
    from .verify.check import Checker

    docs: list[Document] = load_documents(files)
    checker = Checker()
    checker.build(docs[0])
    if not checker.model.nodes:
        raise no_model(docs[0].file)
    _ = checker.model.loss
    return checker.model
