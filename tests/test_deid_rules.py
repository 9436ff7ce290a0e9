"""General German de-identification rules for the kinds that letters unseen in development missed
(dates in history lists and ranges, ages in words or misspelt, ward/room/department numbers,
hospital names and their abbreviations, a signer with a role in parentheses, a place with a canton
or state code), each with invented positive and negative (medical text that must stay) examples,
and the residual-risk report of ``medletter deid run``.

All examples are invented; the held-back letters stay unseen on purpose.
"""

from __future__ import annotations

import json

import pytest

from medletter.privacy.detect import detect


def found(text: str, fragment: str, label: str | None = None) -> bool:
    """A detected span of ``label`` (any label if None) overlaps the first ``fragment`` in ``text``."""
    i = text.index(fragment)
    j = i + len(fragment)
    return any(s.start < j and i < s.end and (label is None or s.label == label) for s in detect(text))


def covers(text: str, fragment: str, label: str) -> bool:
    """One detected span of ``label`` covers the whole first ``fragment`` in ``text``."""
    i = text.index(fragment)
    j = i + len(fragment)
    return any(s.start <= i and j <= s.end and s.label == label for s in detect(text))


def labels(text: str) -> set[str]:
    return {s.label for s in detect(text)}


# --- dates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,years", [
    ("Vorerkrankungen: Z.n. Appendektomie 1998 und 2003, Cholezystektomie 2011.", ["1998", "2003", "2011"]),
    ("Mammakarzinom links, ED 2011, Rezidiv 2015", ["2011", "2015"]),
    ("Mammakarzinom rechts (ED:2011)", ["2011"]),
    ("Z.n. Knie-TEP beidseits 1998/2003", ["1998", "2003"]),
    ("Z.n. Hysterektomie 1998,2003", ["1998", "2003"]),
    ("Z.n. Sectio 2001-2004", ["2001", "2004"]),
    ("Z.n. Mastektomie 2057 und Radiatio 2058", ["2057", "2058"]),  # date-shifted corpora
    ("Z.n. Appendektomie ’98", ["’98"]),
    ("Winterhalbjahr 2003/04 stationär", ["2003/04"]),
])
def test_years_in_history_lists(text, years):
    for y in years:
        assert found(text, y, "DATE"), (text, y)


def test_year_pair_is_one_date():
    text = "Z.n. Pneumonie 2003/04, seither beschwerdefrei."
    assert covers(text, "2003/04", "DATE")


@pytest.mark.parametrize("text,first", [
    ("Bestrahlung vom 3. – 17. März 2021 mit 60 Gy.", "3."),
    ("Stationär vom 3.–17. März 2021.", "3."),
    ("Aufenthalt vom 3. bis 17. Okt. 2021 ohne Komplikationen.", "3."),
    ("Reha 3. - 24. Sept 2021", "3."),
])
def test_first_day_of_a_range_with_the_month_at_the_end(text, first):
    assert found(text, first, "DATE"), text


@pytest.mark.parametrize("text,date", [
    ("Wiedervorstellung am 4. Okt zur Kontrolle.", "4. Okt"),
    ("Letzte Chemotherapie am 12.Dez, gut vertragen.", "12.Dez"),
    ("Port-Anlage am 4. Sept in Lokalanästhesie.", "4. Sept"),
    ("CT vom Okt 2021 ohne Befund.", "Okt 2021"),
])
def test_day_and_abbreviated_month_without_year(text, date):
    assert covers(text, date, "DATE"), text


@pytest.mark.parametrize("text,rng", [
    ("Chemotherapie 4-7/18, danach Nachsorge.", "4-7/18"),
    ("Adjuvante Therapie 04–09/21 nach Schema.", "04–09/21"),
])
def test_month_year_ranges(text, rng):
    assert covers(text, rng, "DATE"), text


