"""`medletter export fhir`: approved letters as ISiK DocumentReferences, to files and optionally a FHIR server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from medletter.app.cli import DEFAULT_DB, DbOption, _database, _fail, console
from medletter.app.services.isik import DEFAULT_PATIENT_SYSTEM


def export_fhir(
    out: Annotated[Path, typer.Option("--out", help="Folder for the DocumentReference-<id>.json files (made if missing)")],
    letter: Annotated[Optional[int], typer.Option("--letter", min=1, help="The letter to export (its newest version must be approved)")] = None,
    approved: Annotated[bool, typer.Option("--approved", help="Every letter whose newest version is approved")] = False,
    server: Annotated[Optional[str], typer.Option("--server", help="Also POST each to this FHIR server: BASE/DocumentReference, BASE the URL given; the answer goes into the audit trail")] = None,
    server_token: Annotated[Optional[str], typer.Option("--server-token", envvar="MEDLETTER_FHIR_SERVER_TOKEN", show_default=False,
                                                        help="Bearer token for --server (better: the environment variable)")] = None,
    patient_system: Annotated[str, typer.Option("--patient-system", envvar="MEDLETTER_FHIR_PATIENT_SYSTEM",
                                                help="System of the hospital's patient numbers (subject.identifier)")] = DEFAULT_PATIENT_SYSTEM,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for the server")] = 30.0,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write approved letters as ISiK FHIR DocumentReferences (gematik ISiKDokumentenMetadaten, the PDF inside).

    One file per letter, OUT/DocumentReference-<letter id>.json, written atomically; every letter is built
    and validated (fhir.resources and the ISiK profile's requirements) before the first file is written.
    A letter whose newest version is not approved is refused. With --server each is then POSTed to
    BASE/DocumentReference (its patient first looked up on the server by the patient number); every
    answer, and every failure, is recorded in the app's audit trail; the first failure stops the sending
    (exit code 1; the files stay). The offline guard lets through the --server host and no other."""
    from medletter.app.services import fhir_send, isik, review
    from medletter.app.services.auth import Principal
    from medletter.app.services.errors import Invalid, ServiceError
    from medletter.jsonl import atomic_writer

    if (letter is None) == (not approved):
        _fail("give either --letter ID or --approved", 2)
    base = None
    if server is not None:
        try:
            base = fhir_send.check_server_url(server)
        except ValueError as e:
            _fail(str(e), 2)
    who = Principal.system("physician")  # the command acts on the server with a physician's right to export
    database = _database(db)
    built: list[tuple[int, int, dict]] = []
    try:
        with database.session() as s:
            ids = [letter] if letter is not None else review.approved_letter_ids(s, who)
            for letter_id in ids:
                resource, version = review.export_fhir(s, who, letter_id, patient_system)
                built.append((letter_id, version, resource))
            for letter_id, _version, resource in built:  # all built and valid: now write
                with atomic_writer(out / isik.filename(letter_id), "wb") as f:
                    f.write(isik.to_json(resource))
    except Invalid as e:
        for err in e.errors:
            console.print(err, highlight=False, markup=False)
        _fail(f"{len(e.errors)} problem(s); nothing was written")
    except ServiceError as e:  # not found, not approved (409)
        _fail(f"{e}; nothing was written")
    except OSError as e:
        _fail(f"{out}: {e.strerror or e}")
    if not built:
        console.print("no approved letters: nothing to export", highlight=False)
        return
    console.print(f"wrote {len(built)} DocumentReference(s) to {out}", highlight=False)
    if base is not None:
        _send(database, who, base, built, server_token, timeout)


def _send(database, who, base: str, built: list[tuple[int, int, dict]], token: str | None, timeout: float) -> None:
    import urllib.parse

    import httpx

    from medletter.app.services import fhir_send
    from medletter.privacy import guard

    label = fhir_send.server_label(base)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with guard.allowing(urllib.parse.urlsplit(base).hostname or ""), \
            httpx.Client(timeout=timeout, headers=headers, follow_redirects=False) as client:
        for n, (letter_id, version, resource) in enumerate(built):
            with database.session() as s:
                answer = fhir_send.send(s, who, letter_id, version, resource, base, client)
            if not answer.ok:
                _fail(f"letter {letter_id}: not sent to {label}: {answer.problem} (recorded in the audit trail); "
                      f"{n} of {len(built)} sent before it, the rest not sent")
            console.print(f"letter {letter_id} (version {version}) -> {label}: {answer.status}, DocumentReference/"
                          f"{answer.resource_id or '?'}", highlight=False)
