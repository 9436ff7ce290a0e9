"""The pipeline on a tiny random Llama-3-style model: dataset, QLoRA/LoRA training, generation, evaluation."""

from __future__ import annotations

import json

import pytest
import torch

from medletter.dataset import IGNORE_INDEX, collate, completion_text, encode_record, encode_records, prompt_text, split_by_patient, stop_token_ids
from medletter.train import load_config, prepare_data, train


@pytest.fixture(scope="module")
def tok(tiny_llama):
    from medletter.models import load_tokenizer

    return load_tokenizer(tiny_llama)


def test_llama3_prompt_format(tok, corpus_records):
    r = corpus_records[0]
    p = prompt_text(tok, r.case, "uniklinik", "de")
    c = completion_text(tok, r.case, "uniklinik", "de", r.letter.text)
    assert p.startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>")
    assert p.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert c == r.letter.text.strip() + "<|eot_id|>"
    ex = encode_record(tok, r, "uniklinik", "de", 4096)
    bos = tok.convert_tokens_to_ids("<|begin_of_text|>")
    assert ex.input_ids[0] == bos and ex.input_ids[1] != bos, "exactly one BOS"
    eot = tok.convert_tokens_to_ids("<|eot_id|>")
    assert ex.input_ids[-1] == eot and ex.labels[-1] == eot, "<|eot_id|> ends the letter and is trained"
    assert tok.pad_token_id not in stop_token_ids(tok), "pad is not eos"
    assert set(stop_token_ids(tok)) >= {eot, tok.convert_tokens_to_ids("<|end_of_text|>")}


def test_labels_mask_the_prompt(tok, corpus_records):
    ex = encode_record(tok, corpus_records[1], "uniklinik", "de", 4096)
    assert all(l == IGNORE_INDEX for l in ex.labels[: ex.n_prompt])
    assert ex.labels[ex.n_prompt :] == ex.input_ids[ex.n_prompt :]
    assert tok.decode(ex.input_ids[ex.n_prompt :], skip_special_tokens=True).strip() == corpus_records[1].letter.text.strip()
    batch = collate([ex, encode_record(tok, corpus_records[2], "uniklinik", "de", 4096)], tok.pad_token_id)
    pad = batch["attention_mask"] == 0
    assert (batch["labels"][pad] == IGNORE_INDEX).all()


def test_truncation_is_counted(tok, corpus_records):
    exs, stats = encode_records(tok, corpus_records[:4], "de", max_length=400)
    s = stats.summary()
    assert s["examples"] == 4 and s["truncated"] + s["dropped"] == 4
    assert all(len(e.input_ids) <= 400 for e in exs)
    exs, stats = encode_records(tok, corpus_records[:4], "de", max_length=50)
    assert stats.dropped == 4 and not exs


def test_split_by_patient(corpus_records):
    from medletter.synth import generate_corpus

    recs = generate_corpus(80, seed=11)
    sp = split_by_patient(recs, n_test=20, n_validation=5, seed=0)
    owners = {}
    for name, rs in sp.items():
        for r in rs:
            assert owners.setdefault(r.case.patient.patient_id, name) == name
    assert len(sp["test"]) >= 20 and sum(len(v) for v in sp.values()) == len(recs)
    assert len({r.case.patient.patient_id for r in recs}) < len(recs), "the corpus has patients with two cases"


def _cfg(tiny_llama, **kw):
    base = dict(model=str(tiny_llama), quantization="nf4", dtype="fp32", learning_rate=3e-3, warmup_steps=0, epochs=1, max_steps=8,
                batch_size=2, gradient_accumulation_steps=1, max_length=2048, n_test=4, n_validation=2, save_steps=4,
                report_to=[], lora_r=8, lora_alpha=16, lora_dropout=0.0, eval_steps=0)
    base.update(kw)
    return load_config(None, base)