@pytest.mark.parametrize("text", [
    "Bestrahlung mit 60 Gy in 30 Fraktionen zu 2 Gy, Boost 10 Gy.",
    "Metformin 1000 mg 1-0-1, Vitamin D 20000 IE 1x/Woche, Novalgin 3 x täglich 20 Trpf.",
    "cT2 cN1 cM0, pT1c pN0 (0/2) L0 V0 R0, G2, ICD-10 C50.9, Grad 2 nach CTCAE.",
    "Hb 11,2 g/dl, Leukozyten 4,7/nl, Erythrozyten 4-7/HPF, PSA 4,7 ng/ml, Gleason 3+4=7.",
    "Seit 2 Jahren beschwerdefrei, Kontrolle in 3 Monaten, ECOG 0-1.",
    "Heparin 5000 IE s.c., Dekristol 20000 IE, Infusion 1500 ml.",
    "Die Klinik war unauffällig; MRT und CT in 4-6 Wochen.",
])
def test_medical_numbers_are_not_dates(text):
    assert "DATE" not in labels(text), text


# --- ages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,age", [
    ("Die einundsiebzigjährige Patientin stellte sich vor.", "einundsiebzig"),
    ("Eine zweiundachtzig-jährige Patientin in gutem AZ.", "zweiundachtzig"),
    ("Der Dreiundsechzigjährige wurde aufgenommen.", "Dreiundsechzig"),
    ("Ein vierzehnjähriges Mädchen mit Kopfschmerzen.", "vierzehn"),
    ("Die Patientin ist siebzig Jahre alt.", "siebzig"),
    ("Erstdiagnose im Alter von dreiundfünfzig Jahren.", "dreiundfünfzig"),
    ("Die einundsiebzg-jährige Patientin (misspelt number word).", "einundsiebzg"),
    ("Der 71-jähirge Patient wurde aufgenommen.", "71"),
    ("Eine 65-jhrige Patientin in reduziertem AZ.", "65"),
    ("Der 58-järige Patient klagt über Dyspnoe.", "58"),
    ("Eine 49 jährge Frau mit Mammakarzinom.", "49"),
    ("Der 81-jäjriger Mann kam in Begleitung.", "81"),
])
def test_ages_in_words_and_misspelt(text, age):
    assert found(text, age, "AGE"), text


@pytest.mark.parametrize("text", [
    "Die 5-jährige Überlebensrate liegt bei 80 %.",
    "Das fünfjährige Überleben beträgt 70 %, nach einer dreijährigen Erhaltungstherapie.",
    "Langjährige Raucherin, mehrjährige Nachsorge, vierteljährliche Kontrollen, halbjährlich Sonographie.",
    "Kontrollen 1 x jährlich, 2-jährlich Mammographie, nach 5 Jahren Abschluss der Nachsorge.",
    "Die Therapie dauerte zwei Jahre.",
])
def test_durations_and_rates_are_not_ages(text):
    assert "AGE" not in labels(text), text


# --- wards, rooms, theatres and department numbers (GraSCCo labels them ID) --------------------------


@pytest.mark.parametrize("text,unit", [
    ("Verlegung auf Station 4 Nord zur weiteren Therapie.", "4 Nord"),
    ("Aufnahme auf die Normalstation 12B.", "12B"),
    ("Übernahme auf die Wachstation 3 am Abend.", "3"),
    ("Operation im OP-Saal 3 ohne Komplikationen.", "3"),
    ("Die Entbindung erfolgte im Kreißsaal 2.", "2"),
    ("Erstversorgung im Schockraum 1.", "1"),
    ("Die Patientin liegt in Zimmer 12.", "12"),
    ("Medizinische Klinik II\nKardiologie", "II"),
    ("Verlegung in die Klinik für Innere Medizin III zur Abklärung.", "III"),
    ("Chirurgische Klinik I, Station 4", "I"),
])
def test_ward_room_theatre_and_department_numbers(text, unit):
    assert covers(text, unit, "ID"), text


@pytest.mark.parametrize("text", [
    "Mammakarzinom Stadium II nach UICC, NYHA II, Diabetes mellitus Typ II, Hirnnerven II-XII intakt.",
    "Stationäre Aufnahme zur Chemotherapie; die Klinik war nach 2 Wochen rückläufig.",
    "Raumforderung 3 cm im Oberlappen, OP 3 Tage später.",
    "Fraktur Grad II, Rezidiv Klasse III, Mallampati II.",
])
def test_stages_and_grades_are_not_unit_numbers(text):
    assert "ID" not in labels(text), text


# --- hospital names and their abbreviations ----------------------------------------------------------


