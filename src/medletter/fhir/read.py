"""Reading FHIR R4 input: Bundles (JSON) and Bulk Data NDJSON, validated with ``fhir.resources`` (R4B models).

Every problem is collected, not just the first, and named by file, resource (``Procedure/rt-1``, or the
entry or line where a resource has no id), element and problem; never by value (it may be patient data).
Any problem stops the import before anything is written.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

SUFFIXES = (".json", ".ndjson", ".jsonl")


@dataclass(frozen=True)
class Problem:
    source: str
    resource: str
    element: str
    problem: str

    def __str__(self) -> str:
        return f"{self.source}: {self.resource}: {self.element}: {self.problem}"


class FhirInputError(Exception):
    """The input is not valid FHIR R4; ``problems`` lists every one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        head = "\n".join(str(p) for p in problems[:50])
        super().__init__(head + (f"\n… and {len(problems) - 50} more" if len(problems) > 50 else ""))


@dataclass
class Res:
    """One resource read: the validated model, its ``Type/id``, where it came from."""

    model: object
    type: str
    id: str | None
    source: str
    full_url: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.type}/{self.id}" if self.id else f"{self.type}/(no id)"

    @property
    def profiles(self) -> list[str]:
        meta = getattr(self.model, "meta", None)
        return [str(p).split("|")[0] for p in (getattr(meta, "profile", None) or [])]

    def has_profile(self, *urls: str) -> bool:
        return any(p in urls for p in self.profiles)


@dataclass
class Index:
    """All resources read, with reference resolution (``Type/id``, ``fullUrl``, absolute URLs)."""

    resources: list[Res] = field(default_factory=list)
    by_type: dict[str, list[Res]] = field(default_factory=lambda: defaultdict(list))
    by_key: dict[str, Res] = field(default_factory=dict)

    def add(self, r: Res) -> None:
        """Add a resource; the same ``Type/id`` twice (a bundle and an export of it) resolves to the first."""
        self.resources.append(r)
        self.by_type[r.type].append(r)
        if r.id:
            self.by_key.setdefault(f"{r.type}/{r.id}", r)
        if r.full_url:
            self.by_key.setdefault(r.full_url, r)

    def resolve(self, ref) -> Res | None:
        """A Reference (model) or reference string to the resource it names, if it is in the input."""
        s = getattr(ref, "reference", ref)
        if not s:
            return None
        s = str(s)
        if s in self.by_key:
            return self.by_key[s]
        parts = s.rstrip("/").split("/")
        if len(parts) >= 2:
            if parts[-2] == "_history" and len(parts) >= 4:
                parts = parts[:-2]
            return self.by_key.get(f"{parts[-2]}/{parts[-1]}")
        return None

    def of_type(self, *types: str) -> list[Res]:
        return [r for t in types for r in self.by_type.get(t, [])]


def _pydantic_problems(source: str, where: str, exc: ValidationError, skip: int = 0) -> list[Problem]:
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = [str(x) for x in err["loc"][skip:]]
        element = ".".join(loc) if loc else "(resource)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown element"
        elif err["type"] == "missing":
            msg = "missing (required)"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        out.append(Problem(source, where, element, msg))
    return out


def _where(obj, fallback: str) -> str:
    if isinstance(obj, dict):
        rt = obj.get("resourceType")
        rid = obj.get("id")
        if isinstance(rt, str) and isinstance(rid, str) and rid:
            return f"{rt}/{rid}"
        if isinstance(rt, str):
            return f"{fallback} ({rt})"
    return fallback


def _resource(obj: dict, source: str, where: str, full_url: str | None = None) -> tuple[Res | None, list[Problem]]:
    rt = obj.get("resourceType")
    if not isinstance(rt, str) or not rt:
        return None, [Problem(source, where, "resourceType", "missing: not a FHIR resource")]
    try:
        cls = get_fhir_model_class(rt)
    except (KeyError, ValueError):
        return None, [Problem(source, where, "resourceType", "not a FHIR R4 resource type")]
    try:
        model = cls.model_validate(obj)
    except ValidationError as e:
        return None, _pydantic_problems(source, where, e)
    return Res(model, rt, obj.get("id") if isinstance(obj.get("id"), str) else None, source, full_url), []


