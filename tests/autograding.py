"""Helpers of the autograder tests: a directory laid out like Gradescope's /autograder, the
generated run_autograder run in it, and a question data dict of PrairieLearn's shape."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "prairielearn" / "questions" / "gated-unit"


def layout(tmp: Path, bundle: Path) -> Path:
    """A directory laid out like Gradescope's /autograder: source/ (the unzipped bundle), submission/."""
    (tmp / "source").mkdir(parents=True)
    (tmp / "submission").mkdir()
    with zipfile.ZipFile(bundle) as z:
        z.extractall(tmp / "source")
        for info in z.infolist():  # zipfile drops the modes: set them as unzip does
            os.chmod(tmp / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    return tmp


def run_autograder(root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(SYMDERIV_AUTOGRADER_ROOT=str(root), SYMDERIV_PYTHON=sys.executable)
    proc = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def pl_data(files: list[tuple[str, str]] | None = None, text: str | None = None) -> dict:
    """A question data dict of the shape PrairieLearn passes to server.py's grade()."""
    submitted: dict = {}
    if files is not None:
        submitted["_files"] = [{"name": n, "contents": base64.b64encode(c.encode()).decode()} for n, c in files]
    if text is not None:
        submitted["answer"] = text
    return {"params": {}, "correct_answers": {}, "submitted_answers": submitted,
            "raw_submitted_answers": dict(submitted), "format_errors": {}, "partial_scores": {},
            "score": 0.0, "feedback": {}, "variant_seed": 1, "options": {"question_path": str(EXAMPLE)},
            "editable": False, "panel": "submission", "extensions": {}, "num_valid_submissions": 0}
