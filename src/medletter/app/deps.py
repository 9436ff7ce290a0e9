"""Typed dependencies: the database session, the current user (API token or session cookie), CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from medletter.app.services import auth
from medletter.app.services.auth import Principal
from medletter.app.services.errors import Unauthorized

SESSION_COOKIE = "medletter_session"
LOGIN_CSRF_COOKIE = "medletter_login_csrf"


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request, committed before the response is sent (scope "function").

    The commit runs here on the event loop, not in a worker thread: a request that holds SQLite's
    write lock must never wait for a free thread to release it, or a burst of requests waiting for
    that lock in all worker threads would stall the server (measured: benchmarks/bench_app.py).
    A commit is short: the transaction has already done its writes.
    """
    with request.app.state.db.session() as s:
        yield s


DB = Annotated[Session, Depends(get_db, scope="function")]


class LoginRequired(Exception):
    """A page needs a logged-in user: the app redirects to the login page."""

    def __init__(self, message: str = ""):
        self.message = message


def api_user(request: Request, s: DB) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer …; make one with `medletter users token NAME`)")
    return auth.principal_for_token(s, token.strip())


def page_user(request: Request, s: DB) -> Principal:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise LoginRequired()
    try:
        user = auth.principal_for_session(s, cookie, request.app.state.policy)
    except Unauthorized as e:
        s.commit()  # an expired session row is deleted
        raise LoginRequired(str(e)) from None
    request.state.user = user  # for the error pages
    return user


async def csrf_checked(request: Request, user: Annotated[Principal, Depends(page_user)]) -> Principal:
    """The user of a state-changing form; the form must carry the session's CSRF token (else 403)."""
    form = await request.form()
    auth.check_csrf(user, form.get("csrf_token") if isinstance(form.get("csrf_token"), str) else None)
    return user


def wake_worker(request: Request, s: Session) -> None:
    """Commit the queued job, then let this process's worker start on it at once (if it has one)."""
    s.commit()
    if request.app.state.worker:
        request.app.state.worker.wake()


ApiUser = Annotated[Principal, Depends(api_user)]
PageUser = Annotated[Principal, Depends(page_user)]
FormUser = Annotated[Principal, Depends(csrf_checked)]
