"""`medletter app` and `medletter users …`: run the review app, manage its users and API tokens."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from medletter.generate.settings import GenSettings

console = Console(stderr=True, soft_wrap=True)  # error lines stay whole (file:line: field: problem)
users_app = typer.Typer(no_args_is_help=True, help="Users of the review app: add, make an API token, disable.")

DbOption = Annotated[str, typer.Option("--db", envvar="MEDLETTER_DB",
                                       help="SQLite file (created with mode 0600) or SQLAlchemy URL (postgresql://…)")]
DEFAULT_DB = "medletter.db"
_LANGS = ("de", "en")  # medletter.app.i18n.LANGS (not imported here: the CLI starts without the app's modules)


def _database(db: str):
    from medletter.app.config import database_url
    from medletter.app.db import Database

    return Database(database_url(db))


def _fail(message: str, code: int = 1):
    console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
    else:
        pw = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return pw


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[str, typer.Option("--role", help="physician | rater | admin")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input")] = False,
    lang: Annotated[Optional[str], typer.Option("--lang", help="The user's language of the pages and the API's texts: de | en (default: the app's, medletter app --lang)")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Add a user; the password is asked for (or read from stdin) and stored as an Argon2 hash."""
    from medletter.app.services import auth
    from medletter.app.services.errors import ServiceError

    if lang is not None and lang not in _LANGS:
        _fail(f"--lang must be one of {', '.join(_LANGS)}", 2)
    password = _read_password(password_stdin)
    database = _database(db)
    try:
        with database.session() as s:
            auth.add_user(s, name, role, password, lang=lang)
    except ServiceError as e:
        _fail(str(e))
    console.print(f"added {role} {name!r}", highlight=False)


@users_app.command("token")
def users_token(name: Annotated[str, typer.Argument(help="Login name")], db: DbOption = DEFAULT_DB) -> None:
    """Print a new API token for the user (stored hashed; shown only this once)."""
    from medletter.app.services import auth
    from medletter.app.services.errors import ServiceError

    database = _database(db)
    try:
        with database.session() as s:
            token = auth.new_api_token(s, name)
    except ServiceError as e:
        _fail(str(e))
    print(token)


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="Login name")], db: DbOption = DEFAULT_DB) -> None:
    """Disable a user: ends their sessions and revokes their API tokens."""
    from medletter.app.services import auth
    from medletter.app.services.errors import ServiceError

    database = _database(db)
    try:
        with database.session() as s:
            auth.set_disabled(s, name, True)
    except ServiceError as e:
        _fail(str(e))
    console.print(f"disabled {name!r}", highlight=False)


@users_app.command("lang")
def users_lang(name: Annotated[str, typer.Argument(help="Login name")],
               lang: Annotated[str, typer.Argument(help="de | en | default (the app's, medletter app --lang)")],
               db: DbOption = DEFAULT_DB) -> None:
    """Set a user's language: of the pages, and of the API's texts for them (the rating instrument)."""
    from medletter.app.services import auth
    from medletter.app.services.errors import ServiceError

    if lang not in (*_LANGS, "default"):
        _fail(f"LANG must be one of {', '.join(_LANGS)} or default", 2)
    try:
        with _database(db).session() as s:
            auth.set_lang(s, name, None if lang == "default" else lang)
    except ServiceError as e:
        _fail(str(e))
    console.print(f"{name!r}: language {lang}", highlight=False)


@users_app.command("list")
def users_list(db: DbOption = DEFAULT_DB) -> None:
    """List the users with role, state and language ("default": the app's)."""
    from medletter.app.services import auth

    with _database(db).session() as s:
        for u in auth.list_users(s):
            print(f"{u.name}\t{u.role}\t{'disabled' if u.disabled else 'active'}\t{u.lang or 'default'}")


