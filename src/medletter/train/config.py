"""Training configuration: a dataclass read from YAML; packaged presets live in ``configs/``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import yaml


@dataclass
class TrainConfig:
    # model
    model: str = "gemma-3-270m"
    quantization: str = "nf4"  # nf4 (QLoRA) or none (plain LoRA)
    dtype: str = "auto"  # compute dtype: auto, bf16, fp16, fp32
    gradient_checkpointing: bool = False
    # LoRA
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"
    # optimisation
    learning_rate: float = 1e-4
    lr_scheduler: str = "cosine"
    warmup_steps: int = 5
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 2
    gradient_accumulation_steps: int = 2
    max_length: int = 1024
    seed: int = 0
    # bookkeeping
    logging_steps: int = 1
    eval_steps: int = 0  # 0: evaluate once at the end of each epoch
    save_steps: int = 25
    save_total_limit: int = 2
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])
    # data
    lang: str = "de"
    style: str | None = None  # None: each letter's own style
    n_test: int = 24
    n_validation: int = 8
    max_train_examples: int = 0  # 0: all
    deid: bool = True  # training and validation letters pseudonymised before tokenising (False: --no-deid)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown config key(s): {', '.join(unknown)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def preset_path(name: str) -> Path:
    return Path(str(files("medletter").joinpath("configs", f"{name}.yaml")))


def presets() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in Path(str(files("medletter").joinpath("configs"))).glob("*.yaml"))


def load_config(name_or_path: str | Path | None, overrides: dict | None = None) -> TrainConfig:
    """A preset name (``cpu-demo``, ``llama3-8b-48gb``) or a YAML file, plus overrides."""
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
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return TrainConfig.from_dict(data)
