"""Case -> prompt, reference letter -> completion; tokenisation with loss masking; splits by patient.

The prompt is a compact, readable rendering of the case record, preceded by an instruction that
names the letter type, the language and the institution style. Numbers and dates are rendered the
way the letter's language writes them, so the model learns to carry facts over, not to reformat.

If the tokenizer has a chat template it is used (system / user / assistant) and the assistant
turn's end marker (Llama-3: ``<|eot_id|>``) is part of the completion and trained; otherwise a plain
prompt format is used and the completion ends with the eos token. The loss covers completion
tokens only. Nothing is truncated silently: :class:`EncodeStats` counts it.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from medletter.records import Case, Record
from medletter.textfmt import age_on, fmt_date, fmt_num

IGNORE_INDEX = -100

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
        "interrupt": "Unterbrechung", "days": "Tage", "tox": "Nebenwirkungen (CTCAE v5)", "grade": "Grad",
        "findings": "Befund bei Abschluss", "recs": "Empfehlungen", "fu": "Nachsorge", "first": "erste Vorstellung nach",
        "weeks": "Wochen", "date": "Briefdatum", "none": "keine", "sex": {"female": "Frau", "male": "Herr", "diverse": ""}, "years": "J.",
        "side": {"left": "links", "right": "rechts", "bilateral": "beidseits", "midline": "Mittellinie", "not_applicable": ""},
        "instruction": "Schreibe den {type} auf Deutsch im Stil der Klinik \"{style}\" anhand der folgenden Falldaten.",
        "fpw": "Fx/Woche",
    },
    "en": {
        "patient": "Patient", "born": "born", "pid": "Patient ID", 
        "referrer": "Referring", "treating": "Treating", "dx": "Diagnosis", "dx_date": "diagnosed", "secondary": "Secondary diagnoses",
        "surgery": "Surgery", "systemic": "Systemic therapy", "rt": "RT", "boost": "boost", "sum": "stated sum", "conc": "concurrent",
        "interrupt": "Interruption", "days": "days", "tox": "Side effects (CTCAE v5)", "grade": "grade",
        "findings": "Findings at end", "recs": "Recommendations", "fu": "Follow-up", "first": "first visit after",
        "weeks": "weeks", "date": "Letter date", "none": "none", "sex": {"female": "Ms", "male": "Mr", "diverse": ""}, "years": "y",
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
        f"{L['referrer']}: {_physician(case.referring_physician)}",
        f"{L['treating']}: " + "; ".join(_physician(ph) for ph in case.treating_physicians),
    ]
    d = case.main_diagnosis
    dx = [f"{d.text} ({d.icd10})"]
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


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]
    n_prompt: int
    truncated: bool = False


@dataclass
class EncodeStats:
    n: int = 0
    truncated: int = 0
    dropped: int = 0
    prompt_tokens: list[int] = field(default_factory=list)
    completion_tokens: list[int] = field(default_factory=list)
    max_length: int = 0
    policy: str = (
        "prompt kept whole; completion cut at the end to fit max_length (counted as truncated); "
        "examples whose prompt leaves fewer than 32 completion tokens are dropped (counted)"
    )

    def summary(self) -> dict:
        def st(xs: Sequence[int]) -> dict:
            if not xs:
                return {}
            s = sorted(xs)
            return {"min": s[0], "median": statistics.median(s), "p95": s[int(0.95 * (len(s) - 1))], "max": s[-1], "mean": round(sum(s) / len(s), 1)}

        tot = [a + b for a, b in zip(self.prompt_tokens, self.completion_tokens)]
        return {
            "examples": self.n, "max_length": self.max_length, "truncated": self.truncated, "dropped": self.dropped,
            "policy": self.policy, "prompt_tokens": st(self.prompt_tokens), "completion_tokens": st(self.completion_tokens),
            "total_tokens": st(tot), "sum_total_tokens": sum(tot),
        }


MIN_COMPLETION_TOKENS = 32


def encode_record(tokenizer, rec: Record, style: str, lang: str, max_length: int, stats: EncodeStats | None = None) -> Example | None:
    """Prompt + completion token ids; labels are IGNORE_INDEX on the prompt."""
    if rec.letter is None:
        raise ValueError("a training record has no reference letter")
    p_ids = encode_prompt(tokenizer, prompt_text(tokenizer, rec.case, style, lang))
    c_ids = tokenizer(completion_text(tokenizer, rec.case, style, lang, rec.letter.text), add_special_tokens=False)["input_ids"]
    if stats is not None:
        stats.n += 1
        stats.max_length = max_length
        stats.prompt_tokens.append(len(p_ids))
        stats.completion_tokens.append(len(c_ids))
    room = max_length - len(p_ids)
    if room < MIN_COMPLETION_TOKENS:
        if stats is not None:
            stats.dropped += 1
        return None
    truncated = len(c_ids) > room
    if truncated:
        c_ids = c_ids[:room]
        if stats is not None:
            stats.truncated += 1
    return Example(p_ids + c_ids, [IGNORE_INDEX] * len(p_ids) + list(c_ids), len(p_ids), truncated)


def encode_records(tokenizer, records: Iterable[Record], lang: str, max_length: int, style: str | None = None) -> tuple[list[Example], EncodeStats]:
    stats = EncodeStats()
    out = []
    for r in records:
        ex = encode_record(tokenizer, r, style or (r.letter.style if r.letter else "default"), lang, max_length, stats)
        if ex is not None:
            out.append(ex)
    return out, stats


def collate(examples: Sequence[Example | dict], pad_id: int) -> dict:
    """Right-pad a batch for training; padding is masked in attention and labels."""
    import torch

    rows = [e if isinstance(e, dict) else {"input_ids": e.input_ids, "labels": e.labels} for e in examples]
    n = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), n), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), n), IGNORE_INDEX, dtype=torch.long)
    att = torch.zeros((len(rows), n), dtype=torch.long)
    for i, r in enumerate(rows):
        k = len(r["input_ids"])
        ids[i, :k] = torch.tensor(r["input_ids"])
        labels[i, :k] = torch.tensor(r["labels"])
        att[i, :k] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": att}


def split_by_patient(records: Sequence[Record], n_test: int, n_validation: int, seed: int = 0) -> dict[str, list[Record]]:
    """Assign whole patients to test, validation and train (in that order) until each has its count.

    No patient appears in two splits; records that carry a ``split`` keep it.
    """
    fixed = {"train": [], "validation": [], "test": []}
    free: dict[str, list[Record]] = {}
    for r in records:
        if r.split:
            fixed[r.split].append(r)
        else:
            free.setdefault(r.case.patient.patient_id, []).append(r)
    fixed_patients = {s: {r.case.patient.patient_id for r in rs} for s, rs in fixed.items()}
    for pid in list(free):
        owner = [s for s, ps in fixed_patients.items() if pid in ps]
        if owner:
            fixed[owner[0]].extend(free.pop(pid))
    pids = sorted(free)
    random.Random(seed).shuffle(pids)
    out = {k: list(v) for k, v in fixed.items()}
    for pid in pids:
        if len(out["test"]) < n_test:
            target = "test"
        elif len(out["validation"]) < n_validation:
            target = "validation"
        else:
            target = "train"
        out[target].extend(free[pid])
    seen: dict[str, str] = {}
    for s, rs in out.items():
        for r in rs:
            pid = r.case.patient.patient_id
            if seen.setdefault(pid, s) != s:
                raise ValueError(f"one patient has records in both the {seen[pid]} and the {s} split; fix the split column of the input")
    return out


def stop_token_ids(tokenizer) -> list[int]:
    """All ids that end a letter: eos plus the chat end-of-turn markers the tokenizer knows."""
    ids = []
    for tok in (tokenizer.eos_token, "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>", "<|im_end|>", "<|endoftext|>"):
        if tok is None:
            continue
        tid = tokenizer.convert_tokens_to_ids(tok)
        if isinstance(tid, int) and tid >= 0 and tid != tokenizer.unk_token_id and tid not in ids:
            ids.append(tid)
    return ids


PAD_CANDIDATES = ("<|finetune_right_pad_id|>", "<|reserved_special_token_0|>", "<pad>", "[PAD]", "<|pad|>")


def ensure_pad_token(tokenizer) -> None:
    """Give the tokenizer a pad token that is not eos (Llama-3 has none); never adds to the vocabulary."""
    if tokenizer.pad_token_id is not None and tokenizer.pad_token_id not in stop_token_ids(tokenizer):
        return
    vocab = tokenizer.get_vocab()
    for cand in PAD_CANDIDATES:
        if cand in vocab and vocab[cand] not in stop_token_ids(tokenizer):
            tokenizer.pad_token = cand
            return
    raise ValueError("the tokenizer has no pad token distinct from eos and no reserved token to use as one")