@pytest.mark.parametrize("quant", ["nf4", "none"])
def test_training_run_lowers_loss_and_writes_run_folder(tmp_path, tiny_llama, corpus_records, quant):
    run = tmp_path / f"run-{quant}"
    cfg = _cfg(tiny_llama, quantization=quant)
    splits = prepare_data(corpus_records, cfg, run)
    summary = train(cfg, splits, run)
    assert summary["steps"] == 8
    assert summary["last_loss"] < summary["first_loss"], summary
    for p in ("config.yaml", "adapter/adapter_config.json", "tokenizer/tokenizer.json", "metrics.jsonl", "data/test.jsonl", "data_stats.json"):
        assert (run / p).exists(), p
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("tokens_per_s" in r for r in rows) and any("eval_loss" in r for r in rows)
    assert sorted(p.name for p in (run / "checkpoints").glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-8"]


def test_few_steps_lower_loss_on_fixed_batch(tiny_llama, tok, corpus_records):
    from peft import LoraConfig, get_peft_model

    from medletter.models import load_for_training

    model = get_peft_model(load_for_training(tiny_llama, "nf4", "fp32"), LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"))
    batch = collate([encode_record(tok, r, "uniklinik", "de", 1024) for r in corpus_records[:2]], tok.pad_token_id)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(6):
        loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 1.0, losses
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


def test_adapter_roundtrip_same_logits(tmp_path, tiny_llama, tok, corpus_records):
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_llama), LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM", init_lora_weights=False))
    ids = torch.tensor([encode_record(tok, corpus_records[0], "uniklinik", "de", 4096).input_ids[:64]])
    with torch.no_grad():
        before = model(input_ids=ids).logits
    model.save_pretrained(tmp_path / "adapter")
    again = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_llama), tmp_path / "adapter")
    with torch.no_grad():
        after = again(input_ids=ids).logits
        merged = again.merge_and_unload()(input_ids=ids).logits
    assert torch.allclose(before, after, atol=1e-5)
    assert torch.allclose(before, merged, atol=1e-4)


def test_generation_stops_at_eot(tiny_llama, tok, corpus_records):
    """Force <|eot_id|> to be the argmax: generation must stop there; forbid it: it runs to the limit."""
    from transformers import AutoModelForCausalLM

    from medletter.generate import generate_letters

    eot = torch.tensor([tok.convert_tokens_to_ids("<|eot_id|>")])
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    model.lm_head.register_forward_hook(lambda m, i, o: o.index_fill(-1, eot, 50.0))
    drafts = generate_letters(model, tok, corpus_records[:3], "uniklinik", "de", "tiny", max_new_tokens=20, batch_size=3)
    assert all(d.stopped and d.new_tokens == 0 for d in drafts)

    model2 = AutoModelForCausalLM.from_pretrained(tiny_llama)
    model2.lm_head.register_forward_hook(lambda m, i, o: o.index_fill(-1, eot, -1e4))
    drafts2 = generate_letters(model2, tok, corpus_records[:2], "uniklinik", "de", "tiny", max_new_tokens=7, batch_size=2)
    assert all((not d.stopped) and d.new_tokens == 7 and d.text for d in drafts2)
    assert drafts2[0].latency_s > 0 and drafts2[0].tokens_per_s > 0


def test_resume_continues_from_checkpoint(tmp_path, tiny_llama, corpus_records):
    run = tmp_path / "run-resume"
    cfg = _cfg(tiny_llama, max_steps=4, save_steps=2, quantization="none")
    splits = prepare_data(corpus_records, cfg, run)
    train(cfg, splits, run)
    cfg6 = _cfg(tiny_llama, max_steps=6, save_steps=2, quantization="none")
    summary = train(cfg6, splits, run, resume=True)
    assert summary["resumed_from"] == "checkpoint-4" and summary["steps"] == 6
    steps = [json.loads(l)["step"] for l in (run / "metrics.jsonl").read_text().splitlines() if "loss" in json.loads(l)]
    assert steps[-2:] == [5, 6], steps
