"""Shared fixtures: a valid radiation-oncology record as plain JSON, and the offline guard."""

from __future__ import annotations

import copy

import pytest

from medletter.privacy import guard

GOOD_CASE = {
    "case_id": "F-2029-000123",
    "letter_date": "2029-05-10",
    "patient": {
        "first_name": "Beate",
        "last_name": "Albers",
        "sex": "female",
        "birth_date": "1957-04-04",
        "address": {"street": "Lindenweg 12", "postcode": "04109", "city": "Leipzig"},
        "phone": "0341 5550123",
        "patient_id": "P-778812",
        "case_id": "F-2029-000123",
        "insurance_number": "A123456789",
    },
    "referring_physician": {"title": "Dr. med.", "first_name": "Karl", "last_name": "Hausmann", "role": "Gynäkologe"},
    "treating_physicians": [{"title": "Dr. med.", "first_name": "Eva", "last_name": "Strahl", "role": "Oberärztin"}],
    "main_diagnosis": {
        "text": "Invasiv-duktales Mammakarzinom links",
        "icd10": "C50.4",
        "laterality": "left",
        "histology": "invasiv-duktales Karzinom (NST)",
        "grading": "G2",
        "tnm": "pT1c pN0 cM0",
        "uicc_stage": "IA",
        "date_of_diagnosis": "2029-01-15",
    },
    "secondary_diagnoses": [{"text": "Arterielle Hypertonie", "icd10": "I10"}],
    "prior_treatments": {
        "surgeries": [{"date": "2029-02-01", "procedure": "Brusterhaltende Therapie links mit Sentinel-Lymphknotenbiopsie", "resection_status": "R0"}],
        "systemic": [],
    },
    "radiotherapy_courses": [
        {
            "target_region": "Restbrust links",
            "technique": "IMRT",
            "igrt": "CBCT täglich",
            "dose_per_fraction_gy": 2.67,
            "fractions": 15,
            "total_dose_gy": 40.05,
            "start_date": "2029-03-01",
            "end_date": "2029-03-21",
        },
        {
            "target_region": "Tumorbett links",
            "technique": "IMRT",
            "dose_per_fraction_gy": 2.0,
            "fractions": 5,
            "total_dose_gy": 10.0,
            "is_boost": True,
            "start_date": "2029-03-22",
            "end_date": "2029-03-28",
        },
    ],
    "toxicities": [{"term": "Radiation dermatitis", "grade": 1}, {"term": "Fatigue", "grade": 1}],
    "findings_at_end": ["Leichtes Erythem im Bestrahlungsfeld"],
    "recommendations": ["Hautpflege mit rückfettender Creme", "Beginn der endokrinen Therapie"],
    "follow_up": {"first_visit_weeks": 6, "interval_text": "alle 3 Monate für 2 Jahre", "visits": [{"after_weeks": 6, "what": "Nachsorge"}]},
}


@pytest.fixture
def good_case() -> dict:
    return copy.deepcopy(GOOD_CASE)


@pytest.fixture
def good_record(good_case) -> dict:
    return {"case": good_case}


@pytest.fixture
def offline():
    guard.install()
    yield
    guard.uninstall()


@pytest.fixture(scope="session")
def corpus_records():
    """A small synthetic corpus (German, one style) as Record objects."""
    from medletter.synth import generate_corpus, style_names

    return generate_corpus(16, seed=3, lang="de", style=style_names()[0])


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, corpus_records):
    """Path to a tiny random Llama-3-style model folder with a trained Llama-3 tokenizer."""
    from medletter.dataset import render_case
    from tiny_llama import build_model, build_tokenizer

    d = tmp_path_factory.mktemp("tiny-llama3")
    texts = [r.letter.text for r in corpus_records] + [render_case(r.case) for r in corpus_records]
    tok = build_tokenizer(texts, d)
    build_model(d, vocab_size=len(tok))
    return d


def _memorise(tmp_path_factory, tiny_llama, corpus_records, text: str, name: str, department: str | None = None):
    """A tiny training run whose model writes ``text`` for any case. 300 steps: at 150 the loss was under 0.1
    everywhere, but on a Zen 5 CPU the model wrote its letter and went on ("... Grüßen Grüß") instead of ending."""
    from medletter.records import Letter, Record, Section
    from medletter.train import load_config, train

    recs = []
    for r in corpus_records[:12]:
        letter = Letter(style="uniklinik", language="de", sections=[Section(key="salutation", text=text)], text=text, spans=[])
        recs.append(Record(case=r.case, letter=letter))
    cfg = load_config(None, dict(model=str(tiny_llama), quantization="none", dtype="fp32", learning_rate=5e-3, warmup_steps=0,
                                 max_steps=300, batch_size=4, gradient_accumulation_steps=1, max_length=2048, lora_r=16,
                                 lora_alpha=32, lora_dropout=0.0, report_to=[], save_steps=1000, n_test=0, n_validation=0,
                                 department=department))
    cfg.style = "uniklinik"
    run = tmp_path_factory.mktemp(name) / "run"
    summary = train(cfg, {"train": recs, "validation": [], "test": []}, run)
    assert summary["last_loss"] < 0.1, summary
    return run


@pytest.fixture(scope="session")
def memorising_run(tmp_path_factory, tiny_llama, corpus_records):
    """A training run whose model writes PLANTED_LETTER for any case ("12 Gy" is in no case)."""
    from tiny_llama import PLANTED_LETTER

    return _memorise(tmp_path_factory, tiny_llama, corpus_records, PLANTED_LETTER, "app-run")


@pytest.fixture(scope="session")
def memorising_run_b(tmp_path_factory, tiny_llama, corpus_records):
    """A second department's run on the same base: it writes PLANTED_LETTER_B, under department "praxis-b"."""
    from tiny_llama import PLANTED_LETTER_B

    return _memorise(tmp_path_factory, tiny_llama, corpus_records, PLANTED_LETTER_B, "dept-b-run", department="praxis-b")


@pytest.fixture(scope="session")
def looping_run(tmp_path_factory, tiny_llama, corpus_records):
    """A run whose model writes LOOPING_LETTER: one sentence again and again (as base models do)."""
    from tiny_llama import LOOPING_LETTER

    return _memorise(tmp_path_factory, tiny_llama, corpus_records, LOOPING_LETTER, "looping-run")


@pytest.fixture(autouse=True)
def _rules_only_detection_unless_asked(monkeypatch):
    """Detection in tests does not depend on whether this machine's cache holds a learned PHI tagger
    (``make test`` builds one for the CLI): tests that exercise the tagger train their own into a
    temporary cache and set ``MEDLETTER_DEID_MODEL`` themselves."""
    monkeypatch.setenv("MEDLETTER_DEID_MODEL", "off")
