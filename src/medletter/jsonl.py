"""Reading and writing JSONL files of records, with errors that name file, line and field.

Every command that reads records goes through :func:`read_records`. A bad line is reported as
``FILE:LINE: FIELD: problem``; all bad lines are collected, not just the first. Messages never
contain the offending value (it may be patient data).

Writing goes through :func:`atomic_writer`, so that a failed run leaves nothing half-written and
an existing output file is only replaced once the new one is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from medletter.records import FieldProblem, Record

M = TypeVar("M", bound=BaseModel)

_PYDANTIC_PROBLEMS = {
    "missing": "missing",
    "extra_forbidden": "unknown field",
}


@dataclass(frozen=True)
class LineError:
    path: str
    line: int | None
    field: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.field}: {self.problem}"


class RecordsError(Exception):
    """One or more lines of an input file are bad; ``errors`` lists them all."""

    def __init__(self, errors: list[LineError]):
        self.errors = errors
        head = "\n".join(str(e) for e in errors[:50])
        more = f"\n… and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(head + more)


@dataclass
class ReadResult(Generic[M]):
    path: str
    good: list[tuple[int, M]]
    """(line number, record) of every good line."""
    errors: list[LineError]
    bad_lines: dict[int, str]
    """Raw text of each bad line, for a rejects file (never printed)."""

    @property
    def records(self) -> list[M]:
        return [r for _, r in self.good]


def _loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) if loc else "(record)"


def validation_errors(path: str, line: int | None, exc: ValidationError) -> list[LineError]:
    """Turn a pydantic error into our messages: field path and problem, never the input value."""
    out = []
    for err in exc.errors(include_input=False, include_url=False, include_context=True):
        field = _loc(err["loc"])
        problem = _PYDANTIC_PROBLEMS.get(err["type"], err["msg"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblem):
            field = f"{field}.{cause.field}" if err["loc"] else cause.field
            problem = cause.problem
        elif problem.startswith("Value error, "):
            problem = problem[len("Value error, ") :]
        out.append(LineError(path, line, field, problem))
    return out


def read_records(path: str | os.PathLike, model: type[M] = Record, allow_incomplete: bool = False) -> ReadResult[M]:  # type: ignore[assignment]
    """Read and validate every line of a JSONL file. Raises nothing for bad lines; see ``errors``.

    An incomplete case (one that lists fields in ``case.missing``, as ``medletter import fhir`` writes
    it) is a bad line unless ``allow_incomplete``: nothing may train on or draft from it.
    Raises :class:`RecordsError` only for problems with the file as a whole (missing, empty).
    """
    p = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise RecordsError([LineError(p, None, "(file)", "no such file")]) from None
    except IsADirectoryError:
        raise RecordsError([LineError(p, None, "(file)", "is a directory, not a JSONL file")]) from None
    except PermissionError:
        raise RecordsError([LineError(p, None, "(file)", "permission denied")]) from None
    return parse_records(raw, p, model, allow_incomplete=allow_incomplete)


def incomplete_error(path: str, line: int | None, missing: list[str]) -> LineError:
    shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    return LineError(path, line, "case.missing", f"the case is incomplete ({len(missing)} field(s) missing: {shown}); "
                     "complete it first (the review app's case page, or fill them in the file)")


def parse_records(raw: bytes, name: str, model: type[M] = Record, ignore: tuple[str, ...] = (),  # type: ignore[assignment]
                  allow_incomplete: bool = False) -> ReadResult[M]:
    """Validate every line of JSONL bytes (a file's or an upload's, called ``name`` in errors).

    Top-level fields named in ``ignore`` are dropped before validation (an import of cases ignores
    a reference letter). An incomplete case is a bad line unless ``allow_incomplete``.
    Raises :class:`RecordsError` only when there is no record at all.
    """
    p = name
    good: list[tuple[int, M]] = []
    errors: list[LineError] = []
    bad: dict[int, str] = {}
    n_nonblank = 0
    for lineno, bline in enumerate(raw.split(b"\n"), start=1):
        if not bline.strip():
            continue
        n_nonblank += 1
        try:
            text = bline.decode("utf-8")
        except UnicodeDecodeError as e:
            errors.append(LineError(p, lineno, "(line)", f"not UTF-8 text (bad byte at column {e.start + 1})"))
            bad[lineno] = bline.decode("utf-8", errors="replace")
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            errors.append(LineError(p, lineno, "(json)", f"invalid JSON: {e.msg} at column {e.colno}"))
            bad[lineno] = text
            continue
        if not isinstance(obj, dict):
            errors.append(LineError(p, lineno, "(json)", f"expected a JSON object, got {type(obj).__name__}"))
            bad[lineno] = text
            continue
        for k in ignore:
            obj.pop(k, None)
        try:
            rec = model.model_validate(obj)
        except ValidationError as e:
            errors.extend(validation_errors(p, lineno, e))
            bad[lineno] = text
            continue
        case = getattr(rec, "case", None)
        if not allow_incomplete and case is not None and getattr(case, "missing", None):
            errors.append(incomplete_error(p, lineno, case.missing))
            bad[lineno] = text
            continue
        good.append((lineno, rec))
    if n_nonblank == 0:
        raise RecordsError([LineError(p, None, "(file)", "is empty: no records")])
    return ReadResult(p, good, errors, bad)


def load_records(
    path: str | os.PathLike,
    model: type[M] = Record,  # type: ignore[assignment]
    skip_invalid: bool = False,
    rejects: str | os.PathLike | None = None,
) -> list[M]:
    """Read a file for a command that processes records.

    Without ``skip_invalid`` any bad line raises :class:`RecordsError` (listing all of them) before
    the caller has written anything. With it, good lines are returned and bad ones are written
    verbatim to ``rejects`` (default ``FILE.rejects.jsonl``) with their errors.
    """
    res = read_records(path, model)
    if res.errors and not skip_invalid:
        raise RecordsError(res.errors)
    if res.errors:
        rej = Path(rejects) if rejects else Path(str(path) + ".rejects.jsonl")
        by_line: dict[int, list[str]] = {}
        for e in res.errors:
            by_line.setdefault(e.line or 0, []).append(f"{e.field}: {e.problem}")
        with atomic_writer(rej) as f:
            for line, text in sorted(res.bad_lines.items()):
                f.write(json.dumps({"line": line, "errors": by_line.get(line, []), "raw": text}, ensure_ascii=False) + "\n")
    return res.records


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and move it into place only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_jsonl(path: str | os.PathLike, rows) -> int:
    """Write dicts or pydantic models as JSONL atomically; returns the number of rows."""
    n = 0
    with atomic_writer(path) as f:
        for r in rows:
            if isinstance(r, BaseModel):
                f.write(r.model_dump_json(exclude_none=False) + "\n")
            else:
                f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
            n += 1
    return n


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Plain JSONL of dicts (outputs of our own commands); errors name file and line."""
    out = []
    p = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise RecordsError([LineError(p, None, "(file)", "no such file")]) from None
    except UnicodeDecodeError as e:
        raise RecordsError([LineError(p, None, "(file)", f"not UTF-8 text (bad byte at offset {e.start})")]) from None
    errors = []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            errors.append(LineError(p, i, "(json)", f"invalid JSON: {e.msg} at column {e.colno}"))
    if errors:
        raise RecordsError(errors)
    return out
