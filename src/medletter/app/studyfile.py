"""A study file: what `medletter study create --from FILE` imports (the demo writes one for its test cases).

    {"cases": "../data/test.jsonl", "systems": {"base": "../letters_base.jsonl", "finetuned": "../letters.jsonl"},
     "reference": true}

Paths are relative to the study file. No patient data in it: file names only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


class StudyFileError(ValueError):
    pass


def write_study_file(path: Path, cases: Path, systems: dict[str, Path], reference: bool = True) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def rel(p: Path) -> str:
        return os.path.relpath(Path(p).resolve(), path.parent.resolve())

    doc = {"cases": rel(cases), "systems": {k: rel(v) for k, v in systems.items()}, "reference": reference}
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def read_study_file(path: Path) -> tuple[Path, dict[str, Path], bool]:
    """(cases file, {system: letters file}, reference) with paths resolved against the study file."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise StudyFileError(f"{path}: cannot read it ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise StudyFileError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), str):
        raise StudyFileError(f"{path}: cases: the case file's name is required")
    systems = doc.get("systems", {})
    if not isinstance(systems, dict) or not all(isinstance(v, str) for v in systems.values()):
        raise StudyFileError(f"{path}: systems: an object NAME -> letters file")
    if not isinstance(doc.get("reference", False), bool):
        raise StudyFileError(f"{path}: reference: true or false")
    base = path.parent
    return base / doc["cases"], {k: base / v for k, v in systems.items()}, bool(doc.get("reference", False))
