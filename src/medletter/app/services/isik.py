"""An approved letter as an ISiK document: a FHIR DocumentReference with the PDF inside.

gematik ISiK Dokumentenaustausch (stage 4 and later), profile ``ISiKDokumentenMetadaten``
(:data:`PROFILE`, FHIR R4), interaction "Dokumentenbereitstellung": the client POSTs the
DocumentReference with the document embedded (``content.attachment.data``) to
``[base]/DocumentReference``; the server moves the data into a Binary.

Every element the profile requires (1..) and the must-support elements medletter knows are set:

* ``masterIdentifier``: ``urn:ietf:rfc:3986`` / ``urn:oid:2.25.<UUID as integer>`` (an OID made from a
  UUID, as the profile suggests), the same for the same approved version every time it is exported;
  ``identifier``: a second UUID (``urn:uuid:``) for this metadata entry.
* ``status`` current, ``docStatus`` final (only approved versions are exported).
* ``type``: the KDL code (``http://dvmd.de/fhir/CodeSystem/kdl``, :data:`DOC_TYPES` by the case's
  letter type) and the IHE-D XDS type code ``BERI`` "Arztberichte"; ``category``: the IHE-D XDS class
  code ``BRI`` "Brief" (the codes KDL's own mapping gives for its AD0101 "Arztberichte").
* ``subject``: the patient by the hospital's patient number (``identifier``, type MR, system
  :data:`DEFAULT_PATIENT_SYSTEM` unless the department names its own) and, because the profile wants a
  reference, the conditional reference ``Patient?identifier=SYSTEM|VALUE``; sending to a server
  replaces it by the server's ``Patient/ID`` (:mod:`medletter.app.services.fhir_send`).
* ``author``: the approving physician (display: the user name), ``date``: the approval time.
* ``description``: what the document is and its date (no patient data).
* ``securityLabel``: v3-Confidentiality ``N`` "normal" (ISiK requires one of N, R, V).
* ``content``: one attachment (``application/pdf``, the letter's language, the PDF base64, its size and
  SHA-1, ``creation`` = approval time, a title) and ``format``
  ``urn:ihe:iti:xds:2017:mimeTypeSufficient``.
* ``context``: ``facilityType`` KHS "Krankenhaus", ``practiceSetting`` STRA "Strahlentherapie"
  (``http://ihe-d.de/CodeSystems/AerztlicheFachrichtungen``).

:func:`validate` checks the result twice before anything is written: with ``fhir.resources`` (the R4B
models: types, cardinalities and invariants of the base resource) and against the profile's own
requirements listed above (which a base-resource model cannot know). A problem names the resource
(``DocumentReference-<letter id>``) and the field, never a value.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import urllib.parse
import uuid
from dataclasses import dataclass

from medletter.app.services.errors import Invalid

PROFILE = "https://gematik.de/fhir/isik/StructureDefinition/ISiKDokumentenMetadaten"
MEDIA_TYPE = "application/fhir+json"
RFC3986 = "urn:ietf:rfc:3986"
KDL = "http://dvmd.de/fhir/CodeSystem/kdl"
XDS_TYPE = "http://ihe-d.de/CodeSystems/IHEXDStypeCode"
XDS_CLASS = "http://ihe-d.de/CodeSystems/IHEXDSclassCode"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
FORMAT_CODE = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
FACILITY_TYPE = "http://ihe-d.de/CodeSystems/PatientBezogenenGesundheitsversorgung"
PRACTICE_SETTING = "http://ihe-d.de/CodeSystems/AerztlicheFachrichtungen"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
DEFAULT_PATIENT_SYSTEM = "https://fhir.krankenhaus.example/sid/PID"
"""The patient number's system in gematik's ISiK examples; a hospital sets its own
(``MEDLETTER_FHIR_PATIENT_SYSTEM``, ``--patient-system``)."""

# medletter's fixed namespace for the document UUIDs (uuid5 of the approved version's fingerprint)
_NAMESPACE = uuid.UUID("5c1d0f4e-2b7a-4f0e-9a54-6d0e8c1f7a30")


@dataclass(frozen=True)
class DocType:
    kdl_code: str
    kdl_display: str
    title: str


#: KDL class of the letter by ``Case.letter_type``. The end-of-treatment letter goes to the referring
#: physician outside the hospital ("Entlassungsbericht extern"); consultation and follow-up letters are
#: outpatient letters ("Ambulanzbrief"). Both are KDL AD0101 "Arztberichte" -> XDS type BERI, class BRI.
DOC_TYPES: dict[str, DocType] = {
    "end_of_treatment": DocType("AD010104", "Entlassungsbericht extern", "Abschlussbericht Strahlentherapie"),
    "consultation": DocType("AD010111", "Ambulanzbrief", "Arztbrief Strahlentherapie (Vorstellung)"),
    "follow_up": DocType("AD010111", "Ambulanzbrief", "Arztbrief Strahlentherapie (Nachsorge)"),
}
XDS_TYPE_CODING = {"system": XDS_TYPE, "code": "BERI", "display": "Arztberichte"}
XDS_CLASS_CODING = {"system": XDS_CLASS, "code": "BRI", "display": "Brief"}
CONFIDENTIALITY_CODING = {"system": CONFIDENTIALITY, "code": "N", "display": "normal"}
FORMAT_CODING = {"system": FORMAT_CODE, "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient", "display": "mimeType Sufficient"}
FACILITY_CODING = {"system": FACILITY_TYPE, "code": "KHS", "display": "Krankenhaus"}
PRACTICE_CODING = {"system": PRACTICE_SETTING, "code": "STRA", "display": "Strahlentherapie"}


class IsikError(Invalid):
    """The DocumentReference would not be valid; ``errors``: ``DocumentReference-<id>: FIELD: problem``."""


@dataclass(frozen=True)
class LetterDocument:
    """What the DocumentReference says about one approved letter version."""

    letter_id: int
    version: int
    lang: str
    letter_type: str
    letter_date: dt.date
    case_number: str  # the hospital's case number (fingerprint only)
    patient_number: str  # the hospital's patient number (subject.identifier)
    approved_by: str
    approved_at: dt.datetime  # naive UTC, as the database keeps it
    text: str  # the approved text (fingerprint only)

    @property
    def resource_name(self) -> str:
        return resource_name(self.letter_id)


def resource_name(letter_id: int) -> str:
    """How files and messages name a letter's DocumentReference: ``DocumentReference-<letter id>``."""
    return f"DocumentReference-{letter_id}"


