"""The prompt: case -> the text the model sees before the letter, and the letter's end marker.

This module is the one place that decides what a model reads: the instruction (letter type,
language, institution style), the compact rendering of the case record, the chat or plain format.
Numbers and dates are rendered the way the letter's language writes them, so the model learns to
carry facts over, not to reformat.

If the tokenizer has a chat template it is used (system / user / assistant) and the assistant
turn's end marker (Llama-3: ``<|eot_id|>``) is part of the completion; otherwise a plain prompt
format is used and the completion ends with the eos token.

Versioning: :data:`PROMPT_VERSION` is recorded in every training run (``config.yaml`` and
``train_summary.json``); generating from a run trained on another version logs a warning, since the
model then reads text it was not trained on. Bump it (``"1"`` -> ``"2"``) with any change to the
text a model sees: labels, instruction or system wording, the order or format of the case lines,
number or date formatting, the plain-format marker, the completion's end marker. Changes that leave
every prompt byte-identical (refactoring, comments) keep the version.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from medletter.records import Case
from medletter.textfmt import age_on, fmt_date, fmt_num

log = logging.getLogger(__name__)

PROMPT_VERSION = "4"
"""Version of the prompt text (see the module docstring for when to bump it). 4: the side effects end with their
highest grade ("(max. Grad 2)"), which letters state ("Toxizität max. Grad 2"): a value the model had to work out
and got wrong (a date or another grade in its place; benchmarks/RESULTS.md, 2026-11-29)."""

LETTER_TYPES = {
    "end_of_treatment": {"de": "Abschlussbrief nach Strahlentherapie", "en": "end-of-treatment letter after radiotherapy"},
    "consultation": {"de": "Brief nach Erstvorstellung", "en": "consultation letter"},
    "follow_up": {"de": "Nachsorgebrief", "en": "follow-up letter"},
}
SYSTEM_PROMPT = {
    "de": "Du bist Ärztin bzw. Arzt in einer Klinik für Strahlentherapie und schreibst Arztbriefe an die mitbehandelnden Kolleginnen und Kollegen.",
    "en": "You are a physician in a radiation oncology department writing letters to referring colleagues.",
}
PLAIN_ANSWER_MARKER = {"de": "### Arztbrief:\n", "en": "### Letter:\n"}
LABELS = {
    "de": {
        "patient": "Patient", "born": "geb.", "pid": "Pat.-Nr.", 
        "referrer": "Zuweiser", "treating": "Behandelnd", "dx": "Diagnose", "dx_date": "ED", "secondary": "Nebendiagnosen",
        "surgery": "OP", "systemic": "Systemtherapie", "rt": "RT", "boost": "Boost", "sum": "Summe", "conc": "simultan",
        "interrupt": "Unterbrechung", "days": "Tage", "tox": "Nebenwirkungen (CTCAE v5)", "grade": "Grad", "max_grade": "max. Grad",
        "findings": "Befund bei Abschluss", "recs": "Empfehlungen", "fu": "Nachsorge", "first": "erste Vorstellung nach",
        "weeks": "Wochen", "date": "Briefdatum", "period": "Bestrahlungszeitraum", "none": "keine", "sex": {"female": "Frau", "male": "Herr", "diverse": ""}, "years": "J.",
        "side": {"left": "links", "right": "rechts", "bilateral": "beidseits", "midline": "Mittellinie", "not_applicable": ""},
        "instruction": "Schreibe den {type} auf Deutsch im Stil der Klinik \"{style}\" anhand der folgenden Falldaten.",
        "fpw": "Fx/Woche",
    },
    "en": {
        "patient": "Patient", "born": "born", "pid": "Patient ID", 
        "referrer": "Referring", "treating": "Treating", "dx": "Diagnosis", "dx_date": "diagnosed", "secondary": "Secondary diagnoses",
        "surgery": "Surgery", "systemic": "Systemic therapy", "rt": "RT", "boost": "boost", "sum": "stated sum", "conc": "concurrent",
        "interrupt": "Interruption", "days": "days", "tox": "Side effects (CTCAE v5)", "grade": "grade", "max_grade": "max. grade",
        "findings": "Findings at end", "recs": "Recommendations", "fu": "Follow-up", "first": "first visit after",
        "weeks": "weeks", "date": "Letter date", "period": "Radiotherapy period", "none": "none", "sex": {"female": "Ms", "male": "Mr", "diverse": ""}, "years": "y",
        "side": {"left": "left", "right": "right", "bilateral": "bilateral", "midline": "midline", "not_applicable": ""},
        "instruction": "Write the {type} in English in the style of the institution \"{style}\" from the following case data.",
        "fpw": "fx/week",
    },
}


def prompt_date(d: dt.date, lang: str) -> str:
    """German letters write "4.4.2029" as often as "04.04.2029"; the unpadded form is the prompt's."""
    return fmt_date(d, "d.m.yyyy", lang) if lang == "de" else d.isoformat()