def serve(
    run: Annotated[Optional[Path], typer.Option("--run", help="Training run whose model drafts letters (runs/NAME)")] = None,
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default; put a TLS proxy in front for a network)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    import_cases: Annotated[Optional[Path], typer.Option("--import-cases", help="Import this file of cases at start: JSONL, or a FHIR R4 Bundle/NDJSON (all or nothing; cases imported before are kept)")] = None,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Longest draft in tokens")] = GenSettings.max_new_tokens,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Serve pages only; a worker elsewhere drafts (PostgreSQL)")] = False,
    letter_template: Annotated[Optional[Path], typer.Option("--letter-template", help="The department's DOCX letterhead")] = None,
    backend: Annotated[str, typer.Option("--backend", help="Drafting engine: hf, llamacpp (the run's GGUF) or openai (--endpoint, --model)")] = "hf",
    endpoint: Annotated[Optional[str], typer.Option("--endpoint", help="OpenAI-compatible server (--backend openai)")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Model or adapter name on the server (--backend openai)")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Web processes (PostgreSQL for more than one; the drafting worker runs once, in the main process)")] = 1,
    grounding: Annotated[str, typer.Option("--grounding", help="on: drafts write only numbers their case backs; off: the model writes freely")] = GenSettings.grounding,
    lang: Annotated[str, typer.Option("--lang", help="Language of the pages for users who chose none (de | en); each user can choose their own under Settings. Not the letters' language: that is the run's")] = "de",
) -> None:
    """The review app: physicians draft, check against the case, correct, approve and export letters."""
    import uvicorn

    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.app.services import cases
    from medletter.app.services.auth import Principal
    from medletter.app.services.errors import Invalid

    if run is not None and not (run / "config.yaml").is_file():
        _fail(f"{run}: not a training run (no config.yaml); train first, e.g. `make demo`")
    if letter_template is not None and not letter_template.is_file():
        _fail(f"{letter_template}: no such file")
    if backend not in ("hf", "llamacpp", "openai"):
        _fail("--backend must be hf, llamacpp or openai", 2)
    if grounding not in ("on", "off"):
        _fail("--grounding must be on or off", 2)
    if lang not in _LANGS:
        _fail(f"--lang must be one of {', '.join(_LANGS)}", 2)
    settings = Settings(db=db, run=run, max_new_tokens=max_new_tokens, worker=not no_worker, letter_template=letter_template,
                        backend=backend, endpoint=endpoint, model=model, grounding=grounding, ui_lang=lang)
    app = create_app(settings)
    if import_cases is not None:
        try:
            raw = import_cases.read_bytes()
        except OSError as e:
            _fail(f"{import_cases}: {e.strerror}")
        try:
            with app.state.db.session() as s:
                ids = cases.import_upload(s, Principal.system(), raw, str(import_cases))
        except Invalid as e:
            for err in e.errors:
                print(f"{import_cases}:{err}", file=sys.stderr)
            _fail(f"{len(e.errors)} problem(s) in {import_cases}; nothing was imported")
        console.print(f"{len(ids)} case(s) from {import_cases} are in the app", highlight=False)
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]note:[/yellow] serving on {host}: use TLS (a reverse proxy) outside this machine", highlight=False)
    console.print(f"medletter review app on http://{host}:{port}/  (database {settings.url.split('://')[0]}, "
                  f"model {'none' if run is None else run})", highlight=False)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True, server_header=False)
        return
    _serve_workers(settings, app, host, port, workers)