def filename(letter_id: int) -> str:
    return resource_name(letter_id) + ".json"


def conditional_patient_reference(system: str, number: str) -> str:
    """``Patient?identifier=SYSTEM|NUMBER`` (URL-encoded), the search that finds the patient on a server."""
    return "Patient?identifier=" + urllib.parse.quote(system, safe=":/") + "|" + urllib.parse.quote(number, safe="")


def _instant(t: dt.datetime) -> str:
    t = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).isoformat(timespec="seconds")


def document_uuids(doc: LetterDocument) -> tuple[uuid.UUID, uuid.UUID]:
    """(document, metadata entry) UUIDs: the same for the same approved version, different for any other."""
    fingerprint = "|".join((doc.case_number, str(doc.letter_id), str(doc.version), _instant(doc.approved_at),
                            hashlib.sha256(doc.text.encode()).hexdigest()))
    return uuid.uuid5(_NAMESPACE, "document|" + fingerprint), uuid.uuid5(_NAMESPACE, "entry|" + fingerprint)


def document_reference(doc: LetterDocument, pdf: bytes, patient_system: str = DEFAULT_PATIENT_SYSTEM) -> dict:
    """The ISiK DocumentReference (a JSON-ready dict) of an approved letter version and its PDF; validated."""
    kind = DOC_TYPES.get(doc.letter_type, DOC_TYPES["end_of_treatment"])
    doc_uuid, entry_uuid = document_uuids(doc)
    when = _instant(doc.approved_at)
    title = f"{kind.title} vom {doc.letter_date:%d.%m.%Y}"
    resource = {
        "resourceType": "DocumentReference",
        "meta": {"profile": [PROFILE]},
        "masterIdentifier": {"system": RFC3986, "value": f"urn:oid:2.25.{doc_uuid.int}"},
        "identifier": [{"use": "official", "system": RFC3986, "value": f"urn:uuid:{entry_uuid}"}],
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": KDL, "code": kind.kdl_code, "display": kind.kdl_display}, dict(XDS_TYPE_CODING)],
                 "text": kind.kdl_display},
        "category": [{"coding": [dict(XDS_CLASS_CODING)]}],
        "subject": {
            "reference": conditional_patient_reference(patient_system, doc.patient_number),
            "type": "Patient",
            "identifier": {"type": {"coding": [{"system": V2_0203, "code": "MR"}]}, "system": patient_system,
                           "value": doc.patient_number},
        },
        "date": when,
        "author": [{"type": "Practitioner", "display": doc.approved_by}],
        "description": title,
        "securityLabel": [{"coding": [dict(CONFIDENTIALITY_CODING)]}],
        "content": [{
            "attachment": {
                "contentType": "application/pdf",
                "language": doc.lang,
                "data": base64.b64encode(pdf).decode("ascii"),
                "size": len(pdf),
                "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),
                "title": f"{title} (Version {doc.version})",
                "creation": when,
            },
            "format": dict(FORMAT_CODING),
        }],
        "context": {"facilityType": {"coding": [dict(FACILITY_CODING)]},
                    "practiceSetting": {"coding": [dict(PRACTICE_CODING)]}},
    }
    validate(resource, doc.resource_name)
    return resource