def render_case(case: Case, lang: str = "de") -> str:
    """A compact, readable rendering of the case: one fact group per line."""
    L = LABELS[lang]
    p = case.patient
    a = p.address
    # Identifiers no letter states (insurance and case numbers, the patient's phone) stay out of the
    # prompt: they cost tokens and would only invite the model to copy them.
    lines = [
        f"{L['patient']}: {L['sex'][p.sex.value]} {p.first_name} {p.last_name}".replace("  ", " ")
        + f", {L['born']} {prompt_date(p.birth_date, lang)} ({age_on(p.birth_date, case.letter_date)} {L['years']}); {a.street}, {a.postcode} {a.city}; {L['pid']} {p.patient_id}",
        # the whole treatment period (first course's start to last course's end): letters open with it,
        # and a small model copying it from the course lines further down took the wrong date (prompt v2)
        f"{L['period']}: {prompt_date(case.rt_start, lang)}–{prompt_date(case.rt_end, lang)}",
        f"{L['referrer']}: {_physician(case.referring_physician)}",
        f"{L['treating']}: " + "; ".join(_physician(ph) for ph in case.treating_physicians),
    ]
    d = case.main_diagnosis
    # the code with its classification, as letters write it: copied whole, not assembled (prompt v3; the
    # demo model wrote "ICD-12 C32.0" and "ICD-1 D1" when it had to add the "ICD-10" itself)
    dx = [f"{d.text} (ICD-10 {d.icd10})"]
    side = L["side"][d.laterality.value]
    if side and side not in d.text:
        dx.append(side)
    dx.extend(x for x in (d.tnm, f"UICC {d.uicc_stage}" if d.uicc_stage else None, d.histology, d.grading) if x)
    if d.date_of_diagnosis:
        dx.append(f"{L['dx_date']} {prompt_date(d.date_of_diagnosis, lang)}")
    lines.append(f"{L['dx']}: " + "; ".join(dx))
    if case.secondary_diagnoses:
        lines.append(f"{L['secondary']}: " + "; ".join(f"{s.text}" + (f" ({s.icd10})" if s.icd10 else "") for s in case.secondary_diagnoses))
    for s in case.prior_treatments.surgeries:
        lines.append(f"{L['surgery']}: {prompt_date(s.date, lang)} {s.procedure}" + (f" ({s.resection_status})" if s.resection_status else ""))
    for s in case.prior_treatments.systemic:
        span = prompt_date(s.start_date, lang) + (f"–{prompt_date(s.end_date, lang)}" if s.end_date else "")
        cyc = f", {s.cycles} Zyklen" if (s.cycles and lang == "de") else (f", {s.cycles} cycles" if s.cycles else "")
        lines.append(f"{L['systemic']}: {s.regimen} ({', '.join(s.agents)}), {s.intent}{cyc}, {span}")
    for i, c in enumerate(case.radiotherapy_courses, start=1):
        head = f"{L['rt']} {i}" + (f" ({L['boost']})" if c.is_boost else "")
        parts = [c.target_region, c.technique.value]
        if c.igrt:
            parts.append(f"IGRT {c.igrt}")
        if c.energy:
            parts.append(c.energy)
        dose = f"{c.fractions} × {fmt_num(c.dose_per_fraction_gy, lang)} Gy = {fmt_num(c.total_dose_gy, lang)} Gy"
        if c.dose_stated_as_sum:
            dose = f"{c.fractions} × {fmt_num(c.dose_per_fraction_gy, lang)} Gy, {L['sum']} {fmt_num(c.total_dose_gy, lang)} Gy"
        parts.append(dose)
        if c.fractions_per_week != 5:
            parts.append(f"{c.fractions_per_week} {L['fpw']}")
        if c.concurrent_chemotherapy:
            parts.append(f"{L['conc']} {c.concurrent_chemotherapy}")
        parts.append(f"{prompt_date(c.start_date, lang)}–{prompt_date(c.end_date, lang)}")
        for it in c.interruptions:
            parts.append(f"{L['interrupt']} {it.days} {L['days']} ({it.reason})")
        lines.append(f"{head}: " + "; ".join(parts))
    tox = "; ".join(f"{t.term} {L['grade']} {t.grade}" for t in case.toxicities) or L["none"]
    if case.toxicities:  # the letter states the highest grade: given, not left to the model to work out
        tox += f" ({L['max_grade']} {max(t.grade for t in case.toxicities)})"
    lines.append(f"{L['tox']}: {tox}")
    if case.findings_at_end:
        lines.append(f"{L['findings']}: " + "; ".join(case.findings_at_end))
    if case.recommendations:
        lines.append(f"{L['recs']}: " + "; ".join(case.recommendations))
    fu = case.follow_up
    first = case.rt_end + dt.timedelta(weeks=fu.first_visit_weeks)
    fu_parts = [f"{L['first']} {fu.first_visit_weeks} {L['weeks']} ({prompt_date(first, lang)})"]
    if fu.interval_text:
        fu_parts.append(fu.interval_text)
    lines.append(f"{L['fu']}: " + "; ".join(fu_parts))
    lines.append(f"{L['date']}: {prompt_date(case.letter_date, lang)}")
    return "\n".join(lines)


