"""Export (merge → HF folder → GGUF with llama.cpp's converter and quantiser) and the llama.cpp backend on
the tiny Llama-3 model: the exported model writes what the HF model writes, and `<|eot_id|>` ends it."""

from __future__ import annotations

import contextlib
import json

import pytest

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make env builds it)")


@pytest.fixture(scope="session")
def exported(memorising_run):
    from medletter.export import export

    return export(memorising_run, "gguf", "q8_0")


def test_export_hf_gguf_keeps_tokenizer_template_and_stop_tokens(memorising_run, exported):
    from gguf import GGUFReader

    hf = memorising_run / "export" / "hf"
    assert (hf / "config.json").is_file() and (hf / "tokenizer.json").is_file()
    meta = json.loads((hf / "medletter.json").read_text())
    assert "<|eot_id|>" in meta["stop_tokens"]
    assert exported.name == "model-q8_0.gguf" and (exported.parent / "model-f16.gguf").is_file()
    r = GGUFReader(str(exported))
    fields = {k: v for k, v in r.fields.items()}
    assert "tokenizer.chat_template" in fields
    tmpl = bytes(fields["tokenizer.chat_template"].parts[-1]).decode()
    assert "<|eot_id|>" in tmpl and "<|start_header_id|>" in tmpl


def _case_records(corpus_records, n=2):
    from medletter.records import Record

    return [Record(case=r.case) for r in corpus_records[:n]]


def test_llamacpp_backend_writes_what_hf_writes_and_stops_at_eot(memorising_run, exported, corpus_records):
    from tiny_llama import PLANTED_LETTER

    from medletter.generate.backends import GenSettings, make_backend

    recs = _case_records(corpus_records)
    settings = GenSettings(grounding="off", max_new_tokens=60, batch_size=2)
    hf = make_backend("hf", memorising_run, settings=settings).draft(recs)
    seen = []
    lc = make_backend("llamacpp", memorising_run, settings=GenSettings(grounding="off", max_new_tokens=60, batch_size=1), fallback=False)
    assert lc.name == "llamacpp" and lc.gguf == exported
    drafts = lc.draft(recs, on_token=seen.append)  # one letter at a time (batch_size 1), as the review app drafts
    for a, b in zip(hf, drafts):
        assert a.text == PLANTED_LETTER and b.text == a.text
        assert b.stopped and a.stopped, "<|eot_id|> ends the letter in llama.cpp too"
        assert b.new_tokens == a.new_tokens and b.tokens_per_s > 0 and b.batch_size == 1
    assert seen and seen[-1] == drafts[-1].new_tokens  # progress after every token
    lc.close()


def test_llamacpp_drafts_a_set_as_parallel_sequences(memorising_run, exported, corpus_records):
    """Five cases through two parallel slots: each slot is reused after its letter ends, and every letter
    is the one the model writes alone, in the order of the cases."""
    from tiny_llama import PLANTED_LETTER

    from medletter.generate.backends import GenSettings, make_backend

    recs = _case_records(corpus_records, 5)
    done = []
    lc = make_backend("llamacpp", memorising_run, settings=GenSettings(grounding="off", max_new_tokens=60, batch_size=2), fallback=False)
    drafts = lc.draft(recs, progress=done.append)
    lc.close()
    alone = make_backend("llamacpp", memorising_run, settings=GenSettings(grounding="off", max_new_tokens=60, batch_size=1), fallback=False)
    singles = alone.draft(recs)
    alone.close()
    assert [d.case_id for d in drafts] == [r.case.case_id for r in recs]
    assert [d.text for d in drafts] == [d.text for d in singles]  # each letter as the model writes it alone
    assert all(d.stopped and d.batch_size == 2 and d.tokens_per_s > 0 for d in drafts)
    assert sum(d.text == PLANTED_LETTER for d in drafts) >= 3  # (the tiny model memorised 8 cases; most others too)
    assert len(done) == 5
    short = make_backend("llamacpp", memorising_run, settings=GenSettings(grounding="off", max_new_tokens=3, batch_size=3), fallback=False)
    cut = short.draft(recs[:3])
    short.close()
    assert all(d.new_tokens == 3 and not d.stopped for d in cut), "max_new_tokens cuts every parallel letter"


def _free_port() -> int:
    import socket

    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


