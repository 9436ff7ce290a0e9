"""create_app(): offline guard, settings, database (migrated), the drafting worker, routers, assets."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from medletter.app.config import Settings
from medletter.app.db import Database
from medletter.app.deps import LoginRequired
from medletter.app.services.auth import LoginPolicy
from medletter.app.services.errors import Incomplete, Invalid, ServiceError, StaleVersion
from medletter.privacy import guard

log = logging.getLogger("medletter.app")
HERE = Path(__file__).parent

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def create_app(settings: Settings | None = None, generator=None, db: Database | None = None) -> FastAPI:
    """The review app. ``generator`` drafts letters (default: the model of ``settings.run``);
    without one, drafting jobs wait in the queue for a worker elsewhere."""
    from medletter.app.routes import api, pages, studies
    from medletter.app.routes import stats
    from medletter.app.services.drafting import RunGenerator, Worker

    guard.install()
    settings = settings or Settings()
    db = db or Database(settings.url)
    if generator is None and settings.run is not None:
        generator = RunGenerator(settings.run, settings.style, settings.lang, settings.max_new_tokens, settings.backend,
                                 settings.endpoint, settings.model, grounding=settings.grounding)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker = None
        if generator is not None and settings.worker:
            worker = Worker(db, generator)
            worker.start()
        app.state.worker = worker
        yield
        if worker:
            worker.stop()

    app = FastAPI(title="medletter review", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json")
    app.state.settings = settings
    app.state.db = db
    app.state.generator = generator
    app.state.worker = None
    app.state.policy = LoginPolicy(settings.max_failed_logins, _minutes(settings.lockout_minutes),
                                   _minutes(settings.session_idle_minutes), _minutes(60 * settings.session_max_hours))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if not request.url.path.startswith("/static/"):
            h.setdefault("Cache-Control", "no-store")
        if request.url.scheme == "https":
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError):
        if request.url.path.startswith("/api/"):
            body: dict = {"detail": str(exc)}
            if isinstance(exc, Invalid):
                body = {"errors": exc.errors}
            if isinstance(exc, StaleVersion):
                body.update(current_version=exc.current, current_text=exc.current_text)
            if isinstance(exc, Incomplete):
                body.update(missing=exc.missing)
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return JSONResponse(body, status_code=exc.status, headers=headers)
        return pages.error_page(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = [f"{'.'.join(str(x) for x in e['loc'] if x != 'body')}: {e['msg']}" for e in exc.errors()]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"errors": errors}, status_code=422)
        return pages.error_page(request, Invalid(errors))

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(studies.api_router)
    app.include_router(studies.router)
    app.include_router(pages.router)
    app.include_router(stats.router)
    return app


def app_from_env() -> FastAPI:
    """The app built from ``MEDLETTER_*`` environment variables: the factory each web process of
    ``medletter app --workers N`` calls (uvicorn starts them; the settings travel in the environment)."""
    return create_app(Settings())


def _minutes(n: float):
    import datetime as dt

    return dt.timedelta(minutes=n)