def _physician(ph) -> str:
    s = " ".join(x for x in (ph.title, ph.first_name, ph.last_name) if x)
    return f"{s} ({ph.role})" if ph.role else s


def instruction(case: Case, style: str, lang: str) -> str:
    t = LETTER_TYPES[case.letter_type][lang]
    return LABELS[lang]["instruction"].format(type=t, style=style)


def prompt_messages(case: Case, style: str, lang: str) -> list[dict]:
    """System and user turns of the chat form."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT[lang]},
        {"role": "user", "content": instruction(case, style, lang) + "\n\n" + render_case(case, lang)},
    ]


def has_chat_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def prompt_text(tokenizer, case: Case, style: str, lang: str) -> str:
    """The exact text the model sees before the letter (special tokens included as text)."""
    msgs = prompt_messages(case, style, lang)
    if has_chat_template(tokenizer):
        return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    bos = tokenizer.bos_token or ""
    return f"{bos}{msgs[0]['content']}\n\n{msgs[1]['content']}\n\n{PLAIN_ANSWER_MARKER[lang]}"


def completion_text(tokenizer, case: Case, style: str, lang: str, letter_text: str) -> str:
    """The letter plus the end-of-turn marker the model must learn to emit."""
    if has_chat_template(tokenizer):
        msgs = prompt_messages(case, style, lang) + [{"role": "assistant", "content": letter_text}]
        full = tokenizer.apply_chat_template(msgs, tokenize=False)
        prompt = prompt_text(tokenizer, case, style, lang)
        if not full.startswith(prompt):
            raise ValueError("the tokenizer's chat template renders the prompt differently with and without the answer")
        return full[len(prompt) :]
    return letter_text + (tokenizer.eos_token or "")


def encode_prompt(tokenizer, text: str) -> list[int]:
    """Tokenise a rendered prompt; the BOS is in the text already, so none is added (no double BOS)."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    bos = tokenizer.bos_token_id
    if bos is not None and len(ids) >= 2 and ids[0] == bos and ids[1] == bos:
        ids = ids[1:]
    return ids


_warned: set[tuple[str, str]] = set()


def warn_if_prompt_changed(run_config: dict, run: str | Path) -> bool:
    """Log a warning (once per run and version) if ``run``'s recorded prompt version is not this one.

    ``run_config`` is the run's ``config.yaml``; runs that predate the field are not warned about.
    Returns whether the versions differ.
    """
    recorded = run_config.get("prompt_version")
    if recorded is None or str(recorded) == PROMPT_VERSION:
        return False
    key = (str(Path(run).resolve()), str(recorded))
    if key not in _warned:
        _warned.add(key)
        log.warning(
            "%s was trained on prompt version %s, this medletter writes version %s: the model reads text it was not "
            "trained on and its letters may be worse; retrain, or draft with the medletter version that trained it",
            run, recorded, PROMPT_VERSION,
        )
    return True
