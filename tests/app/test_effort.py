"""Correction effort of approved letters (services/effort.py, `medletter app-stats`, /admin/stats).

The letters are written through the services on a real SQLite app database: a model draft
(``review.create_letter``), a physician's save and an approval; the draft and approval times are
then set to fixed instants so that minutes and ISO weeks are exact. The expected figures are
counted by hand on the 30-word draft below.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from medletter.cli import app as cli

from .test_security import login

# 30 words: 5 (salutation) + 1 + 6 (diagnosis) + 2 + 11 (radiotherapy) + 3 + 2 (closing)
DRAFT = """Sehr geehrter Herr Kollege Hausmann,

Diagnose:
Mammakarzinom links (C50.4), pT1c pN0 cM0

Durchgeführte Strahlentherapie:
Restbrust links mit IMRT, 15 x 2,67 Gy bis 42 Gy.

Mit freundlichen Grüßen
Dr. Strahl"""
# the wrong total dose (42 Gy, backed by nothing in the case) corrected, and one word added to the
# closing: 1 substitution + 1 insertion = distance 2; 29 of 30 draft words kept
CORRECTED = DRAFT.replace("bis 42 Gy.", "bis 40,05 Gy.").replace("Mit freundlichen Grüßen", "Mit freundlichen kollegialen Grüßen")
NO_SIGNATURE = DRAFT.replace("\nDr. Strahl", "")  # 2 deletions, 28 kept, only "closing" changed
NO_COLLEAGUE = DRAFT.replace("Herr Kollege Hausmann", "Herr Hausmann")  # 1 deletion, 29 kept, only "salutation"
# what must never leave the database through the statistics: words of the letters, fact values
LETTER_WORDS = ("Hausmann", "Mammakarzinom", "Restbrust", "Strahlentherapie", "geehrter", "freundlichen", "kollegialen",
                "Strahl", "C50.4", "pT1c", "40,05", "40.05", "2029-03", "Tumorbett", "Fatigue", "dermatitis")
W48 = dt.datetime(2026, 11, 24, 9, 0)  # Tuesday of ISO week 2026-W48
W49 = dt.datetime(2026, 12, 1, 8, 0)  # Tuesday of 2026-W49


@pytest.fixture
def env(tmp_path, good_case):
    """(app, db, add_letter): an app without a model, its users and one imported case."""
    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from medletter.app.models import CaseRow, Letter, LetterVersion, User
    from medletter.app.services import cases, review
    from medletter.app.services.auth import Principal

    from .util import add_users

    app = create_app(Settings(db=str(tmp_path / "effort.db")))
    db = app.state.db
    add_users(db)
    with db.session() as s:
        [case_id] = cases.import_jsonl(s, Principal.system(), json.dumps({"case": good_case}).encode())
        doc = Principal(s.scalar(select(User.id).where(User.name == "doc")), "doc", "physician")

    def add_letter(model: str, final: str | None, drafted_at: dt.datetime, minutes: float = 0, approve: bool = True,
                   edit_after_approval: bool = False) -> int:
        """A model draft of DRAFT, saved as ``final`` (None: no save), approved ``minutes`` after the draft."""
        with db.session() as s:
            lt = review.create_letter(s, s.get(CaseRow, case_id), DRAFT, "uniklinik", "de", model, None)
            s.flush()
            if final is not None:
                review.save(s, doc, lt.id, 1, final)
            if approve:
                review.approve(s, doc, lt.id)
                s.execute(update(Letter).where(Letter.id == lt.id).values(approved_at=drafted_at + dt.timedelta(minutes=minutes)))
            if edit_after_approval:
                review.save(s, doc, lt.id, lt.version, final + " PS")
            s.execute(update(LetterVersion).where(LetterVersion.letter_id == lt.id, LetterVersion.version == 1)
                      .values(created_at=drafted_at))
            return lt.id

    return app, db, add_letter


def _report(db) -> dict:
    from medletter.app.services import effort
    from medletter.app.services.auth import Principal

    with db.session() as s:
        return effort.report(s, Principal.system())


def _no_letter_text(document: str) -> None:
    leaked = [w for w in LETTER_WORDS if w in document]
    assert not leaked, leaked


def test_one_constructed_edit(env):
    from medletter.app.services import effort

    _app, db, add_letter = env
    add_letter("run-a", CORRECTED, W48, minutes=90)
    add_letter("run-a", CORRECTED, W48, approve=False)  # edited, never approved: not counted
    add_letter("run-a", CORRECTED, W48, minutes=5, edit_after_approval=True)  # a draft again: not counted
    with db.session() as s:
        [e] = effort.letter_efforts(s)
    assert (e.model, e.draft_words, e.approved_words) == ("run-a", 30, 31)
    assert (e.edit_distance, e.words_kept) == (2, 29)
    assert e.share_kept == pytest.approx(29 / 30)
    assert e.minutes_to_approval == 90.0 and e.week == "2026-W48"
    assert e.sections == ("salutation", "diagnosis", "radiotherapy", "closing")
    assert e.sections_changed == ("radiotherapy", "closing")
    # the draft's fact check flags "dose_gy=42" (unsupported) and misses "course1.total_dose_gy=40.05";
    # the correction removes both; the other kinds' entries (dates, course 2, toxicities) stay as they were
    assert e.fact_kinds_changed == ("dose_gy", "total_dose_gy")
    assert {"dose_gy", "total_dose_gy", "end_date", "ctcae_grade"} <= set(e.fact_kinds)

    rep = _report(db)
    assert rep["letters"] == 1 and list(rep["models"]) == ["run-a"]
    g = rep["models"]["run-a"]
    assert g["share_kept_mean"] == g["share_kept_median"] == 0.9667
    assert g["edit_distance_mean"] == 2.0 and g["unchanged"] == 0 and g["minutes_to_approval_median"] == 90.0
    assert g["section_change_rate"] == {"salutation": 0.0, "diagnosis": 0.0, "radiotherapy": 1.0, "closing": 1.0}
    assert g["fact_kind_change_rate"]["dose_gy"] == g["fact_kind_change_rate"]["total_dose_gy"] == 1.0
    assert g["fact_kind_change_rate"]["end_date"] == 0.0


def test_sections_and_fact_kinds_are_read_generically():
    from medletter.app.services.effort import changed_fact_kinds, changed_sections
    from medletter.evaluate.core import split_sections

    assert split_sections("Betreff: x\n" + DRAFT, "uniklinik", "de")["header"] == "Betreff: x\n"
    assert "header" not in split_sections(DRAFT, "uniklinik", "de")
    assert split_sections(DRAFT, "no-such-style", "de") is None
    assert changed_sections(DRAFT, CORRECTED, "no-such-style", "de") is None
    # kinds facts.py does not make (yet) count as well; offsets that moved are no change
    a = {"unsupported": [{"start": 3, "end": 9, "kind": "laterality", "value": "rechts"}], "missing": ["course2.drug=x", "icd10=C50.4"],
         "contradicted": [{"kind": "drug", "value": "y"}], "missing_sections": ["history"], "recall": 0.5}
    b = {"unsupported": [{"start": 7, "end": 13, "kind": "laterality", "value": "rechts"}], "missing": ["course2.drug=x"],
         "contradicted": [], "missing_sections": [], "recall": 0.9}
    assert changed_fact_kinds(json.dumps(a), json.dumps(b)) == (("drug", "icd10", "laterality"), ("drug", "icd10"))
    assert changed_fact_kinds("not json", json.dumps(b)) is None  # not measured, rather than "all changed"


def test_aggregation_over_two_models_and_two_weeks(env):
    _app, db, add_letter = env
    add_letter("run-a", CORRECTED, W48, minutes=90)  # distance 2, 29/30 kept
    add_letter("run-a", None, W49, minutes=30)  # approved as drafted
    add_letter("run-b", NO_SIGNATURE, W48, minutes=600)  # distance 2, 28/30 kept
    add_letter("run-b", NO_COLLEAGUE, W49, minutes=60)  # distance 1, 29/30 kept
    add_letter("run-c", CORRECTED, W49, approve=False)
    rep = _report(db)
    assert rep["letters"] == 4 and list(rep["models"]) == ["run-a", "run-b"]
    a, b, overall = rep["models"]["run-a"], rep["models"]["run-b"], rep["overall"]
    assert (a["letters"], a["share_kept_mean"], a["share_kept_median"]) == (2, 0.9833, 0.9833)  # (29/30 + 1) / 2
    assert (a["edit_distance_mean"], a["unchanged"], a["minutes_to_approval_median"], a["minutes_to_approval_mean"]) == (1.0, 1, 60.0, 60.0)
    assert a["section_change_rate"] == {"salutation": 0.0, "diagnosis": 0.0, "radiotherapy": 0.5, "closing": 0.5}
    assert (a["fact_kind_change_rate"]["dose_gy"], a["fact_kind_change_rate"]["total_dose_gy"]) == (0.5, 0.5)
    assert (b["letters"], b["share_kept_mean"], b["share_kept_median"]) == (2, 0.95, 0.95)  # (28/30 + 29/30) / 2
    assert (b["edit_distance_mean"], b["edit_distance_median"], b["unchanged"], b["minutes_to_approval_median"]) == (1.5, 1.5, 0, 330.0)
    assert b["section_change_rate"] == {"salutation": 0.5, "diagnosis": 0.0, "radiotherapy": 0.0, "closing": 0.5}
    assert set(b["fact_kind_change_rate"].values()) == {0.0}
    assert (overall["letters"], overall["share_kept_mean"], overall["share_kept_median"]) == (4, 0.9667, 0.9667)  # 116/120
    assert (overall["edit_distance_mean"], overall["minutes_to_approval_median"], overall["sections_measured"]) == (1.25, 75.0, 4)
    weeks = [(w["week"], w["model"], w["letters"], w["share_kept_mean"], w["edit_distance_mean"], w["minutes_to_approval_median"])
             for w in rep["weeks"]]
    assert weeks == [("2026-W48", "run-a", 1, 0.9667, 2.0, 90.0), ("2026-W48", "run-b", 1, 0.9333, 2.0, 600.0),
                     ("2026-W49", "run-a", 1, 1.0, 0.0, 30.0), ("2026-W49", "run-b", 1, 0.9667, 1.0, 60.0)]


def test_app_stats_command(env, tmp_path):
    app, db, add_letter = env
    add_letter("run-a", CORRECTED, W48, minutes=90)
    add_letter("run-b", NO_COLLEAGUE, W49, minutes=60)
    path = str(tmp_path / "effort.db")
    r = CliRunner().invoke(cli, ["app-stats", "--db", path, "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert set(doc) == {"letters", "overall", "models", "weeks"} and doc["letters"] == 2
    assert set(doc["models"]) == {"run-a", "run-b"}
    assert set(doc["models"]["run-a"]) == set(doc["overall"]) == {
        "letters", "share_kept_mean", "share_kept_median", "edit_distance_mean", "edit_distance_median", "minutes_to_approval_median",
        "minutes_to_approval_mean", "unchanged", "draft_words_mean", "sections_measured", "section_change_rate", "facts_measured",
        "fact_kind_change_rate"}
    assert [(w["week"], w["model"]) for w in doc["weeks"]] == [("2026-W48", "run-a"), ("2026-W49", "run-b")]
    assert set(doc["weeks"][0]) == {"week", "model", "letters", "share_kept_mean", "share_kept_median", "edit_distance_mean",
                                    "edit_distance_median", "minutes_to_approval_median"}
    _no_letter_text(r.stdout)
    assert "doc" not in r.stdout  # no user names either
    r = CliRunner().invoke(cli, ["app-stats", "--db", path])
    assert r.exit_code == 0, r.output
    assert "run-a" in r.stdout and "2026-W49" in r.stdout and "96.7%" in r.stdout
    _no_letter_text(r.stdout)


def test_admin_page(env):
    app, db, add_letter = env
    add_letter("run-a", CORRECTED, W48, minutes=90)
    add_letter("run-a", None, W49, minutes=30)
    add_letter("run-b", NO_SIGNATURE, W48, minutes=600)
    doc = TestClient(app)
    assert login(doc, "doc").status_code == 303
    assert doc.get("/admin/stats").status_code == 403
    assert 'href="/admin/stats"' not in doc.get("/cases").text
    admin = TestClient(app)
    assert login(admin, "root").status_code == 303
    r = admin.get("/admin/stats")
    assert r.status_code == 200
    page = r.text
    assert 'href="/admin/stats"' in page and "3 freigegebene Briefe" in page
    assert "<svg" in page and page.count("<polyline") == 2 and "2026-W48" in page and "2026-W49" in page
    assert "96,7\u00a0%" in page and "Strahlentherapie" in page and "Gesamtdosis (Gy)" in page  # German: the default
    assert "style=" not in page and "<style" not in page and "<script" not in page  # the CSP allows neither
    _no_letter_text(page.replace("<td>Strahlentherapie</td>", ""))  # the section's German name is a label, not letter text
    assert TestClient(app).get("/admin/stats", follow_redirects=False).status_code == 303  # to the login page
