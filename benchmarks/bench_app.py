"""Benchmark: the review app under concurrent readers and savers (uvicorn + SQLite), 1 client vs N.

The real app (``create_app(Settings(db=<tmp>/bench.db, run=None))``: no model, no drafting worker)
runs under uvicorn on 127.0.0.1 (a free port) in a separate process. This process seeds it
(physicians and API tokens through ``services.auth``, 40 synthetic German cases through
``POST /api/v1/cases``, letters written straight into the database with ``review.create_letter``)
and then drives it with threads, one ``httpx.Client`` each:

* a warm-up (1 client, not reported), then 1 client for ``--seconds``, then ``--clients`` clients
  for ``--seconds``, all against the same database file;
* each client loops until the time is up (or its share of ``--max-requests``): pick a letter, read
  its case (``GET /api/v1/cases/{id}``), read the letter (``GET /api/v1/letters/{id}``; half the
  time it keeps the version it read on an earlier visit instead, like a page left open) and save it
  (``PUT /api/v1/letters/{id}``, ``If-Match`` = the version it last read, a text carrying a unique
  marker). A 200 is followed by a reload of the letter (the page after a save); a 409 (someone
  saved first) by a re-read.

Checks, which make the exit code 1 when they fail:

* no 5xx and no transport error (timeouts, resets) in any run, and no traceback in the server log;
* straight from the database afterwards: every letter's versions are exactly 1..letters.version,
  every edit is based on the version before it, every 200 of a save is exactly one stored version
  carrying its marker ("lost" otherwise), every stored edit is exactly one 200 ("duplicated"
  otherwise: stored twice, stored after a 409, or stored without any answer);
* with 1 client there is nobody to conflict with: any 409 there is an error.

Also counted (reported, not fatal): a 200 whose version is not yet visible in the database file
when the client reads it right after the answer (the answer came before the commit), and a reload
right after one's own 200 that shows an older version.

Run: ``.venv/bin/python benchmarks/bench_app.py [--seconds 30] [--clients 20]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PASSWORD = "bench horse battery staple"
MARKER = re.compile(r"\[bench (\w+)-c(\d+)-s(\d+)\]")
LOG_PATTERNS = ("Traceback", "Exception in ASGI application", "database is locked", "OperationalError",
                "QueuePool limit", "TimeoutError", "IntegrityError")


# ------------------------------------------------------------------ server process


def serve(db: str) -> None:
    """The server process: the app on a loopback socket it binds itself (race-free free port)."""
    import uvicorn

    from medletter.app.config import Settings
    from medletter.app.main import create_app

    app = create_app(Settings(db=db, run=None, worker=False))
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only for those (with
    # proto 0 each keep-alive request waited ~40 ms for a delayed ACK, as uvicorn's own bind does not)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    print(f"PORT {port}", flush=True)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            timeout_keep_alive=120, backlog=256)
    uvicorn.Server(config).run(sockets=[sock])


def start_server(db: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    log = open(log_path, "w")  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve", db], stdout=subprocess.PIPE,
                            stderr=log, text=True, cwd=str(ROOT))
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"the server did not start; see {log_path}:\n{log_path.read_text()[-3000:]}")
    port = int(line.split()[1])
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(base: str, token: str, timeout: float = 60) -> None:
    import httpx

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            r = httpx.get(f"{base}/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, timeout=5, trust_env=False)
            if r.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server at {base} did not answer in {timeout} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()  # uvicorn shuts down gracefully on SIGTERM
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ------------------------------------------------------------------ seeding


@dataclass
class Seed:
    tokens: list[str]
    letters: list[tuple[int, int, str]]  # (letter id, case id, the reference letter's text)


def seed(base: str, n_users: int, n_letters: int, db) -> Seed:
    import httpx
    from sqlalchemy import select

    from medletter.app.models import CaseRow
    from medletter.app.services import review
    from medletter.synth import generate_corpus

    recs = generate_corpus(40, seed=1, lang="de")
    lines = "\n".join(json.dumps({"case": json.loads(r.case.model_dump_json())}) for r in recs) + "\n"
    tokens = _tokens(db, n_users)
    wait_ready(base, tokens[0])
    r = httpx.post(f"{base}/api/v1/cases", content=lines.encode(), timeout=120, trust_env=False,
                   headers={"Authorization": f"Bearer {tokens[0]}", "Content-Type": "application/x-ndjson"})
    if r.status_code != 201:
        raise SystemExit(f"case import failed: {r.status_code} {r.text[:500]}")
    ids = r.json()["ids"]
    assert len(ids) == len(recs), (len(ids), len(recs))
    letters = []
    with db.session() as s:
        rows = {row.external_id: row for row in s.scalars(select(CaseRow).where(CaseRow.id.in_(ids)))}
        for rec in recs[:n_letters]:
            row = rows[rec.case.case_id]
            lt = review.create_letter(s, row, rec.letter.text, rec.letter.style, rec.letter.language, "bench-seed", None)
            s.flush()
            letters.append((lt.id, row.id, rec.letter.text))
    return Seed(tokens, letters)


def _tokens(db, n: int) -> list[str]:
    from medletter.app.services import auth

    with db.session() as s:
        for i in range(n):
            auth.add_user(s, f"bench{i:02d}", "physician", PASSWORD, actor="bench")
    with db.session() as s:
        return [auth.new_api_token(s, f"bench{i:02d}", actor="bench") for i in range(n)]


# ------------------------------------------------------------------ load


@dataclass
class Stats:
    lat: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    codes: Counter = field(default_factory=Counter)  # (kind, status or "error") -> n
    ok: list[tuple[str, int, int]] = field(default_factory=list)  # (marker, letter, version) of each 200
    conflicts: list[str] = field(default_factory=list)  # markers of 409s
    unanswered: list[str] = field(default_factory=list)  # markers of saves without an answer (transport error)
    other: list[str] = field(default_factory=list)  # markers of saves with another status
    server_errors: list[str] = field(default_factory=list)
    transport_errors: Counter = field(default_factory=Counter)
    not_committed_yet: int = 0
    stale_reloads: int = 0

    def merge(self, o: Stats) -> None:
        for k, v in o.lat.items():
            self.lat[k].extend(v)
        self.codes.update(o.codes)
        self.ok += o.ok
        self.conflicts += o.conflicts
        self.unanswered += o.unanswered
        self.other += o.other
        self.server_errors += o.server_errors
        self.transport_errors.update(o.transport_errors)
        self.not_committed_yet += o.not_committed_yet
        self.stale_reloads += o.stale_reloads


def client(cid: int, label: str, base: str, token: str, letters, db_path: str, clock: dict, cap: int,
           go: threading.Event, out: list) -> None:
    import httpx

    st = Stats()
    rng = random.Random(f"{label}-{cid}")
    known: dict[int, int] = {}  # letter id -> the version this client last read
    probe = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)
    n = 0

    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])  # as browsers do
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120, trust_env=False,
                      transport=transport) as c:

        def req(kind: str, method: str, url: str, **kw):
            nonlocal n
            n += 1
            t0 = time.perf_counter()
            try:
                r = c.request(method, url, **kw)
            except httpx.TransportError as e:
                st.codes[(kind, "error")] += 1
                st.transport_errors[f"{method} {url.split('/')[3]}: {type(e).__name__}"] += 1
                return None
            st.lat[kind].append(time.perf_counter() - t0)
            st.codes[(kind, r.status_code)] += 1
            if r.status_code >= 500:
                st.server_errors.append(f"{method} {url} -> {r.status_code}: {r.text[:300]}")
            return r

        def read_letter(lid: int):
            r = req("read", "GET", f"/api/v1/letters/{lid}")
            if r is not None and r.status_code == 200:
                known[lid] = r.json()["version"]
            return r

        go.wait()
        deadline = clock["deadline"]
        seq = 0
        while time.monotonic() < deadline and n < cap:
            lid, case_id, text = rng.choice(letters)
            req("read", "GET", f"/api/v1/cases/{case_id}")
            if lid not in known or rng.random() < 0.5:
                read_letter(lid)
            if lid not in known:
                continue
            seq += 1
            marker = f"[bench {label}-c{cid:02d}-s{seq:06d}]"
            r = req("save", "PUT", f"/api/v1/letters/{lid}", json={"text": f"{text}\n{marker}"},
                    headers={"If-Match": str(known[lid])})
            if r is None:
                st.unanswered.append(marker)
                known.pop(lid, None)
            elif r.status_code == 200:
                v = r.json()["version"]
                st.ok.append((marker, lid, v))
                found = probe.execute("SELECT 1 FROM letter_versions WHERE letter_id = ? AND version = ?", (lid, v)).fetchall()
                if not found:  # fetchall: the read ends at once (no snapshot held open)
                    st.not_committed_yet += 1
                known[lid] = v
                r2 = req("read", "GET", f"/api/v1/letters/{lid}")  # the page after a save
                if r2 is not None and r2.status_code == 200:
                    if r2.json()["version"] < v:
                        st.stale_reloads += 1
                    known[lid] = r2.json()["version"]
            elif r.status_code == 409:
                st.conflicts.append(marker)
                read_letter(lid)  # someone saved first: re-read and carry on
            else:
                st.other.append(marker)
                known.pop(lid, None)
    probe.close()
    out.append(st)


@dataclass
class RunResult:
    label: str
    clients: int
    seconds: float
    stats: Stats

    @property
    def requests(self) -> int:
        return sum(self.stats.codes.values())

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, kind: str, q: float) -> float:
        xs = sorted(self.stats.lat.get(kind, []))
        if not xs:
            return float("nan")
        return 1000 * xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def run_load(label: str, n_clients: int, seconds: float, base: str, sd: Seed, db_path: str, max_requests: int) -> RunResult:
    out: list[Stats] = []
    go = threading.Event()
    cap = max(1, max_requests // n_clients)
    threads = []
    clock: dict = {}
    for i in range(n_clients):
        t = threading.Thread(target=client, args=(i, label, base, sd.tokens[i % len(sd.tokens)], sd.letters, db_path,
                                                  clock, cap, go, out), daemon=True)
        t.start()
        threads.append(t)
    time.sleep(0.5)  # the clients set up their connections before the clock starts
    t0 = time.monotonic()
    clock["deadline"] = t0 + seconds
    go.set()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    total = Stats()
    for st in out:
        total.merge(st)
    if len(out) != n_clients:
        total.server_errors.append(f"{n_clients - len(out)} client thread(s) died")
    return RunResult(label, n_clients, elapsed, total)


# ------------------------------------------------------------------ checks


def check_database(db_path: str, results: list[RunResult]) -> tuple[dict, list[str]]:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    heads = dict(con.execute("SELECT id, version FROM letters"))
    rows = con.execute("SELECT letter_id, version, based_on, origin, text FROM letter_versions ORDER BY letter_id, version").fetchall()
    audit_saves = con.execute("SELECT count(*) FROM audit_events WHERE action = 'letter_save'").fetchone()[0]
    con.close()
    problems: list[str] = []
    by_letter: dict[int, list[int]] = defaultdict(list)
    stored: dict[str, list[tuple[int, int]]] = defaultdict(list)  # marker -> [(letter, version)]
    edits = 0
    for lid, version, based_on, origin, text in rows:
        by_letter[lid].append(version)
        if origin == "edit":
            edits += 1
            if based_on != version - 1:
                problems.append(f"letter {lid} version {version}: based on {based_on}")
            found = MARKER.findall(text)
            if len(found) != 1:
                problems.append(f"letter {lid} version {version}: {len(found)} markers in the text")
            for lab, c, s in found:
                stored[f"[bench {lab}-c{c}-s{s}]"].append((lid, version))
    for lid, head in heads.items():
        if by_letter.get(lid) != list(range(1, head + 1)):
            vs = by_letter.get(lid, [])
            problems.append(f"letter {lid}: head {head}, versions {vs[:5]}…{vs[-5:]} ({len(vs)}): gaps or duplicates")
    ok, conflicts, unanswered, other = {}, set(), set(), set()
    for res in results:
        for marker, lid, v in res.stats.ok:
            ok[marker] = (lid, v)
        conflicts.update(res.stats.conflicts)
        unanswered.update(res.stats.unanswered)
        other.update(res.stats.other)
    lost = [m for m, lv in ok.items() if stored.get(m) != [lv]]
    twice = [m for m, where in stored.items() if len(where) > 1]
    after_409 = [m for m in stored if m in conflicts]
    no_answer = [m for m in stored if m in unanswered or m in other]
    unknown = [m for m in stored if m not in ok and m not in conflicts and m not in unanswered and m not in other]
    duplicated = len(twice) + len(after_409) + len(unknown) + len(no_answer)
    # Each stored edit is one 200 and each 200 one stored edit: these counts must agree as well.
    if edits != len(ok) and not lost and not duplicated:
        problems.append(f"{edits} stored edits but {len(ok)} answers 200")
    if audit_saves != edits:
        problems.append(f"{audit_saves} letter_save audit events for {edits} stored edits")
    for m in lost[:5]:
        problems.append(f"lost: {m} answered 200 as letter/version {ok[m]}, stored as {stored.get(m, 'nothing')}")
    for m in (twice + after_409 + no_answer + unknown)[:5]:
        problems.append(f"duplicated: {m} stored as {stored[m]} ({'409' if m in conflicts else 'no 200'})")
    return {"letters": len(heads), "versions": len(rows), "edits": edits, "answered_200": len(ok), "lost": len(lost),
            "duplicated": duplicated, "stored_twice": len(twice), "stored_after_409": len(after_409),
            "stored_without_answer": len(no_answer), "stored_unknown": len(unknown), "audit_saves": audit_saves}, problems


def scan_log(log_path: Path) -> Counter:
    text = log_path.read_text(errors="replace")
    return Counter({p: text.count(p) for p in LOG_PATTERNS if p in text})


# ------------------------------------------------------------------ report


def describe(res: RunResult) -> list[str]:
    st = res.stats
    codes = Counter()
    for (_kind, code), n in st.codes.items():
        codes["200" if code == 200 else "409" if code == 409 else "other"] += n
    saves = sum(n for (k, _c), n in st.codes.items() if k == "save")
    return [
        f"  {res.clients} client(s), {res.seconds:.1f} s: {res.requests} requests, {res.rps:.1f} requests/s, "
        f"{len(st.ok) / res.seconds:.1f} saves (200)/s",
        f"  reads: {len(st.lat['read'])}, p50 {res.pct('read', .5):.1f} ms, p95 {res.pct('read', .95):.1f} ms",
        f"  saves: {saves} ({len(st.ok)} × 200, {len(st.conflicts)} × 409), p50 {res.pct('save', .5):.1f} ms, "
        f"p95 {res.pct('save', .95):.1f} ms",
        f"  status: 200: {codes['200']}, 409: {codes['409']}, other: {codes['other']}"
        + (f" ({', '.join(f'{k} {c}: {n}' for (k, c), n in sorted(st.codes.items(), key=str) if c not in (200, 409))})"
           if codes["other"] else ""),
        f"  200 answered before its version was in the database file: {st.not_committed_yet}; "
        f"reload after one's own 200 showing an older version: {st.stale_reloads}",
    ]


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU(s), {cpu}, Python {platform.python_version()}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30, help="length of each measured run (default 30)")
    ap.add_argument("--clients", type=int, default=20, help="clients of the concurrent run (default 20)")
    ap.add_argument("--letters", type=int, default=20, help="letters to work on (default 20, at most 40)")
    ap.add_argument("--max-requests", type=int, default=100_000, help="cap on the requests of one run (default 100000)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server log)")
    ap.add_argument("--serve", metavar="DB", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve)
        return 0

    import httpx  # noqa: F401 (fail early when missing)
    import sqlalchemy
    import uvicorn

    from medletter.app.config import database_url
    from medletter.app.db import Database
    from medletter.privacy import guard

    guard.install()  # this process talks to 127.0.0.1 only
    tmp = Path(tempfile.mkdtemp(prefix="medletter-bench-app-"))
    db_path = str(tmp / "bench.db")
    log_path = tmp / "server.log"
    print(f"machine: {machine()}; uvicorn {uvicorn.__version__}, SQLAlchemy {sqlalchemy.__version__}, "
          f"SQLite {sqlite3.sqlite_version}")
    print(f"database: SQLite (WAL) {db_path}; server log: {log_path}")

    db = Database(database_url(db_path))  # creates the schema; the server's migration is then a no-op
    proc, base = start_server(db_path, log_path)
    results: list[RunResult] = []
    try:
        sd = seed(base, max(args.clients, 1), min(args.letters, 40), db)
        db.dispose()
        print(f"server: {base} (pid {proc.pid}); seeded {len(sd.tokens)} physicians with tokens, 40 cases (API), "
              f"{len(sd.letters)} letters (database)")
        warm = run_load("w", 1, min(3.0, args.seconds), base, sd, db_path, args.max_requests)
        results.append(warm)
        print(f"warm-up: {warm.requests} requests in {warm.seconds:.1f} s (not reported)")
        for label, n in (("r1", 1), (f"r{args.clients}", args.clients)):
            res = run_load(label, n, args.seconds, base, sd, db_path, args.max_requests)
            results.append(res)
            print(f"run {label}:")
            print("\n".join(describe(res)))
    finally:
        stop_server(proc)

    one, many = results[1], results[2]
    print(f"ratio {many.clients} clients / 1 client: throughput {many.rps / one.rps:.2f}×, "
          f"p95 read {many.pct('read', .95) / one.pct('read', .95):.2f}×, "
          f"p95 save {many.pct('save', .95) / one.pct('save', .95):.2f}×")

    failed = False
    for res in results:
        st = res.stats
        if st.server_errors:
            failed = True
            kinds = Counter(e.split(" -> ")[0].split("/")[3] if "/" in e else e for e in st.server_errors)
            print(f"FAIL run {res.label}: {len(st.server_errors)} server errors (5xx) by endpoint {dict(kinds)}; first: "
                  f"{st.server_errors[0]}")
        if st.transport_errors:
            failed = True
            print(f"FAIL run {res.label}: transport errors {dict(st.transport_errors)}")
        if res.clients == 1 and st.conflicts:
            failed = True
            print(f"FAIL run {res.label}: {len(st.conflicts)} × 409 with a single client")
    log = scan_log(log_path)
    if log:
        failed = failed or bool(log.get("Traceback"))
        print(f"server log {log_path}: {dict(log)}")
    else:
        print("server log: no errors")
    summary, problems = check_database(db_path, results)
    print(f"database: {summary['letters']} letters, {summary['versions']} versions ({summary['edits']} edits, "
          f"{summary['answered_200']} answered 200, {summary['audit_saves']} letter_save audit events)")
    print(f"lost: {summary['lost']}, duplicated: {summary['duplicated']}")
    if summary["duplicated"]:
        print(f"  duplicated: stored twice {summary['stored_twice']}, stored after a 409 {summary['stored_after_409']}, "
              f"stored without an answer {summary['stored_without_answer']}, stored for no request {summary['stored_unknown']}")
    for p in problems:
        print(f"FAIL {p}")
    failed = failed or bool(problems) or bool(summary["lost"]) or bool(summary["duplicated"])
    if not args.keep and not failed:
        for p in sorted(tmp.iterdir(), reverse=True):
            p.unlink()
        tmp.rmdir()
    print("FAILED" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
