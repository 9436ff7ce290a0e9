"""Users, passwords (Argon2), API tokens, browser sessions, lock-out and roles.

Secrets are never stored in clear: passwords as Argon2id hashes, API tokens and session cookies as
SHA-256 of 256-bit random values (a fast hash is enough for values nobody can guess).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from medletter.app.i18n import LANGS, Msg, join
from medletter.app.labels import ROLES as ROLE_LABELS
from medletter.app.models import ROLES, ApiToken, User, WebSession, utcnow
from medletter.app.services import audit
from medletter.app.services.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized

_hasher = PasswordHasher()
TOKEN_PREFIX = "mlt_"
MIN_PASSWORD = 10
# verifying against this keeps a login for an unknown user as slow as one for a known user
_DUMMY_HASH = _hasher.hash("medletter-dummy-password")


@dataclass(frozen=True)
class Principal:
    """The user a request acts for."""

    id: int | None
    """None for the system (a command run on the server, e.g. an import at start)."""
    name: str
    role: str
    session_id: str | None = None
    csrf_token: str | None = None
    lang: str | None = None
    """The user's language (``users.lang``); None: the app's default."""

    @classmethod
    def system(cls, role: str = "admin") -> "Principal":
        return cls(None, "system", role)

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(Msg("a %(role)s may not do this (needs: %(roles)s)", role=_role(self.role),
                                roles=join(_role(r) for r in roles)))


def _role(role: str) -> Msg | str:
    return Msg(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _principal(u: User, ws: WebSession | None = None) -> Principal:
    return Principal(u.id, u.name, u.role, ws.id if ws else None, ws.csrf_token if ws else None, u.lang)


# ---------------------------------------------------------------- users


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid([Msg("password: must have at least %(n)s characters", n=MIN_PASSWORD)])


def check_lang(lang: str | None) -> str | None:
    """A user's language: one of :data:`~medletter.app.i18n.LANGS`, or None (the app's default)."""
    if lang is not None and lang not in LANGS:
        raise Invalid([Msg("lang: must be one of %(langs)s (or none: the app's default)", langs=", ".join(LANGS))])
    return lang


def add_user(s: Session, name: str, role: str, password: str, actor: str = "cli", lang: str | None = None) -> User:
    name = name.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise Invalid([Msg("name: 1–64 letters, digits or . _ - @")])
    if role not in ROLES:
        raise Invalid([Msg("role: must be one of %(roles)s", roles=", ".join(ROLES))])
    check_password_strength(password)
    check_lang(lang)
    if s.scalar(select(User).where(User.name == name)):
        raise Conflict(Msg("user %(name)s exists already", name=repr(name)))
    u = User(name=name, role=role, password_hash=_hasher.hash(password), lang=lang)
    s.add(u)
    s.flush()
    audit.record(s, None, "user_add", "user", u.id, f"role={role} by={actor}")
    return u


def get_user(s: Session, name: str) -> User:
    u = s.scalar(select(User).where(User.name == name))
    if u is None:
        raise NotFound(Msg("no user %(name)s", name=repr(name)))
    return u


def set_disabled(s: Session, name: str, disabled: bool = True, actor: str = "cli") -> User:
    u = get_user(s, name)
    u.disabled = disabled
    if disabled:  # end every session and token at once
        s.execute(delete(WebSession).where(WebSession.user_id == u.id))
        s.execute(update(ApiToken).where(ApiToken.user_id == u.id).values(revoked=True))
    audit.record(s, None, "user_disable" if disabled else "user_enable", "user", u.id, f"by={actor}")
    return u


def set_lang(s: Session, name: str, lang: str | None, actor: str = "cli") -> User:
    """Set a user's language (None: the app's default); the user's next page shows it."""
    u = get_user(s, name)
    u.lang = check_lang(lang)
    audit.record(s, None, "user_lang", "user", u.id, f"lang={lang or 'default'} by={actor}")
    return u


def list_users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.name)))


def new_api_token(s: Session, name: str, actor: str = "cli") -> str:
    u = get_user(s, name)
    if u.disabled:
        raise Conflict(Msg("user %(name)s is disabled", name=repr(name)))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    s.add(ApiToken(user_id=u.id, token_hash=_sha(token)))
    audit.record(s, None, "token_create", "user", u.id, f"by={actor}")
    return token


def principal_for_token(s: Session, token: str) -> Principal:
    row = s.scalar(select(ApiToken).where(ApiToken.token_hash == _sha(token), ApiToken.revoked.is_(False)))
    u = s.get(User, row.user_id) if row else None
    if u is None or u.disabled:
        raise Unauthorized("invalid or revoked API token")
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:  # not a write per request
        row.last_used_at = now
    return _principal(u)


# ---------------------------------------------------------------- login and sessions


@dataclass
class LoginPolicy:
    max_failed: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)
    idle: dt.timedelta = dt.timedelta(minutes=30)
    absolute: dt.timedelta = dt.timedelta(hours=12)


def login(s: Session, name: str, password: str, policy: LoginPolicy) -> tuple[str, Principal]:
    """Check a password; returns (session cookie value, principal). Every failure says the same."""
    fail = Unauthorized(Msg("wrong user name or password, or the account is locked"))
    u = s.scalar(select(User).where(User.name == name))
    now = utcnow()
    if u is None:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        audit.record(s, None, "login_failed", "user", "-", "unknown user")
        raise fail
    if u.disabled or (u.locked_until and u.locked_until > now):
        audit.record(s, u, "login_refused", "user", u.id, "disabled" if u.disabled else "locked")
        raise fail
    try:
        _hasher.verify(u.password_hash, password)
    except (VerificationError, InvalidHashError):
        u.failed_logins += 1
        detail = f"failures={u.failed_logins}"
        if u.failed_logins >= policy.max_failed:
            u.locked_until = now + policy.lockout
            u.failed_logins = 0
            detail += " locked"
        audit.record(s, u, "login_failed", "user", u.id, detail)
        raise fail from None
    if _hasher.check_needs_rehash(u.password_hash):
        u.password_hash = _hasher.hash(password)
    u.failed_logins, u.locked_until = 0, None
    cookie = secrets.token_urlsafe(32)
    ws = WebSession(id=_sha(cookie), user_id=u.id, csrf_token=secrets.token_urlsafe(32), created_at=now,
                    last_seen_at=now, expires_at=now + policy.absolute)
    s.add(ws)
    audit.record(s, u, "login", "user", u.id)
    return cookie, _principal(u, ws)


def principal_for_session(s: Session, cookie: str, policy: LoginPolicy) -> Principal:
    ws = s.get(WebSession, _sha(cookie))
    now = utcnow()
    if ws is None:
        raise Unauthorized(Msg("not logged in"))
    if ws.expires_at <= now or ws.last_seen_at + policy.idle <= now:
        s.delete(ws)
        raise Unauthorized(Msg("session expired; please log in again"))
    u = s.get(User, ws.user_id)
    if u is None or u.disabled:
        s.delete(ws)
        raise Unauthorized(Msg("not logged in"))
    if (now - ws.last_seen_at).total_seconds() > 30:  # sliding idle window, without a write per request
        ws.last_seen_at = now
    return _principal(u, ws)


def logout(s: Session, p: Principal) -> None:
    if p.session_id:
        s.execute(delete(WebSession).where(WebSession.id == p.session_id))
    audit.record(s, p, "logout", "user", p.id)


def check_csrf(p: Principal, token: str | None) -> None:
    if not token or not p.csrf_token or not secrets.compare_digest(token, p.csrf_token):
        raise Forbidden(Msg("missing or wrong CSRF token; reload the page and try again"))