@pytest.mark.parametrize("text,name", [
    ("Die Patientin wurde in der Asklepios Klinik Barmbek operiert.", "Asklepios Klinik Barmbek"),
    ("Vorbehandlung im Helios Klinikum Aarau 2019.", "Helios Klinikum Aarau"),
    ("Verlegung ins Klinikum Nürnberg Nord.", "Klinikum Nürnberg Nord"),
    ("Vorstellung im Spitalzentrum Biel am Montag.", "Spitalzentrum Biel"),
    ("Tumorkonferenz im Tumorzentrum Oberfranken.", "Tumorzentrum Oberfranken"),
    ("Mammographie im Brustzentrum Aarau.", "Brustzentrum Aarau"),
    ("Zuweisung aus dem Gesundheitszentrum Fricktal.", "Gesundheitszentrum Fricktal"),
    ("Vorbehandlung im Aarauer Kantonsspital.", "Aarauer Kantonsspital"),
])
def test_hospital_names_from_institution_words_and_places(text, name):
    assert covers(text, name, "LOCATION_HOSPITAL"), text


@pytest.mark.parametrize("text,abbr", [
    ("Operation im Universitätsklinikum Hamburg-Eppendorf (UKE) 2019; Nachsorge weiter im UKE.", "UKE."),
    ("Vorbehandlung im Kantonsspital Baden (KSB), danach Nachsorge im KSB.", "KSB."),
    ("Vorbehandlung im KSA, Verlegung ans USZ.", "KSA"),
    ("Vorbehandlung im KSA, Verlegung ans USZ.", "USZ"),
    ("Erstdiagnose am UKM, Bestrahlung am UKGM.", "UKM"),
    ("Erstdiagnose am UKM, Bestrahlung am UKGM.", "UKGM"),
])
def test_hospital_abbreviations(text, abbr):
    i = text.rindex(abbr.rstrip("."))
    assert any(s.start <= i < s.end and s.label == "LOCATION_HOSPITAL" for s in detect(text)), text


@pytest.mark.parametrize("text", [
    "Aufnahme in unserer Klinik; die Medizinische Klinik und die Psychiatrische Klinik wurden konsultiert.",
    "Klinik für Strahlentherapie und Radioonkologie, Klinik und Poliklinik für Urologie.",
    "Die Klinik war unauffällig. Im Zentrum der Läsion zeigt sich eine Nekrose.",
    "CT, MRT, PET-CT, EKG, HNO-Konsil, ECOG 1, KPS 80 %, PSA, CRP, DCIS, NSCLC, HER2, IMRT, VMAT, SBRT.",
    "Computertomographie (CT), Magnetresonanztomographie (MRT), Elektrokardiogramm (EKG).",
    "Tumorboard-Beschluss: adjuvante Radiatio; Vorstellung im Tumorzentrum.",
])
def test_medical_words_and_generic_institutions_are_not_hospitals(text):
    assert "LOCATION_HOSPITAL" not in labels(text), text


# --- the signer with a role in parentheses ---------------------------------------------------------


@pytest.mark.parametrize("text,name", [
    ("Befund wie oben.\n\nIlvy Quastberg (Assistenzärztin)\n", "Ilvy Quastberg"),
    ("Befund wie oben.\n\nDr. med. Peter Okonkwo (Oberarzt)   Ilvy Quastberg (Assistenzärztin)\n", "Ilvy Quastberg"),
    ("Mit freundlichen Grüßen\n\nJorinde Pfaffenholz (Fachärztin für Radioonkologie)\n", "Jorinde Pfaffenholz"),
    ("Befund wie oben.\n\nLeander Wüstefeld (OA)\n", "Leander Wüstefeld"),
])
def test_signature_name_with_role_in_parentheses(text, name):
    assert covers(text, name, "NAME_DOCTOR"), text


@pytest.mark.parametrize("text", [
    "Visite (Oberarzt) am Morgen, Bestrahlungsplanung (Oberärztin) abgeschlossen.\n",
    "Befund wie oben.\n\nBefundbesprechung Strahlentherapie (Oberärztin)\n",
    "Befund wie oben.\n\nAufklärung (Assistenzarzt)\n",
])
def test_roles_in_parentheses_without_a_name(text):
    assert not {"NAME_DOCTOR", "NAME_PATIENT"} & labels(text), text


# --- a place with a canton or state code -----------------------------------------------------------


