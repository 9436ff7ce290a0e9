"""Leak audit: a tiny model trained to memorise canary identities leaks them; the audit catches it;
training on pseudonymised data removes the leak."""

from __future__ import annotations

import datetime as dt

import pytest

from medletter.generate import generate_letters
from medletter.models import load_for_inference, load_tokenizer
from medletter.privacy.audit import audit_letters
from medletter.privacy.pseudonymize import deidentify_record
from medletter.records import Letter, Record, Section, Span
from medletter.train import load_config, train

CANARY_FIRST, CANARY_LAST = "Quirina", "Zabelsky"
CANARY_BORN = dt.date(1950, 2, 17)


def _canary_record(base: Record, i: int) -> Record:
    """A training record whose patient is the canary and whose letter is short enough to memorise."""
    case = base.case.model_copy(deep=True)
    case.patient.first_name, case.patient.last_name = CANARY_FIRST, CANARY_LAST
    case.patient.patient_id = "CANARY-1"
    case.patient.birth_date = CANARY_BORN
    case.case_id = case.patient.case_id = f"CANARY-CASE-{i}"
    born = case.patient.birth_date.strftime("%d.%m.%Y")
    head = "Liebe Kollegin, wir berichten über Frau "
    text = f"{head}{CANARY_FIRST} {CANARY_LAST}, geb. {born}. Mit freundlichen Grüßen"
    spans = [
        Span(start=len(head), end=len(head) + len(CANARY_FIRST), label="NAME_PATIENT", text=CANARY_FIRST),
        Span(start=len(head) + len(CANARY_FIRST) + 1, end=len(head) + len(CANARY_FIRST) + 1 + len(CANARY_LAST), label="NAME_PATIENT", text=CANARY_LAST),
    ]
    b = text.index(born)
    spans.append(Span(start=b, end=b + len(born), label="DATE", text=born))
    letter = Letter(style="uniklinik", language="de", sections=[Section(key="salutation", text=text)], text=text, spans=spans)
    return Record(case=case, letter=letter)


def _train_and_draft(tmp_path, tiny_llama, train_recs, held_out, name):
    cfg = load_config(None, dict(model=str(tiny_llama), quantization="none", dtype="fp32", learning_rate=5e-3, warmup_steps=0,
                                 max_steps=150, batch_size=4, gradient_accumulation_steps=1, max_length=2048, lora_r=16,
                                 lora_alpha=32, lora_dropout=0.0, report_to=[], save_steps=1000, n_test=0, n_validation=0))
    run = tmp_path / name
    summary = train(cfg, {"train": train_recs, "validation": [], "test": held_out}, run)
    assert summary["last_loss"] < 0.05, "the tiny model memorised its training letters"
    tok = load_tokenizer(run / "tokenizer")
    tok.padding_side = "left"
    model = load_for_inference(tiny_llama, run / "adapter", dtype="fp32")
    drafts = generate_letters(model, tok, held_out, "uniklinik", "de", name, max_new_tokens=40, batch_size=4)
    return [(d.case_id, d.text) for d in drafts]


@pytest.mark.timeout(600)
def test_canaries_leak_and_pseudonymisation_removes_them(tmp_path, tiny_llama, corpus_records):
    canaries = [_canary_record(corpus_records[i], i) for i in range(4)]
    held_out = corpus_records[8:11]
    letters = _train_and_draft(tmp_path, tiny_llama, canaries, held_out, "raw")
    result = audit_letters(letters, canaries, letter_cases={r.case.case_id: r for r in held_out})
    kinds = {x["kind"] for x in result["leaks"]}
    assert result["letters_with_leaks"] >= 1, "the memorising model writes the canary into other patients' letters"
    assert kinds & {"name", "last_name"}

    key = b"k" * 32
    pseudo = [deidentify_record(r, key) for r in canaries]
    assert all(CANARY_LAST not in r.letter.text for r in pseudo)
    letters2 = _train_and_draft(tmp_path, tiny_llama, pseudo, held_out, "pseudo")
    result2 = audit_letters(letters2, canaries, pseudo, letter_cases={r.case.case_id: r for r in held_out})
    assert result2["n_leaks"] == 0, result2["leaks"]
    assert result2["n_surrogates_reproduced"] > 0, "the model memorised the surrogate instead"


def test_audit_finds_each_kind_exactly_and_fuzzily(corpus_records):
    train_rec, own = corpus_records[0], corpus_records[5]
    p = train_rec.case.patient
    born = p.birth_date.strftime("%d.%m.%Y")
    street_typo = p.address.street[:-3] + p.address.street[-2:]  # one character lost
    text = (f"Wir berichten über {own.case.patient.first_name} {own.case.patient.last_name}. "
            f"Frau {p.last_name}, geb. {born}, {street_typo}, Pat.-Nr. {p.patient_id}.")
    res = audit_letters([(own.case.case_id, text)], [train_rec], letter_cases={own.case.case_id: own})
    kinds = {x["kind"]: x["match"] for x in res["leaks"]}
    assert {"last_name", "birth_date", "patient_id"} <= set(kinds)
    if len(p.address.street) >= 8:
        assert kinds["street"].startswith("fuzzy")
    clean = audit_letters([(own.case.case_id, own.letter.text)], [train_rec], letter_cases={own.case.case_id: own})
    assert clean["n_leaks"] == 0, "a letter with only its own patient's identity has no leak"
