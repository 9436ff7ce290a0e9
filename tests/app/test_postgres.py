"""The app on a real PostgreSQL server (a throw-away cluster started here): migrations, import, the
conditional-update rule for versions under concurrent saves, two workers sharing one job queue."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from .util import bearer, wait_job


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_url():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; `make test` does it when run as root)")
    bindir = Path(bins[-1]).parent
    # not under pytest's tmp dir: the postgres user must be able to reach it
    base = Path(tempfile.mkdtemp(prefix="medletter-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as its own user")
        os.chmod(base, 0o755)
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
                    f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _clean(db) -> None:
    from sqlalchemy import text

    with db.engine.begin() as c:
        c.execute(text("TRUNCATE audit_events, letter_versions, jobs, letters, cases, api_tokens, web_sessions, users RESTART IDENTITY CASCADE"))


def _all_at_once(fn, n: int) -> None:
    """fn(0) … fn(n-1) in n threads, joined (fn waits on a barrier of its own to start together)."""
    threads = [threading.Thread(target=fn, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.fixture
def pg_app(pg_url, memorising_run):
    from fastapi.testclient import TestClient

    from medletter.app.config import Settings
    from medletter.app.db import Database
    from medletter.app.main import create_app

    from .util import add_users

    db = Database(pg_url)
    _clean(db)  # a clean database for each test
    app = create_app(Settings(db=pg_url, run=memorising_run, max_new_tokens=48, grounding="off"), db=db)
    add_users(db)
    with TestClient(app) as client:
        yield app, client, db
    db.dispose()


def test_postgres_flow_and_concurrent_saves(pg_app, case_lines):
    from medletter.app.db import Database
    from medletter.app.services.drafting import Worker

    app, client, db = pg_app
    doc = bearer(db, "doc")
    r = client.post("/api/v1/cases", content=case_lines.encode(), headers={**doc, "Content-Type": "application/x-ndjson"})
    assert r.status_code == 201, r.text
    ids = r.json()["ids"]

    # a second worker (as in another process) shares the queue: every job is drafted exactly once
    other = Worker(Database(db.url, run_migrations=False), app.state.generator)
    other.start()
    try:
        jobs = [client.post(f"/api/v1/cases/{i}/drafts", headers=doc).json()["job_id"] for i in ids]
        done = [wait_job(client, doc, j) for j in jobs]
    finally:
        other.stop()
    assert all(j["status"] == "done" and j["attempts"] == 1 for j in done)
    assert len({j["letter_id"] for j in done}) == 3
    from medletter.app.models import Job, Letter

    with db.session() as s:
        assert s.query(Letter).count() == 3
        assert {j.worker for j in s.query(Job).all()} <= {app.state.worker.name, other.name}

    # eight physicians save from the same version at once: exactly one wins, the rest get 409
    lid = done[0]["letter_id"]
    tokens = [bearer(db, "doc") for _ in range(8)]
    results: list[int] = []
    barrier = threading.Barrier(8)

    def save(k: int) -> None:
        barrier.wait()
        results.append(client.put(f"/api/v1/letters/{lid}", json={"text": f"Fassung {k}"}, headers={**tokens[k], "If-Match": "1"}).status_code)

    _all_at_once(save, 8)
    assert sorted(results) == [200] + [409] * 7, results
    lt = client.get(f"/api/v1/letters/{lid}", headers=doc).json()
    assert lt["version"] == 2 and lt["text"].startswith("Fassung ")
    assert client.post(f"/api/v1/letters/{lid}/approve", headers=doc).status_code == 200
    r = client.get(f"/api/v1/letters/{lid}/export?format=docx", headers=doc)
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_two_web_processes_on_postgres_lose_no_update(pg_url, memorising_run, case_lines):
    """`medletter app --db postgresql://… --workers 2`: two uvicorn processes on one port, the drafting worker in
    the supervisor. Sixteen physicians save the same version at once over HTTP: the database's conditional
    update lets exactly one through, so no version is lost or written twice."""
    import socket
    import sys
    import time

    import httpx
    import psutil
    from sqlalchemy import text

    from medletter.app.db import Database

    from .util import add_users

    db = Database(pg_url)
    _clean(db)
    add_users(db)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    medletter = str(Path(sys.executable).parent / "medletter")
    proc = subprocess.Popen([medletter, "app", "--db", pg_url, "--workers", "2", "--port", str(port), "--run", str(memorising_run),
                             "--max-new-tokens", "48"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        client = httpx.Client(base_url=base, timeout=60)
        t0 = time.time()
        while True:
            try:
                if client.get("/login").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.time() - t0 < 120, proc.stdout.read() if proc.poll() is not None else "no start"
            time.sleep(0.3)
        web = [p for p in psutil.Process(proc.pid).children(recursive=True) if "multiprocessing" in " ".join(p.cmdline())
               and "resource_tracker" not in " ".join(p.cmdline())]
        assert len(web) == 2, [p.cmdline() for p in psutil.Process(proc.pid).children(recursive=True)]

        doc = bearer(db, "doc")
        r = client.post("/api/v1/cases", content=case_lines.encode(), headers={**doc, "Content-Type": "application/x-ndjson"})
        assert r.status_code == 201, r.text
        case_id = r.json()["ids"][0]
        job = client.post(f"/api/v1/cases/{case_id}/drafts", headers=doc).json()["job_id"]
        done = wait_job(client, doc, job)
        assert done["status"] == "done", done
        lid = done["letter_id"]

        tokens = [bearer(db, "doc") for _ in range(16)]
        results: list[int] = []
        barrier = threading.Barrier(16)

        def save(k: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as c:  # a connection of its own: either process may take it
                barrier.wait()
                results.append(c.put(f"/api/v1/letters/{lid}", json={"text": f"Fassung {k}"},
                                     headers={**tokens[k], "If-Match": "1"}).status_code)

        _all_at_once(save, 16)
        assert sorted(results) == [200] + [409] * 15, results
        with db.engine.connect() as c:
            versions = [v for (v,) in c.execute(text("SELECT version FROM letter_versions WHERE letter_id = :l ORDER BY version"), {"l": lid})]
        assert versions == [1, 2], versions  # none lost, none written twice
        lt = client.get(f"/api/v1/letters/{lid}", headers=doc).json()
        assert lt["version"] == 2 and lt["text"].startswith("Fassung ")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        db.dispose()


def test_the_users_language_on_postgres(pg_url):
    """Migration 0006 (users.lang) on PostgreSQL: the schema matches the models; a user's language is kept."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from medletter.app.db import Base, Database
    from medletter.app.services import auth

    db = Database(pg_url)
    _clean(db)
    with db.engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []
    with db.session() as s:
        auth.add_user(s, "dr_en", "physician", "correct horse battery", lang="en")
        auth.add_user(s, "dr_x", "physician", "correct horse battery")
    with db.session() as s:
        assert [(u.name, u.lang) for u in auth.list_users(s)] == [("dr_en", "en"), ("dr_x", None)]
        auth.set_lang(s, "dr_x", "de")
    with db.session() as s:
        assert auth.get_user(s, "dr_x").lang == "de"
    db.dispose()
