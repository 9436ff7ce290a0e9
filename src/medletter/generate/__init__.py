"""Letter generation with the transformers backend: base model, or base + LoRA adapter (merged).

Batched (left padding, prompts sorted by length), greedy by default, stops at every end marker
the tokenizer knows (Llama-3: ``<|eot_id|>`` and ``<|end_of_text|>``). Each letter records its
latency and tokens/s.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from medletter.dataset import stop_token_ids
from medletter.generate.loops import MAX_PERIOD, loop_end, looping
from medletter.generate.settings import GenSettings
from medletter.prompt import encode_prompt, prompt_text, warn_if_prompt_changed
from medletter.records import Record

log = logging.getLogger(__name__)
_DEFAULTS = GenSettings()


@dataclass
class Draft:
    case_id: str
    patient_id: str
    system: str
    style: str
    lang: str
    text: str
    new_tokens: int
    stopped: bool
    """True if the model ended the letter itself (a stop token), False if cut at max_new_tokens."""
    latency_s: float
    """Wall time of the batch this letter was generated in (llama.cpp's parallel sequences: from this letter's
    prompt entering the context to its last token)."""
    tokens_per_s: float
    """This letter's new tokens / its batch's wall time."""
    batch_size: int
    looped: bool = False
    """True if drafting stopped because the letter had begun to repeat itself (``medletter.generate.loops``)."""
    grounding: dict | None = None
    """With grounding on (``medletter.grounding``): ``{"on": true, "mode": "gate"|"grammar"|"audit", "numbers": N,
    "interventions": [{"start", "kind", "class", "blocked", "written"}], "violations": [...]}``; None when off."""

    def to_dict(self) -> dict:
        return asdict(self)


def overall_tokens_per_s(drafts: list[Draft]) -> float:
    """New tokens of all letters over the wall time of their batches (each batch counted once)."""
    return sum(d.new_tokens for d in drafts) / max(1e-9, sum(d.latency_s / d.batch_size for d in drafts))


def generate_letters(
    model,
    tokenizer,
    records: list[Record],
    style: str,
    lang: str,
    system: str,
    max_new_tokens: int = _DEFAULTS.max_new_tokens,
    batch_size: int = _DEFAULTS.batch_size,
    do_sample: bool = _DEFAULTS.do_sample,
    temperature: float = _DEFAULTS.temperature,
    top_p: float = _DEFAULTS.top_p,
    progress=None,
    repetition_penalty: float | None = None,
    on_token=None,
    loop_tokens: int = _DEFAULTS.loop_tokens,
) -> list[Draft]:
    """Draft letters for ``records``. ``on_token(n)``, if given, is called after each decoding step
    with the number of new tokens so far (the review app shows it as progress). A letter that starts to
    repeat itself stops there (``loop_tokens``; see ``medletter.generate.loops``)."""
    import torch

    stops = stop_token_ids(tokenizer)
    prompts = [encode_prompt(tokenizer, prompt_text(tokenizer, r.case, style, lang)) for r in records]
    order = sorted(range(len(records)), key=lambda i: len(prompts[i]))
    drafts: dict[int, Draft] = {}
    device = next(model.parameters()).device
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        n = max(len(prompts[i]) for i in idx)
        ids = torch.full((len(idx), n), tokenizer.pad_token_id, dtype=torch.long)
        att = torch.zeros((len(idx), n), dtype=torch.long)
        for row, i in enumerate(idx):
            p = prompts[i]
            ids[row, n - len(p) :] = torch.tensor(p)
            att[row, n - len(p) :] = 1
        kwargs = dict(
            max_new_tokens=max_new_tokens,
            do_sample=do_sample,
            eos_token_id=stops,
            pad_token_id=tokenizer.pad_token_id,
        )
        if do_sample:
            kwargs.update(temperature=temperature, top_p=top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if repetition_penalty:
            kwargs["repetition_penalty"] = repetition_penalty
        kwargs["stopping_criteria"] = _criteria(n, on_token, loop_tokens)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids.to(device), attention_mask=att.to(device), **kwargs)
        dt = time.perf_counter() - t0
        for row, i in enumerate(idx):
            new = out[row, n:].tolist()
            stopped = False
            for k, t in enumerate(new):
                if t in stops:
                    new = new[:k]
                    stopped = True
                    break
            while new and new[-1] == tokenizer.pad_token_id:
                new.pop()
            cut = None if stopped else loop_end(new, loop_tokens)
            if cut is not None:
                new = new[:cut]
            text = tokenizer.decode(new, skip_special_tokens=True).strip()
            r = records[i]
            drafts[i] = Draft(
                case_id=r.case.case_id, patient_id=r.case.patient.patient_id, system=system, style=style, lang=lang,
                text=text, new_tokens=len(new), stopped=stopped, latency_s=round(dt, 3),
                tokens_per_s=round(len(new) / dt, 2) if dt else 0.0, batch_size=len(idx),
                looped=cut is not None,
            )
        if progress is not None:
            progress(len(idx))
    return [drafts[i] for i in range(len(records))]


def _criteria(prompt_len: int, on_token=None, loop_tokens: int = 0):
    """Stopping criteria run after every decoding step: report progress (``on_token``), and stop each letter
    that has begun to loop."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Step(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            n_new = input_ids.shape[1] - prompt_len
            if on_token is not None:
                on_token(n_new)
            done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            if loop_tokens and n_new > loop_tokens:
                tails = input_ids[:, input_ids.shape[1] - min(n_new, MAX_PERIOD + loop_tokens):].tolist()
                for row, tail in enumerate(tails):
                    done[row] = looping(tail, loop_tokens)
            return done

    return StoppingCriteriaList([_Step()])


def run_config(run_dir: str | Path) -> dict:
    """A training run's ``config.yaml`` (FileNotFoundError naming the folder when it is not a run)."""
    import yaml

    f = Path(run_dir) / "config.yaml"
    if not f.is_file():
        raise FileNotFoundError(f"{run_dir}: not a training run (no config.yaml); train first with `medletter train`")
    return yaml.safe_load(f.read_text(encoding="utf-8"))


def run_tokenizer_dir(run_dir: str | Path, cfg: dict) -> Path:
    """The run's own tokenizer (``runs/NAME/tokenizer``), else its base model's."""
    from medletter.models import resolve_model

    own = Path(run_dir) / "tokenizer"
    return own if own.is_dir() else resolve_model(cfg["model"])


def load_run(run_dir: str | Path, base_only: bool = False, dtype: str = "auto"):
    """Model and tokenizer of a training run (``runs/NAME``): base + merged adapter, or the base alone."""
    from medletter.models import load_for_inference, load_tokenizer, resolve_model

    run = Path(run_dir)
    cfg = run_config(run)
    warn_if_prompt_changed(cfg, run)
    base = resolve_model(cfg["model"])
    adapter = None if base_only else run / "adapter"
    if adapter is not None and not (adapter / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{run}: no adapter/ (training did not finish?)")
    tok = load_tokenizer(run_tokenizer_dir(run, cfg))
    tok.padding_side = "left"
    model = load_for_inference(base, adapter, dtype=dtype, trained_on=cfg.get("quantization", "none"))
    return model, tok, cfg