@pytest.mark.parametrize("text,place", [
    ("Die Patientin wohnt in Aarau (AG).", "Aarau (AG)"),
    ("Patient aus Olten (SO), Überweisung durch den Hausarzt.", "Olten (SO)"),
    ("Zuweisung aus Wettingen (AG) zur Bestrahlung.", "Wettingen (AG)"),
    ("Voroperation in Freising (BY) 2019.", "Freising (BY)"),
])
def test_place_with_canton_or_state_code(text, place):
    assert covers(text, place, "LOCATION_CITY"), text


@pytest.mark.parametrize("text", [
    "Erhöhte Triglyceride (TG) und ein auffälliges Blutbild (BB).",
    "Färbung mit Hämatoxylin-Eosin (HE), Aorteninsuffizienz (AI) I°.",
    "Nachexzision (NE) geplant, Strahlentherapie (ST) im Anschluss.",
])
def test_medical_abbreviations_in_parentheses_are_not_places(text):
    assert "LOCATION_CITY" not in labels(text), text


# --- the residual-risk report of `medletter deid run` ----------------------------------------------


def test_deid_run_writes_a_residual_risk_report_without_phi(tmp_path):
    from typer.testing import CliRunner

    from medletter.cli import app

    runner = CliRunner()
    corpus, out, key = tmp_path / "corpus.jsonl", tmp_path / "deid.jsonl", tmp_path / "deid.key"
    r = runner.invoke(app, ["synth", "--n", "6", "--seed", "2", "--out", str(corpus)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    # a weak, uncorroborated decision in record 3: a bare year and a place from the list of places
    extra = "\nVorbefund aus Aarau 2003."
    start = len(rows[2]["letter"]["text"])
    rows[2]["letter"]["text"] += extra
    corpus.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows), encoding="utf-8")
    assert runner.invoke(app, ["deid", "keygen", str(key)]).exit_code == 0
    r = runner.invoke(app, ["deid", "run", "--in", str(corpus), "--out", str(out), "--key-file", str(key)])
    assert r.exit_code == 0, r.output

    report_file = tmp_path / "deid.deid-report.json"
    assert report_file.exists() and "deid-report" in r.output
    raw = report_file.read_text(encoding="utf-8")
    rep = json.loads(raw)
    assert rep["records"] == 6 and rep["letters"] == 6
    counts = rep["replaced"]["letters"]
    for label in ("NAME_PATIENT", "NAME_DOCTOR", "DATE"):
        assert counts.get(label, 0) > 0, label
    assert rep["replaced"]["letters_total"] == sum(counts.values())
    assert "NAME_TITLE" not in counts  # titles are kept in pseudonymize mode
    # the weak decisions of record 3 are listed, by label and offset, and nothing in the record's own text
    assert 3 in rep["records_to_review"]
    entry = next(e for e in rep["review"] if e["record"] == 3)
    assert {d["label"] for d in entry["low_confidence"]} >= {"DATE"}
    assert all(d["start"] >= start for d in entry["low_confidence"])
    assert set(entry) == {"record", "case_id", "low_confidence"}
    for d in entry["low_confidence"]:
        assert set(d) == {"label", "start", "end", "source", "score", "support"}
    # no patient information: no names, birth dates, streets, cities or ids of the input
    for row in rows:
        p = row["case"]["patient"]
        values = [p["first_name"], p["last_name"], p["birth_date"], p["address"]["street"], p["address"]["city"],
                  p["patient_id"], p["case_id"], row["case"]["case_id"], "Aarau"]
        for doc in [row["case"]["referring_physician"], *row["case"]["treating_physicians"]]:
            values += [doc["first_name"], doc["last_name"]]
        for v in values:
            assert str(v) not in raw, "patient information in the residual-risk report"

    # mask mode: no case ids at all (only record numbers), a report at the path asked for
    other = tmp_path / "other-report.json"
    r = runner.invoke(app, ["deid", "run", "--in", str(corpus), "--out", str(tmp_path / "m.jsonl"), "--key-file",
                            str(key), "--mode", "mask", "--report", str(other)])
    assert r.exit_code == 0, r.output
    rep = json.loads(other.read_text(encoding="utf-8"))
    assert rep["mode"] == "mask" and all(set(e) == {"record", "low_confidence"} for e in rep["review"])
