"""Blinded rating studies: creation (CLI and service), the rater's API and pages, blinding, order, results
and agreement (against the `krippendorff` package), CSV export. A real SQLite database, no model needed."""

from __future__ import annotations

import csv
import io
import json
import math
import random
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from .util import PASSWORD, add_users, bearer

SYSTEMS = ("sysalpha", "sysbeta")  # names a rater must never see (plus "reference")
RATERS = ("rita", "rolf", "rosa")


def _letters(records, tweak) -> str:
    return "".join(json.dumps({"case_id": r.case.case_id, "text": tweak(r)}, ensure_ascii=False) + "\n" for r in records)


@pytest.fixture
def study_files(tmp_path, corpus_records):
    """Five cases with their reference letters, and two systems' letters (each names the real patient)."""
    recs = corpus_records[:5]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(r.model_dump_json() + "\n" for r in recs), encoding="utf-8")
    a = tmp_path / "a.jsonl"
    a.write_text(_letters(recs, lambda r: f"Sehr geehrte Kollegen, wir berichten über {r.case.patient.first_name} "
                          f"{r.case.patient.last_name}, geb. {r.case.patient.birth_date:%d.%m.%Y}. Diagnose: "
                          f"{r.case.main_diagnosis.text}."), encoding="utf-8")
    b = tmp_path / "b.jsonl"
    b.write_text(_letters(recs, lambda r: r.letter.text[: len(r.letter.text) // 2]), encoding="utf-8")
    return recs, cases, a, b


@pytest.fixture
def env(tmp_path):
    from fastapi.testclient import TestClient

    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.app.services import auth

    app = create_app(Settings(db=str(tmp_path / "app.db")))
    add_users(app.state.db)
    with app.state.db.session() as s:
        for r in RATERS[1:]:
            auth.add_user(s, r, "rater", PASSWORD)
    with TestClient(app) as client:
        yield app, client, app.state.db, str(tmp_path / "app.db")


def _create(dbpath, files, name="s1", raters="rita,rolf", extra=()):
    from medletter.cli import app as cli

    recs, cases, a, b = files
    r = CliRunner().invoke(cli, ["study", "create", "--name", name, "--cases", str(cases), "--system", f"{SYSTEMS[0]}={a}",
                                 "--system", f"{SYSTEMS[1]}={b}", "--reference", "--raters", raters, "--seed", "7",
                                 "--db", dbpath, *extra])
    assert r.exit_code == 0, r.output
    return r


def _rate_all(client, h, sid, score_of, limit=None) -> list[dict]:
    seen = []
    while limit is None or len(seen) < limit:
        r = client.get(f"/api/v1/studies/{sid}/next", headers=h)
        if r.status_code == 204:
            break
        assert r.status_code == 200, r.text
        item = r.json()
        seen.append(item)
        scores = {d["key"]: score_of(item, d["key"]) for d in item["dimensions"]}
        r = client.post(f"/api/v1/studies/{sid}/ratings", headers=h, json={"item_id": item["item_id"], "scores": scores,
                                                                            "comment": "ok", "would_sign": True})
        assert r.status_code == 201, r.text
    return seen


def test_api_flow_status_codes_and_blinding(env, study_files):
    app, client, db, dbpath = env
    recs = study_files[0]
    _create(dbpath, study_files)
    h = bearer(db, "rita")
    r = client.get("/api/v1/studies", headers=h)
    assert r.status_code == 200
    (st,) = r.json()["studies"]
    assert st["name"] == "s1" and st["n_items"] == 15 and st["n_done"] == 0
    sid = st["id"]
    for who in ("doc", "root"):  # physicians and admins are not raters
        hh = bearer(db, who)
        assert client.get("/api/v1/studies", headers=hh).status_code == 403
        assert client.get(f"/api/v1/studies/{sid}/next", headers=hh).status_code == 403
        assert client.post(f"/api/v1/studies/{sid}/ratings", headers=hh, json={"item_id": "x", "scores": {}}).status_code == 403
    assert client.get("/api/v1/studies").status_code == 401

    first = client.get(f"/api/v1/studies/{sid}/next", headers=h).json()
    assert set(first) >= {"item_id", "case", "letter", "dimensions"} and len(first["dimensions"]) == 10
    assert all(set(d["scale"]) == {"1", "2", "3", "4"} for d in first["dimensions"])
    keys = [d["key"] for d in first["dimensions"]]
    bad = client.post(f"/api/v1/studies/{sid}/ratings", headers=h,
                      json={"item_id": first["item_id"], "scores": {**{k: 3 for k in keys[1:]}, keys[2]: 5, "nope": 1}})
    assert bad.status_code == 422
    errs = " ".join(bad.json()["errors"])
    assert f"scores.{keys[0]}: missing" in errs and f"scores.{keys[2]}: must be 1, 2, 3 or 4" in errs and "scores.nope" in errs
    assert client.post(f"/api/v1/studies/{sid}/ratings", headers=h,
                       json={"item_id": "0000000000000000", "scores": {k: 3 for k in keys}}).status_code == 404
    ok = client.post(f"/api/v1/studies/{sid}/ratings", headers=h, json={"item_id": first["item_id"], "scores": {k: 3 for k in keys},
                                                                       "comment": "fine"})
    assert ok.status_code == 201
    again = client.post(f"/api/v1/studies/{sid}/ratings", headers=h, json={"item_id": first["item_id"], "scores": {k: 2 for k in keys}})
    assert again.status_code == 409
    assert client.get("/api/v1/studies/999/next", headers=h).status_code == 404

    items = [first] + _rate_all(client, h, sid, lambda it, k: 4)
    assert len(items) == 15 and len({i["item_id"] for i in items}) == 15
    assert client.get(f"/api/v1/studies/{sid}/next", headers=h).status_code == 204
    assert client.get("/api/v1/studies", headers=h).json()["studies"][0]["n_done"] == 15

    # blinding: no system name, no real identity, in anything the rater received
    blob = json.dumps(items, ensure_ascii=False)
    for word in (*SYSTEMS, "reference", "Referenz"):
        assert word.lower() not in blob.lower()
    for rec in recs:  # as a word: a surrogate city may contain it ("Wolf" in "Wolfsburg")
        assert not re.search(rf"\b{re.escape(rec.case.patient.last_name)}\b", blob)
        assert rec.case.case_id not in blob
        assert f"{rec.case.patient.birth_date:%d.%m.%Y}" not in blob
    assert all(len(i["item_id"]) == 16 for i in items)
    # never two letters of one case back to back (a case's pseudonymised data is the same for its letters)
    cases_seen = [json.dumps(i["case"], sort_keys=True) for i in items]
    assert len(set(cases_seen)) == 5
    assert all(x != y for x, y in zip(cases_seen, cases_seen[1:]))
    # the same surrogate patient in the case and in the letter that named the real one
    named = [i for i in items if i["letter"].startswith("Sehr geehrte Kollegen, wir berichten über")]
    assert len(named) == 5
    for i in named:
        p = i["case"]["patient"]
        assert f"{p['first_name']} {p['last_name']}" in i["letter"]


def test_order_differs_between_raters_and_results_layout(env, study_files):
    app, client, db, dbpath = env
    _create(dbpath, study_files)
    sid = client.get("/api/v1/studies", headers=bearer(db, "rita")).json()["studies"][0]["id"]

    def score(rater):  # the letter decides, so both raters agree exactly, except on conciseness (random per rater)
        def f(item, key):
            base = 4 if item["letter"].startswith("Sehr geehrte Kollegen") else (2 if len(item["letter"]) < 1200 else 3)
            return base if key != "conciseness" else random.Random(item["item_id"] + key + rater).randint(1, 4)
        return f

    a = _rate_all(client, bearer(db, "rita"), sid, score("rita"))
    b = _rate_all(client, bearer(db, "rolf"), sid, score("rolf"))
    assert [x["item_id"] for x in a] != [x["item_id"] for x in b]
    assert sorted(x["item_id"] for x in a) == sorted(x["item_id"] for x in b)

    from medletter.cli import app as cli

    r = CliRunner().invoke(cli, ["study", "results", "s1", "--json", "--db", dbpath])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["study"] == "s1" and res["n_items"] == 15 and res["n_ratings"] == 30
    assert set(res["systems"]) == {*SYSTEMS, "reference"}
    dims = [d["key"] for d in res["dimensions"]]
    for sy, per in res["systems"].items():
        assert set(per) == set(dims)
        for d, v in per.items():
            assert set(v) >= {"mean", "ci_low", "ci_high", "n"} and v["n"] == 10
            assert v["ci_low"] <= v["mean"] <= v["ci_high"]
    assert res["systems"][SYSTEMS[0]]["clinical_benefit"]["mean"] == 4.0
    for d in dims:
        assert set(res["agreement"][d]) >= {"krippendorff_alpha", "n_items"} and res["agreement"][d]["n_items"] == 15
    assert res["agreement"]["clinical_benefit"]["krippendorff_alpha"] == pytest.approx(1.0)
    assert res["agreement"]["conciseness"]["krippendorff_alpha"] < 0.9
    pair = next(p for p in res["pairwise"] if {p["a"], p["b"]} == {SYSTEMS[0], SYSTEMS[1]})
    d = pair["dimensions"]["clinical_benefit"]
    assert d["n_cases"] == 5 and (d["mean_diff"] > 0) == (pair["a"] == SYSTEMS[0])
    assert d["ci_low"] <= d["mean_diff"] <= d["ci_high"]

    r = CliRunner().invoke(cli, ["study", "results", "s1", "--db", dbpath, "--csv", str(app.state.settings.db) + ".csv"])
    assert r.exit_code == 0 and "Krippendorff" in r.stdout
    rows = list(csv.DictReader(io.StringIO(open(str(app.state.settings.db) + ".csv", encoding="utf-8").read())))
    assert len(rows) == 30 and {row["system"] for row in rows} == {*SYSTEMS, "reference"}
    assert {row["rater"] for row in rows} == {"rita", "rolf"}


def test_agreement_matches_the_krippendorff_package_with_missing_ratings(env, study_files):
    """Three raters, two per letter, one rater stops early: α over items with ≥ 2 ratings equals the
    package's α on the matrix built here by hand; items with one rating are left out and counted."""
    import krippendorff

    from medletter.app.models import StudyItem
    from medletter.app.services import study_stats
    from medletter.app.services.studies import get_study

    app, client, db, dbpath = env
    _create(dbpath, study_files, raters="rita,rolf,rosa", extra=("--per-item", "2"))
    sid = client.get("/api/v1/studies", headers=bearer(db, "rita")).json()["studies"][0]["id"]

    def score(rater):
        return lambda item, key: 1 + (sum(map(ord, item["item_id"] + key + rater[:2])) % 4)

    given: dict[str, dict[str, dict]] = {}
    for who, limit in (("rita", None), ("rolf", None), ("rosa", 4)):
        for it in _rate_all(client, bearer(db, who), sid, score(who), limit=limit):
            given.setdefault(it["item_id"], {})[who] = {d["key"]: score(who)(it, d["key"]) for d in it["dimensions"]}
    with db.session() as s:
        res = study_stats.results(s, get_study(s, sid))
        assert len(list(s.query(StudyItem).filter_by(study_id=sid))) == 15
    assert res["n_ratings"] == 10 + 10 + 4
    for dim in ("clinical_benefit", "harm", "correctness"):
        used = sorted(i for i, rs in given.items() if len(rs) >= 2)
        matrix = [[given[i][r][dim] if r in given[i] else np.nan for i in used] for r in RATERS]
        expected = krippendorff.alpha(reliability_data=np.array(matrix, dtype=float), level_of_measurement="ordinal",
                                      value_domain=[1, 2, 3, 4])
        ag = res["agreement"][dim]
        assert ag["n_items"] == len(used) and ag["n_excluded"] == sum(1 for rs in given.values() if len(rs) == 1)
        assert ag["n_excluded"] > 0
        assert ag["krippendorff_alpha"] == pytest.approx(expected, abs=1e-12)
    # a known matrix (Krippendorff 2011, the ordinal example with missing values)
    known = [[1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
             [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
             [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
             [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan]]
    k = krippendorff.alpha(reliability_data=np.array(known, dtype=float), level_of_measurement="ordinal")
    assert 0.5 < k < 1.0 and not math.isnan(k)


def test_creation_errors_name_file_line_and_field_and_write_nothing(env, study_files, tmp_path):
    from medletter.cli import app as cli

    app, client, db, dbpath = env
    recs, cases, a, b = study_files
    bad = tmp_path / "bad.jsonl"
    lines = a.read_text(encoding="utf-8").splitlines()
    lines[1] = json.dumps({"case_id": recs[1].case.case_id})
    lines[2] = json.dumps({"case_id": "NOT-A-CASE", "text": "x"})
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["study", "create", "--name", "bad", "--cases", str(cases), "--system", f"x={bad}",
                                 "--raters", "rita,doc,nobody", "--db", dbpath])
    assert r.exit_code == 1
    out = r.output
    assert f"{bad}:2: text: a non-empty string is required" in out
    assert f"{bad}:3: case_id: not a case of {cases}" in out
    assert f"{cases}:3: case.case_id: no letter for this case in system 'x'" in out
    assert f"{cases}:2: case.case_id" not in out  # reported at its letters line already
    assert "raters.1: 'doc' is a physician, not a rater" in out and "raters.2: no such user" in out
    assert recs[1].case.patient.last_name not in out
    r = CliRunner().invoke(cli, ["study", "list", "--db", dbpath])
    assert r.stdout.strip() == ""
    _create(dbpath, study_files)
    r = CliRunner().invoke(cli, ["study", "create", "--name", "s1", "--cases", str(cases), "--reference", "--raters", "rita",
                                 "--db", dbpath])
    assert r.exit_code == 1 and "exists already" in r.output


def test_order_without_repeats_property():
    from medletter.app.services.studies import order_without_repeats

    rng = random.Random(1)
    for _ in range(300):
        groups = [f"c{rng.randint(0, rng.randint(1, 6))}" for _ in range(rng.randint(1, 25))]
        order = order_without_repeats(groups, random.Random(rng.random()))
        feasible = max(groups.count(g) for g in set(groups)) <= (len(groups) + 1) // 2
        assert (order is not None) == feasible
        if order is not None:
            assert sorted(order) == list(range(len(groups)))
            assert all(groups[x] != groups[y] for x, y in zip(order, order[1:]))
    assert len({tuple(order_without_repeats(list("aabbcc"), random.Random(s))) for s in range(20)}) > 3


def test_admin_pages_results_csv_and_roles(env, study_files):
    app, client, db, dbpath = env
    _create(dbpath, study_files)

    def login(name):
        import re

        client.cookies.clear()
        page = client.get("/login")
        tok = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": tok}, follow_redirects=False)
        assert r.status_code == 303

    sid = client.get("/api/v1/studies", headers=bearer(db, "rita")).json()["studies"][0]["id"]
    _rate_all(client, bearer(db, "rita"), sid, lambda it, k: 3)
    _rate_all(client, bearer(db, "rolf"), sid, lambda it, k: 3 if k != "harm" else 4)
    login("root")
    page = client.get(f"/admin/studies/{sid}")
    assert page.status_code == 200
    assert "Krippendorff" in page.text and page.text.count("<svg") == 10 and SYSTEMS[0] in page.text
    csv_r = client.get(f"/admin/studies/{sid}/ratings.csv")
    assert csv_r.status_code == 200 and csv_r.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(csv_r.text)))) == 30
    login("doc")
    assert client.get(f"/admin/studies/{sid}").status_code == 403
    assert client.get(f"/admin/studies/{sid}/ratings.csv").status_code == 403
    login("rita")
    assert client.get(f"/admin/studies/{sid}").status_code == 403
    home = client.get("/rater")
    assert "s1" in home.text and "fertig" in home.text
    for word in (*SYSTEMS, "reference"):
        assert word not in home.text


def test_demo_study_file_imports_with_from(env, study_files, tmp_path):
    """The demo's study file (write_study_file, relative paths) is what `study create --from` reads."""
    from medletter.app.studyfile import write_study_file
    from medletter.cli import app as cli
    from medletter.demo import study_section_html

    app, client, db, dbpath = env
    recs, cases, a, b = study_files
    run = tmp_path / "run"
    study = write_study_file(run / "study" / "study.json", cases, {"base": a, "finetuned": b})
    doc = json.loads(study.read_text())
    assert doc["cases"] == "../../cases.jsonl" and doc["reference"] is True
    html = study_section_html(run, study, len(recs))
    assert "study create --name demo --from" in html and "Overall clinical benefit" in html
    r = CliRunner().invoke(cli, ["study", "create", "--name", "demo", "--from", str(study), "--raters", "rita,rolf", "--db", dbpath])
    assert r.exit_code == 0, r.output
    assert "30 ratings to collect from 3 systems" in r.output.replace("\n", " ")
    broken = tmp_path / "broken.json"
    broken.write_text('{"systems": []}')
    r = CliRunner().invoke(cli, ["study", "create", "--name", "x", "--from", str(broken), "--raters", "rita", "--db", dbpath])
    assert r.exit_code == 2 and f"{broken}: cases:" in r.output
