"""Drafting: a job queue in the database and a worker that holds one model.

"Draft letter" adds a ``jobs`` row; the worker (a thread beside the web server, or several
processes on PostgreSQL) claims the oldest queued job with a conditional UPDATE, drafts it with
the same code as ``medletter generate``, checks the draft against the case and stores it as
version 1 of a new letter. A running job writes a heartbeat; one whose worker died (no heartbeat
for ``LEASE``) is queued again, so a restart loses no job.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import datetime as dt
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from medletter.app.i18n import Msg, N_, parse_stored
from medletter.app.labels import STATES
from medletter.app.models import CaseRow, Job, utcnow
from medletter.app.services import audit
from medletter.app.services.auth import Principal
from medletter.app.services.errors import Conflict, Incomplete, NotFound
from medletter.app.services.review import create_letter, draft_end
from medletter.generate import Draft
from medletter.generate.settings import GenSettings
from medletter.records import Case, Record

log = logging.getLogger("medletter.app.worker")
DRAFT_ROLES = ("physician",)
LEASE = dt.timedelta(seconds=120)


# ---------------------------------------------------------------- the generator


class Generator:
    """One model in memory, loaded once (on first use, in the worker thread)."""

    name = "generator"

    def draft(self, case: Case, on_token=None) -> Draft:  # pragma: no cover - interface
        raise NotImplementedError


class RunGenerator(Generator):
    """The fine-tuned model of a training run (``runs/NAME``), with the run's style and language, on the
    chosen backend (hf, llamacpp, openai: ``medletter.generate.backends.make_backend``)."""

    def __init__(self, run: str | Path, style: str | None = None, lang: str | None = None,
                 max_new_tokens: int = GenSettings.max_new_tokens,
                 backend: str = "hf", endpoint: str | None = None, model: str | None = None, grounding: str = GenSettings.grounding):
        from medletter.generate import run_config

        self.run = Path(run)
        cfg = run_config(self.run)
        self.style = style or cfg.get("style") or cfg.get("train_style") or "default"
        self.lang = lang or cfg.get("lang") or "de"
        self.max_new_tokens = max_new_tokens
        self.grounding = grounding
        self.backend_kind, self.endpoint, self.model = backend, endpoint, model
        self.name = self.run.name
        self._backend = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._backend is None:
                from medletter.generate.backends import make_backend

                t0 = time.perf_counter()
                self._backend = make_backend(self.backend_kind, self.run, style=self.style, lang=self.lang,
                                             settings=GenSettings(max_new_tokens=self.max_new_tokens, batch_size=1,
                                                                  grounding=self.grounding),
                                             endpoint=self.endpoint, model=self.model)
                log.info("model of run %s loaded in %.1f s (backend %s)", self.name, time.perf_counter() - t0,
                         self._backend.name)

    def draft(self, case: Case, on_token=None) -> Draft:
        self.load()
        return self._backend.draft([Record(case=case)], on_token=on_token)[0]


# ---------------------------------------------------------------- jobs (what the pages and the API call)


def queue_draft(s: Session, who: Principal, case_id: int) -> Job:
    who.require(*DRAFT_ROLES)
    row = s.get(CaseRow, case_id)
    if row is None:
        raise NotFound(Msg("no case %(id)s", id=case_id))
    if row.incomplete:
        missing = Case.model_validate_json(row.data).missing
        if missing:
            raise Incomplete(case_id, missing)
    job = Job(case_id=case_id, requested_by=who.id, status="queued")
    s.add(job)
    s.flush()
    audit.record(s, who, "draft_request", "case", case_id, f"job={job.id}")
    return job


def get_job(s: Session, who: Principal, job_id: int) -> Job:
    who.require(*DRAFT_ROLES)
    job = s.get(Job, job_id)
    if job is None:
        raise NotFound(Msg("no job %(job)s", job=job_id))
    return job


def retry(s: Session, who: Principal, job_id: int) -> Job:
    job = get_job(s, who, job_id)
    if job.status != "failed":
        raise Conflict(Msg("job %(job)s is %(status)s; only a failed job can be retried", job=job_id,
                           status=Msg(STATES[job.status]) if job.status in STATES else job.status))
    job.status, job.error, job.progress_tokens, job.finished_at = "queued", None, 0, None
    audit.record(s, who, "draft_retry", "case", job.case_id, f"job={job.id}")
    return job


def jobs_for_case(s: Session, who: Principal, case_id: int) -> list[Job]:
    who.require(*DRAFT_ROLES)
    return list(s.scalars(select(Job).where(Job.case_id == case_id).order_by(Job.id.desc()).limit(20)))


def queue_position(s: Session, job: Job) -> int:
    """How many queued or running jobs are ahead of this one."""
    if job.status != "queued":
        return 0
    return len(list(s.scalars(select(Job.id).where(Job.status.in_(("queued", "running")), Job.id < job.id))))


def job_json(job: Job) -> dict:
    return {"id": job.id, "case_id": job.case_id, "status": job.status, "letter_id": job.letter_id, "error": job.error,
            "progress_tokens": job.progress_tokens, "attempts": job.attempts,
            "created_at": job.created_at.isoformat(timespec="seconds") + "Z"}


# ---------------------------------------------------------------- the worker


JOB_ERRORS = (
    N_("the model could not be loaded: %(reason)s"),
    N_("out of memory while drafting; try again later or ask IT to check the server"),
    N_("drafting failed (%(kind)s); the job can be retried. If it fails again, ask IT to check the server log."),
)
"""What a failed job's ``error`` says (stored in English, as the API gives it; the job page translates it)."""


