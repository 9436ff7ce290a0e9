"""The letter page's wording for flags and missing facts, including the fact check's binding kinds."""

from medletter.app.routes.pages import fact_label, flag_title


def test_flag_titles_say_why_a_value_is_highlighted():
    assert flag_title({"kind": "invalid_code", "value": "ICD-12 C9.7"}) == \
        "Check: looks like a code but is not a valid one (ICD-12 C9.7)"
    assert "another event" in flag_title({"kind": "date_event_mismatch", "value": "2029-03-01"})
    assert flag_title({"kind": "total_dose_gy", "value": "12.0"}) == "Not backed by the case: total dose 12.0"


def test_missing_fact_labels_for_the_new_kinds():
    assert fact_label("date_of_diagnosis=2025-02-24") == "date of first diagnosis 2025-02-24"
    assert fact_label("secondary_diagnosis=COPD (J44.9)") == "secondary diagnosis COPD (J44.9)"
    assert fact_label("course2.total_dose_gy=10.0") == "Course 2: total dose (Gy) 10.0"
