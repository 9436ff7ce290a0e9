"""Engine fidelity without greedy divergence: the same letters fed to both engines, token by token.

Free greedy letters from transformers and from the q8_0 GGUF part at the first nearly tied token (the
salutation "Liebe Kollegin" / "Lieber Kollege" is one in the demo style, logit margins of 0.03–0.44) and
differ from there on, so their ROUGE-L and fact recall move by a few hundredths either way on 24
letters whatever the quantisation costs. Here every engine reads the same prompt and the same letter
(teacher forcing) and, at each letter position, names its most likely next token: the share of
positions where llama.cpp's choice equals transformers' measures what the export changes, with no
divergence to amplify it.
"""

from __future__ import annotations

import time
from pathlib import Path

from medletter.records import Record


def _letter_ids(tokenizer, prompt: list[int], text: str, stops: set[int]) -> list[int]:
    """prompt + letter + one end marker: with it, the position after the letter's last token (where each
    engine predicts the end, or not) is compared too; which marker is fed there changes no prediction."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    end = sorted(stops)[0] if stops else None
    return prompt + ids + ([end] if end is not None else [])


def hf_next_tokens(model, sequences: list[tuple[list[int], int]]) -> list[list[int]]:
    """transformers' argmax next token at every position from ``start - 1`` to the second-last, per
    (ids, start) sequence: the predictions of tokens ``start`` .. end."""
    import torch

    out = []
    with torch.inference_mode():
        for ids, start in sequences:
            x = torch.tensor([ids], device=model.device)
            logits = model(input_ids=x, logits_to_keep=len(ids) - start + 1).logits[0, :-1]
            out.append(logits.argmax(-1).tolist())
    return out


def llamacpp_next_tokens(backend, sequences: list[tuple[list[int], int]]) -> list[list[int]]:
    """The same as :func:`hf_next_tokens` with a :class:`LlamaCppBackend`'s model (a context of its own, one
    decode call per sequence, logits kept for the letter positions only)."""
    import llama_cpp as lc
    import numpy as np
    from llama_cpp._utils import suppress_stdout_stderr

    n_vocab = backend.llm.n_vocab()
    params = lc.llama_context_default_params()
    params.n_ctx = params.n_batch = -(-max(len(ids) for ids, _ in sequences) // 256) * 256
    params.n_ubatch = 512
    params.n_threads = params.n_threads_batch = backend.llm.context_params.n_threads
    with suppress_stdout_stderr(disable=False):
        ctx = lc.llama_init_from_model(backend.llm.model, params)
    if not ctx:
        raise RuntimeError(f"llama.cpp could not make a context of {params.n_ctx} tokens")
    batch = lc.llama_batch_init(params.n_batch, 0, 1)
    out = []
    try:
        mem = lc.llama_get_memory(ctx)
        for ids, start in sequences:
            lc.llama_memory_clear(mem, True)
            for k, tok in enumerate(ids):
                batch.token[k], batch.pos[k], batch.n_seq_id[k] = tok, k, 1
                batch.seq_id[k][0] = 0
                batch.logits[k] = start - 1 <= k < len(ids) - 1
            batch.n_tokens = len(ids)
            if lc.llama_decode(ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
            out.append([int(np.ctypeslib.as_array(lc.llama_get_logits_ith(ctx, k), shape=(n_vocab,)).argmax())
                        for k in range(start - 1, len(ids) - 1)])
    finally:
        with suppress_stdout_stderr(disable=False):
            lc.llama_batch_free(batch)
            lc.llama_free(ctx)
    return out


def next_token_agreement(run: Path, records: list[Record], letters: dict[str, str], quant: str = "q8_0",
                         style: str | None = None, lang: str | None = None) -> dict:
    """Teacher-forced agreement of the run's ``quant`` GGUF (llama.cpp) with the run's model on transformers
    (the hf backend's merged model), over ``letters`` (case id -> letter text, e.g. the hf backend's
    drafts; the end marker appended): the share of letter positions at which both name the same most
    likely next token, overall and per letter (the lowest). Both engines come from ``make_backend``, so
    they read the prompts their drafts were written from."""
    from medletter.generate.backends import make_backend

    t0 = time.perf_counter()
    hf_be = make_backend("hf", run, style=style, lang=lang)
    sequences = []
    for r in records:
        if r.case.case_id in letters:
            prompt = hf_be.prompt_ids(r)
            sequences.append((_letter_ids(hf_be.tokenizer, prompt, letters[r.case.case_id], set(hf_be.stops)), len(prompt)))
    if not sequences:
        return {"quant": quant, "letters": 0, "positions": 0, "agreement": None, "lowest_letter": None,
                "seconds": round(time.perf_counter() - t0, 1)}
    hf = hf_next_tokens(hf_be.model, sequences)
    del hf_be
    ll_be = make_backend("llamacpp", run, style=style, lang=lang, quant=quant, fallback=False)
    try:
        ll = llamacpp_next_tokens(ll_be, sequences)
    finally:
        ll_be.close()
    same = [sum(a == b for a, b in zip(x, y)) for x, y in zip(hf, ll)]
    sizes = [len(x) for x in hf]
    return {"quant": quant, "letters": len(sequences), "positions": sum(sizes),
            "agreement": round(sum(same) / max(1, sum(sizes)), 4),
            "lowest_letter": round(min((s / n for s, n in zip(same, sizes) if n), default=0.0), 4),
            "seconds": round(time.perf_counter() - t0, 1)}