def parse_bundle(obj: dict, source: str) -> tuple[list[Res], list[Problem]]:
    """A Bundle's entries (each validated as its own type), or a single resource."""
    if obj.get("resourceType") != "Bundle":
        r, probs = _resource(obj, source, _where(obj, "(resource)"))
        return ([r] if r else []), probs
    problems: list[Problem] = []
    entries = obj.get("entry") or []
    if not isinstance(entries, list):
        return [], [Problem(source, _where(obj, "Bundle"), "entry", "is not a list")]
    shell = {k: v for k, v in obj.items() if k != "entry"}
    try:
        Bundle.model_validate({**shell, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries if isinstance(e, dict)]})
    except ValidationError as e:
        problems += _pydantic_problems(source, _where(obj, "Bundle"), e)
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("resource"), dict):
            if not (isinstance(e, dict) and "request" in e and e.get("request", {}).get("method") == "DELETE"):
                problems.append(Problem(source, f"entry[{i}]", "resource", "missing or not an object"))
            continue
        res = e["resource"]
        r, probs = _resource(res, source, _where(res, f"entry[{i}]"), e.get("fullUrl") if isinstance(e.get("fullUrl"), str) else None)
        problems += probs
        if r:
            out.append(r)
    return out, problems


def parse_bytes(raw: bytes, name: str) -> tuple[list[Res], list[Problem]]:
    """A Bundle or resource (JSON), or NDJSON (one resource a line), told apart by content."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return [], [Problem(name, "(file)", "(bytes)", f"not UTF-8 text (bad byte at offset {e.start})")]
    if not text.strip():
        return [], [Problem(name, "(file)", "(file)", "is empty")]
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        obj = None
    if isinstance(obj, dict):
        return parse_bundle(obj, name)
    if obj is not None:
        return [], [Problem(name, "(file)", "(json)", f"expected a Bundle or a resource object, got {type(obj).__name__}")]
    out, problems = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(Problem(name, f"line {lineno}", "(json)", f"invalid JSON: {e.msg} at column {e.colno}"))
            continue
        if not isinstance(item, dict):
            problems.append(Problem(name, f"line {lineno}", "(json)", "expected a resource object"))
            continue
        if item.get("resourceType") == "Bundle":
            rs, probs = parse_bundle(item, f"{name}:{lineno}")
        else:
            r, probs = _resource(item, name, _where(item, f"line {lineno}"))
            rs = [r] if r else []
        out += rs
        problems += probs
    return out, problems


def input_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise FhirInputError([Problem(str(path), "(folder)", "(files)", "has no .json or .ndjson file")])
        return files
    if not path.exists():
        raise FhirInputError([Problem(str(path), "(file)", "(file)", "no such file or folder")])
    return [path]


def read_index(paths: list[Path] | Path, raw: dict[str, bytes] | None = None) -> Index:
    """Every resource of the files (a folder: its .json/.ndjson files) or of named bytes; raises
    :class:`FhirInputError` listing every problem, so that a caller writes nothing."""
    idx = Index()
    problems: list[Problem] = []
    items: list[tuple[str, bytes]] = list((raw or {}).items())
    for p in ([paths] if isinstance(paths, Path) else paths):
        for f in input_files(p):
            try:
                items.append((str(f), f.read_bytes()))
            except OSError as e:
                problems.append(Problem(str(f), "(file)", "(file)", f"cannot be read ({e.strerror})"))
    for name, data in items:
        rs, probs = parse_bytes(data, name)
        problems += probs
        for r in rs:
            idx.add(r)
    if problems:
        raise FhirInputError(problems)
    return idx
