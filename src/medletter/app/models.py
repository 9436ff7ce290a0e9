"""Tables only; the rules that use them live in services/.

Times are naive UTC (the same on SQLite and PostgreSQL). A letter is a chain of immutable
versions; ``letters.version`` is the newest one and is advanced by a conditional UPDATE, so a save
based on a stale version changes nothing (see services/review.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medletter.app.db import Base

ROLES = ("physician", "rater", "admin")
JOB_STATES = ("queued", "running", "done", "failed")
LETTER_STATES = ("draft", "approved")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    lang: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """Language of the pages (and of the API's prose) for this user: "de" or "en"; None: the app's default."""


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the token (tokens are 256-bit random, so a fast hash is enough)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(Base):
    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of the session cookie's value; the cookie itself is never stored."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    """The hospital's case number (``case.case_id`` of the record)."""
    search_text: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)
    """The case record as JSON (``medletter.records.Case``)."""
    content_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the case as imported (a completed case keeps it: importing the same file again is a no-op)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    incomplete: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """The case lists missing fields (``Case.missing``): nothing drafts it until a physician completes it."""


class Letter(Base):
    __tablename__ = "letters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    style: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8))
    model: Mapped[str] = mapped_column(String(255))
    """The run (or model) that wrote the first draft."""
    draft_end: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """How the model's draft (version 1) ended: "model" (the model ended the letter), "length" (cut at the token
    limit: the end may be missing), "loop" (cut because it had begun to repeat itself: medletter.generate.loops);
    None for letters drafted before this was recorded."""
    grounding: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The model draft's grounding record (JSON: medletter.generate.Draft.grounding): the numbers the gate held to
    the case, with what the model wanted and what it wrote; None when the draft was written without it."""
    approved_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LetterVersion(Base):
    __tablename__ = "letter_versions"
    __table_args__ = (UniqueConstraint("letter_id", "version", name="uq_letter_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"))
    version: Mapped[int] = mapped_column(Integer)
    based_on: Mapped[int | None] = mapped_column(Integer, nullable=True)
    origin: Mapped[str] = mapped_column(String(16))
    """"model" (a draft of the worker) or "edit" (a physician's save)."""
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    facts: Mapped[str] = mapped_column(Text)
    """Fact report of this text against the case, JSON."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress_tokens: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_at", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    user_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(255), default="")
    """Never patient data: counts, versions, formats, reasons."""


# ---------------------------------------------------------------- rating studies (blinded)


STUDY_STATES = ("open", "closed")


class Study(Base):
    __tablename__ = "studies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    instrument: Mapped[str] = mapped_column(Text)
    """The rating instrument as JSON (dimensions, each point worded), frozen when the study is made."""
    per_item: Mapped[int] = mapped_column(Integer)
    """How many raters rate each item."""
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class StudySystem(Base):
    __tablename__ = "study_systems"
    __table_args__ = (UniqueConstraint("study_id", "name", name="uq_study_system"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    """Shown to admins only (results); never to a rater."""


class StudyItem(Base):
    """One case with one system's letter, both pseudonymised when the study was made."""

    __tablename__ = "study_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    """Random: what raters, URLs and the API see (the row id would hint at the order of systems)."""
    system_id: Mapped[int] = mapped_column(ForeignKey("study_systems.id"))
    case_key: Mapped[str] = mapped_column(String(128))
    """The case's number in the study's case file (pairs the systems' letters; admins only)."""
    case_data: Mapped[str] = mapped_column(Text)
    """The pseudonymised case record as JSON."""
    letter_text: Mapped[str] = mapped_column(Text)
    """The pseudonymised letter."""


class StudyAssignment(Base):
    __tablename__ = "study_assignments"
    __table_args__ = (UniqueConstraint("item_id", "rater_id", name="uq_assignment"),
                      Index("ix_assignment_order", "study_id", "rater_id", "position"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("study_items.id"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    position: Mapped[int] = mapped_column(Integer)
    """This rater's order (randomised per rater; never two letters of one case back to back)."""
    opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    """When the rater last opened the item (time spent runs from here)."""


class StudyRating(Base):
    __tablename__ = "study_ratings"
    __table_args__ = (UniqueConstraint("item_id", "rater_id", name="uq_rating"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("study_items.id"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scores: Mapped[str] = mapped_column(Text)
    """{dimension: value} as JSON."""
    would_sign: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    seconds_spent: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
