"""Send an ISiK DocumentReference to the hospital's FHIR server; the answer goes into the audit trail.

ISiK "Dokumentenbereitstellung": ``POST [base]/DocumentReference`` with ``Content-Type:
application/fhir+json``. The profile wants ``subject.reference`` to be the patient's URL on that server,
so the conditional reference of the exported file (``Patient?identifier=SYSTEM|VALUE``) is resolved
first with a search (``GET [base]/Patient?identifier=SYSTEM|VALUE``, exactly one match) and replaced by
``Patient/ID``. Every try is one audit event ``letter_fhir_post`` whose detail holds the version, the
server (without credentials or query), and the answer: HTTP status, the id and version id from
``Location`` (or the body), or why it failed (status and the OperationOutcome's issue codes, or the
connection error). Neither the audit trail nor an error message carries the server's diagnostics text
(a server may quote the resource, i.e. patient data) or the patient number.
"""

from __future__ import annotations

import copy
import re
import urllib.parse
from dataclasses import dataclass

from sqlalchemy.orm import Session

from medletter.app.services import audit
from medletter.app.services.isik import MEDIA_TYPE

_LOCATION = re.compile(r"(?:^|/)DocumentReference/([A-Za-z0-9.\-]{1,64})(?:/_history/([A-Za-z0-9.\-]{1,64}))?")
_ID = re.compile(r"^[A-Za-z0-9.\-]{1,64}$")


@dataclass
class Answer:
    ok: bool
    status: int | None = None
    """The HTTP status of the POST (or of the patient search that failed); None: no answer."""
    resource_id: str | None = None
    version_id: str | None = None
    problem: str | None = None
    """Why it failed, without patient data."""

    def summary(self) -> str:
        if self.ok:
            return f"status={self.status} id={self.resource_id or '?'}" + (f" vid={self.version_id}" if self.version_id else "")
        return (f"status={self.status} " if self.status is not None else "") + f"error={self.problem}"


def check_server_url(url: str) -> str:
    """The base URL without a trailing slash; ValueError if it is not http(s)://HOST[:PORT][/PATH]."""
    u = urllib.parse.urlsplit(url.strip())
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError("--server must be the FHIR server's base URL, http(s)://HOST[:PORT]/PATH")
    if u.query or u.fragment:
        raise ValueError("--server must be a base URL without ?query or #fragment")
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path.rstrip("/"), "", ""))


def server_label(url: str) -> str:
    """scheme://host[:port]/path: what the audit trail and messages say about a server (no credentials)."""
    u = urllib.parse.urlsplit(url)
    host = u.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    return f"{u.scheme}://{host}{f':{u.port}' if u.port else ''}{u.path}"


def _issues(response) -> str:
    """``severity/code`` of an OperationOutcome's issues (never their diagnostics text)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return ""
    codes = [f"{i.get('severity', '?')}/{i.get('code', '?')}" for i in body.get("issue") or [] if isinstance(i, dict)]
    return ", ".join(codes[:5])


def _failed(response, what: str) -> Answer:
    issues = _issues(response)
    return Answer(False, response.status_code, problem=f"{what} answered {response.status_code}" + (f" ({issues})" if issues else ""))


def resolve_patient(client, base: str, reference: str) -> tuple[str | None, Answer | None]:
    """``Patient?identifier=…`` -> (``Patient/ID``, None), or (None, the failed Answer)."""
    query = reference.split("?", 1)[1]
    r = client.get(f"{base}/Patient", params=urllib.parse.parse_qs(query), headers={"Accept": MEDIA_TYPE})
    if r.status_code != 200:
        return None, _failed(r, "the patient search")
    try:
        bundle = r.json()
    except ValueError:
        return None, Answer(False, r.status_code, problem="the patient search answered no JSON")
    ids = [e["resource"]["id"] for e in bundle.get("entry") or []
           if isinstance(e, dict) and isinstance(e.get("resource"), dict) and e["resource"].get("resourceType") == "Patient"
           and isinstance(e["resource"].get("id"), str)]
    if len(ids) != 1 or not _ID.match(ids[0]):
        return None, Answer(False, r.status_code, problem=f"the server has {len(ids)} patients with this patient number, not 1")
    return f"Patient/{ids[0]}", None


def post(client, base: str, resource: dict) -> Answer:
    """POST [base]/DocumentReference; a 2xx answer is ok (id and version id from Location or the body)."""
    import json

    body = json.dumps(resource, ensure_ascii=False).encode("utf-8")
    r = client.post(f"{base}/DocumentReference", content=body,
                    headers={"Content-Type": f"{MEDIA_TYPE}; charset=utf-8", "Accept": MEDIA_TYPE, "Prefer": "return=minimal"})
    if not 200 <= r.status_code < 300:
        return _failed(r, "the server")
    rid = vid = None
    if m := _LOCATION.search(r.headers.get("location") or r.headers.get("content-location") or ""):
        rid, vid = m.group(1), m.group(2)
    if rid is None:
        try:
            got = r.json()
        except ValueError:
            got = None
        if isinstance(got, dict) and isinstance(got.get("id"), str) and _ID.match(got["id"]):
            rid = got["id"]
            vid = (got.get("meta") or {}).get("versionId") if isinstance(got.get("meta"), dict) else None
            vid = vid if isinstance(vid, str) and _ID.match(vid) else None
    return Answer(True, r.status_code, rid, vid)


def send(s: Session, who, letter_id: int, version: int, resource: dict, base: str, client) -> Answer:
    """Resolve the patient, POST the DocumentReference, and record the answer (ok or not) in the audit trail."""
    import httpx

    resource = copy.deepcopy(resource)
    answer: Answer | None = None
    try:
        ref = str((resource.get("subject") or {}).get("reference", ""))
        if ref.startswith("Patient?"):
            found, answer = resolve_patient(client, base, ref)
            if found:
                resource["subject"]["reference"] = found
        if answer is None:
            answer = post(client, base, resource)
    except (httpx.HTTPError, OSError) as e:
        answer = Answer(False, problem=f"no answer from the server ({type(e).__name__})")
    audit.record(s, who, "letter_fhir_post", "letter", letter_id, f"version={version} server={server_label(base)} {answer.summary()}")
    return answer
