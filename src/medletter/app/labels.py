"""What the pages call the app's codes (roles, states, fact kinds, letter sections, audit actions), in
the user's language. The codes themselves (in the database, the API and the forms) never change."""

from __future__ import annotations

import re

from medletter.app.i18n import N_, Msg, format_date, format_number, gettext

ROLES = {"physician": N_("physician"), "rater": N_("rater"), "admin": N_("admin")}
STATES = {
    "draft": N_("draft"), "approved": N_("approved"),  # letters
    "queued": N_("queued"), "running": N_("running"), "done": N_("done"), "failed": N_("failed"),  # drafting jobs
    "open": N_("open"), "closed": N_("closed"),  # rating studies
}
SECTIONS = {
    "header": N_("header"), "salutation": N_("salutation"), "diagnosis": N_("diagnosis"), "history": N_("history"),
    "radiotherapy": N_("radiotherapy"), "course": N_("course of treatment"), "findings": N_("findings"),
    "assessment": N_("assessment"), "recommendations": N_("recommendations"), "follow_up": N_("follow-up"),
    "closing": N_("closing"),
}
# a case's codes shown on its page (medletter.records): the intent of a systemic therapy, a course's technique
INTENTS = {
    "neoadjuvant": N_("neoadjuvant"), "adjuvant": N_("adjuvant"), "concurrent": N_("concurrent"), "palliative": N_("palliative"),
    "maintenance": N_("maintenance"), "induction": N_("induction"),
}
TECHNIQUES = {"brachytherapy": N_("brachytherapy"), "electrons": N_("electrons")}  # the others are the same in every language
OBJECT_TYPES = {"case": N_("case"), "letter": N_("letter"), "user": N_("user"), "study": N_("study")}
ACTIONS = {
    "login": N_("login"), "login_failed": N_("failed login"), "login_refused": N_("login refused"), "logout": N_("logout"),
    "user_add": N_("user added"), "user_disable": N_("user disabled"), "user_enable": N_("user enabled"),
    "user_lang": N_("language changed"), "token_create": N_("API token made"),
    "case_import": N_("cases imported"), "case_search": N_("case search"), "case_view": N_("case viewed"),
    "draft_request": N_("draft requested"), "draft_retry": N_("draft retried"), "draft_done": N_("draft written"),
    "letter_view": N_("letter viewed"), "letter_diff": N_("versions compared"), "letter_save": N_("letter saved"),
    "letter_approve": N_("letter approved"), "letter_export": N_("letter exported"),
    "study_create": N_("study made"), "study_rating": N_("rating saved"), "study_close": N_("study closed"),
    "study_export": N_("ratings exported"),
}
# the facts of a case a letter may lack ("course1.total_dose_gy=40.05": the missing-facts list)
FACTS = {
    "icd10": N_("ICD-10"), "tnm": N_("TNM"), "target_region": N_("target"), "technique": N_("technique"),
    "dose_per_fraction_gy": N_("dose per fraction (Gy)"), "fractions": N_("fractions"), "total_dose_gy": N_("total dose (Gy)"),
    "start_date": N_("start"), "end_date": N_("end"), "ctcae_grade": N_("CTCAE grade"),
    "follow_up.first_visit_weeks": N_("first follow-up (weeks)"), "histology": N_("histology"), "grading": N_("grading"),
    "date_of_diagnosis": N_("date of first diagnosis"), "concurrent_systemic": N_("concurrent systemic therapy"),
    "secondary_diagnosis": N_("secondary diagnosis"),
}
# what a flag of the fact check is about (medletter.evaluate.factcheck: value kinds and binding kinds)
KINDS = {
    "dose_gy": N_("dose"), "fractions": N_("fractions"), "date": N_("date"), "month": N_("month"), "tnm": N_("TNM"),
    "icd10": N_("ICD-10"), "ctcae_grade": N_("CTCAE grade"), "interval": N_("interval"), "technique": N_("technique"),
    "invented_diagnosis": N_("diagnosis the case does not have"), "repeated_diagnosis": N_("diagnosis named twice"),
    "grade_mismatch": N_("grade of another toxicity"), "grading_mismatch": N_("another grading"),
    "date_event_mismatch": N_("date of another event"), "dose_arithmetic": N_("dose arithmetic"),
    "dose_course_mismatch": N_("dose of another course"), "laterality_mismatch": N_("wrong side"),
    "tnm_mismatch": N_("another TNM component"), "invalid_code": N_("invalid code"), "code_mismatch": N_("code of something else"),
}
# why a statement is highlighted: values the case lacks, or values bound to the wrong thing
FLAG_REASONS = {
    "grade_mismatch": N_("a CTCAE grade the case gives another toxicity (or none)"),
    "grading_mismatch": N_("a tumour grading that is not the case's"),
    "date_event_mismatch": N_("a date the case has, but for another event"),
    "dose_arithmetic": N_("dose per fraction × fractions does not give the total dose"),
    "dose_course_mismatch": N_("dose figures that belong to another course"),
    "laterality_mismatch": N_("the wrong side for this target"),
    "tnm_mismatch": N_("a TNM component that is not the diagnosis'"),
    "invalid_code": N_("looks like a code but is not a valid one"),
    "code_mismatch": N_("a valid code that belongs to something else in the case"),
}


