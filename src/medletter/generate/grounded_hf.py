"""Grounded drafting with transformers: the decoding loop, written out, so that the gate can rewind a letter.

``model.generate`` cannot take back tokens, and the gate must (``medletter.grounding.gate``): a number the
model ends where the case has no such number is rewound to its first token. This loop does what greedy
``generate`` does (left-padded batch, the prompt's positions from its attention mask, one forward step per
token with the key/value cache), and a rewound row's dropped tokens are masked out of the attention mask:
their cache entries stay but are never attended to again, and the row's next token takes the position
the first dropped one had. Without an intervention it writes the same letters as ``generate``
(tests/test_grounding_engines.py).
"""

from __future__ import annotations

import time

from medletter.dataset import stop_token_ids
from medletter.generate import Draft
from medletter.generate.loops import looping
from medletter.generate.settings import GenSettings
from medletter.prompt import encode_prompt, prompt_text
from medletter.records import Record


def generate_grounded(model, tokenizer, records: list[Record], grounding, style: str, lang: str, system: str,
                      settings: GenSettings, progress=None, on_token=None) -> list[Draft]:
    import torch

    s = settings
    stops = set(stop_token_ids(tokenizer))
    prompts = [encode_prompt(tokenizer, prompt_text(tokenizer, r.case, style, lang)) for r in records]
    order = sorted(range(len(records)), key=lambda i: len(prompts[i]))
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id
    temperature = s.temperature if s.do_sample else None
    decode = lambda ids: tokenizer.decode(ids, skip_special_tokens=True)  # noqa: E731
    drafts: dict[int, Draft] = {}
    for b in range(0, len(order), s.batch_size):
        idx = order[b : b + s.batch_size]
        gates = [grounding.gate(records[i].case) for i in idx]
        B, n = len(idx), max(len(prompts[i]) for i in idx)
        ids = torch.full((B, n), pad, dtype=torch.long)
        att = torch.zeros((B, n), dtype=torch.long)
        for row, i in enumerate(idx):
            ids[row, n - len(prompts[i]):] = torch.tensor(prompts[i])
            att[row, n - len(prompts[i]):] = 1
        gen: list[list[int]] = [[] for _ in range(B)]
        cols: list[list[int]] = [[] for _ in range(B)]
        state = ["open"] * B  # open | stop | length | loop
        t0 = time.perf_counter()
        with torch.inference_mode():
            pos = (att.cumsum(-1) - 1).clamp(min=0)
            out = model(input_ids=ids.to(device), attention_mask=att.to(device), position_ids=pos.to(device), use_cache=True)
            past, cur = out.past_key_values, n
            logits = out.logits[:, -1, :].float().cpu()
            for _ in range(2 * s.max_new_tokens + 64):
                live = [r for r in range(B) if state[r] == "open"]
                if not live:
                    break
                nxt = torch.full((B, 1), pad, dtype=torch.long)
                col = torch.zeros((B, 1), dtype=torch.long)
                for r in live:
                    keep, tok = gates[r].choose(logits[r].numpy(), temperature, s.top_p)
                    if keep < len(gen[r]):  # rewound: the dropped tokens leave the attention mask
                        att[r, cols[r][keep:]] = 0
                        del gen[r][keep:], cols[r][keep:]
                    gen[r].append(tok)
                    cols[r].append(cur)
                    nxt[r, 0], col[r, 0] = tok, 1
                    if tok in stops:
                        state[r] = "stop"
                    elif len(gen[r]) >= s.max_new_tokens:
                        state[r] = "length"
                    elif looping(gen[r], s.loop_tokens):
                        state[r] = "loop"
                if on_token is not None:
                    on_token(max(len(g) for g in gen))
                if all(st != "open" for st in state):
                    break
                att = torch.cat([att, col], dim=1)
                pos = att.sum(dim=1, keepdim=True) - 1
                out = model(input_ids=nxt.to(device), attention_mask=att.to(device), position_ids=pos.to(device),
                            past_key_values=past, use_cache=True, cache_position=torch.tensor([cur], device=device))
                past, cur = out.past_key_values, cur + 1
                logits = out.logits[:, -1, :].float().cpu()
        dt = time.perf_counter() - t0
        for row, i in enumerate(idx):
            toks = gen[row][:-1] if state[row] == "stop" else gen[row]
            text = decode(toks).strip()
            r = records[i]
            drafts[i] = Draft(
                case_id=r.case.case_id, patient_id=r.case.patient.patient_id, system=system, style=style, lang=lang,
                text=text, new_tokens=len(toks), stopped=state[row] == "stop", latency_s=round(dt, 3),
                tokens_per_s=round(len(toks) / dt, 2) if dt else 0.0, batch_size=B, looped=state[row] == "loop",
                grounding={**gates[row].report(decode, toks), "mode": "gate"},
            )
        if progress is not None:
            progress(B)
    return [drafts[i] for i in range(len(records))]
