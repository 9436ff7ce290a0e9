"""Building one case from FHIR resources: the value of each field with where it came from (provenance),
the fields the source lacks (missing, with the reason), values derived from others (marked), and the
helpers both profiles use (codes, extensions, quantities, dates)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from medletter.fhir import codes as C
from medletter.fhir.read import Index, Res

# ---------------------------------------------------------------- small helpers over the R4B models


def codings(cc) -> list:
    return list(getattr(cc, "coding", None) or []) if cc is not None else []


def coding_in(cc, systems) -> object | None:
    systems = (systems,) if isinstance(systems, str) else tuple(systems)
    return next((c for c in codings(cc) if c.system and str(c.system) in systems), None)


def text_of(cc) -> str | None:
    """A CodeableConcept's text, else its first display."""
    if cc is None:
        return None
    if getattr(cc, "text", None):
        return str(cc.text).strip() or None
    return next((str(c.display).strip() for c in codings(cc) if c.display), None)


def exts(obj, *urls: str) -> list:
    return [e for e in (getattr(obj, "extension", None) or []) if str(e.url) in urls]


def ext(obj, *urls: str):
    found = exts(obj, *urls)
    return found[0] if found else None


def ext_ending(obj, suffix: str):
    """An extension whose URL ends with ``suffix`` (profiles renamed theirs between versions)."""
    return next((e for e in (getattr(obj, "extension", None) or []) if str(e.url).endswith(suffix)), None)


def as_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def period(res) -> tuple[dt.date | None, dt.date | None]:
    m = res.model
    p = getattr(m, "performedPeriod", None) or getattr(m, "effectivePeriod", None)
    if p is not None:
        return as_date(p.start), as_date(p.end)
    d = as_date(getattr(m, "performedDateTime", None) or getattr(m, "effectiveDateTime", None))
    return d, d


class Unmapped(Exception):
    """A value the importer cannot map; the message is the reason (field names and codes only)."""


_GY = {"Gy": Decimal(1), "cGy": Decimal("0.01"), "mGy": Decimal("0.001")}


def quantity_gy(q) -> tuple[float, dict]:
    """A dose Quantity in Gy (UCUM Gy, cGy, mGy) and the original (value, unit, system)."""
    if q is None or q.value is None:
        raise Unmapped("no value")
    unit = str(q.code or q.unit or "").strip()
    original = {"value": float(q.value), "unit": unit, "system": str(q.system) if q.system else None}
    if unit not in _GY:
        if unit in ("kBq", "MBq", "GBq"):
            raise Unmapped(f"an activity ({unit}), not a dose in Gy")
        raise Unmapped(f"unit {unit or '(none)'} is not a dose unit (Gy, cGy, mGy)")
    gy = Decimal(str(q.value)) * _GY[unit]
    return float(round(gy, 4)), original


def original_code(c) -> dict | None:
    if c is None:
        return None
    return {"system": str(c.system) if c.system else None, "code": str(c.code) if c.code else None,
            **({"display": str(c.display)} if getattr(c, "display", None) else {})}


def original_cc(cc) -> dict | None:
    cs = [original_code(c) for c in codings(cc)]
    return {"codings": cs} if cs else None


# ---------------------------------------------------------------- the case being built


def _set(d: dict, path: str, value) -> None:
    parts = path.split(".")
    cur = d
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if part.isdigit():
            idx = int(part)
            while len(cur) <= idx:
                cur.append({})
            cur = cur[idx]
        else:
            if part not in cur:
                cur[part] = [] if nxt.isdigit() else {}
            cur = cur[part]
    last = parts[-1]
    if last.isdigit():
        while len(cur) <= int(last):
            cur.append(None)
        cur[int(last)] = value
    else:
        cur[last] = value


@dataclass
class Builder:
    """One case in the making: values with provenance, missing fields with reasons, notes."""

    index: Index
    profile: str
    case: dict = field(default_factory=dict)
    provenance: dict[str, dict] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    unmappable: list[tuple[Res, str]] = field(default_factory=list)

    def put(self, path: str, value, res: Res | list[Res], element: str, original: dict | None = None,
            derived: str | None = None) -> None:
        _set(self.case, path, value)
        srcs = res if isinstance(res, list) else [res]
        for r in srcs:
            self.used.add(r.ref)
        entry = {"resource": "+".join(r.ref for r in srcs), "element": element}
        if derived:
            entry["derived"] = True
            self.derived[path] = derived
        if original is not None:
            entry["original"] = original
        self.provenance[path] = entry
        self.missing.pop(path, None)

    def miss(self, path: str, reason: str, res: Res | None = None) -> None:
        if res is not None:
            self.used.add(res.ref)
        _set(self.case, path, None)
        self.missing[path] = reason

    def default(self, path: str, reason: str) -> None:
        self.defaults[path] = reason

    def unmappable_resource(self, res: Res, reason: str) -> None:
        self.used.add(res.ref)
        self.unmappable.append((res, reason))

    def use(self, res: Res) -> None:
        self.used.add(res.ref)

    def resolve(self, ref) -> Res | None:
        return self.index.resolve(ref)


# ---------------------------------------------------------------- who belongs to whom


def subject_of(res: Res, index: Index) -> Res | None:
    m = res.model
    for name in ("subject", "patient"):
        ref = getattr(m, name, None)
        if ref is not None and getattr(ref, "reference", None):
            target = index.resolve(ref)
            if target is not None and target.type == "Patient":
                return target
    return None


def by_patient(index: Index) -> dict[str, list[Res]]:
    """Every resource with a subject/patient, grouped by that patient's ``Patient/id``."""
    out: dict[str, list[Res]] = {}
    for r in index.resources:
        if r.type == "Patient":
            out.setdefault(r.ref, [])
            continue
        p = subject_of(r, index)
        if p is not None:
            out.setdefault(p.ref, []).append(r)
    return out


def detect_profile(resources: list[Res]) -> str | None:
    """'mii' or 'mcode' from the profiles and extensions the resources carry, or None."""
    urls: set[str] = set()
    for r in resources:
        urls.update(r.profiles)
        urls.update(str(e.url) for e in (getattr(r.model, "extension", None) or []))
    if any(u.startswith(C.MII_ONKO) for u in urls):
        return "mii"
    if any(u.startswith(C.MCODE) or u.startswith(C.CODEX_RT) for u in urls):
        return "mcode"
    return None