def to_json(resource: dict) -> bytes:
    return (json.dumps(resource, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# validation


def _codings(value) -> list[dict]:
    if isinstance(value, dict):
        value = [value]
    return [c for cc in value or [] if isinstance(cc, dict) for c in cc.get("coding") or [] if isinstance(c, dict)]


def _has(codings: list[dict], system: str, code: str | None = None, display: bool = True) -> bool:
    return any(c.get("system") == system and c.get("code") and (code is None or c.get("code") == code)
               and (not display or c.get("display")) for c in codings)


def profile_problems(r: dict) -> list[str]:
    """What ISiKDokumentenMetadaten requires (as medletter fills it) and ``r`` lacks: ``FIELD: problem``."""
    mi = r.get("masterIdentifier") or {}
    contents = r.get("content") or []
    att = (contents[0].get("attachment") or {}) if contents and isinstance(contents[0], dict) else {}
    ctx = r.get("context") or {}
    checks = [
        ("meta.profile", PROFILE in ((r.get("meta") or {}).get("profile") or []), f"must name {PROFILE}"),
        ("masterIdentifier.system", mi.get("system") == RFC3986, f"must be {RFC3986}"),
        ("masterIdentifier.value", str(mi.get("value", "")).startswith(("urn:oid:", "urn:uuid:")), "must be a urn:oid: or urn:uuid:"),
        ("status", r.get("status") == "current", "must be current"),
        ("docStatus", r.get("docStatus") == "final", "must be final (approved versions only)"),
        ("type.coding:KDL", _has(_codings(r.get("type")), KDL), "needs a KDL code with display"),
        ("type.coding:XDS", _has(_codings(r.get("type")), XDS_TYPE), "needs an IHE-D XDS type code with display"),
        ("category.coding:XDS", _has(_codings(r.get("category")), XDS_CLASS), "needs an IHE-D XDS class code with display"),
        ("subject.reference", str((r.get("subject") or {}).get("reference", "")).startswith("Patient"), "must refer to a Patient"),
        ("description", bool(r.get("description")), "is required"),
        ("securityLabel", any(c.get("code") in ("N", "R", "V") for c in _codings(r.get("securityLabel"))
                              if c.get("system") == CONFIDENTIALITY), "needs v3-Confidentiality N, R or V"),
        ("content", len(contents) == 1, "must hold exactly one document"),
        ("content.attachment.contentType", bool(att.get("contentType")), "is required"),
        ("content.attachment.language", bool(att.get("language")), "is required"),
        ("content.attachment.data", bool(att.get("data") or att.get("url")), "needs the document (data) or its url"),
        ("content.attachment.creation", bool(att.get("creation")), "is required"),
        ("content.format", bool(contents) and isinstance(contents[0], dict)
         and _has([contents[0].get("format") or {}], FORMAT_CODE, display=False), "needs an IHE format code"),
        ("context.facilityType", _has(_codings(ctx.get("facilityType")), FACILITY_TYPE, display=False), "is required (IHE-D)"),
        ("context.practiceSetting", _has(_codings(ctx.get("practiceSetting")), PRACTICE_SETTING, display=False),
         "is required (IHE-D)"),
    ]
    return [f"{field}: {problem}" for field, ok, problem in checks if not ok]


def model_problems(r: dict) -> list[str]:
    """What the FHIR R4B DocumentReference model (``fhir.resources``) finds wrong: ``FIELD: problem``."""
    from fhir.resources.R4B.documentreference import DocumentReference
    from pydantic import ValidationError

    try:
        DocumentReference.model_validate(r)
    except ValidationError as e:
        out = []
        for err in e.errors(include_input=False, include_url=False):
            field = ".".join(str(p) for p in err.get("loc", ())) or "(resource)"
            out.append(f"{field}: {err.get('msg', 'invalid')}")
        return out
    return []


def validate(resource: dict, name: str = "DocumentReference") -> None:
    """Raise :class:`IsikError` (422) listing every problem, each ``NAME: FIELD: problem``."""
    problems = profile_problems(resource) + model_problems(resource)
    if problems:
        raise IsikError([f"{name}: {p}" for p in problems])