def _error_message(e: BaseException) -> str:
    """What the physician sees: the kind of failure, never patient data (no record values)."""
    if isinstance(e, FileNotFoundError):
        return Msg(JOB_ERRORS[0], reason=str(e))[:500]
    if isinstance(e, MemoryError):
        return Msg(JOB_ERRORS[1])
    return Msg(JOB_ERRORS[2], kind=type(e).__name__)


def job_error(job: Job) -> Msg | str | None:
    """A failed job's error as a message the page can translate (its stored text where it has another form)."""
    return parse_stored(job.error, JOB_ERRORS)


class Worker:
    """Claims queued jobs in order and drafts them, one at a time, in a background thread."""

    def __init__(self, db, generator: Generator, poll_s: float = 0.5):
        self.db, self.gen, self.poll_s = db, generator, poll_s
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="medletter-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        try:  # load the model before the first job arrives; a failure shows on the job instead
            if hasattr(self.gen, "load"):
                self.gen.load()
        except Exception as e:  # noqa: BLE001
            log.error("model could not be loaded (%s); jobs will fail until it can", type(e).__name__)
        while not self._stop.is_set():
            try:
                did = self.run_once()
            except Exception:  # noqa: BLE001 - the worker must survive database hiccups
                log.exception("worker loop error")
                did = False
            if not did:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def requeue_stale(self, s: Session) -> int:
        res = s.execute(update(Job).where(Job.status == "running", Job.heartbeat_at < utcnow() - LEASE)
                        .values(status="queued", worker=None).execution_options(synchronize_session=False))
        return res.rowcount or 0

    def claim(self) -> int | None:
        with self.db.session() as s:
            self.requeue_stale(s)
            for job_id in s.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(5)):
                now = utcnow()
                res = s.execute(update(Job).where(Job.id == job_id, Job.status == "queued")
                                .values(status="running", worker=self.name, started_at=now, heartbeat_at=now,
                                        attempts=Job.attempts + 1, progress_tokens=0)
                                .execution_options(synchronize_session=False))
                if res.rowcount == 1:
                    return job_id
        return None

    def run_once(self) -> bool:
        """Draft the oldest queued job, if any; returns whether there was one."""
        job_id = self.claim()
        if job_id is None:
            return False
        with self.db.session() as s:
            job = s.get(Job, job_id)
            case_row = s.get(CaseRow, job.case_id)
            case = Case.model_validate_json(case_row.data)
        last = [0.0]

        def on_token(n: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5:
                last[0] = now
                with self.db.session() as s2:
                    s2.execute(update(Job).where(Job.id == job_id).values(progress_tokens=n, heartbeat_at=utcnow()))

        t0 = time.perf_counter()
        try:
            if case.missing:  # queued before a change? never draft from an incomplete case
                raise RuntimeError(f"the case is incomplete ({len(case.missing)} field(s) missing); complete it first")
            d = self.gen.draft(case, on_token=on_token)
            text = d.text
            if not text.strip():
                raise ValueError("the model wrote an empty letter")
        except Exception as e:  # noqa: BLE001
            log.warning("job %s failed after %.1f s: %s", job_id, time.perf_counter() - t0, type(e).__name__)
            with self.db.session() as s:
                s.execute(update(Job).where(Job.id == job_id).values(status="failed", error=str(_error_message(e)), finished_at=utcnow()))
            return True
        with self.db.session() as s:
            job = s.get(Job, job_id)
            case_row = s.get(CaseRow, job.case_id)
            style, lang = getattr(self.gen, "style", "default"), getattr(self.gen, "lang", "de")
            lt = create_letter(s, case_row, text, style, lang, self.gen.name, job.requested_by, draft_end(d),
                               grounding=getattr(d, "grounding", None))
            job.status, job.letter_id, job.finished_at, job.error = "done", lt.id, utcnow(), None
            audit.record(s, None, "draft_done", "letter", lt.id,
                         f"job={job_id} seconds={time.perf_counter() - t0:.1f} tokens={d.new_tokens} end={lt.draft_end}")
        log.info("job %s done in %.1f s", job_id, time.perf_counter() - t0)
        return True
