"""Validation of case records: good ones pass, bad ones name their file, line and field."""

from __future__ import annotations

import json

import pytest

from medletter.jsonl import RecordsError, load_records, read_records
from medletter.records import Record


def _write(path, lines):
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n", encoding="utf-8")
    return path


def test_good_record_validates(good_record):
    r = Record.model_validate(good_record)
    assert r.case.radiotherapy_courses[0].total_dose_gy == pytest.approx(40.05)
    assert r.case.rt_end.isoformat() == "2029-03-28"


@pytest.mark.parametrize(
    "mutate, field, words",
    [
        (lambda c: c["radiotherapy_courses"][0].update(fractions=-3), "case.radiotherapy_courses.0.fractions", "greater than or equal to 1"),
        (lambda c: c["radiotherapy_courses"][0].update(total_dose_gy=45.0), "case.radiotherapy_courses.0.total_dose_gy", "does not equal"),
        (lambda c: c["radiotherapy_courses"][0].update(dose_per_fraction_gy=30.0, total_dose_gy=450.0), "case.radiotherapy_courses.0.dose_per_fraction_gy", "less than or equal to 25"),
        (lambda c: c["radiotherapy_courses"][0].update(dose_per_fraction_gy=0.2, total_dose_gy=3.0), "case.radiotherapy_courses.0.dose_per_fraction_gy", "greater than or equal to 0.5"),
        (lambda c: c["toxicities"][0].update(grade=7), "case.toxicities.0.grade", "less than or equal to 5"),
        (lambda c: c["radiotherapy_courses"][0].update(end_date="2029-02-01"), "case.radiotherapy_courses.0.end_date", "before start_date"),
        (lambda c: c["main_diagnosis"].update(icd10="50.4"), "case.main_diagnosis.icd10", "ICD-10"),
        (lambda c: c["main_diagnosis"].update(tnm="stage two"), "case.main_diagnosis.tnm", "TNM"),
        (lambda c: c["patient"].update(birth_date="2030-01-01"), "case.patient.birth_date", "not before letter_date"),
        (lambda c: c["radiotherapy_courses"][0].update(start_date="2028-12-01"), "case.radiotherapy_courses.0.start_date", "before the date of diagnosis"),
        (lambda c: c["patient"].pop("last_name"), "case.patient.last_name", "missing"),
        (lambda c: c["radiotherapy_courses"][0].update(fractions="many"), "case.radiotherapy_courses.0.fractions", "integer"),
        (lambda c: c["patient"].update(birth_date="4.4.1957"), "case.patient.birth_date", "date"),
        (lambda c: c.update(favourite_colour="blue"), "case.favourite_colour", "unknown field"),
    ],
)
def test_bad_record_names_field_and_line(tmp_path, good_record, mutate, field, words):
    bad = json.loads(json.dumps(good_record))
    mutate(bad["case"])
    f = _write(tmp_path / "cases.jsonl", [good_record, bad, good_record])
    res = read_records(f)
    assert len(res.good) == 2
    msgs = [str(e) for e in res.errors]
    assert any(m.startswith(f"{f}:2: {field}: ") and words in m for m in msgs), msgs
    assert all(e.line == 2 for e in res.errors)


def test_stated_sum_allows_other_total(good_record):
    c = good_record["case"]["radiotherapy_courses"][0]
    c.update(total_dose_gy=50.05, dose_stated_as_sum=True)
    Record.model_validate(good_record)


def test_all_bad_lines_reported_not_just_first(tmp_path, good_record):
    bad_frac = json.loads(json.dumps(good_record))
    bad_frac["case"]["radiotherapy_courses"][0]["fractions"] = -1
    f = _write(tmp_path / "c.jsonl", [good_record, bad_frac, '{"case": {"broken', "[1, 2]", good_record])
    f.write_bytes(f.read_bytes() + b'{"case": "\xff\xfe"}\n')
    res = read_records(f)
    by_line = {e.line: str(e) for e in res.errors}
    assert "fractions" in by_line[2]
    assert "invalid JSON" in by_line[3] and by_line[3].startswith(f"{f}:3: (json): ")
    assert "expected a JSON object" in by_line[4]
    assert "not UTF-8" in by_line[6]
    assert len(res.good) == 2


def test_empty_file_is_an_error(tmp_path):
    f = tmp_path / "empty.jsonl"
    f.write_text("\n\n")
    with pytest.raises(RecordsError, match="empty"):
        read_records(f)
    with pytest.raises(RecordsError, match="no such file"):
        read_records(tmp_path / "missing.jsonl")


def test_errors_never_echo_values(tmp_path, good_record):
    bad = json.loads(json.dumps(good_record))
    bad["case"]["patient"]["birth_date"] = "Beate-Albers-geheim"
    bad["case"]["patient"]["sex"] = "Albers"
    f = _write(tmp_path / "c.jsonl", [bad])
    text = "\n".join(str(e) for e in read_records(f).errors)
    assert "birth_date" in text and "sex" in text
    assert "Albers" not in text and "geheim" not in text


def test_load_records_stops_or_skips(tmp_path, good_record):
    bad = json.loads(json.dumps(good_record))
    bad["case"]["toxicities"][0]["grade"] = 9
    f = _write(tmp_path / "c.jsonl", [good_record, bad])
    with pytest.raises(RecordsError) as ei:
        load_records(f)
    assert ei.value.errors[0].line == 2
    rej = tmp_path / "rej.jsonl"
    recs = load_records(f, skip_invalid=True, rejects=rej)
    assert len(recs) == 1
    rows = [json.loads(l) for l in rej.read_text().splitlines()]
    assert rows[0]["line"] == 2 and "grade" in rows[0]["errors"][0]


def test_schema_lists_domain_fields():
    schema = json.dumps(Record.model_json_schema())
    for key in ("dose_per_fraction_gy", "total_dose_gy", "icd10", "tnm", "insurance_number", "grade", "first_visit_weeks"):
        assert key in schema