def label(table: dict[str, str], code: str | None, lang: str) -> str:
    """The code's label in ``lang``; an unknown code as it is (a code from a newer version, say)."""
    if code is None:
        return ""
    text = table.get(code)
    return gettext(lang, text) if text else code


def kind_label(kind: str, lang: str = "en") -> str:
    """A fact kind (a flag's, or a missing fact's with its course prefix dropped), e.g. 'dose_gy' -> 'dose'."""
    text = KINDS.get(kind) or FACTS.get(kind)
    return gettext(lang, text) if text else kind.replace("_gy", "").replace("_", " ")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^\d+\.\d+$")


def show_value(key: str, value: str, lang: str) -> str:
    """A fact's value as the fact check writes it ("2029-03-01", "40.05") in the language's form
    ("01.03.2029", "40,05"); a dose keeps its decimals; codes ("C50.4") stay as they are."""
    if _ISO_DATE.match(value):
        return format_date(value, lang)
    if _DECIMAL.match(value) and key.endswith("_gy"):
        return format_number(float(value), lang, len(value.split(".")[1]))
    return value


def flag_title(flag: dict, lang: str = "en") -> str:
    """Why a statement is highlighted (the mark's tooltip)."""
    kind = flag.get("kind", "")
    value = show_value(kind, str(flag.get("value", "")), lang)
    reason = FLAG_REASONS.get(kind)
    if reason:
        return Msg("Check: %(reason)s (%(value)s)", reason=Msg(reason), value=value).localize(lang)
    what = gettext(lang, KINDS[kind]) if kind in KINDS else kind.replace("_gy", "").replace("_", " ")
    return Msg("Not backed by the case: %(kind)s %(value)s", kind=what, value=value).localize(lang)


def fact_label(item: str, lang: str = "en") -> str:
    """'course1.total_dose_gy=40.05' -> 'Course 1: total dose (Gy) 40.05' (the missing-facts list)."""
    key, _, value = item.partition("=")
    course = None
    if key.startswith("course") and "." in key:
        course, key = key.split(".", 1)
        course = course[len("course"):]
    if key == "ctcae_grade" and ":" in value:
        term, _, grade = value.rpartition(":")
        return Msg("%(term)s: CTCAE grade %(grade)s", term=term, grade=grade).localize(lang)
    fact = f"{label(FACTS, key, lang)} {show_value(key, value, lang)}"
    if course is not None:
        return Msg("Course %(n)s: %(fact)s", n=course, fact=fact).localize(lang)
    return fact


def install(env, lang: str) -> None:
    """The label filters of one language's Jinja2 environment."""
    env.filters["role_label"] = lambda c: label(ROLES, c, lang)
    env.filters["state_label"] = lambda c: label(STATES, c, lang)
    env.filters["section_label"] = lambda c: label(SECTIONS, c, lang)
    env.filters["object_label"] = lambda c: label(OBJECT_TYPES, c, lang)
    env.filters["intent_label"] = lambda c: label(INTENTS, c, lang)
    env.filters["technique_label"] = lambda c: label(TECHNIQUES, c, lang)
    env.filters["action_label"] = lambda c: label(ACTIONS, c, lang)
    env.filters["kind_label"] = lambda c: kind_label(c, lang)
    env.filters["fact_label"] = lambda c: fact_label(c, lang)
    env.filters["flag_title"] = lambda f: flag_title(f, lang)
