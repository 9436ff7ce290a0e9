"""The audit trail: every login, view, draft, save, approval and export is one row.

``detail`` carries counts, versions, formats and reasons only, never patient data.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medletter.app.models import AuditEvent


def record(s: Session, who, action: str, object_type: str, object_id, detail: str = "") -> None:
    """``who``: a Principal or User (``id``, ``name``), or None for the system/CLI."""
    s.add(AuditEvent(user_id=getattr(who, "id", None), user_name=getattr(who, "name", None) or "system",
                     action=action, object_type=object_type, object_id=str(object_id), detail=detail[:255]))


def events(s: Session, user: str | None = None, action: str | None = None, object_type: str | None = None,
           object_id: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
           page: int = 1, per_page: int = 50) -> tuple[list[AuditEvent], int]:
    """Newest first; returns (rows of the page, total matching)."""
    q = select(AuditEvent)
    if user:
        q = q.where(AuditEvent.user_name == user)
    if action:
        q = q.where(AuditEvent.action == action)
    if object_type:
        q = q.where(AuditEvent.object_type == object_type)
    if object_id:
        q = q.where(AuditEvent.object_id == object_id)
    if since:
        q = q.where(AuditEvent.at >= since)
    if until:
        q = q.where(AuditEvent.at < until)
    total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = s.scalars(q.order_by(AuditEvent.id.desc()).offset((max(page, 1) - 1) * per_page).limit(per_page))
    return list(rows), total


def actions(s: Session) -> list[str]:
    return list(s.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
