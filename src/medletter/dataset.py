"""Reference letter -> completion; tokenisation with loss masking; splits by patient.

The prompt itself (case -> the text the model sees, its version) lives in :mod:`medletter.prompt`;
its public names are re-exported here for older imports.

The loss covers completion tokens only (the assistant turn's end marker included and trained).
Nothing is truncated silently: :class:`EncodeStats` counts it.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from medletter.prompt import (  # re-exported: the prompt moved to medletter.prompt
    LABELS,
    LETTER_TYPES,
    PLAIN_ANSWER_MARKER,
    PROMPT_VERSION,
    SYSTEM_PROMPT,
    completion_text,
    encode_prompt,
    has_chat_template,
    instruction,
    prompt_date,
    prompt_messages,
    prompt_text,
    render_case,
)
from medletter.records import Record

__all__ = [
    # the prompt (medletter.prompt)
    "LABELS", "LETTER_TYPES", "PLAIN_ANSWER_MARKER", "PROMPT_VERSION", "SYSTEM_PROMPT", "completion_text", "encode_prompt",
    "has_chat_template", "instruction", "prompt_date", "prompt_messages", "prompt_text", "render_case",
    # tokenisation, collation, splits
    "IGNORE_INDEX", "MIN_COMPLETION_TOKENS", "PAD_CANDIDATES", "EncodeStats", "Example", "collate", "encode_record",
    "encode_records", "ensure_pad_token", "split_by_patient", "stop_token_ids",
]

IGNORE_INDEX = -100


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]
    n_prompt: int
    truncated: bool = False


@dataclass
class EncodeStats:
    n: int = 0
    truncated: int = 0
    dropped: int = 0
    prompt_tokens: list[int] = field(default_factory=list)
    completion_tokens: list[int] = field(default_factory=list)
    max_length: int = 0
    policy: str = (
        "prompt kept whole; completion cut at the end to fit max_length (counted as truncated); "
        "examples whose prompt leaves fewer than 32 completion tokens are dropped (counted)"
    )

    def summary(self) -> dict:
        def st(xs: Sequence[int]) -> dict:
            if not xs:
                return {}
            s = sorted(xs)
            return {"min": s[0], "median": statistics.median(s), "p95": s[int(0.95 * (len(s) - 1))], "max": s[-1], "mean": round(sum(s) / len(s), 1)}

        tot = [a + b for a, b in zip(self.prompt_tokens, self.completion_tokens)]
        return {
            "examples": self.n, "max_length": self.max_length, "truncated": self.truncated, "dropped": self.dropped,
            "policy": self.policy, "prompt_tokens": st(self.prompt_tokens), "completion_tokens": st(self.completion_tokens),
            "total_tokens": st(tot), "sum_total_tokens": sum(tot),
        }


MIN_COMPLETION_TOKENS = 32


def encode_record(tokenizer, rec: Record, style: str, lang: str, max_length: int, stats: EncodeStats | None = None) -> Example | None:
    """Prompt + completion token ids; labels are IGNORE_INDEX on the prompt."""
    if rec.letter is None:
        raise ValueError("a training record has no reference letter")
    p_ids = encode_prompt(tokenizer, prompt_text(tokenizer, rec.case, style, lang))
    c_ids = tokenizer(completion_text(tokenizer, rec.case, style, lang, rec.letter.text), add_special_tokens=False)["input_ids"]
    if stats is not None:
        stats.n += 1
        stats.max_length = max_length
        stats.prompt_tokens.append(len(p_ids))
        stats.completion_tokens.append(len(c_ids))
    room = max_length - len(p_ids)
    if room < MIN_COMPLETION_TOKENS:
        if stats is not None:
            stats.dropped += 1
        return None
    truncated = len(c_ids) > room
    if truncated:
        c_ids = c_ids[:room]
        if stats is not None:
            stats.truncated += 1
    return Example(p_ids + c_ids, [IGNORE_INDEX] * len(p_ids) + list(c_ids), len(p_ids), truncated)


def encode_records(tokenizer, records: Iterable[Record], lang: str, max_length: int, style: str | None = None) -> tuple[list[Example], EncodeStats]:
    stats = EncodeStats()
    out = []
    for r in records:
        ex = encode_record(tokenizer, r, style or (r.letter.style if r.letter else "default"), lang, max_length, stats)
        if ex is not None:
            out.append(ex)
    return out, stats


def collate(examples: Sequence[Example | dict], pad_id: int) -> dict:
    """Right-pad a batch for training; padding is masked in attention and labels."""
    import torch

    rows = [e if isinstance(e, dict) else {"input_ids": e.input_ids, "labels": e.labels} for e in examples]
    n = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), n), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), n), IGNORE_INDEX, dtype=torch.long)
    att = torch.zeros((len(rows), n), dtype=torch.long)
    for i, r in enumerate(rows):
        k = len(r["input_ids"])
        ids[i, :k] = torch.tensor(r["input_ids"])
        labels[i, :k] = torch.tensor(r["labels"])
        att[i, :k] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": att}


def split_by_patient(records: Sequence[Record], n_test: int, n_validation: int, seed: int = 0) -> dict[str, list[Record]]:
    """Assign whole patients to test, validation and train (in that order) until each has its count.

    No patient appears in two splits; records that carry a ``split`` keep it.
    """
    fixed = {"train": [], "validation": [], "test": []}
    free: dict[str, list[Record]] = {}
    for r in records:
        if r.split:
            fixed[r.split].append(r)
        else:
            free.setdefault(r.case.patient.patient_id, []).append(r)
    fixed_patients = {s: {r.case.patient.patient_id for r in rs} for s, rs in fixed.items()}
    for pid in list(free):
        owner = [s for s, ps in fixed_patients.items() if pid in ps]
        if owner:
            fixed[owner[0]].extend(free.pop(pid))
    pids = sorted(free)
    random.Random(seed).shuffle(pids)
    out = {k: list(v) for k, v in fixed.items()}
    for pid in pids:
        if len(out["test"]) < n_test:
            target = "test"
        elif len(out["validation"]) < n_validation:
            target = "validation"
        else:
            target = "train"
        out[target].extend(free[pid])
    seen: dict[str, str] = {}
    for s, rs in out.items():
        for r in rs:
            pid = r.case.patient.patient_id
            if seen.setdefault(pid, s) != s:
                raise ValueError(f"one patient has records in both the {seen[pid]} and the {s} split; fix the split column of the input")
    return out


def stop_token_ids(tokenizer) -> list[int]:
    """All ids that end a letter: eos plus the chat end-of-turn markers the tokenizer knows."""
    ids = []
    for tok in (tokenizer.eos_token, "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>", "<|im_end|>", "<|endoftext|>"):
        if tok is None:
            continue
        tid = tokenizer.convert_tokens_to_ids(tok)
        if isinstance(tid, int) and tid >= 0 and tid != tokenizer.unk_token_id and tid not in ids:
            ids.append(tid)
    return ids


PAD_CANDIDATES = ("<|finetune_right_pad_id|>", "<|reserved_special_token_0|>", "<pad>", "[PAD]", "<|pad|>",
                  "<empty_output>")  # the last: SmolLM2 (StarCoder vocabulary), whose pad is its end of turn


def ensure_pad_token(tokenizer) -> None:
    """Give the tokenizer a pad token that is not eos (Llama-3 has none); never adds to the vocabulary."""
    if tokenizer.pad_token_id is not None and tokenizer.pad_token_id not in stop_token_ids(tokenizer):
        return
    vocab = tokenizer.get_vocab()
    for cand in PAD_CANDIDATES:
        if cand in vocab and vocab[cand] not in stop_token_ids(tokenizer):
            tokenizer.pad_token = cand
            return
    raise ValueError("the tokenizer has no pad token distinct from eos and no reserved token to use as one")