@contextlib.contextmanager
def _serving(runs, tmp_path):
    """`medletter serve --run …` on a free loopback port; yields (port, the server's /v1/models), stops it after."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    log = open(tmp_path / "serve.log", "w")
    args = [sys.executable, "-m", "medletter.cli", "serve", "--port", str(port)]
    for r in runs:
        args += ["--run", str(r)]
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.time() + 180
        while True:
            try:
                with opener.open(f"http://127.0.0.1:{port}/v1/models", timeout=2) as r:
                    models = json.loads(r.read())
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                assert time.time() < deadline, "the server did not answer"
                time.sleep(0.5)
        yield port, models
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_openai_backend_against_a_real_llamacpp_server(memorising_run, exported, corpus_records, tmp_path):
    """`medletter serve` (llama-cpp-python's OpenAI-compatible server on the run's GGUF, loopback), and
    the openai backend drafting through it: the same letter, ended by the model."""
    from tiny_llama import PLANTED_LETTER

    from medletter.generate.backends import GenSettings, make_backend

    with _serving([memorising_run], tmp_path) as (port, models):
        assert models["data"][0]["id"] == memorising_run.name
        be = make_backend("openai", memorising_run, endpoint=f"http://127.0.0.1:{port}", model=memorising_run.name,
                          settings=GenSettings(grounding="off", max_new_tokens=60))
        (d,) = be.draft(_case_records(corpus_records, 1))
        assert d.text == PLANTED_LETTER and d.stopped and d.new_tokens > 10


def test_one_server_serves_each_department_from_its_own_adapter(memorising_run, memorising_run_b, corpus_records, tmp_path):
    """`medletter serve --run A --run B`: one llama-cpp-python server, one base GGUF, each run's adapter as a
    GGUF LoRA under its department's name; each department's draft comes from its own adapter."""
    from tiny_llama import PLANTED_LETTER, PLANTED_LETTER_B

    from medletter.generate.backends import GenSettings, make_backend

    with _serving([memorising_run, memorising_run_b], tmp_path) as (port, models):
        assert sorted(m["id"] for m in models["data"]) == sorted([memorising_run.name, "praxis-b"])
        cfg = json.loads((memorising_run / "export" / "serve-departments.json").read_text())
        assert len({m["model"] for m in cfg["models"]}) == 1  # one base file
        assert len({m["lora_path"] for m in cfg["models"]}) == 2  # an adapter each
        cases = _case_records(corpus_records, 1)
        for run, name, letter in ((memorising_run, memorising_run.name, PLANTED_LETTER), (memorising_run_b, "praxis-b", PLANTED_LETTER_B),
                                  (memorising_run, memorising_run.name, PLANTED_LETTER)):  # and back: the switch works both ways
            be = make_backend("openai", run, endpoint=f"http://127.0.0.1:{port}", model=name, settings=GenSettings(grounding="off", max_new_tokens=60))
            (d,) = be.draft(cases)
            assert d.text == letter and d.stopped, (name, d.text)


def test_teacher_forced_agreement_of_the_export(memorising_run, exported, corpus_records):
    """--parity's fidelity measure: both engines read the same letters token by token. On the letter the
    run learned, llama.cpp q8_0 names transformers' next token everywhere; on a letter it did not learn,
    the positions are still all counted (and the argmax per engine is a real choice, so agreement is a
    share, not a constant)."""
    from tiny_llama import PLANTED_LETTER

    from medletter.generate.agreement import next_token_agreement

    recs = _case_records(corpus_records, 3)
    learned = next_token_agreement(memorising_run, recs, {r.case.case_id: PLANTED_LETTER for r in recs})
    assert learned["letters"] == 3 and learned["agreement"] == 1.0 and learned["lowest_letter"] == 1.0
    n_tokens = learned["positions"] // 3
    other = "Sehr geehrte Frau Kollegin, heute kein Brief, nur Zahlen: 17, 42, 99 und ein Datum 3.4.2031."
    unlearned = next_token_agreement(memorising_run, recs[:1], {recs[0].case.case_id: other})
    assert unlearned["letters"] == 1 and unlearned["positions"] != n_tokens
    assert 0.0 <= unlearned["agreement"] <= 1.0
    assert next_token_agreement(memorising_run, recs, {})["letters"] == 0
