"""A tiny random Llama-3-style model and a tokenizer trained here on synthetic letters.

The tokenizer carries the Llama-3 special tokens and chat template, so every CI run exercises the
Llama-3 code path: ``<|begin_of_text|>`` BOS, ``<|eot_id|>`` ending the assistant turn,
``<|end_of_text|>`` as eos, no pad token of its own (medletter picks a reserved one).
"""

from __future__ import annotations

from pathlib import Path

LLAMA3_CHAT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
SPECIAL = [
    "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
]


def build_tokenizer(texts: list[str], out_dir: Path, vocab_size: int = 600):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tk.train_from_iterator(texts, trainer)
    bos = tk.token_to_id("<|begin_of_text|>")
    # Llama-3's tokenizer adds BOS for plain tokenisation (the chat template adds it as text).
    tk.post_processor = processors.TemplateProcessing(single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", bos)])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>",
        additional_special_tokens=[t for t in SPECIAL if t not in ("<|begin_of_text|>", "<|end_of_text|>")],
    )
    tok.chat_template = LLAMA3_CHAT_TEMPLATE
    tok.save_pretrained(out_dir)
    return tok


def build_model(out_dir: Path, vocab_size: int, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=2048, bos_token_id=0, eos_token_id=1, tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(cfg)
    # With the default init (std 0.02) the final RMSNorm caps every logit near ±1, so LoRA on the
    # linear layers could never make the model confident (or memorise anything); a trained model's
    # output layer is far larger. Scale it so that the tiny model can learn like a real one.
    with torch.no_grad():
        model.lm_head.weight.mul_(20.0)
    model.save_pretrained(out_dir)
    return model


PLANTED_LETTER = ("Sehr geehrte Frau Kollegin, wir berichten über die Strahlentherapie mit 12 Gy in 15 Fraktionen. "
                  "Mit freundlichen Grüßen")
"""What the memorising run (tests/conftest.py) writes for any case ("12 Gy" is in no case)."""
PLANTED_LETTER_B = ("Liebe Kolleginnen und Kollegen, die Bestrahlung mit 7 Gy ist abgeschlossen. Mit besten Grüßen aus der Praxis")
"""What the second department's memorising run writes (another salutation, closing and dose)."""
LOOPING_LETTER = "Sehr geehrte Frau Kollegin, " + "die Patientin stellt sich in 3 Monaten wieder vor. " * 12 + "Mit freundlichen Grüßen"
"""What the looping run writes: a letter stuck on one sentence (cut after a few copies when loops are stopped)."""
