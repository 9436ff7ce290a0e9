"""The problems of an uploaded case file, in the user's language.

``medletter.jsonl`` and the record schema (``medletter.records``, pydantic) word a bad line's problem in
English for every command; an upload in the app lists them as ``LINE: FIELD: problem``. The problems
below are recognised by their wording (numbers and names in them matched as parameters) and shown
translated; any other problem (a rarer one of pydantic's) is shown as it is, in English.
"""

from __future__ import annotations

from medletter.app.i18n import N_, Msg, join, parse_stored

RECORD_PROBLEMS: tuple[str, ...] = (
    # medletter.jsonl
    N_("missing"),
    N_("unknown field"),
    N_("is empty: no records"),
    N_("not UTF-8 text (bad byte at column %(column)s)"),
    N_("invalid JSON: %(reason)s at column %(column)s"),
    N_("expected a JSON object, got %(type)s"),
    # medletter.records
    N_("not an ICD-10 code (expected e.g. C50.4 or C61)"),
    N_("not an ICD-10 code (expected e.g. I10)"),
    N_("not a TNM classification (expected e.g. pT2 pN1a cM0)"),
    N_("not a UICC stage (expected 0, I–IV with optional A–C)"),
    N_("is before start_date"),
    N_("is not before letter_date"),
    N_("is before the patient's birth date"),
    N_("is after letter_date"),
    N_("is before the date of diagnosis"),
    N_("refers to course %(course)s, but the case has %(n)s"),
    N_("is not after start"),
    N_("%(total)s Gy does not equal dose per fraction × fractions (%(per)s Gy × %(n)s = %(expected)s Gy); "
       "set dose_stated_as_sum if the total is a stated sum"),
    # pydantic's most common ones
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid integer"),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid number"),
    N_("Input should be a valid string"),
    N_("Input should be a valid boolean"),
    N_("Input should be a valid list"),
    N_("Input should be a valid date or datetime, input is too short"),
    N_("Input should be a valid date or datetime, %(reason)s"),
    N_("Input should be a valid date in the format YYYY-MM-DD, %(reason)s"),
    N_("Input should be greater than or equal to %(n)s"),
    N_("Input should be greater than %(n)s"),
    N_("Input should be less than or equal to %(n)s"),
    N_("Input should be less than %(n)s"),
    N_("String should have at least %(n)s character"),
    N_("String should have at least %(n)s characters"),
    N_("Input should be %(choices)s"),
)


def problem(text: str) -> Msg | str:
    """One problem's text as a Msg when it is one of :data:`RECORD_PROBLEMS`."""
    return parse_stored(text, RECORD_PROBLEMS)


def line_error(err) -> Msg:
    """A ``medletter.jsonl.LineError`` as ``LINE: FIELD: problem`` (``FIELD: problem`` without a line),
    with the problem translated where it is known; never the file's own name (an upload's is '(upload)')."""
    parts = ([] if err.line is None else [err.line]) + [err.field, problem(err.problem)]
    return join(parts, ": ")


def file_error(err) -> Msg:
    """A ``LineError`` with its file: ``FILE:LINE: FIELD: problem`` (a study's files)."""
    where = err.path if err.line is None else f"{err.path}:{err.line}"
    return join([where, err.field, problem(err.problem)], ": ")

