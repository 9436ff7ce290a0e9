"""Fixtures of the review-app tests: a tiny Llama-3 run that has memorised one short letter (with a
planted unsupported dose), an app on a fresh SQLite file with its worker, and users of each role."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="session")
def memorising_run(tmp_path_factory, tiny_llama, corpus_records):
    """A training run whose model writes PLANTED_LETTER for any case ("12 Gy" is in no case)."""
    from medletter.records import Letter, Record, Section
    from medletter.train import load_config, train
    from .util import PLANTED_LETTER

    recs = []
    for r in corpus_records[:8]:
        letter = Letter(style="uniklinik", language="de", sections=[Section(key="salutation", text=PLANTED_LETTER)],
                        text=PLANTED_LETTER, spans=[])
        recs.append(Record(case=r.case, letter=letter))
    cfg = load_config(None, dict(model=str(tiny_llama), quantization="none", dtype="fp32", learning_rate=5e-3, warmup_steps=0,
                                 max_steps=60, batch_size=4, gradient_accumulation_steps=1, max_length=2048, lora_r=16,
                                 lora_alpha=32, lora_dropout=0.0, report_to=[], save_steps=1000, n_test=0, n_validation=0))
    cfg.style = "uniklinik"
    run = tmp_path_factory.mktemp("app-run") / "run"
    summary = train(cfg, {"train": recs, "validation": [], "test": []}, run)
    assert summary["last_loss"] < 0.1, summary
    return run


@pytest.fixture
def case_lines(good_case):
    """Three valid case records as JSONL text (the conftest case, and two variants)."""
    out = []
    for i in range(3):
        c = json.loads(json.dumps(good_case))
        c["case_id"] = c["patient"]["case_id"] = f"F-2029-00012{i}"
        c["patient"]["patient_id"] = f"P-77881{i}"
        if i == 1:
            c["patient"]["first_name"], c["patient"]["last_name"] = "Jonas", "Berger"
            c["patient"]["sex"] = "male"
        out.append(json.dumps({"case": c}, ensure_ascii=False))
    return "\n".join(out) + "\n"


@pytest.fixture
def app_env(tmp_path, memorising_run):
    """(app, TestClient, db): the app on a fresh SQLite file, drafting with the memorising run."""
    from fastapi.testclient import TestClient

    from medletter.app.config import Settings
    from medletter.app.main import create_app
    from .util import add_users

    settings = Settings(db=str(tmp_path / "app.db"), run=memorising_run, max_new_tokens=48)
    app = create_app(settings)
    add_users(app.state.db)
    with TestClient(app) as client:
        yield app, client, app.state.db
