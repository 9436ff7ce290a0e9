"""The letter page's wording for flags and missing facts, including the fact check's binding kinds, in English
and German (the page's language: values take its form, codes stay as they are)."""

from medletter.app.routes.pages import fact_label, flag_title


def test_flag_titles_say_why_a_value_is_highlighted():
    assert flag_title({"kind": "invalid_code", "value": "ICD-12 C9.7"}) == \
        "Check: looks like a code but is not a valid one (ICD-12 C9.7)"
    assert "another event" in flag_title({"kind": "date_event_mismatch", "value": "2029-03-01"})
    assert flag_title({"kind": "total_dose_gy", "value": "12.0"}) == "Not backed by the case: total dose 12.0"
    assert flag_title({"kind": "invalid_code", "value": "ICD-12 C9.7"}, "de") == \
        "Prüfen: sieht aus wie ein Code, ist aber kein gültiger (ICD-12 C9.7)"
    assert flag_title({"kind": "date_event_mismatch", "value": "2029-03-01"}, "de") == \
        "Prüfen: ein Datum, das der Fall hat, aber für ein anderes Ereignis (01.03.2029)"
    assert flag_title({"kind": "dose_gy", "value": "12 Gy"}, "de") == "Nicht durch den Fall belegt: Dosis 12 Gy"
    assert flag_title({"kind": "total_dose_gy", "value": "12.0"}, "de") == "Nicht durch den Fall belegt: total dose 12,0"


def test_missing_fact_labels_for_the_new_kinds():
    assert fact_label("date_of_diagnosis=2025-02-24") == "date of first diagnosis Feb 24, 2025"
    assert fact_label("secondary_diagnosis=COPD (J44.9)") == "secondary diagnosis COPD (J44.9)"
    assert fact_label("course2.total_dose_gy=10.0") == "Course 2: total dose (Gy) 10.0"
    assert fact_label("date_of_diagnosis=2025-02-24", "de") == "Datum der Erstdiagnose 24.02.2025"
    assert fact_label("course1.dose_per_fraction_gy=2.67", "de") == "Serie 1: Einzeldosis (Gy) 2,67"
    assert fact_label("icd10=C50.4", "de") == "ICD-10 C50.4"
    assert fact_label("ctcae_grade=Radiation dermatitis:1", "de") == "Radiation dermatitis: CTCAE-Grad 1"