def _serve_workers(settings, app, host: str, port: int, workers: int) -> None:
    """``--workers N``: N web processes (uvicorn's supervisor; each builds the app from the environment) sharing
    the database; versions are protected by the database's conditional update, so no process holds a lock
    another needs. The drafting worker (and its model) runs once, here in the supervising process: the web
    processes only queue jobs, which it claims from the database (as a worker on another machine would)."""
    import os

    import uvicorn

    if settings.url.startswith("sqlite"):
        console.print("[yellow]note:[/yellow] several processes on one SQLite file serialise their writes; use PostgreSQL "
                      "(--db postgresql://…) for many users", highlight=False)
    env = {"MEDLETTER_DB": settings.url, "MEDLETTER_MAX_NEW_TOKENS": str(settings.max_new_tokens),
           "MEDLETTER_BACKEND": settings.backend, "MEDLETTER_WORKER": "false", "MEDLETTER_GROUNDING": settings.grounding,
           "MEDLETTER_UI_LANG": settings.ui_lang}
    for key, value in (("MEDLETTER_RUN", settings.run), ("MEDLETTER_ENDPOINT", settings.endpoint), ("MEDLETTER_MODEL", settings.model),
                       ("MEDLETTER_LETTER_TEMPLATE", settings.letter_template)):
        if value is not None:
            env[key] = str(value)
    os.environ.update(env)
    drafting = None
    if settings.worker and app.state.generator is not None:
        from medletter.app.services.drafting import Worker

        drafting = Worker(app.state.db, app.state.generator)
        drafting.start()
    console.print(f"{workers} web processes; drafting {'in this process' if drafting else 'elsewhere'}", highlight=False)
    try:
        uvicorn.run("medletter.app.main:app_from_env", factory=True, workers=workers, host=host, port=port, log_level="warning",
                    proxy_headers=True, server_header=False)
    finally:
        if drafting:
            drafting.stop()


def app_stats(
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables")] = False,
) -> None:
    """Correction effort of the approved letters, per model/run and per ISO week of approval.

    For each approved letter its first model draft is compared with the approved version. The
    JSON document: {"letters": N, "overall": GROUP, "models": {RUN: GROUP}, "weeks": [WEEK, …]}.
    A GROUP has letters, share_kept_mean/_median (share of draft words kept unchanged, 0–1),
    edit_distance_mean/_median (word-level Levenshtein), minutes_to_approval_median/_mean,
    unchanged (letters approved as drafted), draft_words_mean, sections_measured (letters of a
    style with known headings), section_change_rate {section: share of those letters where it
    changed}, facts_measured (letters with both fact reports readable) and fact_kind_change_rate
    {kind: share of those letters where the fact check of that kind changed}. A WEEK is
    {"week": "2026-W48", "model": RUN, letters, share_kept_mean/_median, edit_distance_mean/_median,
    minutes_to_approval_median}, sorted by week, then model. Numbers, section names and fact kinds
    only: no letter text, no fact values, no names.
    """
    import json

    from rich.table import Table

    from medletter.app.services import effort
    from medletter.app.services.auth import Principal

    with _database(db).session() as s:
        rep = effort.report(s, Principal.system())
    if as_json:
        print(json.dumps(rep, indent=2, ensure_ascii=False))
        return
    out = Console(soft_wrap=True)

    def pct(v):
        return "–" if v is None else f"{v:.1%}"

    def num(v):
        return "–" if v is None else f"{v:g}"

    t = Table(title=f"Correction effort: {rep['letters']} approved letter(s)")
    for col in ("model / run", "letters", "kept (mean)", "kept (median)", "edit dist. (mean)", "minutes to approval (median)",
                "sections changed most", "fact kinds changed most"):
        t.add_column(col)
    for name, g in [*rep["models"].items(), ("all", rep["overall"])]:
        top = [", ".join(f"{k} {v:.0%}" for k, v in sorted(g[key].items(), key=lambda kv: -kv[1])[:3] if v)
               for key in ("section_change_rate", "fact_kind_change_rate")]
        t.add_row(name, str(g["letters"]), pct(g["share_kept_mean"]), pct(g["share_kept_median"]), num(g["edit_distance_mean"]),
                  num(g["minutes_to_approval_median"]), *top)
    out.print(t)
    if rep["weeks"]:
        w = Table(title="Per ISO week of approval")
        for col in ("week", "model / run", "letters", "kept (mean)", "edit dist. (mean)", "minutes to approval (median)"):
            w.add_column(col)
        for row in rep["weeks"]:
            w.add_row(row["week"], row["model"], str(row["letters"]), pct(row["share_kept_mean"]), num(row["edit_distance_mean"]),
                      num(row["minutes_to_approval_median"]))
        out.print(w)
